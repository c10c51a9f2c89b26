"""0-RTT anti-replay: remember which ClientHellos already had their early data accepted.

RFC 8446 §8.2 ("ClientHello recording"): the server records a unique value derived from
each ClientHello whose 0-RTT it accepts, and refuses 0-RTT for any ClientHello whose value
it has seen; §8.3's freshness check bounds how long a record must be kept. The value here
is the PSK binder of the selected identity (unique per ClientHello, unforgeable without
the PSK).

Rules: the guard never reads a clock (the caller passes ``now``); when it cannot record
a new value without forgetting a live one, it answers False (refuse 0-RTT: fail closed).
"""

from __future__ import annotations

import heapq
import threading
from typing import Protocol


class ReplayGuard(Protocol):
    """Records 0-RTT ClientHellos; a Redis or shared store can implement the same one method."""

    def first_use(self, key: bytes, expires_at: float, now: float) -> bool:
        """Atomically record ``key`` until ``expires_at``; True the first time, False if it is
        already recorded and not yet expired (or cannot be recorded: refuse 0-RTT)."""
        ...


class MemoryReplayGuard:
    """An in-process ``ReplayGuard``: bounded, expiring, thread-safe.

    Entries expire at their ``expires_at``; when ``max_entries`` live entries are held, a new
    key is refused (False) rather than evicting a live entry, which would reopen a replay.
    """

    __slots__ = ("_entries", "_expiries", "_lock", "_max_entries")

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._entries: dict[bytes, float] = {}
        self._expiries: list[tuple[float, bytes]] = []  # heap: the soonest expiry first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"MemoryReplayGuard(entries={len(self)}, max_entries={self._max_entries})"

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def first_use(self, key: bytes, expires_at: float, now: float) -> bool:
        with self._lock:
            self._drop_expired(now)
            if key in self._entries:
                return False  # RFC 8446 §8.2: a recorded ClientHello: refuse its 0-RTT
            if len(self._entries) >= self._max_entries:
                return False  # full of live entries: fail closed
            self._entries[key] = expires_at
            heapq.heappush(self._expiries, (expires_at, key))
            return True

    def _drop_expired(self, now: float) -> None:
        expiries, entries = self._expiries, self._entries
        while expiries and expiries[0][0] <= now:
            expires_at, key = heapq.heappop(expiries)
            if entries.get(key) == expires_at:
                del entries[key]
