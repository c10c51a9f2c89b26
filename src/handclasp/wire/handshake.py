"""Handshake messages (RFC 8446 §4) and the joiner that cuts records into messages.

Each message is an immutable dataclass with ``decode`` and ``encode`` side by side.
Field names are the RFC presentation names.  ``decode_message`` turns one
``(HandshakeType, body)`` into a typed message and raises ``DecodeError`` on any
slack or truncation; the raw bytes stay with the caller for the transcript.
Messages whose TLS 1.2 and 1.3 formats differ are separate classes (``Certificate13``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Self

from handclasp.errors import DecodeError, Misbehaviour, PeerMisbehaved, UnexpectedMessage
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    CertificateCompressionAlgorithm,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    ProtocolVersion,
    SignatureScheme,
    to_enums,
)
from handclasp.wire.extensions import (
    Extension,
    MessageKind,
    OpaqueExtension,
    decode_extensions,
    encode_extensions,
    has_extension,
)

Extensions = tuple[Extension | OpaqueExtension, ...]

# RFC 8446 §4.1.3: the ServerHello.random of a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
# RFC 8446 §4.1.3: downgrade sentinels in the last 8 bytes of ServerHello.random.
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"

DEFAULT_MAX_HANDSHAKE_MESSAGE = 64 * 1024


class HandshakeJoiner:
    """Collects handshake record payloads and yields whole messages with their raw bytes."""

    __slots__ = ("_buf", "max_message_size")

    def __init__(self, max_message_size: int = DEFAULT_MAX_HANDSHAKE_MESSAGE) -> None:
        self._buf = bytearray()
        self.max_message_size = max_message_size

    @property
    def has_pending(self) -> bool:
        return bool(self._buf)

    def feed(self, payload: bytes) -> None:
        self._buf += payload
        if len(self._buf) >= 4:
            length = int.from_bytes(self._buf[1:4], "big")
            if length > self.max_message_size:
                raise PeerMisbehaved(Misbehaviour.HANDSHAKE_MESSAGE_TOO_LARGE, f"{length} bytes")

    def messages(self) -> Iterator[tuple[HandshakeType, bytes, bytes]]:
        """Yield ``(type, body, raw)`` for each whole message buffered."""
        buf = self._buf
        while len(buf) >= 4:
            length = int.from_bytes(buf[1:4], "big")
            if length > self.max_message_size:
                raise PeerMisbehaved(Misbehaviour.HANDSHAKE_MESSAGE_TOO_LARGE, f"{length} bytes")
            if len(buf) < 4 + length:
                return
            raw = bytes(buf[: 4 + length])
            del buf[: 4 + length]
            yield HandshakeType(raw[0]), raw[4:], raw


def frame(msg_type: HandshakeType, body: bytes) -> bytes:
    """Prefix a body with its 4-byte handshake header."""
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


# --- hello messages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientHello:
    TYPE: ClassVar[HandshakeType] = HandshakeType.CLIENT_HELLO
    legacy_version: ProtocolVersion = ProtocolVersion.TLS1_2
    random: bytes
    legacy_session_id: bytes
    cipher_suites: tuple[CipherSuite, ...]
    legacy_compression_methods: bytes = b"\x00"
    extensions: Extensions

    @classmethod
    def decode(cls, r: Reader) -> Self:
        legacy_version = ProtocolVersion(r.uint16())
        random = r.bytes(32)
        legacy_session_id = r.vector(1, max_len=32)
        suites = to_enums(CipherSuite, r.uint16_list(2, min_len=2))
        compression = r.vector(1, min_len=1)
        # RFC 8446 §4.1.2: extensions may be absent only in pre-1.3 hellos.
        extensions = decode_extensions(r, MessageKind.CH) if not r.is_empty() else ()
        return cls(
            legacy_version=legacy_version,
            random=random,
            legacy_session_id=legacy_session_id,
            cipher_suites=suites,
            legacy_compression_methods=compression,
            extensions=extensions,
        )

    def encode(self, w: Writer) -> None:
        w.uint16(self.legacy_version)
        w.bytes(self.random)
        w.vector(1, self.legacy_session_id)
        w.uint16_list(2, self.cipher_suites)
        w.vector(1, self.legacy_compression_methods)
        encode_extensions(w, self.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHello:
    TYPE: ClassVar[HandshakeType] = HandshakeType.SERVER_HELLO
    legacy_version: ProtocolVersion = ProtocolVersion.TLS1_2
    random: bytes
    legacy_session_id_echo: bytes
    cipher_suite: CipherSuite
    legacy_compression_method: int = 0
    extensions: Extensions

    def encode(self, w: Writer) -> None:
        w.uint16(self.legacy_version)
        w.bytes(self.random)
        w.vector(1, self.legacy_session_id_echo)
        w.uint16(self.cipher_suite)
        w.uint8(self.legacy_compression_method)
        encode_extensions(w, self.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class HelloRetryRequest:
    """A ServerHello whose random is HELLO_RETRY_REQUEST_RANDOM (RFC 8446 §4.1.4)."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.SERVER_HELLO
    legacy_version: ProtocolVersion = ProtocolVersion.TLS1_2
    legacy_session_id_echo: bytes
    cipher_suite: CipherSuite
    legacy_compression_method: int = 0
    extensions: Extensions

    def encode(self, w: Writer) -> None:
        w.uint16(self.legacy_version)
        w.bytes(HELLO_RETRY_REQUEST_RANDOM)
        w.vector(1, self.legacy_session_id_echo)
        w.uint16(self.cipher_suite)
        w.uint8(self.legacy_compression_method)
        encode_extensions(w, self.extensions)


