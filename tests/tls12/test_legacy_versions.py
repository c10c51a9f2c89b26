"""TLS 1.0 / 1.1 (RFC 2246 / RFC 4346) between our own client and server, over memory: only with
legacy_versions=True (RFC 8996), and SSL 2.0 / 3.0 hellos refused with protocol_version."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

import pki
from handclasp import (
    AlertDescription,
    CipherSuite,
    ClientConfig,
    ClientConnection,
    Incompatibility,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    ProtocolVersion,
    ServerConfig,
    ServerConnection,
)
from handclasp.events import ApplicationData, HandshakeMessage
from handclasp.legacy.signatures10 import can_sign10, md5_sha1, sign10, verify10
from handclasp.wire.handshake import DOWNGRADE_TLS11
from handclasp.wire.handshake12 import CertificateRequest10, CertificateVerify10
from helpers import ConnectionPair, records

S = CipherSuite
V = ProtocolVersion
LEGACY = [V.TLS1_0, V.TLS1_1]
ECDSA_SUITES = [S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA]
RSA_SUITES = [
    S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    S.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
    S.TLS_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_RSA_WITH_AES_256_CBC_SHA,
]


class _CappedClient(ClientConfig):
    """A client that offers nothing above ``top`` (ClientConfig has no knob to cap below TLS 1.2)."""

    top: ProtocolVersion = V.TLS1_2

    @property
    def allowed_versions(self) -> tuple[ProtocolVersion, ...]:
        return tuple(v for v in super().allowed_versions if v <= self.top)


def _capped(config: ClientConfig, top: ProtocolVersion, **changes: Any) -> ClientConfig:
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    fields.update(changes)
    capped = _CappedClient(**fields)
    object.__setattr__(capped, "top", top)
    return capped


def _configs(
    test_pki: pki.PKI, version: ProtocolVersion, suite: CipherSuite, *, etm: bool = True, **server: Any
) -> tuple[ClientConfig, ServerConfig]:
    key = "ecdsa-p256" if suite in ECDSA_SUITES else "rsa2048"
    client = _capped(
        ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None),
        version,
        legacy_versions=True,
        cipher_suites=(suite,),
        encrypt_then_mac=etm,
        legacy_rsa_key_exchange=True,
    )
    server_config = ServerConfig(
        certificates=(test_pki.server(key),),  # type: ignore[arg-type]
        keylog_filename=None,
        legacy_versions=True,
        legacy_rsa_key_exchange=True,
        cipher_suites=(suite,),
        **server,
    )
    return client, server_config


def _record_versions(data: bytes) -> list[int]:
    return [int.from_bytes(r[1:3], "big") for r in records(data)]


@pytest.mark.parametrize("etm", [True, False], ids=["etm", "mac_then_encrypt"])
@pytest.mark.parametrize("suite", ECDSA_SUITES + RSA_SUITES, ids=lambda s: s.name)
@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
def test_legacy_handshake_and_data(test_pki: pki.PKI, version: ProtocolVersion, suite: CipherSuite, etm: bool) -> None:
    client, server = _configs(test_pki, version, suite, etm=etm)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    c, s = pair.completions()
    for done in (c, s):
        assert done.negotiated.version is version and done.negotiated.cipher_suite is suite
        assert done.negotiated.extended_master_secret is True
        assert done.negotiated.signature_scheme is None  # RFC 2246 §7.4.3: nothing negotiated
    pair.transfer(b"x" * 40000)
    pair.transfer(b"pong", from_client=False)


@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
def test_records_after_server_hello_carry_the_negotiated_version(test_pki: pki.PKI, version: ProtocolVersion) -> None:
    """RFC 2246 §6.2.1 / App. E: after ServerHello both sides frame every record with the chosen version."""
    client, server = _configs(test_pki, version, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
    pair = ConnectionPair(ClientConnection(client, "localhost"), ServerConnection(server))
    pair.client.start_handshake()
    hello = pair.client.data_to_send()
    assert _record_versions(hello) == [0x0301]
    pair.server_events += pair.server.receive_bytes(hello)
    flight = pair.server.data_to_send()
    assert set(_record_versions(flight)) == {version}
    pair.client_events += pair.client.receive_bytes(flight)
    answer = pair.client.data_to_send()
    assert set(_record_versions(answer)) == {version}  # ClientKeyExchange, CCS, Finished
    pair.server_events += pair.server.receive_bytes(answer)
    finished = pair.server.data_to_send()
    assert set(_record_versions(finished)) == {version}
    pair.client_events += pair.client.receive_bytes(finished)
    pair.client.send_application_data(b"a")
    assert set(_record_versions(pair.client.data_to_send())) == {version}


@pytest.mark.parametrize(("version", "body_len"), [(V.TLS1_0, 16 + 20), (V.TLS1_1, 16 + 16 + 20)])
def test_cbc_iv_is_implicit_in_tls10_and_explicit_in_tls11(
    test_pki: pki.PKI, version: ProtocolVersion, body_len: int
) -> None:
    """RFC 2246 §6.2.3.2 (chained IV, none on the wire) vs RFC 4346 §6.2.3.2 (16-byte explicit IV);
    one byte of data with encrypt-then-MAC HMAC-SHA1: one block (+ IV) + 20 bytes of MAC."""
    client, server = _configs(test_pki, version, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    pair.client.send_application_data(b"a")
    (record,) = records(pair.client.data_to_send())
    assert len(record) - 5 == body_len


@pytest.mark.parametrize(("version", "record_count"), [(V.TLS1_0, 2), (V.TLS1_1, 1)])
def test_tls10_cbc_application_data_is_split_one_and_n_minus_one(
    test_pki: pki.PKI, version: ProtocolVersion, record_count: int
) -> None:
    """BEAST countermeasure for TLS 1.0's chained IV (RFC 2246 §6.2.3.2; RFC 4346 §1 explains the
    predictable IV): each write's first record holds one byte. TLS 1.1's explicit IVs need no split."""
    client, server = _configs(test_pki, version, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, etm=False)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    for _ in range(2):
        pair.client.send_application_data(b"GET / HTTP/1.0\r\n\r\n")
        wire = pair.client.data_to_send()
        assert len(records(wire)) == record_count
        events = pair.server.receive_bytes(wire)
        assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"GET / HTTP/1.0\r\n\r\n"


@pytest.mark.parametrize("how", ["session_id", "ticket"])
def test_resumption_at_tls10(test_pki: pki.PKI, how: str) -> None:
    client, server = _configs(
        test_pki, V.TLS1_0, S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, session_tickets=how == "ticket"
    )
    first = ConnectionPair.make(client, server)
    first.handshake()
    session = first.client.session
    assert session is not None and (session.ticket is not None) is (how == "ticket")
    second = ConnectionPair(ClientConnection(client, "localhost", session=session), ServerConnection(server))
    second.client.start_handshake()
    second.handshake()
    c, s = second.completions()
    assert c.negotiated.resumed and s.negotiated.resumed and c.negotiated.version is V.TLS1_0
    second.transfer(b"resumed")


@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
@pytest.mark.parametrize("key", ["ecdsa-p256", "rsa2048"])
def test_client_certificate_at_legacy_versions(test_pki: pki.PKI, version: ProtocolVersion, key: str) -> None:
    """RFC 2246 §7.4.4 / §7.4.8: CertificateRequest without signature algorithms; CertificateVerify is the
    bare legacy signature over the handshake messages."""
    client, server = _configs(
        test_pki, version, S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, client_auth="require",
        client_cadata=test_pki.ca.root_pem,
    )
    certified = test_pki.ca.issue([pki.CLIENT_NAME], key, client=True)  # type: ignore[arg-type]
    client = dataclasses.replace(client, certificate=certified)
    object.__setattr__(client, "top", version)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    _, s = pair.completions()
    assert s.negotiated.peer_certificates[0] == certified.leaf
    sent = [e.message for e in pair.client_events if isinstance(e, HandshakeMessage)]
    assert any(isinstance(m, CertificateRequest10) for m in sent)
    assert any(isinstance(m, CertificateVerify10) for m in sent)


def test_legacy_off_server_refuses_tls10_client(test_pki: pki.PKI, client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8996 §5: a server without legacy_versions answers a TLS 1.0 ClientHello with protocol_version."""
    client = _capped(client_config, V.TLS1_0, legacy_versions=True)
    pair = ConnectionPair.make(client, server_config)
    with pytest.raises(PeerIncompatible) as caught:
        pair.client_to_server()
    assert caught.value.reason is Incompatibility.NO_SHARED_VERSION
    assert caught.value.alert is AlertDescription.PROTOCOL_VERSION
    assert pair.server.data_to_send()[:1] == b"\x15"  # the alert went out


