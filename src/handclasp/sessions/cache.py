"""The client's session cache: what it can offer to resume, per server.

Entries are keyed by ``(server_name, port)`` as the caller spells them (the
connection normalises the name first), bounded by an LRU, and dropped on
lookup once their session has expired. Thread-safe, so one cache can serve
every connection of a client. ``ClientSession.to_bytes``/``from_bytes`` and
``save_session``/``load_session`` carry one session across processes (like
``openssl s_client -sess_out/-sess_in``); the bytes hold a secret.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from handclasp.errors import DecodeError
from handclasp.sessions.store import Session, SessionFormatError
from handclasp.wire.codec import Reader, Writer


@dataclass(frozen=True, slots=True)
class ClientSession:
    """A TLS 1.2 resumable session as the client keeps it.

    ``session_id`` is what the server assigned (may be empty when it sent a
    ticket only); ``ticket`` is the opaque RFC 5077 ticket, if any.
    """

    session: Session
    session_id: bytes
    ticket: bytes | None = field(default=None, repr=False)

    def to_bytes(self) -> bytes:
        """A versioned encoding (it holds the resumption secret: store it like a key)::

            uint8   format_version = 1
            opaque  session<1..2^24-1>     Session.to_bytes()
            opaque  session_id<0..2^8-1>
            uint8   has_ticket (0 or 1)
            opaque  ticket<1..2^16-1>      only when has_ticket is 1
        """
        w = Writer()
        w.uint8(CLIENT_SESSION_FORMAT_VERSION)
        w.vector(3, self.session.to_bytes())
        w.vector(1, self.session_id)
        w.uint8(0 if self.ticket is None else 1)
        if self.ticket is not None:
            w.vector(2, self.ticket)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ClientSession:
        """Decode ``to_bytes`` output; anything else raises ``SessionFormatError``."""
        try:
            r = Reader(data)
            if (format_version := r.uint8()) != CLIENT_SESSION_FORMAT_VERSION:
                raise SessionFormatError(f"unknown client session format version {format_version}")
            session = Session.from_bytes(r.vector(3, min_len=1))
            session_id = r.vector(1)
            has_ticket = r.uint8()
            if has_ticket not in (0, 1):
                raise SessionFormatError(f"bad has_ticket flag {has_ticket}")
            ticket = r.vector(2, min_len=1) if has_ticket else None
            r.expect_end()
        except DecodeError as exc:
            raise SessionFormatError(f"malformed client session: {exc.what}") from exc
        return cls(session=session, session_id=bytes(session_id), ticket=None if ticket is None else bytes(ticket))


def save_session(path: str | os.PathLike[str], session: ClientSession) -> None:
    """Write ``session`` as a PEM-style text file readable only by its owner (mode 0600: it holds a secret)."""
    body = base64.encodebytes(session.to_bytes()).decode("ascii")
    text = f"{_PEM_BEGIN}\n{body}{_PEM_END}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its old mode otherwise
        handle.write(text)


def load_session(path: str | os.PathLike[str]) -> ClientSession:
    """Read a file written by ``save_session``; ``SessionFormatError`` when it is not one."""
    try:
        text = Path(path).read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise SessionFormatError("not a handclasp session file") from exc
    begin, end = text.find(_PEM_BEGIN), text.find(_PEM_END)
    if begin < 0 or end < begin:
        raise SessionFormatError("not a handclasp session file")
    body = "".join(text[begin + len(_PEM_BEGIN):end].split())
    try:
        data = binascii.a2b_base64(body, strict_mode=True)
    except binascii.Error as exc:
        raise SessionFormatError("bad base64 in session file") from exc
    return ClientSession.from_bytes(data)


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


CLIENT_SESSION_FORMAT_VERSION = 1

_PEM_BEGIN = "-----BEGIN HANDCLASP TLS SESSION-----"
_PEM_END = "-----END HANDCLASP TLS SESSION-----"
