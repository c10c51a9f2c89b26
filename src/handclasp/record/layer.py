"""The TLS 1.3 record layer: framing, protection and limits (RFC 8446 §5).

Theory of operation
-------------------
Two independent directions. Each starts in plaintext and switches to TLS 1.3
protection when the handshake installs a traffic secret (``set_write_key`` /
``set_read_key``); installing a key resets that direction's sequence number.

Write side: ``encode`` cuts a payload into records of at most the write limit
(2^14, or less after record_size_limit / max_fragment_length) and returns their
wire bytes. Read side: ``feed`` buffers bytes, ``next_record`` returns one
``(content_type, payload)`` at a time or None when no whole record is buffered.
The buffer holds exactly the unparsed bytes: the caller's own ``bytes`` object when
nothing else was buffered (records are decrypted straight from it, uncopied), else a
``bytearray`` (a partial record waiting for more, or a copy of a mutable input).

Rules of this file:
- It is the only place that encrypts or decrypts records, and it knows nothing
  about handshake messages: joining, alignment with key changes and what a
  record type means in a given state are the caller's.
- The header is checked as soon as its 5 bytes arrive, so an oversized length
  is refused before its body is awaited (RFC 8446 §5.1, §5.2).
- Per-record work is straight-line code: one AEAD object per key, the nonce is
  ``(iv XOR seq).to_bytes`` (RFC 8446 §5.3), the AAD is the 5-byte header
  (RFC 8446 §5.2); no per-byte loops, no per-record objects.
"""

from __future__ import annotations

import struct
from typing import TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from handclasp.crypto.schedule13 import traffic_key_iv
from handclasp.crypto.suites import AEAD_TAG_LEN, SuiteParams, make_aead
from handclasp.errors import (
    BadRecordMac,
    Incompatibility,
    InternalError,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    RecordOverflow,
)
from handclasp.record.protection12 import Protection12
from handclasp.wire.enums import ContentType

# Payloads may be any bytes-like object (the connection passes memoryview slices).
Buffer: TypeAlias = bytes | bytearray | memoryview


class RecordLayer:
    __slots__ = (
        "is_client",
        "_write",
        "_read",
        "_write_limit",
        "_first_write",
        "_buffer",
        "_write12",
        "_read12",
        "_version12",
        "_split_first_byte",
        "_plain_alerts_allowed",
        "_early_data_budget",
    )

    def __init__(self, *, is_client: bool) -> None:
        self.is_client = is_client
        self._write: _Protection | None = None
        self._read: _Protection | None = None
        self._write_limit = MAX_PLAINTEXT
        # RFC 8446 §5.1: the initial ClientHello may carry legacy_record_version 0x0301.
        self._first_write = is_client
        self._buffer: bytes | bytearray = b""  # exactly the unparsed bytes
        # TLS 1.2 protections live apart from the TLS 1.3 ones, so the 1.3 fast paths stay simple.
        self._write12: Protection12 | None = None
        self._read12: Protection12 | None = None
        self._version12 = LEGACY_VERSION
        self._split_first_byte = False  # TLS 1.0 CBC: 1/n-1 record splitting (legacy only)
        self._plain_alerts_allowed = False
        self._early_data_budget = 0

    # --- write side

    def set_write_key(self, params: SuiteParams, traffic_secret: bytes) -> None:
        """Protect every later record (but change_cipher_spec) with this TLS 1.3 traffic secret."""
        self._write = _Protection(params, traffic_secret)
        self._first_write = False

    def clear_write_key(self) -> None:
        """Write plaintext records again: a client's second ClientHello after it wrote 0-RTT
        data under the early traffic key (RFC 8446 §4.1.2, §4.2.10)."""
        self._write = None

    def set_write_protection12(self, protection: Protection12, version: int) -> None:
        """TLS 1.2 and older: protect every later record (RFC 5246 §6.2.3) under ``version``."""
        self._write12 = protection
        self._write = None
        self._version12 = version
        self._split_first_byte = getattr(protection, "has_predictable_iv", False)
        self._first_write = False

    def set_read_protection12(self, protection: Protection12, version: int) -> None:
        self._read12 = protection
        self._read = None
        self._version12 = version

    def skip_early_data(self, limit: int) -> None:
        """RFC 8446 §4.2.10: a server refusing 0-RTT discards up to ``limit`` bytes of records it
        cannot deprotect (or, before its handshake key, protected-looking records) until one opens."""
        self._early_data_budget = limit

    def set_write_record_limit(self, max_plaintext: int) -> None:
        """Content bytes per record from now on (RFC 8449 record_size_limit minus 1 in TLS 1.3;
        RFC 6066 max_fragment_length). Padding counts against it."""
        if not 1 <= max_plaintext <= MAX_PLAINTEXT:
            raise ValueError(f"record limit {max_plaintext} outside 1..{MAX_PLAINTEXT}")
        self._write_limit = max_plaintext

    def encode(self, content_type: ContentType, payload: Buffer, *, padding: int = 0) -> bytes:
        """The wire bytes of ``payload`` as one or more records of ``content_type``."""
        length = len(payload)
        protection = self._write
        # Fast path (bulk data): one protected, unpadded, non-empty record.
        if (
            protection is not None
            and not padding
            and 0 < length <= self._write_limit
            and content_type != _CCS
        ):
            return protection.seal(payload, _TRAILERS.get(content_type) or bytes((content_type,)))
        if self._write12 is not None:
            return self._encode12(self._write12, content_type, payload)
        if length == 0 and content_type != ContentType.APPLICATION_DATA:
            raise ValueError(f"empty {content_type.name} record")  # RFC 8446 §5.1
        if protection is None or content_type == ContentType.CHANGE_CIPHER_SPEC:
            # RFC 8446 §5: change_cipher_spec is never protected.
            if padding:
                raise ValueError("padding needs a protected record")
            return self._encode_plaintext(content_type, payload)
        chunk = self._write_limit - padding
        if padding < 0 or chunk < (1 if length else 0):
            raise ValueError(f"padding {padding} does not fit the record limit {self._write_limit}")
        trailer = bytes((content_type,)) + bytes(padding)  # TLSInnerPlaintext type + zeros
        if length <= chunk:
            return protection.seal(payload, trailer)
        view = memoryview(payload)
        return b"".join(
            [protection.seal(view[start : start + chunk], trailer) for start in range(0, length, chunk)]
        )

    def _encode12(self, protection: Protection12, content_type: ContentType, payload: Buffer) -> bytes:
        """TLS 1.2 records: each fragment sealed on its own (RFC 5246 §6.2)."""
        version = self._version12
        limit = self._write_limit
        length = len(payload)
        if type(payload) is bytearray:
            payload = bytes(payload)
        if self._split_first_byte and content_type is _APPLICATION_DATA and length > 1:
            # TLS 1.0 CBC chains its IV from the previous record (RFC 2246 §6.2.3.2), so plaintext
            # chosen for the start of a record meets a known IV (BEAST): send 1 byte, then the rest
            # (1/n-1 splitting, as NSS, SChannel and Go do; the peer sees two ordinary records).
            view = memoryview(payload)
            body = protection.seal(content_type, version, view[:1])
            self._split_first_byte = False
            try:
                rest = self._encode12(protection, content_type, view[1:])
            finally:
                self._split_first_byte = True
            return _HEADER.pack(content_type, version, len(body)) + body + rest
        if length <= limit:
            body = protection.seal(content_type, version, payload)  # type: ignore[arg-type]
            return _HEADER.pack(content_type, version, len(body)) + body
        view = memoryview(payload)
        parts: list[bytes] = []
        for start in range(0, length, limit):
            body = protection.seal(content_type, version, view[start : start + limit])
            parts.append(_HEADER.pack(content_type, version, len(body)))
            parts.append(body)
        return b"".join(parts)

    def _encode_plaintext(self, content_type: ContentType, payload: Buffer) -> bytes:
        version = LEGACY_VERSION_CLIENT_HELLO if self._first_write else LEGACY_VERSION
        self._first_write = False
        length = len(payload)
        limit = self._write_limit
        if length <= limit:
            return _HEADER.pack(content_type, version, length) + payload
        view = memoryview(payload)
        parts: list[bytes | memoryview] = []
        for start in range(0, length, limit):
            fragment = view[start : start + limit]
            parts.append(_HEADER.pack(content_type, version, len(fragment)))
            parts.append(fragment)
        return b"".join(parts)

    # --- read side

    def set_read_key(self, params: SuiteParams, traffic_secret: bytes) -> None:
        """Expect TLS 1.3 protected records from now on."""
        # A peer that has not switched yet may still send a plaintext alert (as OpenSSL, rustls
        # and Go accept): until a record opens under the first read key.
        self._plain_alerts_allowed = self._read is None
        self._read = _Protection(params, traffic_secret)

    def feed(self, data: Buffer) -> None:
        """Buffer received bytes; call ``next_record`` until it returns None."""
        buffer = self._buffer
        if not buffer:
            # Nothing buffered: records are parsed straight from the caller's bytes (no copy of
            # 16 KiB). Other bytes-likes are copied, as the caller may reuse them.
            self._buffer = data if type(data) is bytes else bytearray(data)
        elif type(buffer) is bytes:
            self._buffer = bytearray(buffer) + data  # a partial record stays: grow it in place from now on
        else:
            buffer += data

    def next_record(self) -> tuple[ContentType, bytes] | None:
        """The next whole record's type and (decrypted) payload, or None if none is buffered."""
        buffer = self._buffer
        buffered = len(buffer)
        if buffered < _HEADER_LEN:
            return None
        outer_type, major, length = _HEADER_CHECK.unpack_from(buffer)
        end = _HEADER_LEN + length
        protection = self._read
        if outer_type == _OPAQUE_TYPE and major == 3 and protection is not None and length <= _MAX_PROTECTED:
            # Fast path (bulk data): a protected record that passes every header check below.
            if buffered < end:
                return None
            if self._early_data_budget > 0 or self._plain_alerts_allowed:
                return self._open_first_records(protection, end, length)
            inner = protection.open(buffer, end)
        else:
            content_type = _RECORD_TYPES.get(outer_type)
            if content_type is None:
                if outer_type & 0x80 and buffer[2] == _SSL2_CLIENT_HELLO and not self.is_client and not self.is_read_protected:
                    # RFC 6176 §3 / RFC 7568 §3: an SSL 2.0-framed ClientHello (2-byte header, high bit
                    # set, msg_type 1) is refused as a version problem, not as a garbled record.
                    raise PeerIncompatible(Incompatibility.SSL2_CLIENT_HELLO)
                raise PeerMisbehaved(Misbehaviour.UNKNOWN_CONTENT_TYPE, f"record type {outer_type}")
            if major != 3:
                raise PeerMisbehaved(Misbehaviour.BAD_RECORD_VERSION, f"record version major {major}")
            if self._read12 is not None:
                return self._next_record12(self._read12, content_type, length)
            if protection is None and content_type is _APPLICATION_DATA and self._early_data_budget > 0:
                return self._skip_early_data(length)
            if protection is None or content_type is _CCS:
                if length > MAX_PLAINTEXT:  # RFC 8446 §5.1
                    raise RecordOverflow(length, MAX_PLAINTEXT)
                if buffered < end:
                    return None
                payload = bytes(memoryview(buffer)[_HEADER_LEN:end])
                self._consume(end)
                return content_type, payload
            if length > MAX_CIPHERTEXT:  # RFC 8446 §5.2
                raise RecordOverflow(length, MAX_CIPHERTEXT)
            if buffered < end:
                return None
            if content_type is not _APPLICATION_DATA:
                if content_type is ContentType.ALERT and self._plain_alerts_allowed and length == 2:
                    payload = bytes(memoryview(buffer)[_HEADER_LEN:end])
                    self._consume(end)
                    return content_type, payload
                # RFC 8446 §5.2: every record but change_cipher_spec is protected once keys are in use.
                raise PeerMisbehaved(Misbehaviour.UNPROTECTED_RECORD, content_type.name)
            if length > _MAX_PROTECTED:  # RFC 8446 §5.4: TLSInnerPlaintext <= 2^14 + 1
                raise RecordOverflow(length - AEAD_TAG_LEN, MAX_PLAINTEXT + 1)
            if self._early_data_budget > 0 or self._plain_alerts_allowed:
                return self._open_first_records(protection, end, length)
            inner = protection.open(buffer, end)
        if end == buffered and type(buffer) is bytes:
            self._buffer = b""  # the common case: the record was all the caller gave
        else:
            self._consume(end)
        # TLSInnerPlaintext without padding ends in its content type; anything else goes the long way.
        if inner and (content_type := _INNER_TYPES.get(inner[-1])) is not None:
            return content_type, inner[:-1]
        return _unwrap_inner(inner)

    def _open_first_records(self, protection: _Protection, end: int, length: int) -> tuple[ContentType, bytes] | None:
        """The slow path while 0-RTT may still need skipping or plaintext alerts are allowed."""
        try:
            inner = protection.open(self._buffer, end)
        except BadRecordMac:
            if self._early_data_budget < length:
                raise
            protection.unseen()  # RFC 8446 §4.2.10: a skipped record uses no sequence number
            return self._skip_early_data(length)
        self._early_data_budget = 0
        self._plain_alerts_allowed = False
        self._consume(end)
        if inner and (content_type := _INNER_TYPES.get(inner[-1])) is not None:
            return content_type, inner[:-1]
        return _unwrap_inner(inner)

    def _skip_early_data(self, length: int) -> tuple[ContentType, bytes] | None:
        if length > self._early_data_budget:
            raise BadRecordMac()
        end = _HEADER_LEN + length
        if len(self._buffer) < end:
            return None
        self._early_data_budget -= length
        self._consume(end)
        return self.next_record()

    def _next_record12(self, protection: Protection12, content_type: ContentType, length: int) -> tuple[ContentType, bytes] | None:
        """RFC 5246 §6.2.3: every record type is protected; the ciphertext may exceed 2^14 by 2048."""
        if length > MAX_PLAINTEXT + 2048:
            raise RecordOverflow(length, MAX_PLAINTEXT + 2048)
        version = int.from_bytes(self._buffer[1:3], "big")
        if version != self._version12:
            # RFC 5246 §6.2.1 / E.1: after the hello exchange every record carries the negotiated version.
            raise PeerMisbehaved(Misbehaviour.BAD_RECORD_VERSION, f"record version 0x{version:04x}")
        end = _HEADER_LEN + length
        if len(self._buffer) < end:
            return None
        body = bytes(memoryview(self._buffer)[_HEADER_LEN:end])
        self._consume(end)
        plaintext = protection.open(content_type, self._version12, body)
        if len(plaintext) > MAX_PLAINTEXT:  # RFC 5246 §6.2.1
            raise RecordOverflow(len(plaintext), MAX_PLAINTEXT)
        return content_type, plaintext

    def _consume(self, end: int) -> None:
        """Drop the first ``end`` buffered bytes (a parsed record)."""
        buffer = self._buffer
        if type(buffer) is bytearray:
            del buffer[:end]  # O(1) for a prefix
        elif end == len(buffer):
            self._buffer = b""
        else:
            self._buffer = bytearray(memoryview(buffer)[end:])  # one copy of the rest, then O(1) deletes

    @property
    def has_partial_record(self) -> bool:
        """Bytes are buffered that do not make a whole record (an EOF now truncates one)."""
        buffered = len(self._buffer)
        if buffered < _HEADER_LEN:
            return buffered > 0
        return buffered < _HEADER_LEN + int.from_bytes(self._buffer[3:5], "big")

    @property
    def is_read_protected(self) -> bool:
        return self._read is not None or self._read12 is not None

    @property
    def is_write_protected(self) -> bool:
        return self._write is not None or self._write12 is not None


