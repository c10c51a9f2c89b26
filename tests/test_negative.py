"""Negative handshakes: tampered flights and hostile records, each with its exact (type, reason, alert).

Every test states the RFC clause it enforces.  ``expect_failure`` checks the three things the error
boundary promises (STYLE.md §3): the raised error, the fatal alert record queued for the peer, and the
same error raised again on every later call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import handclasp.client.tls13 as client_tls13
import handclasp.server.tls13 as server_tls13
from handclasp import ClientConfig, ServerConfig
from handclasp.common.certcompress import decompress_certificate
from handclasp.common.limits import MAX_CHANGE_CIPHER_SPEC, MAX_WARNING_ALERTS
from handclasp.connection import Connection, Phase
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.errors import (
    AlertReceived,
    ApiMisuse,
    BadRecordMac,
    ConnectionClosed,
    Incompatibility,
    InternalError,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    RecordOverflow,
    TLSError,
)
from handclasp.events import ApplicationData
from handclasp.record.layer import RecordLayer
from handclasp.wire import extensions as ext
from handclasp.wire.enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ContentType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
)
from handclasp.wire.handshake import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    Certificate13,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    Finished,
    HelloRetryRequest,
    Message,
    ServerHello,
    decode_message,
    encode_message,
)
from helpers import ConnectionPair

A = AlertDescription
M = Misbehaviour

# --- record and message helpers -------------------------------------------------------------------


def record(content_type: int, payload: bytes, version: int = 0x0303) -> bytes:
    return bytes((content_type,)) + version.to_bytes(2, "big") + len(payload).to_bytes(2, "big") + payload


def handshake_record(*msgs: Message) -> bytes:
    return record(ContentType.HANDSHAKE, b"".join(encode_message(m) for m in msgs))


def alert_record(level: int, description: int) -> bytes:
    return record(ContentType.ALERT, bytes((level, description)))


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        out.append((data[pos], data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    assert pos == len(data)
    return out


def split_messages(payload: bytes) -> list[Message]:
    out, pos = [], 0
    while pos < len(payload):
        length = int.from_bytes(payload[pos + 1 : pos + 4], "big")
        out.append(decode_message(HandshakeType(payload[pos]), payload[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    return out


def client_hello(pair: ConnectionPair) -> ClientHello:
    """Drain the client's first flight and decode its ClientHello."""
    (content_type, payload), = split_records(pair.client.data_to_send())
    assert content_type == ContentType.HANDSHAKE
    (hello,) = split_messages(payload)
    assert isinstance(hello, ClientHello)
    return hello


def plain_certificate(m: Message) -> Certificate13 | None:
    """A Certificate, or the one a CompressedCertificate carries (RFC 8879, on by default); None otherwise."""
    if isinstance(m, CompressedCertificate):
        return decompress_certificate(m, (m.algorithm,), 1 << 24)
    return m if isinstance(m, Certificate13) else None


def replace_ext(hello: ClientHello, drop: type | None = None, add: tuple[object, ...] = ()) -> ClientHello:
    exts = tuple(e for e in hello.extensions if drop is None or not isinstance(e, drop))
    return dataclasses.replace(hello, extensions=exts + add)  # type: ignore[arg-type]


def server_hello_flight(pair: ConnectionPair) -> tuple[ServerHello, list[tuple[int, bytes]]]:
    """Send the client's hello to the server and return the decoded ServerHello and all records."""
    pair.client_to_server()
    records = split_records(pair.server.data_to_send())
    assert records[0][0] == ContentType.HANDSHAKE
    (hello,) = split_messages(records[0][1])
    assert isinstance(hello, ServerHello)
    return hello, records


class SecretCapture:
    """Stands in for the key log writer, keeping secrets by label (tests only)."""

    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}

    def log(self, label: str, client_random: bytes, secret: bytes) -> None:
        self.secrets[label] = secret


def rewrite_encrypted_flight(
    pair: ConnectionPair, edit: Callable[[list[Message]], list[Message]]
) -> bytes:
    """The server's first flight with its encrypted messages edited and re-protected."""
    capture = SecretCapture()
    pair.server._ctx.keylog = capture  # type: ignore[assignment]
    hello, records = server_hello_flight(pair)
    params = TLS13_SUITES[hello.cipher_suite]
    secret = capture.secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"]
    reader = RecordLayer(is_client=True)
    reader.set_read_key(params, secret)
    handshake = b""  # messages may span records (max_fragment_length), so join before splitting
    plain = b""
    for content_type, payload in records:
        if content_type == ContentType.APPLICATION_DATA:
            reader.feed(record(content_type, payload))
            inner = reader.next_record()
            assert inner is not None and inner[0] == ContentType.HANDSHAKE
            handshake += inner[1]
        else:
            plain += record(content_type, payload)
    messages = split_messages(handshake)
    writer = RecordLayer(is_client=False)
    writer.set_write_key(params, secret)
    return plain + writer.encode(ContentType.HANDSHAKE, b"".join(encode_message(m) for m in edit(messages)))


# --- the failure contract -------------------------------------------------------------------------


def expect_failure(
    conn: Connection,
    action: Callable[[], object],
    error_type: type[TLSError],
    reason: object | None,
    alert: AlertDescription | None,
    peer: Connection | None = None,
) -> TLSError:
    """``action`` fails with exactly this error; the alert is queued; every later call re-raises it."""
    with pytest.raises(error_type) as info:
        action()
    error = info.value
    assert type(error) is error_type
    if reason is not None:
        assert getattr(error, "reason", getattr(error, "problem", None)) is reason
    assert error.alert is alert
    assert conn.phase is Phase.FAILED and conn.is_closed
    out = conn.data_to_send()
    if alert is None:
        assert out == b""
    else:
        # The alert is the last record; earlier ones were queued before the failure (a dummy CCS).
        content_type, payload = split_records(out)[-1]
        if content_type == ContentType.ALERT:  # no write key yet: a plaintext alert
            assert payload == bytes((AlertLevel.FATAL, alert))
        else:
            assert content_type == ContentType.APPLICATION_DATA and len(payload) == 2 + 1 + 16
            if peer is not None:
                with pytest.raises(AlertReceived) as received:
                    peer.receive_bytes(out)
                assert received.value.description is alert
    for later in (lambda: conn.receive_bytes(b"\x16\x03\x03\x00\x01\x00"), lambda: conn.send_application_data(b"x")):
        with pytest.raises(error_type) as again:
            later()
        assert again.value is error
    assert conn.data_to_send() == b""
    return error


@pytest.fixture
def pair(client_config: ClientConfig, server_config: ServerConfig) -> ConnectionPair:
    return ConnectionPair.make(client_config, server_config)


@pytest.fixture
def done(pair: ConnectionPair) -> ConnectionPair:
    pair.handshake()
    return pair


# --- records ------------------------------------------------------------------------------------


def test_flipped_bit_in_application_data_is_bad_record_mac(done: ConnectionPair) -> None:
    """RFC 8446 §5.2: a record that fails AEAD authentication is a fatal bad_record_mac."""
    done.client.send_application_data(b"hello")
    wire = bytearray(done.client.data_to_send())
    wire[-3] ^= 0x01
    expect_failure(done.server, lambda: done.server.receive_bytes(bytes(wire)), BadRecordMac, None, A.BAD_RECORD_MAC, peer=done.client)


def test_flipped_bit_in_the_encrypted_flight_is_bad_record_mac(pair: ConnectionPair) -> None:
    """RFC 8446 §5.2: handshake records fail authentication like any other (bad_record_mac)."""
    pair.client_to_server()
    wire = bytearray(pair.server.data_to_send())
    wire[-1] ^= 0x80
    expect_failure(pair.client, lambda: pair.client.receive_bytes(bytes(wire)), BadRecordMac, None, A.BAD_RECORD_MAC, peer=pair.server)


def test_flipped_bit_in_the_record_header_is_bad_record_mac(done: ConnectionPair) -> None:
    """RFC 8446 §5.2: the record header is the AEAD's additional data, so altering it is bad_record_mac."""
    done.server.send_application_data(b"hi")
    wire = bytearray(done.server.data_to_send())
    wire[2] ^= 0x01  # legacy_record_version 0x0303 -> 0x0302
    expect_failure(done.client, lambda: done.client.receive_bytes(bytes(wire)), BadRecordMac, None, A.BAD_RECORD_MAC, peer=done.server)


