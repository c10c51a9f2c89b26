"""``handclasp cert init / issue / show``, run as a subprocess; issued chains checked by openssl and by our verifier."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa

from handclasp import CertificateProblem, CertificateVerifyError
from handclasp.crypto.signatures import MLDSA_AVAILABLE
from handclasp.tools.certs import CertifiedKey, LocalCA
from handclasp.x509.verify import WebPkiClientVerifier, WebPkiServerVerifier
from tests.interop.peers.harness import require_binary

HANDCLASP = str(Path(sys.executable).parent / "handclasp")
TIMEOUT = 60
needs_mldsa = pytest.mark.skipif(not MLDSA_AVAILABLE, reason="cryptography backend without ML-DSA")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private data dir (the default local CA lands in tmp_path), no colours."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SSLKEYLOGFILE", "FORCE_COLOR")}
    environ.update(XDG_DATA_HOME=str(tmp_path / "data"), NO_COLOR="1")
    return environ


def cert(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HANDCLASP, "cert", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=TIMEOUT, check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def openssl_verify(root: Path, chain: Path, purpose: str = "sslserver", name: str | None = None) -> None:
    """``openssl verify`` with the leaf's intermediates (if any) as untrusted certificates."""
    require_binary("openssl")  # skipped without it, failed under HANDCLASP_REQUIRE_PEERS=1
    certs = x509.load_pem_x509_certificates(chain.read_bytes())
    leaf = chain.with_suffix(".leaf.pem")
    leaf.write_bytes(certs[0].public_bytes(serialization.Encoding.PEM))
    argv = ["openssl", "verify", "-x509_strict", "-purpose", purpose, "-CAfile", str(root)]
    if len(certs) > 1:
        untrusted = chain.with_suffix(".untrusted.pem")
        untrusted.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs[1:]))
        argv += ["-untrusted", str(untrusted)]
    if name is not None:
        argv += ["-verify_ip" if name[0].isdigit() else "-verify_hostname", name]
    result = subprocess.run([*argv, str(leaf)], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr


def test_init_issue_show_ecdsa_verified_by_openssl(env: dict[str, str], tmp_path: Path) -> None:
    out = ok(cert("init", "--dir", "ca", env=env, cwd=tmp_path))
    assert "created CA" in out and "ECDSA P-256" in out
    root = tmp_path / "ca" / "root.pem"
    assert stat.S_IMODE((tmp_path / "ca" / "root.key").stat().st_mode) == 0o600

    out = ok(cert("issue", "localhost", "127.0.0.1", "--dir", "ca", env=env, cwd=tmp_path))
    assert "issued server certificate for localhost, 127.0.0.1" in out
    chain, key = tmp_path / "localhost.pem", tmp_path / "localhost.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    certified = CertifiedKey.load(chain, key)  # the key belongs to the leaf
    assert isinstance(certified.private_key, ec.EllipticCurvePrivateKey)
    openssl_verify(root, chain, name="localhost")
    openssl_verify(root, chain, name="127.0.0.1")

    shown = ok(cert("show", "localhost.pem", env=env, cwd=tmp_path))
    fingerprint = certified.leaf.fingerprint(hashes.SHA256()).hex(":").upper()
    for expected in ("subject     CN=localhost,O=handclasp", "issuer      CN=handclasp local CA,O=handclasp",
                     "names       localhost, 127.0.0.1", "key         ECDSA P-256", "purpose     TLS server",
                     f"SHA-256     {fingerprint}", "days left"):
        assert expected in shown, shown


def test_issue_client_certificate_with_days_and_output_paths(env: dict[str, str], tmp_path: Path) -> None:
    ok(cert("init", "--dir", "ca", "--key-type", "ecdsa-p384", "--intermediate", env=env, cwd=tmp_path))
    (tmp_path / "out").mkdir()
    ok(cert("issue", "alice.example.test", "--client", "--days", "7", "--key-type", "rsa2048",
            "--out-cert", "out/alice.crt", "--out-key", "out/alice.pem", "--dir", "ca", env=env, cwd=tmp_path))
    chain = tmp_path / "out" / "alice.crt"
    certs = x509.load_pem_x509_certificates(chain.read_bytes())
    assert len(certs) == 2  # leaf + intermediate
    lifetime = certs[0].not_valid_after_utc - certs[0].not_valid_before_utc
    assert 7 * 86400 <= lifetime.total_seconds() <= 7 * 86400 + 7200
    openssl_verify(tmp_path / "ca" / "root.pem", chain, purpose="sslclient")
    shown = ok(cert("show", "out/alice.crt", env=env, cwd=tmp_path))
    assert "certificate 1" in shown and "purpose     TLS client" in shown and "purpose     CA" in shown


def test_issue_defaults_to_the_local_ca_that_serve_uses(env: dict[str, str], tmp_path: Path) -> None:
    out = ok(cert("issue", "*.example.test", env=env, cwd=tmp_path))
    ca_dir = tmp_path / "data" / "handclasp" / "ca"
    assert "created the local CA" in out and (ca_dir / "root.pem").exists()
    assert (tmp_path / "wildcard.example.test.pem").exists()
    openssl_verify(ca_dir / "root.pem", tmp_path / "wildcard.example.test.pem", name="www.example.test")
    # init without --dir refuses to replace that CA
    again = cert("init", env=env, cwd=tmp_path)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "already exists" in again.stderr


@needs_mldsa
def test_mldsa_ca_and_leaf_verified_by_our_verifier(env: dict[str, str], tmp_path: Path) -> None:
    """Debian's OpenSSL 3.0 cannot verify ML-DSA, so the chain goes through cryptography's Web PKI verifier."""
    ok(cert("init", "--dir", "pq", "--key-type", "mldsa87", "--intermediate", env=env, cwd=tmp_path))
    out = ok(cert("issue", "localhost", "--key-type", "mldsa65", "--dir", "pq", env=env, cwd=tmp_path))
    assert "ML-DSA-65" in out
    certified = CertifiedKey.load(tmp_path / "localhost.pem", tmp_path / "localhost.key")
    assert isinstance(certified.private_key, mldsa.MLDSA65PrivateKey)
    root = x509.load_pem_x509_certificate((tmp_path / "pq" / "root.pem").read_bytes())
    assert isinstance(root.public_key(), mldsa.MLDSA87PublicKey)
    verified = WebPkiServerVerifier([root]).verify_server(certified.chain_der, "localhost", time.time())
    assert len(verified.path) == 3
    with pytest.raises(CertificateVerifyError) as caught:
        WebPkiServerVerifier([root]).verify_server(certified.chain_der, "other.test", time.time())
    assert caught.value.problem == CertificateProblem.NAME_MISMATCH
    unrelated = LocalCA.create("unrelated", "mldsa87")
    with pytest.raises(CertificateVerifyError) as caught:
        WebPkiServerVerifier([unrelated.root]).verify_server(certified.chain_der, "localhost", time.time())
    assert caught.value.problem in (CertificateProblem.UNKNOWN_ISSUER, CertificateProblem.BAD_SIGNATURE)

    shown = ok(cert("show", "localhost.pem", env=env, cwd=tmp_path))
    assert "key         ML-DSA-65" in shown and "signature   ML-DSA-87" in shown


@needs_mldsa
def test_mldsa_client_certificate_from_an_ecdsa_ca(env: dict[str, str], tmp_path: Path) -> None:
    ok(cert("init", "--dir", "ca", env=env, cwd=tmp_path))
    ok(cert("issue", "bob.example.test", "--client", "--key-type", "mldsa44", "--dir", "ca", env=env, cwd=tmp_path))
    certified = CertifiedKey.load(tmp_path / "bob.example.test.pem", tmp_path / "bob.example.test.key")
    root = x509.load_pem_x509_certificate((tmp_path / "ca" / "root.pem").read_bytes())
    verified = WebPkiClientVerifier([root]).verify_client(certified.chain_der, time.time())
    assert verified.path[-1] == root
    # Not `openssl verify`: OpenSSL 3.0 cannot even decode an ML-DSA SubjectPublicKeyInfo ("X509_PUBKEY_get0:
    # decode error"), whatever signed the certificate.


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        (["issue", "x.test", "--dir", "missing"], 1, "no CA in missing"),
        (["issue", "x.test", "--days", "0"], 2, "--days"),
        (["issue", "bad_name!"], 2, "bad_name!"),
        (["issue", "x.test", "--key-type", "rsa-pss"], 2, "invalid choice"),
        (["issue", "x.test", "--out-cert", "same", "--out-key", "same"], 2, "different files"),
        (["show", "nothing.pem"], 1, "cannot read nothing.pem"),
        (["show", "junk.pem"], 1, "no readable certificate"),
        ([], 2, "choose an action"),
    ],
)
def test_errors_are_one_line(args: list[str], status: int, fragment: str, env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    result = cert(*args, env=env, cwd=tmp_path)
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr.splitlines()[-1]
    if status == 1:
        assert result.stderr.count("\n") == 1


def test_issue_refuses_to_overwrite_without_force(env: dict[str, str], tmp_path: Path) -> None:
    ok(cert("issue", "localhost", env=env, cwd=tmp_path))
    first = (tmp_path / "localhost.pem").read_bytes()
    refused = cert("issue", "localhost", env=env, cwd=tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert (tmp_path / "localhost.pem").read_bytes() == first
    ok(cert("issue", "localhost", "--force", env=env, cwd=tmp_path))
    assert (tmp_path / "localhost.pem").read_bytes() != first
