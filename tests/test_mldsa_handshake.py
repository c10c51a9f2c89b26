"""TLS 1.3 handshakes authenticated with ML-DSA (draft-ietf-tls-mldsa-06), our client and server over memory."""

from __future__ import annotations

import dataclasses
import functools
import time

import pytest

import pki
from handclasp import (
    AlertDescription,
    CertificateVerifyError,
    ClientConfig,
    PeerIncompatible,
    PeerMisbehaved,
    ServerConfig,
    SignatureScheme,
)
from handclasp.crypto.signatures import MLDSA_AVAILABLE
from handclasp.errors import CertificateProblem, Misbehaviour
from handclasp.tools.certs import CertifiedKey, KeyType, LocalCA
from handclasp.x509.verify import WebPkiClientVerifier, WebPkiServerVerifier
from helpers import ConnectionPair, records

pytestmark = pytest.mark.skipif(not MLDSA_AVAILABLE, reason="cryptography backend without ML-DSA")

S = SignatureScheme
MLDSA_BY_KEY: list[tuple[KeyType, SignatureScheme]] = [
    ("mldsa44", S.MLDSA44),
    ("mldsa65", S.MLDSA65),
    ("mldsa87", S.MLDSA87),
]
CLASSICAL = (S.ECDSA_SECP256R1_SHA256, S.RSA_PSS_RSAE_SHA256, S.ED25519)


@functools.cache
def mldsa_ca() -> LocalCA:
    """An all-ML-DSA-65 PKI: root and intermediate both ML-DSA-65."""
    return LocalCA.create("handclasp ML-DSA test CA", "mldsa65", intermediate=True)


@functools.cache
def mldsa_server(key_type: KeyType = "mldsa65") -> CertifiedKey:
    return mldsa_ca().issue(["localhost", "127.0.0.1"], key_type)


@functools.cache
def mldsa_client(key_type: KeyType = "mldsa65") -> CertifiedKey:
    return mldsa_ca().issue(["client.handclasp.test"], key_type, client=True)


def configs(server_key: CertifiedKey, **client_options: object) -> tuple[ClientConfig, ServerConfig]:
    client = ClientConfig(cadata=mldsa_ca().root_pem, keylog_filename=None, **client_options)  # type: ignore[arg-type]
    server = ServerConfig(certificates=(server_key,), keylog_filename=None)
    return client, server


@pytest.mark.parametrize(("key_type", "scheme"), MLDSA_BY_KEY, ids=lambda v: str(getattr(v, "name", v)))
def test_mldsa_server_certificate_chain(key_type: KeyType, scheme: SignatureScheme) -> None:
    client, server = configs(mldsa_server(key_type), signature_schemes=(*CLASSICAL, scheme))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.server.negotiated is not None
    assert pair.client.negotiated.signature_scheme == scheme
    assert pair.server.negotiated.signature_scheme == scheme
    # leaf + intermediate, all ML-DSA-65 signatures on the certificates
    assert len(pair.client.negotiated.peer_certificates) == 2
    pair.transfer(b"post-quantum ping")
    pair.transfer(b"pong", from_client=False)


def test_mldsa_offered_by_default() -> None:
    """The default signature_algorithms carries the ML-DSA codepoints, so defaults on both ends just work."""
    client, server = configs(mldsa_server("mldsa65"))
    assert {S.MLDSA44, S.MLDSA65, S.MLDSA87} <= set(client.signature_schemes)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.signature_scheme == S.MLDSA65


def test_server_with_mldsa_certificate_refuses_client_without_mldsa() -> None:
    """RFC 8446 §4.4.2.2: no certificate fits the client's signature_algorithms → handshake_failure."""
    client, server = configs(mldsa_server("mldsa65"), signature_schemes=CLASSICAL)
    pair = ConnectionPair.make(client, server)
    with pytest.raises(PeerIncompatible) as caught:
        pair.client_to_server()
    assert caught.value.alert == AlertDescription.HANDSHAKE_FAILURE


def test_server_prefers_classical_certificate_when_client_lacks_mldsa(test_pki: pki.PKI) -> None:
    """With an ECDSA and an ML-DSA certificate, a classical-only client still gets through."""
    ecdsa = test_pki.server("ecdsa-p256")
    client = ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None, signature_schemes=CLASSICAL)
    server = ServerConfig(certificates=(mldsa_server("mldsa65"), ecdsa), keylog_filename=None)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None
    assert pair.client.negotiated.signature_scheme == S.ECDSA_SECP256R1_SHA256


