"""TLS 1.3 resumption, external PSKs and post-handshake authentication over in-memory pairs."""

from __future__ import annotations

import dataclasses

import pytest

import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.errors import ApiMisuse, Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.events import HandshakeComplete, PeerCertificateReceived, SessionTicketReceived
from handclasp.sessions import ClientSession, ClientSessionCache, MemorySessionStore, TicketKeys
from handclasp.sessions.psk import ExternalPsk
from handclasp.wire.enums import AlertDescription, CipherSuite, NamedGroup, PskKeyExchangeMode
from handclasp.wire.extensions import OfferedPsks, find
from helpers import ConnectionPair, DeterministicProvider

SHA384_SUITE = CipherSuite.TLS_AES_256_GCM_SHA384


class Clock(DeterministicProvider):
    def advance(self, seconds: float) -> None:
        self._now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock(seed=7, now=1_800_000_000.0)


@pytest.fixture
def server(test_pki: pki.PKI, clock: Clock) -> ServerConfig:
    keys = TicketKeys(provider=clock, lifetime=3600)
    return ServerConfig(
        certificates=(test_pki.server("ecdsa-p256"),), keylog_filename=None, provider=clock, ticket_keys=keys
    )


@pytest.fixture
def client(test_pki: pki.PKI, clock: Clock) -> ClientConfig:
    return ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None, provider=clock)


def connect(
    client: ClientConfig, server: ServerConfig, session: ClientSession | None = None, *, port: int | None = None
) -> ConnectionPair:
    pair = ConnectionPair(ClientConnection(client, "localhost", port=port, session=session), ServerConnection(server))
    pair.client.start_handshake()
    pair.handshake()
    pair.server_to_client()  # the NewSessionTickets
    return pair


def resumed(pair: ConnectionPair) -> tuple[bool, bool]:
    c, s = pair.completions()
    return c.negotiated.resumed, s.negotiated.resumed


def test_server_sends_two_tickets_and_client_keeps_the_last(client: ClientConfig, server: ServerConfig) -> None:
    pair = connect(client, server)
    tickets = [e for e in pair.client_events if isinstance(e, SessionTicketReceived)]
    assert len(tickets) == 2
    assert pair.client.session is not None and pair.client.session.ticket == tickets[-1].ticket.ticket
    assert resumed(pair) == (False, False)


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_ticket_resumption(client: ClientConfig, server: ServerConfig, mode: str) -> None:
    server = dataclasses.replace(server, tls13_ticket_mode=mode, session_store=MemorySessionStore())
    first = connect(client, server)
    second = connect(client, server, first.client.session)
    assert resumed(second) == (True, True)
    c, s = second.completions()
    assert c.negotiated.peer_certificates == first.completions()[0].negotiated.peer_certificates
    assert c.negotiated.signature_scheme is None and c.negotiated.group is not None
    assert not any(type(e).__name__ == "HandshakeMessage" and e.name == "Certificate" for e in second.client_events)
    second.transfer(b"after resumption")
    second.transfer(b"and back", from_client=False)


def test_stateful_ticket_is_single_use(client: ClientConfig, server: ServerConfig) -> None:
    server = dataclasses.replace(server, tls13_ticket_mode="stateful", session_store=MemorySessionStore())
    first = connect(client, server)
    session = first.client.session
    assert resumed(connect(client, server, session)) == (True, True)
    assert resumed(connect(client, server, session)) == (False, False)


def test_psk_ke_needs_server_opt_in(client: ClientConfig, server: ServerConfig) -> None:
    ke_client = dataclasses.replace(client, psk_modes=(PskKeyExchangeMode.PSK_KE,))
    first = connect(ke_client, server)
    assert resumed(connect(ke_client, server, first.client.session)) == (False, False)
    ke_server = dataclasses.replace(server, psk_modes=(PskKeyExchangeMode.PSK_DHE_KE, PskKeyExchangeMode.PSK_KE))
    first = connect(ke_client, ke_server)
    pair = connect(ke_client, ke_server, first.client.session)
    assert resumed(pair) == (True, True)
    assert pair.completions()[0].negotiated.group is None
    pair.transfer(b"psk_ke data")


