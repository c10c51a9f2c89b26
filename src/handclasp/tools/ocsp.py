"""OCSP responses from the local CA (RFC 6960), for tests, ``serve --ocsp-file`` and ``cert ocsp``.

``ocsp_response_for(ca, leaf)`` makes a DER OCSPResponse for a leaf that ``ca``
issued, signed by the issuing CA itself or by a delegated responder certificate
(id-kp-OCSPSigning, RFC 6960 §4.2.2.2) that it mints on the spot.  The CertID
uses SHA-1, which is what OpenSSL and curl look a response up by.

This is a tool, not the sans-I/O core: it reads the clock.  Nothing here talks
to a network responder.
"""

from __future__ import annotations

import datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from handclasp.tools.certs import CertifiedKey, LocalCA, generate_private_key

__all__ = [
    "OcspStatus",
    "Responder",
    "build_ocsp_response",
    "issue_ocsp_responder",
    "ocsp_response_for",
    "unsuccessful_ocsp_response",
]

OcspStatus = Literal["good", "revoked", "unknown"]
Responder = Literal["issuer", "delegated"]


def ocsp_response_for(
    ca: LocalCA,
    leaf: x509.Certificate,
    *,
    status: OcspStatus = "good",
    this_update: datetime.datetime | None = None,
    next_update: datetime.datetime | None = None,
    responder: Responder = "issuer",
    responder_ocsp_signing: bool = True,
    revocation_time: datetime.datetime | None = None,
) -> bytes:
    """A DER OCSPResponse for ``leaf`` (issued by ``ca.issuer``), saying ``status``.

    By default valid from a minute ago for ``DEFAULT_VALIDITY``.  The signer's certificate is
    included in the response.  ``responder="delegated"`` signs with a fresh responder certificate
    issued by the CA;
    ``responder_ocsp_signing=False`` leaves id-kp-OCSPSigning out of it (an invalid delegate).
    """
    if responder == "delegated":
        delegate = issue_ocsp_responder(ca, ocsp_signing=responder_ocsp_signing)
        signer_cert, signer_key = delegate.leaf, delegate.private_key
        assert isinstance(signer_key, ec.EllipticCurvePrivateKey)
    else:
        signer_cert, signer_key = ca.issuer, ca.issuing_key
    return build_ocsp_response(
        leaf,
        ca.issuer,
        signer_cert,
        signer_key,
        status=status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=revocation_time,
        include_signer=True,  # OpenSSL (curl --cert-status) finds the signer only in the chain or the response
    )


def build_ocsp_response(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    signer_cert: x509.Certificate,
    signer_key: CertificateIssuerPrivateKeyTypes,
    *,
    status: OcspStatus = "good",
    this_update: datetime.datetime | None = None,
    next_update: datetime.datetime | None = None,
    revocation_time: datetime.datetime | None = None,
    include_signer: bool = False,
) -> bytes:
    """The general form: any signer (for tests of bad signers), CertID for ``leaf`` under ``issuer``."""
    now = _now()
    start = this_update if this_update is not None else now - datetime.timedelta(minutes=1)
    end = next_update if next_update is not None else start + DEFAULT_VALIDITY
    cert_status = _STATUSES[status]
    revoked_at = (revocation_time or start) if status == "revoked" else None
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=issuer,
            algorithm=hashes.SHA1(),  # RFC 6960 §4.1.1 CertID; what OpenSSL and curl match on
            cert_status=cert_status,
            this_update=start,
            next_update=end,
            revocation_time=revoked_at,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked_at is not None else None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, signer_cert)
    )
    if include_signer:
        builder = builder.certificates([signer_cert])
    response = builder.sign(signer_key, _signing_hash(signer_key))
    return response.public_bytes(_DER)


def issue_ocsp_responder(ca: LocalCA, *, ocsp_signing: bool = True, lifetime_days: int = 30) -> CertifiedKey:
    """A delegated OCSP responder certificate (P-256) issued by ``ca.issuer`` (RFC 6960 §4.2.2.2)."""
    key = generate_private_key("ecdsa-p256")
    now = _now()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "handclasp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "handclasp OCSP responder"),
        ]
    )
    usages = [ExtendedKeyUsageOID.OCSP_SIGNING] if ocsp_signing else [ExtendedKeyUsageOID.SERVER_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=lifetime_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)  # RFC 6960 §4.2.2.2.1
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = builder.sign(ca.issuing_key, _signing_hash(ca.issuing_key))
    return CertifiedKey(chain=(cert,), private_key=key)


def unsuccessful_ocsp_response(status: ocsp.OCSPResponseStatus = ocsp.OCSPResponseStatus.TRY_LATER) -> bytes:
    """A response with only a non-successful responseStatus (RFC 6960 §4.2.1)."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(_DER)


def _signing_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _ECDSA_HASHES.get(key.curve.name, hashes.SHA256)()
    return hashes.SHA256()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


DEFAULT_VALIDITY = datetime.timedelta(days=7)
_STATUSES: dict[str, ocsp.OCSPCertStatus] = {
    "good": ocsp.OCSPCertStatus.GOOD,
    "revoked": ocsp.OCSPCertStatus.REVOKED,
    "unknown": ocsp.OCSPCertStatus.UNKNOWN,
}
_ECDSA_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}
_DER = serialization.Encoding.DER
