"""The extension registry: duplicates, misplaced, unknown and GREASE extensions (RFC 8446 §4.2, RFC 8701)."""

from __future__ import annotations

import dataclasses

import pytest

from handclasp import ClientConfig, ServerConfig
from handclasp.errors import Misbehaviour, PeerMisbehaved
from handclasp.wire import extensions as ext
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from handclasp.wire.extensions import MessageKind, OpaqueExtension, decode_extensions
from handclasp.wire.handshake import ClientHello, decode_message, encode_message
from helpers import ConnectionPair

GREASE = [0x0A0A + 0x1010 * i for i in range(16)]


def raw_extensions(*items: tuple[int, bytes]) -> bytes:
    """An extensions block from (type, body) pairs, encoded by hand so that anything goes."""
    w = Writer()
    with w.block(2):
        for ext_type, body in items:
            w.uint16(ext_type)
            w.vector(2, body)
    return w.getvalue()


def body_of(item: object) -> bytes:
    w = Writer()
    item.encode_body(w)  # type: ignore[attr-defined]
    return w.getvalue()


def decode(kind: MessageKind, data: bytes) -> tuple:  # type: ignore[type-arg]
    r = Reader(data)
    result = decode_extensions(r, kind)
    r.expect_end()
    return result


def assert_misbehaved(info: pytest.ExceptionInfo, reason: Misbehaviour, alert: AlertDescription) -> None:  # type: ignore[type-arg]
    assert isinstance(info.value, PeerMisbehaved)
    assert info.value.reason is reason
    assert info.value.alert is alert


GROUPS_BODY = body_of(ext.SupportedGroups(groups=(NamedGroup.X25519,)))
VERSIONS_SH_BODY = body_of(ext.SupportedVersionsServerHello(selected_version=ProtocolVersion.TLS1_3))


# One extension each message kind accepts, with a valid body.
ALLOWED_IN = {
    MessageKind.CH: (ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY),
    MessageKind.SH: (ExtensionType.SUPPORTED_VERSIONS, VERSIONS_SH_BODY),
    MessageKind.SH12: (ExtensionType.EXTENDED_MASTER_SECRET, b""),
    MessageKind.HRR: (ExtensionType.SUPPORTED_VERSIONS, VERSIONS_SH_BODY),
    MessageKind.EE: (ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY),
    MessageKind.CT: (ExtensionType.STATUS_REQUEST, b"\x01\x00\x00\x01x"),  # RFC 6066 §8 CertificateStatus
    MessageKind.CR: (ExtensionType.SIGNATURE_ALGORITHMS, b"\x00\x02\x04\x03"),
    MessageKind.NST: (ExtensionType.EARLY_DATA, b"\x00\x00\x40\x00"),
}


@pytest.mark.parametrize("kind", list(MessageKind), ids=lambda k: k.name)
def test_duplicate_extension_is_illegal_parameter(kind: MessageKind) -> None:
    """RFC 8446 §4.2: there MUST NOT be more than one extension of the same type in a block."""
    assert len(decode(kind, raw_extensions(ALLOWED_IN[kind]))) == 1
    data = raw_extensions(ALLOWED_IN[kind], ALLOWED_IN[kind])
    with pytest.raises(PeerMisbehaved) as info:
        decode(kind, data)
    assert_misbehaved(info, Misbehaviour.DUPLICATE_EXTENSION, AlertDescription.ILLEGAL_PARAMETER)


def test_duplicate_known_extension_in_client_hello() -> None:
    """RFC 8446 §4.2: there MUST NOT be more than one extension of the same type in a block."""
    data = raw_extensions((ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY), (ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY))
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.CH, data)
    assert_misbehaved(info, Misbehaviour.DUPLICATE_EXTENSION, AlertDescription.ILLEGAL_PARAMETER)


def test_duplicate_grease_extension_in_client_hello() -> None:
    """RFC 8446 §4.2 applies to GREASE types too: a repeated type is illegal_parameter."""
    data = raw_extensions((0x1A1A, b""), (0x1A1A, b"x"))
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.CH, data)
    assert_misbehaved(info, Misbehaviour.DUPLICATE_EXTENSION, AlertDescription.ILLEGAL_PARAMETER)


