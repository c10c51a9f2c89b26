"""TLS 1.2 negative handshakes: tampered flights and hostile records, each with its exact (type, reason, alert).

Every test names the RFC clause it enforces.  ``expect_failure`` checks what the error boundary
promises (STYLE.md §3): the raised error, the fatal alert record queued for the peer (in TLS 1.2 an
alert record keeps its outer content type, protected or not), and the same error raised again on
every later call.  Flights are edited as an attacker would: the plaintext part is decoded with the
wire classes, changed and re-encoded; protected records are rebuilt with fresh record protections
derived from the handshake's own master secret (``fresh_protections``), so sequence numbers start
where the receiver expects them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.connection import Connection, Phase
from handclasp.crypto.groups import dhe_params_for_group
from handclasp.crypto.provider import DEFAULT_PROVIDER
from handclasp.crypto.signatures import sign
from handclasp.crypto.suites12 import KeyExchangeAlgorithm
from handclasp.errors import (
    AlertReceived,
    BadRecordMac,
    DecodeError,
    Incompatibility,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    RecordOverflow,
    TLSError,
    UnexpectedMessage,
)
from handclasp.events import ApplicationData, HandshakeMessage
from handclasp.record.protection12 import Protection12
from handclasp.tools.certs import CertifiedKey
from handclasp.wire import extensions as ext
from handclasp.wire.enums import (
    AlertDescription,
    AlertLevel,
    CipherSuite,
    ClientCertificateType,
    ContentType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from handclasp.wire.handshake import DOWNGRADE_TLS11, DOWNGRADE_TLS12, ClientHello, Finished, ServerHello
from handclasp.wire.handshake12 import (
    Certificate12,
    CertificateRequest12,
    CertificateVerify12,
    ClientKeyExchange,
    DigitallySigned,
    HelloRequest,
    Message12,
    NewSessionTicket12,
    ServerDHParams,
    ServerECDHParams,
    ServerHelloDone,
    ServerKeyExchange,
    decode_message12,
    decode_server_key_exchange,
    encode_client_key_exchange,
    encode_message12,
)
from helpers import ConnectionPair

A = AlertDescription
M = Misbehaviour
I = Incompatibility  # noqa: E741
S = CipherSuite
TLS12 = ProtocolVersion.TLS1_2
TLS13 = ProtocolVersion.TLS1_3
V12 = 0x0303

# --- record and message helpers -------------------------------------------------------------------


def record(content_type: int, payload: bytes, version: int = V12) -> bytes:
    return bytes((content_type,)) + version.to_bytes(2, "big") + len(payload).to_bytes(2, "big") + payload


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        out.append((data[pos], data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    assert pos == len(data)
    return out


def split_messages(payload: bytes) -> list[Message12]:
    out, pos = [], 0
    while pos < len(payload):
        length = int.from_bytes(payload[pos + 1 : pos + 4], "big")
        out.append(decode_message12(HandshakeType(payload[pos]), payload[pos + 4 : pos + 4 + length], TLS12))
        pos += 4 + length
    return out


def handshake_record(*msgs: Message12) -> bytes:
    return record(ContentType.HANDSHAKE, b"".join(encode_message12(m) for m in msgs))


CCS = record(ContentType.CHANGE_CIPHER_SPEC, b"\x01")


def first(msgs: Sequence[object], cls: type) -> int:
    return next(i for i, m in enumerate(msgs) if type(m) is cls)


def replaced(msgs: Sequence[Message12], new: Message12) -> list[Message12]:
    """``msgs`` with the first message of ``new``'s type swapped for ``new``."""
    out = list(msgs)
    out[first(out, type(new))] = new
    return out


def without(msgs: Sequence[Message12], *classes: type) -> list[Message12]:
    return [m for m in msgs if type(m) not in classes]


def with_extensions(
    hello: ServerHello, drop: type | None = None, add: tuple[ext.Extension | ext.OpaqueExtension, ...] = ()
) -> ServerHello:
    exts = tuple(e for e in hello.extensions if drop is None or not isinstance(e, drop))
    return dataclasses.replace(hello, extensions=exts + add)


@dataclass
class ServerFlight:
    """The client's ClientHello and the server's plaintext first flight, decoded."""

    client_hello: ClientHello
    messages: list[Message12]

    @property
    def server_hello(self) -> ServerHello:
        hello = self.messages[first(self.messages, ServerHello)]
        assert isinstance(hello, ServerHello)
        return hello

    def edit(self, new: Message12) -> list[Message12]:
        return replaced(self.messages, new)

    def key_exchange(self, kx: KeyExchangeAlgorithm) -> ServerECDHParams | ServerDHParams:
        ske = self.messages[first(self.messages, ServerKeyExchange)]
        assert isinstance(ske, ServerKeyExchange)
        return decode_server_key_exchange(ske.body, kx, TLS12).params

    def signed(
        self,
        certified: CertifiedKey,
        params: ServerECDHParams | ServerDHParams,
        scheme: SignatureScheme,
        server_random: bytes | None = None,
    ) -> ServerKeyExchange:
        """A ServerKeyExchange for ``params`` with a *valid* signature (RFC 5246 §7.4.3 signed_params)."""
        randoms = self.client_hello.random + (server_random or self.server_hello.random)
        signature = sign(scheme, certified.private_key, randoms + params.to_bytes(), tls12=True)
        return ServerKeyExchange.from_params(params, DigitallySigned(algorithm=scheme, signature=signature))


def server_flight(pair: ConnectionPair) -> ServerFlight:
    """Send the ClientHello to the server; return it and the server's decoded first flight."""
    data = pair.client.data_to_send()
    ((content_type, payload),) = split_records(data)
    assert content_type == ContentType.HANDSHAKE
    (hello,) = split_messages(payload)
    assert isinstance(hello, ClientHello)
    pair.server.receive_bytes(data)
    records = split_records(pair.server.data_to_send())
    assert {t for t, _ in records} == {ContentType.HANDSHAKE}
    return ServerFlight(hello, split_messages(b"".join(p for _, p in records)))


@dataclass
class ClientFlight:
    """The client's second flight: plaintext messages, its CCS record and its protected Finished."""

    messages: list[Message12]
    ccs: bytes
    finished: bytes


def client_flight(pair: ConnectionPair) -> ClientFlight:
    pair.client_to_server()
    pair.server_to_client()
    (hs_type, payload), (ccs_type, ccs), (fin_type, fin) = split_records(pair.client.data_to_send())
    assert (hs_type, ccs_type, fin_type) == (ContentType.HANDSHAKE, ContentType.CHANGE_CIPHER_SPEC, ContentType.HANDSHAKE)
    return ClientFlight(split_messages(payload), record(ccs_type, ccs), record(fin_type, fin))


def fresh_protections(conn: Connection) -> tuple[Protection12, Protection12]:
    """(client write, server write) at sequence number 0, from the connection's handshake state."""
    hs = conn._state.hs  # type: ignore[attr-defined]
    return hs.protections(DEFAULT_PROVIDER)  # type: ignore[no-any-return]


def sealed(protection: Protection12, content_type: ContentType, payload: bytes) -> bytes:
    return record(content_type, protection.seal(content_type, V12, payload))


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
        content_type, payload = split_records(out)[-1]
        assert content_type == ContentType.ALERT  # TLS 1.2: the outer type is the real one
        if conn._records.is_write_protected:
            assert len(payload) > 2  # sealed
        else:
            assert payload == bytes((AlertLevel.FATAL, alert))
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


# --- configurations -------------------------------------------------------------------------------


