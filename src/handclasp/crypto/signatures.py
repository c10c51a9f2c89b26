"""Signature schemes: sign, verify, and which scheme fits which key (RFC 8446 §4.2.3, §4.4.3).

Rules of this file:
- ``verify`` is the only way to obtain a ``SignatureVerified`` token; the
  handshake's Traffic state cannot be built without one.
- A scheme that does not fit the key is ``SIGNATURE_SCHEME_KEY_MISMATCH``
  (TLS 1.3 binds the ECDSA curve to the scheme, RFC 8446 §4.2.3); a bad
  signature is ``BAD_SIGNATURE`` (decrypt_error, RFC 8446 §4.4.3); a scheme this
  module does not implement (SHA-1, unknown; ML-DSA when the ``cryptography``
  backend lacks it) is ``UNOFFERED_SIGNATURE_SCHEME`` since it is never offered.
- RSA keys under 2048 bits are refused for verification
  (``PeerIncompatible(UNSUPPORTED_CERTIFICATE)``).
- RSA PKCS#1 v1.5 is here for certificate signatures and TLS 1.2; it MUST NOT be
  used for a TLS 1.3 CertificateVerify (RFC 8446 §4.2.3), so ``schemes_for_key``
  never lists it. The caller checks the peer's scheme against what it offered.
- ML-DSA (draft-ietf-tls-mldsa-06; FIPS 204) is TLS 1.3 only: pure ML-DSA over the
  CertificateVerify content with an empty FIPS 204 context (§3.2). Each parameter set
  is one row of ``_MLDSA_KEYS``, so a codepoint change is a one-line change in
  ``wire/enums.py``. It is offered by default (last, after the classical schemes)
  when the backend has ML-DSA: six bytes in signature_algorithms, used only when
  the peer's certificate is ML-DSA, and ``cryptography.x509.verification`` verifies
  ML-DSA chains. Go 1.27 and Chromium 156 offer it by default too.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.backends.openssl.backend import backend as _backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.wire.enums import SignatureScheme


class SignatureVerified:
    """Proof that a signature was checked. Only ``verify`` in this module constructs one."""

    __slots__ = ("scheme",)

    def __init__(self, scheme: SignatureScheme, *, _token: object = None) -> None:
        if _token is not _CONSTRUCTION_TOKEN:
            raise TypeError("SignatureVerified is only created by handclasp.crypto.signatures.verify")
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"SignatureVerified({self.scheme.name})"


def sign(scheme: SignatureScheme, private_key: PrivateKeyTypes, data: bytes, *, tls12: bool = False) -> bytes:
    """Sign ``data`` with our own key. A scheme that does not fit the key is a bug (ValueError).

    ``tls12``: TLS 1.2 rules (RFC 5246 §7.4.1.4.1): ECDSA schemes name only the hash, and
    rsa_pkcs1_* may sign handshake messages.
    """
    if not is_compatible(scheme, private_key, tls12=tls12):
        raise ValueError(f"{scheme.name} does not fit a {type(private_key).__name__}")
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(_HASHES[scheme]))
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, _rsa_padding(scheme), _HASHES[scheme])
    if isinstance(private_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return private_key.sign(data)
    if isinstance(private_key, _MLDSA_PRIVATE):
        # draft-ietf-tls-mldsa-06 §3.2: ML-DSA.Sign (FIPS 204 Algorithm 2), ctx MUST be empty.
        return private_key.sign(data, _MLDSA_CONTEXT)
    raise ValueError(f"{type(private_key).__name__} cannot sign")  # unreachable: is_compatible said yes


def verify(
    scheme: SignatureScheme, public_key: PublicKeyTypes, data: bytes, signature: bytes, *, tls12: bool = False
) -> SignatureVerified:
    """Check the peer's ``signature`` over ``data``; return the proof token or raise."""
    if scheme not in _IMPLEMENTED:
        raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, scheme.name)
    # RFC 8446 §4.2.3: RSASSA-PKCS1-v1_5 never signs TLS 1.3 handshake messages.
    if not tls12 and _RSA_PADDING_KIND.get(scheme) == "pkcs1":
        raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, scheme.name)
    # draft-ietf-tls-mldsa-06 §3: the ML-DSA codepoints are defined for TLS 1.3 only; never offered in 1.2.
    if tls12 and scheme in _MLDSA_KEYS:
        raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, scheme.name)
    if not is_compatible(scheme, public_key, tls12=tls12):
        raise PeerMisbehaved(Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH, scheme.name)
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(_HASHES[scheme]))
        elif isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < MINIMUM_RSA_BITS:
                raise PeerIncompatible(
                    Incompatibility.UNSUPPORTED_CERTIFICATE, f"RSA key of {public_key.key_size} bits"
                )
            public_key.verify(signature, data, _rsa_padding(scheme), _HASHES[scheme])
        elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public_key.verify(signature, data)
        elif isinstance(public_key, _MLDSA_PUBLIC):
            # draft-ietf-tls-mldsa-06 §3.2: ML-DSA.Verify (FIPS 204 Algorithm 3), ctx MUST be empty.
            public_key.verify(signature, data, _MLDSA_CONTEXT)
        else:  # unreachable: is_compatible said yes
            raise PeerMisbehaved(Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH, scheme.name)
    except (InvalidSignature, ValueError):
        raise PeerMisbehaved(Misbehaviour.BAD_SIGNATURE, scheme.name) from None
    return SignatureVerified(scheme, _token=_CONSTRUCTION_TOKEN)


