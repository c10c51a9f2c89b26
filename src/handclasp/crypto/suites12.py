"""The TLS 1.2 (and 1.0/1.1) cipher suites as data (RFC 5246 App. A.5, RFC 5288, RFC 5289, RFC 7905).

A TLS 1.2 suite fixes four things: the key exchange, how the server authenticates,
the record protection (bulk cipher + MAC, or an AEAD) and the PRF hash. This module
is a table of those facts and two small helpers that depend on the negotiated
version (the PRF hash and the key-block IV length), nothing else.

Rules of this file:
- No suite with RC4, 3DES, NULL, EXPORT or anonymous key exchange is listed, so none
  can ever be negotiated.
- ``legacy_only`` marks suites that need an extra condition to be usable: CBC suites
  only with encrypt-then-MAC (RFC 7366) unless legacy mode, RSA key exchange only
  with ``legacy_rsa_key_exchange``. The caller applies the condition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from handclasp.wire.enums import CipherSuite, ProtocolVersion


class KeyExchangeAlgorithm(enum.Enum):
    ECDHE = "ecdhe"
    DHE = "dhe"
    RSA = "rsa"


class AuthAlgorithm(enum.Enum):
    ECDSA = "ecdsa"
    RSA = "rsa"


class BulkCipher(enum.Enum):
    AES_128_GCM = "aes-128-gcm"
    AES_256_GCM = "aes-256-gcm"
    CHACHA20_POLY1305 = "chacha20-poly1305"
    AES_128_CBC = "aes-128-cbc"
    AES_256_CBC = "aes-256-cbc"


@dataclass(frozen=True, slots=True)
class Suite12:
    """What one TLS 1.2 suite fixes (RFC 5246 §6.1 SecurityParameters, in table form).

    ``fixed_iv_len`` is the IV length taken from the key block in TLS 1.1/1.2 (4 for GCM,
    12 for ChaCha20-Poly1305, 0 for CBC); TLS 1.0 CBC takes a 16-byte IV from the key
    block instead (see ``key_block_iv_len``). ``record_iv_len`` is the per-record
    explicit IV/nonce (8 for GCM, 0 for ChaCha20-Poly1305, 16 for CBC in TLS 1.1+).
    ``auth`` is None for RSA key exchange: the server proves its key by decrypting.
    """

    suite: CipherSuite
    kx: KeyExchangeAlgorithm
    auth: AuthAlgorithm | None
    cipher: BulkCipher
    mac_name: str | None
    mac_len: int
    prf_hash: str
    key_len: int
    fixed_iv_len: int
    record_iv_len: int
    is_aead: bool
    is_cbc: bool
    legacy_only: bool
    min_version: ProtocolVersion


def prf_hash_for(suite: Suite12, version: ProtocolVersion) -> str:
    """The PRF hash under ``version``: the suite's in TLS 1.2 (RFC 5246 §5, RFC 5289 §3),
    MD5 ⊕ SHA-1 (``"md5+sha1"``) in TLS 1.0/1.1 (RFC 2246 §5, RFC 4346 §5)."""
    return suite.prf_hash if version >= ProtocolVersion.TLS1_2 else LEGACY_PRF_HASH


def key_block_iv_len(suite: Suite12, version: ProtocolVersion) -> int:
    """Bytes of IV per direction taken from the key block (RFC 5246 §6.3).

    TLS 1.0 CBC uses an implicit IV from the key block (RFC 2246 §6.3); TLS 1.1+ CBC
    sends an explicit IV per record and takes none (RFC 4346 §6.3, RFC 5246 §6.2.3.2).
    """
    if suite.is_cbc and version <= ProtocolVersion.TLS1_0:
        return _AES_BLOCK
    return suite.fixed_iv_len


def is_suite_allowed(
    suite: Suite12,
    version: ProtocolVersion,
    *,
    encrypt_then_mac: bool,
    legacy_cbc: bool,
    legacy_rsa_key_exchange: bool,
) -> bool:
    """Whether ``suite`` may be negotiated for ``version`` under this policy.

    AEAD and SHA-256/384 suites need TLS 1.2 (RFC 5246 App. A.5, RFC 5288 §4, RFC 5289 §3.2);
    CBC needs encrypt-then-MAC (RFC 7366) unless ``legacy_cbc``; RSA key exchange is opt-in.
    ``encrypt_then_mac`` is whether EtM was (or will be) negotiated on this connection.
    """
    if version < suite.min_version:
        return False
    if suite.kx is KeyExchangeAlgorithm.RSA and not legacy_rsa_key_exchange:
        return False
    return not suite.is_cbc or encrypt_then_mac or legacy_cbc


def _aead(
    suite: CipherSuite,
    kx: KeyExchangeAlgorithm,
    auth: AuthAlgorithm | None,
    cipher: BulkCipher,
    prf_hash: str,
) -> Suite12:
    is_gcm = cipher is not BulkCipher.CHACHA20_POLY1305
    return Suite12(
        suite=suite,
        kx=kx,
        auth=auth,
        cipher=cipher,
        mac_name=None,
        mac_len=0,
        prf_hash=prf_hash,
        key_len=16 if cipher is BulkCipher.AES_128_GCM else 32,
        fixed_iv_len=4 if is_gcm else 12,  # RFC 5288 §3 salt; RFC 7905 §2 full 12-byte IV
        record_iv_len=8 if is_gcm else 0,  # RFC 5288 §3 nonce_explicit; RFC 7905 §2: none
        is_aead=True,
        is_cbc=False,
        legacy_only=kx is KeyExchangeAlgorithm.RSA,
        min_version=ProtocolVersion.TLS1_2,
    )


def _cbc(
    suite: CipherSuite,
    kx: KeyExchangeAlgorithm,
    auth: AuthAlgorithm | None,
    cipher: BulkCipher,
    mac_name: str,
) -> Suite12:
    return Suite12(
        suite=suite,
        kx=kx,
        auth=auth,
        cipher=cipher,
        mac_name=mac_name,
        mac_len=_MAC_LEN[mac_name],
        # RFC 5246 §5: SHA-256 for every suite defined with it (including the *_SHA ones);
        # RFC 5289 §3.2: SHA-384 for the *_SHA384 suites.
        prf_hash="sha384" if mac_name == "sha384" else "sha256",
        key_len=16 if cipher is BulkCipher.AES_128_CBC else 32,
        fixed_iv_len=0,
        record_iv_len=_AES_BLOCK,
        is_aead=False,
        is_cbc=True,
        legacy_only=True,
        # *_CBC_SHA work from TLS 1.0 on; HMAC-SHA256/384 suites are TLS 1.2 only (RFC 5246 App. A.5).
        min_version=ProtocolVersion.TLS1_0 if mac_name == "sha1" else ProtocolVersion.TLS1_2,
    )


LEGACY_PRF_HASH = "md5+sha1"
_AES_BLOCK = 16
_MAC_LEN = {"sha1": 20, "sha256": 32, "sha384": 48}

_CS = CipherSuite
_KX = KeyExchangeAlgorithm
_AU = AuthAlgorithm
_BC = BulkCipher

_ALL: tuple[Suite12, ...] = (
    _aead(_CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, _KX.ECDHE, _AU.ECDSA, _BC.AES_128_GCM, "sha256"),
    _aead(_CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, _KX.ECDHE, _AU.ECDSA, _BC.AES_256_GCM, "sha384"),
    _aead(_CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, _KX.ECDHE, _AU.RSA, _BC.AES_128_GCM, "sha256"),
    _aead(_CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, _KX.ECDHE, _AU.RSA, _BC.AES_256_GCM, "sha384"),
    _aead(
        _CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        _KX.ECDHE,
        _AU.ECDSA,
        _BC.CHACHA20_POLY1305,
        "sha256",
    ),
    _aead(
        _CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, _KX.ECDHE, _AU.RSA, _BC.CHACHA20_POLY1305, "sha256"
    ),
    _aead(_CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, _KX.DHE, _AU.RSA, _BC.AES_128_GCM, "sha256"),
    _aead(_CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384, _KX.DHE, _AU.RSA, _BC.AES_256_GCM, "sha384"),
    _aead(_CS.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256, _KX.DHE, _AU.RSA, _BC.CHACHA20_POLY1305, "sha256"),
    _aead(_CS.TLS_RSA_WITH_AES_128_GCM_SHA256, _KX.RSA, None, _BC.AES_128_GCM, "sha256"),
    _aead(_CS.TLS_RSA_WITH_AES_256_GCM_SHA384, _KX.RSA, None, _BC.AES_256_GCM, "sha384"),
    _cbc(_CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, _KX.ECDHE, _AU.ECDSA, _BC.AES_128_CBC, "sha1"),
    _cbc(_CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, _KX.ECDHE, _AU.ECDSA, _BC.AES_256_CBC, "sha1"),
    _cbc(_CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, _KX.ECDHE, _AU.RSA, _BC.AES_128_CBC, "sha1"),
    _cbc(_CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, _KX.ECDHE, _AU.RSA, _BC.AES_256_CBC, "sha1"),
    _cbc(_CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, _KX.ECDHE, _AU.ECDSA, _BC.AES_128_CBC, "sha256"),
    _cbc(_CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, _KX.ECDHE, _AU.ECDSA, _BC.AES_256_CBC, "sha384"),
    _cbc(_CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, _KX.ECDHE, _AU.RSA, _BC.AES_128_CBC, "sha256"),
    _cbc(_CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, _KX.ECDHE, _AU.RSA, _BC.AES_256_CBC, "sha384"),
    _cbc(_CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA, _KX.DHE, _AU.RSA, _BC.AES_128_CBC, "sha1"),
    _cbc(_CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA, _KX.DHE, _AU.RSA, _BC.AES_256_CBC, "sha1"),
    _cbc(_CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256, _KX.DHE, _AU.RSA, _BC.AES_128_CBC, "sha256"),
    _cbc(_CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256, _KX.DHE, _AU.RSA, _BC.AES_256_CBC, "sha256"),
    _cbc(_CS.TLS_RSA_WITH_AES_128_CBC_SHA, _KX.RSA, None, _BC.AES_128_CBC, "sha1"),
    _cbc(_CS.TLS_RSA_WITH_AES_256_CBC_SHA, _KX.RSA, None, _BC.AES_256_CBC, "sha1"),
    _cbc(_CS.TLS_RSA_WITH_AES_128_CBC_SHA256, _KX.RSA, None, _BC.AES_128_CBC, "sha256"),
    _cbc(_CS.TLS_RSA_WITH_AES_256_CBC_SHA256, _KX.RSA, None, _BC.AES_256_CBC, "sha256"),
)

TLS12_SUITES: dict[CipherSuite, Suite12] = {s.suite: s for s in _ALL}

# Forward secrecy and AEAD first (ECDSA before RSA within a cipher), then DHE-RSA-GCM, then
# ECDHE CBC (usable only once encrypt-then-MAC is negotiated). No RSA key exchange: that needs
# legacy_rsa_key_exchange.
DEFAULT_TLS12_SUITES: tuple[CipherSuite, ...] = (
    _CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    _CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    _CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    _CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    _CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    _CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    _CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
    _CS.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    _CS.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    _CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    _CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    _CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    _CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    _CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    _CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    _CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    _CS.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
)
