"""Handshake messages and extensions: round trips, strict-prefix rejection, random bytes (RFC 8446 §4)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from handclasp.errors import DecodeError, PeerMisbehaved, TLSError
from handclasp.wire import extensions as ext
from handclasp.wire.enums import (
    AlertDescription,
    CertificateCompressionAlgorithm,
    CipherSuite,
    ContentType,
    ECPointFormat,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
    is_grease,
)
from handclasp.wire.extensions import EXTENSIONS, MessageKind, OpaqueExtension
from handclasp.wire.handshake import (
    HELLO_RETRY_REQUEST_RANDOM,
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HelloRetryRequest,
    KeyUpdate,
    NewSessionTicket13,
    ServerHello,
    decode_message,
    encode_message,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Per-class runs are many; fewer examples each keeps the file well under its time budget.
PER_CLASS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GREASE_VALUES = [0x0A0A + 0x1010 * i for i in range(16)]

# --- strategies ---------------------------------------------------------------------------------

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def open_enum(cls: type) -> st.SearchStrategy:  # type: ignore[type-arg]
    """Known members, GREASE values and arbitrary 16-bit values, all as members of ``cls``."""
    return st.one_of(st.sampled_from(list(cls)), st.sampled_from(GREASE_VALUES), u16).map(cls)


suites = open_enum(CipherSuite)
groups = open_enum(NamedGroup)
schemes = open_enum(SignatureScheme)
versions = open_enum(ProtocolVersion)
host_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=40)
share_entries = st.builds(ext.KeyShareEntry, group=groups, key_exchange=st.binary(min_size=1, max_size=64))


@st.composite
def offered_psks(draw: st.DrawFn) -> ext.OfferedPsks:
    n = draw(st.integers(1, 3))
    identities = tuple(
        ext.PskIdentity(identity=draw(st.binary(min_size=1, max_size=40)), obfuscated_ticket_age=draw(u32))
        for _ in range(n)
    )
    binders = tuple(draw(st.binary(min_size=32, max_size=64)) for _ in range(n))
    return ext.OfferedPsks(identities=identities, binders=binders)


EXTENSION_STRATEGIES: dict[type, st.SearchStrategy] = {  # type: ignore[type-arg]
    ext.ServerNameList: st.builds(ext.ServerNameList, host_name=host_names),
    ext.ServerNameAck: st.just(ext.ServerNameAck()),
    ext.MaxFragmentLengthExt: st.builds(ext.MaxFragmentLengthExt, code=st.integers(1, 4)),
    ext.RecordSizeLimit: st.builds(ext.RecordSizeLimit, limit=st.integers(64, 0xFFFF)),
    ext.SupportedGroups: st.builds(ext.SupportedGroups, groups=st.lists(groups, min_size=1, max_size=12).map(tuple)),
    ext.SignatureAlgorithms: st.builds(
        ext.SignatureAlgorithms, schemes=st.lists(schemes, min_size=1, max_size=12).map(tuple)
    ),
    ext.SignatureAlgorithmsCert: st.builds(
        ext.SignatureAlgorithmsCert, schemes=st.lists(schemes, min_size=1, max_size=12).map(tuple)
    ),
    ext.ApplicationLayerProtocolNegotiation: st.builds(
        ext.ApplicationLayerProtocolNegotiation,
        protocols=st.lists(st.binary(min_size=1, max_size=16), min_size=1, max_size=4).map(tuple),
    ),
    ext.SupportedVersionsClientHello: st.builds(
        ext.SupportedVersionsClientHello, versions=st.lists(versions, min_size=1, max_size=10).map(tuple)
    ),
    ext.SupportedVersionsServerHello: st.builds(ext.SupportedVersionsServerHello, selected_version=versions),
    ext.Cookie: st.builds(ext.Cookie, cookie=st.binary(min_size=1, max_size=80)),
    ext.PskKeyExchangeModes: st.builds(
        ext.PskKeyExchangeModes,
        modes=st.lists(u8.map(PskKeyExchangeMode), min_size=1, max_size=4).map(tuple),
    ),
    ext.EarlyDataIndication: st.just(ext.EarlyDataIndication()),
    ext.EarlyDataTicket: st.builds(ext.EarlyDataTicket, max_early_data_size=u32),
    ext.PostHandshakeAuth: st.just(ext.PostHandshakeAuth()),
    ext.CertificateCompressionAlgorithms: st.builds(
        ext.CertificateCompressionAlgorithms,
        algorithms=st.lists(open_enum(CertificateCompressionAlgorithm), min_size=1, max_size=127).map(tuple),
    ),
    ext.KeyShareClientHello: st.builds(
        ext.KeyShareClientHello,
        client_shares=st.lists(share_entries, max_size=4, unique_by=lambda s: int(s.group)).map(tuple),
    ),
    ext.KeyShareServerHello: st.builds(ext.KeyShareServerHello, server_share=share_entries),
    ext.KeyShareHelloRetryRequest: st.builds(ext.KeyShareHelloRetryRequest, selected_group=groups),
    ext.OfferedPsks: offered_psks(),
    ext.SelectedPsk: st.builds(ext.SelectedPsk, selected_identity=u16),
    ext.RenegotiationInfo: st.builds(ext.RenegotiationInfo, renegotiated_connection=st.binary(max_size=255)),
    ext.ExtendedMasterSecret: st.just(ext.ExtendedMasterSecret()),
    ext.EncryptThenMac: st.just(ext.EncryptThenMac()),
    ext.ECPointFormats: st.builds(ext.ECPointFormats, formats=st.lists(u8.map(ECPointFormat), min_size=1, max_size=4).map(tuple)),
    # Empty: the same class is the ServerHello's answer, which RFC 5077 §3.2 keeps empty (tickets: test_extensions12.py).
    ext.SessionTicketExt: st.just(ext.SessionTicketExt(ticket=b"")),
    # RFC 6066 §8 / RFC 6962 §3.3: status_request and signed_certificate_timestamp forms.
    ext.CertificateStatusRequest: st.builds(
        ext.CertificateStatusRequest,
        responder_id_list=st.lists(st.binary(min_size=1, max_size=20), max_size=3).map(tuple),
        request_extensions=st.binary(max_size=20),
    ),
    ext.CertificateStatus: st.builds(ext.CertificateStatus, ocsp_response=st.binary(min_size=1, max_size=60)),
    ext.SignedCertificateTimestampRequest: st.just(ext.SignedCertificateTimestampRequest()),
    ext.SignedCertificateTimestampList: st.builds(
        ext.SignedCertificateTimestampList,
        sct_list=st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=3).map(tuple),
    ),
}

_KNOWN = {int(t) for t, _ in EXTENSIONS} | {int(t) for t in ext._OPAQUE_KNOWN}
unknown_extension_types = st.one_of(st.sampled_from(GREASE_VALUES), u16).filter(lambda t: t not in _KNOWN)
_TOLERANT = {MessageKind.CH, MessageKind.CR, MessageKind.NST}


def opaque_for(kind: MessageKind) -> st.SearchStrategy:  # type: ignore[type-arg]
    known = sorted(int(t) for t, kinds in ext._OPAQUE_KNOWN.items() if kind in kinds)
    options = []
    if known:
        options.append(st.sampled_from(known))
    if kind in _TOLERANT:
        options.append(unknown_extension_types)
    if not options:
        return st.nothing()
    return st.builds(
        OpaqueExtension, extension_type=st.one_of(*options).map(ExtensionType), data=st.binary(max_size=30)
    )


def extension_for(kind: MessageKind) -> st.SearchStrategy:  # type: ignore[type-arg]
    classes = [cls for (_, k), cls in EXTENSIONS.items() if k is kind]
    return st.one_of(*[EXTENSION_STRATEGIES[cls] for cls in classes], opaque_for(kind))


def extension_lists(kind: MessageKind) -> st.SearchStrategy:  # type: ignore[type-arg]
    def psk_last(items: list) -> tuple:  # type: ignore[type-arg]
        # RFC 8446 §4.2.11: pre_shared_key goes last in a ClientHello.
        return tuple(sorted(items, key=lambda e: e.extension_type == ExtensionType.PRE_SHARED_KEY))

    return st.lists(extension_for(kind), max_size=6, unique_by=lambda e: int(e.extension_type)).map(psk_last)


session_ids = st.binary(max_size=32)


def server_hello_extensions() -> st.SearchStrategy:  # type: ignore[type-arg]
    """RFC 8446 §4.2.1: a TLS 1.3 ServerHello has supported_versions; one without it decodes as TLS 1.2 (SH12)."""
    versions_first = st.tuples(EXTENSION_STRATEGIES[ext.SupportedVersionsServerHello], extension_lists(MessageKind.SH)).map(
        lambda t: (t[0], *(e for e in t[1] if e.extension_type != ExtensionType.SUPPORTED_VERSIONS))
    )
    return st.one_of(versions_first, extension_lists(MessageKind.SH12))

server_randoms = st.binary(min_size=32, max_size=32).filter(lambda r: r != HELLO_RETRY_REQUEST_RANDOM)

MESSAGE_STRATEGIES: dict[type, st.SearchStrategy] = {  # type: ignore[type-arg]
    ClientHello: st.builds(
        ClientHello,
        legacy_version=versions,
        random=st.binary(min_size=32, max_size=32),
        legacy_session_id=session_ids,
        cipher_suites=st.lists(suites, min_size=1, max_size=10).map(tuple),
        legacy_compression_methods=st.binary(min_size=1, max_size=3),
        extensions=extension_lists(MessageKind.CH),
    ),
    ServerHello: st.builds(
        ServerHello,
        legacy_version=versions,
        random=server_randoms,
        legacy_session_id_echo=session_ids,
        cipher_suite=suites,
        legacy_compression_method=u8,
        extensions=server_hello_extensions(),
    ),
    HelloRetryRequest: st.builds(
        HelloRetryRequest,
        legacy_version=versions,
        legacy_session_id_echo=session_ids,
        cipher_suite=suites,
        legacy_compression_method=u8,
        extensions=extension_lists(MessageKind.HRR),
    ),
    EncryptedExtensions: st.builds(EncryptedExtensions, extensions=extension_lists(MessageKind.EE)),
    CertificateRequest13: st.builds(
        CertificateRequest13,
        certificate_request_context=st.binary(max_size=16),
        extensions=extension_lists(MessageKind.CR),
    ),
    Certificate13: st.builds(
        Certificate13,
        certificate_request_context=st.binary(max_size=16),
        certificate_list=st.lists(
            st.builds(
                CertificateEntry,
                cert_data=st.binary(min_size=1, max_size=40),
                extensions=extension_lists(MessageKind.CT),
            ),
            max_size=3,
        ).map(tuple),
    ),
    CompressedCertificate: st.builds(
        CompressedCertificate,
        algorithm=open_enum(CertificateCompressionAlgorithm),
        uncompressed_length=st.integers(0, 0xFFFFFF),
        compressed_certificate_message=st.binary(min_size=1, max_size=60),
    ),
    CertificateVerify: st.builds(CertificateVerify, algorithm=schemes, signature=st.binary(max_size=80)),
    Finished: st.builds(Finished, verify_data=st.binary(max_size=64)),
    NewSessionTicket13: st.builds(
        NewSessionTicket13,
        ticket_lifetime=u32,
        ticket_age_add=u32,
        ticket_nonce=st.binary(max_size=16),
        ticket=st.binary(min_size=1, max_size=60),
        extensions=extension_lists(MessageKind.NST),
    ),
    EndOfEarlyData: st.just(EndOfEarlyData()),
    KeyUpdate: st.builds(KeyUpdate, request_update=st.sampled_from(list(KeyUpdateRequest))),
}
any_message = st.one_of(*MESSAGE_STRATEGIES.values())


def split(raw: bytes) -> tuple[HandshakeType, bytes]:
    assert int.from_bytes(raw[1:4], "big") == len(raw) - 4
    return HandshakeType(raw[0]), raw[4:]


def extensions_offset(msg: object) -> int | None:
    """Where the optional extensions block of a hello starts (RFC 8446 §4.1.2, §4.1.3)."""
    if isinstance(msg, ClientHello):
        return 2 + 32 + 1 + len(msg.legacy_session_id) + 2 + 2 * len(msg.cipher_suites) + 1 + len(
            msg.legacy_compression_methods
        )
    if isinstance(msg, ServerHello | HelloRetryRequest):
        return 2 + 32 + 1 + len(msg.legacy_session_id_echo) + 2 + 1
    return None


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(MESSAGE_STRATEGIES), ids=lambda c: c.__name__)
def test_every_message_class_round_trips(cls: type) -> None:
    @PER_CLASS
    @given(MESSAGE_STRATEGIES[cls])
    def check(msg: object) -> None:
        raw = encode_message(msg)  # type: ignore[arg-type]
        msg_type, body = split(raw)
        assert msg_type == msg.TYPE  # type: ignore[attr-defined]
        decoded = decode_message(msg_type, body)
        assert type(decoded) is cls
        assert decoded == msg
        assert encode_message(decoded) == raw

    check()


def test_message_strategies_cover_every_message_class() -> None:
    from handclasp.wire import handshake

    decodable = {cls for cls in vars(handshake).values() if isinstance(cls, type) and hasattr(cls, "TYPE")}
    assert decodable == set(MESSAGE_STRATEGIES)


def test_extension_strategies_cover_every_extension_class() -> None:
    assert set(EXTENSIONS.values()) == set(EXTENSION_STRATEGIES)
    declared = {
        cls
        for cls in vars(ext).values()
        if isinstance(cls, type) and isinstance(getattr(cls, "TYPE", None), ExtensionType)
    }
    assert declared == set(EXTENSION_STRATEGIES)


@pytest.mark.parametrize("kind", list(MessageKind), ids=lambda k: k.name)
def test_every_extension_round_trips_in_every_message_it_may_appear_in(kind: MessageKind) -> None:
    from handclasp.wire.codec import Reader, Writer

    @PER_CLASS
    @given(extension_lists(kind))
    def check(items: tuple) -> None:  # type: ignore[type-arg]
        w = Writer()
        ext.encode_extensions(w, items)
        r = Reader(w.getvalue())
        assert ext.decode_extensions(r, kind) == items
        r.expect_end()

    check()


@pytest.mark.parametrize(("ext_type", "kind"), list(EXTENSIONS), ids=lambda v: getattr(v, "name", ""))
def test_each_registered_extension_round_trips_alone(ext_type: ExtensionType, kind: MessageKind) -> None:
    from handclasp.wire.codec import Reader, Writer

    cls = EXTENSIONS[(ext_type, kind)]

    @settings(max_examples=15, deadline=None)
    @given(EXTENSION_STRATEGIES[cls])
    def check(item: object) -> None:
        assert item.extension_type == ext_type  # type: ignore[attr-defined]
        w = Writer()
        ext.encode_extensions(w, (item,))  # type: ignore[arg-type]
        assert ext.decode_extensions(Reader(w.getvalue()), kind) == (item,)

    check()


# --- strict prefixes ----------------------------------------------------------------------------


@SETTINGS
@given(any_message)
def test_every_strict_prefix_is_rejected(msg: object) -> None:
    """RFC 8446 §6.2: a message shorter than its fields is decode_error.

    Two prefixes are legal messages by design: a hello cut just before its extensions block
    (extensions are optional in pre-1.3 hellos, RFC 8446 §4.1.2), and any Finished, whose
    verify_data length the codec cannot know (the state checks it against the hash).
    """
    raw = encode_message(msg)  # type: ignore[arg-type]
    msg_type, body = split(raw)
    optional_at = extensions_offset(msg)
    for n in range(len(body)):
        prefix = body[:n]
        if isinstance(msg, Finished):
            assert decode_message(msg_type, prefix) == Finished(verify_data=prefix)
            continue
        if n == optional_at:
            decoded = decode_message(msg_type, prefix)
            assert decoded.extensions == ()  # type: ignore[union-attr]
            continue
        with pytest.raises(DecodeError):
            decode_message(msg_type, prefix)


@SETTINGS
@given(any_message, st.binary(min_size=1, max_size=4))
def test_trailing_bytes_after_a_message_are_rejected(msg: object, extra: bytes) -> None:
    """RFC 8446 §6.2: bytes after the last field of a message are decode_error."""
    msg_type, body = split(encode_message(msg))  # type: ignore[arg-type]
    if isinstance(msg, Finished):
        return  # verify_data takes the rest of the body
    if extensions_offset(msg) == len(body):
        return  # an extensionless hello followed by bytes is a (malformed) extensions block
    with pytest.raises((DecodeError, PeerMisbehaved)):
        decode_message(msg_type, body + extra)


# --- random input -------------------------------------------------------------------------------

_ALL_TYPES = [*HandshakeType, HandshakeType(3), HandshakeType(99), HandshakeType(0xFF)]


@SETTINGS
@given(st.sampled_from(_ALL_TYPES), st.binary(max_size=200))
def test_random_bytes_raise_only_tls_errors(msg_type: HandshakeType, body: bytes) -> None:
    """RFC 8446 §6.2: malformed input ends in an alert-carrying TLSError, never a Python crash."""
    try:
        decode_message(msg_type, body)
    except TLSError as error:
        assert error.alert is not None and error.alert.is_known


@SETTINGS
@given(any_message, st.data())
def test_mutated_encodings_raise_only_tls_errors(msg: object, data: st.DataObject) -> None:
    """RFC 8446 §6.2: malformed input ends in an alert-carrying TLSError, never a Python crash."""
    msg_type, body = split(encode_message(msg))  # type: ignore[arg-type]
    if not body:
        return
    mutated = bytearray(body)
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(body) - 1))
        mutated[index] = data.draw(u8)
    try:
        decode_message(msg_type, bytes(mutated))
    except TLSError as error:
        assert error.alert is not None


def test_unknown_handshake_type_is_unexpected_message() -> None:
    """RFC 8446 §4: a handshake type not defined for TLS 1.3 is unexpected_message."""
    from handclasp.errors import UnexpectedMessage

    for msg_type in (HandshakeType.SERVER_KEY_EXCHANGE, HandshakeType.HELLO_REQUEST, HandshakeType(99)):
        with pytest.raises(UnexpectedMessage) as info:
            decode_message(msg_type, b"")
        assert info.value.alert is AlertDescription.UNEXPECTED_MESSAGE


def test_key_update_with_an_unknown_request_is_illegal_parameter() -> None:
    """RFC 8446 §4.6.3: a KeyUpdate request other than 0 or 1 is illegal_parameter."""
    from handclasp.errors import Misbehaviour

    with pytest.raises(PeerMisbehaved) as info:
        decode_message(HandshakeType.KEY_UPDATE, b"\x02")
    assert info.value.reason is Misbehaviour.BAD_KEY_UPDATE
    assert info.value.alert is AlertDescription.ILLEGAL_PARAMETER


def test_server_hello_with_the_retry_random_decodes_as_hello_retry_request() -> None:
    """RFC 8446 §4.1.3: a ServerHello whose random is the HRR constant is a HelloRetryRequest."""
    hrr = HelloRetryRequest(legacy_session_id_echo=b"", cipher_suite=CipherSuite.TLS_AES_128_GCM_SHA256, extensions=())
    raw = encode_message(hrr)
    assert raw[4 + 2 : 4 + 34] == HELLO_RETRY_REQUEST_RANDOM
    assert decode_message(*split(raw)) == hrr


# --- open enums ---------------------------------------------------------------------------------

OPEN_ENUMS = [CipherSuite, NamedGroup, SignatureScheme, ProtocolVersion, ExtensionType, AlertDescription, HandshakeType, ContentType, CertificateCompressionAlgorithm]


@pytest.mark.parametrize("cls", OPEN_ENUMS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("value", [*GREASE_VALUES[:3], 0xFAFA, 0xBEEF])
def test_unknown_and_grease_values_are_named_unknown(cls: type, value: int) -> None:
    """RFC 8701 §3: GREASE (and any unknown) values must be accepted and ignored, never rejected."""
    member = cls(value)
    assert isinstance(member, cls)
    assert int(member) == value
    assert member.name == f"UNKNOWN_0x{value:04x}"
    assert not member.is_known
    assert cls(value) is member
    assert member not in list(cls)


@pytest.mark.parametrize("cls", OPEN_ENUMS, ids=lambda c: c.__name__)
def test_registered_members_are_known(cls: type) -> None:
    for member in cls:
        assert member.is_known, member
        assert cls(int(member)) is member


def test_names_that_start_with_unknown_are_still_known() -> None:
    assert AlertDescription.UNKNOWN_CA.is_known
    assert AlertDescription.UNKNOWN_PSK_IDENTITY.is_known


def test_is_grease_matches_rfc_8701() -> None:
    assert [v for v in range(0x10000) if is_grease(v)] == GREASE_VALUES


def test_grease_values_round_trip_through_a_client_hello() -> None:
    """RFC 8701 §3: GREASE suites, groups, schemes, versions, shares and extensions survive decoding."""
    g = [CipherSuite(0x0A0A), NamedGroup(0x1A1A), SignatureScheme(0x2A2A), ProtocolVersion(0x3A3A)]
    hello = ClientHello(
        random=bytes(32),
        legacy_session_id=b"",
        cipher_suites=(g[0], CipherSuite.TLS_AES_128_GCM_SHA256),
        extensions=(
            OpaqueExtension(extension_type=ExtensionType(0x4A4A), data=b""),
            ext.SupportedGroups(groups=(g[1], NamedGroup.X25519)),
            ext.SignatureAlgorithms(schemes=(g[2], SignatureScheme.ED25519)),
            ext.SupportedVersionsClientHello(versions=(g[3], ProtocolVersion.TLS1_3)),
            ext.KeyShareClientHello(client_shares=(ext.KeyShareEntry(group=g[1], key_exchange=b"\x00"),)),
            OpaqueExtension(extension_type=ExtensionType(0x5A5A), data=b"\x00"),
        ),
    )
    decoded = decode_message(*split(encode_message(hello)))
    assert decoded == hello
    assert isinstance(decoded, ClientHello)
    assert decoded.cipher_suites[0].name == "UNKNOWN_0x0a0a"
    assert repr(decoded.cipher_suites[0]) == "<CipherSuite.UNKNOWN_0x0a0a: 2570>"


# --- RFC 8448 vectors: real messages decode and re-encode byte for byte -----------------------------


def _rfc8448():  # type: ignore[no-untyped-def]
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "crypto"))
    import rfc8448

    return rfc8448


def _server_flight_messages() -> list[bytes]:
    from handclasp.crypto.suites import TLS13_SUITES
    from handclasp.record.layer import RecordLayer

    v = _rfc8448()
    layer = RecordLayer(is_client=True)
    layer.set_read_key(TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256], v.SERVER_HANDSHAKE_TRAFFIC)
    layer.feed(v.SERVER_FLIGHT_RECORD)
    inner = layer.next_record()
    assert inner is not None and inner[0] == ContentType.HANDSHAKE
    out, payload, pos = [], inner[1], 0
    while pos < len(payload):
        end = pos + 4 + int.from_bytes(payload[pos + 1 : pos + 4], "big")
        out.append(payload[pos:end])
        pos = end
    return out


@pytest.mark.parametrize(
    "name",
    ["CLIENT_HELLO", "SERVER_HELLO", "HRR_CLIENT_HELLO_1", "HELLO_RETRY_REQUEST", "HRR_CLIENT_HELLO_2",
     "HRR_SERVER_HELLO", "SERVER_FINISHED_MESSAGE", "CERTIFICATE_VERIFY_MESSAGE"],
)
def test_rfc8448_messages_round_trip_byte_for_byte(name: str) -> None:
    raw = getattr(_rfc8448(), name)
    msg = decode_message(*split(raw))
    assert encode_message(msg) == raw
    expected = {"HELLO_RETRY_REQUEST": HelloRetryRequest, "SERVER_FINISHED_MESSAGE": Finished,
                "CERTIFICATE_VERIFY_MESSAGE": CertificateVerify}.get(name)
    if expected is not None:
        assert type(msg) is expected


def test_rfc8448_client_hello_fields() -> None:
    hello = decode_message(*split(_rfc8448().CLIENT_HELLO))
    assert isinstance(hello, ClientHello)
    assert hello.cipher_suites == (CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384)
    assert ext.find(hello.extensions, ext.ServerNameList) == ext.ServerNameList(host_name="server")
    # renegotiation_info and session_ticket are TLS 1.2 extensions a 1.3 ClientHello may carry: decoded typed.
    assert ext.find(hello.extensions, ext.RenegotiationInfo) == ext.RenegotiationInfo(renegotiated_connection=b"")
    assert ext.find(hello.extensions, ext.SessionTicketExt) == ext.SessionTicketExt(ticket=b"")
    assert not [e for e in hello.extensions if isinstance(e, OpaqueExtension)]
    assert ext.find(hello.extensions, ext.RecordSizeLimit) == ext.RecordSizeLimit(limit=0x4001)


def test_rfc8448_encrypted_flight_round_trips_byte_for_byte() -> None:
    messages = _server_flight_messages()
    decoded = [decode_message(*split(raw)) for raw in messages]
    assert [type(m) for m in decoded] == [EncryptedExtensions, Certificate13, CertificateVerify, Finished]
    assert [encode_message(m) for m in decoded] == messages
    assert messages[2] == _rfc8448().CERTIFICATE_VERIFY_MESSAGE
    assert messages[3] == _rfc8448().SERVER_FINISHED_MESSAGE
