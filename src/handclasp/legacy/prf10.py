"""The TLS 1.0/1.1 PRF and handshake hash (RFC 2246 §5, §7.4.9; RFC 4346 §5).

    PRF(secret, label, seed) = P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed)

where S1 and S2 are the first and second halves of the secret, sharing the
middle byte when its length is odd. Finished and the extended master secret
(RFC 7627 §4) hash the handshake with MD5 || SHA-1 (36 bytes), see
``handshake_hash10`` and ``Md5Sha1``.

``crypto/prf12.py`` dispatches to ``prf10`` when its ``hash_name`` is
``HASH_NAME`` ("md5+sha1"), so the master secret, key block and Finished code
is shared between TLS 1.0, 1.1 and 1.2. HMAC comes from the standard library
(OpenSSL underneath); nothing here is a hand-written primitive.
"""

from __future__ import annotations

import hashlib
import hmac

HASH_NAME = "md5+sha1"


def prf10(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """RFC 2246 §5: P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed), ``length`` bytes."""
    if length < 0:
        raise ValueError("negative PRF output length")
    half = (len(secret) + 1) // 2
    s1, s2 = secret[:half], secret[len(secret) - half :]
    labelled_seed = label + seed
    md5_part = p_hash("md5", s1, labelled_seed, length)
    sha1_part = p_hash("sha1", s2, labelled_seed, length)
    xored = int.from_bytes(md5_part, "big") ^ int.from_bytes(sha1_part, "big")
    return xored.to_bytes(length, "big")


def p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """RFC 2246 §5 / RFC 5246 §5 P_hash: HMAC(secret, A(i) + seed) for i = 1, 2, ..."""
    keyed = hmac.new(secret, digestmod=hash_name)
    out: list[bytes] = []
    produced = 0
    a = seed  # A(0)
    while produced < length:  # bounded: ceil(length / digest_size) rounds
        inner = keyed.copy()
        inner.update(a)
        a = inner.digest()  # A(i) = HMAC(secret, A(i-1))
        block = keyed.copy()
        block.update(a + seed)
        chunk = block.digest()
        out.append(chunk)
        produced += len(chunk)
    return b"".join(out)[:length]


def handshake_hash10(handshake_messages: bytes) -> bytes:
    """RFC 2246 §7.4.9: MD5(handshake_messages) || SHA-1(handshake_messages), 36 bytes."""
    return Md5Sha1(handshake_messages).digest()


class Md5Sha1:
    """A running MD5 || SHA-1 hash with the hashlib object interface a transcript needs.

    Used as the TLS 1.0/1.1 transcript hash; hashlib's "md5-sha1" is not
    available on every OpenSSL build, so the two halves are kept side by side.
    """

    __slots__ = ("_md5", "_sha1")

    name = HASH_NAME
    digest_size = 36
    block_size = 64

    def __init__(self, data: bytes = b"") -> None:
        self._md5 = hashlib.md5(data)
        self._sha1 = hashlib.sha1(data)

    def update(self, data: bytes) -> None:
        self._md5.update(data)
        self._sha1.update(data)

    def copy(self) -> Md5Sha1:
        clone = Md5Sha1.__new__(Md5Sha1)
        clone._md5 = self._md5.copy()
        clone._sha1 = self._sha1.copy()
        return clone

    def digest(self) -> bytes:
        return self._md5.digest() + self._sha1.digest()

    def hexdigest(self) -> str:
        return self.digest().hex()