def _decode_server_hello(r: Reader) -> ServerHello | HelloRetryRequest:
    """A ServerHello, a HelloRetryRequest (by its random), or a TLS 1.2 ServerHello.

    RFC 8446 §4.1.3 / §4.2.1: a ServerHello negotiating TLS 1.3 carries supported_versions,
    and one without it is TLS 1.2 or older; its extensions are decoded as ``MessageKind.SH12``
    (RFC 5246 §7.4.1.4). The list is peeked for the type before any body is decoded.
    """
    legacy_version = ProtocolVersion(r.uint16())
    random = r.bytes(32)
    session_id = r.vector(1, max_len=32)
    suite = CipherSuite(r.uint16())
    compression = r.uint8()
    is_hrr = random == HELLO_RETRY_REQUEST_RANDOM
    extensions: Extensions = ()
    if not r.is_empty():
        block = r.rest()
        if is_hrr:
            kind = MessageKind.HRR
        elif has_extension(block, ExtensionType.SUPPORTED_VERSIONS):
            kind = MessageKind.SH
        else:
            kind = MessageKind.SH12
        body = Reader(block)
        extensions = decode_extensions(body, kind)
        body.expect_end()
    if is_hrr:
        return HelloRetryRequest(
            legacy_version=legacy_version,
            legacy_session_id_echo=session_id,
            cipher_suite=suite,
            legacy_compression_method=compression,
            extensions=extensions,
        )
    return ServerHello(
        legacy_version=legacy_version,
        random=random,
        legacy_session_id_echo=session_id,
        cipher_suite=suite,
        legacy_compression_method=compression,
        extensions=extensions,
    )


