"""Post-quantum key exchange end to end: our client and our server over memory (issue #4).

draft-ietf-tls-ecdhe-mlkem (X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024) and draft-ietf-tls-mlkem
(MLKEM768, MLKEM1024): every group with a share, HelloRetryRequest into each hybrid, the default pair of
shares (X25519MLKEM768 + X25519) and the classical fallback that needs no HelloRetryRequest.
"""

from __future__ import annotations

import dataclasses

import pytest

from handclasp import ClientConfig, NamedGroup, ServerConfig
from handclasp.crypto.groups import SUPPORTED_GROUPS
from handclasp.errors import BadRecordMac, TLSError
from handclasp.wire.enums import AlertDescription
from helpers import ConnectionPair, records

HYBRIDS = [NamedGroup.X25519MLKEM768, NamedGroup.SECP256R1MLKEM768, NamedGroup.SECP384R1MLKEM1024]
PURE = [NamedGroup.MLKEM768, NamedGroup.MLKEM1024]
# (client share, server share) lengths: draft-ietf-tls-ecdhe-mlkem §4, draft-ietf-tls-mlkem §3.
SHARE_LENGTHS = {
    NamedGroup.X25519MLKEM768: (1216, 1120),
    NamedGroup.SECP256R1MLKEM768: (1249, 1153),
    NamedGroup.SECP384R1MLKEM1024: (1665, 1665),
    NamedGroup.MLKEM768: (1184, 1088),
    NamedGroup.MLKEM1024: (1568, 1568),
    NamedGroup.X25519: (32, 32),
}


def _shares_in(record: bytes, group: NamedGroup) -> int:
    """How many times a KeyShareEntry header (group, length) for ``group`` appears in a handshake record."""
    client_len, server_len = SHARE_LENGTHS[group]
    count = 0
    for length in {client_len, server_len}:
        count += record.count(int(group).to_bytes(2, "big") + length.to_bytes(2, "big"))
    return count