def test_hello_retry_with_psk(client: ClientConfig, server: ServerConfig) -> None:
    first = connect(client, server)
    retry_client = dataclasses.replace(client, key_share_groups=(NamedGroup.SECP256R1,))
    retry_server = dataclasses.replace(server, groups=(NamedGroup.X25519,))
    pair = connect(retry_client, retry_server, first.client.session)
    c, s = pair.completions()
    assert c.negotiated.hello_retry and s.negotiated.hello_retry
    assert resumed(pair) == (True, True)


def test_expired_ticket_is_not_offered(client: ClientConfig, server: ServerConfig, clock: Clock) -> None:
    first = connect(client, server)
    clock.advance(3601)
    pair = ConnectionPair(ClientConnection(client, "localhost", session=first.client.session), ServerConnection(server))
    hello = pair.client.start_handshake()[0].message
    assert not any(isinstance(ext, OfferedPsks) for ext in hello.extensions)  # type: ignore[attr-defined]
    pair.handshake()
    assert resumed(pair) == (False, False)


def test_stale_ticket_age_falls_back_to_full_handshake(client: ClientConfig, server: ServerConfig) -> None:
    first = connect(client, server)
    session = first.client.session
    assert session is not None
    stale = dataclasses.replace(session, session=dataclasses.replace(session.session, ticket_age_add=(session.session.ticket_age_add + 60_000) % 2**32))
    assert resumed(connect(client, server, stale)) == (False, False)


def test_unknown_ticket_falls_back_to_full_handshake(client: ClientConfig, server: ServerConfig) -> None:
    first = connect(client, server)
    session = first.client.session
    assert session is not None and session.ticket is not None
    garbled = dataclasses.replace(session, ticket=bytes(len(session.ticket)))
    assert resumed(connect(client, server, garbled)) == (False, False)


