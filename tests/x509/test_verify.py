"""Certificate verification: each refusal has its reason and alert, and good chains pass."""

from __future__ import annotations

import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import pki
from handclasp.errors import CertificateProblem, CertificateVerifyError
from handclasp.tools.certs import KeyType
from handclasp.wire.enums import AlertDescription
from handclasp.x509.verify import (
    CertificateVerified,
    NoServerVerification,
    WebPkiClientVerifier,
    WebPkiServerVerifier,
)

NOW = time.time()


def server_verifier(**kwargs: int) -> WebPkiServerVerifier:
    return WebPkiServerVerifier(pki.test_pki().roots, **kwargs)


def client_verifier() -> WebPkiClientVerifier:
    return WebPkiClientVerifier(pki.test_pki().roots)


def refusal(call: object, *args: object) -> CertificateVerifyError:
    with pytest.raises(CertificateVerifyError) as info:
        call(*args)  # type: ignore[operator]
    return info.value


@pytest.mark.parametrize("key_type", pki.SERVER_KEY_TYPES)
def test_server_chain_of_each_key_type_verifies(key_type: KeyType) -> None:
    certified = pki.test_pki().server(key_type)
    token = server_verifier(cache_size=0).verify_server(certified.chain_der, "localhost", NOW)
    assert isinstance(token, CertificateVerified)
    assert token.chain == certified.chain
    assert token.path == (certified.leaf, pki.test_pki().ca.root)


def test_chain_through_intermediate_verifies() -> None:
    certified = pki.test_pki().intermediate
    assert len(certified.chain_der) == 2
    token = server_verifier().verify_server(certified.chain_der, "localhost", NOW)
    assert token.path == (*certified.chain, pki.test_pki().ca.root)


def test_missing_intermediate_is_unknown_issuer() -> None:
    """RFC 5280 §6.1: no path to a trust anchor without the intermediate."""
    error = refusal(
        server_verifier().verify_server, pki.test_pki().intermediate.chain_der[:1], "localhost", NOW
    )
    assert (error.problem, error.alert) == (CertificateProblem.UNKNOWN_ISSUER, AlertDescription.UNKNOWN_CA)


def test_unknown_ca_is_unknown_issuer() -> None:
    """RFC 8446 §6.2 unknown_ca: the chain does not lead to a trusted root."""
    error = refusal(server_verifier().verify_server, pki.test_pki().unrelated.chain_der, "localhost", NOW)
    assert (error.problem, error.alert) == (CertificateProblem.UNKNOWN_ISSUER, AlertDescription.UNKNOWN_CA)
    assert "unrelated test CA" in error.detail


def test_expired_certificate() -> None:
    """RFC 8446 §6.2 certificate_expired."""
    error = refusal(server_verifier().verify_server, pki.test_pki().expired.chain_der, "localhost", NOW)
    assert (error.problem, error.alert) == (CertificateProblem.EXPIRED, AlertDescription.CERTIFICATE_EXPIRED)
    expiry = pki.test_pki().expired.leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert error.detail == f"certificate for localhost expired at {expiry}"


def test_not_yet_valid_certificate() -> None:
    """RFC 5280 §6.1.3 (a)(2): the current time must be inside the validity period."""
    error = refusal(server_verifier().verify_server, pki.test_pki().not_yet_valid.chain_der, "localhost", NOW)
    assert (error.problem, error.alert) == (
        CertificateProblem.NOT_YET_VALID,
        AlertDescription.CERTIFICATE_EXPIRED,
    )


def test_good_certificate_is_expired_when_now_is_after_not_after() -> None:
    certified = pki.test_pki().server()
    later = certified.leaf.not_valid_after_utc.timestamp() + 1
    error = refusal(server_verifier().verify_server, certified.chain_der, "localhost", later)
    assert error.problem is CertificateProblem.EXPIRED


def test_verification_cache_does_not_outlive_validity() -> None:
    verifier = server_verifier()
    certified = pki.test_pki().server()
    verifier.verify_server(certified.chain_der, "localhost", NOW)
    verifier.verify_server(certified.chain_der, "localhost", NOW)  # served from the cache
    later = certified.leaf.not_valid_after_utc.timestamp() + 1
    error = refusal(verifier.verify_server, certified.chain_der, "localhost", later)
    assert error.problem is CertificateProblem.EXPIRED
    error = refusal(verifier.verify_server, certified.chain_der, "other.localhost", NOW)
    assert error.problem is CertificateProblem.NAME_MISMATCH


