"""Stapled OCSP responses (RFC 6960): each refusal has its reason and alert, good ones pass."""

from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

import pki
from handclasp.errors import CertificateProblem, CertificateVerifyError
from handclasp.tools.certs import CertifiedKey, LocalCA
from handclasp.tools.ocsp import (
    build_ocsp_response,
    issue_ocsp_responder,
    ocsp_response_for,
    unsuccessful_ocsp_response,
)
from handclasp.wire.enums import AlertDescription
from handclasp.x509.ocsp import OCSP_CLOCK_SKEW, check_response_matches, is_must_staple, verify_ocsp_response

NOW = time.time()
A = AlertDescription
P = CertificateProblem
STATUS_ALERT = A.BAD_CERTIFICATE_STATUS_RESPONSE


def _now() -> datetime.datetime:
    return datetime.datetime.fromtimestamp(NOW, datetime.UTC).replace(microsecond=0)


def leaf() -> x509.Certificate:
    return pki.test_pki().server().leaf


def ca() -> LocalCA:
    return pki.test_pki().ca


def check(der: bytes, cert: x509.Certificate | None = None, issuer: x509.Certificate | None = None) -> object:
    return verify_ocsp_response(der, cert or leaf(), issuer or ca().issuer, NOW)


def refusal(der: bytes, cert: x509.Certificate | None = None, issuer: x509.Certificate | None = None) -> CertificateVerifyError:
    with pytest.raises(CertificateVerifyError) as info:
        check(der, cert, issuer)
    return info.value


def assert_refused(der: bytes, problem: CertificateProblem, alert: AlertDescription = STATUS_ALERT, **kwargs: x509.Certificate) -> None:
    error = refusal(der, **kwargs)  # type: ignore[arg-type]
    assert (type(error), error.problem, error.alert) == (CertificateVerifyError, problem, alert)


def test_good_response_signed_by_the_issuer_passes() -> None:
    der = ocsp_response_for(ca(), leaf())
    verified = verify_ocsp_response(der, leaf(), ca().issuer, NOW)
    assert verified.response == der and verified.serial_number == leaf().serial_number
    assert not verified.delegated
    assert verified.next_update is not None and verified.this_update < verified.next_update


def test_good_response_from_a_delegated_responder_with_ocsp_signing_passes() -> None:
    """RFC 6960 §4.2.2.2: a responder certificate issued by the CA with id-kp-OCSPSigning may sign."""
    verified = verify_ocsp_response(ocsp_response_for(ca(), leaf(), responder="delegated"), leaf(), ca().issuer, NOW)
    assert verified.delegated  # type: ignore[attr-defined]


def test_delegated_responder_without_ocsp_signing_is_refused() -> None:
    """RFC 6960 §4.2.2.2: the delegate MUST carry id-kp-OCSPSigning."""
    der = ocsp_response_for(ca(), leaf(), responder="delegated", responder_ocsp_signing=False)
    assert_refused(der, P.OCSP_BAD_SIGNATURE)


def test_delegated_responder_certified_by_another_ca_is_refused() -> None:
    """RFC 6960 §4.2.2.2: the delegate must be issued directly by the CA that issued the leaf."""
    other = pki.test_pki().unrelated_ca
    delegate = issue_ocsp_responder(other)
    key = delegate.private_key
    der = build_ocsp_response(leaf(), ca().issuer, delegate.leaf, key, include_signer=True)  # type: ignore[arg-type]
    assert_refused(der, P.OCSP_BAD_SIGNATURE)


def test_revoked_is_certificate_revoked() -> None:
    """RFC 8446 §6.2: a revoked certificate is certificate_revoked."""
    assert_refused(ocsp_response_for(ca(), leaf(), status="revoked"), P.REVOKED, A.CERTIFICATE_REVOKED)


def test_unknown_status_is_bad_certificate_status_response() -> None:
    """RFC 6960 §2.2: "unknown" proves nothing about the certificate."""
    assert_refused(ocsp_response_for(ca(), leaf(), status="unknown"), P.OCSP_STATUS_UNKNOWN)


def test_response_for_another_serial_is_refused() -> None:
    """RFC 6960 §4.1.1: the CertID's serialNumber must be the leaf's."""
    other = pki.test_pki().other.leaf
    assert_refused(ocsp_response_for(ca(), other), P.OCSP_WRONG_CERTIFICATE)