def test_tampered_binder_is_decrypt_error(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.11.2: a binder that does not verify aborts the handshake with decrypt_error."""
    first = connect(client, server)
    pair = ConnectionPair(ClientConnection(client, "localhost", session=first.client.session), ServerConnection(server))
    pair.client.start_handshake()
    data = bytearray(pair.client.data_to_send())
    data[-1] ^= 0x01  # the last byte of the ClientHello is the binder's
    with pytest.raises(PeerMisbehaved) as info:
        pair.server.receive_bytes(bytes(data))
    assert info.value.reason is Misbehaviour.BAD_PSK_BINDER
    assert info.value.alert is AlertDescription.DECRYPT_ERROR


def test_ticket_key_rotation(client: ClientConfig, server: ServerConfig, clock: Clock) -> None:
    first = connect(client, server)
    assert server.ticket_keys is not None
    server.ticket_keys.rotate(clock.now())
    assert resumed(connect(client, server, first.client.session)) == (True, True)
    server.ticket_keys.rotate(clock.now())
    assert resumed(connect(client, server, first.client.session)) == (False, False)


def test_client_cache_by_name_and_port(client: ClientConfig, server: ServerConfig) -> None:
    cached = dataclasses.replace(client, session_cache=ClientSessionCache())
    first = connect(cached, server, port=443)
    assert resumed(first) == (False, False)
    assert resumed(connect(cached, server, port=443)) == (True, True)
    assert resumed(connect(cached, server, port=443)) == (True, True)  # with the resumed connection's ticket
    assert resumed(connect(cached, server, port=8443)) == (False, False)
    assert cached.session_cache is not None and len(cached.session_cache) == 2


def test_cached_ticket_is_offered_once(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §C.4: a client should not reuse a ticket; a failed connection leaves nothing to reuse."""
    cached = dataclasses.replace(client, session_cache=ClientSessionCache())
    connect(cached, server, port=443)
    taker = ClientConnection(cached, "localhost", port=443)  # takes the ticket, never completes
    taker.start_handshake()
    assert cached.session_cache is not None and len(cached.session_cache) == 0


def test_suite_with_other_hash_is_not_resumed(client: ClientConfig, server: ServerConfig) -> None:
    first = connect(client, server)
    sha384 = dataclasses.replace(client, cipher_suites=(SHA384_SUITE,))
    pair = connect(sha384, server, first.client.session)
    assert resumed(pair) == (False, False)
    assert pair.completions()[0].negotiated.cipher_suite == SHA384_SUITE


def test_client_rejects_unoffered_psk_index(client: ClientConfig, server: ServerConfig) -> None:
    """RFC 8446 §4.2.11: a selected_identity the client did not offer is illegal_parameter."""
    import helpers as h

    first = connect(client, server)
    pair = ConnectionPair(ClientConnection(client, "localhost", session=first.client.session), ServerConnection(server))
    pair.client.start_handshake()
    pair.client_to_server()
    flight = pair.server.data_to_send()
    # ServerHello's pre_shared_key is its last extension: selected_identity 0 -> 5.
    first_record = h.records(flight)[0]
    assert first_record[-6:-2] == b"\x00\x29\x00\x02"
    patched = first_record[:-1] + b"\x05" + flight[len(first_record) :]
    with pytest.raises(PeerMisbehaved) as info:
        pair.client.receive_bytes(patched)
    assert info.value.reason is Misbehaviour.SERVER_SELECTED_UNOFFERED_PSK
    assert info.value.alert is AlertDescription.ILLEGAL_PARAMETER


@pytest.mark.parametrize("modes", [(PskKeyExchangeMode.PSK_DHE_KE,), (PskKeyExchangeMode.PSK_KE,)])
def test_external_psk(test_pki: pki.PKI, clock: Clock, modes: tuple[PskKeyExchangeMode, ...]) -> None:
    psk = ExternalPsk(identity=b"client-1", key=b"k" * 32, hash_name="sha256")
    server = ServerConfig(
        certificates=(test_pki.server(),), keylog_filename=None, provider=clock, external_psks=(psk,), psk_modes=modes
    )
    client = ClientConfig(
        cadata=test_pki.ca.root_pem, keylog_filename=None, provider=clock, external_psk=psk, psk_modes=modes
    )
    pair = connect(client, server)
    c, s = pair.completions()
    assert c.negotiated.peer_certificates == () and c.negotiated.signature_scheme is None
    assert (c.negotiated.group is None) == (modes == (PskKeyExchangeMode.PSK_KE,))
    pair.transfer(b"external psk")
    wrong = dataclasses.replace(client, external_psk=ExternalPsk(identity=b"client-1", key=b"x" * 32))
    bad = ConnectionPair(ClientConnection(wrong, "localhost"), ServerConnection(server))
    bad.client.start_handshake()
    with pytest.raises(PeerMisbehaved) as info:
        bad.client_to_server()
    assert info.value.reason is Misbehaviour.BAD_PSK_BINDER


def test_psk_offer_is_last_extension(client: ClientConfig, server: ServerConfig) -> None:
    first = connect(client, server)
    pair = ConnectionPair(ClientConnection(client, "localhost", session=first.client.session), ServerConnection(server))
    events = pair.client.start_handshake()
    hello = events[0].message
    assert isinstance(hello.extensions[-1], OfferedPsks)  # type: ignore[attr-defined]


def pha_configs(
    client: ClientConfig, server: ServerConfig, test_pki: pki.PKI, *, offer: bool = True
) -> tuple[ClientConfig, ServerConfig]:
    return (
        dataclasses.replace(client, certificate=test_pki.client, post_handshake_auth=offer),
        dataclasses.replace(server, client_cadata=test_pki.ca.root_pem),
    )


def test_post_handshake_auth(client: ClientConfig, server: ServerConfig, test_pki: pki.PKI) -> None:
    client, server = pha_configs(client, server, test_pki)
    pair = connect(client, server)
    assert pair.completions()[1].negotiated.peer_certificates == ()
    pair.server.request_client_certificate()
    pair.server_to_client()
    events = pair.client_to_server()
    received = [e for e in events if isinstance(e, PeerCertificateReceived)]
    assert len(received) == 1 and received[0].certificates[0] == test_pki.client.leaf
    pair.transfer(b"authenticated now")
    pair.transfer(b"yes", from_client=False)
    # A second request works too (fresh context, fresh transcript fork).
    pair.server.request_client_certificate()
    pair.server_to_client()
    assert any(isinstance(e, PeerCertificateReceived) for e in pair.client_to_server())


def test_post_handshake_auth_refused_without_extension(
    client: ClientConfig, server: ServerConfig, test_pki: pki.PKI
) -> None:
    """RFC 8446 §4.6.2: no post_handshake_auth extension, no post-handshake CertificateRequest."""
    client, server = pha_configs(client, server, test_pki, offer=False)
    pair = connect(client, server)
    with pytest.raises(ApiMisuse):
        pair.server.request_client_certificate()
    pair.transfer(b"still fine")


def test_client_without_extension_rejects_certificate_request(
    client: ClientConfig, server: ServerConfig, test_pki: pki.PKI
) -> None:
    """RFC 8446 §4.6.2: an unsolicited post-handshake CertificateRequest is unexpected_message."""
    from handclasp.wire.extensions import SignatureAlgorithms
    from handclasp.wire.handshake import CertificateRequest13

    pair = connect(client, server)
    pair.server.send(
        CertificateRequest13(certificate_request_context=b"ctx", extensions=(SignatureAlgorithms(schemes=server.signature_schemes),))
    )
    pair.server._flush_handshake()
    with pytest.raises(PeerMisbehaved) as info:
        pair.server_to_client()
    assert info.value.reason is Misbehaviour.UNEXPECTED_POST_HANDSHAKE_MESSAGE


def test_handshake_complete_once(client: ClientConfig, server: ServerConfig) -> None:
    first = connect(client, server)
    pair = connect(client, server, first.client.session)
    assert sum(isinstance(e, HandshakeComplete) for e in pair.client_events) == 1


def test_client_auth_require_is_kept_across_resumption(
    client: ClientConfig, server: ServerConfig, test_pki: pki.PKI
) -> None:
    """A resumed session carries the client chain; one without a chain is not enough for 'require'."""
    required = dataclasses.replace(server, client_auth="require", client_cadata=test_pki.ca.root_pem)
    with_cert = dataclasses.replace(client, certificate=test_pki.client)
    first = connect(with_cert, required)
    pair = connect(with_cert, required, first.client.session)
    assert resumed(pair) == (True, True)
    assert pair.completions()[1].negotiated.peer_certificates[0] == test_pki.client.leaf
    anonymous = connect(client, server)  # a session without a client certificate
    assert resumed(connect(with_cert, required, anonymous.client.session)) == (False, False)


def test_psk_ke_hello_without_key_share(test_pki: pki.PKI, clock: Clock) -> None:
    """RFC 8446 §9.2: a psk_ke-only ClientHello may omit supported_groups and key_share."""
    from handclasp.crypto.suites import TLS13_SUITES
    from handclasp.sessions.psk import bind_offers, external_offer
    from handclasp.wire.enums import ProtocolVersion
    from handclasp.wire.extensions import (
        KeyShareServerHello,
        PskKeyExchangeModes,
        SelectedPsk,
        SupportedVersionsClientHello,
    )
    from handclasp.wire.handshake import ClientHello, encode_message

    psk = ExternalPsk(identity=b"bare", key=b"s" * 32)
    server = ServerConfig(
        certificates=(test_pki.server(),), keylog_filename=None, provider=clock, external_psks=(psk,),
        psk_modes=(PskKeyExchangeMode.PSK_KE,),
    )
    suite = CipherSuite.TLS_AES_128_GCM_SHA256
    hello = ClientHello(
        random=bytes(32),
        legacy_session_id=b"",
        cipher_suites=(suite,),
        extensions=(
            SupportedVersionsClientHello(versions=(ProtocolVersion.TLS1_3,)),
            PskKeyExchangeModes(modes=(PskKeyExchangeMode.PSK_KE,)),
        ),
    )
    hello = bind_offers(hello, (external_offer(psk, TLS13_SUITES[suite]),), prefix=None)
    message = encode_message(hello)
    conn = ServerConnection(server)
    events = conn.receive_bytes(b"\x16\x03\x01" + len(message).to_bytes(2, "big") + message)
    sent = [e.message for e in events if type(e).__name__ == "HandshakeMessage"]
    server_hello = sent[1]
    assert find(server_hello.extensions, SelectedPsk) == SelectedPsk(selected_identity=0)
    assert find(server_hello.extensions, KeyShareServerHello) is None
    without_psk = dataclasses.replace(server, external_psks=())
    with pytest.raises(PeerIncompatible) as info:
        ServerConnection(without_psk).receive_bytes(b"\x16\x03\x01" + len(message).to_bytes(2, "big") + message)
    assert info.value.reason is Incompatibility.NO_SHARED_GROUP
    assert info.value.alert is AlertDescription.HANDSHAKE_FAILURE
