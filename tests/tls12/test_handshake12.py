"""TLS 1.2 handshakes between our own client and server, over memory."""

from __future__ import annotations

import dataclasses

import pytest

import pki
from handclasp import (
    AlertDescription,
    CipherSuite,
    ClientConfig,
    ClientConnection,
    Incompatibility,
    Misbehaviour,
    NamedGroup,
    PeerIncompatible,
    PeerMisbehaved,
    ProtocolVersion,
    ServerConfig,
    ServerConnection,
)
from handclasp.events import ApplicationData, HandshakeMessage
from helpers import ConnectionPair

S = CipherSuite
TLS12 = ProtocolVersion.TLS1_2
TLS13 = ProtocolVersion.TLS1_3

ECDSA_SUITES = [
    S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
]
RSA_SUITES = [
    S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    S.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
    S.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    S.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    S.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
]
RSA_KX_SUITES = [
    S.TLS_RSA_WITH_AES_128_GCM_SHA256,
    S.TLS_RSA_WITH_AES_256_GCM_SHA384,
    S.TLS_RSA_WITH_AES_128_CBC_SHA256,
]


def _pair12(client: ClientConfig, server: ServerConfig, **kwargs: object) -> ConnectionPair:
    pair = ConnectionPair.make(client, server, **kwargs)  # type: ignore[arg-type]
    pair.handshake()
    return pair


@pytest.fixture(scope="module")
def rsa_server(test_pki: pki.PKI) -> ServerConfig:
    return ServerConfig(certificates=(test_pki.server("rsa2048"),), keylog_filename=None)


def _only12(config: ClientConfig, *suites: CipherSuite) -> ClientConfig:
    return dataclasses.replace(config, versions=(TLS12,), cipher_suites=suites or config.cipher_suites)


@pytest.mark.parametrize("suite", ECDSA_SUITES, ids=lambda s: s.name)
def test_every_ecdsa_suite(
    client_config: ClientConfig, server_config: ServerConfig, suite: CipherSuite
) -> None:
    pair = _pair12(_only12(client_config, suite), server_config)
    c, s = pair.completions()
    assert c.negotiated.version == s.negotiated.version == TLS12
    assert c.negotiated.cipher_suite == s.negotiated.cipher_suite == suite
    assert c.negotiated.extended_master_secret
    pair.transfer(b"ping" * 1000)
    pair.transfer(b"pong" * 5000, from_client=False)


@pytest.mark.parametrize("suite", RSA_SUITES, ids=lambda s: s.name)
def test_every_rsa_suite(client_config: ClientConfig, rsa_server: ServerConfig, suite: CipherSuite) -> None:
    pair = _pair12(_only12(client_config, suite), dataclasses.replace(rsa_server, cipher_suites=(suite,)))
    c, _ = pair.completions()
    assert c.negotiated.cipher_suite == suite
    pair.transfer(b"x" * 20000)
    pair.transfer(b"y", from_client=False)


@pytest.mark.parametrize("suite", RSA_KX_SUITES, ids=lambda s: s.name)
def test_legacy_rsa_key_exchange_is_opt_in_on_both_sides(
    client_config: ClientConfig, rsa_server: ServerConfig, suite: CipherSuite
) -> None:
    client = dataclasses.replace(_only12(client_config, suite), legacy_rsa_key_exchange=True)
    with pytest.raises(PeerIncompatible):
        _pair12(client, dataclasses.replace(rsa_server, cipher_suites=(suite,)))
    pair = _pair12(client, dataclasses.replace(rsa_server, legacy_rsa_key_exchange=True, cipher_suites=(suite,)))
    assert pair.completions()[0].negotiated.cipher_suite == suite
    pair.transfer(b"rsa kx")


@pytest.mark.parametrize(
    "group",
    [NamedGroup.X25519, NamedGroup.X448, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.SECP521R1],
    ids=lambda g: g.name,
)
def test_ecdhe_groups(client_config: ClientConfig, server_config: ServerConfig, group: NamedGroup) -> None:
    client = dataclasses.replace(_only12(client_config), groups=(group, NamedGroup.SECP256R1))
    server = dataclasses.replace(server_config, groups=(group, NamedGroup.SECP256R1))
    pair = _pair12(client, server)
    assert pair.completions()[0].negotiated.group == group