def test_legacy_off_client_never_offers_below_tls12(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8996 §5: with legacy_versions only on the server, TLS 1.2+ is still what gets negotiated."""
    server = dataclasses.replace(server_config, legacy_versions=True)
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    c, _ = pair.completions()
    assert c.negotiated.version >= V.TLS1_2


def test_tls12_server_marks_a_downgrade_to_tls11(test_pki: pki.PKI) -> None:
    """RFC 8446 §4.1.3: a TLS 1.2 server SHOULD end its random with DOWNGRD 00 when it negotiates TLS 1.1
    or below (a client that offers only 1.1 does not check it, so the handshake goes on)."""
    client, server = _configs(test_pki, V.TLS1_1, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
    server = dataclasses.replace(server, versions=(V.TLS1_2,))
    pair = ConnectionPair.make(client, server)
    pair.client_to_server()
    flight = pair.server.data_to_send()
    assert flight[5 + 4 + 2 + 24 : 5 + 4 + 2 + 32] == DOWNGRADE_TLS11
    pair.client_events += pair.client.receive_bytes(flight)
    pair.handshake()
    assert pair.completions()[0].negotiated.version is V.TLS1_1


def test_tls12_client_detects_the_tls11_downgrade_sentinel(test_pki: pki.PKI) -> None:
    """RFC 8446 §4.1.3: a TLS 1.2 client SHOULD check for DOWNGRD 00 when the server picks TLS 1.1 or below."""
    client, server = _configs(test_pki, V.TLS1_2, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
    pair = ConnectionPair.make(client, _capped_server(server, V.TLS1_1))
    pair.client_to_server()
    flight = bytearray(pair.server.data_to_send())
    assert flight[5 + 4 + 2 + 24 : 5 + 4 + 2 + 32] != DOWNGRADE_TLS11  # a TLS 1.1-only server does not mark
    flight[5 + 4 + 2 + 24 : 5 + 4 + 2 + 32] = DOWNGRADE_TLS11  # an attacker-capped TLS 1.2 server would
    with pytest.raises(PeerMisbehaved) as caught:
        pair.client.receive_bytes(bytes(flight))
    assert caught.value.reason is Misbehaviour.DOWNGRADE_DETECTED
    assert caught.value.alert is AlertDescription.ILLEGAL_PARAMETER


class _CappedServer(ServerConfig):
    top: ProtocolVersion = V.TLS1_2

    @property
    def allowed_versions(self) -> tuple[ProtocolVersion, ...]:
        return tuple(v for v in super().allowed_versions if v <= self.top)


def _capped_server(config: ServerConfig, top: ProtocolVersion) -> ServerConfig:
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    capped = _CappedServer(**fields)
    object.__setattr__(capped, "top", top)
    return capped


# SSL 2.0 CLIENT-HELLO (draft-hickman §B): 2-byte header with the high bit set, msg_type 1, version 0x0301,
# cipher_spec_length 3, session_id_length 0, challenge_length 16, one cipher spec, the challenge.
SSL2_CLIENT_HELLO = bytes.fromhex("801c" "01" "0301" "0003" "0000" "0010" "00002f") + bytes(range(16))


@pytest.mark.parametrize("legacy", [False, True])
def test_sslv2_client_hello_is_refused_with_protocol_version(server_config: ServerConfig, legacy: bool) -> None:
    """RFC 6176 §3: SSL 2.0 is never negotiated; its ClientHello is a version problem, not garbage."""
    assert len(SSL2_CLIENT_HELLO) == 2 + 0x1C
    server = ServerConnection(dataclasses.replace(server_config, legacy_versions=legacy))
    with pytest.raises(PeerIncompatible) as caught:
        server.receive_bytes(SSL2_CLIENT_HELLO)
    assert caught.value.reason is Incompatibility.SSL2_CLIENT_HELLO
    assert caught.value.alert is AlertDescription.PROTOCOL_VERSION
    assert server.data_to_send() == bytes.fromhex("15030300020246")


def test_ssl3_client_hello_is_refused_even_in_legacy_mode(test_pki: pki.PKI) -> None:
    """RFC 7568 §3: SSL 3.0 MUST NOT be negotiated; a ClientHello offering only 3.0 gets protocol_version."""
    from handclasp.wire.codec import Reader
    from handclasp.wire.handshake import ClientHello, encode_message

    client, server = _configs(test_pki, V.TLS1_0, S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
    pair = ConnectionPair.make(client, server)
    record = pair.client.data_to_send()
    hello = ClientHello.decode(Reader(record[9:]))
    message = encode_message(dataclasses.replace(hello, legacy_version=V.SSL3))
    wire = b"\x16\x03\x00" + len(message).to_bytes(2, "big") + message
    with pytest.raises(PeerIncompatible) as caught:
        pair.server.receive_bytes(wire)
    assert caught.value.reason is Incompatibility.LEGACY_VERSION_OFFERED_ONLY
    assert caught.value.alert is AlertDescription.PROTOCOL_VERSION


def test_tampered_legacy_server_key_exchange_is_bad_signature(test_pki: pki.PKI) -> None:
    """RFC 2246 §7.4.3: the client checks the MD5+SHA-1 signature over both randoms and the params."""
    client, server = _configs(test_pki, V.TLS1_0, S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA)
    pair = ConnectionPair.make(client, server)
    pair.client_to_server()
    flight = bytearray(pair.server.data_to_send())
    ske = flight.find(b"\x0c\x00")  # ServerKeyExchange header
    assert ske > 0
    flight[ske + 4 + 6] ^= 1  # a byte of the ECDHE public point
    with pytest.raises(PeerMisbehaved) as caught:
        pair.client.receive_bytes(bytes(flight))
    assert caught.value.reason is Misbehaviour.BAD_SIGNATURE
    assert caught.value.alert is AlertDescription.DECRYPT_ERROR


# --- the pre-1.2 signature formats on their own


def test_rsa_legacy_signature_is_pkcs1_type1_over_md5_sha1_without_digest_info(test_pki: pki.PKI) -> None:
    """RFC 2246 §4.7: a 36-byte MD5 || SHA-1, PKCS #1 block type 1, no DigestInfo."""
    key = test_pki.server("rsa2048").private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = sign10(key, b"signed params")
    public = key.public_key()
    assert public.recover_data_from_signature(signature, padding.PKCS1v15(), None) == md5_sha1(b"signed params")
    assert md5_sha1(b"x") == hashlib.md5(b"x").digest() + hashlib.sha1(b"x").digest()
    verify10(public, b"signed params", signature)
    with pytest.raises(PeerMisbehaved) as caught:
        verify10(public, b"signed paramz", signature)
    assert caught.value.reason is Misbehaviour.BAD_SIGNATURE


def test_ecdsa_legacy_signature_is_over_sha1(test_pki: pki.PKI) -> None:
    """RFC 4492 §5.4: ECDSA signs SHA-1 of the data in TLS 1.0/1.1."""
    from cryptography.hazmat.primitives import hashes

    key = test_pki.server("ecdsa-p256").private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = sign10(key, b"data")
    key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA1()))
    verify10(key.public_key(), b"data", signature)
    with pytest.raises(PeerMisbehaved) as caught:
        verify10(key.public_key(), b"data", signature[:-1] + bytes([signature[-1] ^ 1]))
    assert caught.value.reason is Misbehaviour.BAD_SIGNATURE


def test_eddsa_has_no_legacy_signature() -> None:
    """RFC 8422 §5.1.3: EdDSA only from TLS 1.2 on."""
    key = ed25519.Ed25519PrivateKey.generate()
    assert not can_sign10(key)
    with pytest.raises(ValueError):
        sign10(key, b"data")
    with pytest.raises(PeerMisbehaved) as caught:
        verify10(key.public_key(), b"data", b"\x00" * 64)
    assert caught.value.reason is Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH
