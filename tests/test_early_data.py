"""TLS 1.3 0-RTT early data over in-memory pairs (RFC 8446 §2.3, §4.2.10, §4.5, §8)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.errors import (
    AlertReceived,
    ApiMisuse,
    Incompatibility,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    TLSError,
    UnexpectedMessage,
)
from handclasp.events import (
    ApplicationData,
    EarlyData,
    EarlyDataRejected,
    Event,
    HandshakeComplete,
    HandshakeMessage,
    SessionTicketReceived,
)
from handclasp.server import tls13 as server_tls13
from handclasp.sessions import ClientSession, MemoryReplayGuard, MemorySessionStore, TicketKeys
from handclasp.wire.enums import AlertDescription, ContentType, NamedGroup, ProtocolVersion
from handclasp.wire.extensions import EarlyDataIndication, find
from handclasp.wire.handshake import ClientHello, EndOfEarlyData, Finished, encode_message
from helpers import ConnectionPair, DeterministicProvider, records

MAX_EARLY = 16384


class Clock(DeterministicProvider):
    def advance(self, seconds: float) -> None:
        self._now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock(seed=11, now=1_800_000_000.0)


@pytest.fixture
def server(test_pki: pki.PKI, clock: Clock) -> ServerConfig:
    return ServerConfig(
        certificates=(test_pki.server("ecdsa-p256"),),
        keylog_filename=None,
        provider=clock,
        ticket_keys=TicketKeys(provider=clock, lifetime=3600),
        max_early_data_size=MAX_EARLY,
    )


@pytest.fixture
def client(test_pki: pki.PKI, clock: Clock) -> ClientConfig:
    return ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None, provider=clock, enable_early_data=True)


def ticket(client: ClientConfig, server: ServerConfig) -> ClientSession:
    """A full handshake; the client's last ticket."""
    pair = start(client, server, None)
    pair.handshake()
    pair.server_to_client()  # the NewSessionTickets
    assert pair.client.session is not None
    return pair.client.session


def start(client: ClientConfig, server: ServerConfig, session: ClientSession | None) -> ConnectionPair:
    pair = ConnectionPair(ClientConnection(client, "localhost", session=session), ServerConnection(server))
    pair.client_events += pair.client.start_handshake()
    return pair


def of(kind: type, events: list[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, kind)]


def early_bytes(events: list[Event]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, EarlyData))


def sent_hello(pair: ConnectionPair) -> ClientHello:
    hello = next(e.message for e in pair.client_events if isinstance(e, HandshakeMessage) and e.name == "ClientHello")
    assert isinstance(hello, ClientHello)
    return hello


def negotiated_early(pair: ConnectionPair) -> tuple[bool, bool]:
    c, s = pair.completions()
    return c.negotiated.early_data_accepted, s.negotiated.early_data_accepted


# --- accepted ---------------------------------------------------------------------------------


def test_tickets_carry_max_early_data_size(client: ClientConfig, server: ServerConfig) -> None:
    pair = start(client, server, None)
    pair.handshake()
    pair.server_to_client()
    tickets = of(SessionTicketReceived, pair.client_events)
    assert tickets and all(t.ticket.max_early_data_size == MAX_EARLY for t in tickets)  # type: ignore[attr-defined]
    assert pair.client.session is not None and pair.client.session.session.max_early_data_size == MAX_EARLY
    assert pair.client.early_data_limit == 0  # after the handshake


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_early_data_accepted(client: ClientConfig, server: ServerConfig, mode: str) -> None:
    server = dataclasses.replace(server, tls13_ticket_mode=mode, session_store=MemorySessionStore())
    pair = start(client, server, ticket(client, server))
    assert find(sent_hello(pair).extensions, EarlyDataIndication) is not None
    assert pair.client.early_data_limit == MAX_EARLY
    pair.client.send_early_data(b"GET /early")
    assert pair.client.early_data_limit == MAX_EARLY - len(b"GET /early")
    pair.handshake()
    assert early_bytes(pair.server_events) == b"GET /early"
    kinds = [type(e) for e in pair.server_events]
    assert kinds.index(EarlyData) < kinds.index(HandshakeComplete)
    assert any(isinstance(e, HandshakeMessage) and isinstance(e.message, EndOfEarlyData) for e in pair.server_events)
    assert not of(EarlyDataRejected, pair.client_events)
    assert negotiated_early(pair) == (True, True)
    c, s = pair.completions()
    assert c.negotiated.resumed and s.negotiated.resumed
    assert pair.client.early_data_limit == 0
    with pytest.raises(ApiMisuse):
        pair.client.send_early_data(b"late")
    pair.transfer(b"1-RTT after 0-RTT")
    pair.transfer(b"and back", from_client=False)
    assert not of(ApplicationData, [e for e in pair.server_events if isinstance(e, EarlyData)])


