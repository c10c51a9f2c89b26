"""The TLS 1.3 cipher suites as data (RFC 8446 §B.4).

A suite fixes the transcript hash, the HKDF hash and the record AEAD. Nothing
here is code but ``make_aead``, which builds the one AEAD object a record
direction keeps per key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from handclasp.wire.enums import CipherSuite


@dataclass(frozen=True, slots=True)
class SuiteParams:
    """What a TLS 1.3 suite fixes: hash (``"sha256"``/``"sha384"``) and AEAD sizes."""

    suite: CipherSuite
    hash_name: str
    hash_len: int
    key_len: int
    iv_len: int


def make_aead(params: SuiteParams, key: bytes) -> AESGCM | ChaCha20Poly1305:
    """The AEAD object for ``key`` under ``params`` (build once per traffic key)."""
    if len(key) != params.key_len:
        raise ValueError(f"{params.suite.name} needs a {params.key_len}-byte key, got {len(key)}")
    if params.suite == CipherSuite.TLS_CHACHA20_POLY1305_SHA256:
        return ChaCha20Poly1305(key)
    return AESGCM(key)


# Every TLS 1.3 AEAD has a 16-byte tag (RFC 5116 §5.1, RFC 8439 §2.8).
AEAD_TAG_LEN = 16

TLS13_SUITES: dict[CipherSuite, SuiteParams] = {
    CipherSuite.TLS_AES_128_GCM_SHA256: SuiteParams(
        suite=CipherSuite.TLS_AES_128_GCM_SHA256, hash_name="sha256", hash_len=32, key_len=16, iv_len=12
    ),
    CipherSuite.TLS_AES_256_GCM_SHA384: SuiteParams(
        suite=CipherSuite.TLS_AES_256_GCM_SHA384, hash_name="sha384", hash_len=48, key_len=32, iv_len=12
    ),
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256: SuiteParams(
        suite=CipherSuite.TLS_CHACHA20_POLY1305_SHA256, hash_name="sha256", hash_len=32, key_len=32, iv_len=12
    ),
}

DEFAULT_TLS13_SUITES: tuple[CipherSuite, ...] = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