@pytest.mark.parametrize("group", [NamedGroup.FFDHE2048, NamedGroup.FFDHE3072], ids=lambda g: g.name)
def test_dhe_with_rfc7919_groups(
    client_config: ClientConfig, rsa_server: ServerConfig, group: NamedGroup
) -> None:
    client = dataclasses.replace(
        _only12(client_config, S.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256), groups=(group, NamedGroup.X25519)
    )
    server = dataclasses.replace(rsa_server, groups=(group, NamedGroup.X25519))
    pair = _pair12(client, server)
    assert pair.completions()[1].negotiated.group == group


def test_cbc_needs_encrypt_then_mac_unless_legacy(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 7366: CBC suites are negotiated only with encrypt-then-MAC unless both sides allow legacy."""
    suite = S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    client = dataclasses.replace(_only12(client_config, suite), encrypt_then_mac=False, legacy_versions=True)
    pair = ConnectionPair.make(client, server_config)
    with pytest.raises(PeerIncompatible) as info:
        pair.client_to_server()
    assert info.value.reason is Incompatibility.NO_SHARED_CIPHER_SUITE
    pair = _pair12(client, dataclasses.replace(server_config, legacy_versions=True))
    assert pair.completions()[0].negotiated.cipher_suite == suite
    pair.transfer(b"mac-then-encrypt" * 100)


def test_a_client_with_nothing_to_offer_fails_locally(client_config: ClientConfig) -> None:
    from handclasp import ApiMisuse

    client = dataclasses.replace(_only12(client_config, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256), encrypt_then_mac=False)
    with pytest.raises(ApiMisuse):
        ClientConnection(client, "localhost").start_handshake()


def test_session_id_resumption(client_config: ClientConfig, server_config: ServerConfig) -> None:
    server = dataclasses.replace(server_config, session_tickets=False)
    first = _pair12(_only12(client_config), server)
    session = first.client.session
    assert session is not None and session.session_id and session.ticket is None
    pair = ConnectionPair(
        ClientConnection(_only12(client_config), "localhost", session=session), ServerConnection(server)
    )
    pair.client.start_handshake()
    pair.handshake()
    c, s = pair.completions()
    assert c.negotiated.resumed and s.negotiated.resumed
    assert c.negotiated.peer_certificates == first.completions()[0].negotiated.peer_certificates
    pair.transfer(b"resumed")


def test_ticket_resumption(client_config: ClientConfig, server_config: ServerConfig) -> None:
    first = _pair12(_only12(client_config), server_config)
    session = first.client.session
    assert session is not None and session.ticket
    pair = ConnectionPair(
        ClientConnection(_only12(client_config), "localhost", session=session),
        ServerConnection(server_config),
    )
    pair.client.start_handshake()
    pair.handshake()
    c, s = pair.completions()
    assert c.negotiated.resumed and s.negotiated.resumed
    pair.transfer(b"resumed by ticket", from_client=False)


def test_client_session_cache_is_used_by_name_and_port(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    from handclasp.sessions.cache import ClientSessionCache

    client = dataclasses.replace(_only12(client_config), session_cache=ClientSessionCache())
    first = ConnectionPair(ClientConnection(client, "localhost", port=443), ServerConnection(server_config))
    first.client.start_handshake()
    first.handshake()
    second = ConnectionPair(ClientConnection(client, "localhost", port=443), ServerConnection(server_config))
    second.client.start_handshake()
    second.handshake()
    assert second.completions()[0].negotiated.resumed
    other_port = ConnectionPair(
        ClientConnection(client, "localhost", port=8443), ServerConnection(server_config)
    )
    other_port.client.start_handshake()
    other_port.handshake()
    assert not other_port.completions()[0].negotiated.resumed


def test_client_certificate_in_tls12(
    test_pki: pki.PKI, client_config: ClientConfig, server_config: ServerConfig
) -> None:
    server = dataclasses.replace(server_config, client_auth="require", client_cadata=test_pki.ca.root_pem)
    pair = _pair12(dataclasses.replace(_only12(client_config), certificate=test_pki.client), server)
    assert pair.completions()[1].negotiated.peer_certificates[0] == test_pki.client.chain[0]


def test_alpn_and_sni_in_tls12(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    server = ServerConfig(
        certificates=(test_pki.server(), test_pki.other),
        alpn_protocols=("h2", "http/1.1"),
        keylog_filename=None,
    )
    client = dataclasses.replace(_only12(client_config), alpn_protocols=("http/1.1",))
    pair = _pair12(client, server, server_name=pki.OTHER_NAME)
    c, s = pair.completions()
    assert c.negotiated.alpn_protocol == "http/1.1" and s.negotiated.server_name == pki.OTHER_NAME
    assert c.negotiated.peer_certificates[0] == test_pki.other.chain[0]


def test_version_matrix(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """A 1.3+1.2 client with a 1.2-only server and a 1.2-only client with a 1.3+1.2 server agree on 1.2."""
    pair = _pair12(client_config, dataclasses.replace(server_config, versions=(TLS12,)))
    assert pair.completions()[0].negotiated.version == TLS12
    pair = _pair12(_only12(client_config), server_config)
    assert pair.completions()[1].negotiated.version == TLS12
    pair = _pair12(client_config, server_config)
    assert pair.completions()[1].negotiated.version == TLS13


def test_downgrade_sentinel_is_detected(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.3: a 1.3 client refuses a 1.2 ServerHello carrying DOWNGRD\\x01 (illegal_parameter)."""
    # The server speaks 1.3 too, so it sets the sentinel; strip supported_versions from the client's
    # offer on the wire to the server only, as an attacker would.
    client = client_config
    server = server_config
    pair = ConnectionPair.make(client, dataclasses.replace(server, versions=(TLS13, TLS12)))
    from handclasp.wire.extensions import SupportedVersionsClientHello
    from helpers import strip_extension_from_client_hello

    with pytest.raises(PeerMisbehaved) as info:
        pair.client_to_server(
            tamper=lambda data: strip_extension_from_client_hello(data, SupportedVersionsClientHello)
        )
        pair.server_to_client()
    assert info.value.reason is Misbehaviour.DOWNGRADE_DETECTED
    assert info.value.alert is AlertDescription.ILLEGAL_PARAMETER


def test_fallback_scsv_is_inappropriate_fallback(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """RFC 7507 §3: TLS_FALLBACK_SCSV with a version below the server's best gives inappropriate_fallback."""
    client = dataclasses.replace(_only12(client_config), fallback_scsv=True)
    pair = ConnectionPair.make(client, server_config)
    with pytest.raises(PeerIncompatible) as info:
        pair.client_to_server()
    assert info.value.alert is AlertDescription.INAPPROPRIATE_FALLBACK


def test_renegotiation_is_refused_with_a_warning(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """RFC 5746 §4: renegotiation is refused (no_renegotiation warning); the connection carries on."""
    from handclasp.wire.handshake12 import HelloRequest

    pair = _pair12(_only12(client_config), server_config)
    pair.server.send(HelloRequest())
    pair.server._flush_handshake()
    pair.server_to_client()
    wire = pair.client.data_to_send()
    assert wire  # the warning alert
    assert [e for e in pair.server.receive_bytes(wire) if not isinstance(e, HandshakeMessage)] == []
    pair.transfer(b"still here")
    assert [e for e in pair.server_events if isinstance(e, ApplicationData)]


def test_ems_required_by_default(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 7627 §5.2: the server refuses a client without extended_master_secret (by default)."""
    client = dataclasses.replace(
        _only12(client_config), require_extended_master_secret=False, offer_extended_master_secret=False
    )
    pair = ConnectionPair.make(client, server_config)
    with pytest.raises(PeerIncompatible) as info:
        pair.client_to_server()
    assert info.value.reason is Incompatibility.NO_EXTENDED_MASTER_SECRET
    relaxed = dataclasses.replace(server_config, require_extended_master_secret=False)
    pair = _pair12(client, relaxed)
    assert not pair.completions()[0].negotiated.extended_master_secret
