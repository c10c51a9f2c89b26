"""Checking a stapled OCSP response (RFC 6960) for a server's leaf certificate.

Used by the TLS 1.3 client for the ``status_request`` answer in the leaf's
CertificateEntry (RFC 8446 §4.4.2.1) and by the TLS 1.2 client for the
CertificateStatus message (RFC 6066 §8).  The checks, in order:

1. the DER parses and ``responseStatus`` is successful (RFC 6960 §4.2.1);
2. one SingleResponse's CertID names the leaf: its serial number, and the
   hashes of its issuer's name and key (RFC 6960 §4.1.1);
3. the response is signed by the issuer, or by a delegated responder whose
   certificate the issuer signed and which carries id-kp-OCSPSigning
   (RFC 6960 §4.2.2.2);
4. thisUpdate is not in the future and nextUpdate (if present) not in the
   past, each with ``OCSP_CLOCK_SKEW`` of slack (RFC 6960 §3.2 items 5 and 6);
5. certStatus is good: revoked is certificate_revoked, unknown (like every
   other failure) bad_certificate_status_response (RFC 8446 §6.2).

Every failure raises ``CertificateVerifyError`` with a ``CertificateProblem``
reason.  ``check_response_matches`` is the configuration-time check a server
uses so that it never staples a response for some other certificate.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from handclasp.errors import CertificateProblem, CertificateVerifyError

__all__ = [
    "OCSP_CLOCK_SKEW",
    "OcspVerified",
    "check_response_matches",
    "describe_ocsp_response",
    "is_must_staple",
    "verify_ocsp_response",
]


@dataclass(frozen=True, slots=True)
class OcspVerified:
    """Proof that a stapled response was checked for ``serial_number`` and said good."""

    response: bytes = field(repr=False)
    serial_number: int
    this_update: datetime.datetime
    next_update: datetime.datetime | None
    delegated: bool  # signed by a delegated responder (RFC 6960 §4.2.2.2), not the issuer itself


def verify_ocsp_response(
    der: bytes,
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    now: float,
    *,
    skew: float | None = None,
) -> OcspVerified:
    """Check ``der`` as the OCSP response for ``leaf`` (issued by ``issuer``) at ``now`` (Unix time).

    ``skew`` (seconds, default ``OCSP_CLOCK_SKEW``) is the slack on thisUpdate and nextUpdate.
    """
    response = _load(der)
    single = _single_response_for(response, leaf, issuer)
    delegated = _check_signer(response, issuer, now)
    this_update, next_update = _check_times(single, now, OCSP_CLOCK_SKEW if skew is None else skew)
    # RFC 8446 §6.2 / RFC 6960 §2.2: revoked is certificate_revoked; unknown proves nothing.
    if single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
        raise CertificateVerifyError(CertificateProblem.REVOKED, f"OCSP: serial {leaf.serial_number:x} revoked")
    if single.certificate_status is not ocsp.OCSPCertStatus.GOOD:
        raise CertificateVerifyError(CertificateProblem.OCSP_STATUS_UNKNOWN)
    return OcspVerified(
        response=der,
        serial_number=leaf.serial_number,
        this_update=this_update,
        next_update=next_update,
        delegated=delegated,
    )


def is_must_staple(leaf: x509.Certificate) -> bool:
    """RFC 7633 §4.2.3: the TLS Feature extension lists status_request (5)."""
    try:
        features = leaf.extensions.get_extension_for_class(x509.TLSFeature).value
    except x509.ExtensionNotFound:
        return False
    return x509.TLSFeatureType.status_request in features


def check_response_matches(der: bytes, leaf: x509.Certificate, issuer: x509.Certificate | None) -> None:
    """Configuration check: ``der`` is a successful response with a CertID for ``leaf``, else ValueError.

    Without the issuer (a chain that stops at the leaf) only the serial number and the
    issuer name hash can be compared.  Freshness and the signature are the client's business.
    """
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as exc:
        raise ValueError(f"not a DER OCSP response: {exc}") from None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise ValueError(f"OCSP response status is {response.response_status.name}, not SUCCESSFUL")
    for single in response.responses:
        if issuer is not None and _cert_id_matches(single, leaf, issuer):
            return
        if issuer is None and single.serial_number == leaf.serial_number:
            name_hash = _digest(single.hash_algorithm, leaf.issuer.public_bytes())
            if name_hash == single.issuer_name_hash:
                return
    raise ValueError(f"the OCSP response is not for the leaf certificate (serial {leaf.serial_number:x})")


def describe_ocsp_response(der: bytes | None) -> str:
    """One line for display, worded like ``openssl s_client -status`` (no checks made here)."""
    if der is None:
        return "OCSP response: no response sent"
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError:
        return f"OCSP response: {len(der)} bytes, unparseable"
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return f"OCSP response: {len(der)} bytes, status {response.response_status.name.lower()}"
    single = next(iter(response.responses))
    next_update = single.next_update_utc
    return (
        f"OCSP response: {len(der)} bytes, Cert Status: {single.certificate_status.name.lower()}, "
        f"This Update: {single.this_update_utc:%Y-%m-%d %H:%M:%S}Z"
        + (f", Next Update: {next_update:%Y-%m-%d %H:%M:%S}Z" if next_update is not None else "")
    )


def _load(der: bytes) -> ocsp.OCSPResponse:
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError:
        raise CertificateVerifyError(CertificateProblem.OCSP_MALFORMED) from None
    # RFC 6960 §4.2.1: only a successful response carries responseBytes.
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise CertificateVerifyError(CertificateProblem.OCSP_UNSUCCESSFUL, response.response_status.name)
    return response


def _single_response_for(
    response: ocsp.OCSPResponse, leaf: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse:
    """RFC 6960 §4.1.1, §4.2.1: the SingleResponse whose CertID names the leaf."""
    try:
        for single in response.responses:
            if _cert_id_matches(single, leaf, issuer):
                return single
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateVerifyError(CertificateProblem.OCSP_MALFORMED, "unreadable SingleResponse") from None
    raise CertificateVerifyError(CertificateProblem.OCSP_WRONG_CERTIFICATE, f"no response for serial {leaf.serial_number:x}")


def _cert_id_matches(single: ocsp.OCSPSingleResponse, leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    if single.serial_number != leaf.serial_number:
        return False
    if leaf.issuer != issuer.subject:
        return False
    # The request builder computes issuerNameHash and issuerKeyHash exactly as RFC 6960 §4.1.1 says.
    try:
        request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, single.hash_algorithm).build()
    except (ValueError, UnsupportedAlgorithm):
        return False
    return (
        request.issuer_name_hash == single.issuer_name_hash and request.issuer_key_hash == single.issuer_key_hash
    )


def _check_signer(response: ocsp.OCSPResponse, issuer: x509.Certificate, now: float) -> bool:
    """RFC 6960 §4.2.2.2: the issuer signs, or a responder it certified for OCSPSigning. True if delegated."""
    if _responder_is(response, issuer):
        if _signature_valid(response, issuer.public_key()):
            return False
        raise CertificateVerifyError(CertificateProblem.OCSP_BAD_SIGNATURE, "issuer signature does not verify")
    for candidate in response.certificates:
        if not _responder_is(response, candidate):
            continue
        _check_delegate(candidate, issuer, now)
        if _signature_valid(response, candidate.public_key()):
            return True
        raise CertificateVerifyError(CertificateProblem.OCSP_BAD_SIGNATURE, "responder signature does not verify")
    raise CertificateVerifyError(CertificateProblem.OCSP_BAD_SIGNATURE, "responder is neither the issuer nor certified by it")


def _check_delegate(responder: x509.Certificate, issuer: x509.Certificate, now: float) -> None:
    try:
        responder.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        raise CertificateVerifyError(CertificateProblem.OCSP_BAD_SIGNATURE, "responder not issued by the issuer") from None
    try:
        usages = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    # RFC 6960 §4.2.2.2: the delegate MUST carry id-kp-OCSPSigning.
    if ExtendedKeyUsageOID.OCSP_SIGNING not in usages:
        raise CertificateVerifyError(CertificateProblem.OCSP_BAD_SIGNATURE, "responder lacks id-kp-OCSPSigning")
    when = _to_datetime(now)
    if not responder.not_valid_before_utc <= when <= responder.not_valid_after_utc:
        raise CertificateVerifyError(CertificateProblem.OCSP_BAD_SIGNATURE, "responder certificate not valid now")


def _responder_is(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    """RFC 6960 §4.2.2.3: ResponderID byName or byKey (SHA-1 of the subjectPublicKey bits)."""
    if response.responder_name is not None:
        return response.responder_name == cert.subject
    key_hash = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    return response.responder_key_hash == key_hash


def _signature_valid(response: ocsp.OCSPResponse, public_key: object) -> bool:
    data, signature = response.tbs_response_bytes, response.signature
    try:
        algorithm = response.signature_hash_algorithm
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm is not None:
            if response.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
                pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=padding.PSS.AUTO)
                public_key.verify(signature, data, pss, algorithm)
            else:
                public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm is not None:
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def _check_times(
    single: ocsp.OCSPSingleResponse, now: float, skew: float
) -> tuple[datetime.datetime, datetime.datetime | None]:
    """RFC 6960 §3.2 (5), (6): thisUpdate recent enough to be known, nextUpdate not passed."""
    when = _to_datetime(now)
    slack = datetime.timedelta(seconds=skew)
    this_update, next_update = single.this_update_utc, single.next_update_utc
    if this_update > when + slack:
        raise CertificateVerifyError(CertificateProblem.OCSP_NOT_YET_VALID, f"thisUpdate {this_update:%Y-%m-%d %H:%M:%S}Z")
    if next_update is not None and next_update < when - slack:
        raise CertificateVerifyError(CertificateProblem.OCSP_EXPIRED, f"nextUpdate {next_update:%Y-%m-%d %H:%M:%S}Z")
    return this_update, next_update


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def _to_datetime(now: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(now, datetime.UTC)


# RFC 6960 §3.2 leaves the tolerance to local policy; five minutes, as is common.
OCSP_CLOCK_SKEW = 300.0
