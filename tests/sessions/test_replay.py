"""MemoryReplayGuard: ClientHello recording for 0-RTT anti-replay (RFC 8446 §8.2)."""

from __future__ import annotations

import threading

import pytest

from handclasp import MemoryReplayGuard, ReplayGuard


def test_first_use_then_replay_refused() -> None:
    guard = MemoryReplayGuard()
    assert guard.first_use(b"binder-1", expires_at=120.0, now=100.0)
    assert not guard.first_use(b"binder-1", expires_at=125.0, now=105.0)
    assert guard.first_use(b"binder-2", expires_at=125.0, now=105.0)
    assert len(guard) == 2


def test_entry_expires() -> None:
    guard = MemoryReplayGuard()
    assert guard.first_use(b"k", expires_at=120.0, now=100.0)
    assert not guard.first_use(b"k", expires_at=139.0, now=119.9)
    assert guard.first_use(b"k", expires_at=140.0, now=120.0)  # expired at 120: recorded afresh
    assert not guard.first_use(b"k", expires_at=150.0, now=130.0)
    assert len(guard) == 1


def test_full_guard_fails_closed_while_entries_live() -> None:
    guard = MemoryReplayGuard(max_entries=2)
    assert guard.first_use(b"a", expires_at=110.0, now=100.0)
    assert guard.first_use(b"b", expires_at=120.0, now=100.0)
    assert not guard.first_use(b"c", expires_at=130.0, now=105.0)  # full, nothing expired: refuse
    assert not guard.first_use(b"a", expires_at=130.0, now=105.0)  # and "a" is still remembered
    assert guard.first_use(b"c", expires_at=130.0, now=110.0)  # "a" expired: room again
    assert not guard.first_use(b"b", expires_at=130.0, now=110.0)  # "b" was not forgotten
    assert len(guard) == 2


def test_expired_entries_are_dropped_in_expiry_order() -> None:
    guard = MemoryReplayGuard(max_entries=3)
    guard.first_use(b"late", expires_at=200.0, now=100.0)
    guard.first_use(b"early", expires_at=110.0, now=100.0)
    guard.first_use(b"mid", expires_at=150.0, now=100.0)
    assert guard.first_use(b"new", expires_at=300.0, now=111.0)  # "early" went, though inserted second
    assert not guard.first_use(b"late", expires_at=300.0, now=111.0)
    assert not guard.first_use(b"mid", expires_at=300.0, now=111.0)


def test_rejects_bad_size() -> None:
    with pytest.raises(ValueError):
        MemoryReplayGuard(max_entries=0)


def test_is_a_replay_guard() -> None:
    guard: ReplayGuard = MemoryReplayGuard()
    assert "max_entries=100000" in repr(guard)


def test_concurrent_first_use_admits_each_key_once() -> None:
    guard = MemoryReplayGuard(max_entries=10_000)
    keys = [i.to_bytes(4, "big") for i in range(500)]
    wins: list[bytes] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        mine = [key for key in keys if guard.first_use(key, expires_at=1e9, now=0.0)]
        with lock:
            wins.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(wins) == sorted(keys)  # every key admitted exactly once across the threads
    assert len(guard) == len(keys)
