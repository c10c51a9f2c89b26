"""ClientSessionCache: per-server entries, expiry on lookup, LRU bound, thread safety."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, strategies as st

from handclasp.sessions import ClientSession, ClientSessionCache, Session
from handclasp.wire.enums import CipherSuite, ProtocolVersion


def make_entry(name: str = "example.com", *, created_at: float = 0.0, lifetime: int = 100) -> ClientSession:
    session = Session(
        version=ProtocolVersion.TLS1_2,
        cipher_suite=CipherSuite(0xC030),
        master_secret=b"\x5a" * 48,
        extended_master_secret=True,
        server_name=name,
        alpn_protocol=None,
        peer_certificates=(b"\x30\x00",),
        created_at=created_at,
        lifetime=lifetime,
    )
    return ClientSession(session=session, session_id=b"\x01" * 32, ticket=b"ticket-bytes")


def test_put_and_get() -> None:
    cache = ClientSessionCache()
    entry = make_entry()
    cache.put(("example.com", 443), entry)
    assert cache.get(("example.com", 443), 1.0) is entry
    assert cache.get(("example.com", 443), 1.0) is entry  # not single use


def test_key_includes_port() -> None:
    cache = ClientSessionCache()
    cache.put(("example.com", 443), make_entry())
    assert cache.get(("example.com", 8443), 1.0) is None
    assert cache.get(("example.org", 443), 1.0) is None


def test_get_drops_expired_entries() -> None:
    cache = ClientSessionCache()
    cache.put(("a", 1), make_entry(created_at=0.0, lifetime=100))
    assert cache.get(("a", 1), 99.5) is not None
    assert cache.get(("a", 1), 100.0) is None
    assert len(cache) == 0
    # an expired entry is gone for good, even if the clock went backwards
    assert cache.get(("a", 1), 50.0) is None


def test_put_replaces_entry_for_same_server() -> None:
    cache = ClientSessionCache()
    first, second = make_entry(), make_entry(created_at=5.0)
    cache.put(("a", 1), first)
    cache.put(("a", 1), second)
    assert len(cache) == 1
    assert cache.get(("a", 1), 6.0) is second


def test_remove() -> None:
    cache = ClientSessionCache()
    cache.put(("a", 1), make_entry())
    cache.remove(("a", 1))
    cache.remove(("a", 1))
    assert cache.get(("a", 1), 1.0) is None


def test_lru_bound_evicts_least_recently_used() -> None:
    cache = ClientSessionCache(max_entries=2)
    cache.put(("a", 1), make_entry("a"))
    cache.put(("b", 1), make_entry("b"))
    assert cache.get(("a", 1), 1.0) is not None  # a becomes most recent
    cache.put(("c", 1), make_entry("c"))
    assert len(cache) == 2
    assert cache.get(("b", 1), 1.0) is None
    assert cache.get(("a", 1), 1.0) is not None
    assert cache.get(("c", 1), 1.0) is not None


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(1, 3)), max_size=100), st.integers(1, 6))
def test_cache_never_exceeds_bound(keys: list[tuple[str, int]], bound: int) -> None:
    cache = ClientSessionCache(max_entries=bound)
    entry = make_entry()
    for key in keys:
        cache.put(key, entry)
        assert len(cache) <= bound
    expected = list(dict.fromkeys(reversed(keys)))[:bound]  # the most recent distinct keys survive
    assert all(cache.get(key, 1.0) is entry for key in expected)
    assert len(cache) == len(expected)


def test_rejects_zero_bound() -> None:
    with pytest.raises(ValueError):
        ClientSessionCache(max_entries=0)


def test_client_session_repr_hides_secrets() -> None:
    entry = make_entry()
    text = repr(entry)
    assert "5a5a" not in text and "ZZZZ" not in text and "\\x5a" not in text
    assert "ticket-bytes" not in text


def test_client_session_is_frozen_value() -> None:
    entry = make_entry()
    assert entry == make_entry()
    with pytest.raises(AttributeError):
        entry.ticket = None  # type: ignore[misc]


def test_cache_is_thread_safe() -> None:
    cache = ClientSessionCache(max_entries=8)
    live, expired = make_entry(lifetime=1000), make_entry(lifetime=1)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(500):
                key = (f"host{(worker + i) % 12}", 443)
                cache.put(key, expired if i % 3 == 0 else live)
                found = cache.get(key, 10.0)
                assert found is None or found is live
                if i % 5 == 0:
                    cache.remove(key)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(cache) <= 8
