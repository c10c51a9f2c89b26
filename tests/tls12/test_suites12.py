"""The TLS 1.2 suite table (RFC 5246 App. A.5, RFC 5288, RFC 5289, RFC 7905) and its policy helpers."""

from __future__ import annotations

import dataclasses

import pytest

from handclasp.crypto.suites12 import (
    DEFAULT_TLS12_SUITES,
    TLS12_SUITES,
    AuthAlgorithm,
    BulkCipher,
    KeyExchangeAlgorithm,
    Suite12,
    is_suite_allowed,
    key_block_iv_len,
    prf_hash_for,
)
from handclasp.wire.enums import CipherSuite, ProtocolVersion

# The list: IANA name -> code point (IANA TLS Cipher Suites registry).
EXPECTED = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 0xC02B,
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 0xC02C,
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xC02F,
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xC030,
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA9,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA8,
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256": 0x009E,
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384": 0x009F,
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCAA,
    "TLS_RSA_WITH_AES_128_GCM_SHA256": 0x009C,
    "TLS_RSA_WITH_AES_256_GCM_SHA384": 0x009D,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": 0xC009,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": 0xC00A,
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": 0xC013,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": 0xC014,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": 0xC023,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384": 0xC024,
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": 0xC027,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384": 0xC028,
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA": 0x0033,
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA": 0x0039,
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256": 0x0067,
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256": 0x006B,
    "TLS_RSA_WITH_AES_128_CBC_SHA": 0x002F,
    "TLS_RSA_WITH_AES_256_CBC_SHA": 0x0035,
    "TLS_RSA_WITH_AES_128_CBC_SHA256": 0x003C,
    "TLS_RSA_WITH_AES_256_CBC_SHA256": 0x003D,
}

ALL = list(TLS12_SUITES.values())
IDS = [s.suite.name for s in ALL]


def test_table_holds_exactly_the_listed_suites_with_iana_values() -> None:
    assert {s.name: int(s) for s in TLS12_SUITES} == EXPECTED
    for suite_id, params in TLS12_SUITES.items():
        assert params.suite is suite_id
        assert suite_id.is_known


def test_no_forbidden_suites() -> None:
    """Issue #3: never RC4, 3DES, NULL, EXPORT or anonymous key exchange."""
    for suite_id in TLS12_SUITES:
        for word in ("RC4", "3DES", "DES", "NULL", "EXPORT", "anon", "MD5"):
            assert word not in suite_id.name


@pytest.mark.parametrize("params", ALL, ids=IDS)
def test_parameters_follow_the_suite_name(params: Suite12) -> None:
    """Each field agrees with what the IANA name spells out."""
    name = params.suite.name
    kx_part, cipher_part = name.removeprefix("TLS_").split("_WITH_")
    assert (
        params.kx
        is {
            "ECDHE_ECDSA": KeyExchangeAlgorithm.ECDHE,
            "ECDHE_RSA": KeyExchangeAlgorithm.ECDHE,
            "DHE_RSA": KeyExchangeAlgorithm.DHE,
            "RSA": KeyExchangeAlgorithm.RSA,
        }[kx_part]
    )
    assert (
        params.auth
        is {
            "ECDHE_ECDSA": AuthAlgorithm.ECDSA,
            "ECDHE_RSA": AuthAlgorithm.RSA,
            "DHE_RSA": AuthAlgorithm.RSA,
            "RSA": None,
        }[kx_part]
    )
    assert params.key_len == (16 if "AES_128" in cipher_part else 32)
    assert params.prf_hash == ("sha384" if name.endswith("SHA384") else "sha256")
    assert params.is_aead == (not params.is_cbc)
    assert params.legacy_only == (params.is_cbc or params.kx is KeyExchangeAlgorithm.RSA)


@pytest.mark.parametrize(
    "params", [s for s in ALL if s.is_aead], ids=[s.suite.name for s in ALL if s.is_aead]
)
def test_aead_suites(params: Suite12) -> None:
    """RFC 5288 §3: 4-byte salt + 8-byte explicit nonce; RFC 7905 §2: 12-byte IV, nothing explicit."""
    name = params.suite.name
    assert params.mac_name is None and params.mac_len == 0
    assert params.min_version is ProtocolVersion.TLS1_2
    if "CHACHA20_POLY1305" in name:
        assert params.cipher is BulkCipher.CHACHA20_POLY1305
        assert (params.fixed_iv_len, params.record_iv_len) == (12, 0)
    else:
        assert params.cipher is (BulkCipher.AES_128_GCM if "AES_128" in name else BulkCipher.AES_256_GCM)
        assert (params.fixed_iv_len, params.record_iv_len) == (4, 8)


