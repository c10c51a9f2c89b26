"""TLS 1.2 record protection: one object per direction and key (RFC 5246 §6.2.3).

Theory of operation
-------------------
``make_protection12`` builds the protection for one direction once ChangeCipherSpec
switches keys; the record layer then calls ``seal`` for every record it writes and
``open`` for every record it reads, in order. Each object keeps its own 64-bit
sequence number, starting at 0 (RFC 5246 §6.1) and never wrapping.

``seal`` returns the record *body* (what follows the 5-byte header); the caller writes
the header with ``len(body)``. ``open`` takes the body and returns the plaintext, or
raises ``BadRecordMac`` for every kind of failure, short bodies included (one alert for
all: RFC 5246 §6.2.3.2, §7.2.2). Length limits (2^14 + 2048 on the body, 2^14 on the
plaintext) are the record layer's: ``max_overhead`` bounds body minus plaintext.

AEAD (RFC 5246 §6.2.3.3), additional_data = seq_num(8) || type(1) || version(2) || length(2):
- AES-GCM (RFC 5288 §3): nonce = salt(4, from the key block) || nonce_explicit(8); the
  explicit part is the sequence number and is sent in front of ciphertext || tag.
- ChaCha20-Poly1305 (RFC 7905 §2): nonce = iv(12) XOR left-padded seq; nothing explicit.
CBC suites (MAC-then-encrypt or RFC 7366 encrypt-then-MAC, TLS 1.0 chained IVs) are
``handclasp.legacy.cbc.CbcProtection``, imported only when a CBC suite is in use.

Rules of this file: per-record work is straight-line (one AEAD object per key, nonce
from a precomputed prefix or integer IV, AAD from one ``struct`` call, ``memoryview``
slices instead of copies); no per-byte loops; no per-record objects beyond the output.
"""

from __future__ import annotations

import struct
from typing import Protocol, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from handclasp.crypto.provider import CryptoProvider
from handclasp.crypto.suites12 import BulkCipher, Suite12
from handclasp.errors import BadRecordMac, InternalError
from handclasp.wire.enums import ContentType, ProtocolVersion

Buffer: TypeAlias = bytes | bytearray | memoryview


class Protection12(Protocol):
    """One direction's TLS 1.2 (or 1.0/1.1) record protection."""

    max_overhead: int  # upper bound of len(body) - len(plaintext)

    def seal(self, content_type: ContentType, version: int, payload: bytes | memoryview) -> bytes:
        """The protected record body for ``payload``; advances the sequence number."""
        ...

    def open(self, content_type: ContentType, version: int, body: bytes | memoryview) -> bytes:
        """The plaintext of a record body; advances the sequence number. BadRecordMac on failure."""
        ...


class AesGcmProtection12:
    """AES-128/256-GCM records (RFC 5288): explicit nonce = sequence number."""

    __slots__ = ("_aead", "_salt", "_seq")
    max_overhead = 24  # 8-byte explicit nonce + 16-byte tag

    def __init__(self, key: bytes, salt: bytes) -> None:
        if len(key) not in (16, 32) or len(salt) != 4:
            raise ValueError("AES-GCM needs a 16- or 32-byte key and a 4-byte salt")
        self._aead = AESGCM(key)
        self._salt = salt
        self._seq = 0

    def seal(self, content_type: int, version: int, payload: Buffer) -> bytes:
        seq = self._seq
        if seq > _MAX_SEQUENCE:  # RFC 5246 §6.1: sequence numbers may not wrap
            raise InternalError("record sequence number exhausted")
        self._seq = seq + 1
        aad = _AAD.pack(seq, content_type, version, len(payload))
        explicit = aad[:8]  # RFC 5288 §3: nonce_explicit = seq_num (unique per key)
        return explicit + self._aead.encrypt(self._salt + explicit, payload, aad)

    def open(self, content_type: int, version: int, body: Buffer) -> bytes:
        length = len(body) - 24
        if length < 0:
            raise BadRecordMac()
        seq = self._seq
        if seq > _MAX_SEQUENCE:
            raise InternalError("record sequence number exhausted")
        view = memoryview(body)
        try:
            plaintext = self._aead.decrypt(
                self._salt + view[:8], view[8:], _AAD.pack(seq, content_type, version, length)
            )
        except InvalidTag:
            raise BadRecordMac() from None
        self._seq = seq + 1
        return plaintext


class ChaCha20Poly1305Protection12:
    """ChaCha20-Poly1305 records (RFC 7905 §2): nonce = iv XOR seq, no explicit nonce."""

    __slots__ = ("_aead", "_iv", "_seq")
    max_overhead = 16  # tag

    def __init__(self, key: bytes, iv: bytes) -> None:
        if len(key) != 32 or len(iv) != 12:
            raise ValueError("ChaCha20-Poly1305 needs a 32-byte key and a 12-byte IV")
        self._aead = ChaCha20Poly1305(key)
        self._iv = int.from_bytes(iv, "big")
        self._seq = 0

    def seal(self, content_type: int, version: int, payload: Buffer) -> bytes:
        seq = self._seq
        if seq > _MAX_SEQUENCE:  # RFC 5246 §6.1
            raise InternalError("record sequence number exhausted")
        self._seq = seq + 1
        nonce = (self._iv ^ seq).to_bytes(12, "big")
        return self._aead.encrypt(nonce, payload, _AAD.pack(seq, content_type, version, len(payload)))

    def open(self, content_type: int, version: int, body: Buffer) -> bytes:
        length = len(body) - 16
        if length < 0:
            raise BadRecordMac()
        seq = self._seq
        if seq > _MAX_SEQUENCE:
            raise InternalError("record sequence number exhausted")
        try:
            plaintext = self._aead.decrypt(
                (self._iv ^ seq).to_bytes(12, "big"), body, _AAD.pack(seq, content_type, version, length)
            )
        except InvalidTag:
            raise BadRecordMac() from None
        self._seq = seq + 1
        return plaintext


def make_protection12(
    suite: Suite12,
    version: ProtocolVersion,
    key: bytes,
    iv: bytes,
    mac_key: bytes,
    *,
    encrypt_then_mac: bool,
    provider: CryptoProvider,
) -> Protection12:
    """The protection for one direction: ``key``, ``iv`` and ``mac_key`` are that direction's
    parts of the key block (``prf12.key_block``). ``encrypt_then_mac`` (RFC 7366) matters only
    for CBC suites: it never applies to AEAD ones (RFC 7366 §3)."""
    if len(key) != suite.key_len:
        raise ValueError(f"{suite.suite.name} needs a {suite.key_len}-byte key, got {len(key)}")
    # RFC 5246 App. A.5, RFC 5288 §4, RFC 7905 §1: AEAD and SHA-256/384 suites are TLS 1.2 only.
    if version < suite.min_version:
        raise ValueError(f"{suite.suite.name} is not usable in {version.name}")
    if suite.is_cbc:
        from handclasp.legacy.cbc import CbcProtection  # legacy path: loaded only when used

        mac_name = suite.mac_name
        if mac_name is None:  # every CBC suite in the table has an HMAC
            raise ValueError(f"{suite.suite.name} has no MAC")
        return CbcProtection(
            cipher_key=key,
            mac_key=mac_key,
            mac_hash_name=mac_name,
            iv=iv,
            version=version,
            encrypt_then_mac=encrypt_then_mac,
            is_tls10_implicit_iv=version <= ProtocolVersion.TLS1_0,
            provider=provider,
        )
    if mac_key:
        raise ValueError("AEAD suites have no MAC key")
    if suite.cipher is BulkCipher.CHACHA20_POLY1305:
        return ChaCha20Poly1305Protection12(key, iv)
    return AesGcmProtection12(key, iv)


MAX_TLS12_CIPHERTEXT = 2**14 + 2048  # RFC 5246 §6.2.3: TLSCiphertext.length limit

_AAD = struct.Struct("!QBHH")  # RFC 5246 §6.2.3.3 additional_data
_MAX_SEQUENCE = 2**64 - 1
