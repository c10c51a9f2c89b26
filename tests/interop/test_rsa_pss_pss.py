"""rsa_pss_pss_* (RFC 8446 §4.2.3): a server whose certificate key is an RSASSA-PSS key.

cryptography cannot issue such certificates, so the openssl CLI makes them here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from handclasp import CertificateProblem, CertificateVerifyError, ClientConfig, SignatureScheme
from handclasp.io.blocking import connect
from tests.interop.peers.harness import openssl_server


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pss_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pss")
    _openssl("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "ca.key", cwd=d)
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=pss ca", "-days", "30", "-out", "ca.pem",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    _openssl("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaf.key", cwd=d)
    _openssl("req", "-new", "-key", "leaf.key", "-subj", "/CN=localhost", "-out", "leaf.csr", cwd=d)
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    _openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "10", "-extfile", "ext.cnf", "-out", "leaf.pem", cwd=d)
    return d


@pytest.mark.parametrize(
    ("scheme", "sigalg"),
    [
        (SignatureScheme.RSA_PSS_PSS_SHA256, "rsa_pss_pss_sha256"),
        (SignatureScheme.RSA_PSS_PSS_SHA384, "rsa_pss_pss_sha384"),
        (SignatureScheme.RSA_PSS_PSS_SHA512, "rsa_pss_pss_sha512"),
    ],
)
def test_client_verifies_a_certificate_verify_from_an_rsa_pss_key(
    pss_pki: Path, scheme: SignatureScheme, sigalg: str
) -> None:
    config = ClientConfig(dangerous_skip_verification=True, signature_schemes=(scheme,), keylog_filename=None)
    with openssl_server(str(pss_pki / "leaf.pem"), str(pss_pki / "leaf.key"), tls13_only=True) as port:
        with connect("127.0.0.1", int(port), config, server_name="localhost") as tls:
            assert tls.negotiated is not None and tls.negotiated.signature_scheme == scheme


def test_rsa_pss_public_keys_are_refused_by_path_validation_with_a_clear_reason(pss_pki: Path) -> None:
    """cryptography's Web PKI policy forbids RSASSA-PSS subject keys; the refusal names it."""
    config = ClientConfig(cafile=str(pss_pki / "ca.pem"), keylog_filename=None)
    with openssl_server(str(pss_pki / "leaf.pem"), str(pss_pki / "leaf.key"), tls13_only=True) as port:
        with pytest.raises(CertificateVerifyError) as info:
            connect("127.0.0.1", int(port), config, server_name="localhost")
    assert info.value.problem is CertificateProblem.UNSUPPORTED_KEY