def test_default_client_sends_hybrid_and_x25519_shares_and_gets_the_hybrid(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    pair = ConnectionPair.make(client_config, server_config)
    hello = pair.client.data_to_send()
    # Both shares, hybrid first (draft-ietf-tls-ecdhe-mlkem §5: the X25519 share spares a classical server an HRR).
    hybrid_at = hello.find(b"\x11\xec\x04\xc0")  # 0x11EC, 1216 bytes
    x25519_at = hello.find(b"\x00\x1d\x00\x20")  # X25519, 32 bytes
    assert 0 < hybrid_at < x25519_at
    pair.server_events += pair.server.receive_bytes(hello)
    flight = pair.server.data_to_send()
    assert flight.find(b"\x11\xec\x04\x60") > 0  # the ServerHello's 1120-byte hybrid share
    pair.server_to_client(lambda _: flight)
    pair.handshake()
    client_done, server_done = pair.completions()
    for negotiated in (client_done.negotiated, server_done.negotiated):
        assert negotiated.group is NamedGroup.X25519MLKEM768 and negotiated.hello_retry is False
    pair.transfer(b"post-quantum ping")
    pair.transfer(b"post-quantum pong", from_client=False)


@pytest.mark.parametrize("group", HYBRIDS + PURE, ids=lambda g: g.name)
def test_every_post_quantum_group_with_a_key_share(
    client_config: ClientConfig, server_config: ServerConfig, group: NamedGroup
) -> None:
    client = dataclasses.replace(client_config, groups=(group,), key_share_groups=None)
    server = dataclasses.replace(server_config, groups=SUPPORTED_GROUPS)
    pair = ConnectionPair.make(client, server)
    hello = pair.client.data_to_send()
    assert _shares_in(hello, group) == 1
    pair.server_events += pair.server.receive_bytes(hello)
    flight = pair.server.data_to_send()
    assert _shares_in(records(flight)[0], group) == 1
    pair.server_to_client(lambda _: flight)
    pair.handshake()
    client_done, server_done = pair.completions()
    assert client_done.negotiated.group is group and server_done.negotiated.group is group
    assert client_done.negotiated.hello_retry is False
    pair.transfer(b"x" * 3000)


@pytest.mark.parametrize("group", HYBRIDS + PURE, ids=lambda g: g.name)
def test_hello_retry_request_into_a_post_quantum_group(
    client_config: ClientConfig, server_config: ServerConfig, group: NamedGroup
) -> None:
    """RFC 8446 §4.1.4: the server asks for a share of the PQ group; the second ClientHello carries it."""
    client = dataclasses.replace(
        client_config, groups=(NamedGroup.X25519, group), key_share_groups=(NamedGroup.X25519,)
    )
    server = dataclasses.replace(server_config, groups=(group,))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    client_done, server_done = pair.completions()
    assert client_done.negotiated.group is group and client_done.negotiated.hello_retry
    assert server_done.negotiated.group is group and server_done.negotiated.hello_retry
    pair.transfer(b"after HRR")


def test_classical_only_server_takes_the_x25519_share_without_hrr(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    server = dataclasses.replace(server_config, groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    client_done, server_done = pair.completions()
    for negotiated in (client_done.negotiated, server_done.negotiated):
        assert negotiated.group is NamedGroup.X25519 and negotiated.hello_retry is False


def test_server_prefers_the_hybrid_share_over_a_classical_one(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """A client that lists X25519 first but sends both shares still gets the hybrid (server preference)."""
    client = dataclasses.replace(
        client_config,
        groups=(NamedGroup.X25519, NamedGroup.X25519MLKEM768),
        key_share_groups=(NamedGroup.X25519, NamedGroup.X25519MLKEM768),
    )
    pair = ConnectionPair.make(client, server_config)
    pair.handshake()
    _, server_done = pair.completions()
    assert server_done.negotiated.group is NamedGroup.X25519MLKEM768 and not server_done.negotiated.hello_retry


def test_pq_server_with_a_classical_only_client(client_config: ClientConfig, server_config: ServerConfig) -> None:
    client = dataclasses.replace(client_config, groups=(NamedGroup.X25519, NamedGroup.SECP256R1))
    pair = ConnectionPair.make(client, server_config)
    pair.handshake()
    _, server_done = pair.completions()
    assert server_done.negotiated.group is NamedGroup.X25519 and not server_done.negotiated.hello_retry


def test_tls12_never_negotiates_a_post_quantum_group(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """draft-ietf-tls-ecdhe-mlkem §3: TLS 1.3 only; a TLS 1.2 handshake falls back to an ECDHE curve."""
    from handclasp.wire.enums import ProtocolVersion

    client = dataclasses.replace(client_config, versions=(ProtocolVersion.TLS1_2,))
    pair = ConnectionPair.make(client, server_config)
    pair.handshake()
    client_done, server_done = pair.completions()
    assert server_done.negotiated.version is ProtocolVersion.TLS1_2
    assert server_done.negotiated.group is NamedGroup.X25519


@pytest.mark.parametrize("group", [NamedGroup.X25519MLKEM768, NamedGroup.SECP384R1MLKEM1024], ids=lambda g: g.name)
def test_tampered_ciphertext_fails_the_handshake_at_the_first_protected_record(
    client_config: ClientConfig, server_config: ServerConfig, group: NamedGroup
) -> None:
    """FIPS 203 implicit rejection: a flipped ciphertext bit gives the client another secret, so the
    server's EncryptedExtensions does not decrypt (bad_record_mac), never a key_share error."""
    client = dataclasses.replace(client_config, groups=(group,), key_share_groups=None)
    pair = ConnectionPair.make(client, server_config)
    pair.client_to_server()
    flight = bytearray(pair.server.data_to_send())
    header = int(group).to_bytes(2, "big") + SHARE_LENGTHS[group][1].to_bytes(2, "big")
    at = bytes(flight).find(header)
    assert at > 0
    mlkem_byte = at + 4 + (10 if group is NamedGroup.X25519MLKEM768 else 97 + 10)  # inside the ciphertext
    flight[mlkem_byte] ^= 0x80
    with pytest.raises(TLSError) as excinfo:
        pair.client.receive_bytes(bytes(flight))
    assert isinstance(excinfo.value, BadRecordMac)
    assert excinfo.value.alert is AlertDescription.BAD_RECORD_MAC
