"""Session tickets: sealing ``Session`` state for the client to carry (RFC 5077).

Ticket layout, after RFC 5077 §4's recommended format with an AEAD in place
of AES-CBC + HMAC::

    opaque key_name[16];      which ticket key sealed it (random per key)
    opaque nonce[12];         random per ticket
    opaque sealed<rest>;      AES-256-GCM(key, nonce, Session.to_bytes(), aad=key_name), tag included

Key rotation: one *current* key seals; the *previous* key still opens (the
caller should then issue a fresh ticket: ``needs_renewal``); anything older is
gone. Rotation happens on ``rotate(now)`` and automatically when the current
key is ``rotate_after`` seconds old. A ticket is refused once its session is
``lifetime`` seconds old (or past its own ``Session.lifetime``), whichever key
sealed it.

Rules: keys come only from ``provider.random`` and never appear in ``repr``,
logs or exceptions; every failure to open is ``None``, never an exception that
says why (RFC 5077 §3.1: an unusable ticket means a full handshake).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import struct
import threading
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from handclasp.crypto.provider import CryptoProvider
from handclasp.errors import DecodeError
from handclasp.sessions.store import Session, SessionFormatError
from handclasp.wire.codec import Reader, Writer


class TicketKeys:
    """The ticket keys of one server (or, via ``export_state``, of a fleet). Thread-safe.

    ``key`` pins the first key (32 bytes); its key name is then derived from it,
    so nodes configured with the same ``key`` open each other's tickets. Such
    nodes should pass ``rotate_after=math.inf`` (or share keys through
    ``export_state``/``import_state``), since each node rotates to its own
    random key otherwise.
    """

    __slots__ = ("_current", "_lifetime", "_lock", "_previous", "_provider", "_rotate_after")

    def __init__(
        self,
        *,
        rotate_after: float = 12 * 3600,
        lifetime: int = 24 * 3600,
        provider: CryptoProvider,
        key: bytes | None = None,
    ) -> None:
        if not rotate_after > 0:
            raise ValueError("rotate_after must be positive")
        if not 0 < lifetime <= 0xFFFFFFFF:
            raise ValueError("lifetime must be a positive uint32")
        self._rotate_after = rotate_after
        self._lifetime = lifetime
        self._provider = provider
        self._lock = threading.Lock()
        now = provider.now()
        if key is None:
            self._current = _TicketKey.generate(provider, now)
        else:
            self._current = _TicketKey.from_key(key, now)
        self._previous: _TicketKey | None = None

    def __repr__(self) -> str:
        with self._lock:
            count = 1 if self._previous is None else 2
            name = self._current.key_name.hex()
        return (
            f"TicketKeys(keys={count}, current_key_name={name}, "
            f"rotate_after={self._rotate_after:g}, lifetime={self._lifetime})"
        )

    @property
    def lifetime(self) -> int:
        """How long a ticket is accepted, in seconds (also the ticket_lifetime_hint to send)."""
        return self._lifetime

    def seal(self, session: Session, now: float) -> bytes:
        """A ticket carrying ``session``, sealed under the current key.

        Raises ``ValueError`` when the ticket would not fit a NewSessionTicket
        (``MAX_TICKET_LENGTH``; a very long peer certificate chain); the caller
        then issues no ticket.
        """
        with self._lock:
            self._rotate_if_due(now)
            ticket_key = self._current
        nonce = self._provider.random(NONCE_LENGTH)
        if len(nonce) != NONCE_LENGTH:
            raise ValueError("provider returned a nonce of the wrong length")
        sealed = ticket_key.aead.encrypt(nonce, session.to_bytes(), ticket_key.key_name)
        ticket = ticket_key.key_name + nonce + sealed
        if len(ticket) > MAX_TICKET_LENGTH:
            raise ValueError(f"ticket of {len(ticket)} bytes exceeds {MAX_TICKET_LENGTH}")
        return ticket

    def open(self, ticket: bytes, now: float) -> tuple[Session, bool] | None:
        """``(session, needs_renewal)``, or None for an unknown key, tampering, garbage or expiry.

        ``needs_renewal`` is True when the previous key sealed the ticket.
        """
        if not MIN_TICKET_LENGTH <= len(ticket) <= MAX_TICKET_LENGTH:
            return None
        ticket = bytes(ticket)
        key_name = ticket[:KEY_NAME_LENGTH]
        nonce = ticket[KEY_NAME_LENGTH:_HEADER_LENGTH]
        with self._lock:
            self._rotate_if_due(now)
            found = _find_key(key_name, self._current, self._previous)
        if found is None:
            return None
        ticket_key, needs_renewal = found
        try:
            plaintext = ticket_key.aead.decrypt(nonce, ticket[_HEADER_LENGTH:], key_name)
            session = Session.from_bytes(plaintext)
        except (InvalidTag, SessionFormatError):
            return None
        # RFC 5077 §5.6 / RFC 8446 §4.6.1: never accept a ticket past its lifetime.
        if now - session.created_at >= self._lifetime or session.is_expired(now):
            return None
        return session, needs_renewal

    def rotate(self, now: float) -> None:
        """Make a fresh random key current; the current one becomes previous, the previous is dropped."""
        with self._lock:
            self._rotate(now)

    def export_state(self) -> bytes:
        """The keys (current, then previous) as bytes, for ``import_state`` on another node.

        The result is secret: store it only where the ticket keys may live
        (for example a Redis instance reachable by the server fleet only).
        """
        with self._lock:
            keys = [self._current] if self._previous is None else [self._current, self._previous]
        w = Writer()
        w.uint8(STATE_FORMAT_VERSION)
        w.uint8(len(keys))
        for ticket_key in keys:
            w.bytes(ticket_key.key_name)
            w.bytes(ticket_key.key)
            w.bytes(struct.pack(">d", ticket_key.created_at))
        return w.getvalue()

    def import_state(self, state: bytes) -> None:
        """Replace this node's keys with those of ``export_state``; ``SessionFormatError`` if malformed."""
        try:
            current, previous = _decode_state(Reader(state))
        except DecodeError as exc:
            raise SessionFormatError(f"malformed ticket key state: {exc.what}") from exc
        with self._lock:
            self._current = current
            self._previous = previous

    def _rotate_if_due(self, now: float) -> None:
        # Caller holds the lock.
        if now - self._current.created_at >= self._rotate_after:
            self._rotate(now)

    def _rotate(self, now: float) -> None:
        # Caller holds the lock.
        self._previous = self._current
        self._current = _TicketKey.generate(self._provider, now)


