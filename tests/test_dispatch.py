"""The dispatcher: in every reachable state, a message the state does not expect is unexpected_message.

Each example steps a real handshake to a state, then delivers one well-formed handshake message of a
type that state does not list in ``expects``, protected with the keys the receiver reads with at that
point.  The receiver must raise UnexpectedMessage, move to Failed and queue an unexpected_message alert.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.connection import Connection, Phase
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.errors import TLSError, UnexpectedMessage
from handclasp.record.layer import RecordLayer
from handclasp.wire import extensions as ext
from handclasp.wire.enums import (
    AlertDescription,
    AlertLevel,
    CertificateCompressionAlgorithm,
    CipherSuite,
    ContentType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from handclasp.wire.handshake import (
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
    frame,
)
from helpers import ConnectionPair

# --- one well-formed message of every kind ----------------------------------------------------------

_SUITE = CipherSuite.TLS_AES_128_GCM_SHA256
SAMPLES: dict[str, tuple[type | None, bytes]] = {
    "ClientHello": (
        ClientHello,
        encode_message(
            ClientHello(
                random=bytes(32),
                legacy_session_id=b"",
                cipher_suites=(_SUITE,),
                extensions=(
                    ext.SupportedVersionsClientHello(versions=(ProtocolVersion.TLS1_3,)),
                    ext.SupportedGroups(groups=(NamedGroup.X25519,)),
                    ext.SignatureAlgorithms(schemes=(SignatureScheme.ED25519,)),
                    ext.KeyShareClientHello(client_shares=()),
                ),
            )
        ),
    ),
    "ServerHello": (
        ServerHello,
        encode_message(
            ServerHello(
                random=b"\x01" * 32,
                legacy_session_id_echo=b"",
                cipher_suite=_SUITE,
                extensions=(ext.SupportedVersionsServerHello(selected_version=ProtocolVersion.TLS1_3),),
            )
        ),
    ),
    "HelloRetryRequest": (
        HelloRetryRequest,
        encode_message(
            HelloRetryRequest(
                legacy_session_id_echo=b"",
                cipher_suite=_SUITE,
                extensions=(ext.KeyShareHelloRetryRequest(selected_group=NamedGroup.SECP256R1),),
            )
        ),
    ),
    "EncryptedExtensions": (EncryptedExtensions, encode_message(EncryptedExtensions(extensions=()))),
    "CertificateRequest": (
        CertificateRequest13,
        encode_message(
            CertificateRequest13(
                certificate_request_context=b"",
                extensions=(ext.SignatureAlgorithms(schemes=(SignatureScheme.ED25519,)),),
            )
        ),
    ),
    "Certificate": (
        Certificate13,
        encode_message(Certificate13(certificate_request_context=b"", certificate_list=(CertificateEntry(cert_data=b"\x30\x00"),))),
    ),
    "CompressedCertificate": (
        CompressedCertificate,
        encode_message(
            CompressedCertificate(
                algorithm=CertificateCompressionAlgorithm.ZLIB, uncompressed_length=7, compressed_certificate_message=b"x"
            )
        ),
    ),
    "CertificateVerify": (
        CertificateVerify,
        encode_message(CertificateVerify(algorithm=SignatureScheme.ED25519, signature=bytes(64))),
    ),
    "Finished": (Finished, encode_message(Finished(verify_data=bytes(32)))),
    "NewSessionTicket": (
        NewSessionTicket13,
        encode_message(NewSessionTicket13(ticket_lifetime=60, ticket_age_add=1, ticket_nonce=b"\x00", ticket=b"t")),
    ),
    "EndOfEarlyData": (EndOfEarlyData, encode_message(EndOfEarlyData())),
    "KeyUpdate": (KeyUpdate, encode_message(KeyUpdate(request_update=KeyUpdateRequest.UPDATE_NOT_REQUESTED))),
    # Types TLS 1.3 does not define (or forbids on the wire): never expected anywhere.
    "hello_request": (None, frame(HandshakeType.HELLO_REQUEST, b"")),
    "server_key_exchange": (None, frame(HandshakeType.SERVER_KEY_EXCHANGE, b"\x03\x00\x1d\x00")),
    "server_hello_done": (None, frame(HandshakeType.SERVER_HELLO_DONE, b"")),
    "client_key_exchange": (None, frame(HandshakeType.CLIENT_KEY_EXCHANGE, b"\x00")),
    "message_hash": (None, frame(HandshakeType.MESSAGE_HASH, bytes(32))),
    "unknown_99": (None, frame(HandshakeType(99), b"\x00\x01")),
}


def test_samples_are_well_formed() -> None:
    for name, (cls, raw) in SAMPLES.items():
        if cls is None:
            with pytest.raises(UnexpectedMessage):
                decode_message(HandshakeType(raw[0]), raw[4:])
        else:
            assert type(decode_message(HandshakeType(raw[0]), raw[4:])) is cls, name


# --- stepping a real handshake to a state -------------------------------------------------------------


class SecretCapture:
    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}

    def log(self, label: str, client_random: bytes, secret: bytes) -> None:
        self.secrets[label] = secret


def _records(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        end = pos + 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
        out.append(data[pos:end])
        pos = end
    return out


def _messages(payload: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(payload):
        end = pos + 4 + int.from_bytes(payload[pos + 1 : pos + 4], "big")
        out.append(payload[pos:end])
        pos = end
    return out


def _plaintext(raw: bytes) -> bytes:
    return bytes((ContentType.HANDSHAKE,)) + b"\x03\x03" + len(raw).to_bytes(2, "big") + raw


@dataclass
class Reached:
    """A connection in some state, and how to deliver handshake bytes to it as its peer would."""

    victim: Connection
    deliver: Callable[[bytes], bytes]   # raw handshake bytes -> wire bytes for the victim


def _protector(secret: bytes, suite: CipherSuite, *, is_client: bool) -> Callable[[bytes], bytes]:
    layer = RecordLayer(is_client=is_client)
    layer.set_write_key(TLS13_SUITES[suite], secret)
    return lambda raw: layer.encode(ContentType.HANDSHAKE, raw)


def _server_flight(pair: ConnectionPair) -> tuple[list[bytes], list[bytes], Callable[[bytes], bytes]]:
    """Client's hello to the server; returns the plaintext records, the encrypted messages, a re-protector."""
    capture = SecretCapture()
    pair.server._ctx.keylog = capture  # type: ignore[assignment]
    pair.client_to_server()
    records = _records(pair.server.data_to_send())
    suite = pair.server._ctx.suite().suite
    secret = capture.secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"]
    reader = RecordLayer(is_client=True)
    reader.set_read_key(TLS13_SUITES[suite], secret)
    plain, messages = [], []
    for rec in records:
        if rec[0] == ContentType.APPLICATION_DATA:
            reader.feed(rec)
            inner = reader.next_record()
            assert inner is not None
            messages += _messages(inner[1])
        else:
            plain.append(rec)
    return plain, messages, _protector(secret, suite, is_client=False)