@pytest.mark.parametrize("params", [s for s in ALL if s.is_cbc], ids=[s.suite.name for s in ALL if s.is_cbc])
def test_cbc_suites(params: Suite12) -> None:
    """RFC 5246 §6.2.3.2 / App. A.5: HMAC from the name; *_SHA from TLS 1.0, SHA-2 MACs TLS 1.2 only."""
    name = params.suite.name
    assert params.cipher is (BulkCipher.AES_128_CBC if "AES_128" in name else BulkCipher.AES_256_CBC)
    mac = name.rsplit("_", 1)[1].lower()
    assert params.mac_name == {"sha": "sha1", "sha256": "sha256", "sha384": "sha384"}[mac]
    assert params.mac_len == {"sha": 20, "sha256": 32, "sha384": 48}[mac]
    assert (params.fixed_iv_len, params.record_iv_len) == (0, 16)
    expected_min = ProtocolVersion.TLS1_0 if mac == "sha" else ProtocolVersion.TLS1_2
    assert params.min_version is expected_min


def test_default_order_and_contents() -> None:
    """Issue #3: ECDHE AEAD first, then DHE-RSA-GCM, then ECDHE CBC-SHA256/384 and CBC-SHA; no RSA kx."""
    defaults = [TLS12_SUITES[s] for s in DEFAULT_TLS12_SUITES]
    assert len(set(DEFAULT_TLS12_SUITES)) == len(DEFAULT_TLS12_SUITES)
    assert all(s.kx is not KeyExchangeAlgorithm.RSA for s in defaults)
    groups = [_default_group(s) for s in defaults]
    assert groups == sorted(groups)
    assert set(groups) == {0, 1, 2, 3}
    assert DEFAULT_TLS12_SUITES[0] is CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    assert all(s.kx is not KeyExchangeAlgorithm.DHE for s in defaults if s.is_cbc)
    ecdhe_aead = {s.suite for s in ALL if s.kx is KeyExchangeAlgorithm.ECDHE and s.is_aead}
    assert ecdhe_aead <= set(DEFAULT_TLS12_SUITES)


def _default_group(s: Suite12) -> int:
    if s.is_aead:
        return 0 if s.kx is KeyExchangeAlgorithm.ECDHE else 1
    return 2 if s.mac_name != "sha1" else 3


def test_suite12_is_frozen() -> None:
    params = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.key_len = 32  # type: ignore[misc]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (ProtocolVersion.TLS1_0, "md5+sha1"),
        (ProtocolVersion.TLS1_1, "md5+sha1"),
        (ProtocolVersion.TLS1_2, "sha384"),
    ],
)
def test_prf_hash_for_version(version: ProtocolVersion, expected: str) -> None:
    """RFC 2246 §5 / RFC 4346 §5: MD5 ⊕ SHA-1 before TLS 1.2; RFC 5289 §3.2: SHA-384 suites."""
    assert prf_hash_for(TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384], version) == expected


def test_key_block_iv_len() -> None:
    """RFC 2246 §6.3: TLS 1.0 CBC IVs come from the key block; RFC 4346: TLS 1.1+ sends them."""
    cbc = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]
    gcm = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
    chacha = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]
    assert key_block_iv_len(cbc, ProtocolVersion.TLS1_0) == 16
    assert key_block_iv_len(cbc, ProtocolVersion.TLS1_1) == 0
    assert key_block_iv_len(cbc, ProtocolVersion.TLS1_2) == 0
    assert key_block_iv_len(gcm, ProtocolVersion.TLS1_2) == 4
    assert key_block_iv_len(chacha, ProtocolVersion.TLS1_2) == 12


def _allowed(suite_id: CipherSuite, version: ProtocolVersion, **policy: bool) -> bool:
    options = {"encrypt_then_mac": False, "legacy_cbc": False, "legacy_rsa_key_exchange": False}
    options.update(policy)
    return is_suite_allowed(TLS12_SUITES[suite_id], version, **options)


def test_is_suite_allowed_policy() -> None:
    cs, v = CipherSuite, ProtocolVersion
    assert _allowed(cs.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, v.TLS1_2)
    assert not _allowed(cs.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, v.TLS1_1)  # RFC 5288 §4
    # RFC 7366: CBC only with encrypt-then-MAC, unless legacy mode
    assert not _allowed(cs.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, v.TLS1_2)
    assert _allowed(cs.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, v.TLS1_2, encrypt_then_mac=True)
    assert _allowed(cs.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, v.TLS1_0, legacy_cbc=True)
    assert not _allowed(cs.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, v.TLS1_1, encrypt_then_mac=True)
    # RSA key exchange is opt-in
    assert not _allowed(cs.TLS_RSA_WITH_AES_128_GCM_SHA256, v.TLS1_2)
    assert _allowed(cs.TLS_RSA_WITH_AES_128_GCM_SHA256, v.TLS1_2, legacy_rsa_key_exchange=True)
    assert not _allowed(cs.TLS_RSA_WITH_AES_128_CBC_SHA, v.TLS1_2, legacy_rsa_key_exchange=True)
    assert _allowed(cs.TLS_RSA_WITH_AES_128_CBC_SHA, v.TLS1_2, legacy_rsa_key_exchange=True, legacy_cbc=True)
