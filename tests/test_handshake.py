"""Full TLS 1.3 handshakes between our own client and server, over memory."""

from __future__ import annotations

import dataclasses

import pytest

import pki
from handclasp import (
    AlertDescription,
    CertificateProblem,
    CertificateVerifyError,
    CipherSuite,
    ClientConfig,
    NamedGroup,
    ServerConfig,
    SignatureScheme,
)
from handclasp.events import ApplicationData, CloseNotify, KeyUpdated, SessionTicketReceived
from helpers import ConnectionPair

ALL_SUITES = list(CipherSuite)[:3]
ALL_GROUPS = [
    NamedGroup.X25519,
    NamedGroup.X448,
    NamedGroup.SECP256R1,
    NamedGroup.SECP384R1,
    NamedGroup.SECP521R1,
    NamedGroup.FFDHE2048,
    NamedGroup.FFDHE3072,
    NamedGroup.FFDHE4096,
]
SCHEMES_BY_KEY = [
    ("ecdsa-p256", SignatureScheme.ECDSA_SECP256R1_SHA256),
    ("ecdsa-p384", SignatureScheme.ECDSA_SECP384R1_SHA384),
    ("ecdsa-p521", SignatureScheme.ECDSA_SECP521R1_SHA512),
    ("rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA256),
    ("rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA384),
    ("rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA512),
    ("ed25519", SignatureScheme.ED25519),
    ("ed448", SignatureScheme.ED448),
]


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.name)
def test_every_cipher_suite(client_config: ClientConfig, server_config: ServerConfig, suite: CipherSuite) -> None:
    pair = ConnectionPair.make(dataclasses.replace(client_config, cipher_suites=(suite,)), server_config)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.cipher_suite == suite
    assert pair.server.negotiated is not None and pair.server.negotiated.cipher_suite == suite
    pair.transfer(b"ping")
    pair.transfer(b"pong", from_client=False)


@pytest.mark.parametrize("group", ALL_GROUPS, ids=lambda g: g.name)
def test_every_group_with_a_key_share(client_config: ClientConfig, server_config: ServerConfig, group: NamedGroup) -> None:
    config = dataclasses.replace(client_config, groups=(group,), key_share_groups=(group,))
    pair = ConnectionPair.make(config, server_config)
    pair.handshake()
    assert pair.client.negotiated is not None
    assert pair.client.negotiated.group == group and not pair.client.negotiated.hello_retry
    pair.transfer(b"data")


@pytest.mark.parametrize("group", [g for g in ALL_GROUPS if g != NamedGroup.X25519], ids=lambda g: g.name)
def test_hello_retry_request_for_a_group_without_share(
    client_config: ClientConfig, server_config: ServerConfig, group: NamedGroup
) -> None:
    client = dataclasses.replace(client_config, groups=(NamedGroup.X25519, group), key_share_groups=(NamedGroup.X25519,))
    server = dataclasses.replace(server_config, groups=(group,))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    c, s = pair.completions()
    assert c.negotiated.group == group and c.negotiated.hello_retry
    assert s.negotiated.hello_retry
    pair.transfer(b"after retry")


@pytest.mark.parametrize("middlebox_compat", [True, False])
def test_hello_retry_with_and_without_compatibility_mode(
    client_config: ClientConfig, server_config: ServerConfig, middlebox_compat: bool
) -> None:
    client = dataclasses.replace(
        client_config, middlebox_compat=middlebox_compat, key_share_groups=(NamedGroup.SECP256R1,)
    )
    server = dataclasses.replace(server_config, groups=(NamedGroup.X25519,))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.hello_retry


@pytest.mark.parametrize(("key_type", "scheme"), SCHEMES_BY_KEY, ids=lambda v: str(getattr(v, "name", v)))
def test_every_signature_scheme(test_pki: pki.PKI, client_config: ClientConfig, key_type: str, scheme: SignatureScheme) -> None:
    server = ServerConfig(certificates=(test_pki.server(key_type),), keylog_filename=None)  # type: ignore[arg-type]
    client = dataclasses.replace(client_config, signature_schemes=(scheme,))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.signature_scheme == scheme


def test_intermediate_chain_is_sent_and_verified(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    server = ServerConfig(certificates=(test_pki.intermediate,), keylog_filename=None)
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    assert pair.client.negotiated is not None and len(pair.client.negotiated.peer_certificates) == 2


def test_sni_selects_the_certificate_for_the_name(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    server = ServerConfig(certificates=(test_pki.server(), test_pki.other), keylog_filename=None)
    for name, cert in (("localhost", test_pki.server()), (pki.OTHER_NAME, test_pki.other)):
        pair = ConnectionPair.make(client_config, server, server_name=name)
        pair.handshake()
        c, s = pair.completions()
        assert c.negotiated.peer_certificates[0] == cert.chain[0]
        assert s.negotiated.server_name == name


def test_ip_address_needs_no_sni_and_matches_ip_san(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config, server_name="127.0.0.1")
    pair.handshake()
    _, s = pair.completions()
    assert s.negotiated.server_name is None


def test_alpn_picks_the_server_preference(client_config: ClientConfig, server_config: ServerConfig) -> None:
    client = dataclasses.replace(client_config, alpn_protocols=("http/1.1", "h2"))
    server = dataclasses.replace(server_config, alpn_protocols=("h2", "http/1.1"))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    c, s = pair.completions()
    assert c.negotiated.alpn_protocol == s.negotiated.alpn_protocol == "h2"


def test_alpn_without_overlap_is_no_application_protocol(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 7301 §3.2: no shared protocol gives no_application_protocol."""
    from handclasp import Incompatibility, PeerIncompatible

    pair = ConnectionPair.make(dataclasses.replace(client_config, alpn_protocols=("h2",)), dataclasses.replace(server_config, alpn_protocols=("x",)))
    with pytest.raises(PeerIncompatible) as info:
        pair.client_to_server()
    assert info.value.reason is Incompatibility.NO_APPLICATION_PROTOCOL
    assert info.value.alert is AlertDescription.NO_APPLICATION_PROTOCOL


@pytest.mark.parametrize("mode", ["request", "require"])
def test_client_certificate_is_verified(test_pki: pki.PKI, client_config: ClientConfig, server_config: ServerConfig, mode: str) -> None:
    server = dataclasses.replace(server_config, client_auth=mode, client_cadata=test_pki.ca.root_pem)
    client = dataclasses.replace(client_config, certificate=test_pki.client)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    c, s = pair.completions()
    assert c.negotiated.client_certificate_requested
    assert s.negotiated.peer_certificates[0] == test_pki.client.chain[0]


def test_requested_client_certificate_may_be_absent(test_pki: pki.PKI, client_config: ClientConfig, server_config: ServerConfig) -> None:
    server = dataclasses.replace(server_config, client_auth="request", client_cadata=test_pki.ca.root_pem)
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    _, s = pair.completions()
    assert s.negotiated.peer_certificates == ()


def test_required_client_certificate_missing_is_certificate_required(
    test_pki: pki.PKI, client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """RFC 8446 §4.4.2.4: a required but absent certificate gives certificate_required."""
    server = dataclasses.replace(server_config, client_auth="require", client_cadata=test_pki.ca.root_pem)
    pair = ConnectionPair.make(client_config, server)
    pair.client_to_server()
    pair.server_to_client()
    with pytest.raises(CertificateVerifyError) as info:
        pair.client_to_server()
    assert info.value.problem is CertificateProblem.REQUIRED
    assert info.value.alert is AlertDescription.CERTIFICATE_REQUIRED


def test_untrusted_server_is_refused_with_unknown_ca(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    server = ServerConfig(certificates=(test_pki.unrelated,), keylog_filename=None)
    pair = ConnectionPair.make(client_config, server)
    pair.client_to_server()
    with pytest.raises(CertificateVerifyError) as info:
        pair.server_to_client()
    assert info.value.problem is CertificateProblem.UNKNOWN_ISSUER
    assert info.value.alert is AlertDescription.UNKNOWN_CA
    # The client's alert reaches the server as a typed error.
    from handclasp import AlertReceived

    with pytest.raises(AlertReceived) as received:
        pair.client_to_server()
    assert received.value.description is AlertDescription.UNKNOWN_CA


def test_wrong_name_is_refused(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config, server_name="example.com")
    pair.client_to_server()
    with pytest.raises(CertificateVerifyError) as info:
        pair.server_to_client()
    assert info.value.problem is CertificateProblem.NAME_MISMATCH


def test_dangerous_skip_verification_accepts_an_untrusted_server(test_pki: pki.PKI) -> None:
    server = ServerConfig(certificates=(test_pki.unrelated,), keylog_filename=None)
    pair = ConnectionPair.make(ClientConfig(dangerous_skip_verification=True, keylog_filename=None), server)
    pair.handshake()


def test_key_update_both_directions(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    pair.client.key_update(request_peer=True)
    events = pair.client_to_server()
    assert KeyUpdated(sending=False, update_requested=True) in events
    assert KeyUpdated(sending=True, update_requested=False) in events
    pair.server_to_client()
    pair.transfer(b"after update")
    pair.transfer(b"and back", from_client=False)
    pair.server.key_update(request_peer=False)
    pair.server_to_client()
    pair.transfer(b"again", from_client=False)


def test_one_mebibyte_each_way(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    blob = bytes(range(256)) * 4096
    pair.transfer(blob)
    pair.transfer(blob, from_client=False)


def test_close_notify_both_ways(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    pair.client.send_application_data(b"last words")
    pair.client.close()
    events = pair.client_to_server()
    assert events == [ApplicationData(b"last words"), CloseNotify()]
    pair.server.close()
    assert pair.server_to_client() == [CloseNotify()]
    assert pair.client.is_closed and pair.server.is_closed
    assert pair.client.receive_bytes(b"") == []


@pytest.mark.parametrize("block", [16, 256])
def test_record_padding(client_config: ClientConfig, server_config: ServerConfig, block: int) -> None:
    pair = ConnectionPair.make(dataclasses.replace(client_config, record_padding_block=block), server_config)
    pair.handshake()
    pair.client.send_application_data(b"x")
    wire = pair.client.data_to_send()
    assert (len(wire) - 5 - 16) % block == 0
    assert pair.server.receive_bytes(wire) == [ApplicationData(b"x")]


@pytest.mark.parametrize(("option", "value", "largest"), [("record_size_limit", 1024, 1023), ("max_fragment_length", 512, 512)])
def test_record_size_negotiation_caps_server_records(
    client_config: ClientConfig, server_config: ServerConfig, option: str, value: int, largest: int
) -> None:
    from helpers import records

    pair = ConnectionPair.make(dataclasses.replace(client_config, **{option: value}), server_config)
    pair.handshake()
    pair.server.send_application_data(b"y" * 5000)
    wire = pair.server.data_to_send()
    sizes = [len(r) - 5 - 17 for r in records(wire)]
    assert max(sizes) == largest
    events = pair.client.receive_bytes(wire)
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"y" * 5000


def test_session_ticket_event_from_a_real_ticket(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """A NewSessionTicket is surfaced as an event (resumption itself arrives later)."""
    from handclasp.wire.handshake import NewSessionTicket13

    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    # The server has no ticket issuer yet, so inject one through its own write path.
    pair.server.send(NewSessionTicket13(ticket_lifetime=3600, ticket_age_add=7, ticket_nonce=b"\x00", ticket=b"opaque"))
    pair.server._flush_handshake()
    events = pair.server_to_client()
    tickets = [e for e in events if isinstance(e, SessionTicketReceived)]
    assert len(tickets) == 1 and tickets[0].ticket.ticket == b"opaque" and tickets[0].ticket.ticket_lifetime == 3600


def test_keylog_lines_for_both_sides(tmp_path, client_config: ClientConfig, server_config: ServerConfig) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys.log"
    pair = ConnectionPair.make(
        dataclasses.replace(client_config, keylog_filename=str(path)),
        dataclasses.replace(server_config, keylog_filename=str(path)),
    )
    pair.handshake()
    lines = path.read_text().splitlines()
    labels = sorted(line.split()[0] for line in lines)
    assert labels == sorted(2 * ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                                 "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"])
    assert len({line.split()[1] for line in lines}) == 1


def test_exported_keying_material_agrees_on_both_sides(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    a = pair.client.export_keying_material(b"EXPERIMENTAL handclasp", b"ctx", 32)
    b = pair.server.export_keying_material(b"EXPERIMENTAL handclasp", b"ctx", 32)
    assert a == b and len(a) == 32
    assert a != pair.client.export_keying_material(b"EXPERIMENTAL handclasp", b"other", 32)


def test_client_picks_the_certificate_the_request_can_accept(test_pki: pki.PKI, client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.4.2.3: the client certificate must sign with a scheme from the CertificateRequest."""
    ed_client = test_pki.ca.issue([pki.CLIENT_NAME], "ed25519", client=True)
    server = dataclasses.replace(
        server_config, client_auth="require", client_cadata=test_pki.ca.root_pem,
        signature_schemes=(SignatureScheme.ECDSA_SECP256R1_SHA256,),
    )
    client = dataclasses.replace(client_config, certificates=(ed_client, test_pki.client))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    _, s = pair.completions()
    assert s.negotiated.peer_certificates[0] == test_pki.client.chain[0]


def test_handshake_messages_fragment_across_tiny_records(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §5.1: handshake messages may span records; RFC 8449 lets the client ask for 64-byte ones."""
    from helpers import records

    pair = ConnectionPair.make(dataclasses.replace(client_config, record_size_limit=64), server_config)
    pair.client_to_server()
    flight = pair.server.data_to_send()
    assert len(records(flight)) > 10
    assert all(len(r) <= 5 + 64 + 16 for r in records(flight)[3:])
    pair.client_events += pair.client.receive_bytes(flight)
    pair.client_to_server()
    assert pair.client.handshake_complete and pair.server.handshake_complete