def test_mldsa_chain_from_untrusted_root_is_refused() -> None:
    """The ML-DSA path still goes through Web PKI validation: an unrelated root is unknown_ca."""
    other = LocalCA.create("unrelated ML-DSA CA", "mldsa44")
    client = ClientConfig(cadata=other.root_pem, keylog_filename=None)
    server = ServerConfig(certificates=(mldsa_server("mldsa65"),), keylog_filename=None)
    pair = ConnectionPair.make(client, server)
    pair.client_to_server()
    with pytest.raises(CertificateVerifyError) as caught:
        pair.server_to_client()
    assert caught.value.alert == AlertDescription.UNKNOWN_CA


def test_verifier_accepts_mldsa_chains_and_maps_a_forged_certificate_signature() -> None:
    """cryptography.x509.verification checks ML-DSA certificate signatures; a flipped bit is BAD_SIGNATURE."""
    chain = list(mldsa_server("mldsa87").chain_der)
    verified = WebPkiServerVerifier([mldsa_ca().root]).verify_server(chain, "localhost", time.time())
    assert [cert.signature_algorithm_oid.dotted_string for cert in verified.path[:2]] == ["2.16.840.1.101.3.4.3.18"] * 2
    WebPkiClientVerifier([mldsa_ca().root]).verify_client(list(mldsa_client("mldsa44").chain_der), time.time())
    forged = bytearray(chain[0])
    forged[-20] ^= 0x01  # inside the ML-DSA-65 signatureValue
    with pytest.raises(CertificateVerifyError) as caught:
        WebPkiServerVerifier([mldsa_ca().root]).verify_server([bytes(forged), *chain[1:]], "localhost", time.time())
    assert caught.value.problem == CertificateProblem.BAD_SIGNATURE
    assert caught.value.alert == AlertDescription.BAD_CERTIFICATE


def test_mldsa_certificate_verify_with_the_wrong_key_is_decrypt_error() -> None:
    """RFC 8446 §4.4.3: a CertificateVerify that does not verify is decrypt_error (BAD_SIGNATURE).

    The server signs with another ML-DSA-65 key than its (valid) leaf's: the path check passes and
    the signature check must fail.
    """
    client, _ = configs(mldsa_server("mldsa65"))
    impostor = mldsa_ca().issue(["localhost", "127.0.0.1"], "mldsa65")
    forged = _ForgedKey(chain=mldsa_server("mldsa65").chain, private_key=impostor.private_key)
    pair = ConnectionPair.make(client, ServerConfig(certificates=(forged,), keylog_filename=None))
    pair.client_to_server()
    with pytest.raises(PeerMisbehaved) as caught:
        pair.server_to_client()
    assert caught.value.reason == Misbehaviour.BAD_SIGNATURE
    assert caught.value.alert == AlertDescription.DECRYPT_ERROR


@pytest.mark.parametrize(("key_type", "scheme"), MLDSA_BY_KEY, ids=lambda v: str(getattr(v, "name", v)))
def test_mldsa_client_certificate(key_type: KeyType, scheme: SignatureScheme) -> None:
    client, server = configs(mldsa_server("mldsa65"), certificate=mldsa_client(key_type))
    server = dataclasses.replace(server, client_auth="require", client_cadata=mldsa_ca().root_pem)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.server.negotiated is not None
    assert pair.server.negotiated.peer_certificates[0] == mldsa_client(key_type).leaf
    pair.transfer(b"client authenticated with " + scheme.name.encode())


def test_mldsa_client_certificate_with_classical_server(test_pki: pki.PKI) -> None:
    """Mixed: an ECDSA server certificate, an ML-DSA-44 client certificate from an ML-DSA CA."""
    client = ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None, certificate=mldsa_client("mldsa44"))
    server = ServerConfig(certificates=(test_pki.server("ecdsa-p256"),), keylog_filename=None,
                          client_auth="require", client_cadata=mldsa_ca().root_pem)
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None
    assert pair.client.negotiated.signature_scheme == S.ECDSA_SECP256R1_SHA256
    assert pair.server.negotiated is not None and len(pair.server.negotiated.peer_certificates) == 2


def test_mldsa_handshake_messages_are_large_but_bounded() -> None:
    """An ML-DSA-65 server flight (two 5.4 KB certificates, 3.3 KB signature) spans several records."""
    client, server = configs(mldsa_server("mldsa65"))
    pair = ConnectionPair.make(client, server)
    pair.client_to_server()
    flight = pair.server.data_to_send()
    assert len(flight) > 2 * 5000 + 3309
    assert len(records(flight)) >= 2
    pair.client.receive_bytes(flight)
    pair.client_to_server()
    assert pair.client.handshake_complete and pair.server.handshake_complete


@dataclasses.dataclass(frozen=True)
class _ForgedKey(CertifiedKey):
    """A CertifiedKey whose key does not match its leaf (skips the constructor's check)."""

    def __post_init__(self) -> None:
        pass
