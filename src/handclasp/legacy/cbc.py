"""AES-CBC + HMAC record protection for TLS 1.0, 1.1 and 1.2 (legacy; opt-in only).

Two record formats, one class (``CbcProtection``, one direction of one key):

- MAC-then-encrypt, RFC 5246 §6.2.3.2 (the default of the CBC suites):
      MAC  = HMAC(mac_key, seq(8) || type(1) || version(2) || length(2) || content)
      body = [IV] || CBC(content || MAC || padding || padding_length)
- encrypt-then-MAC, RFC 7366 §3 (negotiated with the encrypt_then_mac extension):
      body = [IV] || CBC(content || padding || padding_length) || MAC
      MAC  = HMAC(mac_key, seq || type || version || len(IV || ciphertext) || IV || ciphertext)
  The MAC is checked, in constant time, before anything is decrypted.

IVs: TLS 1.1/1.2 send an explicit IV per record (RFC 4346 §6.2.3.2), taken from
``provider.random(16)``. TLS 1.0 has no explicit IV: each record continues the CBC
chain of the previous one (RFC 2246 §6.2.3.2), starting from the key block IV.
That is exactly what one long-lived cryptography CBC context does, so TLS 1.0 keeps
a single encryptor / decryptor per key for the whole connection.

Every failure of ``open`` is ``BadRecordMac`` (RFC 5246 §6.2.3.2: a padding error
MUST NOT be distinguishable from a MAC error; RFC 7366 §3).

Timing (Lucky Thirteen, AlFardan-Paterson 2013) for MAC-then-encrypt: the padding is
checked with one fixed-length ``hmac.compare_digest`` over the last
min(256, len) bytes of the decrypted record, never byte by byte with early exits;
an invalid padding is treated as zero-length padding, so the MAC is computed
anyway (RFC 5246 §6.2.3.2 implementation note); and a dummy HMAC absorbs the
padding bytes, so the bytes hashed per record are the same whatever the padding
length. The residual channel, which Python cannot remove: the real MAC and the
dummy hash are two hash runs whose compression-function counts differ by up to
one block with the padding length, and slicing and big-integer operations are
not guaranteed constant time. An attacker who can measure that difference over
many records on a low-noise path could still build a padding oracle.
Encrypt-then-MAC has no such channel; it is what the default policy requires.
"""

from __future__ import annotations

import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

from handclasp.crypto.provider import CryptoProvider
from handclasp.errors import BadRecordMac, InternalError
from handclasp.wire.enums import ContentType, ProtocolVersion