@pytest.mark.parametrize(
    ("ext_type", "body", "kind"),
    [
        (ExtensionType.SUPPORTED_VERSIONS, VERSIONS_SH_BODY, MessageKind.EE),
        (ExtensionType.KEY_SHARE, b"\x00\x1d", MessageKind.EE),
        (ExtensionType.COOKIE, b"\x00\x01c", MessageKind.SH),
        (ExtensionType.SERVER_NAME, b"", MessageKind.SH),
        (ExtensionType.SIGNATURE_ALGORITHMS, b"\x00\x02\x04\x03", MessageKind.EE),
        (ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, b"\x00\x03\x02h2", MessageKind.CR),
        (ExtensionType.PRE_SHARED_KEY, b"\x00\x00", MessageKind.EE),
        (ExtensionType.EARLY_DATA, b"", MessageKind.SH),
        (ExtensionType.STATUS_REQUEST, b"", MessageKind.SH),
        (ExtensionType.OID_FILTERS, b"", MessageKind.CH),
        (ExtensionType.PADDING, b"\x00", MessageKind.EE),
        (ExtensionType.POST_HANDSHAKE_AUTH, b"", MessageKind.CR),
        (ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY, MessageKind.NST),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_known_extension_in_the_wrong_message_is_illegal_parameter(
    ext_type: ExtensionType, body: bytes, kind: MessageKind
) -> None:
    """RFC 8446 §4.2: a recognised extension not specified for the message is illegal_parameter."""
    with pytest.raises(PeerMisbehaved) as info:
        decode(kind, raw_extensions((ext_type, body)))
    assert_misbehaved(info, Misbehaviour.EXTENSION_NOT_ALLOWED, AlertDescription.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("kind", [MessageKind.SH, MessageKind.HRR, MessageKind.EE, MessageKind.CT], ids=lambda k: k.name)
@pytest.mark.parametrize("ext_type", [0x0A0A, 0xFAFA, 0xFFF0, 0x1234], ids=hex)
def test_unknown_extension_in_a_response_is_unsupported_extension(kind: MessageKind, ext_type: int) -> None:
    """RFC 8446 §4.2: an extension response the client never requested is unsupported_extension."""
    with pytest.raises(PeerMisbehaved) as info:
        decode(kind, raw_extensions((ext_type, b"\x01\x02")))
    assert_misbehaved(info, Misbehaviour.UNSOLICITED_EXTENSION, AlertDescription.UNSUPPORTED_EXTENSION)


@pytest.mark.parametrize("kind", [MessageKind.CH, MessageKind.CR, MessageKind.NST], ids=lambda k: k.name)
@pytest.mark.parametrize("ext_type", [0x0A0A, 0xFFF0], ids=hex)
def test_unknown_extension_in_a_request_is_kept(kind: MessageKind, ext_type: int) -> None:
    """RFC 8446 §4.2 / RFC 8701 §3: unrecognised extensions in a request are ignored, not rejected."""
    decoded = decode(kind, raw_extensions((ext_type, b"\x01\x02"), (0xFFF1, b"")))
    assert decoded == (
        OpaqueExtension(extension_type=ExtensionType(ext_type), data=b"\x01\x02"),
        OpaqueExtension(extension_type=ExtensionType(0xFFF1), data=b""),
    )
    assert decoded[0].extension_type.name == f"UNKNOWN_0x{ext_type:04x}"


def _psk_body() -> bytes:
    return body_of(ext.OfferedPsks(identities=(ext.PskIdentity(identity=b"id", obfuscated_ticket_age=1),), binders=(bytes(32),)))


def test_pre_shared_key_not_last_in_client_hello_is_illegal_parameter() -> None:
    """RFC 8446 §4.2.11: pre_shared_key MUST be the last extension in the ClientHello."""
    data = raw_extensions((ExtensionType.PRE_SHARED_KEY, _psk_body()), (ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY))
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.CH, data)
    assert_misbehaved(info, Misbehaviour.PRE_SHARED_KEY_NOT_LAST, AlertDescription.ILLEGAL_PARAMETER)


def test_pre_shared_key_last_in_client_hello_is_accepted() -> None:
    data = raw_extensions((ExtensionType.SUPPORTED_GROUPS, GROUPS_BODY), (ExtensionType.PRE_SHARED_KEY, _psk_body()))
    decoded = decode(MessageKind.CH, data)
    assert isinstance(decoded[-1], ext.OfferedPsks)


def test_psk_with_more_binders_than_identities_is_illegal_parameter() -> None:
    """RFC 8446 §4.2.11: each offered identity has exactly one binder."""
    offer = ext.OfferedPsks(identities=(ext.PskIdentity(identity=b"id", obfuscated_ticket_age=1),), binders=(bytes(32), bytes(32)))
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.CH, raw_extensions((ExtensionType.PRE_SHARED_KEY, body_of(offer))))
    assert_misbehaved(info, Misbehaviour.PSK_BINDERS_MISMATCH, AlertDescription.ILLEGAL_PARAMETER)


def test_duplicate_key_share_group_is_illegal_parameter() -> None:
    """RFC 8446 §4.2.8: clients MUST NOT offer multiple KeyShareEntry values for the same group."""
    entry = ext.KeyShareEntry(group=NamedGroup.X25519, key_exchange=bytes(32))
    shares = ext.KeyShareClientHello(client_shares=(entry, entry))
    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.CH, raw_extensions((ExtensionType.KEY_SHARE, body_of(shares))))
    assert_misbehaved(info, Misbehaviour.DUPLICATE_KEY_SHARE, AlertDescription.ILLEGAL_PARAMETER)