def test_wrong_name_is_name_mismatch() -> None:
    """RFC 6125 §6: the reference identity must match a subjectAltName."""
    error = refusal(server_verifier().verify_server, pki.test_pki().server().chain_der, "example.com", NOW)
    assert (error.problem, error.alert) == (
        CertificateProblem.NAME_MISMATCH,
        AlertDescription.BAD_CERTIFICATE,
    )
    assert "example.com" in error.detail and "localhost" in error.detail


def test_name_comparison_ignores_case_and_trailing_dot() -> None:
    server_verifier().verify_server(pki.test_pki().server().chain_der, "LocalHost.", NOW)


def test_ip_literal_matches_ip_san() -> None:
    token = server_verifier().verify_server(pki.test_pki().server().chain_der, "127.0.0.1", NOW)
    assert token.leaf == pki.test_pki().server().leaf


def test_ip_literal_does_not_match_dns_san() -> None:
    """RFC 6125 §6.2.1: an IP reference identity matches only an iPAddress SAN."""
    error = refusal(server_verifier().verify_server, pki.test_pki().other.chain_der, "127.0.0.2", NOW)
    assert error.problem is CertificateProblem.NAME_MISMATCH


def test_sni_certificate_verifies_for_its_own_name_only() -> None:
    other = pki.test_pki().other
    server_verifier().verify_server(other.chain_der, "other.localhost", NOW)
    error = refusal(server_verifier().verify_server, other.chain_der, "localhost", NOW)
    assert error.problem is CertificateProblem.NAME_MISMATCH


def test_no_server_name_checks_chain_but_not_name() -> None:
    verifier = server_verifier()
    verifier.verify_server(pki.test_pki().server().chain_der, None, NOW)
    error = refusal(verifier.verify_server, pki.test_pki().unrelated.chain_der, None, NOW)
    assert error.problem is CertificateProblem.UNKNOWN_ISSUER


def test_client_certificate_is_not_a_server_certificate() -> None:
    """CA/B BR 7.1.2.7.10: a present extendedKeyUsage must include serverAuth."""
    client = pki.test_pki().client
    for name in ("client.handclasp.test", None):
        error = refusal(server_verifier().verify_server, client.chain_der, name, NOW)
        assert (error.problem, error.alert) == (
            CertificateProblem.BAD_KEY_USAGE,
            AlertDescription.UNSUPPORTED_CERTIFICATE,
        )


def test_client_verifier_accepts_client_certificate() -> None:
    client = pki.test_pki().client
    token = client_verifier().verify_client(client.chain_der, NOW)
    assert token.chain == client.chain
    assert token.path[-1] == pki.test_pki().ca.root


def test_client_verifier_rejects_server_only_certificate() -> None:
    """RFC 5280 §4.2.1.12: a serverAuth-only certificate is not for client authentication."""
    error = refusal(client_verifier().verify_client, pki.test_pki().server().chain_der, NOW)
    assert (error.problem, error.alert) == (
        CertificateProblem.BAD_KEY_USAGE,
        AlertDescription.UNSUPPORTED_CERTIFICATE,
    )


def test_client_verifier_rejects_unknown_ca_and_expiry() -> None:
    test = pki.test_pki()
    unknown = test.unrelated_ca.issue([pki.CLIENT_NAME], client=True)
    error = refusal(client_verifier().verify_client, unknown.chain_der, NOW)
    assert error.problem is CertificateProblem.UNKNOWN_ISSUER
    later = test.client.leaf.not_valid_after_utc.timestamp() + 60
    error = refusal(client_verifier().verify_client, test.client.chain_der, later)
    assert error.problem is CertificateProblem.EXPIRED
    assert error.detail.startswith("client certificate for client.handclasp.test expired at ")