def only12(config: ClientConfig, *suites: CipherSuite, **changes: object) -> ClientConfig:
    return dataclasses.replace(config, versions=(TLS12,), cipher_suites=suites or config.cipher_suites, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rsa_server(test_pki: pki.PKI) -> ServerConfig:
    return ServerConfig(certificates=(test_pki.server("rsa2048"),), keylog_filename=None)


@pytest.fixture(scope="module")
def server12(server_config: ServerConfig) -> ServerConfig:
    """A TLS 1.2-only server: no downgrade sentinel in ServerHello.random."""
    return dataclasses.replace(server_config, versions=(TLS12,))


@pytest.fixture
def pair(client_config: ClientConfig, server12: ServerConfig) -> ConnectionPair:
    return ConnectionPair.make(only12(client_config), server12)


@pytest.fixture
def done(pair: ConnectionPair) -> ConnectionPair:
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.version == TLS12
    return pair


@pytest.fixture
def auth_server(test_pki: pki.PKI, server12: ServerConfig) -> ServerConfig:
    return dataclasses.replace(server12, client_auth="require", client_cadata=test_pki.ca.root_pem)


# --- out-of-order messages: the client ------------------------------------------------------------


def test_server_hello_done_before_certificate(pair: ConnectionPair) -> None:
    """RFC 5246 §7.3, §7.4.2: a non-anonymous suite puts Certificate right after ServerHello (unexpected_message)."""
    flight = server_flight(pair)
    wire = handshake_record(flight.server_hello, ServerHelloDone())
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_second_server_hello(pair: ConnectionPair) -> None:
    """RFC 5246 §7.3: exactly one ServerHello per handshake; a second one is unexpected_message."""
    flight = server_flight(pair)
    wire = handshake_record(flight.server_hello, *flight.messages)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_server_hello_done_without_server_key_exchange(pair: ConnectionPair) -> None:
    """RFC 8422 §5.4 / RFC 5246 §7.4.3: ECDHE needs ServerKeyExchange after Certificate (unexpected_message)."""
    flight = server_flight(pair)
    wire = handshake_record(*without(flight.messages, ServerKeyExchange))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_certificate_request_before_server_key_exchange(pair: ConnectionPair) -> None:
    """RFC 5246 §7.3: CertificateRequest follows ServerKeyExchange; earlier it is unexpected_message."""
    flight = server_flight(pair)
    request = CertificateRequest12(
        certificate_types=(ClientCertificateType.ECDSA_SIGN,),
        supported_signature_algorithms=(SignatureScheme.ECDSA_SECP256R1_SHA256,),
        certificate_authorities=(),
    )
    msgs = list(flight.messages)
    msgs.insert(first(msgs, ServerKeyExchange), request)
    wire = handshake_record(*msgs)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_server_key_exchange_with_rsa_key_transport(client_config: ClientConfig, rsa_server: ServerConfig) -> None:
    """RFC 5246 §7.4.3: it is not legal to send ServerKeyExchange for the RSA key exchange (unexpected_message)."""
    suite = S.TLS_RSA_WITH_AES_128_GCM_SHA256
    server = dataclasses.replace(rsa_server, versions=(TLS12,), legacy_rsa_key_exchange=True, cipher_suites=(suite,))
    pair = ConnectionPair.make(only12(client_config, suite, legacy_rsa_key_exchange=True), server)
    flight = server_flight(pair)
    msgs = list(flight.messages)
    msgs.insert(first(msgs, ServerHelloDone), ServerKeyExchange(body=b"\x03\x00\x1d\x01\x09\x04\x03\x00\x00"))
    wire = handshake_record(*msgs)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_tls13_only_message_in_a_tls12_handshake(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4: EncryptedExtensions does not exist in TLS 1.2, so it is unexpected_message."""
    flight = server_flight(pair)
    wire = record(ContentType.HANDSHAKE, encode_message12(flight.server_hello) + b"\x08\x00\x00\x02\x00\x00")
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_hello_request_during_the_handshake_is_ignored(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.1.1: HelloRequest "will be ignored by the client if [it] is currently negotiating a session"
    and is not part of the handshake hash (OpenSSL skips it the same way)."""
    flight = server_flight(pair)
    msgs = list(flight.messages)
    msgs.insert(1, HelloRequest())
    pair.client.receive_bytes(handshake_record(*msgs))
    pair.client_to_server()
    pair.server_to_client()
    assert pair.client.handshake_complete and pair.server.handshake_complete


def test_server_finished_before_change_cipher_spec(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.9: Finished comes right after ChangeCipherSpec; a plaintext one before it is unexpected_message."""
    client_flight(pair)
    wire = handshake_record(Finished(verify_data=bytes(12)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE)


def test_new_session_ticket_that_was_not_announced(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5077 §3.3: NewSessionTicket MUST NOT be sent without the SessionTicket extension in ServerHello."""
    pair = ConnectionPair.make(only12(client_config), dataclasses.replace(server12, session_tickets=False))
    client_flight_ = client_flight(pair)
    pair.server.receive_bytes(handshake_record(*client_flight_.messages) + client_flight_.ccs + client_flight_.finished)
    records = split_records(pair.server.data_to_send())
    assert [t for t, _ in records] == [ContentType.CHANGE_CIPHER_SPEC, ContentType.HANDSHAKE]
    wire = handshake_record(NewSessionTicket12(ticket_lifetime_hint=3600, ticket=b"unannounced")) + CCS
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_missing_new_session_ticket(pair: ConnectionPair) -> None:
    """RFC 5077 §3.3: after announcing a ticket the server sends NewSessionTicket before its CCS (unexpected_message)."""
    client_flight_ = client_flight(pair)
    pair.server.receive_bytes(handshake_record(*client_flight_.messages) + client_flight_.ccs + client_flight_.finished)
    records = split_records(pair.server.data_to_send())
    assert [t for t, _ in records] == [ContentType.HANDSHAKE, ContentType.CHANGE_CIPHER_SPEC, ContentType.HANDSHAKE]
    wire = b"".join(record(t, p) for t, p in records[1:])
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE)


def test_early_change_cipher_spec_to_the_client(pair: ConnectionPair) -> None:
    """RFC 5246 §7.1 (CVE-2014-0224): a ChangeCipherSpec before the keys exist is unexpected_message."""
    flight = server_flight(pair)
    wire = handshake_record(flight.server_hello) + CCS
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_application_data_from_the_server_before_finished(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.9: no application data before the Finished messages are verified (unexpected_message)."""
    client_flight(pair)
    wire = record(ContentType.APPLICATION_DATA, b"too early")
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.APPLICATION_DATA_BEFORE_HANDSHAKE, A.UNEXPECTED_MESSAGE)


# --- out-of-order messages: the server ------------------------------------------------------------


def test_client_key_exchange_before_certificate_when_requested(
    test_pki: pki.PKI, client_config: ClientConfig, auth_server: ServerConfig
) -> None:
    """RFC 5246 §7.4.6: after a CertificateRequest the client's first message is Certificate (unexpected_message)."""
    pair = ConnectionPair.make(only12(client_config, certificate=test_pki.client), auth_server)
    flight = client_flight(pair)
    assert [type(m) for m in flight.messages] == [Certificate12, ClientKeyExchange, CertificateVerify12]
    wire = handshake_record(*without(flight.messages, Certificate12, CertificateVerify12))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.client)


def test_certificate_verify_missing(test_pki: pki.PKI, client_config: ClientConfig, auth_server: ServerConfig) -> None:
    """RFC 5246 §7.4.8: a client certificate with signing ability needs CertificateVerify before CCS (unexpected_message)."""
    pair = ConnectionPair.make(only12(client_config, certificate=test_pki.client), auth_server)
    flight = client_flight(pair)
    wire = handshake_record(*without(flight.messages, CertificateVerify12)) + flight.ccs
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE, peer=pair.client)


def test_unrequested_client_certificate(test_pki: pki.PKI, pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.6: the client sends Certificate only if the server asked for one (unexpected_message)."""
    flight = client_flight(pair)
    wire = handshake_record(Certificate12(certificate_list=test_pki.client.chain_der), *flight.messages)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.client)


def test_certificate_verify_without_certificate(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.8: CertificateVerify only follows a client certificate (unexpected_message)."""
    flight = client_flight(pair)
    verify = CertificateVerify12(algorithm=SignatureScheme.ECDSA_SECP256R1_SHA256, signature=b"\x30\x00")
    wire = handshake_record(*flight.messages, verify)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.client)


def test_client_finished_before_change_cipher_spec(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.9: the client's Finished must follow its ChangeCipherSpec (unexpected_message)."""
    flight = client_flight(pair)
    wire = handshake_record(*flight.messages) + handshake_record(Finished(verify_data=bytes(12)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=pair.client)


def test_early_change_cipher_spec_to_the_server(pair: ConnectionPair) -> None:
    """RFC 5246 §7.1 (CVE-2014-0224): ChangeCipherSpec right after ClientHello, before any key, is unexpected_message."""
    wire = pair.client.data_to_send() + CCS
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE)


def test_application_data_to_the_server_before_the_handshake(pair: ConnectionPair) -> None:
    """RFC 5246 §6.2 / §7.4.9: application data before the handshake completes is unexpected_message."""
    wire = pair.client.data_to_send() + record(ContentType.APPLICATION_DATA, b"early")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.APPLICATION_DATA_BEFORE_HANDSHAKE, A.UNEXPECTED_MESSAGE)


def test_protected_application_data_in_place_of_client_finished(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.9: after CCS the next record must be Finished, not application data (unexpected_message)."""
    flight = client_flight(pair)
    client_write, _ = fresh_protections(pair.client)
    wire = handshake_record(*flight.messages) + flight.ccs + sealed(client_write, ContentType.APPLICATION_DATA, b"early")
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.APPLICATION_DATA_BEFORE_HANDSHAKE, A.UNEXPECTED_MESSAGE)


def test_second_client_hello_during_the_handshake(pair: ConnectionPair) -> None:
    """RFC 5246 §7.3: after its flight the server waits for ClientKeyExchange; a new ClientHello is unexpected_message."""
    flight = server_flight(pair)
    wire = handshake_record(flight.client_hello)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE)


def test_handshake_message_split_around_change_cipher_spec(pair: ConnectionPair) -> None:
    """RFC 5246 §6.2.1 / RFC 8446 §5.1: a handshake message may not be interleaved with a CCS (unexpected_message)."""
    flight = client_flight(pair)
    raw = encode_message12(flight.messages[0])
    wire = record(ContentType.HANDSHAKE, raw[:10]) + flight.ccs
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.INTERLEAVED_HANDSHAKE, A.UNEXPECTED_MESSAGE)


# --- ChangeCipherSpec ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"\x02", b"\x00", b"\x01\x01", b""], ids=["02", "00", "0101", "empty"])
def test_change_cipher_spec_with_a_wrong_byte(pair: ConnectionPair, payload: bytes) -> None:
    """RFC 5246 §7.1: ChangeCipherSpec is the single byte 1; anything else is unexpected_message."""
    flight = client_flight(pair)
    wire = handshake_record(*flight.messages) + record(ContentType.CHANGE_CIPHER_SPEC, payload)
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.INVALID_CCS, A.UNEXPECTED_MESSAGE, peer=pair.client)


def test_change_cipher_spec_twice(pair: ConnectionPair) -> None:
    """RFC 5246 §6.1, §7.1: after CCS every record is protected, so a second plaintext CCS fails as bad_record_mac."""
    flight = client_flight(pair)
    wire = handshake_record(*flight.messages) + flight.ccs + flight.ccs
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), BadRecordMac, None, A.BAD_RECORD_MAC, peer=pair.client)


def test_change_cipher_spec_after_the_handshake(done: ConnectionPair) -> None:
    """RFC 5246 §7.1 / RFC 5746 §4: no renegotiation, so a ChangeCipherSpec after the handshake is unexpected_message."""
    wire = done.client._records.encode(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), PeerMisbehaved, M.UNEXPECTED_CCS, A.UNEXPECTED_MESSAGE, peer=done.client)


# --- Finished ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("verify_data", ["flipped", "zeros"])
def test_forged_client_finished(pair: ConnectionPair, verify_data: str) -> None:
    """RFC 5246 §7.4.9: the server checks the client's verify_data; a wrong one is decrypt_error."""
    flight = client_flight(pair)
    client_write, _ = fresh_protections(pair.client)
    good = pair.client._state.hs.finished(is_client=True)  # type: ignore[attr-defined]
    forged = bytes((good[0] ^ 1,)) + good[1:] if verify_data == "flipped" else bytes(12)
    finished = sealed(client_write, ContentType.HANDSHAKE, encode_message12(Finished(verify_data=forged)))
    wire = handshake_record(*flight.messages) + flight.ccs + finished
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_FINISHED, A.DECRYPT_ERROR, peer=pair.client)


def test_forged_server_finished(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.9: the client checks the server's verify_data; a wrong one is decrypt_error."""
    flight = client_flight(pair)
    _, server_write = fresh_protections(pair.client)
    pair.server.receive_bytes(handshake_record(*flight.messages) + flight.ccs + flight.finished)
    records = split_records(pair.server.data_to_send())
    assert records[-2][0] == ContentType.CHANGE_CIPHER_SPEC
    finished = sealed(server_write, ContentType.HANDSHAKE, encode_message12(Finished(verify_data=bytes(12))))
    wire = b"".join(record(t, p) for t, p in records[:-1]) + finished
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BAD_FINISHED, A.DECRYPT_ERROR, peer=pair.server)


def test_forged_server_finished_in_an_abbreviated_handshake(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5246 §7.3, §7.4.9: in a resumed handshake the server's Finished comes first and is checked (decrypt_error)."""
    first_pair = ConnectionPair.make(only12(client_config), server12)
    first_pair.handshake()
    pair = ConnectionPair(ClientConnection(only12(client_config), "localhost", session=first_pair.client.session), ServerConnection(server12))
    pair.client.start_handshake()
    pair.client_to_server()
    records = split_records(pair.server.data_to_send())
    assert records[-2][0] == ContentType.CHANGE_CIPHER_SPEC
    plain = b"".join(record(t, p) for t, p in records[:-2])
    pair.client.receive_bytes(plain)  # ServerHello (+ NewSessionTicket): the client now resumes
    _, server_write = fresh_protections(pair.client)
    forged = sealed(server_write, ContentType.HANDSHAKE, encode_message12(Finished(verify_data=bytes(12))))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(CCS + forged), PeerMisbehaved, M.BAD_FINISHED, A.DECRYPT_ERROR)


def test_client_finished_of_the_wrong_length(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.9: verify_data is verify_data_length (12) bytes; another length is a decode_error."""
    flight = client_flight(pair)
    client_write, _ = fresh_protections(pair.client)
    finished = sealed(client_write, ContentType.HANDSHAKE, encode_message12(Finished(verify_data=bytes(13))))
    wire = handshake_record(*flight.messages) + flight.ccs + finished
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), DecodeError, None, A.DECODE_ERROR)


# --- ServerKeyExchange -------------------------------------------------------------------------------


SKE_CASES = [
    ("ecdsa-p256", S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    ("rsa2048", S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    ("rsa2048", S.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256),
]


def _kx_pair(test_pki: pki.PKI, client_config: ClientConfig, key_type: str, suite: CipherSuite, **server: object) -> ConnectionPair:
    config = ServerConfig(certificates=(test_pki.server(key_type),), versions=(TLS12,), keylog_filename=None, **server)  # type: ignore[arg-type]
    return ConnectionPair.make(only12(client_config, suite), config)


@pytest.mark.parametrize("tamper", ["server_random", "params"])
@pytest.mark.parametrize(("key_type", "suite"), SKE_CASES, ids=lambda x: getattr(x, "name", x))
def test_bad_server_key_exchange_signature(
    test_pki: pki.PKI, client_config: ClientConfig, key_type: str, suite: CipherSuite, tamper: str
) -> None:
    """RFC 5246 §7.4.3: the signature covers both randoms and the params; any change is decrypt_error."""
    pair = _kx_pair(test_pki, client_config, key_type, suite)
    flight = server_flight(pair)
    if tamper == "server_random":
        random = bytes((flight.server_hello.random[0] ^ 1,)) + flight.server_hello.random[1:]
        msgs = flight.edit(dataclasses.replace(flight.server_hello, random=random))
    else:
        ske = flight.messages[first(flight.messages, ServerKeyExchange)]
        assert isinstance(ske, ServerKeyExchange)
        body = bytearray(ske.body)
        body[8] ^= 1  # inside the ECDHE point / DH prime
        msgs = flight.edit(ServerKeyExchange(body=bytes(body)))
    wire = handshake_record(*msgs)
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BAD_SIGNATURE, A.DECRYPT_ERROR, peer=pair.server)


def test_server_key_exchange_signed_with_a_scheme_we_did_not_offer(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    """RFC 5246 §7.4.1.4.1, §7.4.3: the SKE signature must use an offered scheme (illegal_parameter), valid or not."""
    client = only12(client_config, signature_schemes=(SignatureScheme.ECDSA_SECP384R1_SHA384,))
    certified = test_pki.server("ecdsa-p256")
    pair = ConnectionPair.make(client, ServerConfig(certificates=(certified,), versions=(TLS12,), keylog_filename=None))
    flight = server_flight(pair)
    params = flight.key_exchange(KeyExchangeAlgorithm.ECDHE)
    resigned = flight.signed(certified, params, SignatureScheme.ECDSA_SECP256R1_SHA256)
    wire = handshake_record(*flight.edit(resigned))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNOFFERED_SIGNATURE_SCHEME, A.ILLEGAL_PARAMETER, peer=pair.server)


@pytest.mark.parametrize("scheme", [0x0203, 0x0201, 0x0101, 0xFEFE], ids=["ecdsa_sha1", "rsa_pkcs1_sha1", "md5_rsa", "unknown"])
def test_server_key_exchange_with_an_unoffered_algorithm_id(pair: ConnectionPair, scheme: int) -> None:
    """RFC 5246 §7.4.1.4.1: SHA-1/MD5 pairs and unknown ids were not in our signature_algorithms (illegal_parameter)."""
    flight = server_flight(pair)
    ske = flight.messages[first(flight.messages, ServerKeyExchange)]
    assert isinstance(ske, ServerKeyExchange)
    parsed = decode_server_key_exchange(ske.body, KeyExchangeAlgorithm.ECDHE, TLS12)
    signed = DigitallySigned(algorithm=SignatureScheme(scheme), signature=parsed.signed.signature)
    wire = handshake_record(*flight.edit(ServerKeyExchange.from_params(parsed.params, signed)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNOFFERED_SIGNATURE_SCHEME, A.ILLEGAL_PARAMETER)


def test_server_key_exchange_scheme_that_does_not_fit_the_key(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.3: the scheme must fit the certificate's key; RSA-PSS on an ECDSA key is illegal_parameter."""
    flight = server_flight(pair)
    ske = flight.messages[first(flight.messages, ServerKeyExchange)]
    assert isinstance(ske, ServerKeyExchange)
    parsed = decode_server_key_exchange(ske.body, KeyExchangeAlgorithm.ECDHE, TLS12)
    signed = DigitallySigned(algorithm=SignatureScheme.RSA_PSS_RSAE_SHA256, signature=parsed.signed.signature)
    wire = handshake_record(*flight.edit(ServerKeyExchange.from_params(parsed.params, signed)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SIGNATURE_SCHEME_KEY_MISMATCH, A.ILLEGAL_PARAMETER)


def test_server_key_exchange_with_trailing_bytes(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.3: the message is exactly params + signature; extra bytes are a decode_error."""
    flight = server_flight(pair)
    ske = flight.messages[first(flight.messages, ServerKeyExchange)]
    assert isinstance(ske, ServerKeyExchange)
    wire = handshake_record(*flight.edit(ServerKeyExchange(body=ske.body + b"\x00")))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), DecodeError, None, A.DECODE_ERROR)


def test_ecdhe_curve_we_did_not_offer(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    """RFC 8422 §5.4: the server picks a curve from the client's supported_groups; another is illegal_parameter."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    client = only12(client_config, groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    certified = test_pki.server("ecdsa-p256")
    pair = ConnectionPair.make(client, ServerConfig(certificates=(certified,), versions=(TLS12,), keylog_filename=None))
    flight = server_flight(pair)
    point = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    params = ServerECDHParams(named_curve=NamedGroup.SECP384R1, public=point)
    wire = handshake_record(*flight.edit(flight.signed(certified, params, SignatureScheme.ECDSA_SECP256R1_SHA256)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_GROUP, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_explicit_curve_parameters(pair: ConnectionPair) -> None:
    """RFC 8422 §5.4: explicit_prime/explicit_char2 curves are deprecated and never offered (illegal_parameter)."""
    flight = server_flight(pair)
    wire = handshake_record(*flight.edit(ServerKeyExchange(body=b"\x01" + bytes(40))))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_GROUP, A.ILLEGAL_PARAMETER)


def _p256_point(offset: int) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    y = (int.from_bytes(point[33:], "big") + offset) % 2**256
    return point[:33] + y.to_bytes(32, "big")


BAD_POINTS = {
    "x25519-zero": (NamedGroup.X25519, bytes(32)),
    "x25519-order-8": (NamedGroup.X25519, bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")),
    "x25519-short": (NamedGroup.X25519, bytes(30) + b"\x09"),
    "p256-off-curve": (NamedGroup.SECP256R1, _p256_point(1)),
    "p256-compressed": (NamedGroup.SECP256R1, b"\x02" + _p256_point(0)[1:33]),
    "p256-infinity": (NamedGroup.SECP256R1, b"\x00"),
    "p256-truncated": (NamedGroup.SECP256R1, _p256_point(0)[:-1]),
}


@pytest.mark.parametrize("case", sorted(BAD_POINTS))
def test_bad_ecdhe_point_from_the_server(test_pki: pki.PKI, client_config: ClientConfig, case: str) -> None:
    """RFC 8422 §5.4, §5.11 / RFC 7748 §6.1: an invalid, compressed or small-order point is illegal_parameter."""
    group, point = BAD_POINTS[case]
    certified = test_pki.server("ecdsa-p256")
    server = ServerConfig(certificates=(certified,), versions=(TLS12,), groups=(group,), keylog_filename=None)
    pair = ConnectionPair.make(only12(client_config), server)
    flight = server_flight(pair)
    params = ServerECDHParams(named_curve=group, public=point)
    wire = handshake_record(*flight.edit(flight.signed(certified, params, SignatureScheme.ECDSA_SECP256R1_SHA256)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER, peer=pair.server)


P2048, G2048 = dhe_params_for_group(NamedGroup.FFDHE2048)
# RFC 3526 §2: the 1536-bit MODP group (generator 2).
MODP_1536 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd"
    "ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f"
    "83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca237327ffffffffffffffff",
    16,
)


def _int(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


DH_CASES: dict[str, tuple[int, int, int, type[TLSError], object, AlertDescription]] = {
    "ys-zero": (P2048, 2, 0, PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER),
    "ys-one": (P2048, 2, 1, PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER),
    "ys-p-minus-one": (P2048, 2, P2048 - 1, PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER),
    "ys-p": (P2048, 2, P2048, PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER),
    "ys-above-p": (P2048, 2, P2048 + 5, PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER),
    "weak-1536-bit-group": (MODP_1536, 2, 4, PeerIncompatible, I.WEAK_DH_GROUP, A.INSUFFICIENT_SECURITY),
    "even-prime": (P2048 + 1, 2, 4, PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER),
}


@pytest.mark.parametrize("case", sorted(DH_CASES))
def test_bad_dh_values_from_the_server(test_pki: pki.PKI, client_config: ClientConfig, case: str) -> None:
    """RFC 7919 §3, §5.1 / RFC 5246 §7.4.3: Ys outside (1, p-1) or a bad group is illegal_parameter;
    a prime under 2048 bits is insufficient_security (RFC 7919 §1, Logjam)."""
    p, g, ys, error_type, reason, alert = DH_CASES[case]
    pair = _kx_pair(test_pki, client_config, "rsa2048", S.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256)
    flight = server_flight(pair)
    params = ServerDHParams(dh_p=_int(p), dh_g=_int(g), dh_ys=_int(ys))
    resigned = flight.signed(test_pki.server("rsa2048"), params, SignatureScheme.RSA_PSS_RSAE_SHA256)
    wire = handshake_record(*flight.edit(resigned))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), error_type, reason, alert, peer=pair.server)


# --- ClientKeyExchange ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["x25519-zero", "x25519-order-8", "x25519-short", "p256-off-curve", "p256-compressed"])
def test_bad_ecdhe_point_from_the_client(test_pki: pki.PKI, client_config: ClientConfig, case: str) -> None:
    """RFC 8422 §5.7, §5.11 / RFC 7748 §6.1: the server validates the client's point (illegal_parameter)."""
    group, point = BAD_POINTS[case]
    server = ServerConfig(certificates=(test_pki.server(),), versions=(TLS12,), groups=(group,), keylog_filename=None)
    pair = ConnectionPair.make(only12(client_config), server)
    flight = client_flight(pair)
    cke = ClientKeyExchange(body=encode_client_key_exchange(KeyExchangeAlgorithm.ECDHE, point))
    wire = handshake_record(*replaced(flight.messages, cke))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER, peer=pair.client)


@pytest.mark.parametrize("yc", [0, 1, P2048 - 1, P2048], ids=["zero", "one", "p-1", "p"])
def test_bad_dh_value_from_the_client(test_pki: pki.PKI, client_config: ClientConfig, yc: int) -> None:
    """RFC 7919 §5.1 / RFC 5246 §7.4.7.2: dh_Yc outside (1, p-1) is illegal_parameter."""
    pair = _kx_pair(test_pki, client_config, "rsa2048", S.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256)
    flight = client_flight(pair)
    cke = ClientKeyExchange(body=encode_client_key_exchange(KeyExchangeAlgorithm.DHE, _int(yc)))
    wire = handshake_record(*replaced(flight.messages, cke))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_KEY_SHARE, A.ILLEGAL_PARAMETER, peer=pair.client)


@pytest.mark.parametrize("body", [b"", b"\x00", b"\x20" + bytes(31), b"\x20" + bytes(33)], ids=["empty", "empty-point", "short", "trailing"])
def test_malformed_client_key_exchange(pair: ConnectionPair, body: bytes) -> None:
    """RFC 8422 §5.7: ClientECDiffieHellmanPublic is point<1..2^8-1>, exactly; anything else is decode_error."""
    flight = client_flight(pair)
    wire = handshake_record(*replaced(flight.messages, ClientKeyExchange(body=body)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), DecodeError, None, A.DECODE_ERROR, peer=pair.client)


# --- client authentication --------------------------------------------------------------------------


def test_required_client_certificate_absent(client_config: ClientConfig, auth_server: ServerConfig) -> None:
    """RFC 5246 §7.4.6: a server that requires a certificate answers an empty one with handshake_failure
    (certificate_required exists only in TLS 1.3)."""
    pair = ConnectionPair.make(only12(client_config), auth_server)
    flight = client_flight(pair)
    assert flight.messages[0] == Certificate12(certificate_list=())
    wire = handshake_record(*flight.messages) + flight.ccs + flight.finished
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerIncompatible, I.NO_CLIENT_CERTIFICATE, A.HANDSHAKE_FAILURE, peer=pair.client)


def test_requested_client_certificate_may_be_absent(client_config: ClientConfig, auth_server: ServerConfig) -> None:
    """RFC 5246 §7.4.6: with an optional request, an empty Certificate lets the handshake go on."""
    pair = ConnectionPair.make(only12(client_config), dataclasses.replace(auth_server, client_auth="request"))
    pair.handshake()
    _, s = pair.completions()
    assert s.negotiated.peer_certificates == () and s.negotiated.client_certificate_requested


def test_bad_client_certificate_verify_signature(test_pki: pki.PKI, client_config: ClientConfig, auth_server: ServerConfig) -> None:
    """RFC 5246 §7.4.8: CertificateVerify signs all handshake messages so far; a wrong signature is decrypt_error."""
    pair = ConnectionPair.make(only12(client_config, certificate=test_pki.client), auth_server)
    flight = client_flight(pair)
    verify = flight.messages[first(flight.messages, CertificateVerify12)]
    assert isinstance(verify, CertificateVerify12)
    wrong = sign(verify.algorithm, test_pki.client.private_key, b"some other transcript", tls12=True)
    wire = handshake_record(*replaced(flight.messages, CertificateVerify12(algorithm=verify.algorithm, signature=wrong)))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_SIGNATURE, A.DECRYPT_ERROR, peer=pair.client)


def test_client_certificate_verify_with_an_unoffered_scheme(test_pki: pki.PKI, client_config: ClientConfig, auth_server: ServerConfig) -> None:
    """RFC 5246 §7.4.8: the scheme must be one from CertificateRequest.supported_signature_algorithms (illegal_parameter)."""
    pair = ConnectionPair.make(only12(client_config, certificate=test_pki.client), auth_server)
    flight = client_flight(pair)
    verify = flight.messages[first(flight.messages, CertificateVerify12)]
    assert isinstance(verify, CertificateVerify12)
    forged = CertificateVerify12(algorithm=SignatureScheme(0x0203), signature=verify.signature)  # ecdsa_sha1
    wire = handshake_record(*replaced(flight.messages, forged))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.UNOFFERED_SIGNATURE_SCHEME, A.ILLEGAL_PARAMETER, peer=pair.client)


