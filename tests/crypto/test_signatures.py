"""Signature schemes (RFC 8446 §4.2.3, §4.4.3)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from handclasp.crypto import signatures
from handclasp.crypto.signatures import (
    DEFAULT_SIGNATURE_SCHEMES,
    DEFAULT_SIGNATURE_SCHEMES_CERT,
    SignatureVerified,
    certificate_verify_content,
    is_compatible,
    schemes_for_key,
    sign,
    verify,
)
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.wire.enums import AlertDescription, SignatureScheme

S = SignatureScheme


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKeyTypes]:
    return {
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "rsa2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
    }


SCHEME_KEY = [
    (S.ECDSA_SECP256R1_SHA256, "p256"),
    (S.ECDSA_SECP384R1_SHA384, "p384"),
    (S.ECDSA_SECP521R1_SHA512, "p521"),
    (S.RSA_PSS_RSAE_SHA256, "rsa2048"),
    (S.RSA_PSS_RSAE_SHA384, "rsa2048"),
    (S.RSA_PSS_RSAE_SHA512, "rsa2048"),
    (S.RSA_PSS_PSS_SHA256, "rsa2048"),
    (S.RSA_PSS_PSS_SHA512, "rsa2048"),
    (S.RSA_PKCS1_SHA256, "rsa2048"),
    (S.RSA_PKCS1_SHA384, "rsa2048"),
    (S.RSA_PKCS1_SHA512, "rsa2048"),
    (S.ED25519, "ed25519"),
    (S.ED448, "ed448"),
]


@pytest.mark.parametrize("scheme,key_name", SCHEME_KEY, ids=[s.name for s, _ in SCHEME_KEY])
def test_sign_verify_round_trip(
    scheme: SignatureScheme, key_name: str, keys: dict[str, PrivateKeyTypes]
) -> None:
    private_key = keys[key_name]
    tls12 = scheme.name.startswith("RSA_PKCS1")  # PKCS#1 v1.5 signs handshake messages only in TLS 1.2
    data = certificate_verify_content(True, hashlib.sha256(b"transcript").digest())
    signature = sign(scheme, private_key, data, tls12=tls12)
    proof = verify(scheme, private_key.public_key(), data, signature, tls12=tls12)
    assert isinstance(proof, SignatureVerified) and proof.scheme is scheme


@pytest.mark.parametrize("scheme,key_name", SCHEME_KEY, ids=[s.name for s, _ in SCHEME_KEY])
def test_tampered_signature_is_bad_signature(
    scheme: SignatureScheme, key_name: str, keys: dict[str, PrivateKeyTypes]
) -> None:
    """RFC 8446 §4.4.3: a CertificateVerify that does not verify → decrypt_error."""
    private_key = keys[key_name]
    public_key = private_key.public_key()
    tls12 = scheme.name.startswith("RSA_PKCS1")
    data = b"signed content"
    signature = sign(scheme, private_key, data, tls12=tls12)
    flipped = signature[:-1] + bytes([signature[-1] ^ 1])
    for bad_data, bad_signature in (
        (data + b"!", signature),
        (data, flipped),
        (data, b""),
        (data, signature[:10]),
    ):
        with pytest.raises(PeerMisbehaved) as excinfo:
            verify(scheme, public_key, bad_data, bad_signature, tls12=tls12)
        assert excinfo.value.reason is Misbehaviour.BAD_SIGNATURE
        assert excinfo.value.alert is AlertDescription.DECRYPT_ERROR


def test_ecdsa_curve_must_match_scheme(keys: dict[str, PrivateKeyTypes]) -> None:
    """RFC 8446 §4.2.3: in TLS 1.3 the ECDSA curve is bound to the scheme."""
    p256 = keys["p256"]
    assert isinstance(p256, ec.EllipticCurvePrivateKey)
    signature = p256.sign(b"data", ec.ECDSA(hashes.SHA384()))
    with pytest.raises(PeerMisbehaved) as excinfo:
        verify(S.ECDSA_SECP384R1_SHA384, p256.public_key(), b"data", signature)
    assert excinfo.value.reason is Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH
    assert excinfo.value.alert is AlertDescription.ILLEGAL_PARAMETER
    with pytest.raises(ValueError):
        sign(S.ECDSA_SECP384R1_SHA384, p256, b"data")


@pytest.mark.parametrize(
    "scheme,key_name",
    [
        (S.ED25519, "p256"),
        (S.RSA_PSS_RSAE_SHA256, "ed25519"),
        (S.ECDSA_SECP256R1_SHA256, "rsa2048"),
        (S.ED448, "ed25519"),
    ],
)
def test_scheme_key_mismatch(
    scheme: SignatureScheme, key_name: str, keys: dict[str, PrivateKeyTypes]
) -> None:
    with pytest.raises(PeerMisbehaved) as excinfo:
        verify(scheme, keys[key_name].public_key(), b"x", b"y" * 64)
    assert excinfo.value.reason is Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH


@pytest.mark.parametrize("scheme", [S.RSA_PKCS1_SHA1, S.ECDSA_SHA1, SignatureScheme(0x0A0A)])  # ML-DSA: test_mldsa.py
def test_unimplemented_schemes_are_refused(scheme: SignatureScheme, keys: dict[str, PrivateKeyTypes]) -> None:
    with pytest.raises(PeerMisbehaved) as excinfo:
        verify(scheme, keys["rsa2048"].public_key(), b"x", b"y")
    assert excinfo.value.reason is Misbehaviour.UNOFFERED_SIGNATURE_SCHEME
    assert not is_compatible(scheme, keys["rsa2048"])


def test_small_rsa_keys_are_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    signature = weak.sign(b"x", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    with pytest.raises(PeerIncompatible) as excinfo:
        verify(S.RSA_PSS_RSAE_SHA256, weak.public_key(), b"x", signature)
    assert excinfo.value.reason is Incompatibility.UNSUPPORTED_CERTIFICATE
    assert schemes_for_key(weak) == ()


def test_pss_salt_length_must_be_hash_length(keys: dict[str, PrivateKeyTypes]) -> None:
    """RFC 8446 §4.2.3: RSASSA-PSS salt length MUST equal the digest length."""
    key = keys["rsa2048"]
    assert isinstance(key, rsa.RSAPrivateKey)
    short_salt = key.sign(b"x", padding.PSS(padding.MGF1(hashes.SHA256()), 20), hashes.SHA256())
    with pytest.raises(PeerMisbehaved) as excinfo:
        verify(S.RSA_PSS_RSAE_SHA256, key.public_key(), b"x", short_salt)
    assert excinfo.value.reason is Misbehaviour.BAD_SIGNATURE
    pkcs1 = key.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(PeerMisbehaved):
        verify(S.RSA_PSS_RSAE_SHA256, key.public_key(), b"x", pkcs1)


def test_schemes_for_key(keys: dict[str, PrivateKeyTypes]) -> None:
    assert schemes_for_key(keys["p256"]) == (S.ECDSA_SECP256R1_SHA256,)
    assert schemes_for_key(keys["p384"].public_key()) == (S.ECDSA_SECP384R1_SHA384,)
    assert schemes_for_key(keys["p521"]) == (S.ECDSA_SECP521R1_SHA512,)
    assert schemes_for_key(keys["rsa2048"]) == (
        S.RSA_PSS_RSAE_SHA256,
        S.RSA_PSS_RSAE_SHA384,
        S.RSA_PSS_RSAE_SHA512,
    )
    assert schemes_for_key(keys["ed25519"]) == (S.ED25519,)
    assert schemes_for_key(keys["ed448"]) == (S.ED448,)
    assert schemes_for_key(ec.generate_private_key(ec.SECP256K1())) == ()
    for key in keys.values():
        for scheme in schemes_for_key(key):
            assert is_compatible(scheme, key)
            assert scheme in DEFAULT_SIGNATURE_SCHEMES


def test_rsa_keys_fit_rsae_and_pss_schemes(keys: dict[str, PrivateKeyTypes]) -> None:
    for scheme in (S.RSA_PSS_RSAE_SHA256, S.RSA_PSS_PSS_SHA256, S.RSA_PKCS1_SHA256):
        assert is_compatible(scheme, keys["rsa2048"])
        assert not is_compatible(scheme, keys["p256"])


def test_default_scheme_lists() -> None:
    assert not any(s.name.startswith("RSA_PKCS1") for s in DEFAULT_SIGNATURE_SCHEMES)
    assert DEFAULT_SIGNATURE_SCHEMES_CERT[: len(DEFAULT_SIGNATURE_SCHEMES)] == DEFAULT_SIGNATURE_SCHEMES
    assert {S.RSA_PKCS1_SHA256, S.RSA_PKCS1_SHA384, S.RSA_PKCS1_SHA512} <= set(DEFAULT_SIGNATURE_SCHEMES_CERT)
    assert S.RSA_PKCS1_SHA1 not in DEFAULT_SIGNATURE_SCHEMES_CERT


def test_certificate_verify_content_layout() -> None:
    """RFC 8446 §4.4.3: 0x20 * 64 || context string || 0x00 || Transcript-Hash."""
    th = bytes(range(32))
    server = certificate_verify_content(True, th)
    assert server == b" " * 64 + b"TLS 1.3, server CertificateVerify" + b"\x00" + th
    client = certificate_verify_content(False, th)
    assert client == b" " * 64 + b"TLS 1.3, client CertificateVerify" + b"\x00" + th


def test_signature_verified_cannot_be_forged() -> None:
    with pytest.raises(TypeError):
        SignatureVerified(S.ED25519)
    with pytest.raises(TypeError):
        SignatureVerified(S.ED25519, _token=object())
    assert signatures._CONSTRUCTION_TOKEN is not None


def test_pkcs1_never_verifies_a_tls13_handshake_signature(keys: dict[str, PrivateKeyTypes]) -> None:
    """RFC 8446 §4.2.3: rsa_pkcs1_* is for certificates only in TLS 1.3."""
    key = keys["rsa2048"]
    signature = sign(S.RSA_PKCS1_SHA256, key, b"data", tls12=True)
    with pytest.raises(PeerMisbehaved) as excinfo:
        verify(S.RSA_PKCS1_SHA256, key.public_key(), b"data", signature)
    assert excinfo.value.reason is Misbehaviour.UNOFFERED_SIGNATURE_SCHEME
    assert verify(S.RSA_PKCS1_SHA256, key.public_key(), b"data", signature, tls12=True).scheme is S.RSA_PKCS1_SHA256


def test_tls12_ecdsa_schemes_name_only_the_hash(keys: dict[str, PrivateKeyTypes]) -> None:
    """RFC 5246 §7.4.1.4.1: in TLS 1.2 ecdsa_secp256r1_sha256 means ECDSA with SHA-256 on any curve."""
    from handclasp.crypto.signatures import schemes_for_key12

    p384 = keys["p384"]
    signature = sign(S.ECDSA_SECP256R1_SHA256, p384, b"params", tls12=True)
    assert verify(S.ECDSA_SECP256R1_SHA256, p384.public_key(), b"params", signature, tls12=True)
    assert schemes_for_key12(p384)[0] is S.ECDSA_SECP384R1_SHA384
    assert S.RSA_PKCS1_SHA256 in schemes_for_key12(keys["rsa2048"])
