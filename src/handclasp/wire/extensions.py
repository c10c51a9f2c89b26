"""TLS extensions: one dataclass per (extension, message) wire format, one registry.

The ``EXTENSIONS`` registry maps ``(ExtensionType, MessageKind)`` to the class that
decodes that extension in that message.  ``decode_extensions`` is the one place
that rejects duplicates (RFC 8446 §4.2), misplaced extensions (illegal_parameter),
unknown extensions in messages where the client never offers them
(unsupported_extension), and a ``pre_shared_key`` that is not last (§4.2.11).
Unknown extensions are kept, raw, in ClientHello, CertificateRequest and
NewSessionTicket, where the receiver must ignore them.

A TLS 1.2 ServerHello (``MessageKind.SH12``: no supported_versions) has its own
column in the registry, so a TLS 1.3-only extension there (key_share,
pre_shared_key) is illegal_parameter and an unknown one unsupported_extension.

The extension classes of a family live next door (``extensions12``: TLS 1.2 hello extensions;
``certext``: certificate compression, OCSP status, SCTs; ``extbase``: what they share) and are
re-exported here, so every extension is importable from this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, Self, TypeVar

from handclasp.errors import DecodeError, Misbehaviour, PeerMisbehaved
from handclasp.wire.certext import (
    CertificateCompressionAlgorithms as CertificateCompressionAlgorithms,
    CertificateStatus as CertificateStatus,
    CertificateStatusRequest as CertificateStatusRequest,
    SignedCertificateTimestampList as SignedCertificateTimestampList,
    SignedCertificateTimestampRequest as SignedCertificateTimestampRequest,
)
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    ExtensionType,
    NamedGroup,
    NameType,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
    to_enums,
)
from handclasp.wire.extbase import (
    Extension as Extension,
    MessageKind as MessageKind,
    Typed,
)
from handclasp.wire.extensions12 import (
    ECPointFormats as ECPointFormats,
    EncryptThenMac as EncryptThenMac,
    ExtendedMasterSecret as ExtendedMasterSecret,
    RenegotiationInfo as RenegotiationInfo,
    SessionTicketExt as SessionTicketExt,
)

# --- server_name (RFC 6066 §3) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerNameList(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.SERVER_NAME
    host_name: str

    @classmethod
    def decode(cls, r: Reader) -> Self:
        host: str | None = None
        with r.block(2, min_len=1) as names:
            while not names.is_empty():
                name_type = names.uint8()
                value = names.vector(2, min_len=1)
                if name_type == NameType.HOST_NAME:
                    # RFC 6066 §3: at most one name of each type.
                    if host is not None:
                        raise PeerMisbehaved(Misbehaviour.BAD_SERVER_NAME, "two host names")
                    try:
                        host = value.decode("ascii")
                    except UnicodeDecodeError:
                        raise PeerMisbehaved(Misbehaviour.BAD_SERVER_NAME, "non-ASCII host name") from None
        if host is None:
            raise PeerMisbehaved(Misbehaviour.BAD_SERVER_NAME, "no host_name entry")
        return cls(host_name=host)

    def encode_body(self, w: Writer) -> None:
        with w.block(2):
            w.uint8(NameType.HOST_NAME)
            w.vector(2, self.host_name.encode("ascii"))


@dataclass(frozen=True, slots=True)
class ServerNameAck(Typed):
    """The empty server_name a server returns when it used the name (RFC 6066 §3)."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.SERVER_NAME

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode_body(self, w: Writer) -> None:
        pass


# --- simple single-value extensions --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaxFragmentLengthExt(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.MAX_FRAGMENT_LENGTH
    code: int

    @classmethod
    def decode(cls, r: Reader) -> Self:
        code = r.uint8()
        # RFC 6066 §4: only 1..4 are defined.
        if not 1 <= code <= 4:
            raise PeerMisbehaved(Misbehaviour.BAD_MAX_FRAGMENT_LENGTH, str(code))
        return cls(code=code)

    def encode_body(self, w: Writer) -> None:
        w.uint8(self.code)