def test_empty_chain_is_certificate_required() -> None:
    """RFC 8446 §4.4.2.4: no client certificate when one is required → certificate_required."""
    error = refusal(client_verifier().verify_client, [], NOW)
    assert (error.problem, error.alert) == (
        CertificateProblem.REQUIRED,
        AlertDescription.CERTIFICATE_REQUIRED,
    )
    error = refusal(server_verifier().verify_server, [], "localhost", NOW)
    assert error.problem is CertificateProblem.REQUIRED


@pytest.mark.parametrize(
    "garbage", [b"", b"\x30\x03\x02\x01", b"not a certificate", b"\x30\x82\xff\xff" + bytes(40)]
)
def test_garbage_der_is_bad_encoding(garbage: bytes) -> None:
    error = refusal(server_verifier().verify_server, [garbage], "localhost", NOW)
    assert (error.problem, error.alert) == (CertificateProblem.BAD_ENCODING, AlertDescription.BAD_CERTIFICATE)
    good = pki.test_pki().server().chain_der[0]
    error = refusal(server_verifier().verify_server, [good, garbage], "localhost", NOW)
    assert error.problem is CertificateProblem.BAD_ENCODING
    assert "#1" in error.detail


def test_tampered_certificate_has_bad_signature() -> None:
    """RFC 5280 §6.1.3 (a)(1): the issuer's signature must verify."""
    leaf = pki.test_pki().server().leaf
    der = bytearray(leaf.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature value
    error = refusal(server_verifier().verify_server, [bytes(der)], "localhost", NOW)
    assert (error.problem, error.alert) == (
        CertificateProblem.BAD_SIGNATURE,
        AlertDescription.BAD_CERTIFICATE,
    )


def test_expired_intermediate_is_reported_as_expired() -> None:
    test = pki.test_pki()
    leaf = test.intermediate
    intermediate_end = leaf.chain[1].not_valid_after_utc.timestamp()
    # Reissue a leaf outliving nothing: check at a time after the intermediate expired but with the leaf valid.
    long_leaf = test.intermediate_ca.issue(
        pki.SERVER_NAMES, not_after=leaf.chain[1].not_valid_after_utc.replace(year=2099)
    )
    error = refusal(server_verifier().verify_server, long_leaf.chain_der, "localhost", intermediate_end + 10)
    assert error.problem is CertificateProblem.EXPIRED
    assert "intermediate" in error.detail


def test_no_server_verification_accepts_anything_parseable() -> None:
    token = NoServerVerification().verify_server(pki.test_pki().unrelated.chain_der, "nowhere.example", NOW)
    assert token.chain == pki.test_pki().unrelated.chain
    assert token.path == ()
    error = refusal(NoServerVerification().verify_server, [b"junk"], None, NOW)
    assert error.problem is CertificateProblem.BAD_ENCODING


def test_certificate_verified_cannot_be_forged() -> None:
    leaf = pki.test_pki().server().leaf
    with pytest.raises(TypeError):
        CertificateVerified((leaf,), (leaf,))
    with pytest.raises(TypeError):
        CertificateVerified((leaf,), (leaf,), _seal=object())


def test_verifier_needs_roots() -> None:
    with pytest.raises(ValueError):
        WebPkiServerVerifier([])


def test_verify_accepts_memoryview_chain() -> None:
    der = pki.test_pki().server().chain_der
    views: list[bytes] = [memoryview(d) for d in der]  # type: ignore[misc]  # bytes-like is accepted too
    token = server_verifier().verify_server(views, "localhost", NOW)
    assert isinstance(token.leaf, x509.Certificate)


def test_max_chain_depth_limits_intermediates() -> None:
    """RFC 5280 §6.1: path length limits; a depth of 0 leaves no room for an intermediate."""
    verifier = WebPkiServerVerifier(pki.test_pki().roots, max_chain_depth=0)
    error = refusal(verifier.verify_server, pki.test_pki().intermediate.chain_der, "localhost", NOW)
    assert error.problem is CertificateProblem.OTHER
    verifier.verify_server(pki.test_pki().server().chain_der, "localhost", NOW)


def test_expiry_is_reported_before_name_mismatch() -> None:
    error = refusal(server_verifier().verify_server, pki.test_pki().expired.chain_der, "example.com", NOW)
    assert error.problem is CertificateProblem.EXPIRED
