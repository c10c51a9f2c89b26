"""The local CA: certificate profile, files, persistence, and acceptance by OpenSSL."""

from __future__ import annotations

import datetime
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.oid import ExtendedKeyUsageOID

import pki
from handclasp.tools import certs
from handclasp.tools.certs import CertifiedKey, LocalCA, default_local_ca, user_data_dir
from handclasp.x509.verify import WebPkiClientVerifier, WebPkiServerVerifier

OPENSSL = shutil.which("openssl")


def extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(kind)


def test_root_profile() -> None:
    root = pki.test_pki().ca.root
    assert root.version is x509.Version.v3
    assert root.issuer == root.subject
    constraints = extension(root, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca  # type: ignore[attr-defined]
    usage = extension(root, x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature  # type: ignore[attr-defined]
    lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert datetime.timedelta(days=3649) < lifetime < datetime.timedelta(days=3652)


def test_leaf_profile() -> None:
    test = pki.test_pki()
    leaf = test.server().leaf
    assert test.server().names() == ("localhost", "127.0.0.1")
    assert not extension(leaf, x509.BasicConstraints).value.ca  # type: ignore[attr-defined]
    assert extension(leaf, x509.KeyUsage).value.digital_signature  # type: ignore[attr-defined]
    assert list(extension(leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]  # type: ignore[call-overload]
    assert list(extension(test.client.leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]  # type: ignore[call-overload]
    ski = extension(test.ca.root, x509.SubjectKeyIdentifier).value.digest  # type: ignore[attr-defined]
    assert extension(leaf, x509.AuthorityKeyIdentifier).value.key_identifier == ski  # type: ignore[attr-defined]
    assert leaf.serial_number != test.other.leaf.serial_number
    assert leaf.serial_number.bit_length() > 100
    now = datetime.datetime.now(datetime.UTC)
    assert now - datetime.timedelta(hours=2) < leaf.not_valid_before_utc < now
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert datetime.timedelta(days=365) <= lifetime <= datetime.timedelta(days=366)


def test_rsa_leaf_allows_key_encipherment_for_tls12() -> None:
    usage = extension(pki.test_pki().server("rsa2048").leaf, x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment  # type: ignore[attr-defined]


def test_rsa_pss_leaf_is_refused_with_a_reason() -> None:
    assert not pki.RSA_PSS_SUPPORTED
    with pytest.raises(ValueError, match="RSASSA-PSS"):
        pki.test_pki().ca.issue(["localhost"], "rsa-pss")


def test_rsa_pss_ca_signs_with_pss() -> None:
    ca = LocalCA.create("pss CA", "rsa-pss")
    certified = ca.issue(["localhost"])
    assert isinstance(certified.leaf.signature_algorithm_parameters, padding.PSS)
    WebPkiServerVerifier([ca.root]).verify_server(certified.chain_der, "localhost", time.time())


def test_wildcard_and_unicode_names() -> None:
    certified = pki.test_pki().ca.issue(["*.Example.test", "bücher.example", "::1"])
    assert certified.names() == ("*.example.test", "xn--bcher-kva.example", "::1")
    verifier = WebPkiServerVerifier(pki.test_pki().roots)
    for name in ("www.example.test", "bücher.example", "::1"):
        verifier.verify_server(certified.chain_der, name, time.time())


def test_issue_refuses_bad_input() -> None:
    ca = pki.test_pki().ca
    with pytest.raises(ValueError):
        ca.issue([])
    with pytest.raises(ValueError):
        ca.issue(["a..b"])
    now = datetime.datetime.now(datetime.UTC)
    with pytest.raises(ValueError):
        ca.issue(["localhost"], not_before=now, not_after=now)


def test_certified_key_refuses_mismatched_key() -> None:
    test = pki.test_pki()
    with pytest.raises(ValueError):
        CertifiedKey(chain=test.server().chain, private_key=test.other.private_key)


def test_certified_key_pem_round_trip(tmp_path: Path) -> None:
    original = pki.test_pki().intermediate
    original.write_pem(tmp_path / "chain.pem", tmp_path / "chain.key")
    assert stat.S_IMODE((tmp_path / "chain.key").stat().st_mode) == 0o600
    loaded = CertifiedKey.load(tmp_path / "chain.pem", tmp_path / "chain.key")
    assert loaded.chain == original.chain
    assert loaded.chain_der == original.chain_der


def test_ca_save_and_load(tmp_path: Path) -> None:
    ca = LocalCA.create("saved CA", intermediate=True)
    ca.save(tmp_path / "ca")
    assert stat.S_IMODE((tmp_path / "ca").stat().st_mode) == 0o700
    for key in ("root.key", "issuing.key"):
        assert stat.S_IMODE((tmp_path / "ca" / key).stat().st_mode) == 0o600
    loaded = LocalCA.load(tmp_path / "ca")
    assert loaded.root == ca.root and loaded.intermediates == ca.intermediates
    certified = loaded.issue(["localhost"])
    assert certified.chain[1:] == ca.intermediates
    WebPkiServerVerifier([ca.root]).verify_server(certified.chain_der, "localhost", time.time())


def test_default_local_ca_is_created_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_data_dir() == tmp_path / "handclasp"
    first = default_local_ca()
    assert (tmp_path / "handclasp" / "ca" / "root.pem").exists()
    assert default_local_ca().root == first.root
    assert [p.name for p in (tmp_path / "handclasp").iterdir()] == ["ca"]


def test_user_data_dir_falls_back_to_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_data_dir() == tmp_path / ".local" / "share" / "handclasp"


def test_key_types_cover_the_literal() -> None:
    assert set(certs.KEY_TYPES) >= {"ecdsa-p256", "rsa2048", "rsa-pss", "ed25519", "ed448"}
    with pytest.raises(ValueError):
        certs.generate_private_key("dsa")  # type: ignore[arg-type]


def test_client_verifier_accepts_written_client_certificate(tmp_path: Path) -> None:
    paths = pki.write_pki(tmp_path)
    client = CertifiedKey.load(paths["client.pem"], paths["client.key"])
    WebPkiClientVerifier(pki.test_pki().roots).verify_client(client.chain_der, time.time())


def openssl_verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, "verify", *map(str, args)], capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")
def test_openssl_accepts_written_pki(tmp_path: Path) -> None:
    paths = pki.write_pki(tmp_path)
    for stem in ["server", "other", *(f"server-{key_type}" for key_type in pki.SERVER_KEY_TYPES)]:
        result = openssl_verify("-CAfile", paths["ca.pem"], "-purpose", "sslserver", paths[f"{stem}.pem"])
        assert result.returncode == 0, (stem, result.stdout, result.stderr)
    result = openssl_verify("-CAfile", paths["ca.pem"], "-purpose", "sslclient", paths["client.pem"])
    assert result.returncode == 0, result.stderr
    chain = paths["server-intermediate.pem"]
    result = openssl_verify("-CAfile", paths["ca.pem"], "-untrusted", chain, "-purpose", "sslserver", chain)
    assert result.returncode == 0, result.stderr
    assert openssl_verify("-CAfile", paths["ca.pem"], chain).returncode != 0  # intermediate is needed
    assert openssl_verify("-CAfile", paths["ca.pem"], paths["expired.pem"]).returncode != 0
    assert openssl_verify("-CAfile", paths["ca.pem"], paths["unrelated.pem"]).returncode != 0
    result = openssl_verify("-CAfile", paths["unrelated-ca.pem"], paths["unrelated.pem"])
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(OPENSSL is None, reason="openssl binary not installed")
def test_openssl_checks_hostnames_and_keys(tmp_path: Path) -> None:
    paths = pki.write_pki(tmp_path)
    for host_option in (["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"]):
        result = openssl_verify("-CAfile", paths["ca.pem"], *host_option, paths["server.pem"])
        assert result.returncode == 0, result.stderr
    assert openssl_verify(
        "-CAfile", paths["ca.pem"], "-verify_hostname", "x.test", paths["server.pem"]
    ).returncode
    for stem in ("server", "server-rsa2048", "client"):
        cert = subprocess.run(
            [str(OPENSSL), "x509", "-noout", "-pubkey", "-in", str(paths[f"{stem}.pem"])],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        key = subprocess.run(
            [str(OPENSSL), "pkey", "-pubout", "-in", str(paths[f"{stem}.key"])],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert cert == key