def test_truncated_record_at_eof_is_an_error(done: ConnectionPair) -> None:
    """RFC 8446 §6.1: a stream that ends inside a record, without close_notify, is a truncation attack."""
    done.server.send_application_data(b"x" * 100)
    wire = done.server.data_to_send()
    assert done.client.receive_bytes(wire[:-1]) == []
    expect_failure(done.client, lambda: done.client.receive_bytes(b""), PeerMisbehaved, M.TRUNCATED_AT_EOF, A.DECODE_ERROR)


def test_eof_without_close_notify_is_connection_closed(done: ConnectionPair) -> None:
    """RFC 8446 §6.1: end of data without close_notify may be a truncation; it is reported, not hidden."""
    expect_failure(done.client, lambda: done.client.receive_bytes(b""), ConnectionClosed, None, None)


def test_eof_during_the_handshake_is_connection_closed(pair: ConnectionPair) -> None:
    """RFC 8446 §6.1: a handshake cut off by the transport cannot complete."""
    pair.client_to_server()
    expect_failure(pair.client, lambda: pair.client.receive_bytes(b""), ConnectionClosed, None, None)


def test_oversize_plaintext_record_is_record_overflow(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: a TLSPlaintext length over 2^14 is record_overflow."""
    header = bytes((ContentType.HANDSHAKE,)) + b"\x03\x01" + (2**14 + 1).to_bytes(2, "big")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(header), RecordOverflow, None, A.RECORD_OVERFLOW)


def test_oversize_protected_record_is_record_overflow(done: ConnectionPair) -> None:
    """RFC 8446 §5.2: a TLSCiphertext length over 2^14 + 256 is record_overflow."""
    header = bytes((ContentType.APPLICATION_DATA,)) + b"\x03\x03" + (2**14 + 257).to_bytes(2, "big")
    expect_failure(done.server, lambda: done.server.receive_bytes(header), RecordOverflow, None, A.RECORD_OVERFLOW, peer=done.client)


def test_largest_legal_protected_record_reaches_the_aead(done: ConnectionPair) -> None:
    """RFC 8446 §5.2/§5.4: 2^14 + 1 inner bytes plus the tag is legal, so a forged one fails the MAC."""
    wire = record(ContentType.APPLICATION_DATA, bytes(2**14 + 1 + 16))
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), BadRecordMac, None, A.BAD_RECORD_MAC)


@pytest.mark.parametrize("content_type", [0, 19, 24, 25, 0xFF])
def test_record_with_unknown_content_type(pair: ConnectionPair, content_type: int) -> None:
    """RFC 8446 §5: a record of an unknown content type is unexpected_message."""
    wire = record(content_type, b"\x00\x01")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.UNKNOWN_CONTENT_TYPE, A.UNEXPECTED_MESSAGE)


def test_record_with_bad_major_version(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: legacy_record_version is 0x03xx; anything else is not TLS (protocol_version)."""
    wire = record(ContentType.HANDSHAKE, b"\x01\x00\x00\x00", version=0x0203)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_RECORD_VERSION, A.PROTOCOL_VERSION)


def test_application_data_before_the_handshake(pair: ConnectionPair) -> None:
    """RFC 8446 §5: application data before the handshake completes is unexpected_message."""
    wire = record(ContentType.APPLICATION_DATA, b"early")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.APPLICATION_DATA_BEFORE_HANDSHAKE, A.UNEXPECTED_MESSAGE)


def test_zero_length_handshake_record(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: zero-length fragments of handshake type MUST NOT be sent (unexpected_message)."""
    wire = record(ContentType.HANDSHAKE, b"", version=0x0301)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.EMPTY_HANDSHAKE_RECORD, A.UNEXPECTED_MESSAGE)


def test_oversized_handshake_message_header(pair: ConnectionPair) -> None:
    """RFC 8446 §4 (DoS limit, max_handshake_message_size): a message announced beyond it is refused early."""
    wire = record(ContentType.HANDSHAKE, bytes((HandshakeType.CLIENT_HELLO,)) + (70000).to_bytes(3, "big"))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.HANDSHAKE_MESSAGE_TOO_LARGE, A.ILLEGAL_PARAMETER)


def test_handshake_message_over_a_configured_limit(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4 (DoS limit): a ClientHello over the server's max_handshake_message_size is refused."""
    pair = ConnectionPair.make(client_config, dataclasses.replace(server_config, max_handshake_message_size=256))
    hello = replace_ext(client_hello(pair), add=(ext.OpaqueExtension(extension_type=ext.ExtensionType.PADDING, data=bytes(300)),))
    wire = handshake_record(hello)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.HANDSHAKE_MESSAGE_TOO_LARGE, A.ILLEGAL_PARAMETER)


