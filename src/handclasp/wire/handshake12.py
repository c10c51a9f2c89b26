"""TLS 1.0-1.2 handshake messages (RFC 5246 §7.4, RFC 2246/4346 §7.4, RFC 8422, RFC 5077, RFC 6066).

Same shape as ``wire/handshake.py``: immutable dataclasses with ``decode`` and ``encode``
side by side, RFC presentation names in snake_case.  ClientHello, ServerHello and
Finished are the classes of ``handshake.py`` (one wire format for all versions);
CertificateVerify12 is the 1.3 CertificateVerify (same wire).  Where TLS 1.2 and
1.0/1.1 differ (CertificateRequest, CertificateVerify, digitally-signed) there are
two classes, chosen by ``decode_message12``'s version, never by an ``if`` in ``decode``.

The key exchange messages stay raw (``body``): their layout depends on the negotiated
key exchange, so the states parse and build them with ``decode_server_key_exchange`` /
``encode_server_key_exchange`` and ``decode_client_key_exchange`` /
``encode_client_key_exchange``, which dispatch on the suite's KeyExchangeAlgorithm to
the per-format pieces (``decode_ecdhe_params``, ``decode_dhe_params``, ``DigitallySigned``,
``ecdhe_client_public``, ``dhe_client_public``, ``rsa_encrypted_premaster``).  The only
thing taken from crypto/ is that enum (pure data); key pairs are read through the
``ServerKeyShare`` protocols, so this module imports no crypto code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self, runtime_checkable

from handclasp.crypto.suites12 import KeyExchangeAlgorithm
from handclasp.errors import DecodeError, Misbehaviour, PeerMisbehaved, UnexpectedMessage
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    CertificateStatusType,
    ClientCertificateType,
    ECCurveType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from handclasp.wire.handshake import (
    CertificateVerify,
    ClientHello,
    Finished,
    HelloRetryRequest,
    ServerHello,
    _decode_server_hello,
    frame,
)

# RFC 5246 §7.4.8: digitally-signed CertificateVerify, the same wire as TLS 1.3's (RFC 8446 §4.4.3).
CertificateVerify12 = CertificateVerify


# --- messages without a body --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HelloRequest:
    """RFC 5246 §7.4.1.1: the server asks to renegotiate (refused here: a no_renegotiation warning, §7.2.2)."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.HELLO_REQUEST

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode(self, w: Writer) -> None:
        pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerHelloDone:
    """RFC 5246 §7.4.5."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.SERVER_HELLO_DONE

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode(self, w: Writer) -> None:
        pass


# --- certificates --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate12:
    """RFC 5246 §7.4.2: ``ASN.1Cert certificate_list<0..2^24-1>``, ``opaque ASN.1Cert<1..2^24-1>``."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE
    certificate_list: tuple[bytes, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        certs: list[bytes] = []
        with r.block(3) as body:
            while not body.is_empty():
                certs.append(body.vector(3, min_len=1))
        return cls(certificate_list=tuple(certs))

    def encode(self, w: Writer) -> None:
        with w.block(3):
            for cert in self.certificate_list:
                w.vector(3, cert)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateStatus:
    """RFC 6066 §8: ``CertificateStatusType status_type; opaque OCSPResponse<1..2^24-1>``.

    RFC 6961's ocsp_multi has a 3-byte-prefixed body too, so any status_type is kept opaque.
    """

    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_STATUS
    status_type: CertificateStatusType
    ocsp_response: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        status_type = CertificateStatusType(r.uint8())
        return cls(status_type=status_type, ocsp_response=r.vector(3, min_len=1))

    def encode(self, w: Writer) -> None:
        w.uint8(self.status_type)
        w.vector(3, self.ocsp_response)


def _decode_distinguished_names(r: Reader) -> tuple[bytes, ...]:
    # RFC 5246 §7.4.4: DistinguishedName certificate_authorities<0..2^16-1>; opaque DistinguishedName<1..2^16-1>.
    names: list[bytes] = []
    with r.block(2) as body:
        while not body.is_empty():
            names.append(body.vector(2, min_len=1))
    return tuple(names)


def _encode_distinguished_names(w: Writer, names: tuple[bytes, ...]) -> None:
    with w.block(2):
        for name in names:
            w.vector(2, name)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRequest12:
    """RFC 5246 §7.4.4 (TLS 1.2)."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_REQUEST
    certificate_types: tuple[ClientCertificateType, ...]
    supported_signature_algorithms: tuple[SignatureScheme, ...]
    certificate_authorities: tuple[bytes, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        types = tuple(ClientCertificateType(t) for t in r.vector(1, min_len=1))
        # RFC 5246 §7.4.1.4.1: SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>.
        schemes = tuple(SignatureScheme(s) for s in r.uint16_list(2, min_len=2))
        return cls(
            certificate_types=types,
            supported_signature_algorithms=schemes,
            certificate_authorities=_decode_distinguished_names(r),
        )

    def encode(self, w: Writer) -> None:
        w.vector(1, bytes(self.certificate_types))
        w.uint16_list(2, self.supported_signature_algorithms)
        _encode_distinguished_names(w, self.certificate_authorities)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRequest10:
    """RFC 2246 / RFC 4346 §7.4.4 (TLS 1.0/1.1): no supported_signature_algorithms."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_REQUEST
    certificate_types: tuple[ClientCertificateType, ...]
    certificate_authorities: tuple[bytes, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        types = tuple(ClientCertificateType(t) for t in r.vector(1, min_len=1))
        return cls(certificate_types=types, certificate_authorities=_decode_distinguished_names(r))

    def encode(self, w: Writer) -> None:
        w.vector(1, bytes(self.certificate_types))
        _encode_distinguished_names(w, self.certificate_authorities)


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateVerify10:
    """RFC 2246 / RFC 4346 §7.4.8 (TLS 1.0/1.1): the signature alone (MD5+SHA-1 or SHA-1 implied)."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE_VERIFY
    signature: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(signature=r.vector(2))

    def encode(self, w: Writer) -> None:
        w.vector(2, self.signature)


# --- ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4) ---------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitallySigned:
    """RFC 5246 §4.7: ``SignatureAndHashAlgorithm algorithm; opaque signature<0..2^16-1>``.

    TLS 1.0/1.1 have no algorithm field (``algorithm`` is None): use ``decode10``.
    """

    algorithm: SignatureScheme | None
    signature: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        """TLS 1.2."""
        algorithm = SignatureScheme(r.uint16())
        return cls(algorithm=algorithm, signature=r.vector(2))

    @classmethod
    def decode10(cls, r: Reader) -> Self:
        """TLS 1.0/1.1 (RFC 2246 §4.7, RFC 4346 §4.7)."""
        return cls(algorithm=None, signature=r.vector(2))

    def encode(self, w: Writer) -> None:
        if self.algorithm is not None:
            w.uint16(self.algorithm)
        w.vector(2, self.signature)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerECDHParams:
    """RFC 8422 §5.4: ``ECParameters curve_params; ECPoint public`` (named curves only)."""

    curve_type: ECCurveType = ECCurveType.NAMED_CURVE
    named_curve: NamedGroup
    public: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        curve_type = ECCurveType(r.uint8())
        # RFC 8422 §5.4: explicit_prime / explicit_char2 are deprecated; a client offers only named
        # curves, so anything else names a group it did not offer (illegal_parameter, as OpenSSL).
        if curve_type != ECCurveType.NAMED_CURVE:
            raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_GROUP, curve_type.name)
        named_curve = NamedGroup(r.uint16())
        # RFC 8422 §5.4: struct { opaque point <1..2^8-1>; } ECPoint.
        return cls(curve_type=curve_type, named_curve=named_curve, public=r.vector(1, min_len=1))

    def encode(self, w: Writer) -> None:
        w.uint8(self.curve_type)
        w.uint16(self.named_curve)
        w.vector(1, self.public)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerDHParams:
    """RFC 5246 §7.4.3: ``opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>; opaque dh_Ys<1..2^16-1>``.

    Kept as the bytes on the wire (big-endian, leading zeros and all) so they re-encode exactly;
    ``int.from_bytes(x, "big")`` gives the numbers.
    """

    dh_p: bytes
    dh_g: bytes
    dh_ys: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        dh_p = r.vector(2, min_len=1)
        dh_g = r.vector(2, min_len=1)
        return cls(dh_p=dh_p, dh_g=dh_g, dh_ys=r.vector(2, min_len=1))

    def encode(self, w: Writer) -> None:
        w.vector(2, self.dh_p)
        w.vector(2, self.dh_g)
        w.vector(2, self.dh_ys)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()


def decode_ecdhe_params(r: Reader) -> tuple[ServerECDHParams, bytes]:
    """The ServerECDHParams at ``r`` and their bytes, which ``signed_params`` signs (RFC 8422 §5.4).

    The encoding has one form (fixed-width fields, vectors kept as read), so the bytes
    re-encoded are the bytes received.
    """
    params = ServerECDHParams.decode(r)
    return params, params.to_bytes()


def decode_dhe_params(r: Reader) -> tuple[ServerDHParams, bytes]:
    """The ServerDHParams at ``r`` and their bytes, which ``signed_params`` signs (RFC 5246 §7.4.3)."""
    params = ServerDHParams.decode(r)
    return params, params.to_bytes()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerKeyExchange:
    """RFC 5246 §7.4.3: params + signed_params, laid out by the key exchange: kept raw.

    Client side: ``decode_server_key_exchange(ske.body, kx, version)``. Server side:
    ``ServerKeyExchange(body=encode_server_key_exchange(...))`` or ``from_params(params, signed)``.
    """

    TYPE: ClassVar[HandshakeType] = HandshakeType.SERVER_KEY_EXCHANGE
    body: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(body=r.rest())

    def encode(self, w: Writer) -> None:
        w.bytes(self.body)

    @classmethod
    def from_params(cls, params: ServerECDHParams | ServerDHParams, signed: DigitallySigned) -> Self:
        return cls(body=params.to_bytes() + signed.to_bytes())


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerKeyExchangeParams:
    """A parsed ServerKeyExchange body: the params, their bytes as signed, and the signature."""

    params: ServerECDHParams | ServerDHParams
    params_bytes: bytes
    signed: DigitallySigned

    @property
    def named_group(self) -> NamedGroup | None:
        """The ECDHE curve (None for DHE, whose group the wire does not name)."""
        return self.params.named_curve if isinstance(self.params, ServerECDHParams) else None

    @property
    def dh_p(self) -> int | None:
        return int.from_bytes(self.params.dh_p, "big") if isinstance(self.params, ServerDHParams) else None

    @property
    def dh_g(self) -> int | None:
        return int.from_bytes(self.params.dh_g, "big") if isinstance(self.params, ServerDHParams) else None

    @property
    def public(self) -> bytes:
        """The server's ECDHE point or dh_Ys."""
        return self.params.public if isinstance(self.params, ServerECDHParams) else self.params.dh_ys


def decode_server_key_exchange(body: bytes, kx: KeyExchangeAlgorithm, version: ProtocolVersion) -> ServerKeyExchangeParams:
    """Parse a ServerKeyExchange body for an ECDHE or DHE suite (RSA key exchange sends none: caller bug).

    ``version`` picks the digitally-signed form: TLS 1.2 names the algorithm, 1.0/1.1 do not.
    """
    r = Reader(body)
    params: ServerECDHParams | ServerDHParams
    if kx is KeyExchangeAlgorithm.ECDHE:
        params, params_bytes = decode_ecdhe_params(r)
    elif kx is KeyExchangeAlgorithm.DHE:
        params, params_bytes = decode_dhe_params(r)
    else:
        raise ValueError(f"no ServerKeyExchange for {kx.name} key exchange")
    signed = DigitallySigned.decode(r) if version >= ProtocolVersion.TLS1_2 else DigitallySigned.decode10(r)
    r.expect_end()
    return ServerKeyExchangeParams(params=params, params_bytes=params_bytes, signed=signed)


class ServerKeyShare(Protocol):
    """What ``encode_server_key_exchange`` reads from the server's key pair (crypto.groups.KeyExchange)."""

    group: NamedGroup
    public_bytes: bytes


@runtime_checkable
class ServerDhKeyShare(Protocol):
    """A DHE key pair also knows its prime and generator (crypto.groups.DheKeyExchange)."""

    group: NamedGroup
    public_bytes: bytes
    p: int
    g: int


def encode_server_key_exchange(
    kx: KeyExchangeAlgorithm,
    exchange: ServerKeyShare,
    scheme: SignatureScheme,
    sign: Callable[[bytes], bytes],
    version: ProtocolVersion,
) -> bytes:
    """The ServerKeyExchange body: params, then ``sign(params_bytes)`` as digitally-signed.

    ``sign`` gets the params bytes and signs client_random + server_random + them (RFC 5246 §7.4.3);
    ``scheme`` goes on the wire only in TLS 1.2.
    """
    params: ServerECDHParams | ServerDHParams
    if kx is KeyExchangeAlgorithm.ECDHE:
        params = ServerECDHParams(named_curve=exchange.group, public=exchange.public_bytes)
    elif kx is KeyExchangeAlgorithm.DHE and isinstance(exchange, ServerDhKeyShare):
        params = ServerDHParams(dh_p=_minimal(exchange.p), dh_g=_minimal(exchange.g), dh_ys=exchange.public_bytes)
    else:
        raise ValueError(f"no ServerKeyExchange for {kx.name} with {type(exchange).__name__}")
    params_bytes = params.to_bytes()
    algorithm = scheme if version >= ProtocolVersion.TLS1_2 else None
    return params_bytes + DigitallySigned(algorithm=algorithm, signature=sign(params_bytes)).to_bytes()


def _minimal(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


# --- ClientKeyExchange (RFC 5246 §7.4.7, RFC 8422 §5.7) --------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientKeyExchange:
    """RFC 5246 §7.4.7: ``exchange_keys``, laid out by the key exchange: kept raw in ``body``.

    Read it with ``decode_client_key_exchange`` (or ``ecdhe_client_public`` / ``dhe_client_public`` /
    ``rsa_encrypted_premaster``); build the body with ``encode_client_key_exchange``.
    """

    TYPE: ClassVar[HandshakeType] = HandshakeType.CLIENT_KEY_EXCHANGE
    body: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(body=r.rest())

    def encode(self, w: Writer) -> None:
        w.bytes(self.body)


def decode_client_key_exchange(body: bytes, kx: KeyExchangeAlgorithm) -> bytes:
    """The client's ECDHE point, DHE dh_Yc, or RSA-encrypted premaster, by the negotiated key exchange."""
    if kx is KeyExchangeAlgorithm.ECDHE:
        return ecdhe_client_public(body)
    if kx is KeyExchangeAlgorithm.DHE:
        return dhe_client_public(body)
    return rsa_encrypted_premaster(body)


def encode_client_key_exchange(kx: KeyExchangeAlgorithm, value: bytes) -> bytes:
    """The ClientKeyExchange body for our public value (ECDHE point / dh_Yc) or encrypted premaster."""
    w = Writer()
    # RFC 8422 §5.7: point<1..2^8-1>; RFC 5246 §7.4.7.2 dh_Yc<1..2^16-1>, §7.4.7.1 opaque<0..2^16-1>.
    w.vector(1 if kx is KeyExchangeAlgorithm.ECDHE else 2, value)
    return w.getvalue()


def ecdhe_client_public(body: bytes) -> bytes:
    """RFC 8422 §5.7: ClientECDiffieHellmanPublic ``opaque point <1..2^8-1>`` (explicit form)."""
    r = Reader(body)
    point = r.vector(1, min_len=1)
    r.expect_end()
    return point


def dhe_client_public(body: bytes) -> bytes:
    """RFC 5246 §7.4.7.2: ClientDiffieHellmanPublic ``opaque dh_Yc<1..2^16-1>`` (explicit form)."""
    r = Reader(body)
    dh_yc = r.vector(2, min_len=1)
    r.expect_end()
    return dh_yc


def rsa_encrypted_premaster(body: bytes, version: ProtocolVersion = ProtocolVersion.TLS1_2) -> bytes:
    """RFC 5246 §7.4.7.1: EncryptedPreMasterSecret as ``opaque<0..2^16-1>``.

    TLS 1.0 (RFC 2246 §7.4.7.1), 1.1 and 1.2 all carry the 2-byte length; only SSL 3.0 did
    not, and SSL 3.0 is not spoken here (``version`` below TLS 1.0 is a caller bug).
    """
    if version < ProtocolVersion.TLS1_0:
        raise ValueError(f"no ClientKeyExchange format for {version.name}")
    r = Reader(body)
    encrypted = r.vector(2)
    r.expect_end()
    return encrypted


# --- NewSessionTicket (RFC 5077 §3.3) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSessionTicket12:
    """RFC 5077 §3.3: ``uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>``."""

    TYPE: ClassVar[HandshakeType] = HandshakeType.NEW_SESSION_TICKET
    ticket_lifetime_hint: int
    ticket: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        hint = r.uint32()
        return cls(ticket_lifetime_hint=hint, ticket=r.vector(2))

    def encode(self, w: Writer) -> None:
        w.uint32(self.ticket_lifetime_hint)
        w.vector(2, self.ticket)


# --- ChangeCipherSpec (a record, not a handshake message) ------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeCipherSpec:
    """RFC 5246 §7.1: the one-byte change_cipher_spec record, handed to the TLS 1.2 states as a message."""

    PAYLOAD: ClassVar[bytes] = b"\x01"

    @classmethod
    def from_payload(cls, payload: bytes) -> Self:
        # RFC 5246 §7.1: enum { change_cipher_spec(1), (255) } type; anything else is malformed.
        if payload != cls.PAYLOAD:
            raise PeerMisbehaved(Misbehaviour.INVALID_CCS, payload[:4].hex())
        return cls()

    def to_payload(self) -> bytes:
        return self.PAYLOAD


# --- dispatch ----------------------------------------------------------------------------------------

Message12 = (
    ClientHello
    | ServerHello
    | HelloRetryRequest
    | HelloRequest
    | Certificate12
    | CertificateStatus
    | ServerKeyExchange
    | CertificateRequest12
    | CertificateRequest10
    | ServerHelloDone
    | ClientKeyExchange
    | CertificateVerify12
    | CertificateVerify10
    | Finished
    | NewSessionTicket12
)

_Decoder = Callable[[Reader], Message12]

_COMMON: dict[HandshakeType, _Decoder] = {
    HandshakeType.HELLO_REQUEST: HelloRequest.decode,
    HandshakeType.CLIENT_HELLO: ClientHello.decode,
    HandshakeType.SERVER_HELLO: _decode_server_hello,
    HandshakeType.NEW_SESSION_TICKET: NewSessionTicket12.decode,
    HandshakeType.CERTIFICATE: Certificate12.decode,
    HandshakeType.SERVER_KEY_EXCHANGE: ServerKeyExchange.decode,
    HandshakeType.SERVER_HELLO_DONE: ServerHelloDone.decode,
    HandshakeType.CLIENT_KEY_EXCHANGE: ClientKeyExchange.decode,
    HandshakeType.FINISHED: Finished.decode,
    HandshakeType.CERTIFICATE_STATUS: CertificateStatus.decode,
}
_TLS12_DECODERS: dict[HandshakeType, _Decoder] = {
    **_COMMON,
    HandshakeType.CERTIFICATE_REQUEST: CertificateRequest12.decode,
    HandshakeType.CERTIFICATE_VERIFY: CertificateVerify12.decode,
}
_TLS10_DECODERS: dict[HandshakeType, _Decoder] = {
    **_COMMON,
    HandshakeType.CERTIFICATE_REQUEST: CertificateRequest10.decode,
    HandshakeType.CERTIFICATE_VERIFY: CertificateVerify10.decode,
}
_DECODERS_BY_VERSION: dict[ProtocolVersion, dict[HandshakeType, _Decoder]] = {
    ProtocolVersion.TLS1_0: _TLS10_DECODERS,
    ProtocolVersion.TLS1_1: _TLS10_DECODERS,
    ProtocolVersion.TLS1_2: _TLS12_DECODERS,
}


def decode_message12(msg_type: HandshakeType, body: bytes, version: ProtocolVersion) -> Message12:
    """Decode one TLS 1.0-1.2 handshake message body; the whole body must be used.

    ``version`` is the negotiated version (TLS 1.0, 1.1 or 1.2); anything else is a caller bug.
    """
    table = _DECODERS_BY_VERSION.get(version)
    if table is None:
        raise ValueError(f"decode_message12 does not speak {version.name}")
    decoder = table.get(msg_type)
    if decoder is None:
        # RFC 5246 §7.4: a type not defined for TLS 1.2 (or a TLS 1.3-only one) is unexpected_message.
        raise UnexpectedMessage(("a TLS 1.2 handshake message",), msg_type.name)
    r = Reader(body)
    msg = decoder(r)
    if not r.is_empty():
        raise DecodeError(f"trailing bytes in {msg_type.name}")
    return msg


def encode_message12(msg: Message12) -> bytes:
    """The full handshake message, header included, as it goes into the transcript."""
    w = Writer()
    msg.encode(w)
    return frame(msg.TYPE, w.getvalue())