def test_early_data_sent_between_server_hello_and_finished(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §2.3: the client may keep sending 0-RTT data until it sends EndOfEarlyData."""
    pair = start(client, server, ticket(client, server))
    pair.client.send_early_data(b"one ")
    pair.client_to_server()
    flight = records(pair.server.data_to_send())
    pair.client_events += pair.client.receive_bytes(flight[0])  # ServerHello alone
    pair.client.send_early_data(b"two")
    pair.client_events += pair.client.receive_bytes(b"".join(flight[1:]))
    pair.client_to_server()
    assert early_bytes(pair.server_events) == b"one two"
    assert negotiated_early(pair) == (True, True)


def test_early_data_spans_records_up_to_the_limit(client: ClientConfig, server: ServerConfig) -> None:
    server = dataclasses.replace(server, max_early_data_size=40_000)
    pair = start(client, server, ticket(client, server))
    first, second = bytes(range(256)) * 100, b"z" * 14_400  # 25,600 + 14,400 = exactly the limit
    pair.client.send_early_data(first)  # two records
    pair.client.send_early_data(second)
    assert pair.client.early_data_limit == 0
    with pytest.raises(ApiMisuse):
        pair.client.send_early_data(b"!")
    pair.handshake()
    assert early_bytes(pair.server_events) == first + second
    assert len(of(EarlyData, pair.server_events)) >= 3
    assert negotiated_early(pair) == (True, True)


def test_client_refuses_more_than_the_limit_without_partial_write(client: ClientConfig, server: ServerConfig) -> None:
    pair = start(client, server, ticket(client, server))
    queued = pair.client.data_to_send()
    with pytest.raises(ApiMisuse):
        pair.client.send_early_data(b"x" * (MAX_EARLY + 1))
    assert pair.client.data_to_send() == b""
    assert pair.client.early_data_limit == MAX_EARLY
    pair.client.send_early_data(b"fits")
    pair.server_events += pair.server.receive_bytes(queued + pair.client.data_to_send())
    pair.handshake()
    assert early_bytes(pair.server_events) == b"fits"


def test_server_refuses_more_early_data_than_the_ticket_allows(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.10: more than max_early_data_size bytes of 0-RTT data is unexpected_message."""
    session = ticket(client, server)
    inflated = dataclasses.replace(session, session=dataclasses.replace(session.session, max_early_data_size=2 * MAX_EARLY))
    pair = start(client, server, inflated)
    pair.client.send_early_data(b"a" * MAX_EARLY)
    pair.client.send_early_data(b"b")
    with pytest.raises(PeerMisbehaved) as info:
        pair.client_to_server()
    assert info.value.reason is Misbehaviour.TOO_MUCH_EARLY_DATA
    assert info.value.alert is AlertDescription.UNEXPECTED_MESSAGE
    with pytest.raises(AlertReceived) as seen:
        pair.server_to_client()
    assert seen.value.description is AlertDescription.UNEXPECTED_MESSAGE


def test_handshake_message_other_than_end_of_early_data_is_unexpected(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.5: under the early key only application data and EndOfEarlyData may come."""
    pair = start(client, server, ticket(client, server))
    forged = encode_message(Finished(verify_data=bytes(32)))
    pair.client._outgoing.append(pair.client._records.encode(ContentType.HANDSHAKE, forged))
    with pytest.raises(UnexpectedMessage) as info:
        pair.client_to_server()
    assert info.value.alert is AlertDescription.UNEXPECTED_MESSAGE
    assert not of(EarlyData, pair.server_events)


def test_end_of_early_data_must_end_its_record(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §5.1: EndOfEarlyData precedes a key change, so nothing may follow it in its record."""
    pair = start(client, server, ticket(client, server))
    both = encode_message(EndOfEarlyData()) + encode_message(Finished(verify_data=bytes(32)))
    pair.client._outgoing.append(pair.client._records.encode(ContentType.HANDSHAKE, both))
    with pytest.raises(PeerMisbehaved) as info:
        pair.client_to_server()
    assert info.value.reason is Misbehaviour.HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE
    assert info.value.alert is AlertDescription.UNEXPECTED_MESSAGE


def test_keylog_has_client_early_traffic_secret(client: ClientConfig, server: ServerConfig, tmp_path: Path) -> None:
    session = ticket(client, server)
    client_log, server_log = tmp_path / "client.keys", tmp_path / "server.keys"
    pair = start(
        dataclasses.replace(client, keylog_filename=str(client_log)),
        dataclasses.replace(server, keylog_filename=str(server_log)),
        session,
    )
    pair.client.send_early_data(b"logged")
    pair.handshake()

    def early_lines(path: Path) -> set[str]:
        return {line for line in path.read_text().splitlines() if line.startswith("CLIENT_EARLY_TRAFFIC_SECRET ")}

    assert len(early_lines(client_log)) == 1
    assert early_lines(client_log) == early_lines(server_log)
    assert "EARLY_EXPORTER_MASTER_SECRET " in client_log.read_text()


# --- not offered ------------------------------------------------------------------------------


def test_no_early_data_without_server_opt_in(client: ClientConfig, server: ServerConfig) -> None:
    server = dataclasses.replace(server, max_early_data_size=0)
    session = ticket(client, server)
    assert session.session.max_early_data_size == 0
    pair = start(client, server, session)
    assert find(sent_hello(pair).extensions, EarlyDataIndication) is None
    assert pair.client.early_data_limit == 0
    with pytest.raises(ApiMisuse):
        pair.client.send_early_data(b"no")
    pair.handshake()
    assert negotiated_early(pair) == (False, False)
    assert not of(EarlyDataRejected, pair.client_events)


def test_no_early_data_without_client_opt_in(client: ClientConfig, server: ServerConfig) -> None:
    session = ticket(client, server)
    pair = start(dataclasses.replace(client, enable_early_data=False), server, session)
    assert find(sent_hello(pair).extensions, EarlyDataIndication) is None
    assert pair.client.early_data_limit == 0
    with pytest.raises(ApiMisuse):
        pair.client.send_early_data(b"no")


def test_no_early_data_when_ticket_alpn_is_no_longer_offered(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.10: 0-RTT goes with the session's ALPN protocol."""
    client = dataclasses.replace(client, alpn_protocols=("h2",))
    server = dataclasses.replace(server, alpn_protocols=("h2", "http/1.1"))
    session = ticket(client, server)
    assert session.session.alpn_protocol == "h2"
    pair = start(dataclasses.replace(client, alpn_protocols=("http/1.1",)), server, session)
    assert pair.client.early_data_limit == 0
    same = start(client, server, session)
    assert same.client.early_data_limit == MAX_EARLY


def test_no_early_data_before_start_handshake(client: ClientConfig, server: ServerConfig) -> None:
    conn = ClientConnection(client, "localhost", session=ticket(client, server))
    assert conn.early_data_limit == 0
    with pytest.raises(ApiMisuse):
        conn.send_early_data(b"too soon")


# --- offered, rejected -------------------------------------------------------------------------


def rejected_then_resent(pair: ConnectionPair, data: bytes) -> None:
    """The client resends refused 0-RTT data as 1-RTT data (RFC 8446 §4.2.10); it arrives once."""
    pair.client.send_early_data(data)
    pair.handshake()
    assert not of(EarlyData, pair.server_events)
    assert len(of(EarlyDataRejected, pair.client_events)) == 1
    assert negotiated_early(pair) == (False, False)
    with pytest.raises(ApiMisuse):
        pair.client.send_early_data(data)
    pair.transfer(data)


def test_rejected_when_server_turned_early_data_off(client: ClientConfig, server: ServerConfig) -> None:
    session = ticket(client, server)
    pair = start(client, dataclasses.replace(server, max_early_data_size=0), session)
    rejected_then_resent(pair, b"GET /resend")
    assert all(e.negotiated.resumed for e in pair.completions())
    kinds = [type(e) for e in pair.client_events]
    assert kinds.index(EarlyDataRejected) < kinds.index(HandshakeComplete)


def test_rejected_without_anti_replay_guard_for_stateless_tickets(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §8: stateless tickets need ClientHello recording before 0-RTT is accepted."""
    session = ticket(client, server)
    pair = start(client, dataclasses.replace(server, early_data_anti_replay=None), session)
    rejected_then_resent(pair, b"no guard")
    assert all(e.negotiated.resumed for e in pair.completions())


def test_rejected_when_suite_changes(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.10: 0-RTT is accepted only with the ticket's cipher suite."""
    from handclasp.wire.enums import CipherSuite

    session = ticket(client, server)
    assert session.session.cipher_suite == CipherSuite.TLS_AES_128_GCM_SHA256
    other = dataclasses.replace(server, cipher_suites=(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256))
    pair = start(client, other, session)
    rejected_then_resent(pair, b"other suite")
    assert all(e.negotiated.resumed for e in pair.completions())


def test_rejected_on_hello_retry(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.1.2: after a HelloRetryRequest there is no early data (the new hello drops it)."""
    session = ticket(client, server)
    pair = start(
        dataclasses.replace(client, key_share_groups=(NamedGroup.SECP256R1,)),
        dataclasses.replace(server, groups=(NamedGroup.X25519,)),
        session,
    )
    rejected_then_resent(pair, b"before the retry")
    hellos = [e.message for e in pair.client_events if isinstance(e, HandshakeMessage) and e.name == "ClientHello"]
    assert len(hellos) == 2
    assert find(hellos[0].extensions, EarlyDataIndication) is not None  # type: ignore[attr-defined]
    assert find(hellos[1].extensions, EarlyDataIndication) is None  # type: ignore[attr-defined]
    c, s = pair.completions()
    assert c.negotiated.hello_retry and c.negotiated.resumed and s.negotiated.resumed


def test_early_data_in_second_client_hello_is_illegal_parameter(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.1.2: a ClientHello after HelloRetryRequest must not carry early_data."""
    from handclasp.client import hello as client_hello

    session = ticket(client, server)
    pair = start(
        dataclasses.replace(client, key_share_groups=(NamedGroup.SECP256R1,)),
        dataclasses.replace(server, groups=(NamedGroup.X25519,)),
        session,
    )
    original = client_hello._retry_hello

    def keep_early_data(hello: ClientHello, *args: object) -> ClientHello:
        retried = original(hello, *args)  # type: ignore[arg-type]
        return dataclasses.replace(retried, extensions=(EarlyDataIndication(),) + retried.extensions)

    mp = pytest.MonkeyPatch()
    mp.setattr(client_hello, "_retry_hello", keep_early_data)
    try:
        pair.client_to_server()
        pair.server_to_client()
    finally:
        mp.undo()
    with pytest.raises(PeerMisbehaved) as info:
        pair.client_to_server()
    assert info.value.reason is Misbehaviour.EARLY_DATA_AFTER_HELLO_RETRY
    assert info.value.alert is AlertDescription.ILLEGAL_PARAMETER


def test_stale_client_hello_rejects_early_data_but_resumes(test_pki: pki.PKI, clock: Clock, server: ServerConfig) -> None:
    """RFC 8446 §8.3: 0-RTT only when the client's ticket age matches ours within the window."""
    client_clock = Clock(seed=12, now=clock.now())
    client = ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None, provider=client_clock, enable_early_data=True)
    server = dataclasses.replace(server, max_ticket_age_skew=120.0, max_early_data_age_skew=10.0)
    session = ticket(client, server)
    clock.advance(60)  # the server's view: a minute older than the client thinks (still in lifetime)
    pair = start(client, server, session)
    rejected_then_resent(pair, b"stale")
    assert all(e.negotiated.resumed for e in pair.completions())


def test_expired_ticket_means_full_handshake_without_early_data(test_pki: pki.PKI, clock: Clock, server: ServerConfig) -> None:
    client_clock = Clock(seed=13, now=clock.now())
    client = ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None, provider=client_clock, enable_early_data=True)
    session = ticket(client, server)
    clock.advance(3601)  # past the ticket lifetime on the server; the client still offers it
    pair = start(client, server, session)
    assert pair.client.early_data_limit == MAX_EARLY
    rejected_then_resent(pair, b"expired")
    assert not any(e.negotiated.resumed for e in pair.completions())


# --- replay ------------------------------------------------------------------------------------


def first_flight(client: ClientConfig, server: ServerConfig, data: bytes) -> bytes:
    pair = start(client, server, ticket(client, server))
    pair.client.send_early_data(data)
    return pair.client.data_to_send()


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_replayed_first_flight_gets_no_early_data(client: ClientConfig, server: ServerConfig, mode: str) -> None:
    """RFC 8446 §8: the same ClientHello and 0-RTT records, replayed, must not deliver the data again."""
    server = dataclasses.replace(
        server, tls13_ticket_mode=mode, session_store=MemorySessionStore(), early_data_anti_replay=MemoryReplayGuard()
    )
    flight = first_flight(client, server, b"transfer 100 coins")
    original = ServerConnection(server).receive_bytes(flight)
    assert early_bytes(original) == b"transfer 100 coins"
    replayed: list[Event] = []
    replay = ServerConnection(server)
    try:
        replayed = replay.receive_bytes(flight)
    except TLSError:
        pass
    assert not of(EarlyData, replayed)
    assert replay.data_to_send()  # it answered (a flight, or an alert), but delivered nothing
    if mode == "stateless":
        assert server.early_data_anti_replay is not None and len(server.early_data_anti_replay) == 1  # type: ignore[arg-type]


# --- tampering and misbehaving servers ----------------------------------------------------------


def test_tampered_binder_with_early_data_is_decrypt_error(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.11.2: a binder that does not verify aborts with decrypt_error, 0-RTT or not."""
    pair = start(client, server, ticket(client, server))
    pair.client.send_early_data(b"x")
    parts = records(pair.client.data_to_send())
    parts[0] = parts[0][:-1] + bytes([parts[0][-1] ^ 1])  # the ClientHello ends with the binder
    with pytest.raises(PeerMisbehaved) as info:
        pair.server.receive_bytes(b"".join(parts))
    assert info.value.reason is Misbehaviour.BAD_PSK_BINDER
    assert info.value.alert is AlertDescription.DECRYPT_ERROR



def _client_fails(
    pair: ConnectionPair, reason: Misbehaviour, alert: AlertDescription, *, server_hears_it: bool
) -> None:
    """The server's flight makes the client fail with ``reason`` and ``alert`` (which the server then reads)."""
    with pytest.raises(PeerMisbehaved) as info:
        pair.server_to_client()
    assert (info.value.reason, info.value.alert) == (reason, alert)
    if server_hears_it:
        with pytest.raises(AlertReceived) as seen:
            pair.client_to_server()
        assert seen.value.description is alert


def test_unsolicited_early_data_in_encrypted_extensions(
    client: ClientConfig, server: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8446 §4.2: early_data in EncryptedExtensions without our offer is unsupported_extension."""
    original = server_tls13._encrypted_extensions

    def with_early_data(*args: object) -> tuple[object, ...]:
        return original(*args) + (EarlyDataIndication(),)  # type: ignore[arg-type,operator]

    monkeypatch.setattr(server_tls13, "_encrypted_extensions", with_early_data)
    pair = start(dataclasses.replace(client, enable_early_data=False), server, None)
    pair.client_to_server()
    _client_fails(pair, Misbehaviour.UNSOLICITED_EXTENSION, AlertDescription.UNSUPPORTED_EXTENSION, server_hears_it=True)


def test_accepted_early_data_with_other_alpn_is_illegal_parameter(
    client: ClientConfig, server: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8446 §4.2.10: accepted 0-RTT must keep the session's ALPN protocol (else illegal_parameter)."""
    from handclasp.server import hello as server_hello

    client = dataclasses.replace(client, alpn_protocols=("h2", "http/1.1"))
    session = ticket(client, dataclasses.replace(server, alpn_protocols=("h2",)))
    assert session.session.alpn_protocol == "h2"
    monkeypatch.setattr(server_hello, "accept_early_data", lambda *args: True)  # a careless server
    pair = start(client, dataclasses.replace(server, alpn_protocols=("http/1.1",)), session)
    pair.client.send_early_data(b"h2 request")
    pair.client_to_server()
    _client_fails(pair, Misbehaviour.EARLY_DATA_PARAMETERS_CHANGED, AlertDescription.ILLEGAL_PARAMETER, server_hears_it=True)


def test_accepted_early_data_for_second_identity_is_illegal_parameter(
    test_pki: pki.PKI, client: ClientConfig, server: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8446 §4.2.10: a server accepting 0-RTT must have selected identity 0."""
    from handclasp.server import hello as server_hello
    from handclasp.sessions.psk import ExternalPsk

    psk = ExternalPsk(identity=b"ext", key=b"k" * 32)
    client = dataclasses.replace(client, external_psk=psk)
    session = ticket(client, server)
    garbled = dataclasses.replace(session, ticket=bytes(len(session.ticket or b"")))  # identity 0 won't open
    monkeypatch.setattr(server_hello, "accept_early_data", lambda *args: True)
    pair = start(client, dataclasses.replace(server, external_psks=(psk,)), garbled)
    pair.client_to_server()
    _client_fails(pair, Misbehaviour.EARLY_DATA_ACCEPTED_FOR_OTHER_PSK, AlertDescription.ILLEGAL_PARAMETER, server_hears_it=False)


def test_tls12_server_hello_after_early_data_fails(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.10: a client that sent 0-RTT data fails on a TLS 1.2 ServerHello."""
    session = ticket(client, server)
    client = dataclasses.replace(client, middlebox_compat=False)  # a TLS 1.2 server would choke on its CCS
    pair = start(client, dataclasses.replace(server, versions=(ProtocolVersion.TLS1_2,)), session)
    pair.client.send_early_data(b"early")
    pair.client_to_server()
    with pytest.raises(PeerIncompatible) as info:
        pair.server_to_client()
    assert info.value.reason is Incompatibility.EARLY_DATA_WITH_OLD_VERSION
    assert info.value.alert is AlertDescription.PROTOCOL_VERSION
    with pytest.raises(AlertReceived) as seen:
        pair.client_to_server()
    assert seen.value.description is AlertDescription.PROTOCOL_VERSION


def test_config_validates_max_early_data_size(server: ServerConfig) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(server, max_early_data_size=-1)
    with pytest.raises(ValueError):
        dataclasses.replace(server, max_early_data_size=2**32)
    assert isinstance(dataclasses.replace(server, max_early_data_size=1).early_data_anti_replay, MemoryReplayGuard)