def client_in_encrypted_flight(before: int) -> Callable[[ConnectionPair], Reached]:
    """The client after ServerHello and the first ``before`` encrypted messages (EE, Certificate, CV)."""

    def step(pair: ConnectionPair) -> Reached:
        plain, messages, protect = _server_flight(pair)
        wire = b"".join(plain)
        if before:
            wire += protect(b"".join(messages[:before]))
        pair.client.receive_bytes(wire)
        return Reached(pair.client, protect)

    return step


def client_expect_server_hello(pair: ConnectionPair) -> Reached:
    return Reached(pair.client, _plaintext)


def client_traffic(pair: ConnectionPair) -> Reached:
    pair.handshake()
    return Reached(pair.client, lambda raw: pair.server._records.encode(ContentType.HANDSHAKE, raw))


def server_expect_client_hello(pair: ConnectionPair) -> Reached:
    pair.client.data_to_send()
    return Reached(pair.server, _plaintext)


def server_expect_second_client_hello(pair: ConnectionPair) -> Reached:
    pair.client_to_server()  # the server config has no group the client shared: HelloRetryRequest
    assert pair.server._ctx.hello_retry
    return Reached(pair.server, _plaintext)


def server_after_flight(pair: ConnectionPair) -> Reached:
    capture = SecretCapture()
    pair.server._ctx.keylog = capture  # type: ignore[assignment]
    pair.client_to_server()
    protect = _protector(capture.secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"], pair.server._ctx.suite().suite, is_client=True)
    return Reached(pair.server, protect)


def server_expect_end_of_early_data(pair: ConnectionPair) -> Reached:
    """A server that accepted 0-RTT (RFC 8446 §2.3) and reads early data until EndOfEarlyData."""
    client_config = dataclasses.replace(pair.client._config, enable_early_data=True)
    server_config = pair.server._config
    first = ConnectionPair.make(client_config, server_config)
    first.handshake()
    first.server_to_client()  # the NewSessionTickets
    client = ClientConnection(client_config, "localhost", session=first.client.session)
    server = ServerConnection(server_config)
    capture = SecretCapture()
    server._ctx.keylog = capture  # type: ignore[assignment]
    client.start_handshake()  # offers early_data; no early record yet, so `protect` starts at sequence 0
    server.receive_bytes(client.data_to_send())
    protect = _protector(capture.secrets["CLIENT_EARLY_TRAFFIC_SECRET"], server._ctx.suite().suite, is_client=True)
    return Reached(server, protect)


def server_traffic(pair: ConnectionPair) -> Reached:
    pair.handshake()
    return Reached(pair.server, lambda raw: pair.client._records.encode(ContentType.HANDSHAKE, raw))


# name -> (how to reach it, server config variant, expected state class name)
STATES: dict[str, tuple[Callable[[ConnectionPair], Reached], str, str]] = {
    "client/ExpectServerHello": (client_expect_server_hello, "plain", "ExpectServerHello"),
    "client/ExpectEncryptedExtensions": (client_in_encrypted_flight(0), "plain", "ExpectEncryptedExtensions"),
    "client/ExpectCertificateOrCertificateRequest": (client_in_encrypted_flight(1), "plain", "ExpectCertificateOrCertificateRequest"),
    "client/ExpectCertificateVerify": (client_in_encrypted_flight(2), "plain", "ExpectCertificateVerify"),
    "client/ExpectFinished": (client_in_encrypted_flight(3), "plain", "ExpectFinished"),
    "client/ExpectCertificate(after request)": (client_in_encrypted_flight(2), "client_auth", "ExpectCertificate"),
    "client/Traffic": (client_traffic, "plain", "Traffic"),
    "server/ExpectClientHello": (server_expect_client_hello, "plain", "ExpectClientHello"),
    "server/ExpectClientHello(retry)": (server_expect_second_client_hello, "hrr", "ExpectClientHello"),
    "server/ExpectClientFinished": (server_after_flight, "plain", "ExpectClientFinished"),
    "server/ExpectClientCertificate": (server_after_flight, "client_auth", "ExpectClientCertificate"),
    "server/ExpectEndOfEarlyData": (server_expect_end_of_early_data, "early", "ExpectEndOfEarlyData"),
    "server/Traffic": (server_traffic, "plain", "Traffic"),
}


@pytest.fixture(scope="module")
def server_configs(test_pki: pki.PKI, server_config: ServerConfig) -> dict[str, ServerConfig]:
    return {
        "plain": server_config,
        "hrr": dataclasses.replace(server_config, groups=(NamedGroup.SECP256R1,)),
        "client_auth": dataclasses.replace(server_config, client_auth="require", client_cadata=test_pki.ca.root_pem),
        "early": dataclasses.replace(server_config, max_early_data_size=1024),
    }


def reach(state: str, client_config: ClientConfig, server_configs: dict[str, ServerConfig]) -> Reached:
    step, variant, class_name = STATES[state]
    pair = ConnectionPair.make(client_config, server_configs[variant])
    reached = step(pair)
    assert type(reached.victim._state).__name__ == class_name
    assert reached.victim.phase is not Phase.FAILED
    return reached


def _expects(conn: Connection) -> tuple[type, ...]:
    return conn._state.expects


@pytest.mark.parametrize("state", list(STATES))
def test_every_state_is_reachable_and_declares_what_it_expects(
    state: str, client_config: ClientConfig, server_configs: dict[str, ServerConfig]
) -> None:
    reached = reach(state, client_config, server_configs)
    expects = _expects(reached.victim)
    assert expects and all(isinstance(cls, type) for cls in expects)
    assert set(expects) <= {cls for cls, _ in SAMPLES.values() if cls is not None}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(state=st.sampled_from(list(STATES)), message=st.sampled_from(list(SAMPLES)))
def test_unexpected_message_in_any_state(
    state: str, message: str, client_config: ClientConfig, server_configs: dict[str, ServerConfig]
) -> None:
    """RFC 8446 §4 / §6.2: a handshake message the state does not expect is a fatal unexpected_message."""
    cls, raw = SAMPLES[message]
    reached = reach(state, client_config, server_configs)
    victim = reached.victim
    if cls is not None and issubclass(cls, _expects(victim)):
        return  # expected here: handled by the state's own tests
    wire = reached.deliver(raw)
    with pytest.raises(UnexpectedMessage) as info:
        victim.receive_bytes(wire)
    error = info.value
    assert error.alert is AlertDescription.UNEXPECTED_MESSAGE
    assert victim.phase is Phase.FAILED and victim.is_closed
    out = victim.data_to_send()
    last = _records(out)[-1]
    if last[0] == ContentType.ALERT:
        assert last[5:] == bytes((AlertLevel.FATAL, AlertDescription.UNEXPECTED_MESSAGE))
    else:
        assert last[0] == ContentType.APPLICATION_DATA and len(last) == 5 + 2 + 1 + 16
    with pytest.raises(TLSError) as again:
        victim.receive_bytes(wire)
    assert again.value is error