def test_response_with_another_issuers_hashes_is_refused() -> None:
    """RFC 6960 §4.1.1: issuerNameHash and issuerKeyHash must be those of the leaf's issuer."""
    unrelated = pki.test_pki().unrelated_ca
    der = build_ocsp_response(leaf(), unrelated.issuer, ca().issuer, ca().issuing_key)
    assert_refused(der, P.OCSP_WRONG_CERTIFICATE)


def test_checking_against_the_wrong_issuer_is_refused() -> None:
    """The issuer passed in is the verified chain's; a response for the leaf under another issuer does not match."""
    der = ocsp_response_for(ca(), leaf())
    assert_refused(der, P.OCSP_WRONG_CERTIFICATE, issuer=pki.test_pki().unrelated_ca.issuer)


def test_expired_response_is_refused() -> None:
    """RFC 6960 §3.2 (6): nextUpdate in the past (beyond the skew) is stale."""
    start = _now() - datetime.timedelta(days=8)
    der = ocsp_response_for(ca(), leaf(), this_update=start, next_update=_now() - datetime.timedelta(hours=1))
    assert_refused(der, P.OCSP_EXPIRED)


def test_next_update_just_past_is_within_the_skew() -> None:
    start = _now() - datetime.timedelta(days=1)
    der = ocsp_response_for(ca(), leaf(), this_update=start, next_update=_now() - datetime.timedelta(seconds=60))
    check(der)


def test_not_yet_valid_response_is_refused() -> None:
    """RFC 6960 §3.2 (5): thisUpdate in the future (beyond the skew) is refused."""
    start = _now() + datetime.timedelta(seconds=OCSP_CLOCK_SKEW + 600)
    der = ocsp_response_for(ca(), leaf(), this_update=start)
    assert_refused(der, P.OCSP_NOT_YET_VALID)


def test_this_update_slightly_ahead_is_within_the_skew() -> None:
    der = ocsp_response_for(ca(), leaf(), this_update=_now() + datetime.timedelta(seconds=60))
    check(der)


def test_response_signed_by_an_unrelated_ca_is_refused() -> None:
    """RFC 6960 §4.2.2.2: only the issuer or its delegate may sign."""
    unrelated = pki.test_pki().unrelated_ca
    der = build_ocsp_response(leaf(), ca().issuer, unrelated.issuer, unrelated.issuing_key)
    assert_refused(der, P.OCSP_BAD_SIGNATURE)


