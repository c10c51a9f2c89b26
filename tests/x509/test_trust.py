"""Trust anchors from the system bundle, certifi, a file or data."""

from __future__ import annotations

import time
from pathlib import Path

import certifi
import pytest
from cryptography.hazmat.primitives import serialization

import pki
from handclasp.x509 import trust
from handclasp.x509.trust import load_roots


def test_default_roots_are_a_non_empty_bundle() -> None:
    roots = load_roots()
    assert len(roots) > 50
    assert all(root.subject for root in roots)
    assert load_roots() is not load_roots()  # callers get their own list


def test_default_bundle_falls_back_to_certifi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trust, "SYSTEM_BUNDLES", ())
    monkeypatch.setattr("ssl.get_default_verify_paths", lambda: _NoPaths())
    assert trust.default_bundle_path() == certifi.where()


def test_cafile_pem_and_der(tmp_path: Path) -> None:
    test = pki.test_pki()
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"comment line\n" + test.ca.root_pem + test.unrelated_ca.root_pem)
    assert load_roots(cafile=str(bundle)) == [test.ca.root, test.unrelated_ca.root]
    der = test.ca.root.public_bytes(serialization.Encoding.DER)
    assert load_roots(cadata=der) == [test.ca.root]
    assert load_roots(cafile=str(bundle), cadata=test.ca.root_pem) == [
        test.ca.root,
        test.unrelated_ca.root,
        test.ca.root,
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_bad_cadata_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError):
        load_roots(cadata=data)


def test_missing_cafile_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_roots(cafile=str(tmp_path / "absent.pem"))


class _NoPaths:
    cafile = None
    openssl_cafile = "/nonexistent/cert.pem"


def test_verifier_builds_from_the_system_bundle() -> None:
    from handclasp.errors import CertificateProblem, CertificateVerifyError
    from handclasp.x509.verify import WebPkiServerVerifier

    verifier = WebPkiServerVerifier(load_roots())
    with pytest.raises(CertificateVerifyError) as info:
        verifier.verify_server(pki.test_pki().server().chain_der, "localhost", time.time())
    assert info.value.problem is CertificateProblem.UNKNOWN_ISSUER