@pytest.mark.parametrize(
    ("ext_type", "body", "reason"),
    [
        (ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION, b"\x00\x03\x00\x01a", Misbehaviour.EMPTY_ALPN),
        (ExtensionType.RECORD_SIZE_LIMIT, b"\x00\x3f", Misbehaviour.BAD_RECORD_SIZE_LIMIT),
        (ExtensionType.MAX_FRAGMENT_LENGTH, b"\x05", Misbehaviour.BAD_MAX_FRAGMENT_LENGTH),
        (ExtensionType.SERVER_NAME, b"\x00\x08\x00\x00\x01a\x00\x00\x01b", Misbehaviour.BAD_SERVER_NAME),
        (ExtensionType.SERVER_NAME, b"\x00\x04\x01\x00\x01a", Misbehaviour.BAD_SERVER_NAME),
    ],
    ids=["empty_alpn", "record_size_limit_63", "max_fragment_length_5", "two_host_names", "no_host_name"],
)
def test_bad_extension_values_in_client_hello(ext_type: ExtensionType, body: bytes, reason: Misbehaviour) -> None:
    """RFC 7301 §3.1, RFC 8449 §4, RFC 6066 §3/§4: malformed values abort with the table's alert."""
    from handclasp.errors import MISBEHAVIOUR_ALERTS

    with pytest.raises(PeerMisbehaved) as info:
        decode(MessageKind.CH, raw_extensions((ext_type, body)))
    assert_misbehaved(info, reason, MISBEHAVIOUR_ALERTS[reason])


# --- GREASE through a real server ---------------------------------------------------------------


def _grease(hello: ClientHello) -> ClientHello:
    """RFC 8701 §3: a GREASE value in every extensible list a TLS 1.3 ClientHello has."""
    g_suite, g_group, g_scheme, g_version = CipherSuite(0x0A0A), NamedGroup(0x2A2A), SignatureScheme(0x3A3A), ProtocolVersion(0x4A4A)
    exts: list = [OpaqueExtension(extension_type=ExtensionType(0x5A5A), data=b"")]  # type: ignore[type-arg]
    for item in hello.extensions:
        if isinstance(item, ext.SupportedGroups):
            item = ext.SupportedGroups(groups=(g_group, *item.groups))
        elif isinstance(item, ext.SignatureAlgorithms):
            item = ext.SignatureAlgorithms(schemes=(g_scheme, *item.schemes))
        elif isinstance(item, ext.SupportedVersionsClientHello):
            item = ext.SupportedVersionsClientHello(versions=(g_version, *item.versions))
        elif isinstance(item, ext.KeyShareClientHello):
            grease_share = ext.KeyShareEntry(group=g_group, key_exchange=b"\x00")
            item = ext.KeyShareClientHello(client_shares=(grease_share, *item.client_shares))
        exts.append(item)
    exts.append(OpaqueExtension(extension_type=ExtensionType(0x6A6A), data=b"\x00"))
    return dataclasses.replace(hello, cipher_suites=(g_suite, *hello.cipher_suites), extensions=tuple(exts))


def test_server_ignores_grease_in_a_client_hello(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8701 §3: servers MUST ignore GREASE cipher suites, groups, schemes, versions, shares, extensions."""
    pair = ConnectionPair.make(client_config, server_config)
    wire = pair.client.data_to_send()
    assert wire[0] == ContentType.HANDSHAKE
    body = wire[5 + 4 :]
    assert wire[5] == HandshakeType.CLIENT_HELLO and len(body) == int.from_bytes(wire[6:9], "big")
    hello = decode_message(HandshakeType.CLIENT_HELLO, body)
    assert isinstance(hello, ClientHello)
    greased = _grease(hello)
    raw = encode_message(greased)
    assert len({int(e.extension_type) for e in greased.extensions} & set(GREASE)) == 2
    # The client must hash what was really sent, so its state learns the greased hello too.
    state = pair.client._state
    pair.client._state = dataclasses.replace(state, hello=greased, hello_raw=raw)  # type: ignore[type-var]
    record = bytes((ContentType.HANDSHAKE,)) + b"\x03\x01" + len(raw).to_bytes(2, "big") + raw
    pair.server_events += pair.server.receive_bytes(record)
    pair.handshake()
    client_done, server_done = pair.completions()
    assert client_done.negotiated.cipher_suite in client_config.cipher_suites
    assert server_done.negotiated.group == NamedGroup.X25519MLKEM768  # issue #4: the default
    pair.transfer(b"grease is fine")