@dataclass(frozen=True, slots=True)
class RecordSizeLimit(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.RECORD_SIZE_LIMIT
    limit: int

    @classmethod
    def decode(cls, r: Reader) -> Self:
        limit = r.uint16()
        # RFC 8449 §4: a value under 64 is illegal_parameter.
        if limit < 64:
            raise PeerMisbehaved(Misbehaviour.BAD_RECORD_SIZE_LIMIT, str(limit))
        return cls(limit=limit)

    def encode_body(self, w: Writer) -> None:
        w.uint16(self.limit)


@dataclass(frozen=True, slots=True)
class SupportedGroups(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.SUPPORTED_GROUPS
    groups: tuple[NamedGroup, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(groups=to_enums(NamedGroup, r.uint16_list(2, min_len=2)))

    def encode_body(self, w: Writer) -> None:
        w.uint16_list(2, self.groups)


@dataclass(frozen=True, slots=True)
class SignatureAlgorithms(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.SIGNATURE_ALGORITHMS
    schemes: tuple[SignatureScheme, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(schemes=to_enums(SignatureScheme, r.uint16_list(2, min_len=2)))

    def encode_body(self, w: Writer) -> None:
        w.uint16_list(2, self.schemes)


@dataclass(frozen=True, slots=True)
class SignatureAlgorithmsCert(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.SIGNATURE_ALGORITHMS_CERT
    schemes: tuple[SignatureScheme, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(schemes=to_enums(SignatureScheme, r.uint16_list(2, min_len=2)))

    def encode_body(self, w: Writer) -> None:
        w.uint16_list(2, self.schemes)


@dataclass(frozen=True, slots=True)
class ApplicationLayerProtocolNegotiation(Typed):
    """RFC 7301 §3.1: ProtocolNameList; the server's answer carries exactly one name."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION
    protocols: tuple[bytes, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        names: list[bytes] = []
        with r.block(2, min_len=2) as body:
            while not body.is_empty():
                name = body.vector(1)
                if not name:
                    raise PeerMisbehaved(Misbehaviour.EMPTY_ALPN)
                names.append(name)
        return cls(protocols=tuple(names))

    def encode_body(self, w: Writer) -> None:
        with w.block(2):
            for name in self.protocols:
                w.vector(1, name)


@dataclass(frozen=True, slots=True)
class SupportedVersionsClientHello(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.SUPPORTED_VERSIONS
    versions: tuple[ProtocolVersion, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        raw = r.vector(1, min_len=2, max_len=254)
        if len(raw) % 2:
            raise DecodeError("odd supported_versions length")
        return cls(versions=to_enums(ProtocolVersion, (int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))))

    def encode_body(self, w: Writer) -> None:
        w.uint16_list(1, self.versions)


@dataclass(frozen=True, slots=True)
class SupportedVersionsServerHello(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.SUPPORTED_VERSIONS
    selected_version: ProtocolVersion

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(selected_version=ProtocolVersion(r.uint16()))

    def encode_body(self, w: Writer) -> None:
        w.uint16(self.selected_version)


@dataclass(frozen=True, slots=True)
class Cookie(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.COOKIE
    cookie: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(cookie=r.vector(2, min_len=1))

    def encode_body(self, w: Writer) -> None:
        w.vector(2, self.cookie)


@dataclass(frozen=True, slots=True)
class PskKeyExchangeModes(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.PSK_KEY_EXCHANGE_MODES
    modes: tuple[PskKeyExchangeMode, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(modes=tuple(PskKeyExchangeMode(m) for m in r.vector(1, min_len=1)))

    def encode_body(self, w: Writer) -> None:
        w.vector(1, bytes(self.modes))


@dataclass(frozen=True, slots=True)
class EarlyDataIndication(Typed):
    """Empty in ClientHello and EncryptedExtensions."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.EARLY_DATA

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode_body(self, w: Writer) -> None:
        pass


@dataclass(frozen=True, slots=True)
class EarlyDataTicket(Typed):
    """NewSessionTicket's early_data: max_early_data_size."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.EARLY_DATA
    max_early_data_size: int

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(max_early_data_size=r.uint32())

    def encode_body(self, w: Writer) -> None:
        w.uint32(self.max_early_data_size)


@dataclass(frozen=True, slots=True)
class PostHandshakeAuth(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.POST_HANDSHAKE_AUTH

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode_body(self, w: Writer) -> None:
        pass


# --- key_share (RFC 8446 §4.2.8) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyShareEntry:
    group: NamedGroup
    key_exchange: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        group = NamedGroup(r.uint16())
        return cls(group=group, key_exchange=r.vector(2, min_len=1))

    def encode(self, w: Writer) -> None:
        w.uint16(self.group)
        w.vector(2, self.key_exchange)


@dataclass(frozen=True, slots=True)
class KeyShareClientHello(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.KEY_SHARE
    client_shares: tuple[KeyShareEntry, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        shares: list[KeyShareEntry] = []
        with r.block(2) as body:
            while not body.is_empty():
                shares.append(KeyShareEntry.decode(body))
        # RFC 8446 §4.2.8: clients MUST NOT offer two shares for one group.
        if len({s.group for s in shares}) != len(shares):
            raise PeerMisbehaved(Misbehaviour.DUPLICATE_KEY_SHARE)
        return cls(client_shares=tuple(shares))

    def encode_body(self, w: Writer) -> None:
        with w.block(2):
            for share in self.client_shares:
                share.encode(w)


@dataclass(frozen=True, slots=True)
class KeyShareServerHello(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.KEY_SHARE
    server_share: KeyShareEntry

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(server_share=KeyShareEntry.decode(r))

    def encode_body(self, w: Writer) -> None:
        self.server_share.encode(w)


@dataclass(frozen=True, slots=True)
class KeyShareHelloRetryRequest(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.KEY_SHARE
    selected_group: NamedGroup

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(selected_group=NamedGroup(r.uint16()))

    def encode_body(self, w: Writer) -> None:
        w.uint16(self.selected_group)


# --- pre_shared_key (RFC 8446 §4.2.11); parsed now, used by resumption ------------------------


@dataclass(frozen=True, slots=True)
class PskIdentity:
    identity: bytes
    obfuscated_ticket_age: int


@dataclass(frozen=True, slots=True)
class OfferedPsks(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.PRE_SHARED_KEY
    identities: tuple[PskIdentity, ...]
    binders: tuple[bytes, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        identities: list[PskIdentity] = []
        with r.block(2, min_len=7) as body:
            while not body.is_empty():
                identity = body.vector(2, min_len=1)
                identities.append(PskIdentity(identity=identity, obfuscated_ticket_age=body.uint32()))
        binders: list[bytes] = []
        with r.block(2, min_len=33) as body:
            while not body.is_empty():
                binders.append(body.vector(1, min_len=32))
        # RFC 8446 §4.2.11: one binder per offered identity.
        if len(binders) != len(identities):
            raise PeerMisbehaved(Misbehaviour.PSK_BINDERS_MISMATCH)
        return cls(identities=tuple(identities), binders=tuple(binders))

    def encode_body(self, w: Writer) -> None:
        with w.block(2):
            for ident in self.identities:
                w.vector(2, ident.identity)
                w.uint32(ident.obfuscated_ticket_age)
        with w.block(2):
            for binder in self.binders:
                w.vector(1, binder)


@dataclass(frozen=True, slots=True)
class SelectedPsk(Typed):
    TYPE: ClassVar[ExtensionType] = ExtensionType.PRE_SHARED_KEY
    selected_identity: int

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(selected_identity=r.uint16())

    def encode_body(self, w: Writer) -> None:
        w.uint16(self.selected_identity)


# --- opaque pass-through ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpaqueExtension:
    """An extension kept as raw bytes: unknown, GREASE, or passed through unparsed."""

    extension_type: ExtensionType
    data: bytes

    def encode_body(self, w: Writer) -> None:
        w.bytes(self.data)


# certificate_authorities, oid_filters and padding (and the others below) are carried through as
# opaque bodies; status_request and signed_certificate_timestamp in CertificateRequest (ignored) and
# in a TLS 1.2 ServerHello.
_OPAQUE_KNOWN: dict[ExtensionType, frozenset[MessageKind]] = {
    # RFC 6066 §8 / RFC 6962 §3.3.1: a TLS 1.2 server answers in its ServerHello.
    ExtensionType.STATUS_REQUEST: frozenset({MessageKind.CR, MessageKind.SH12}),
    ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP: frozenset({MessageKind.CR, MessageKind.SH12}),
    ExtensionType.CERTIFICATE_AUTHORITIES: frozenset({MessageKind.CH, MessageKind.CR}),
    ExtensionType.OID_FILTERS: frozenset({MessageKind.CR}),
    ExtensionType.PADDING: frozenset({MessageKind.CH}),
    ExtensionType.USE_SRTP: frozenset({MessageKind.CH, MessageKind.EE}),
    ExtensionType.HEARTBEAT: frozenset({MessageKind.CH, MessageKind.EE}),
    ExtensionType.CLIENT_CERTIFICATE_TYPE: frozenset({MessageKind.CH, MessageKind.EE}),
    ExtensionType.SERVER_CERTIFICATE_TYPE: frozenset({MessageKind.CH, MessageKind.EE}),
}


class _Decodable(Protocol):
    @classmethod
    def decode(cls, r: Reader) -> Extension: ...


_CH, _SH, _SH12, _HRR, _EE, _CT, _CR, _NST = (
    MessageKind.CH,
    MessageKind.SH,
    MessageKind.SH12,
    MessageKind.HRR,
    MessageKind.EE,
    MessageKind.CT,
    MessageKind.CR,
    MessageKind.NST,
)

EXTENSIONS: dict[tuple[ExtensionType, MessageKind], type[_Decodable]] = {
    (ExtensionType.SERVER_NAME, _CH): ServerNameList,
    (ExtensionType.SERVER_NAME, _EE): ServerNameAck,
    (ExtensionType.MAX_FRAGMENT_LENGTH, _CH): MaxFragmentLengthExt,
    (ExtensionType.MAX_FRAGMENT_LENGTH, _EE): MaxFragmentLengthExt,
    (ExtensionType.SUPPORTED_GROUPS, _CH): SupportedGroups,
    (ExtensionType.SUPPORTED_GROUPS, _EE): SupportedGroups,
    (ExtensionType.SIGNATURE_ALGORITHMS, _CH): SignatureAlgorithms,
    (ExtensionType.SIGNATURE_ALGORITHMS, _CR): SignatureAlgorithms,
    (ExtensionType.SIGNATURE_ALGORITHMS_CERT, _CH): SignatureAlgorithmsCert,
    (ExtensionType.SIGNATURE_ALGORITHMS_CERT, _CR): SignatureAlgorithmsCert,
    (ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, _CH): ApplicationLayerProtocolNegotiation,
    (ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, _EE): ApplicationLayerProtocolNegotiation,
    (ExtensionType.RECORD_SIZE_LIMIT, _CH): RecordSizeLimit,
    (ExtensionType.RECORD_SIZE_LIMIT, _EE): RecordSizeLimit,
    (ExtensionType.PRE_SHARED_KEY, _CH): OfferedPsks,
    (ExtensionType.PRE_SHARED_KEY, _SH): SelectedPsk,
    (ExtensionType.EARLY_DATA, _CH): EarlyDataIndication,
    (ExtensionType.EARLY_DATA, _EE): EarlyDataIndication,
    (ExtensionType.EARLY_DATA, _NST): EarlyDataTicket,
    (ExtensionType.SUPPORTED_VERSIONS, _CH): SupportedVersionsClientHello,
    (ExtensionType.SUPPORTED_VERSIONS, _SH): SupportedVersionsServerHello,
    (ExtensionType.SUPPORTED_VERSIONS, _HRR): SupportedVersionsServerHello,
    (ExtensionType.COOKIE, _CH): Cookie,
    (ExtensionType.COOKIE, _HRR): Cookie,
    (ExtensionType.PSK_KEY_EXCHANGE_MODES, _CH): PskKeyExchangeModes,
    (ExtensionType.POST_HANDSHAKE_AUTH, _CH): PostHandshakeAuth,
    # RFC 8879 §3: offered in ClientHello (server certificate) and CertificateRequest (client certificate).
    (ExtensionType.COMPRESS_CERTIFICATE, _CH): CertificateCompressionAlgorithms,
    (ExtensionType.COMPRESS_CERTIFICATE, _CR): CertificateCompressionAlgorithms,
    # RFC 8446 §4.4.2.1, RFC 6066 §8, RFC 6962 §3.3: asked for in CH, answered in the CertificateEntry.
    # (In CR they stay opaque: we never staple for our own certificate, and GnuTLS sends an empty one.)
    (ExtensionType.STATUS_REQUEST, _CH): CertificateStatusRequest,
    (ExtensionType.STATUS_REQUEST, _CT): CertificateStatus,
    (ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP, _CH): SignedCertificateTimestampRequest,
    (ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP, _CT): SignedCertificateTimestampList,
    (ExtensionType.KEY_SHARE, _CH): KeyShareClientHello,
    (ExtensionType.KEY_SHARE, _SH): KeyShareServerHello,
    (ExtensionType.KEY_SHARE, _HRR): KeyShareHelloRetryRequest,
    # TLS 1.2 (RFC 5246 §7.4.1.4): the ServerHello answers what the ClientHello offered.
    (ExtensionType.SERVER_NAME, _SH12): ServerNameAck,
    (ExtensionType.MAX_FRAGMENT_LENGTH, _SH12): MaxFragmentLengthExt,
    (ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, _SH12): ApplicationLayerProtocolNegotiation,
    (ExtensionType.RECORD_SIZE_LIMIT, _SH12): RecordSizeLimit,
    (ExtensionType.EC_POINT_FORMATS, _CH): ECPointFormats,
    (ExtensionType.EC_POINT_FORMATS, _SH12): ECPointFormats,
    (ExtensionType.ENCRYPT_THEN_MAC, _CH): EncryptThenMac,
    (ExtensionType.ENCRYPT_THEN_MAC, _SH12): EncryptThenMac,
    (ExtensionType.EXTENDED_MASTER_SECRET, _CH): ExtendedMasterSecret,
    (ExtensionType.EXTENDED_MASTER_SECRET, _SH12): ExtendedMasterSecret,
    (ExtensionType.SESSION_TICKET, _CH): SessionTicketExt,
    (ExtensionType.SESSION_TICKET, _SH12): SessionTicketExt,
    (ExtensionType.RENEGOTIATION_INFO, _CH): RenegotiationInfo,
    (ExtensionType.RENEGOTIATION_INFO, _SH12): RenegotiationInfo,
}

# Extensions whose class allows a body but whose body MUST be empty in this message (decode_error otherwise).
_EMPTY_IN: frozenset[tuple[ExtensionType, MessageKind]] = frozenset(
    {
        (ExtensionType.SESSION_TICKET, _SH12),  # RFC 5077 §3.2: the server answers with a zero-length SessionTicket
    }
)

_KNOWN_TYPES = frozenset(t for t, _ in EXTENSIONS) | frozenset(_OPAQUE_KNOWN)
# Messages in which a receiver must ignore extensions it does not know (RFC 8446 §4.2).
_TOLERANT = frozenset({MessageKind.CH, MessageKind.CR, MessageKind.NST})


def decode_extensions(r: Reader, kind: MessageKind) -> tuple[Extension | OpaqueExtension, ...]:
    """Decode an ``Extension extensions<0..2^16-1>`` block for a message of ``kind``."""
    out: list[Extension | OpaqueExtension] = []
    seen: set[int] = set()  # raw code points: hashing ints is cheaper than hashing enum members
    codecs = _CODECS_BY_KIND[kind]
    empty_only = _EMPTY_BY_KIND[kind]
    in_client_hello = kind is MessageKind.CH
    with r.block(2) as block:
        while not block.is_empty():
            raw_type = block.uint16()
            # RFC 8446 §4.2: no more than one extension of the same type.
            if raw_type in seen:
                raise PeerMisbehaved(Misbehaviour.DUPLICATE_EXTENSION, ExtensionType(raw_type).name)
            # RFC 8446 §4.2.11: pre_shared_key MUST be the last extension in ClientHello.
            if in_client_hello and _PRE_SHARED_KEY in seen:
                raise PeerMisbehaved(Misbehaviour.PRE_SHARED_KEY_NOT_LAST)
            seen.add(raw_type)
            with block.block(2) as body:
                codec = codecs.get(raw_type)
                if codec is None:
                    ext_type = _EXTENSION_TYPES.get(raw_type) or ExtensionType(raw_type)
                    out.append(_decode_one(ext_type, body, kind))
                    continue
                if raw_type in empty_only and not body.is_empty():
                    raise DecodeError(f"non-empty {ExtensionType(raw_type).name} in {kind.value}")
                out.append(codec.decode(body))
    return tuple(out)


def has_extension(block: bytes, ext_type: ExtensionType) -> bool:
    """Whether a raw ``Extension extensions<0..2^16-1>`` block names ``ext_type``, decoding no body.

    Lets a decoder pick the ``MessageKind`` first (a ServerHello with supported_versions is
    TLS 1.3, RFC 8446 §4.2.1). A malformed block answers False; decoding it raises.
    """
    scan = Reader(block)
    try:
        entries = Reader(scan.vector(2))
        while not entries.is_empty():
            if entries.uint16() == ext_type:
                return True
            entries.vector(2)
    except DecodeError:
        return False
    return False


def _decode_one(ext_type: ExtensionType, body: Reader, kind: MessageKind) -> Extension | OpaqueExtension:
    codec = EXTENSIONS.get((ext_type, kind))
    if codec is not None:
        if (ext_type, kind) in _EMPTY_IN and not body.is_empty():
            raise DecodeError(f"non-empty {ext_type.name} in {kind.value}")
        return codec.decode(body)
    allowed = _OPAQUE_KNOWN.get(ext_type)
    if allowed is not None and kind in allowed:
        return OpaqueExtension(extension_type=ext_type, data=body.rest())
    if ext_type in _KNOWN_TYPES:
        # RFC 8446 §4.2: a recognised extension in the wrong message is illegal_parameter.
        raise PeerMisbehaved(Misbehaviour.EXTENSION_NOT_ALLOWED, f"{ext_type.name} in {kind.value}")
    if kind in _TOLERANT:
        return OpaqueExtension(extension_type=ext_type, data=body.rest())
    # RFC 8446 §4.2: the client never offered it, so this response is unsolicited.
    raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, f"{ext_type.name} in {kind.value}")


def encode_extensions(w: Writer, extensions: Iterable[Extension | OpaqueExtension]) -> None:
    with w.block(2):
        for ext in extensions:
            w.uint16(ext.extension_type)
            with w.block(2):
                ext.encode_body(w)


E = TypeVar("E")


def find(extensions: Sequence[object], cls: type[E]) -> E | None:
    """The extension of class ``cls`` in a decoded extension list, or None."""
    for ext in extensions:
        if type(ext) is cls:
            return ext
    return None


def types_of(extensions: Sequence[Extension | OpaqueExtension]) -> frozenset[ExtensionType]:
    return frozenset(ext.extension_type for ext in extensions)


_EXTENSION_TYPES: dict[int, ExtensionType] = ExtensionType._value2member_map_  # type: ignore[assignment]


_PRE_SHARED_KEY = int(ExtensionType.PRE_SHARED_KEY)
# Per message kind, by raw code point: the hot decode path hashes only ints.
_CODECS_BY_KIND: dict[MessageKind, dict[int, type[_Decodable]]] = {
    kind: {int(t): codec for (t, k), codec in EXTENSIONS.items() if k is kind} for kind in MessageKind
}
_EMPTY_BY_KIND: dict[MessageKind, frozenset[int]] = {
    kind: frozenset(int(t) for (t, k) in _EMPTY_IN if k is kind) for kind in MessageKind
}
