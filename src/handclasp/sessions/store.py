"""Resumable sessions and the server-side session-ID store.

A ``Session`` is everything resumption needs: the TLS 1.2 master secret (or,
later, the TLS 1.3 resumption PSK) and what the original handshake agreed on.
``to_bytes``/``from_bytes`` are a compact, versioned binary codec built on the
wire ``Writer``/``Reader``; the same bytes are sealed into tickets
(``sessions/tickets.py``) and can be stored off-process (Redis) later.

Encoding (format version 1), all integers big-endian::

    uint8   format_version            = 1
    uint16  version                   ProtocolVersion
    uint16  cipher_suite              CipherSuite
    uint8   flags                     bit 0 extended_master_secret, bit 1 encrypt_then_mac,
                                      bit 2 server_name present, bit 3 alpn_protocol present
    opaque  master_secret<0..2^8-1>
    opaque  server_name<0..2^16-1>    UTF-8, only when flag bit 2 is set
    opaque  alpn_protocol<0..2^8-1>   latin-1 (as the handshake decodes ALPN), only when bit 3 is set
    opaque  peer_certificates<0..2^24-1>, each opaque cert_data<0..2^24-1> (DER)
    uint64  created_at                IEEE 754 binary64 bits
    uint32  lifetime, ticket_age_add, max_early_data_size

Unknown format versions, unknown flag bits, short or trailing bytes all raise
``SessionFormatError``. Rules: this module never logs, and ``repr`` of a
``Session`` never shows the master secret.
"""

from __future__ import annotations

import math
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

from handclasp.errors import DecodeError, HandclaspError
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import CipherSuite, ProtocolVersion