def test_handshake_message_interleaved_with_an_alert(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types."""
    raw = encode_message(client_hello(pair))
    wire = record(ContentType.HANDSHAKE, raw[:20]) + alert_record(AlertLevel.WARNING, A.USER_CANCELED)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.INTERLEAVED_HANDSHAKE, A.UNEXPECTED_MESSAGE)


def test_handshake_message_interleaved_with_change_cipher_spec(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types."""
    raw = encode_message(client_hello(pair))
    wire = record(ContentType.HANDSHAKE, raw[:20]) + record(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.INTERLEAVED_HANDSHAKE, A.UNEXPECTED_MESSAGE)


def test_handshake_message_split_over_records_is_accepted(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: a handshake message MAY be fragmented across several records."""
    raw = encode_message(client_hello(pair))
    wire = b"".join(record(ContentType.HANDSHAKE, raw[i : i + 7]) for i in range(0, len(raw), 7))
    pair.server.receive_bytes(wire)
    pair.handshake()


def test_server_hello_and_encrypted_data_in_one_record(pair: ConnectionPair) -> None:
    """RFC 8446 §5.1: a handshake message MUST NOT span a key change (unexpected_message)."""
    hello, _ = server_hello_flight(pair)
    wire = record(ContentType.HANDSHAKE, encode_message(hello) + b"\x08\x00")
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE, A.UNEXPECTED_MESSAGE)


# --- change_cipher_spec and alerts --------------------------------------------------------------


def test_change_cipher_spec_with_a_wrong_byte(pair: ConnectionPair) -> None:
    """RFC 8446 §5: a change_cipher_spec other than the single byte 0x01 is unexpected_message."""
    wire = handshake_record(client_hello(pair)) + record(ContentType.CHANGE_CIPHER_SPEC, b"\x02")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.INVALID_CCS, A.UNEXPECTED_MESSAGE)


def test_change_cipher_spec_before_client_hello(pair: ConnectionPair) -> None:
    """RFC 8446 §5: a change_cipher_spec before the first ClientHello is unexpected_message."""
    wire = record(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE)


def test_change_cipher_spec_after_the_handshake(done: ConnectionPair) -> None:
    """RFC 8446 §5: a change_cipher_spec after the handshake is unexpected_message."""
    wire = record(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_too_many_change_cipher_specs(pair: ConnectionPair) -> None:
    """RFC 8446 §5 (DoS limit): dummy change_cipher_spec records are bounded."""
    ccs = record(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    pair.server.receive_bytes(handshake_record(client_hello(pair)) + ccs * MAX_CHANGE_CIPHER_SPEC)
    pair.server.data_to_send()
    expect_failure(pair.server, lambda: pair.server.receive_bytes(ccs), PeerMisbehaved, M.TOO_MANY_CCS, A.UNEXPECTED_MESSAGE)


def test_too_many_warning_alerts(done: ConnectionPair) -> None:
    """RFC 8446 §6.1 (DoS limit): repeated user_canceled warnings without progress are cut off."""
    for _ in range(MAX_WARNING_ALERTS):
        warning = done.client._records.encode(ContentType.ALERT, bytes((AlertLevel.WARNING, A.USER_CANCELED)))
        assert done.server.receive_bytes(warning) == []
    warning = done.client._records.encode(ContentType.ALERT, bytes((AlertLevel.WARNING, A.USER_CANCELED)))
    expect_failure(done.server, lambda: done.server.receive_bytes(warning), PeerMisbehaved, M.TOO_MANY_WARNING_ALERTS, A.UNEXPECTED_MESSAGE)


def test_warning_alerts_are_forgiven_after_application_data(done: ConnectionPair) -> None:
    """RFC 8446 §6.1: user_canceled is a warning; application data in between resets the DoS counter."""
    warning = bytes((AlertLevel.WARNING, A.USER_CANCELED))
    for _ in range(3):
        for _ in range(MAX_WARNING_ALERTS):
            done.server.receive_bytes(done.client._records.encode(ContentType.ALERT, warning))
        done.transfer(b"progress")


@pytest.mark.parametrize("description", [A.HANDSHAKE_FAILURE, A.INTERNAL_ERROR, AlertDescription(0xEE)], ids=lambda d: d.name)
def test_fatal_alert_from_the_peer_is_alert_received(pair: ConnectionPair, description: AlertDescription) -> None:
    """RFC 8446 §6.2: on a fatal alert the connection closes at once, and nothing is sent back."""
    pair.client_to_server()
    pair.server.data_to_send()
    error = expect_failure(pair.client, lambda: pair.client.receive_bytes(alert_record(AlertLevel.FATAL, description)), AlertReceived, None, None)
    assert isinstance(error, AlertReceived) and error.description == description


def test_warning_level_error_alert_is_still_fatal(pair: ConnectionPair) -> None:
    """RFC 8446 §6: the level of an error alert is ignored; every error alert is fatal."""
    wire = alert_record(AlertLevel.WARNING, A.HANDSHAKE_FAILURE)
    error = expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), AlertReceived, None, None)
    assert isinstance(error, AlertReceived) and error.description is A.HANDSHAKE_FAILURE


def test_fatal_alert_after_the_handshake(done: ConnectionPair) -> None:
    """RFC 8446 §6.2: a fatal alert ends the connection; reading and writing stop."""
    wire = done.server._records.encode(ContentType.ALERT, bytes((AlertLevel.FATAL, A.DECODE_ERROR)))
    error = expect_failure(done.client, lambda: done.client.receive_bytes(wire), AlertReceived, None, None)
    assert isinstance(error, AlertReceived) and error.description is A.DECODE_ERROR


@pytest.mark.parametrize("payload", [b"", b"\x02", b"\x02\x28\x00"], ids=["empty", "one_byte", "three_bytes"])
def test_alert_of_the_wrong_length(pair: ConnectionPair, payload: bytes) -> None:
    """RFC 8446 §5.1/§6: an alert record carries exactly one two-byte alert (decode_error)."""
    wire = record(ContentType.ALERT, payload)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.ALERT_WRONG_LENGTH, A.DECODE_ERROR)


# --- the server's view of the ClientHello ---------------------------------------------------------


def test_client_hello_without_supported_versions(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.2.1: a TLS 1.2-only ClientHello cannot negotiate with a TLS 1.3-only server (protocol_version)."""
    pair = ConnectionPair.make(client_config, dataclasses.replace(server_config, versions=(ProtocolVersion.TLS1_3,)))
    wire = handshake_record(replace_ext(client_hello(pair), drop=ext.SupportedVersionsClientHello))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerIncompatible, Incompatibility.NO_SHARED_VERSION, A.PROTOCOL_VERSION)


def test_client_hello_offering_only_tls12_in_supported_versions(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.2.1: without TLS 1.3 in supported_versions a TLS 1.3-only server shares no version."""
    pair = ConnectionPair.make(client_config, dataclasses.replace(server_config, versions=(ProtocolVersion.TLS1_3,)))
    versions = ext.SupportedVersionsClientHello(versions=(ProtocolVersion.TLS1_2, ProtocolVersion(0x7A7A)))
    wire = handshake_record(replace_ext(client_hello(pair), drop=ext.SupportedVersionsClientHello, add=(versions,)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerIncompatible, Incompatibility.NO_SHARED_VERSION, A.PROTOCOL_VERSION)


def test_ssl3_client_hello_without_supported_versions(pair: ConnectionPair) -> None:
    """RFC 8446 §D.5 / RFC 7568: a client offering only SSL 3.0 gets protocol_version."""
    hello = replace_ext(client_hello(pair), drop=ext.SupportedVersionsClientHello)
    wire = handshake_record(dataclasses.replace(hello, legacy_version=ProtocolVersion.SSL3))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerIncompatible, Incompatibility.LEGACY_VERSION_OFFERED_ONLY, A.PROTOCOL_VERSION)


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        (ext.KeyShareClientHello, M.MISSING_KEY_SHARE),
        (ext.SupportedGroups, M.MISSING_SUPPORTED_GROUPS),
        (ext.SignatureAlgorithms, M.MISSING_SIGNATURE_ALGORITHMS),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_client_hello_missing_a_mandatory_extension(pair: ConnectionPair, drop: type, reason: Misbehaviour) -> None:
    """RFC 8446 §9.2: without a PSK, key_share, supported_groups and signature_algorithms are mandatory (missing_extension)."""
    wire = handshake_record(replace_ext(client_hello(pair), drop=drop))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, reason, A.MISSING_EXTENSION)


def test_key_share_for_a_group_not_in_supported_groups(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.8: each KeyShareEntry's group MUST be in supported_groups (illegal_parameter)."""
    groups = ext.SupportedGroups(groups=(NamedGroup.SECP256R1,))
    wire = handshake_record(replace_ext(client_hello(pair), drop=ext.SupportedGroups, add=(groups,)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.KEY_SHARE_GROUP_NOT_IN_SUPPORTED_GROUPS, A.ILLEGAL_PARAMETER)


def test_duplicate_key_share(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.8: clients MUST NOT offer two KeyShareEntry values for one group (illegal_parameter)."""
    hello = client_hello(pair)
    shares = ext.find(hello.extensions, ext.KeyShareClientHello)
    assert shares is not None
    doubled = ext.KeyShareClientHello(client_shares=shares.client_shares * 2)
    wire = handshake_record(replace_ext(hello, drop=ext.KeyShareClientHello, add=(doubled,)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.DUPLICATE_KEY_SHARE, A.ILLEGAL_PARAMETER)


def test_duplicate_extension_in_client_hello(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2: a second extension of one type is illegal_parameter."""
    hello = client_hello(pair)
    groups = ext.find(hello.extensions, ext.SupportedGroups)
    wire = handshake_record(replace_ext(hello, add=(groups,)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.DUPLICATE_EXTENSION, A.ILLEGAL_PARAMETER)


def test_client_hello_with_compression(pair: ConnectionPair) -> None:
    """RFC 8446 §4.1.2: legacy_compression_methods MUST be exactly one null byte (illegal_parameter)."""
    wire = handshake_record(dataclasses.replace(client_hello(pair), legacy_compression_methods=b"\x01\x00"))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.MISSING_NULL_COMPRESSION, A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize(
    ("client_change", "server_change", "reason"),
    [
        ({"cipher_suites": (CipherSuite.TLS_AES_128_GCM_SHA256,)}, {"cipher_suites": (CipherSuite.TLS_AES_256_GCM_SHA384,)}, Incompatibility.NO_SHARED_CIPHER_SUITE),
        ({"groups": (NamedGroup.X25519,)}, {"groups": (NamedGroup.SECP256R1,)}, Incompatibility.NO_SHARED_GROUP),
    ],
    ids=["suite", "group"],
)
def test_nothing_in_common_is_handshake_failure(
    client_config: ClientConfig, server_config: ServerConfig, client_change: dict, server_change: dict, reason: Incompatibility  # type: ignore[type-arg]
) -> None:
    """RFC 8446 §4.1.1: no acceptable parameters in common is handshake_failure."""
    pair = ConnectionPair.make(dataclasses.replace(client_config, **client_change), dataclasses.replace(server_config, **server_change))
    expect_failure(pair.server, pair.client_to_server, PeerIncompatible, reason, A.HANDSHAKE_FAILURE)
    with pytest.raises(AlertReceived) as received:
        pair.client.receive_bytes(alert_record(AlertLevel.FATAL, A.HANDSHAKE_FAILURE))
    assert received.value.description is A.HANDSHAKE_FAILURE


def test_second_client_hello_with_a_different_suite(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """RFC 8446 §4.1.2: the second ClientHello must match the first but for key_share and cookie."""
    client = dataclasses.replace(client_config, cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384))
    pair = ConnectionPair.make(client, dataclasses.replace(server_config, groups=(NamedGroup.SECP256R1,)))
    pair.client_to_server()
    pair.server_to_client()
    records = split_records(pair.client.data_to_send())
    hello2 = next(m for t, p in records if t == ContentType.HANDSHAKE for m in split_messages(p))
    assert isinstance(hello2, ClientHello)
    hello2 = dataclasses.replace(hello2, cipher_suites=(CipherSuite.TLS_AES_256_GCM_SHA384,))
    wire = handshake_record(hello2)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.SECOND_CLIENT_HELLO_MISMATCH, A.ILLEGAL_PARAMETER)


def test_second_client_hello_with_a_changed_cookie(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.2.2: the client MUST echo the HelloRetryRequest's cookie unchanged."""
    pair = ConnectionPair.make(client_config, dataclasses.replace(server_config, groups=(NamedGroup.SECP256R1,)))
    pair.client_to_server()
    pair.server_to_client()
    records = split_records(pair.client.data_to_send())
    hello2 = next(m for t, p in records if t == ContentType.HANDSHAKE for m in split_messages(p))
    assert isinstance(hello2, ClientHello)
    hello2 = replace_ext(hello2, drop=ext.Cookie, add=(ext.Cookie(cookie=b"forged"),))
    wire = handshake_record(hello2)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_COOKIE, A.ILLEGAL_PARAMETER)


# --- the client's view of ServerHello and HelloRetryRequest ----------------------------------------


def _client_gets(pair: ConnectionPair, *msgs: Message) -> Callable[[], object]:
    wire = handshake_record(*msgs)
    return lambda: pair.client.receive_bytes(wire)


@pytest.mark.parametrize("sentinel", [DOWNGRADE_TLS12, DOWNGRADE_TLS11], ids=["tls12", "tls11"])
def test_downgrade_sentinel_is_detected(pair: ConnectionPair, sentinel: bytes) -> None:
    """RFC 8446 §4.1.3: a TLS 1.3 client that sees a downgrade sentinel MUST abort (illegal_parameter)."""
    hello, _ = server_hello_flight(pair)
    # A TLS 1.2 ServerHello has no supported_versions and no key_share (one there is EXTENSION_NOT_ALLOWED).
    legacy = dataclasses.replace(hello, random=hello.random[:24] + sentinel, extensions=())
    expect_failure(pair.client, _client_gets(pair, legacy), PeerMisbehaved, M.DOWNGRADE_DETECTED, A.ILLEGAL_PARAMETER)


def test_server_hello_without_supported_versions(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.2.1: to a TLS 1.3-only client, a ServerHello without supported_versions is TLS 1.2 (protocol_version)."""
    pair = ConnectionPair.make(dataclasses.replace(client_config, versions=(ProtocolVersion.TLS1_3,)), server_config)
    hello, _ = server_hello_flight(pair)
    legacy = dataclasses.replace(hello, extensions=())
    expect_failure(pair.client, _client_gets(pair, legacy), PeerIncompatible, Incompatibility.NO_SHARED_VERSION, A.PROTOCOL_VERSION)


@pytest.mark.parametrize("version", [ProtocolVersion.TLS1_2, ProtocolVersion(0x7F1C), ProtocolVersion(0x0A0A)], ids=lambda v: v.name)
def test_server_selects_an_unoffered_version(pair: ConnectionPair, version: ProtocolVersion) -> None:
    """RFC 8446 §4.2.1: a selected_version the client did not offer is illegal_parameter."""
    hello, _ = server_hello_flight(pair)
    exts = tuple(
        ext.SupportedVersionsServerHello(selected_version=version) if isinstance(e, ext.SupportedVersionsServerHello) else e
        for e in hello.extensions
    )
    bad = dataclasses.replace(hello, extensions=exts)
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_VERSION, A.ILLEGAL_PARAMETER)


def test_server_selects_an_unoffered_suite(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.3: a cipher suite the client did not offer is illegal_parameter."""
    pair = ConnectionPair.make(dataclasses.replace(client_config, cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,)), server_config)
    hello, _ = server_hello_flight(pair)
    bad = dataclasses.replace(hello, cipher_suite=CipherSuite.TLS_AES_256_GCM_SHA384)
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_SUITE, A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("group", [NamedGroup.SECP256R1, NamedGroup(0x3A3A)], ids=lambda g: g.name)
def test_server_key_share_for_an_unoffered_group(pair: ConnectionPair, group: NamedGroup) -> None:
    """RFC 8446 §4.2.8: the server's share MUST be for a group the client sent a share for (illegal_parameter)."""
    hello, _ = server_hello_flight(pair)
    exts = tuple(
        ext.KeyShareServerHello(server_share=ext.KeyShareEntry(group=group, key_exchange=b"\x04" + bytes(64)))
        if isinstance(e, ext.KeyShareServerHello)
        else e
        for e in hello.extensions
    )
    bad = dataclasses.replace(hello, extensions=exts)
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_GROUP, A.ILLEGAL_PARAMETER)


def test_server_hello_without_key_share(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.8 / §9.2: without a PSK the ServerHello must carry key_share (missing_extension)."""
    hello, _ = server_hello_flight(pair)
    bad = dataclasses.replace(hello, extensions=tuple(e for e in hello.extensions if not isinstance(e, ext.KeyShareServerHello)))
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.MISSING_KEY_SHARE, A.MISSING_EXTENSION)


def test_server_hello_with_an_invalid_key_share(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.8.2: an X25519 share that is not 32 bytes is illegal_parameter."""
    hello, _ = server_hello_flight(pair)
    exts = tuple(
        ext.KeyShareServerHello(server_share=ext.KeyShareEntry(group=NamedGroup.X25519, key_exchange=bytes(31)))
        if isinstance(e, ext.KeyShareServerHello)
        else e
        for e in hello.extensions
    )
    expect_failure(pair.client, _client_gets(pair, dataclasses.replace(hello, extensions=exts)), PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER)


def test_wrong_session_id_echo(pair: ConnectionPair) -> None:
    """RFC 8446 §4.1.3: legacy_session_id_echo MUST equal the client's session id (illegal_parameter)."""
    hello, _ = server_hello_flight(pair)
    bad = dataclasses.replace(hello, legacy_session_id_echo=bytes(32))
    assert bad.legacy_session_id_echo != hello.legacy_session_id_echo
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.WRONG_SESSION_ID_ECHO, A.ILLEGAL_PARAMETER)


def test_server_hello_with_compression(pair: ConnectionPair) -> None:
    """RFC 8446 §4.1.3: legacy_compression_method MUST be 0 (illegal_parameter)."""
    hello, _ = server_hello_flight(pair)
    bad = dataclasses.replace(hello, legacy_compression_method=1)
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.NONZERO_COMPRESSION, A.ILLEGAL_PARAMETER)


def test_unsolicited_pre_shared_key_in_server_hello(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2: an extension response the client did not request is unsupported_extension."""
    hello, _ = server_hello_flight(pair)
    bad = dataclasses.replace(hello, extensions=(*hello.extensions, ext.SelectedPsk(selected_identity=0)))
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION)


def _hrr(hello: ClientHello, *extensions: object, suite: CipherSuite = CipherSuite.TLS_AES_128_GCM_SHA256) -> HelloRetryRequest:
    return HelloRetryRequest(
        legacy_session_id_echo=hello.legacy_session_id,
        cipher_suite=suite,
        extensions=(ext.SupportedVersionsServerHello(selected_version=ProtocolVersion.TLS1_3), *extensions),  # type: ignore[arg-type]
    )


def test_hello_retry_request_that_changes_nothing(pair: ConnectionPair) -> None:
    """RFC 8446 §4.1.4: an HRR that would not change the ClientHello is illegal_parameter."""
    hrr = _hrr(client_hello(pair))
    expect_failure(pair.client, _client_gets(pair, hrr), PeerMisbehaved, M.HRR_NO_CHANGE, A.ILLEGAL_PARAMETER)


def test_hello_retry_request_for_a_group_already_shared(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.8: an HRR selecting a group the client already sent a share for is illegal_parameter."""
    hrr = _hrr(client_hello(pair), ext.KeyShareHelloRetryRequest(selected_group=NamedGroup.X25519))
    expect_failure(pair.client, _client_gets(pair, hrr), PeerMisbehaved, M.HRR_GROUP_ALREADY_SHARED, A.ILLEGAL_PARAMETER)


def test_hello_retry_request_for_an_unoffered_group(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.8: an HRR selecting a group not in supported_groups is illegal_parameter."""
    hrr = _hrr(client_hello(pair), ext.KeyShareHelloRetryRequest(selected_group=NamedGroup(0x0A0A)))
    expect_failure(pair.client, _client_gets(pair, hrr), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_GROUP, A.ILLEGAL_PARAMETER)


def test_hello_retry_request_with_an_unoffered_suite(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.4: an HRR cipher suite the client did not offer is illegal_parameter."""
    pair = ConnectionPair.make(dataclasses.replace(client_config, cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,)), server_config)
    hrr = _hrr(client_hello(pair), ext.KeyShareHelloRetryRequest(selected_group=NamedGroup.SECP256R1), suite=CipherSuite.TLS_AES_256_GCM_SHA384)
    expect_failure(pair.client, _client_gets(pair, hrr), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_SUITE, A.ILLEGAL_PARAMETER)


def test_second_hello_retry_request(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.4: a second HelloRetryRequest in one connection is unexpected_message."""
    pair = ConnectionPair.make(client_config, dataclasses.replace(server_config, groups=(NamedGroup.SECP256R1,)))
    hello = client_hello(pair)
    pair.client_to_server()  # nothing left: the hello was drained above
    pair.server.receive_bytes(handshake_record(hello))
    pair.server_to_client()
    assert pair.client._ctx.hello_retry
    pair.client.data_to_send()
    hrr2 = _hrr(hello, ext.KeyShareHelloRetryRequest(selected_group=NamedGroup.SECP384R1))
    expect_failure(pair.client, _client_gets(pair, hrr2), PeerMisbehaved, M.HRR_TWICE, A.UNEXPECTED_MESSAGE)


def test_server_hello_suite_differs_from_hello_retry_request(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.4: the ServerHello's cipher suite MUST equal the HelloRetryRequest's (illegal_parameter)."""
    pair = ConnectionPair.make(client_config, server_config)
    hello = client_hello(pair)
    hrr = _hrr(hello, ext.KeyShareHelloRetryRequest(selected_group=NamedGroup.SECP256R1))
    pair.client.receive_bytes(handshake_record(hrr))
    # Replay the retried hello to a real server that will pick another suite.
    pair.server = type(pair.server)(dataclasses.replace(pair.server._config, cipher_suites=(CipherSuite.TLS_AES_256_GCM_SHA384,)))
    records = split_records(pair.client.data_to_send())
    hello2 = next(m for t, p in records if t == ContentType.HANDSHAKE for m in split_messages(p))
    pair.server.receive_bytes(handshake_record(hello2))
    (sh,) = split_messages(split_records(pair.server.data_to_send())[0][1])
    assert isinstance(sh, ServerHello) and sh.cipher_suite is CipherSuite.TLS_AES_256_GCM_SHA384
    expect_failure(pair.client, _client_gets(pair, sh), PeerMisbehaved, M.HRR_SUITE_CHANGED, A.ILLEGAL_PARAMETER)


# --- the encrypted flight -----------------------------------------------------------------------


def test_forged_server_finished(pair: ConnectionPair, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 8446 §4.4.4: a Finished whose verify_data is wrong is decrypt_error."""
    real = server_tls13.finished_verify_data
    monkeypatch.setattr(server_tls13, "finished_verify_data", lambda p, k, h: bytes(len(real(p, k, h))))
    pair.client_to_server()
    expect_failure(pair.client, pair.server_to_client, PeerMisbehaved, M.BAD_FINISHED, A.DECRYPT_ERROR, peer=pair.server)


def test_forged_client_finished(pair: ConnectionPair, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 8446 §4.4.4: the server checks the client's Finished the same way (decrypt_error)."""
    real = client_tls13.finished_verify_data
    calls: list[int] = []

    def second_call_wrong(params, key, th):  # type: ignore[no-untyped-def]
        calls.append(1)
        value = real(params, key, th)
        return value if len(calls) == 1 else bytes(len(value))  # first call checks the server's

    monkeypatch.setattr(client_tls13, "finished_verify_data", second_call_wrong)
    pair.client_to_server()
    pair.server_to_client()
    assert pair.client.handshake_complete
    expect_failure(pair.server, pair.client_to_server, PeerMisbehaved, M.BAD_FINISHED, A.DECRYPT_ERROR, peer=pair.client)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_finished_of_the_wrong_length(pair: ConnectionPair, length: int) -> None:
    """RFC 8446 §4.4.4: verify_data is exactly Hash.length bytes; anything else fails (decrypt_error)."""
    def edit(msgs: list[Message]) -> list[Message]:
        return [*msgs[:-1], Finished(verify_data=bytes(length))]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BAD_FINISHED, A.DECRYPT_ERROR, peer=pair.server)


def test_bad_certificate_verify_signature(pair: ConnectionPair, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 8446 §4.4.3: a CertificateVerify signature that does not verify is decrypt_error."""
    monkeypatch.setattr(server_tls13, "sign", lambda scheme, key, data: b"\x30\x06\x02\x01\x01\x02\x01\x01")
    pair.client_to_server()
    expect_failure(pair.client, pair.server_to_client, PeerMisbehaved, M.BAD_SIGNATURE, A.DECRYPT_ERROR, peer=pair.server)


def test_certificate_verify_with_an_unoffered_scheme(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.4.3: the signature scheme MUST be one the client offered (illegal_parameter)."""
    from handclasp.wire.enums import SignatureScheme

    pair = ConnectionPair.make(dataclasses.replace(client_config, signature_schemes=(SignatureScheme.ECDSA_SECP256R1_SHA256,)), server_config)

    def edit(msgs: list[Message]) -> list[Message]:
        return [CertificateVerify(algorithm=SignatureScheme.ED25519, signature=m.signature) if isinstance(m, CertificateVerify) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNOFFERED_SIGNATURE_SCHEME, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_empty_server_certificate(pair: ConnectionPair) -> None:
    """RFC 8446 §4.4.2.4: a server MUST send a certificate; an empty list is decode_error."""
    def edit(msgs: list[Message]) -> list[Message]:
        return [Certificate13(certificate_request_context=b"", certificate_list=()) if plain_certificate(m) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.NO_CERTIFICATE_FROM_SERVER, A.DECODE_ERROR, peer=pair.server)


def test_unsolicited_alpn_in_encrypted_extensions(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2 / RFC 7301 §3.1: ALPN in EncryptedExtensions that the client never offered is unsupported_extension."""
    def edit(msgs: list[Message]) -> list[Message]:
        alpn = ext.ApplicationLayerProtocolNegotiation(protocols=(b"h2",))
        return [EncryptedExtensions(extensions=(*m.extensions, alpn)) if isinstance(m, EncryptedExtensions) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION, peer=pair.server)


def test_unoffered_alpn_in_encrypted_extensions(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 7301 §3.1: the server's protocol MUST be one the client offered (illegal_parameter)."""
    pair = ConnectionPair.make(dataclasses.replace(client_config, alpn_protocols=("h2",)), server_config)

    def edit(msgs: list[Message]) -> list[Message]:
        alpn = ext.ApplicationLayerProtocolNegotiation(protocols=(b"spdy/1",))
        return [EncryptedExtensions(extensions=(*m.extensions, alpn)) if isinstance(m, EncryptedExtensions) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_ALPN, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_unknown_extension_in_encrypted_extensions(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2: an unknown extension in EncryptedExtensions was never requested (unsupported_extension)."""
    def edit(msgs: list[Message]) -> list[Message]:
        grease = ext.OpaqueExtension(extension_type=ext.ExtensionType(0x0A0A), data=b"")
        return [EncryptedExtensions(extensions=(grease,)) if isinstance(m, EncryptedExtensions) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION, peer=pair.server)


def test_rewritten_flight_without_edits_still_completes(pair: ConnectionPair) -> None:
    """Control for the flight-rewriting tests above: an unedited re-protection is accepted."""
    wire = rewrite_encrypted_flight(pair, lambda msgs: msgs)
    pair.client.receive_bytes(wire)
    assert pair.client.handshake_complete


# --- API misuse ---------------------------------------------------------------------------------


def test_send_application_data_before_the_handshake_is_api_misuse(pair: ConnectionPair) -> None:
    """RFC 8446 §2: application data flows only after the handshake; the caller is told, the peer is not."""
    for conn in (pair.client, pair.server):
        with pytest.raises(ApiMisuse):
            conn.send_application_data(b"too early")
        assert conn.phase is Phase.HANDSHAKING
    first_flight = pair.client.data_to_send()
    assert first_flight[0] == ContentType.HANDSHAKE and len(split_records(first_flight)) == 1
    pair.server.receive_bytes(first_flight)
    with pytest.raises(ApiMisuse):
        pair.server.send_application_data(b"still too early")
    pair.server_to_client()
    pair.client_to_server()
    assert pair.client.handshake_complete and pair.server.handshake_complete
    pair.transfer(b"now it works")


def test_key_update_before_the_handshake_is_api_misuse(pair: ConnectionPair) -> None:
    """RFC 8446 §4.6.3: KeyUpdate may be sent only after Finished; asking earlier is a caller error."""
    with pytest.raises(ApiMisuse):
        pair.client.key_update()
    assert pair.client.phase is Phase.HANDSHAKING
    pair.handshake()


def test_receive_before_start_handshake_is_api_misuse(client_config: ClientConfig) -> None:
    """API contract (STYLE.md §3): caller mistakes raise ApiMisuse and send nothing to the peer."""
    from handclasp import ClientConnection

    client = ClientConnection(client_config, "localhost")
    with pytest.raises(ApiMisuse):
        client.receive_bytes(b"\x16")
    client.start_handshake()
    with pytest.raises(ApiMisuse):
        client.start_handshake()
    assert client.data_to_send()[0] == ContentType.HANDSHAKE


def test_data_after_a_failure_is_not_processed(done: ConnectionPair) -> None:
    """RFC 8446 §6.2: after a fatal alert nothing more is read or written."""
    done.server.send_application_data(b"ok")
    good = done.server.data_to_send()
    bad = bytearray(good)
    bad[-1] ^= 1
    expect_failure(done.client, lambda: done.client.receive_bytes(bytes(bad)), BadRecordMac, None, A.BAD_RECORD_MAC)
    with pytest.raises(BadRecordMac):
        done.client.receive_bytes(good)
    assert not [e for e in done.client_events if isinstance(e, ApplicationData)]


# --- after the handshake --------------------------------------------------------------------------


def test_key_update_with_an_unknown_request(done: ConnectionPair) -> None:
    """RFC 8446 §4.6.3: a request_update other than 0 or 1 is illegal_parameter."""
    wire = done.server._records.encode(ContentType.HANDSHAKE, b"\x18\x00\x00\x01\x02")
    expect_failure(done.client, lambda: done.client.receive_bytes(wire), PeerMisbehaved, M.BAD_KEY_UPDATE, A.ILLEGAL_PARAMETER, peer=done.server)


def test_new_session_ticket_from_a_client(done: ConnectionPair) -> None:
    """RFC 8446 §4.6.1: only servers send NewSessionTicket (unexpected_message)."""
    from handclasp.wire.handshake import NewSessionTicket13

    nst = NewSessionTicket13(ticket_lifetime=60, ticket_age_add=0, ticket_nonce=b"", ticket=b"t")
    wire = done.client._records.encode(ContentType.HANDSHAKE, encode_message(nst))
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_POST_HANDSHAKE_MESSAGE, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_new_session_ticket_lifetime_over_seven_days(done: ConnectionPair) -> None:
    """RFC 8446 §4.6.1: ticket_lifetime MUST NOT exceed 604800 seconds (illegal_parameter)."""
    from handclasp.wire.handshake import NewSessionTicket13

    nst = NewSessionTicket13(ticket_lifetime=604801, ticket_age_add=0, ticket_nonce=b"", ticket=b"t")
    wire = done.server._records.encode(ContentType.HANDSHAKE, encode_message(nst))
    expect_failure(done.client, lambda: done.client.receive_bytes(wire), PeerMisbehaved, M.INVALID_TICKET_LIFETIME, A.ILLEGAL_PARAMETER, peer=done.server)


def test_key_update_and_more_in_one_record(done: ConnectionPair) -> None:
    """RFC 8446 §5.1: a KeyUpdate must end its record; a message after it would span the key change."""
    from handclasp.wire.enums import KeyUpdateRequest
    from handclasp.wire.handshake import KeyUpdate

    update = encode_message(KeyUpdate(request_update=KeyUpdateRequest.UPDATE_NOT_REQUESTED))
    wire = done.server._records.encode(ContentType.HANDSHAKE, update + update)
    expect_failure(done.client, lambda: done.client.receive_bytes(wire), PeerMisbehaved, M.HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE, A.UNEXPECTED_MESSAGE)


def test_unprotected_handshake_record_after_the_handshake(done: ConnectionPair) -> None:
    """RFC 8446 §5.2: once keys are in use every record but change_cipher_spec is protected (unexpected_message)."""
    wire = record(ContentType.HANDSHAKE, b"\x18\x00\x00\x01\x00")
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.UNPROTECTED_RECORD, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_inner_plaintext_of_only_zeros(done: ConnectionPair) -> None:
    """RFC 8446 §5.4: a TLSInnerPlaintext with no non-zero byte is unexpected_message."""
    wire = done.client._records.encode(ContentType.INVALID, b"\x00\x00")
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.NO_CONTENT_TYPE_IN_INNER_PLAINTEXT, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_inner_content_type_unknown(done: ConnectionPair) -> None:
    """RFC 8446 §5: a protected record of unknown inner type is unexpected_message."""
    wire = done.client._records.encode(ContentType(0x42), b"x")
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.UNKNOWN_CONTENT_TYPE, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_protected_change_cipher_spec(done: ConnectionPair) -> None:
    """RFC 8446 §5: a change_cipher_spec inside a protected record is unexpected_message."""
    wire = done.client._records._write.seal(b"\x01", bytes((ContentType.CHANGE_CIPHER_SPEC,)))  # type: ignore[union-attr]
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_too_many_empty_records(done: ConnectionPair) -> None:
    """RFC 8446 §5.4 (DoS limit): zero-length application data records are bounded."""
    from handclasp.common.limits import MAX_EMPTY_RECORDS

    for _ in range(MAX_EMPTY_RECORDS):
        done.client.send_application_data(b"")
    assert done.client_to_server() == []
    done.client.send_application_data(b"")
    expect_failure(done.server, done.client_to_server, PeerMisbehaved, M.TOO_MANY_EMPTY_RECORDS, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_too_many_post_handshake_messages(done: ConnectionPair) -> None:
    """RFC 8446 §4.6 (DoS limit): post-handshake messages without application data between them are bounded."""
    from handclasp.common.limits import MAX_POST_HANDSHAKE_MESSAGES_IN_A_ROW
    from handclasp.wire.handshake import NewSessionTicket13

    ticket = NewSessionTicket13(ticket_lifetime=60, ticket_age_add=0, ticket_nonce=b"", ticket=b"t")
    done.server_to_client()  # the server's own NewSessionTickets (RFC 8446 §4.6.1), then data resets the count
    done.transfer(b"progress", from_client=False)
    for _ in range(MAX_POST_HANDSHAKE_MESSAGES_IN_A_ROW):
        done.server.send(ticket)
    done.server._flush_handshake()
    done.server_to_client()
    done.server.send(ticket)
    done.server._flush_handshake()
    expect_failure(done.client, done.server_to_client, PeerMisbehaved, M.TOO_MANY_POST_HANDSHAKE_MESSAGES, A.UNEXPECTED_MESSAGE)


def test_data_after_close_notify_is_ignored(done: ConnectionPair) -> None:
    """RFC 8446 §6.1: any data received after a closure alert MUST be ignored."""
    from handclasp.events import CloseNotify

    done.client.close()
    closing = done.client.data_to_send()
    late = done.client._records.encode(ContentType.APPLICATION_DATA, b"after close")
    assert done.server.receive_bytes(closing + late) == [CloseNotify()]
    assert done.server.receive_bytes(done.client._records.encode(ContentType.APPLICATION_DATA, b"more")) == []


def test_second_client_hello_with_a_share_for_another_group(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.2.8: after HelloRetryRequest the one key share MUST be for the selected group (illegal_parameter)."""
    pair = ConnectionPair.make(client_config, dataclasses.replace(server_config, groups=(NamedGroup.SECP256R1,)))
    first = client_hello(pair)
    pair.server.receive_bytes(handshake_record(first))
    pair.server_to_client()
    records = split_records(pair.client.data_to_send())
    hello2 = next(m for t, p in records if t == ContentType.HANDSHAKE for m in split_messages(p))
    assert isinstance(hello2, ClientHello)
    old_share = ext.find(first.extensions, ext.KeyShareClientHello)
    wire = handshake_record(replace_ext(hello2, drop=ext.KeyShareClientHello, add=(old_share,)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.KEY_SHARE_NOT_FOR_HRR_GROUP, A.ILLEGAL_PARAMETER)


def test_max_fragment_length_echo_mismatch(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 6066 §4: a server answering with a max_fragment_length other than requested is illegal_parameter."""
    from handclasp.wire.enums import MaxFragmentLength

    pair = ConnectionPair.make(dataclasses.replace(client_config, max_fragment_length=512), server_config)

    def edit(msgs: list[Message]) -> list[Message]:
        answer = ext.MaxFragmentLengthExt(code=MaxFragmentLength.LEN_1024)
        return [EncryptedExtensions(extensions=(answer,)) if isinstance(m, EncryptedExtensions) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.MAX_FRAGMENT_LENGTH_MISMATCH, A.ILLEGAL_PARAMETER, peer=pair.server)


@pytest.mark.parametrize("variant", ["context", "no_signature_algorithms"])
def test_bad_certificate_request_in_the_handshake(
    test_pki: object, client_config: ClientConfig, server_config: ServerConfig, variant: str
) -> None:
    """RFC 8446 §4.3.2: in the handshake the context is empty and signature_algorithms is present."""
    from handclasp.wire.handshake import CertificateRequest13

    server = dataclasses.replace(server_config, client_auth="require", client_cadata=test_pki.ca.root_pem)  # type: ignore[attr-defined]
    pair = ConnectionPair.make(client_config, server)

    def edit(msgs: list[Message]) -> list[Message]:
        out: list[Message] = []
        for m in msgs:
            if isinstance(m, CertificateRequest13):
                m = dataclasses.replace(m, certificate_request_context=b"x") if variant == "context" else dataclasses.replace(m, extensions=())
            out.append(m)
        return out

    reason = M.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT if variant == "context" else M.MISSING_SIGNATURE_ALGORITHMS
    alert = A.ILLEGAL_PARAMETER if variant == "context" else A.MISSING_EXTENSION
    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, reason, alert, peer=pair.server)


def test_empty_certificate_verify_signature(pair: ConnectionPair) -> None:
    """RFC 8446 §4.4.3: signature<0..2^16-1> may be empty on the wire; it then fails verification (decrypt_error)."""
    def edit(msgs: list[Message]) -> list[Message]:
        return [dataclasses.replace(m, signature=b"") if isinstance(m, CertificateVerify) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BAD_SIGNATURE, A.DECRYPT_ERROR, peer=pair.server)


def test_partial_handshake_message_at_eof(done: ConnectionPair) -> None:
    """RFC 8446 §6.1: EOF in the middle of a handshake message is a truncation, not a clean close."""
    wire = done.server._records.encode(ContentType.HANDSHAKE, b"\x04\x00\x00\x20\x00")
    assert done.client.receive_bytes(wire) == []
    expect_failure(done.client, lambda: done.client.receive_bytes(b""), PeerMisbehaved, M.TRUNCATED_AT_EOF, A.DECODE_ERROR)


def rewrite_client_flight(pair: ConnectionPair, edit: Callable[[list[Message]], list[Message]]) -> bytes:
    """The client's second flight (Certificate, CertificateVerify, Finished) edited and re-protected."""
    capture = SecretCapture()
    pair.client._ctx.keylog = capture  # type: ignore[assignment]
    pair.client_to_server()
    pair.server_to_client()
    params = pair.client._ctx.suite()
    secret = capture.secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
    reader = RecordLayer(is_client=False)
    reader.set_read_key(params, secret)
    handshake, plain = b"", b""
    for content_type, payload in split_records(pair.client.data_to_send()):
        if content_type == ContentType.APPLICATION_DATA:
            reader.feed(record(content_type, payload))
            inner = reader.next_record()
            assert inner is not None and inner[0] == ContentType.HANDSHAKE
            handshake += inner[1]
        else:
            plain += record(content_type, payload)
    writer = RecordLayer(is_client=True)
    writer.set_write_key(params, secret)
    return plain + writer.encode(ContentType.HANDSHAKE, b"".join(encode_message(m) for m in edit(split_messages(handshake))))


@pytest.fixture
def auth_pair(test_pki: object, client_config: ClientConfig, server_config: ServerConfig) -> ConnectionPair:
    server = dataclasses.replace(server_config, client_auth="require", client_cadata=test_pki.ca.root_pem)  # type: ignore[attr-defined]
    client = dataclasses.replace(client_config, certificate=test_pki.client)  # type: ignore[attr-defined]
    return ConnectionPair.make(client, server)


def test_rewritten_client_flight_without_edits_still_completes(auth_pair: ConnectionPair) -> None:
    """Control for the client-flight rewriting tests below: an unedited re-protection is accepted."""
    wire = rewrite_client_flight(auth_pair, lambda msgs: msgs)
    auth_pair.server.receive_bytes(wire)
    assert auth_pair.server.handshake_complete


def test_client_certificate_with_a_request_context(auth_pair: ConnectionPair) -> None:
    """RFC 8446 §4.4.2: in the handshake, the client's certificate_request_context is empty (illegal_parameter)."""
    def edit(msgs: list[Message]) -> list[Message]:
        return [dataclasses.replace(c, certificate_request_context=b"\x01") if (c := plain_certificate(m)) else m for m in msgs]

    wire = rewrite_client_flight(auth_pair, edit)
    expect_failure(auth_pair.server, lambda: auth_pair.server.receive_bytes(wire), PeerMisbehaved, M.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT, A.ILLEGAL_PARAMETER)


def test_client_certificate_verify_with_an_unoffered_scheme(auth_pair: ConnectionPair) -> None:
    """RFC 8446 §4.4.3: the client's scheme MUST be one from the CertificateRequest (illegal_parameter)."""
    from handclasp.wire.enums import SignatureScheme

    def edit(msgs: list[Message]) -> list[Message]:
        return [dataclasses.replace(m, algorithm=SignatureScheme.RSA_PKCS1_SHA256) if isinstance(m, CertificateVerify) else m for m in msgs]

    wire = rewrite_client_flight(auth_pair, edit)
    expect_failure(auth_pair.server, lambda: auth_pair.server.receive_bytes(wire), PeerMisbehaved, M.UNOFFERED_SIGNATURE_SCHEME, A.ILLEGAL_PARAMETER)


def test_client_certificate_verify_with_a_bad_signature(auth_pair: ConnectionPair) -> None:
    """RFC 8446 §4.4.3: a client CertificateVerify that does not verify is decrypt_error."""
    def edit(msgs: list[Message]) -> list[Message]:
        return [dataclasses.replace(m, signature=bytes(len(m.signature))) if isinstance(m, CertificateVerify) else m for m in msgs]

    wire = rewrite_client_flight(auth_pair, edit)
    expect_failure(auth_pair.server, lambda: auth_pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_SIGNATURE, A.DECRYPT_ERROR)


# --- mutated flights never crash --------------------------------------------------------------------

_FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _mutate(wire: bytes, edits: list[tuple[int, int]], start: int = 5) -> bytes:
    out = bytearray(wire)
    for position, value in edits:
        out[start + position % (len(out) - start)] = value
    return bytes(out)


_edits = st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 255)), min_size=1, max_size=3)


@_FUZZ
@given(edits=_edits)
def test_mutated_client_hello_never_crashes_the_server(client_config: ClientConfig, server_config: ServerConfig, edits: list[tuple[int, int]]) -> None:
    """RFC 8446 §6.2: whatever the peer sends, the answer is an alert, never an internal error."""
    pair = ConnectionPair.make(client_config, server_config)
    wire = _mutate(pair.client.data_to_send(), edits)
    try:
        pair.server.receive_bytes(wire)
    except InternalError:
        raise
    except TLSError as error:
        assert pair.server.phase is Phase.FAILED
        assert error.alert is None or pair.server.data_to_send()


@_FUZZ
@given(edits=_edits)
def test_mutated_server_hello_never_crashes_the_client(client_config: ClientConfig, server_config: ServerConfig, edits: list[tuple[int, int]]) -> None:
    """RFC 8446 §6.2: whatever the peer sends, the answer is an alert, never an internal error."""
    pair = ConnectionPair.make(client_config, server_config)
    pair.client_to_server()
    flight = pair.server.data_to_send()
    hello_end = 5 + int.from_bytes(flight[3:5], "big")
    wire = _mutate(flight[:hello_end], edits) + flight[hello_end:]
    try:
        pair.client.receive_bytes(wire)
    except InternalError:
        raise
    except TLSError as error:
        assert pair.client.phase is Phase.FAILED
        assert error.alert is None or pair.client.data_to_send()


def _greased_client_state(pair: ConnectionPair, hello: ClientHello) -> bytes:
    """Make the client believe it sent ``hello`` (so transcripts agree) and return its record."""
    raw = encode_message(hello)
    pair.client._state = dataclasses.replace(pair.client._state, hello=hello, hello_raw=raw)  # type: ignore[type-var]
    return record(ContentType.HANDSHAKE, raw, version=0x0301)


def _psk_offer() -> ext.OfferedPsks:
    return ext.OfferedPsks(identities=(ext.PskIdentity(identity=b"ticket-from-elsewhere", obfuscated_ticket_age=7),), binders=(bytes(32),))


# --- found by this file and since fixed (regression tests) -----------------------------------------


def test_pre_shared_key_without_psk_key_exchange_modes(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.9 / §9.2: a pre_shared_key offer without psk_key_exchange_modes MUST be refused (missing_extension)."""
    hello = replace_ext(client_hello(pair), drop=ext.PskKeyExchangeModes, add=(_psk_offer(),))
    wire = handshake_record(hello)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.MISSING_PSK_KEY_EXCHANGE_MODES, A.MISSING_EXTENSION)


def test_client_refuses_both_record_size_limit_and_max_fragment_length(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8449 §5: a client MUST treat receipt of both max_fragment_length and record_size_limit as fatal (illegal_parameter)."""
    from handclasp.wire.enums import MaxFragmentLength

    client = dataclasses.replace(client_config, record_size_limit=1024, max_fragment_length=1024)
    pair = ConnectionPair.make(client, server_config)

    def edit(msgs: list[Message]) -> list[Message]:
        both = (ext.RecordSizeLimit(limit=1024), ext.MaxFragmentLengthExt(code=MaxFragmentLength.LEN_1024))
        return [EncryptedExtensions(extensions=both) if isinstance(m, EncryptedExtensions) else m for m in msgs]

    wire = rewrite_encrypted_flight(pair, edit)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BOTH_RECORD_SIZE_LIMIT_AND_MAX_FRAGMENT_LENGTH, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_client_certificate_entry_with_an_unrequested_extension(auth_pair: ConnectionPair) -> None:
    """RFC 8446 §4.2/§4.4.2: Certificate extensions must answer the CertificateRequest's; others are unsupported_extension."""
    def edit(msgs: list[Message]) -> list[Message]:
        out: list[Message] = []
        for m in msgs:
            if (c := plain_certificate(m)) is not None:
                status = ext.OpaqueExtension(extension_type=ext.ExtensionType.STATUS_REQUEST, data=b"\x01\x00\x00\x01x")
                first = dataclasses.replace(c.certificate_list[0], extensions=(status,))
                m = dataclasses.replace(c, certificate_list=(first, *c.certificate_list[1:]))
            out.append(m)
        return out

    wire = rewrite_client_flight(auth_pair, edit)
    expect_failure(auth_pair.server, lambda: auth_pair.server.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION)


# --- known bugs outside wire/ (xfail strict: each starts passing, and so fails, once fixed) --------


def test_too_many_key_updates_in_a_row(done: ConnectionPair) -> None:
    """RFC 8446 §4.6.3 (DoS limit): KeyUpdates without application data between them are bounded."""
    from handclasp.common.limits import MAX_KEY_UPDATES_IN_A_ROW

    for _ in range(MAX_KEY_UPDATES_IN_A_ROW):
        done.client.key_update(request_peer=False)
    done.client_to_server()
    done.client.key_update(request_peer=False)
    expect_failure(done.server, done.client_to_server, PeerMisbehaved, M.TOO_MANY_KEY_UPDATES, A.UNEXPECTED_MESSAGE)


def test_server_reports_the_clients_plaintext_alert_after_server_hello(pair: ConnectionPair) -> None:
    """RFC 8446 §6: alerts use the sender's current state, so a client rejecting ServerHello alerts in plaintext."""
    hello, _ = server_hello_flight(pair)
    bad = dataclasses.replace(hello, legacy_session_id_echo=bytes(32))
    expect_failure(pair.client, _client_gets(pair, bad), PeerMisbehaved, M.WRONG_SESSION_ID_ECHO, A.ILLEGAL_PARAMETER)
    with pytest.raises(AlertReceived) as received:
        pair.server.receive_bytes(alert_record(AlertLevel.FATAL, A.ILLEGAL_PARAMETER))
    assert received.value.description is A.ILLEGAL_PARAMETER


def test_server_skips_rejected_early_data(pair: ConnectionPair) -> None:
    """RFC 8446 §4.2.10: a server that rejects 0-RTT skips records that fail deprotection, up to max_early_data_size."""
    hello = replace_ext(client_hello(pair), add=(ext.EarlyDataIndication(), _psk_offer()))
    early = record(ContentType.APPLICATION_DATA, bytes(64))  # 0-RTT data under keys the server never derived
    pair.server_events += pair.server.receive_bytes(_greased_client_state(pair, hello) + early)
    pair.handshake()
    pair.transfer(b"after rejected early data")


def test_no_key_update_is_sent_after_close_notify(done: ConnectionPair) -> None:
    """RFC 8446 §6.1: after close_notify the sender sends no more messages, not even a requested KeyUpdate."""
    done.client.close()
    closing = done.client.data_to_send()
    assert len(split_records(closing)) == 1
    done.server.key_update(request_peer=True)
    done.server_to_client()
    assert done.client.data_to_send() == b""


def test_close_during_the_handshake_sends_nothing_more_and_blames_no_one(pair: ConnectionPair) -> None:
    """RFC 8446 §6.1: after close_notify nothing more is sent; the peer's in-flight handshake is no misbehaviour."""
    pair.client_to_server()
    pair.client.close()
    assert split_records(pair.client.data_to_send()) == [(ContentType.ALERT, bytes((AlertLevel.WARNING, A.CLOSE_NOTIFY)))]
    flight = pair.server.data_to_send()
    try:
        pair.client.receive_bytes(flight)
    except TLSError as error:
        assert not isinstance(error, PeerMisbehaved), error
    assert pair.client.data_to_send() == b""