def schemes_for_key(key: PrivateKeyTypes | PublicKeyTypes) -> tuple[SignatureScheme, ...]:
    """The schemes usable with ``key`` in a TLS 1.3 CertificateVerify, most preferred first.

    A plain RSA key lists only the rsa_pss_rsae schemes; rsa_pss_pss needs an
    RSASSA-PSS certificate, which the caller knows about and this module does not.
    """
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        scheme = _ECDSA_FOR_CURVE.get(key.curve.name)
        return (scheme,) if scheme is not None else ()
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return _RSAE_SCHEMES if key.key_size >= MINIMUM_RSA_BITS else ()
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return (SignatureScheme.ED25519,)
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return (SignatureScheme.ED448,)
    for scheme, (private_class, public_class) in _MLDSA_KEYS.items():
        if isinstance(key, private_class | public_class):
            return (scheme,) if scheme in _IMPLEMENTED else ()
    return ()


def schemes_for_key12(key: PrivateKeyTypes | PublicKeyTypes) -> tuple[SignatureScheme, ...]:
    """The schemes usable with ``key`` for TLS 1.2 signatures (ServerKeyExchange, CertificateVerify)."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        own = _ECDSA_FOR_CURVE.get(key.curve.name)
        return tuple(dict.fromkeys(s for s in (own, *_ECDSA_CURVE) if s is not None))
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return (*_RSAE_SCHEMES, *_PKCS1_SCHEMES) if key.key_size >= MINIMUM_RSA_BITS else ()
    # draft-ietf-tls-mldsa-06 §3: ML-DSA codepoints are for TLS 1.3 only.
    return tuple(scheme for scheme in schemes_for_key(key) if scheme not in _MLDSA_KEYS)


def is_compatible(scheme: SignatureScheme, key: PrivateKeyTypes | PublicKeyTypes, *, tls12: bool = False) -> bool:
    """Whether ``scheme`` can be used with ``key`` (in TLS 1.3 the ECDSA curve must match, RFC 8446 §4.2.3)."""
    if scheme in _ECDSA_CURVE:
        return isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and (
            tls12 or key.curve.name == _ECDSA_CURVE[scheme]
        )
    if scheme in _RSA_PADDING_KIND:
        return isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey)
    if scheme == SignatureScheme.ED25519:
        return isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)
    if scheme == SignatureScheme.ED448:
        return isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey)
    if scheme in _MLDSA_KEYS:  # TLS 1.3 only (draft-ietf-tls-mldsa-06 §3); the key's parameter set must match
        return not tls12 and isinstance(key, _MLDSA_KEYS[scheme][0] | _MLDSA_KEYS[scheme][1])
    return False


def certificate_verify_content(is_server: bool, transcript_hash: bytes) -> bytes:
    """RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, then the transcript hash."""
    context = _SERVER_CONTEXT if is_server else _CLIENT_CONTEXT
    return _CONTENT_PREFIX + context + b"\x00" + transcript_hash


def _rsa_padding(scheme: SignatureScheme) -> padding.AsymmetricPadding:
    if _RSA_PADDING_KIND[scheme] == "pss":
        # RFC 8446 §4.2.3: MGF1 with the same hash, salt length = digest length.
        algorithm = _HASHES[scheme]
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
    return padding.PKCS1v15()


_CONSTRUCTION_TOKEN: Final = object()

MINIMUM_RSA_BITS = 2048

_CONTENT_PREFIX = b" " * 64
_SERVER_CONTEXT = b"TLS 1.3, server CertificateVerify"
_CLIENT_CONTEXT = b"TLS 1.3, client CertificateVerify"

_S = SignatureScheme

_HASHES: dict[SignatureScheme, hashes.HashAlgorithm] = {
    _S.ECDSA_SECP256R1_SHA256: hashes.SHA256(),
    _S.ECDSA_SECP384R1_SHA384: hashes.SHA384(),
    _S.ECDSA_SECP521R1_SHA512: hashes.SHA512(),
    _S.RSA_PSS_RSAE_SHA256: hashes.SHA256(),
    _S.RSA_PSS_RSAE_SHA384: hashes.SHA384(),
    _S.RSA_PSS_RSAE_SHA512: hashes.SHA512(),
    _S.RSA_PSS_PSS_SHA256: hashes.SHA256(),
    _S.RSA_PSS_PSS_SHA384: hashes.SHA384(),
    _S.RSA_PSS_PSS_SHA512: hashes.SHA512(),
    _S.RSA_PKCS1_SHA256: hashes.SHA256(),
    _S.RSA_PKCS1_SHA384: hashes.SHA384(),
    _S.RSA_PKCS1_SHA512: hashes.SHA512(),
}

# TLS 1.3 binds each ECDSA scheme to one curve (RFC 8446 §4.2.3).
_ECDSA_CURVE: dict[SignatureScheme, str] = {
    _S.ECDSA_SECP256R1_SHA256: "secp256r1",
    _S.ECDSA_SECP384R1_SHA384: "secp384r1",
    _S.ECDSA_SECP521R1_SHA512: "secp521r1",
}
_ECDSA_FOR_CURVE: dict[str, SignatureScheme] = {curve: scheme for scheme, curve in _ECDSA_CURVE.items()}

_RSA_PADDING_KIND: dict[SignatureScheme, str] = {
    _S.RSA_PSS_RSAE_SHA256: "pss",
    _S.RSA_PSS_RSAE_SHA384: "pss",
    _S.RSA_PSS_RSAE_SHA512: "pss",
    _S.RSA_PSS_PSS_SHA256: "pss",
    _S.RSA_PSS_PSS_SHA384: "pss",
    _S.RSA_PSS_PSS_SHA512: "pss",
    _S.RSA_PKCS1_SHA256: "pkcs1",
    _S.RSA_PKCS1_SHA384: "pkcs1",
    _S.RSA_PKCS1_SHA512: "pkcs1",
}
_RSAE_SCHEMES: tuple[SignatureScheme, ...] = (
    _S.RSA_PSS_RSAE_SHA256,
    _S.RSA_PSS_RSAE_SHA384,
    _S.RSA_PSS_RSAE_SHA512,
)

_PKCS1_SCHEMES: tuple[SignatureScheme, ...] = (
    _S.RSA_PKCS1_SHA256,
    _S.RSA_PKCS1_SHA384,
    _S.RSA_PKCS1_SHA512,
)

# ML-DSA: one row per parameter set (draft-ietf-tls-mldsa-06 Table 1; the codepoints live in wire/enums.py).
_MLDSA_KEYS: dict[SignatureScheme, tuple[type, type]] = {
    _S.MLDSA44: (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
    _S.MLDSA65: (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
    _S.MLDSA87: (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
}
_MLDSA_PRIVATE = (mldsa.MLDSA44PrivateKey, mldsa.MLDSA65PrivateKey, mldsa.MLDSA87PrivateKey)
_MLDSA_PUBLIC = (mldsa.MLDSA44PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey)
_MLDSA_CONTEXT = b""  # FIPS 204 ctx, not the RFC 8446 §4.4.3 context string
MLDSA_AVAILABLE: bool = _backend.mldsa_supported()
_MLDSA_SCHEMES: tuple[SignatureScheme, ...] = tuple(_MLDSA_KEYS) if MLDSA_AVAILABLE else ()

_IMPLEMENTED: frozenset[SignatureScheme] = frozenset(
    (*_HASHES, SignatureScheme.ED25519, SignatureScheme.ED448, *_MLDSA_SCHEMES)
)

# Offered in signature_algorithms: the schemes usable in a TLS 1.3 CertificateVerify.
DEFAULT_SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = (
    _S.ECDSA_SECP256R1_SHA256,
    _S.ECDSA_SECP384R1_SHA384,
    _S.ECDSA_SECP521R1_SHA512,
    _S.ED25519,
    _S.ED448,
    _S.RSA_PSS_RSAE_SHA256,
    _S.RSA_PSS_RSAE_SHA384,
    _S.RSA_PSS_RSAE_SHA512,
    _S.RSA_PSS_PSS_SHA256,
    _S.RSA_PSS_PSS_SHA384,
    _S.RSA_PSS_PSS_SHA512,
    *_MLDSA_SCHEMES,  # last: classical certificates (smaller handshakes) stay preferred
)
# Offered in signature_algorithms_cert: adds PKCS#1 v1.5, which certificates still use.
DEFAULT_SIGNATURE_SCHEMES_CERT: tuple[SignatureScheme, ...] = (
    *DEFAULT_SIGNATURE_SCHEMES,
    _S.RSA_PKCS1_SHA256,
    _S.RSA_PKCS1_SHA384,
    _S.RSA_PKCS1_SHA512,
)