class _Protection:
    """One direction's AEAD, static IV and sequence number."""

    __slots__ = ("aead", "_iv", "_iv_len", "_seq")

    def __init__(self, params: SuiteParams, traffic_secret: bytes) -> None:
        key, iv = traffic_key_iv(params, traffic_secret)
        self.aead: AESGCM | ChaCha20Poly1305 = make_aead(params, key)
        self._iv = int.from_bytes(iv, "big")
        self._iv_len = len(iv)
        self._seq = 0

    def seal(self, content: Buffer, trailer: bytes) -> bytes:
        """One protected record: the header, then AEAD(content + trailer) with the header as AAD."""
        seq = self._seq
        if seq > _MAX_SEQUENCE:  # RFC 8446 §5.3: the sequence number MUST NOT wrap
            raise InternalError("record sequence number exhausted")
        self._seq = seq + 1
        inner = b"".join((content, trailer))  # TLSInnerPlaintext
        header = _HEADER.pack(_OPAQUE_TYPE, LEGACY_VERSION, len(inner) + AEAD_TAG_LEN)
        # RFC 8446 §5.3: the nonce is write_iv XOR the left-padded sequence number.
        return header + self.aead.encrypt((self._iv ^ seq).to_bytes(self._iv_len, "big"), inner, header)

    def unseen(self) -> None:
        """Take back the sequence number of a record that was skipped, not accepted."""
        self._seq -= 1

    def open(self, buffer: Buffer, end: int) -> bytes:
        """The TLSInnerPlaintext of the protected record ``buffer[:end]``, whose header is checked."""
        seq = self._seq
        if seq > _MAX_SEQUENCE:  # RFC 8446 §5.3: the sequence number MUST NOT wrap
            raise InternalError("record sequence number exhausted")
        self._seq = seq + 1
        nonce = (self._iv ^ seq).to_bytes(self._iv_len, "big")  # RFC 8446 §5.3
        try:
            # RFC 8446 §5.2: additional_data is the record header. Decrypt straight from the
            # buffer; the view is never named, so no export outlives the call.
            return self.aead.decrypt(nonce, memoryview(buffer)[_HEADER_LEN:end], buffer[:_HEADER_LEN])
        except InvalidTag:
            raise BadRecordMac() from None


