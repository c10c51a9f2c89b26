"""The running handshake transcript hash (RFC 8446 §4.4.1).

The transcript is fed the raw bytes of each handshake message (header
included), never a re-encoding. ``digest()`` hashes a copy, so the running
state carries on. After a HelloRetryRequest the first ClientHello is replaced
by the synthetic ``message_hash`` message (``after_hello_retry``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from handclasp.wire.enums import HandshakeType

if TYPE_CHECKING:
    from hashlib import _Hash as HashObject
else:
    HashObject = object

HashConstructor: TypeAlias = "Callable[[bytes], HashObject]"


class Transcript:
    __slots__ = ("hash_name", "_hash")

    def __init__(self, hash_name: str, initial: bytes = b"") -> None:
        self.hash_name = hash_name
        self._hash = hash_constructor(hash_name)(initial)

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def copy(self) -> Transcript:
        """An independent transcript with the same messages so far."""
        other = Transcript.__new__(Transcript)
        other.hash_name = self.hash_name
        other._hash = self._hash.copy()
        return other

    def digest(self) -> bytes:
        """The hash of everything so far; the transcript stays open."""
        return self._hash.copy().digest()

    @classmethod
    def after_hello_retry(cls, hash_name: str, client_hello1: bytes) -> Transcript:
        """RFC 8446 §4.4.1: ClientHello1 becomes message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)."""
        inner = hash_constructor(hash_name)(client_hello1).digest()
        header = bytes((HandshakeType.MESSAGE_HASH, 0, 0, len(inner)))
        return cls(hash_name, header + inner)


def hash_constructor(hash_name: str) -> HashConstructor:
    """The hashlib constructor for a suite's hash name (``"sha256"`` or ``"sha384"``)."""
    try:
        return _CONSTRUCTORS[hash_name]
    except KeyError:
        raise ValueError(f"unsupported transcript hash {hash_name!r}") from None


_CONSTRUCTORS: dict[str, HashConstructor] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
