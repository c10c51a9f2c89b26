"""ML-DSA signature schemes (draft-ietf-tls-mldsa-06; FIPS 204) in crypto/signatures.py."""

from __future__ import annotations

import functools

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from hypothesis import given, settings, strategies as st

from handclasp.crypto.signatures import (
    DEFAULT_SIGNATURE_SCHEMES,
    DEFAULT_SIGNATURE_SCHEMES_CERT,
    MLDSA_AVAILABLE,
    certificate_verify_content,
    is_compatible,
    schemes_for_key,
    schemes_for_key12,
    sign,
    verify,
)
from handclasp.errors import Misbehaviour, PeerMisbehaved
from handclasp.wire.enums import AlertDescription, SignatureScheme

pytestmark = pytest.mark.skipif(not MLDSA_AVAILABLE, reason="cryptography backend without ML-DSA")

S = SignatureScheme
MLDSA_SCHEMES = (S.MLDSA44, S.MLDSA65, S.MLDSA87)
SIGNATURE_SIZES = {S.MLDSA44: 2420, S.MLDSA65: 3309, S.MLDSA87: 4627}  # FIPS 204 Table 2
CONTENT = certificate_verify_content(True, bytes(range(32)))


@functools.cache
def key_for(scheme: SignatureScheme) -> PrivateKeyTypes:
    classes = {S.MLDSA44: mldsa.MLDSA44PrivateKey, S.MLDSA65: mldsa.MLDSA65PrivateKey, S.MLDSA87: mldsa.MLDSA87PrivateKey}
    return classes[scheme].generate()


def test_codepoints_are_the_drafts() -> None:
    """draft-ietf-tls-mldsa-06 Table 2: mldsa44(0x0904), mldsa65(0x0905), mldsa87(0x0906)."""
    assert (S.MLDSA44, S.MLDSA65, S.MLDSA87) == (0x0904, 0x0905, 0x0906)


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_sign_verify_round_trip(scheme: SignatureScheme) -> None:
    key = key_for(scheme)
    signature = sign(scheme, key, CONTENT)
    assert len(signature) == SIGNATURE_SIZES[scheme]
    proof = verify(scheme, key.public_key(), CONTENT, signature)
    assert proof.scheme == scheme


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_signature_is_pure_mldsa_with_empty_context(scheme: SignatureScheme) -> None:
    """draft-ietf-tls-mldsa-06 §3.2: ML-DSA.Sign over the content itself with ctx = empty string."""
    key = key_for(scheme)
    signature = sign(scheme, key, CONTENT)
    key.public_key().verify(signature, CONTENT)  # type: ignore[union-attr]  # no context == empty context
    key.public_key().verify(signature, CONTENT, b"")  # type: ignore[union-attr]
    with pytest.raises(Exception):  # noqa: B017, PT011 - InvalidSignature: a non-empty ctx is another message
        key.public_key().verify(signature, CONTENT, b"TLS 1.3")  # type: ignore[union-attr]


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_peer_signature_with_empty_context_verifies(scheme: SignatureScheme) -> None:
    """A signature made directly with cryptography (as another stack would) verifies here."""
    key = key_for(scheme)
    signature = key.sign(CONTENT, b"")  # type: ignore[union-attr]
    assert verify(scheme, key.public_key(), CONTENT, signature).scheme == scheme


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_tampered_content_or_signature_is_bad_signature(scheme: SignatureScheme) -> None:
    """RFC 8446 §4.4.3: a signature that does not verify is decrypt_error."""
    key = key_for(scheme)
    signature = sign(scheme, key, CONTENT)
    for data, sig in (
        (CONTENT[:-1] + bytes([CONTENT[-1] ^ 1]), signature),
        (CONTENT, signature[:100] + bytes([signature[100] ^ 0x80]) + signature[101:]),
        (CONTENT, signature[:-1]),
        (CONTENT, b""),
        (certificate_verify_content(False, bytes(range(32))), signature),  # the client's context string
    ):
        with pytest.raises(PeerMisbehaved) as caught:
            verify(scheme, key.public_key(), data, sig)
        assert caught.value.reason == Misbehaviour.BAD_SIGNATURE
        assert caught.value.alert == AlertDescription.DECRYPT_ERROR