@dataclass(frozen=True, slots=True)
class _TicketKey:
    key_name: bytes
    key: bytes = field(repr=False)
    created_at: float
    aead: AESGCM = field(repr=False, compare=False)

    @classmethod
    def generate(cls, provider: CryptoProvider, now: float) -> _TicketKey:
        key_name = provider.random(KEY_NAME_LENGTH)
        key = provider.random(KEY_LENGTH)
        if len(key_name) != KEY_NAME_LENGTH or len(key) != KEY_LENGTH:
            raise ValueError("provider returned the wrong number of random bytes")
        return cls(key_name=key_name, key=key, created_at=now, aead=AESGCM(key))

    @classmethod
    def from_key(cls, key: bytes, now: float) -> _TicketKey:
        if len(key) != KEY_LENGTH:
            raise ValueError(f"a ticket key is {KEY_LENGTH} bytes")
        key = bytes(key)
        # Deterministic, so every node given the same key agrees on its name; the
        # name is public (it leads every ticket) and reveals nothing of the key.
        key_name = hmac.new(key, _KEY_NAME_LABEL, hashlib.sha256).digest()[:KEY_NAME_LENGTH]
        return cls(key_name=key_name, key=key, created_at=now, aead=AESGCM(key))


def _find_key(
    key_name: bytes, current: _TicketKey, previous: _TicketKey | None
) -> tuple[_TicketKey, bool] | None:
    if hmac.compare_digest(key_name, current.key_name):
        return current, False
    if previous is not None and hmac.compare_digest(key_name, previous.key_name):
        return previous, True
    return None


def _decode_state(r: Reader) -> tuple[_TicketKey, _TicketKey | None]:
    format_version = r.uint8()
    if format_version != STATE_FORMAT_VERSION:
        raise SessionFormatError(f"unknown ticket key state version {format_version}")
    count = r.uint8()
    if count not in (1, 2):
        raise SessionFormatError(f"ticket key state holds {count} keys, expected 1 or 2")
    keys: list[_TicketKey] = []
    for _ in range(count):
        key_name = r.bytes(KEY_NAME_LENGTH)
        key = r.bytes(KEY_LENGTH)
        (created_at,) = struct.unpack(">d", r.bytes(8))
        if not math.isfinite(created_at):
            raise SessionFormatError("ticket key created_at is not finite")
        keys.append(_TicketKey(key_name=key_name, key=key, created_at=created_at, aead=AESGCM(key)))
    r.expect_end()
    if count == 2 and hmac.compare_digest(keys[0].key_name, keys[1].key_name):
        raise SessionFormatError("ticket key state repeats a key name")
    return keys[0], (keys[1] if count == 2 else None)


KEY_NAME_LENGTH = 16
KEY_LENGTH = 32  # AES-256-GCM
NONCE_LENGTH = 12
TAG_LENGTH = 16
MIN_TICKET_LENGTH = KEY_NAME_LENGTH + NONCE_LENGTH + TAG_LENGTH
MAX_TICKET_LENGTH = 0xFFFF  # RFC 5077 §3.3 / RFC 8446 §4.6.1: opaque ticket<..2^16-1>
STATE_FORMAT_VERSION = 1

_HEADER_LENGTH = KEY_NAME_LENGTH + NONCE_LENGTH
_KEY_NAME_LABEL = b"handclasp ticket key name"