def _unwrap_inner(inner: bytes) -> tuple[ContentType, bytes]:
    """Split TLSInnerPlaintext into (type, content): strip zero padding, the last byte is the type."""
    if inner and inner[-1]:
        inner_type = inner[-1]
        content = inner[:-1]
    else:
        stripped = inner.rstrip(b"\x00")
        if not stripped:  # RFC 8446 §5.4
            raise PeerMisbehaved(Misbehaviour.NO_CONTENT_TYPE_IN_INNER_PLAINTEXT)
        inner_type = stripped[-1]
        content = stripped[:-1]
    content_type = _INNER_TYPES.get(inner_type)
    if content_type is None:
        if inner_type == ContentType.CHANGE_CIPHER_SPEC:  # RFC 8446 §5: a protected CCS is fatal
            raise PeerMisbehaved(Misbehaviour.UNEXPECTED_CCS, "protected change_cipher_spec")
        raise PeerMisbehaved(Misbehaviour.UNKNOWN_CONTENT_TYPE, f"inner type {inner_type}")
    return content_type, content


MAX_PLAINTEXT = 2**14  # RFC 8446 §5.1
MAX_CIPHERTEXT = 2**14 + 256  # RFC 8446 §5.2
LEGACY_VERSION = 0x0303
LEGACY_VERSION_CLIENT_HELLO = 0x0301

