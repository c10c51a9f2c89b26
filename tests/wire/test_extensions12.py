"""TLS 1.2 hello extensions and the SH12 registry column (RFC 5246 §7.4.1.4, RFC 5746, RFC 7627, RFC 8422,
RFC 5077, RFC 7366, RFC 8446 §4.2.1)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from handclasp.errors import MISBEHAVIOUR_ALERTS, DecodeError, Misbehaviour, PeerMisbehaved
from handclasp.wire import extensions as ext
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    AlertDescription,
    CipherSuite,
    ECPointFormat,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
)
from handclasp.wire.extensions import (
    EXTENSIONS,
    MessageKind,
    OpaqueExtension,
    decode_extensions,
    has_extension,
)
from handclasp.wire.handshake import (
    HELLO_RETRY_REQUEST_RANDOM,
    ClientHello,
    HelloRetryRequest,
    ServerHello,
    decode_message,
    encode_message,
)

EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GREASE = [0x0A0A + 0x1010 * i for i in range(16)]

# The TLS 1.2-only classes and where the registry lets them appear.
TLS12_CLASSES = {
    ext.RenegotiationInfo: {MessageKind.CH, MessageKind.SH12},
    ext.ExtendedMasterSecret: {MessageKind.CH, MessageKind.SH12},
    ext.EncryptThenMac: {MessageKind.CH, MessageKind.SH12},
    ext.ECPointFormats: {MessageKind.CH, MessageKind.SH12},
    ext.SessionTicketExt: {MessageKind.CH, MessageKind.SH12},
}

point_formats = st.one_of(st.sampled_from(list(ECPointFormat)), st.integers(0, 0xFF).map(ECPointFormat))
STRATEGIES: dict[type, st.SearchStrategy] = {
    ext.RenegotiationInfo: st.builds(ext.RenegotiationInfo, renegotiated_connection=st.binary(max_size=255)),
    ext.ExtendedMasterSecret: st.just(ext.ExtendedMasterSecret()),
    ext.EncryptThenMac: st.just(ext.EncryptThenMac()),
    ext.ECPointFormats: st.builds(
        ext.ECPointFormats, formats=st.lists(point_formats, min_size=1, max_size=8).map(tuple)
    ),
    ext.SessionTicketExt: st.builds(ext.SessionTicketExt, ticket=st.binary(max_size=300)),
    ext.ServerNameAck: st.just(ext.ServerNameAck()),
    ext.MaxFragmentLengthExt: st.builds(ext.MaxFragmentLengthExt, code=st.integers(1, 4)),
    ext.RecordSizeLimit: st.builds(ext.RecordSizeLimit, limit=st.integers(64, 0xFFFF)),
    ext.ApplicationLayerProtocolNegotiation: st.builds(
        ext.ApplicationLayerProtocolNegotiation, protocols=st.tuples(st.binary(min_size=1, max_size=16))
    ),
}
# RFC 5077 §3.2: the server's session_ticket is empty.
SH12_SESSION_TICKET = st.just(ext.SessionTicketExt(ticket=b""))
SH12_OPAQUE = st.builds(
    OpaqueExtension,
    extension_type=st.sampled_from([ExtensionType.STATUS_REQUEST, ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP]),
    data=st.binary(max_size=40),
)


def raw_extensions(*items: tuple[int, bytes]) -> bytes:
    """An extensions block from (type, body) pairs, encoded by hand so that anything goes."""
    w = Writer()
    with w.block(2):
        for ext_type, body in items:
            w.uint16(ext_type)
            w.vector(2, body)
    return w.getvalue()


def decode(kind: MessageKind, data: bytes) -> tuple:  # type: ignore[type-arg]
    r = Reader(data)
    result = decode_extensions(r, kind)
    r.expect_end()
    return result


def encoded(items: tuple) -> bytes:  # type: ignore[type-arg]
    w = Writer()
    ext.encode_extensions(w, items)
    return w.getvalue()


def assert_misbehaved(info: pytest.ExceptionInfo, reason: Misbehaviour, alert: AlertDescription) -> None:  # type: ignore[type-arg]
    assert type(info.value) is PeerMisbehaved
    assert info.value.reason is reason
    assert info.value.alert is alert


def server_hello_body(extensions: bytes, random: bytes = b"\x11" * 32) -> bytes:
    """A ServerHello body with a hand-made extensions block (RFC 5246 §7.4.1.3)."""
    return b"\x03\x03" + random + b"\x00" + b"\xc0\x2b" + b"\x00" + extensions


# --- the registry -----------------------------------------------------------------------------------


def test_registry_places_each_tls12_class_in_exactly_its_messages() -> None:
    for cls, kinds in TLS12_CLASSES.items():
        assert {kind for (_, kind), c in EXTENSIONS.items() if c is cls} == kinds, cls.__name__


def test_sh12_column_is_what_a_tls12_server_may_answer() -> None:
    """RFC 5246 §7.4.1.4: a TLS 1.2 ServerHello carries only answers to what the client offered."""
    sh12 = {t for (t, kind) in EXTENSIONS if kind is MessageKind.SH12}
    assert sh12 == {
        ExtensionType.SERVER_NAME,
        ExtensionType.MAX_FRAGMENT_LENGTH,
        ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
        ExtensionType.RECORD_SIZE_LIMIT,
        ExtensionType.EC_POINT_FORMATS,
        ExtensionType.ENCRYPT_THEN_MAC,
        ExtensionType.EXTENDED_MASTER_SECRET,
        ExtensionType.SESSION_TICKET,
        ExtensionType.RENEGOTIATION_INFO,
    }
    opaque = {t for t, kinds in ext._OPAQUE_KNOWN.items() if MessageKind.SH12 in kinds}
    assert opaque == {ExtensionType.STATUS_REQUEST, ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP}


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(cls, kind) for cls, kinds in TLS12_CLASSES.items() for kind in sorted(kinds, key=lambda k: k.name)],
    ids=lambda v: getattr(v, "__name__", getattr(v, "name", "")),
)
def test_tls12_extension_round_trips(cls: type, kind: MessageKind) -> None:
    strategy = SH12_SESSION_TICKET if (cls, kind) == (ext.SessionTicketExt, MessageKind.SH12) else STRATEGIES[cls]

    @EXAMPLES
    @given(strategy)
    def check(item: object) -> None:
        data = encoded((item,))
        assert decode(kind, data) == (item,)
        assert encoded(decode(kind, data)) == data

    check()


@EXAMPLES
@given(
    st.lists(st.one_of(*[STRATEGIES[c] for c in {EXTENSIONS[k] for k in EXTENSIONS if k[1] is MessageKind.SH12}
                         if c is not ext.SessionTicketExt], SH12_SESSION_TICKET, SH12_OPAQUE),
             max_size=8, unique_by=lambda e: int(e.extension_type)).map(tuple)
)
def test_any_sh12_extension_list_round_trips(items: tuple) -> None:  # type: ignore[type-arg]
    data = encoded(items)
    assert decode(MessageKind.SH12, data) == items


@pytest.mark.parametrize(
    ("ext_type", "body"),
    [
        (ExtensionType.SUPPORTED_VERSIONS, b"\x03\x04"),
        (ExtensionType.KEY_SHARE, b"\x00\x1d\x00\x01\x01"),
        (ExtensionType.PRE_SHARED_KEY, b"\x00\x00"),
        (ExtensionType.COOKIE, b"\x00\x01c"),
        (ExtensionType.EARLY_DATA, b""),
        (ExtensionType.SUPPORTED_GROUPS, b"\x00\x02\x00\x1d"),
        (ExtensionType.SIGNATURE_ALGORITHMS, b"\x00\x02\x04\x03"),
        (ExtensionType.PSK_KEY_EXCHANGE_MODES, b"\x01\x01"),
        (ExtensionType.POST_HANDSHAKE_AUTH, b""),
        (ExtensionType.PADDING, b"\x00"),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_tls13_or_client_only_extension_in_a_tls12_server_hello_is_illegal_parameter(
    ext_type: ExtensionType, body: bytes
) -> None:
    """RFC 8446 §4.2 / RFC 5246 §7.4.1.4: a recognised extension not defined for this message is illegal_parameter."""
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.SH12, raw_extensions((ext_type, body)))
    assert_misbehaved(info, Misbehaviour.EXTENSION_NOT_ALLOWED, AlertDescription.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("ext_type", [0x0A0A, 0xFAFA, 0xFFF0, 0x3374, 0x1234], ids=hex)
def test_unknown_extension_in_a_tls12_server_hello_is_unsupported_extension(ext_type: int) -> None:
    """RFC 5246 §7.4.1.4: the server MUST NOT answer an extension the client did not send (unsupported_extension)."""
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.SH12, raw_extensions((ext_type, b"")))
    assert_misbehaved(info, Misbehaviour.UNSOLICITED_EXTENSION, AlertDescription.UNSUPPORTED_EXTENSION)


def test_duplicate_extension_in_a_tls12_server_hello_is_illegal_parameter() -> None:
    """RFC 5246 §7.4.1.4: there MUST NOT be more than one extension of the same type."""
    once = (ExtensionType.EXTENDED_MASTER_SECRET, b"")
    assert decode(MessageKind.SH12, raw_extensions(once)) == (ext.ExtendedMasterSecret(),)
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.SH12, raw_extensions(once, once))
    assert_misbehaved(info, Misbehaviour.DUPLICATE_EXTENSION, AlertDescription.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("kind", [MessageKind.SH, MessageKind.HRR, MessageKind.EE, MessageKind.CT, MessageKind.CR,
                                  MessageKind.NST], ids=lambda k: k.name)
@pytest.mark.parametrize(
    "ext_type",
    [ExtensionType.RENEGOTIATION_INFO, ExtensionType.EXTENDED_MASTER_SECRET, ExtensionType.ENCRYPT_THEN_MAC,
     ExtensionType.EC_POINT_FORMATS, ExtensionType.SESSION_TICKET],
    ids=lambda t: t.name,
)
def test_tls12_extension_in_a_tls13_message_is_illegal_parameter(kind: MessageKind, ext_type: ExtensionType) -> None:
    """RFC 8446 §4.2: TLS 1.2 extensions are recognised, so one in a TLS 1.3 response is illegal_parameter."""
    with pytest.raises(PeerMisbehaved) as info:
        decode(kind, raw_extensions((ext_type, b"\x01\x00")))
    assert_misbehaved(info, Misbehaviour.EXTENSION_NOT_ALLOWED, AlertDescription.ILLEGAL_PARAMETER)


# --- malformed bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext_type", "body", "kind"),
    [
        (ExtensionType.EXTENDED_MASTER_SECRET, b"\x00", MessageKind.CH),
        (ExtensionType.EXTENDED_MASTER_SECRET, b"\x00", MessageKind.SH12),
        (ExtensionType.ENCRYPT_THEN_MAC, b"\x00", MessageKind.SH12),
        (ExtensionType.SESSION_TICKET, b"\x01", MessageKind.SH12),
        (ExtensionType.EC_POINT_FORMATS, b"\x00", MessageKind.SH12),
        (ExtensionType.EC_POINT_FORMATS, b"", MessageKind.CH),
        (ExtensionType.EC_POINT_FORMATS, b"\x02\x00", MessageKind.CH),
        (ExtensionType.RENEGOTIATION_INFO, b"", MessageKind.SH12),
        (ExtensionType.RENEGOTIATION_INFO, b"\x0c" + bytes(11), MessageKind.SH12),
        (ExtensionType.RENEGOTIATION_INFO, b"\x00\x00", MessageKind.CH),
        (ExtensionType.SERVER_NAME, b"\x00", MessageKind.SH12),
        (ExtensionType.MAX_FRAGMENT_LENGTH, b"", MessageKind.SH12),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_malformed_tls12_extension_body_is_decode_error(ext_type: ExtensionType, body: bytes, kind: MessageKind) -> None:
    """RFC 7627 §5.1, RFC 7366 §2, RFC 5077 §3.2, RFC 8422 §5.1.2, RFC 5746 §3.2: bodies are exactly their struct."""
    with pytest.raises(DecodeError) as info:
        decode(kind, raw_extensions((ext_type, body)))
    assert info.value.alert is AlertDescription.DECODE_ERROR


@pytest.mark.parametrize("ticket", [b"\x00", b"a ticket"])
def test_non_empty_session_ticket_in_a_tls12_server_hello_is_decode_error(ticket: bytes) -> None:
    """RFC 5077 §3.2: the server's SessionTicket extension is zero-length; the client's may carry a ticket."""
    assert decode(MessageKind.CH, raw_extensions((ExtensionType.SESSION_TICKET, ticket))) == (
        ext.SessionTicketExt(ticket=ticket),
    )
    with pytest.raises(DecodeError):
        decode(MessageKind.SH12, raw_extensions((ExtensionType.SESSION_TICKET, ticket)))


def test_bad_max_fragment_length_in_a_tls12_server_hello() -> None:
    """RFC 6066 §4: only codes 1..4 exist (illegal_parameter)."""
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.SH12, raw_extensions((ExtensionType.MAX_FRAGMENT_LENGTH, b"\x05")))
    reason = Misbehaviour.BAD_MAX_FRAGMENT_LENGTH
    assert_misbehaved(info, reason, MISBEHAVIOUR_ALERTS[reason])


def test_point_formats_keep_unknown_values() -> None:
    """RFC 8422 §5.1.2: the list is open; unknown formats round-trip for the state to judge."""
    (item,) = decode(MessageKind.CH, raw_extensions((ExtensionType.EC_POINT_FORMATS, b"\x03\x00\x01\xf0")))
    assert item.formats == (ECPointFormat.UNCOMPRESSED, ECPointFormat.ANSIX962_COMPRESSED_PRIME,
                                         ECPointFormat(0xF0))
    assert item.formats[2].name == "UNKNOWN_0x00f0"


def test_session_ticket_in_client_hello_is_the_whole_body() -> None:
    """RFC 5077 §3.2: the extension_data is the ticket itself, no inner length."""
    (item,) = decode(MessageKind.CH, raw_extensions((ExtensionType.SESSION_TICKET, b"\x00\x05abcde")))
    assert item == ext.SessionTicketExt(ticket=b"\x00\x05abcde")


# --- has_extension ----------------------------------------------------------------------------------------


@EXAMPLES
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=20)), max_size=6), st.integers(0, 0xFFFF))
def test_has_extension_finds_exactly_the_listed_types(items: list[tuple[int, bytes]], probe: int) -> None:
    block = raw_extensions(*items)
    assert has_extension(block, ExtensionType(probe)) == (probe in {t for t, _ in items})


@pytest.mark.parametrize("block", [b"", b"\x00", b"\x00\x05\x00\x2b", b"\x00\x04\x00\x0a\x00\x05", b"\xff\xff"])
def test_has_extension_answers_false_on_malformed_blocks(block: bytes) -> None:
    assert has_extension(block, ExtensionType.SUPPORTED_VERSIONS) is False


# --- ServerHello: TLS 1.3 or TLS 1.2 by supported_versions ------------------------------------------------

SV13 = (ExtensionType.SUPPORTED_VERSIONS, b"\x03\x04")
KS = (ExtensionType.KEY_SHARE, b"\x00\x1d\x00\x20" + bytes(32))
EMS = (ExtensionType.EXTENDED_MASTER_SECRET, b"")
RENEGO = (ExtensionType.RENEGOTIATION_INFO, b"\x00")


def test_server_hello_without_supported_versions_takes_tls12_extensions() -> None:
    """RFC 8446 §4.2.1: no supported_versions means TLS 1.2 or older; its extensions are the 1.2 ones."""
    body = server_hello_body(raw_extensions(RENEGO, EMS, (ExtensionType.EC_POINT_FORMATS, b"\x01\x00"),
                                            (ExtensionType.SESSION_TICKET, b"")))
    hello = decode_message(HandshakeType.SERVER_HELLO, body)
    assert type(hello) is ServerHello
    assert hello.extensions == (
        ext.RenegotiationInfo(renegotiated_connection=b""),
        ext.ExtendedMasterSecret(),
        ext.ECPointFormats(formats=(ECPointFormat.UNCOMPRESSED,)),
        ext.SessionTicketExt(ticket=b""),
    )
    assert encode_message(hello)[4:] == body


@pytest.mark.parametrize("position", [0, 1, 2])
def test_supported_versions_anywhere_makes_a_tls13_server_hello(position: int) -> None:
    """RFC 8446 §4.1.3: supported_versions marks a TLS 1.3 ServerHello wherever it sits in the list."""
    items = [KS, (ExtensionType.PRE_SHARED_KEY, b"\x00\x00")]
    items.insert(position, SV13)
    hello = decode_message(HandshakeType.SERVER_HELLO, server_hello_body(raw_extensions(*items)))
    assert isinstance(hello, ServerHello)
    assert ext.find(hello.extensions, ext.SupportedVersionsServerHello) is not None
    assert ext.find(hello.extensions, ext.KeyShareServerHello) is not None


def test_tls12_extension_in_a_tls13_server_hello_is_illegal_parameter() -> None:
    """RFC 8446 §4.2: extended_master_secret is not defined for a TLS 1.3 ServerHello."""
    with pytest.raises(PeerMisbehaved) as info:
        decode_message(HandshakeType.SERVER_HELLO, server_hello_body(raw_extensions(SV13, KS, EMS)))
    assert_misbehaved(info, Misbehaviour.EXTENSION_NOT_ALLOWED, AlertDescription.ILLEGAL_PARAMETER)


def test_key_share_in_a_tls12_server_hello_is_illegal_parameter() -> None:
    """RFC 8446 §4.2 / §4.2.8: key_share belongs to TLS 1.3; in a 1.2 ServerHello it is illegal_parameter."""
    with pytest.raises(PeerMisbehaved) as info:
        decode_message(HandshakeType.SERVER_HELLO, server_hello_body(raw_extensions(EMS, KS)))
    assert_misbehaved(info, Misbehaviour.EXTENSION_NOT_ALLOWED, AlertDescription.ILLEGAL_PARAMETER)


def test_unknown_extension_in_a_tls12_server_hello_message_is_unsupported_extension() -> None:
    """RFC 5246 §7.4.1.4: an extension the client never offered is unsupported_extension."""
    with pytest.raises(PeerMisbehaved) as info:
        decode_message(HandshakeType.SERVER_HELLO, server_hello_body(raw_extensions(EMS, (0x3374, b""))))
    assert_misbehaved(info, Misbehaviour.UNSOLICITED_EXTENSION, AlertDescription.UNSUPPORTED_EXTENSION)


def test_retry_random_without_supported_versions_is_still_a_hello_retry_request() -> None:
    """RFC 8446 §4.1.3: the HelloRetryRequest is known by its random; its extensions follow the HRR rules."""
    body = server_hello_body(raw_extensions((ExtensionType.KEY_SHARE, b"\x00\x17")), random=HELLO_RETRY_REQUEST_RANDOM)
    hrr = decode_message(HandshakeType.SERVER_HELLO, body)
    assert type(hrr) is HelloRetryRequest
    assert hrr.extensions == (ext.KeyShareHelloRetryRequest(selected_group=NamedGroup.SECP256R1),)
    with pytest.raises(PeerMisbehaved) as info:
        decode_message(HandshakeType.SERVER_HELLO, server_hello_body(raw_extensions(EMS), random=HELLO_RETRY_REQUEST_RANDOM))
    assert_misbehaved(info, Misbehaviour.EXTENSION_NOT_ALLOWED, AlertDescription.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("extra", [b"\x00", b"\x00\x00", b"\xff\x01\x00\x01"])
def test_bytes_after_a_tls12_server_hello_extensions_block_are_decode_error(extra: bytes) -> None:
    """RFC 5246 §7.4.1.3: nothing follows the extensions."""
    with pytest.raises(DecodeError):
        decode_message(HandshakeType.SERVER_HELLO, server_hello_body(raw_extensions(EMS) + extra))


@pytest.mark.parametrize("cut", [1, 2, 3, 5])
def test_truncated_tls12_server_hello_extensions_are_decode_error(cut: int) -> None:
    body = server_hello_body(raw_extensions(RENEGO, EMS))
    with pytest.raises(DecodeError):
        decode_message(HandshakeType.SERVER_HELLO, body[:-cut])


def test_client_hello_with_tls12_extensions_decodes_them_typed() -> None:
    """A TLS 1.2 ClientHello (as OpenSSL and browsers send) carries the 1.2 extensions; all are typed."""
    hello = ClientHello(
        legacy_version=ProtocolVersion.TLS1_2,
        random=bytes(range(32)),
        legacy_session_id=b"",
        cipher_suites=(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
        extensions=(
            ext.ECPointFormats(formats=(ECPointFormat.UNCOMPRESSED,)),
            ext.SessionTicketExt(ticket=b""),
            ext.EncryptThenMac(),
            ext.ExtendedMasterSecret(),
            ext.RenegotiationInfo(renegotiated_connection=b""),
            OpaqueExtension(extension_type=ExtensionType(0x3374), data=b""),
        ),
    )
    raw = encode_message(hello)
    assert decode_message(HandshakeType.CLIENT_HELLO, raw[4:]) == hello
