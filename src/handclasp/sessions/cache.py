"""The client's session cache: what it can offer to resume, per server.

Entries are keyed by ``(server_name, port)`` as the caller spells them (the
connection normalises the name first), bounded by an LRU, and dropped on
lookup once their session has expired. Thread-safe, so one cache can serve
every connection of a client.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from handclasp.sessions.store import Session


@dataclass(frozen=True, slots=True)
class ClientSession:
    """A TLS 1.2 resumable session as the client keeps it.

    ``session_id`` is what the server assigned (may be empty when it sent a
    ticket only); ``ticket`` is the opaque RFC 5077 ticket, if any.
    """

    session: Session
    session_id: bytes
    ticket: bytes | None = field(default=None, repr=False)


class ClientSessionCache:
    """A bounded LRU of ``ClientSession`` keyed by ``(server_name, port)``."""

    __slots__ = ("_entries", "_lock", "_max_entries")

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int], ClientSession] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"ClientSessionCache(entries={len(self)}, max_entries={self._max_entries})"

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def put(self, key: tuple[str, int], entry: ClientSession) -> None:
        """Store ``entry`` for ``key``, replacing any older one and evicting the least recently used."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def get(self, key: tuple[str, int], now: float) -> ClientSession | None:
        """The entry for ``key``, or None when absent or expired (an expired entry is removed)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.session.is_expired(now):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def remove(self, key: tuple[str, int]) -> None:
        """Forget ``key`` (for example after the server refused to resume)."""
        with self._lock:
            self._entries.pop(key, None)