_HEADER = struct.Struct("!BHH")
_HEADER_CHECK = struct.Struct("!BBxH")  # type, version major, (minor ignored), length
_HEADER_LEN = 5
_SSL2_CLIENT_HELLO = 1  # SSL 2.0 msg_type client-hello, the byte after its 2-byte record header
_MAX_SEQUENCE = 2**64 - 1
_MAX_PROTECTED = MAX_PLAINTEXT + 1 + AEAD_TAG_LEN  # RFC 8446 §5.4: TLSInnerPlaintext <= 2^14 + 1

_RECORD_TYPES: dict[int, ContentType] = {
    t: t
    for t in (
        ContentType.CHANGE_CIPHER_SPEC,
        ContentType.ALERT,
        ContentType.HANDSHAKE,
        ContentType.APPLICATION_DATA,
    )
}
_CCS = ContentType.CHANGE_CIPHER_SPEC  # enum members as constants: cheaper on the per-record path
_APPLICATION_DATA = ContentType.APPLICATION_DATA
_OPAQUE_TYPE = int(ContentType.APPLICATION_DATA)  # RFC 8446 §5.2: outer type of every protected record
# TLSInnerPlaintext trailers without padding: the real content type alone.
_TRAILERS: dict[int, bytes] = {
    t: bytes((t,)) for t in (ContentType.ALERT, ContentType.HANDSHAKE, ContentType.APPLICATION_DATA)
}
_INNER_TYPES: dict[int, ContentType] = {
    t: t for t in (ContentType.ALERT, ContentType.HANDSHAKE, ContentType.APPLICATION_DATA)
}