# --- the encrypted flight -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptedExtensions:
    TYPE: ClassVar[HandshakeType] = HandshakeType.ENCRYPTED_EXTENSIONS
    extensions: Extensions

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(extensions=decode_extensions(r, MessageKind.EE))

    def encode(self, w: Writer) -> None:
        encode_extensions(w, self.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRequest13:
    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_REQUEST
    certificate_request_context: bytes
    extensions: Extensions

    @classmethod
    def decode(cls, r: Reader) -> Self:
        context = r.vector(1)
        return cls(certificate_request_context=context, extensions=decode_extensions(r, MessageKind.CR))

    def encode(self, w: Writer) -> None:
        w.vector(1, self.certificate_request_context)
        encode_extensions(w, self.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateEntry:
    cert_data: bytes
    extensions: Extensions = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate13:
    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE
    certificate_request_context: bytes
    certificate_list: tuple[CertificateEntry, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        context = r.vector(1)
        entries: list[CertificateEntry] = []
        with r.block(3) as body:
            while not body.is_empty():
                cert_data = body.vector(3, min_len=1)
                entries.append(CertificateEntry(cert_data=cert_data, extensions=decode_extensions(body, MessageKind.CT)))
        return cls(certificate_request_context=context, certificate_list=tuple(entries))

    def encode(self, w: Writer) -> None:
        w.vector(1, self.certificate_request_context)
        with w.block(3):
            for entry in self.certificate_list:
                w.vector(3, entry.cert_data)
                encode_extensions(w, entry.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompressedCertificate:
    """RFC 8879 §4: a Certificate message body, compressed; it takes the Certificate's place."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.COMPRESSED_CERTIFICATE
    algorithm: CertificateCompressionAlgorithm
    uncompressed_length: int
    compressed_certificate_message: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        algorithm = CertificateCompressionAlgorithm(r.uint16())
        uncompressed_length = r.uint24()
        return cls(
            algorithm=algorithm,
            uncompressed_length=uncompressed_length,
            compressed_certificate_message=r.vector(3, min_len=1),
        )

    def encode(self, w: Writer) -> None:
        w.uint16(self.algorithm)
        w.uint24(self.uncompressed_length)
        w.vector(3, self.compressed_certificate_message)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateVerify:
    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_VERIFY
    algorithm: SignatureScheme
    signature: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        algorithm = SignatureScheme(r.uint16())
        # RFC 8446 §4.4.3: signature<0..2^16-1>; an empty one is well-formed and fails verification.
        return cls(algorithm=algorithm, signature=r.vector(2))

    def encode(self, w: Writer) -> None:
        w.uint16(self.algorithm)
        w.vector(2, self.signature)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    TYPE: ClassVar[HandshakeType] = HandshakeType.FINISHED
    verify_data: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(verify_data=r.rest())

    def encode(self, w: Writer) -> None:
        w.bytes(self.verify_data)


# --- post-handshake -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSessionTicket13:
    TYPE: ClassVar[HandshakeType] = HandshakeType.NEW_SESSION_TICKET
    ticket_lifetime: int
    ticket_age_add: int
    ticket_nonce: bytes
    ticket: bytes
    extensions: Extensions = ()

    @classmethod
    def decode(cls, r: Reader) -> Self:
        lifetime = r.uint32()
        age_add = r.uint32()
        nonce = r.vector(1)
        ticket = r.vector(2, min_len=1)
        return cls(
            ticket_lifetime=lifetime,
            ticket_age_add=age_add,
            ticket_nonce=nonce,
            ticket=ticket,
            extensions=decode_extensions(r, MessageKind.NST),
        )

    def encode(self, w: Writer) -> None:
        w.uint32(self.ticket_lifetime)
        w.uint32(self.ticket_age_add)
        w.vector(1, self.ticket_nonce)
        w.vector(2, self.ticket)
        encode_extensions(w, self.extensions)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndOfEarlyData:
    TYPE: ClassVar[HandshakeType] = HandshakeType.END_OF_EARLY_DATA

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode(self, w: Writer) -> None:
        pass


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyUpdate:
    TYPE: ClassVar[HandshakeType] = HandshakeType.KEY_UPDATE
    request_update: KeyUpdateRequest

    @classmethod
    def decode(cls, r: Reader) -> Self:
        value = r.uint8()
        # RFC 8446 §4.6.3: any other value is illegal_parameter.
        if value not in (0, 1):
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_UPDATE, str(value))
        return cls(request_update=KeyUpdateRequest(value))

    def encode(self, w: Writer) -> None:
        w.uint8(self.request_update)


Message = (
    ClientHello
    | ServerHello
    | HelloRetryRequest
    | EncryptedExtensions
    | CertificateRequest13
    | Certificate13
    | CompressedCertificate
    | CertificateVerify
    | Finished
    | NewSessionTicket13
    | EndOfEarlyData
    | KeyUpdate
)

_TLS13_DECODERS = {
    HandshakeType.CLIENT_HELLO: ClientHello.decode,
    HandshakeType.SERVER_HELLO: _decode_server_hello,
    HandshakeType.ENCRYPTED_EXTENSIONS: EncryptedExtensions.decode,
    HandshakeType.CERTIFICATE_REQUEST: CertificateRequest13.decode,
    HandshakeType.CERTIFICATE: Certificate13.decode,
    HandshakeType.COMPRESSED_CERTIFICATE: CompressedCertificate.decode,
    HandshakeType.CERTIFICATE_VERIFY: CertificateVerify.decode,
    HandshakeType.FINISHED: Finished.decode,
    HandshakeType.NEW_SESSION_TICKET: NewSessionTicket13.decode,
    HandshakeType.END_OF_EARLY_DATA: EndOfEarlyData.decode,
    HandshakeType.KEY_UPDATE: KeyUpdate.decode,
}


def decode_message(msg_type: HandshakeType, body: bytes) -> Message:
    """Decode one TLS 1.3 handshake message body; the whole body must be used."""
    decoder = _TLS13_DECODERS.get(msg_type)
    if decoder is None:
        # RFC 8446 §4: an unknown or TLS 1.2-only handshake type is unexpected_message.
        raise UnexpectedMessage(("a TLS 1.3 handshake message",), msg_type.name)
    r = Reader(body)
    msg = decoder(r)
    if not r.is_empty():
        raise DecodeError(f"trailing bytes in {msg_type.name}")
    return msg


def encode_message(msg: Message) -> bytes:
    """The full handshake message, header included, as it goes into the transcript."""
    w = Writer()
    msg.encode(w)
    return frame(msg.TYPE, w.getvalue())