def test_empty_certificate_list_from_the_server(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.2: non-anonymous suites need the server's certificate; an empty list is refused (decode_error)."""
    flight = server_flight(pair)
    wire = handshake_record(*flight.edit(Certificate12(certificate_list=())))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.NO_CERTIFICATE_FROM_SERVER, A.DECODE_ERROR, peer=pair.server)


def test_server_certificate_key_that_does_not_fit_the_suite(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5246 §7.4.2: an ECDHE_RSA suite needs an RSA certificate; an ECDSA one is unsupported_certificate."""
    pair = ConnectionPair.make(only12(client_config), server12)
    flight = server_flight(pair)
    assert flight.server_hello.cipher_suite == S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    hello = dataclasses.replace(flight.server_hello, cipher_suite=S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
    wire = handshake_record(*flight.edit(hello))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerIncompatible, I.UNSUPPORTED_CERTIFICATE, A.UNSUPPORTED_CERTIFICATE, peer=pair.server)


# --- ServerHello --------------------------------------------------------------------------------------


def _edited_server_hello(pair: ConnectionPair, edit: Callable[[ServerHello], ServerHello]) -> bytes:
    flight = server_flight(pair)
    return handshake_record(*flight.edit(edit(flight.server_hello)))


def test_server_hello_with_an_unoffered_suite(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5246 §7.4.1.3: the suite is one from ClientHello.cipher_suites; another is illegal_parameter."""
    pair = ConnectionPair.make(only12(client_config, S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), server12)
    wire = _edited_server_hello(pair, lambda h: dataclasses.replace(h, cipher_suite=S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_SUITE, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_tls13_suite_in_a_tls12_server_hello(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3: a TLS 1.3 suite cannot be used with TLS 1.2 (illegal_parameter),
    even though a 1.3-capable client offered it."""
    pair = ConnectionPair.make(client_config, server12)
    wire = _edited_server_hello(pair, lambda h: dataclasses.replace(h, cipher_suite=S.TLS_AES_128_GCM_SHA256))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_SUITE, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_scsv_in_a_server_hello(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5746 §3.3 / RFC 7507 §4: signalling values are not cipher suites (illegal_parameter)."""
    pair = ConnectionPair.make(only12(client_config, fallback_scsv=True), server12)
    wire = _edited_server_hello(pair, lambda h: dataclasses.replace(h, cipher_suite=S.TLS_FALLBACK_SCSV))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_SUITE, A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("method", [1, 64, 255])
def test_server_hello_with_compression(pair: ConnectionPair, method: int) -> None:
    """RFC 5246 §7.4.1.3 / RFC 7457 §2.6 (CRIME): we offer only null compression; another is illegal_parameter."""
    wire = _edited_server_hello(pair, lambda h: dataclasses.replace(h, legacy_compression_method=method))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.NONZERO_COMPRESSION, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_server_hello_with_unsolicited_alpn(pair: ConnectionPair) -> None:
    """RFC 5246 §7.4.1.4 / RFC 7301 §3.1: an extension the client did not offer is unsupported_extension."""
    alpn = ext.ApplicationLayerProtocolNegotiation(protocols=(b"h2",))
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, add=(alpn,)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION, peer=pair.server)


def test_server_hello_with_an_alpn_protocol_we_did_not_offer(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 7301 §3.1: the server picks one of the client's protocols; another is illegal_parameter."""
    pair = ConnectionPair.make(only12(client_config, alpn_protocols=("h2",)), server12)
    alpn = ext.ApplicationLayerProtocolNegotiation(protocols=(b"http/1.1",))
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, drop=ext.ApplicationLayerProtocolNegotiation, add=(alpn,)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_ALPN, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_server_hello_with_unsolicited_session_ticket(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5077 §3.2 / RFC 5246 §7.4.1.4: SessionTicket in ServerHello without our offer is unsupported_extension."""
    pair = ConnectionPair.make(only12(client_config, session_tickets=False), server12)
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, add=(ext.SessionTicketExt(ticket=b""),)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION, peer=pair.server)


def test_server_hello_with_encrypt_then_mac_for_an_aead_suite(pair: ConnectionPair) -> None:
    """RFC 7366 §3: the server MUST NOT answer encrypt_then_mac when it picks an AEAD suite (unsupported_extension)."""
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, drop=ext.EncryptThenMac, add=(ext.EncryptThenMac(),)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION, peer=pair.server)


def test_server_hello_with_unsolicited_encrypt_then_mac(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 7366 §2 / RFC 5246 §7.4.1.4: encrypt_then_mac we did not offer is unsupported_extension."""
    pair = ConnectionPair.make(only12(client_config, encrypt_then_mac=False), server12)
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, add=(ext.EncryptThenMac(),)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION, peer=pair.server)


def test_cbc_suite_without_encrypt_then_mac(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 7366 §3 (our policy): a CBC suite without encrypt-then-MAC is refused outside legacy mode (handshake_failure)."""
    pair = ConnectionPair.make(only12(client_config, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256), server12)
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, drop=ext.EncryptThenMac))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerIncompatible, I.NO_ENCRYPT_THEN_MAC, A.HANDSHAKE_FAILURE, peer=pair.server)


def test_server_hello_without_renegotiation_info(pair: ConnectionPair) -> None:
    """RFC 5746 §3.4: a server without renegotiation_info does not do secure renegotiation; we refuse it
    (handshake_failure, RFC 5746 §4.1 allows clients to abort)."""
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, drop=ext.RenegotiationInfo))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerIncompatible, I.NO_SECURE_RENEGOTIATION, A.HANDSHAKE_FAILURE, peer=pair.server)


def test_server_hello_with_non_empty_renegotiation_info(pair: ConnectionPair) -> None:
    """RFC 5746 §3.4: on an initial handshake renegotiated_connection must be empty, else handshake_failure."""
    info = ext.RenegotiationInfo(renegotiated_connection=bytes(24))
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, drop=ext.RenegotiationInfo, add=(info,)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.BAD_RENEGOTIATION_INFO, A.HANDSHAKE_FAILURE, peer=pair.server)


def test_server_hello_without_extended_master_secret(pair: ConnectionPair) -> None:
    """RFC 7627 §5.2, §5.4 (our default policy): without EMS we abort (handshake_failure)."""
    wire = _edited_server_hello(pair, lambda h: with_extensions(h, drop=ext.ExtendedMasterSecret))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerIncompatible, I.NO_EXTENDED_MASTER_SECRET, A.HANDSHAKE_FAILURE, peer=pair.server)


@pytest.mark.parametrize("sentinel", [DOWNGRADE_TLS12, DOWNGRADE_TLS11], ids=["DOWNGRD01", "DOWNGRD00"])
def test_downgrade_sentinel_seen_by_a_tls13_client(client_config: ClientConfig, server12: ServerConfig, sentinel: bytes) -> None:
    """RFC 8446 §4.1.3: a TLS 1.3 client receiving a TLS 1.2 ServerHello ending in a sentinel aborts (illegal_parameter)."""
    pair = ConnectionPair.make(client_config, server12)
    wire = _edited_server_hello(pair, lambda h: dataclasses.replace(h, random=h.random[:24] + sentinel))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.DOWNGRADE_DETECTED, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_downgrade_by_stripping_supported_versions(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.3: a 1.3+1.2 server answers a ClientHello stripped of supported_versions with the sentinel,
    and the 1.3 client detects the downgrade (illegal_parameter)."""
    from helpers import strip_extension_from_client_hello

    pair = ConnectionPair.make(client_config, server_config)
    pair.client_to_server(tamper=lambda data: strip_extension_from_client_hello(data, ext.SupportedVersionsClientHello))
    wire = pair.server.data_to_send()
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.DOWNGRADE_DETECTED, A.ILLEGAL_PARAMETER, peer=pair.server)


def test_fallback_scsv_below_the_best_version(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 7507 §3: TLS_FALLBACK_SCSV with a version below the server's highest is inappropriate_fallback."""
    pair = ConnectionPair.make(only12(client_config, fallback_scsv=True), server_config)
    wire = pair.client.data_to_send()
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerIncompatible, I.INAPPROPRIATE_FALLBACK, A.INAPPROPRIATE_FALLBACK, peer=pair.client)


def test_fallback_scsv_at_the_best_version_is_accepted(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 7507 §3: the SCSV at the server's highest version is no downgrade; the handshake goes on."""
    pair = ConnectionPair.make(only12(client_config, fallback_scsv=True), server12)
    pair.handshake()
    assert pair.completions()[0].negotiated.version == TLS12


def test_client_hello_with_non_empty_renegotiation_info(pair: ConnectionPair) -> None:
    """RFC 5746 §3.6: on an initial handshake a non-empty renegotiated_connection is handshake_failure."""
    ((_, payload),) = split_records(pair.client.data_to_send())
    (hello,) = split_messages(payload)
    assert isinstance(hello, ClientHello)
    info = ext.RenegotiationInfo(renegotiated_connection=bytes(12))
    exts = tuple(e for e in hello.extensions if not isinstance(e, ext.RenegotiationInfo)) + (info,)
    wire = handshake_record(dataclasses.replace(hello, extensions=exts))
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerMisbehaved, M.BAD_RENEGOTIATION_INFO, A.HANDSHAKE_FAILURE, peer=pair.client)


# --- renegotiation ------------------------------------------------------------------------------------


def _spy_warnings(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> list[AlertDescription]:
    sent: list[AlertDescription] = []
    original = conn.send_warning_alert

    def spy(description: AlertDescription) -> None:
        sent.append(description)
        original(description)

    monkeypatch.setattr(conn, "send_warning_alert", spy)
    return sent


def test_hello_request_is_refused_with_no_renegotiation(done: ConnectionPair, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 5746 §4.2 / RFC 5246 §7.4.1.1: the client refuses renegotiation with a no_renegotiation warning
    and the connection carries on in both directions."""
    sent = _spy_warnings(done.client, monkeypatch)
    done.server.send(HelloRequest())
    done.server._flush_handshake()
    events = done.server_to_client()
    assert [e for e in events if not isinstance(e, HandshakeMessage)] == []
    assert sent == [A.NO_RENEGOTIATION]
    wire = done.client.data_to_send()
    assert [t for t, _ in split_records(wire)] == [ContentType.ALERT]
    assert [e for e in done.server.receive_bytes(wire) if not isinstance(e, HandshakeMessage)] == []
    done.transfer(b"still here")
    done.transfer(b"and back", from_client=False)


def test_client_hello_after_the_handshake_is_refused_with_no_renegotiation(
    done: ConnectionPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 5746 §4.4 / RFC 5246 §7.4.1.2: the server refuses a renegotiating ClientHello with a no_renegotiation
    warning and the connection carries on."""
    sent = _spy_warnings(done.server, monkeypatch)
    hello = ClientHello(
        legacy_version=TLS12,
        random=bytes(32),
        legacy_session_id=b"",
        cipher_suites=(S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,),
        extensions=(ext.RenegotiationInfo(renegotiated_connection=bytes(12)),),
    )
    done.client.send(hello)
    done.client._flush_handshake()
    done.client_to_server()
    assert sent == [A.NO_RENEGOTIATION]
    wire = done.server.data_to_send()
    assert [t for t, _ in split_records(wire)] == [ContentType.ALERT]
    done.client.receive_bytes(wire)
    done.transfer(b"still here")
    done.transfer(b"and back", from_client=False)


def test_hello_request_to_the_server(done: ConnectionPair) -> None:
    """RFC 5246 §7.4.1.1: HelloRequest goes from server to client only; the server treats it as unexpected_message."""
    done.client.send(HelloRequest())
    done.client._flush_handshake()
    wire = done.client.data_to_send()
    expect_failure(done.server, lambda: done.server.receive_bytes(wire), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE, peer=done.client)


def test_hello_request_flood(done: ConnectionPair) -> None:
    """RFC 5246 §7.4.1.1 (DoS limit): endless HelloRequests without data are cut off (unexpected_message)."""
    from handclasp.common.limits import MAX_POST_HANDSHAKE_MESSAGES_IN_A_ROW

    flood = encode_message12(HelloRequest()) * (MAX_POST_HANDSHAKE_MESSAGES_IN_A_ROW + 1)
    wire = done.server._records.encode(ContentType.HANDSHAKE, flood)
    expect_failure(done.client, lambda: done.client.receive_bytes(wire), PeerMisbehaved, M.TOO_MANY_POST_HANDSHAKE_MESSAGES, A.UNEXPECTED_MESSAGE)


# --- resumption and the extended master secret -------------------------------------------------------


def _first_session(client: ClientConfig, server: ServerConfig):  # type: ignore[no-untyped-def]
    first_pair = ConnectionPair.make(client, server)
    first_pair.handshake()
    session = first_pair.client.session
    assert session is not None
    return session


@pytest.mark.parametrize("by", ["ticket", "session_id"])
def test_ems_session_resumed_without_ems(client_config: ClientConfig, server12: ServerConfig, by: str) -> None:
    """RFC 7627 §5.3: a session with EMS offered in a ClientHello without EMS makes the server abort (handshake_failure)."""
    server = server12 if by == "ticket" else dataclasses.replace(server12, session_tickets=False)
    session = _first_session(only12(client_config), server)
    assert session.session.extended_master_secret and (session.ticket is not None) == (by == "ticket")
    client = only12(client_config, offer_extended_master_secret=False, require_extended_master_secret=False)
    pair = ConnectionPair(ClientConnection(client, "localhost", session=session), ServerConnection(server))
    pair.client.start_handshake()
    wire = pair.client.data_to_send()
    expect_failure(pair.server, lambda: pair.server.receive_bytes(wire), PeerIncompatible, I.NO_EXTENDED_MASTER_SECRET, A.HANDSHAKE_FAILURE, peer=pair.client)


@pytest.mark.parametrize("by", ["ticket", "session_id"])
def test_non_ems_session_offered_with_ems_gets_a_full_handshake(client_config: ClientConfig, server12: ServerConfig, by: str) -> None:
    """RFC 7627 §5.3: a session without EMS is not resumed by a ClientHello with EMS; the server does a full handshake."""
    server = dataclasses.replace(server12, require_extended_master_secret=False, session_tickets=by == "ticket")
    relaxed = only12(client_config, offer_extended_master_secret=False, require_extended_master_secret=False)
    session = _first_session(relaxed, server)
    assert not session.session.extended_master_secret
    client = only12(client_config, require_extended_master_secret=False)
    pair = ConnectionPair(ClientConnection(client, "localhost", session=session), ServerConnection(server))
    pair.client.start_handshake()
    pair.handshake()
    c, s = pair.completions()
    assert not c.negotiated.resumed and not s.negotiated.resumed
    assert c.negotiated.extended_master_secret and s.negotiated.extended_master_secret


def test_resumed_server_hello_without_ems(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 7627 §5.3: resuming an EMS session, a ServerHello without EMS makes the client abort."""
    server = dataclasses.replace(server12, session_tickets=False)
    session = _first_session(only12(client_config), server)
    pair = ConnectionPair(ClientConnection(only12(client_config), "localhost", session=session), ServerConnection(server))
    pair.client.start_handshake()
    pair.client_to_server()
    records = split_records(pair.server.data_to_send())
    (hello,) = split_messages(records[0][1])
    assert isinstance(hello, ServerHello) and hello.legacy_session_id_echo == session.session_id
    wire = handshake_record(with_extensions(hello, drop=ext.ExtendedMasterSecret))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.RESUMPTION_PARAMETERS_CHANGED, A.ILLEGAL_PARAMETER)


def test_resumed_server_hello_with_another_suite(client_config: ClientConfig, server12: ServerConfig) -> None:
    """RFC 5246 §7.4.1.3: a resumed session keeps its cipher suite; another is illegal_parameter."""
    server = dataclasses.replace(server12, session_tickets=False)
    session = _first_session(only12(client_config), server)
    assert session.session.cipher_suite == S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    pair = ConnectionPair(ClientConnection(only12(client_config), "localhost", session=session), ServerConnection(server))
    pair.client.start_handshake()
    pair.client_to_server()
    (hello,) = split_messages(split_records(pair.server.data_to_send())[0][1])
    assert isinstance(hello, ServerHello)
    wire = handshake_record(dataclasses.replace(hello, cipher_suite=S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.RESUMPTION_PARAMETERS_CHANGED, A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("tamper", ["flip-first", "flip-middle", "flip-last", "truncate", "garbage", "extend"])
def test_tampered_session_ticket_gets_a_full_handshake(client_config: ClientConfig, server12: ServerConfig, tamper: str) -> None:
    """RFC 5077 §3.4: a ticket the server cannot use is ignored, and a full handshake follows (not an error)."""
    session = _first_session(only12(client_config), server12)
    ticket = session.ticket
    assert ticket
    middle = len(ticket) // 2
    bad = {
        "flip-first": bytes((ticket[0] ^ 1,)) + ticket[1:],
        "flip-middle": ticket[:middle] + bytes((ticket[middle] ^ 0x40,)) + ticket[middle + 1 :],
        "flip-last": ticket[:-1] + bytes((ticket[-1] ^ 0x80,)),
        "truncate": ticket[:20],
        "garbage": bytes(range(256))[: len(ticket)],
        "extend": ticket + b"\x00",
    }[tamper]
    offered = dataclasses.replace(session, ticket=bad)
    pair = ConnectionPair(ClientConnection(only12(client_config), "localhost", session=offered), ServerConnection(server12))
    pair.client.start_handshake()
    pair.handshake()
    c, s = pair.completions()
    assert not c.negotiated.resumed and not s.negotiated.resumed
    pair.transfer(b"full handshake")
    assert pair.client.session is not None and pair.client.session.ticket not in (None, bad, ticket)


# --- records under TLS 1.2 protection ----------------------------------------------------------------


PROTECTIONS = {
    "aes-gcm": (S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, {}),
    "chacha20": (S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, {}),
    "cbc-etm": (S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, {}),
    "cbc-sha1-etm": (S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, {}),
    "cbc-mte-legacy": (S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, {"legacy_versions": True}),
}


@pytest.fixture(params=sorted(PROTECTIONS))
def protected(request: pytest.FixtureRequest, client_config: ClientConfig, server12: ServerConfig) -> ConnectionPair:
    suite, extra = PROTECTIONS[request.param]
    client = only12(client_config, suite, **extra)
    if request.param == "cbc-mte-legacy":
        client = dataclasses.replace(client, encrypt_then_mac=False)
    pair = ConnectionPair.make(client, dataclasses.replace(server12, **extra))  # type: ignore[arg-type]
    pair.handshake()
    assert pair.completions()[0].negotiated.cipher_suite == suite
    return pair


def _app_record(pair: ConnectionPair, data: bytes = b"hello, world") -> bytes:
    pair.client.send_application_data(data)
    wire = pair.client.data_to_send()
    assert len(split_records(wire)) == 1
    return wire


@pytest.mark.parametrize("where", ["last", "first-body", "type"])
def test_tampered_record_is_bad_record_mac(protected: ConnectionPair, where: str) -> None:
    """RFC 5246 §6.2.3.2-3 / RFC 7366 §3: the ciphertext and the content type (in the MAC / AEAD additional
    data) are authenticated; any change is bad_record_mac."""
    wire = bytearray(_app_record(protected))
    position = {"last": -1, "first-body": 5, "type": 0}[where]
    wire[position] ^= {"type": ContentType.APPLICATION_DATA ^ ContentType.HANDSHAKE}.get(where, 1)
    expect_failure(protected.server, lambda: protected.server.receive_bytes(bytes(wire)), BadRecordMac, None, A.BAD_RECORD_MAC, peer=protected.client)


@pytest.mark.parametrize("version", [0x0302], ids=["0302"])
def test_record_with_an_altered_version_is_refused(protected: ConnectionPair, version: int) -> None:
    """RFC 5246 §6.2.1, §6.2.3.3: TLSCiphertext.version is the negotiated one and is authenticated, so a changed
    version fails (bad_record_mac, or protocol_version if checked from the header first)."""
    wire = bytearray(_app_record(protected))
    wire[1:3] = version.to_bytes(2, "big")
    with pytest.raises((BadRecordMac, PeerMisbehaved)) as info:
        protected.server.receive_bytes(bytes(wire))
    assert info.value.alert in (A.BAD_RECORD_MAC, A.PROTOCOL_VERSION)
    assert protected.server.phase is Phase.FAILED


@pytest.mark.parametrize("keep", [0, 1, 7, 8, 15, 16, 17, 24, 31, 32, -1])
def test_truncated_record_body_is_bad_record_mac(protected: ConnectionPair, keep: int) -> None:
    """RFC 5246 §6.2.3 / RFC 7366 §3: a body too short for nonce/IV, tag or MAC, or cut by a byte, is bad_record_mac
    (never a decode_error or an internal error)."""
    (content_type, body), = split_records(_app_record(protected))
    wire = record(content_type, body[: min(keep, len(body) - 1)] if keep >= 0 else body[:keep])
    expect_failure(protected.server, lambda: protected.server.receive_bytes(wire), BadRecordMac, None, A.BAD_RECORD_MAC, peer=protected.client)


def test_replayed_record_is_bad_record_mac(protected: ConnectionPair) -> None:
    """RFC 5246 §6.1, §6.2.3: the implicit sequence number is authenticated, so a replayed record is bad_record_mac."""
    wire = _app_record(protected)
    assert [e.data for e in protected.server.receive_bytes(wire) if isinstance(e, ApplicationData)] == [b"hello, world"]
    expect_failure(protected.server, lambda: protected.server.receive_bytes(wire), BadRecordMac, None, A.BAD_RECORD_MAC, peer=protected.client)


def test_reordered_records_are_bad_record_mac(protected: ConnectionPair) -> None:
    """RFC 5246 §6.1: records are authenticated in sequence; swapping two is bad_record_mac."""
    one, two = _app_record(protected, b"one"), _app_record(protected, b"two")
    expect_failure(protected.server, lambda: protected.server.receive_bytes(two + one), BadRecordMac, None, A.BAD_RECORD_MAC, peer=protected.client)


def test_oversized_protected_record_is_record_overflow(protected: ConnectionPair) -> None:
    """RFC 5246 §6.2.3: a TLSCiphertext length over 2^14 + 2048 is record_overflow, refused from the header."""
    header = bytes((ContentType.APPLICATION_DATA,)) + b"\x03\x03" + (2**14 + 2049).to_bytes(2, "big")
    expect_failure(protected.server, lambda: protected.server.receive_bytes(header), RecordOverflow, None, A.RECORD_OVERFLOW, peer=protected.client)


def test_largest_legal_protected_record_reaches_the_mac(protected: ConnectionPair) -> None:
    """RFC 5246 §6.2.3: 2^14 + 2048 is a legal ciphertext length, so a forged one fails as bad_record_mac."""
    wire = record(ContentType.APPLICATION_DATA, bytes(2**14 + 2048))
    expect_failure(protected.server, lambda: protected.server.receive_bytes(wire), BadRecordMac, None, A.BAD_RECORD_MAC, peer=protected.client)


def test_authentic_record_with_oversized_plaintext_is_record_overflow(protected: ConnectionPair) -> None:
    """RFC 5246 §6.2.1, §7.2.2: a record that decrypts to more than 2^14 bytes is record_overflow."""
    write = protected.client._records._write12
    assert write is not None
    wire = sealed(write, ContentType.APPLICATION_DATA, bytes(2**14 + 1))
    expect_failure(protected.server, lambda: protected.server.receive_bytes(wire), RecordOverflow, None, A.RECORD_OVERFLOW, peer=protected.client)


def test_authentic_empty_application_data_record_is_accepted(protected: ConnectionPair) -> None:
    """RFC 5246 §6.2.1: zero-length application data fragments MAY be sent (traffic analysis countermeasure)."""
    write = protected.client._records._write12
    assert write is not None
    assert protected.server.receive_bytes(sealed(write, ContentType.APPLICATION_DATA, b"")) == []
    protected.transfer(b"after the empty record")


def test_oversized_plaintext_record_in_the_tls12_handshake(pair: ConnectionPair) -> None:
    """RFC 5246 §6.2.1: a TLSPlaintext length over 2^14 is record_overflow."""
    server_flight(pair)
    header = bytes((ContentType.HANDSHAKE,)) + b"\x03\x03" + (2**14 + 1).to_bytes(2, "big")
    expect_failure(pair.client, lambda: pair.client.receive_bytes(header), RecordOverflow, None, A.RECORD_OVERFLOW, peer=pair.server)


def test_zero_length_handshake_fragment_in_tls12(pair: ConnectionPair) -> None:
    """RFC 5246 §6.2.1: zero-length fragments of handshake type MUST NOT be sent (unexpected_message)."""
    server_flight(pair)
    wire = record(ContentType.HANDSHAKE, b"")
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.EMPTY_HANDSHAKE_RECORD, A.UNEXPECTED_MESSAGE, peer=pair.server)


def test_ffdhe_group_named_in_ecdhe_params(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    """RFC 8422 §5.4, RFC 7919 §4: ECParameters name an elliptic curve; an FFDHE group there is a group the
    client never offered for ECDHE (illegal_parameter)."""
    certified = test_pki.server("ecdsa-p256")
    pair = ConnectionPair.make(only12(client_config), ServerConfig(certificates=(certified,), versions=(TLS12,), keylog_filename=None))
    flight = server_flight(pair)
    params = ServerECDHParams(named_curve=NamedGroup.FFDHE2048, public=bytes(254) + b"\x02")
    wire = handshake_record(*flight.edit(flight.signed(certified, params, SignatureScheme.ECDSA_SECP256R1_SHA256)))
    expect_failure(pair.client, lambda: pair.client.receive_bytes(wire), PeerMisbehaved, M.SERVER_SELECTED_UNOFFERED_GROUP, A.ILLEGAL_PARAMETER, peer=pair.server)
