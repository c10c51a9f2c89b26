"""Transcript hash (RFC 8446 §4.4.1), suite table (RFC 8446 §B.4) and the default provider."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from handclasp.crypto.provider import DEFAULT_PROVIDER, CryptoProvider, DefaultProvider
from handclasp.crypto.suites import DEFAULT_TLS13_SUITES, TLS13_SUITES, SuiteParams, make_aead
from handclasp.crypto.transcript import Transcript
from handclasp.wire.enums import CipherSuite


def test_digest_does_not_finalise() -> None:
    t = Transcript("sha256", b"abc")
    first = t.digest()
    assert first == hashlib.sha256(b"abc").digest()
    assert t.digest() == first
    t.update(b"def")
    assert t.digest() == hashlib.sha256(b"abcdef").digest()


def test_sha384_transcript() -> None:
    t = Transcript("sha384")
    t.update(b"x")
    assert t.digest() == hashlib.sha384(b"x").digest()


def test_after_hello_retry_message_hash() -> None:
    """RFC 8446 §4.4.1: message_hash(254) || 00 00 Hash.length || Hash(ClientHello1)."""
    ch1 = b"\x01\x00\x00\x02hi"
    t = Transcript.after_hello_retry("sha384", ch1)
    inner = hashlib.sha384(ch1).digest()
    assert t.digest() == hashlib.sha384(b"\xfe\x00\x00\x30" + inner).digest()
    t.update(b"HRR")
    assert t.digest() == hashlib.sha384(b"\xfe\x00\x00\x30" + inner + b"HRR").digest()


def test_unknown_hash_is_refused() -> None:
    with pytest.raises(ValueError):
        Transcript("md5")


def test_suite_table() -> None:
    assert DEFAULT_TLS13_SUITES == (
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    )
    assert set(TLS13_SUITES) == set(DEFAULT_TLS13_SUITES)
    for suite, params in TLS13_SUITES.items():
        assert params.suite is suite
        assert params.hash_len == hashlib.new(params.hash_name).digest_size
        assert params.iv_len == 12
    assert TLS13_SUITES[CipherSuite.TLS_AES_256_GCM_SHA384].hash_name == "sha384"


def test_make_aead_kinds_and_key_length() -> None:
    aes = make_aead(TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256], bytes(16))
    chacha = make_aead(TLS13_SUITES[CipherSuite.TLS_CHACHA20_POLY1305_SHA256], bytes(32))
    assert isinstance(aes, AESGCM) and isinstance(chacha, ChaCha20Poly1305)
    with pytest.raises(ValueError):
        make_aead(TLS13_SUITES[CipherSuite.TLS_AES_256_GCM_SHA384], bytes(16))


def test_suite_params_are_frozen() -> None:
    params = TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]
    assert isinstance(params, SuiteParams)
    with pytest.raises(AttributeError):
        params.key_len = 32  # type: ignore[misc]


def test_default_provider() -> None:
    provider: CryptoProvider = DEFAULT_PROVIDER
    assert isinstance(provider, DefaultProvider)
    a, b = provider.random(32), provider.random(32)
    assert len(a) == 32 and a != b
    assert provider.now() > 1.7e9