class CbcProtection:
    """One direction of AES-CBC + HMAC record protection (implements Protection12).

    ``seal`` and ``open`` take the record header's type and version and return the
    record body / the plaintext; the sequence number is kept here and advances by one
    per record. Use one instance per direction and key.
    """

    __slots__ = (
        "max_overhead",
        "_algorithm",
        "_mac",
        "_mac_len",
        "_encrypt_then_mac",
        "_explicit_iv_len",
        "_chain_encryptor",
        "_chain_decryptor",
        "_provider",
        "_seq",
        "has_predictable_iv",
    )

    def __init__(
        self,
        *,
        cipher_key: bytes,
        mac_key: bytes,
        mac_hash_name: str,
        iv: bytes,
        version: ProtocolVersion,
        encrypt_then_mac: bool,
        is_tls10_implicit_iv: bool,
        provider: CryptoProvider,
    ) -> None:
        if len(cipher_key) not in (16, 32):
            raise ValueError("AES-CBC key must be 16 or 32 bytes")
        if mac_hash_name not in _MAC_LENGTHS:
            raise ValueError(f"unsupported CBC MAC hash {mac_hash_name!r}")
        self._mac_len = _MAC_LENGTHS[mac_hash_name]
        if len(mac_key) != self._mac_len:
            raise ValueError("MAC key length must equal the MAC length (RFC 5246 §6.3)")
        if is_tls10_implicit_iv != (version == ProtocolVersion.TLS1_0):
            raise ValueError("the implicit-IV mode is TLS 1.0's, and TLS 1.0 always uses it")
        self._algorithm = algorithms.AES(cipher_key)
        self._mac = hmac.new(mac_key, digestmod=mac_hash_name)  # keyed once, copied per record
        self._encrypt_then_mac = encrypt_then_mac
        self._provider = provider
        self._seq = 0
        self._chain_encryptor: CipherContext | None = None
        self._chain_decryptor: CipherContext | None = None
        if is_tls10_implicit_iv:
            if len(iv) != _BLOCK:
                raise ValueError("TLS 1.0 CBC needs a 16-byte IV from the key block")
            # RFC 2246 §6.2.3.2: the first IV comes from the key block, later ones are the
            # last ciphertext block of the previous record: one CBC context carries the chain.
            cipher = Cipher(self._algorithm, modes.CBC(iv))
            self._chain_encryptor = cipher.encryptor()
            self._chain_decryptor = cipher.decryptor()
            self._explicit_iv_len = 0
        else:
            self._explicit_iv_len = _BLOCK
        # A peer may pad with up to 255 bytes plus the length byte (RFC 5246 §6.2.3.2).
        self.max_overhead = self._explicit_iv_len + self._mac_len + 256
        # TLS 1.0's next IV is the last ciphertext block already on the wire (BEAST, RFC 4346 §1):
        # the record layer splits application data 1/n-1 when this is set.
        self.has_predictable_iv = is_tls10_implicit_iv

    # --- write side

    def seal(self, content_type: ContentType, version: int, payload: bytes | memoryview) -> bytes:
        """The record body protecting ``payload`` (the caller writes the 5-byte header)."""
        seq = self._next_seq()
        if self._encrypt_then_mac:
            return self._seal_etm(seq, content_type, version, payload)
        mac = self._mac.copy()
        mac.update(_mac_header(seq, content_type, version, len(payload)))
        mac.update(payload)
        data = b"".join((payload, mac.digest(), _padding(len(payload) + self._mac_len)))
        return self._encrypt(data)

    def _seal_etm(
        self, seq: int, content_type: ContentType, version: int, payload: bytes | memoryview
    ) -> bytes:
        # RFC 7366 §3: encrypt content || padding, then MAC the IV and ciphertext.
        encrypted = self._encrypt(b"".join((payload, _padding(len(payload)))))
        mac = self._mac.copy()
        mac.update(_mac_header(seq, content_type, version, len(encrypted)))
        mac.update(encrypted)
        return encrypted + mac.digest()

    def _encrypt(self, data: bytes) -> bytes:
        if self._chain_encryptor is not None:
            return self._chain_encryptor.update(data)
        iv = self._provider.random(_BLOCK)  # RFC 5246 §6.2.3.2: unpredictable per-record IV
        encryptor = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
        return iv + encryptor.update(data)

    # --- read side

    def open(self, content_type: ContentType, version: int, body: bytes | memoryview) -> bytes:
        """The plaintext of a record body; BadRecordMac on any failure."""
        seq = self._next_seq()
        if self._encrypt_then_mac:
            return self._open_etm(seq, content_type, version, body)
        return self._open_mte(seq, content_type, version, body)

    def _open_etm(self, seq: int, content_type: ContentType, version: int, body: bytes | memoryview) -> bytes:
        view = memoryview(body)
        mac_len = self._mac_len
        encrypted_len = len(view) - mac_len
        ciphertext_len = encrypted_len - self._explicit_iv_len
        # Lengths are public (they are on the wire), so these checks may exit early.
        if ciphertext_len < _BLOCK or ciphertext_len % _BLOCK:
            raise BadRecordMac()
        encrypted = view[:encrypted_len]
        mac = self._mac.copy()
        mac.update(_mac_header(seq, content_type, version, encrypted_len))
        mac.update(encrypted)
        # RFC 7366 §3: the MAC is checked before decryption; a mismatch ends here.
        if not hmac.compare_digest(mac.digest(), view[encrypted_len:]):
            raise BadRecordMac()
        plain = self._decrypt(encrypted)
        padding_length = plain[-1]
        content_len = len(plain) - padding_length - 1
        if content_len < 0:
            raise BadRecordMac()
        expected = bytes((padding_length,)) * (padding_length + 1)
        if not hmac.compare_digest(plain[content_len:], expected):
            raise BadRecordMac()
        return plain[:content_len]

    def _open_mte(self, seq: int, content_type: ContentType, version: int, body: bytes | memoryview) -> bytes:
        mac_len = self._mac_len
        ciphertext_len = len(body) - self._explicit_iv_len
        # Public length checks: whole blocks, room for the MAC and the padding length byte.
        if ciphertext_len < _BLOCK or ciphertext_len % _BLOCK or ciphertext_len < mac_len + 1:
            raise BadRecordMac()
        plain = self._decrypt(body)
        n = len(plain)
        padding_length = plain[-1]
        # From here on, no branch depends on the padding or the MAC (RFC 5246 §6.2.3.2).
        fits = int(padding_length + 1 + mac_len <= n)
        pad = padding_length * fits  # invalid-length padding is treated as zero-length
        window_len = min(256, n)
        window = plain[n - window_len :]
        expected = window[: window_len - pad - 1] + bytes((pad,)) * (pad + 1)
        padding_ok = int(hmac.compare_digest(window, expected)) & fits
        content_len = n - pad - 1 - mac_len
        mac = self._mac.copy()
        mac.update(_mac_header(seq, content_type, version, content_len))
        mac.update(plain[:content_len])
        mac_ok = int(hmac.compare_digest(mac.digest(), plain[content_len : content_len + mac_len]))
        # Hash the padding bytes too, so every record costs one pass over n - 1 - mac_len bytes.
        dummy = self._mac.copy()
        dummy.update(plain[:pad])
        dummy.digest()
        if not padding_ok & mac_ok:
            raise BadRecordMac()
        return plain[:content_len]

    def _decrypt(self, encrypted: bytes | memoryview) -> bytes:
        if self._chain_decryptor is not None:
            return self._chain_decryptor.update(encrypted)
        view = memoryview(encrypted)
        decryptor = Cipher(self._algorithm, modes.CBC(view[:_BLOCK].tobytes())).decryptor()
        return decryptor.update(view[_BLOCK:])

    def _next_seq(self) -> int:
        seq = self._seq
        if seq > _MAX_SEQUENCE:  # RFC 5246 §6.1: sequence numbers MUST NOT wrap
            raise InternalError("record sequence number exhausted")
        self._seq = seq + 1
        return seq


def _mac_header(seq: int, content_type: ContentType, version: int, length: int) -> bytes:
    """RFC 5246 §6.2.3.1: seq_num || TLSCompressed.type || .version || .length."""
    return _MAC_HEADER.pack(seq, content_type, version, length)


def _padding(data_len: int) -> bytes:
    """Minimal CBC padding: padding_length + 1 bytes, each = padding_length (RFC 5246 §6.2.3.2)."""
    padding_length = _BLOCK - 1 - data_len % _BLOCK
    return bytes((padding_length,)) * (padding_length + 1)


_BLOCK = 16
_MAX_SEQUENCE = 2**64 - 1
_MAC_HEADER = struct.Struct(">QBHH")
_MAC_LENGTHS: dict[str, int] = {"sha1": 20, "sha256": 32, "sha384": 48}