def test_response_with_a_tampered_signature_is_refused() -> None:
    """RFC 6960 §3.2 (2): the signature must verify under the responder's key."""
    der = ocsp_response_for(ca(), leaf())
    signature = ocsp.load_der_ocsp_response(der).signature
    tampered = der.replace(signature, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert tampered != der
    assert_refused(tampered, P.OCSP_BAD_SIGNATURE)


@pytest.mark.parametrize(
    "status", [ocsp.OCSPResponseStatus.TRY_LATER, ocsp.OCSPResponseStatus.UNAUTHORIZED, ocsp.OCSPResponseStatus.INTERNAL_ERROR]
)
def test_non_successful_response_status_is_refused(status: ocsp.OCSPResponseStatus) -> None:
    """RFC 6960 §4.2.1: only a successful response carries a status."""
    assert_refused(unsuccessful_ocsp_response(status), P.OCSP_UNSUCCESSFUL)


@pytest.mark.parametrize("der", [b"", b"\x00", b"garbage", b"\x30\x03\x0a\x01\x00extra"])
def test_garbage_der_is_refused(der: bytes) -> None:
    assert_refused(der, P.OCSP_MALFORMED)


def test_truncated_response_is_refused() -> None:
    der = ocsp_response_for(ca(), leaf())
    assert_refused(der[:-10], P.OCSP_MALFORMED)


@pytest.mark.parametrize("key_type", ["rsa2048", "ed25519", "ecdsa-p384"])
def test_cas_of_other_key_types_sign_checkable_responses(key_type: str) -> None:
    other = LocalCA.create("ocsp key type CA", key_type)  # type: ignore[arg-type]
    certified = other.issue(["localhost"])
    for responder in ("issuer", "delegated"):
        der = ocsp_response_for(other, certified.leaf, responder=responder)  # type: ignore[arg-type]
        verify_ocsp_response(der, certified.leaf, other.issuer, NOW)


def test_leaf_under_an_intermediate_is_checked_against_the_intermediate() -> None:
    data = pki.test_pki()
    certified = data.intermediate
    der = ocsp_response_for(data.intermediate_ca, certified.leaf)
    verify_ocsp_response(der, certified.leaf, certified.chain[1], NOW)
    assert_refused(der, P.OCSP_WRONG_CERTIFICATE, cert=certified.leaf, issuer=data.ca.root)


def test_must_staple_leaf_has_the_tls_feature() -> None:
    """RFC 7633 §4.2.3: status_request (5) in the TLS Feature extension."""
    assert is_must_staple(ca().issue(["localhost"], must_staple=True).leaf)
    assert not is_must_staple(leaf())


# --- configuration-time check (server side) ----------------------------------------------------


def test_check_response_matches_accepts_the_leafs_response() -> None:
    der = ocsp_response_for(ca(), leaf())
    check_response_matches(der, leaf(), ca().issuer)
    check_response_matches(der, leaf(), None)  # serial and issuer name only


@pytest.mark.parametrize(
    "make",
    [
        lambda: ocsp_response_for(ca(), pki.test_pki().other.leaf),
        lambda: unsuccessful_ocsp_response(),
        lambda: b"not der",
    ],
    ids=["other-leaf", "unsuccessful", "garbage"],
)
def test_check_response_matches_refuses_other_responses(make: object) -> None:
    der = make()  # type: ignore[operator]
    with pytest.raises(ValueError):
        check_response_matches(der, leaf(), ca().issuer)
    with pytest.raises(ValueError):
        check_response_matches(der, leaf(), None)


def test_certified_key_refuses_a_response_for_another_leaf() -> None:
    certified = pki.test_pki().server()
    with pytest.raises(ValueError):
        certified.with_ocsp_response(ocsp_response_for(ca(), pki.test_pki().other.leaf))
    with pytest.raises(ValueError):
        CertifiedKey(chain=certified.chain, private_key=certified.private_key, ocsp_response=b"junk")


def test_certified_key_carries_a_stale_response(tmp_path: Path) -> None:
    """A stale response is still stapled: the client decides (spec); the key stays hashable."""
    certified = pki.test_pki().server()
    start = _now() - datetime.timedelta(days=30)
    der = ocsp_response_for(ca(), leaf(), this_update=start, next_update=start + datetime.timedelta(days=1))
    path = tmp_path / "resp.der"
    path.write_bytes(der)
    stapled = certified.load_ocsp_response(path)
    assert stapled.ocsp_response == der and stapled.chain == certified.chain
    assert stapled != certified and hash(stapled) != hash(certified)
    assert stapled.with_ocsp_response(None) == certified
    assert dataclasses.replace(stapled, sct_list=b"\x00\x03\x00\x01x").sct_list == b"\x00\x03\x00\x01x"


@pytest.mark.parametrize("sct_list", [b"", b"\x00\x00", b"\x00\x02\x00\x00", b"\x00\x03\x00\x02x", b"\x00\x01\x00\x01x"])
def test_certified_key_refuses_a_malformed_sct_list(sct_list: bytes) -> None:
    """RFC 6962 §3.3: SerializedSCT sct_list<1..2^16-1>, each SerializedSCT<1..2^16-1>."""
    with pytest.raises(ValueError):
        pki.test_pki().server().with_sct_list(sct_list)


def test_describe_ocsp_response_words_it_like_s_client() -> None:
    from handclasp.x509.ocsp import describe_ocsp_response

    assert describe_ocsp_response(None) == "OCSP response: no response sent"
    assert "Cert Status: good" in describe_ocsp_response(ocsp_response_for(ca(), leaf()))
    assert "Cert Status: revoked" in describe_ocsp_response(ocsp_response_for(ca(), leaf(), status="revoked"))
    assert "status try_later" in describe_ocsp_response(unsuccessful_ocsp_response())
    assert "unparseable" in describe_ocsp_response(b"junk")