class SessionFormatError(HandclaspError, ValueError):
    """Stored session bytes (or ticket key state) could not be decoded."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True, slots=True)
class Session:
    """What resumption needs, for TLS 1.2 now and TLS 1.3 later.

    ``master_secret`` is the TLS 1.2 master secret or the TLS 1.3 resumption
    PSK; it is left out of ``repr``. A session is valid from ``created_at``
    (unix seconds) for ``lifetime`` seconds. Out-of-range fields raise
    ``ValueError`` at construction, so every ``Session`` can be encoded.
    """

    version: ProtocolVersion
    cipher_suite: CipherSuite
    master_secret: bytes = field(repr=False)
    extended_master_secret: bool
    server_name: str | None
    alpn_protocol: str | None
    peer_certificates: tuple[bytes, ...]
    created_at: float
    lifetime: int
    ticket_age_add: int = 0
    max_early_data_size: int = 0
    encrypt_then_mac: bool = False

    def __post_init__(self) -> None:
        _check_fields(self)

    def is_expired(self, now: float) -> bool:
        """True once ``now`` has reached ``created_at + lifetime``."""
        return now >= self.created_at + self.lifetime

    def to_bytes(self) -> bytes:
        """The compact versioned encoding (see the module docstring)."""
        w = Writer()
        w.uint8(FORMAT_VERSION)
        w.uint16(int(self.version))
        w.uint16(int(self.cipher_suite))
        w.uint8(_flags(self))
        w.vector(1, self.master_secret)
        if self.server_name is not None:
            w.vector(2, self.server_name.encode("utf-8"))
        if self.alpn_protocol is not None:
            w.vector(1, self.alpn_protocol.encode("latin-1"))
        with w.block(3):
            for cert in self.peer_certificates:
                w.vector(3, cert)
        w.bytes(struct.pack(">d", self.created_at))
        w.uint32(self.lifetime)
        w.uint32(self.ticket_age_add)
        w.uint32(self.max_early_data_size)
        return w.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Session:
        """Decode ``to_bytes`` output; anything else raises ``SessionFormatError``."""
        try:
            return _decode(cls, Reader(data))
        except DecodeError as exc:
            raise SessionFormatError(f"malformed session: {exc.what}") from exc
        except UnicodeDecodeError as exc:
            raise SessionFormatError("malformed session: bad server_name") from exc
        except SessionFormatError:
            raise
        except ValueError as exc:  # a field out of range (__post_init__)
            raise SessionFormatError(f"malformed session: {exc}") from exc


class SessionStore(Protocol):
    """Server-side session-ID cache (RFC 5246 §7.4.1.2); later also Redis-backed."""

    def put(self, session_id: bytes, session: Session) -> None: ...

    def get(self, session_id: bytes, now: float) -> Session | None:
        """The session, or None when absent or expired."""
        ...

    def take(self, session_id: bytes, now: float) -> Session | None:
        """Single use: remove and return (None when absent or expired)."""
        ...

    def remove(self, session_id: bytes) -> None: ...


class MemorySessionStore:
    """An in-process ``SessionStore``: LRU-bounded, expiring, thread-safe.

    Expired entries are dropped when they are looked up; when the store is
    full, ``put`` evicts the least recently used entry.
    """

    __slots__ = ("_entries", "_lock", "_max_entries")

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, Session] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"MemorySessionStore(entries={len(self)}, max_entries={self._max_entries})"

    @property
    def max_entries(self) -> int:
        return self._max_entries

    def put(self, session_id: bytes, session: Session) -> None:
        key = bytes(session_id)
        with self._lock:
            self._entries[key] = session
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def get(self, session_id: bytes, now: float) -> Session | None:
        key = bytes(session_id)
        with self._lock:
            session = self._entries.get(key)
            if session is None:
                return None
            if session.is_expired(now):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return session

    def take(self, session_id: bytes, now: float) -> Session | None:
        with self._lock:
            session = self._entries.pop(bytes(session_id), None)
        if session is None or session.is_expired(now):
            return None
        return session

    def remove(self, session_id: bytes) -> None:
        with self._lock:
            self._entries.pop(bytes(session_id), None)

    def purge_expired(self, now: float) -> int:
        """Drop every expired entry; returns how many were dropped."""
        with self._lock:
            stale = [key for key, session in self._entries.items() if session.is_expired(now)]
            for key in stale:
                del self._entries[key]
        return len(stale)


def _flags(session: Session) -> int:
    flags = 0
    if session.extended_master_secret:
        flags |= _FLAG_EXTENDED_MASTER_SECRET
    if session.encrypt_then_mac:
        flags |= _FLAG_ENCRYPT_THEN_MAC
    if session.server_name is not None:
        flags |= _FLAG_SERVER_NAME
    if session.alpn_protocol is not None:
        flags |= _FLAG_ALPN_PROTOCOL
    return flags


def _decode(cls: type[Session], r: Reader) -> Session:
    format_version = r.uint8()
    if format_version != FORMAT_VERSION:
        raise SessionFormatError(f"unknown session format version {format_version}")
    version = ProtocolVersion(r.uint16())
    cipher_suite = CipherSuite(r.uint16())
    flags = r.uint8()
    if flags & ~_ALL_FLAGS:
        raise SessionFormatError(f"unknown session flags 0x{flags:02x}")
    master_secret = r.vector(1)
    server_name = r.vector(2).decode("utf-8") if flags & _FLAG_SERVER_NAME else None
    alpn_protocol = r.vector(1).decode("latin-1") if flags & _FLAG_ALPN_PROTOCOL else None
    certificates: list[bytes] = []
    with r.block(3) as body:
        while not body.is_empty():
            certificates.append(body.vector(3))
    (created_at,) = struct.unpack(">d", r.bytes(8))
    lifetime = r.uint32()
    ticket_age_add = r.uint32()
    max_early_data_size = r.uint32()
    r.expect_end()
    return cls(
        version=version,
        cipher_suite=cipher_suite,
        master_secret=master_secret,
        extended_master_secret=bool(flags & _FLAG_EXTENDED_MASTER_SECRET),
        server_name=server_name,
        alpn_protocol=alpn_protocol,
        peer_certificates=tuple(certificates),
        created_at=created_at,
        lifetime=lifetime,
        ticket_age_add=ticket_age_add,
        max_early_data_size=max_early_data_size,
        encrypt_then_mac=bool(flags & _FLAG_ENCRYPT_THEN_MAC),
    )


def _check_fields(session: Session) -> None:
    if not 0 <= int(session.version) <= 0xFFFF or not 0 <= int(session.cipher_suite) <= 0xFFFF:
        raise ValueError("version and cipher_suite must be uint16")
    if len(session.master_secret) > 0xFF:
        raise ValueError("master_secret longer than 255 bytes")
    if session.server_name is not None and len(session.server_name.encode("utf-8")) > 0xFFFF:
        raise ValueError("server_name too long")
    if session.alpn_protocol is not None and len(session.alpn_protocol.encode("latin-1")) > 0xFF:
        raise ValueError("alpn_protocol too long")  # encode() also rejects non-latin-1 text
    if sum(3 + len(cert) for cert in session.peer_certificates) > 0xFFFFFF:
        raise ValueError("peer_certificates too long")
    if not math.isfinite(session.created_at):
        raise ValueError("created_at must be finite")
    for name in ("lifetime", "ticket_age_add", "max_early_data_size"):
        if not 0 <= getattr(session, name) <= 0xFFFFFFFF:
            raise ValueError(f"{name} must be a uint32")


FORMAT_VERSION = 1

_FLAG_EXTENDED_MASTER_SECRET = 0x01
_FLAG_ENCRYPT_THEN_MAC = 0x02
_FLAG_SERVER_NAME = 0x04
_FLAG_ALPN_PROTOCOL = 0x08
_ALL_FLAGS = _FLAG_EXTENDED_MASTER_SECRET | _FLAG_ENCRYPT_THEN_MAC | _FLAG_SERVER_NAME | _FLAG_ALPN_PROTOCOL
