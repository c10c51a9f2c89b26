"""TLS 1.0/1.1 signatures (legacy; opt-in with legacy_versions).

Before TLS 1.2 a digitally-signed element names no algorithm: the certificate's key
decides (RFC 2246 §4.7 and §7.4.3, RFC 4346 §4.7, RFC 4492 §5.4 and §5.8):

- RSA: RSASSA-PKCS1-v1_5 over the 36-byte MD5(x) || SHA-1(x), *without* a DigestInfo
  (RFC 2246 §4.7: "a 36-byte structure of two hashes ... signed with block type 1").
  cryptography has no MD5+SHA-1 hash class, so ``_Md5Sha1`` names OpenSSL's
  "md5-sha1" digest through ``Prehashed``: for that digest OpenSSL's RSA_sign pads
  the 36 bytes as they are (no DigestInfo). Verification does not depend on that:
  it recovers the signed payload with ``recover_data_from_signature(..., None)``
  (PKCS#1 v1.5 type 1 padding checked, no DigestInfo) and compares it in constant time.
- ECDSA: over SHA-1(x) (RFC 4492 §5.4 ServerKeyExchange, §5.8 CertificateVerify).

``x`` is client_random + server_random + params for ServerKeyExchange and the
concatenated handshake messages for CertificateVerify (RFC 2246 §7.4.8): the caller
passes it whole. EdDSA exists only from TLS 1.2 on (RFC 8422 §5.1.3), DSA is not spoken.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from handclasp.crypto import signatures
from handclasp.crypto.signatures import MINIMUM_RSA_BITS, SignatureVerified
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.wire.enums import SignatureScheme


def can_sign10(key: PrivateKeyTypes | PublicKeyTypes) -> bool:
    """Whether ``key`` can make or check a TLS 1.0/1.1 signature (RSA >= 2048 bits or ECDSA)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return key.key_size >= MINIMUM_RSA_BITS
    return isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey)


def sign10(private_key: PrivateKeyTypes, data: bytes) -> bytes:
    """Our TLS 1.0/1.1 signature over ``data``; a key that cannot sign here is a bug (ValueError)."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(md5_sha1(data), padding.PKCS1v15(), utils.Prehashed(_Md5Sha1()))
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(hashes.SHA1()))
    raise ValueError(f"a {type(private_key).__name__} cannot sign in TLS 1.0/1.1")


def verify10(public_key: PublicKeyTypes, data: bytes, signature: bytes) -> SignatureVerified:
    """Check the peer's TLS 1.0/1.1 ``signature`` over ``data``; the proof token or raise.

    BAD_SIGNATURE (decrypt_error, RFC 2246 §7.2.2) for a wrong signature; a key type
    that has no TLS 1.0/1.1 signature is SIGNATURE_SCHEME_KEY_MISMATCH; RSA keys under
    2048 bits are refused as in TLS 1.2 (UNSUPPORTED_CERTIFICATE).
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MINIMUM_RSA_BITS:
            raise PeerIncompatible(
                Incompatibility.UNSUPPORTED_CERTIFICATE, f"RSA key of {public_key.key_size} bits"
            )
        try:
            recovered = public_key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
        except (InvalidSignature, ValueError):
            raise PeerMisbehaved(Misbehaviour.BAD_SIGNATURE, "TLS 1.0 RSA MD5+SHA-1") from None
        if not hmac.compare_digest(recovered, md5_sha1(data)):
            raise PeerMisbehaved(Misbehaviour.BAD_SIGNATURE, "TLS 1.0 RSA MD5+SHA-1")
        return _issue(SignatureScheme.RSA_PKCS1_SHA1)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        try:
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA1()))
        except (InvalidSignature, ValueError):
            raise PeerMisbehaved(Misbehaviour.BAD_SIGNATURE, "TLS 1.0 ECDSA SHA-1") from None
        return _issue(SignatureScheme.ECDSA_SHA1)
    raise PeerMisbehaved(
        Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH, f"{type(public_key).__name__} in TLS 1.0/1.1"
    )


def md5_sha1(data: bytes) -> bytes:
    """RFC 2246 §4.7: MD5(data) || SHA-1(data), 36 bytes."""
    return hashlib.md5(data).digest() + hashlib.sha1(data).digest()


class _Md5Sha1(hashes.HashAlgorithm):
    """OpenSSL's "md5-sha1" digest, for ``Prehashed`` RSA signing only (never hashes anything here)."""

    name = "md5-sha1"
    digest_size = 36
    block_size = 64


def _issue(label: SignatureScheme) -> SignatureVerified:
    # The proof token is crypto.signatures'; this module is its one other issuer (the pre-1.2
    # formats have no SignatureScheme, so ``label`` is the nearest legacy code point, for logs).
    return SignatureVerified(label, _token=signatures._CONSTRUCTION_TOKEN)