@settings(max_examples=20, deadline=None)
@given(position=st.integers(min_value=0, max_value=2419), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_signature_bit_is_refused(position: int, bit: int) -> None:
    key = key_for(S.MLDSA44)
    signature = bytearray(sign(S.MLDSA44, key, CONTENT))
    signature[position] ^= 1 << bit
    with pytest.raises(PeerMisbehaved) as caught:
        verify(S.MLDSA44, key.public_key(), CONTENT, bytes(signature))
    assert caught.value.reason == Misbehaviour.BAD_SIGNATURE


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_other_parameter_set_is_key_mismatch(scheme: SignatureScheme) -> None:
    """Each ML-DSA scheme binds one parameter set (draft-ietf-tls-mldsa-06 §3.2: the SPKI must match)."""
    key = key_for(scheme)
    for other in MLDSA_SCHEMES:
        if other == scheme:
            continue
        assert not is_compatible(other, key)
        assert not is_compatible(other, key.public_key())
        with pytest.raises(PeerMisbehaved) as caught:
            verify(other, key.public_key(), CONTENT, sign(scheme, key, CONTENT))
        assert caught.value.reason == Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH
        assert caught.value.alert == AlertDescription.ILLEGAL_PARAMETER
        with pytest.raises(ValueError):
            sign(other, key, CONTENT)


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_classical_keys_do_not_fit_mldsa_and_back(scheme: SignatureScheme) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    assert not is_compatible(scheme, p256) and not is_compatible(scheme, ed.public_key())
    with pytest.raises(PeerMisbehaved) as caught:
        verify(scheme, p256.public_key(), CONTENT, b"\x00" * SIGNATURE_SIZES[scheme])
    assert caught.value.reason == Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH
    key = key_for(scheme)
    for classical in (S.ECDSA_SECP256R1_SHA256, S.ED25519, S.RSA_PSS_RSAE_SHA256):
        assert not is_compatible(classical, key)
        with pytest.raises(PeerMisbehaved):
            verify(classical, key.public_key(), CONTENT, b"\x00" * 64)


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_schemes_for_key(scheme: SignatureScheme) -> None:
    key = key_for(scheme)
    assert schemes_for_key(key) == (scheme,)
    assert schemes_for_key(key.public_key()) == (scheme,)
    assert is_compatible(scheme, key) and is_compatible(scheme, key.public_key())


@pytest.mark.parametrize("scheme", MLDSA_SCHEMES, ids=lambda s: s.name)
def test_mldsa_is_tls13_only(scheme: SignatureScheme) -> None:
    """draft-ietf-tls-mldsa-06 §3: the codepoints are defined for TLS 1.3; never used for a TLS 1.2 signature."""
    key = key_for(scheme)
    assert schemes_for_key12(key) == ()
    assert not is_compatible(scheme, key, tls12=True)
    with pytest.raises(PeerMisbehaved) as caught:
        verify(scheme, key.public_key(), CONTENT, sign(scheme, key, CONTENT), tls12=True)
    assert caught.value.reason == Misbehaviour.UNOFFERED_SIGNATURE_SCHEME
    with pytest.raises(ValueError):
        sign(scheme, key, CONTENT, tls12=True)


def test_mldsa_offered_last_by_default() -> None:
    """Offered (the backend has ML-DSA), after every classical scheme; also in signature_algorithms_cert."""
    assert DEFAULT_SIGNATURE_SCHEMES[-3:] == MLDSA_SCHEMES
    assert set(MLDSA_SCHEMES) <= set(DEFAULT_SIGNATURE_SCHEMES_CERT)
