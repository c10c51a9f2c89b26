"""TLS 1.2 PRF, master secrets, key block and Finished (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627 §4).

Known answers, none of them produced by this code:
- PRF: the TLS 1.2 PRF test vectors posted to the IETF TLS list (SHA-256 and SHA-384),
  also reproduced with OpenSSL 3.0 ``openssl kdf ... TLS1-PRF``.
- master secret, key block, client Finished: "The Illustrated TLS 1.2 Connection"
  (tls12.xargs.org), cross-checked against several independent implementations' tests.
- extended master secret, server Finished: OpenSSL 3.0 ``openssl kdf TLS1-PRF`` with the
  RFC 7627 / RFC 5246 labels over the same inputs.
"""

from __future__ import annotations

import sys
import types

import pytest
from hypothesis import given, strategies as st

from handclasp.crypto import prf12
from handclasp.crypto.prf12 import (
    extended_master_secret,
    finished_verify_data,
    key_block,
    master_secret,
    prf,
)
from handclasp.crypto.suites12 import TLS12_SUITES
from handclasp.wire.enums import CipherSuite, ProtocolVersion

PRF_SHA256_SECRET = bytes.fromhex("9bbe436ba940f017b17652849a71db35")
PRF_SHA256_SEED = bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c")
PRF_SHA256_OUT = bytes.fromhex(
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
    "87347b66"
)
PRF_SHA384_SECRET = bytes.fromhex("b80b733d6ceefcdc71566ea48e5567df")
PRF_SHA384_SEED = bytes.fromhex("cd665cf6a8447dd6ff8b27555edb7465")
PRF_SHA384_OUT = bytes.fromhex(
    "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
    "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
    "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
    "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
    "91c8f3a26854308d5eaa3be85e0990703d73e56f"
)

# tls12.xargs.org (TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS 1.2)
XARGS_PRE_MASTER = bytes.fromhex("df4a291baa1eb7cfa6934b29b474baad2697e29f1f920dcc77c8a0a088447624")
XARGS_CLIENT_RANDOM = bytes(range(0x00, 0x20))
XARGS_SERVER_RANDOM = bytes(range(0x70, 0x90))
XARGS_MASTER = bytes.fromhex(
    "916abf9da55973e13614ae0a3f5d3f37b023ba129aee02cc9134338127cd7049781c8e19fc1eb2a7387ac06ae237344c"
)
XARGS_CLIENT_MAC_KEY = bytes.fromhex("1b7d117c7d5f690bc263cae8ef60af0f1878acc2")
XARGS_SERVER_MAC_KEY = bytes.fromhex("2ad8bdd8c601a617126f63540eb20906f781fad2")
XARGS_CLIENT_KEY = bytes.fromhex("f656d037b173ef3e11169f27231a84b6")
XARGS_SERVER_KEY = bytes.fromhex("752a18e7a9fcb7cbcdd8f98dd8f769eb")
XARGS_CLIENT_IV = bytes.fromhex("a0d2550c9238eebfef5c32251abb67d6")
XARGS_SERVER_IV = bytes.fromhex("434528db4937d540d393135e06a11bb8")
XARGS_HANDSHAKE_HASH = bytes.fromhex("061dda04b3c2217ff73bd79b9cf88a2bb6ec505404aac8722db03ef417b54cb4")
XARGS_CLIENT_VERIFY_DATA = bytes.fromhex("cf919626f1360c536aaad73a")
# OpenSSL 3.0.19 `openssl kdf -kdfopt digest:SHA256 ... TLS1-PRF`, label "server finished", same inputs.
OPENSSL_SERVER_VERIFY_DATA = bytes.fromhex("0eabc4f8a576c54b8dc72d67")
# OpenSSL 3.0.19 TLS1-PRF, label "extended master secret", secret XARGS_PRE_MASTER, seed XARGS_HANDSHAKE_HASH.
OPENSSL_EMS_SHA256 = bytes.fromhex(
    "960143e1bc0895e72b360f49c91132e440b1e3059e6df2dd894ffc6166d767c6329bf5b76d383a24955dbf038178e4b0"
)
OPENSSL_EMS_SHA384 = bytes.fromhex(
    "295c4c9dc3f62e36be17228297639293b575479ae903a02e83f9dca2c64158f078af0b21233b374d825116762f29abf0"
)


def test_prf_sha256_known_answer() -> None:
    assert prf("sha256", PRF_SHA256_SECRET, b"test label", PRF_SHA256_SEED, 100) == PRF_SHA256_OUT


def test_prf_sha384_known_answer() -> None:
    assert prf("sha384", PRF_SHA384_SECRET, b"test label", PRF_SHA384_SEED, 148) == PRF_SHA384_OUT


def test_prf_depends_on_the_hash() -> None:
    assert prf("sha384", PRF_SHA256_SECRET, b"test label", PRF_SHA256_SEED, 100) != PRF_SHA256_OUT


@given(length=st.integers(min_value=0, max_value=148))
def test_prf_output_is_a_prefix_of_longer_output(length: int) -> None:
    out = prf("sha384", PRF_SHA384_SECRET, b"test label", PRF_SHA384_SEED, length)
    assert out == PRF_SHA384_OUT[:length]


@given(label=st.binary(max_size=20), seed=st.binary(max_size=40))
def test_prf_is_label_plus_seed(label: bytes, seed: bytes) -> None:
    """RFC 5246 §5: PRF(secret, label, seed) = P_hash(secret, label + seed)."""
    joined = label + seed
    assert prf("sha256", b"k", label, seed, 40) == prf("sha256", b"k", b"", joined, 40)


@pytest.mark.parametrize("name", ["sha1", "md5", "sha512", "SHA256", ""])
def test_prf_rejects_other_hashes(name: str) -> None:
    with pytest.raises(ValueError):
        prf(name, b"k", b"l", b"s", 12)


def test_prf_md5_sha1_dispatches_to_legacy_prf10(monkeypatch: pytest.MonkeyPatch) -> None:
    """The TLS 1.0/1.1 PRF is legacy.prf10.prf10, reached through prf(hash_name="md5+sha1")."""
    calls: list[tuple[bytes, bytes, bytes, int]] = []

    def fake_prf10(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
        calls.append((secret, label, seed, length))
        return b"\x5a" * length

    package = types.ModuleType("handclasp.legacy")
    module = types.ModuleType("handclasp.legacy.prf10")
    module.prf10 = fake_prf10  # type: ignore[attr-defined]
    package.prf10 = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "handclasp.legacy", package)
    monkeypatch.setitem(sys.modules, "handclasp.legacy.prf10", module)
    assert prf("md5+sha1", b"s", b"l", b"x", 7) == b"\x5a" * 7
    assert calls == [(b"s", b"l", b"x", 7)]


def test_master_secret_known_answer() -> None:
    got = master_secret("sha256", XARGS_PRE_MASTER, XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM)
    assert got == XARGS_MASTER


def test_master_secret_randoms_are_ordered_client_then_server() -> None:
    swapped = master_secret("sha256", XARGS_PRE_MASTER, XARGS_SERVER_RANDOM, XARGS_CLIENT_RANDOM)
    assert swapped != XARGS_MASTER


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33)])
def test_master_secret_rejects_bad_random_lengths(bad: bytes) -> None:
    with pytest.raises(ValueError):
        master_secret("sha256", XARGS_PRE_MASTER, bad, XARGS_SERVER_RANDOM)
    with pytest.raises(ValueError):
        master_secret("sha256", XARGS_PRE_MASTER, XARGS_CLIENT_RANDOM, bad)


def test_extended_master_secret_known_answers() -> None:
    """RFC 7627 §4: PRF(pre_master_secret, "extended master secret", session_hash)[0..47]."""
    assert extended_master_secret("sha256", XARGS_PRE_MASTER, XARGS_HANDSHAKE_HASH) == OPENSSL_EMS_SHA256
    assert extended_master_secret("sha384", XARGS_PRE_MASTER, XARGS_HANDSHAKE_HASH) == OPENSSL_EMS_SHA384


def test_extended_master_secret_differs_from_master_secret() -> None:
    ems = extended_master_secret("sha256", XARGS_PRE_MASTER, XARGS_CLIENT_RANDOM + XARGS_SERVER_RANDOM)
    assert len(ems) == 48
    assert ems != XARGS_MASTER


def test_key_block_known_answer_cbc_tls12() -> None:
    """RFC 5246 §6.3: MAC keys, then keys; TLS 1.2 CBC takes no IV from the key block."""
    suite = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]
    block = key_block(suite, XARGS_MASTER, XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM)
    assert block.client_mac_key == XARGS_CLIENT_MAC_KEY
    assert block.server_mac_key == XARGS_SERVER_MAC_KEY
    assert block.client_key == XARGS_CLIENT_KEY
    assert block.server_key == XARGS_SERVER_KEY
    assert block.client_iv == b""
    assert block.server_iv == b""


def test_key_expansion_continues_into_the_ivs_known_answer() -> None:
    """The page also derives the 16-byte IVs (the TLS 1.0 layout) from the same expansion."""
    out = prf("sha256", XARGS_MASTER, b"key expansion", XARGS_SERVER_RANDOM + XARGS_CLIENT_RANDOM, 104)
    assert out[72:88] == XARGS_CLIENT_IV
    assert out[88:104] == XARGS_SERVER_IV


@pytest.mark.parametrize(
    ("suite_id", "hash_name", "key_len", "iv_len"),
    [
        (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "sha256", 16, 4),
        (CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "sha384", 32, 4),
        (CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "sha256", 32, 12),
        (CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384, "sha384", 32, 4),
    ],
)
def test_key_block_aead_layout(suite_id: CipherSuite, hash_name: str, key_len: int, iv_len: int) -> None:
    """RFC 5288 §3 / RFC 7905 §2: no MAC keys; keys then fixed IVs, cut from the suite's PRF."""
    suite = TLS12_SUITES[suite_id]
    block = key_block(suite, XARGS_MASTER, XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM)
    raw = prf(hash_name, XARGS_MASTER, b"key expansion", XARGS_SERVER_RANDOM + XARGS_CLIENT_RANDOM, 200)
    assert block.client_mac_key == block.server_mac_key == b""
    assert block.client_key == raw[:key_len]
    assert block.server_key == raw[key_len : 2 * key_len]
    assert block.client_iv == raw[2 * key_len : 2 * key_len + iv_len]
    assert block.server_iv == raw[2 * key_len + iv_len : 2 * (key_len + iv_len)]


def test_key_block_cbc_sha384_uses_the_sha384_prf() -> None:
    suite = TLS12_SUITES[CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384]
    block = key_block(suite, XARGS_MASTER, XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM)
    raw = prf("sha384", XARGS_MASTER, b"key expansion", XARGS_SERVER_RANDOM + XARGS_CLIENT_RANDOM, 160)
    assert (block.client_mac_key, block.server_mac_key) == (raw[:48], raw[48:96])
    assert (block.client_key, block.server_key) == (raw[96:128], raw[128:160])


@pytest.mark.parametrize(("version", "iv_len"), [(ProtocolVersion.TLS1_0, 16), (ProtocolVersion.TLS1_1, 0)])
def test_key_block_legacy_versions_use_the_legacy_prf(
    monkeypatch: pytest.MonkeyPatch, version: ProtocolVersion, iv_len: int
) -> None:
    """RFC 2246 §6.3 / RFC 4346 §6.3: MD5 ⊕ SHA-1 PRF; only TLS 1.0 takes CBC IVs from the block."""
    seen: list[str] = []
    real_prf = prf12.prf

    def spy(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
        seen.append(hash_name)
        return real_prf("sha256", secret, label, seed, length)

    monkeypatch.setattr(prf12, "prf", spy)
    suite = TLS12_SUITES[CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA]
    block = key_block(suite, XARGS_MASTER, XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM, version=version)
    assert seen == ["md5+sha1"]
    assert len(block.client_iv) == len(block.server_iv) == iv_len
    assert block.client_key == XARGS_CLIENT_KEY  # same cut as TLS 1.2 given the same expansion


def test_key_block_rejects_bad_master_secret_length() -> None:
    suite = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
    with pytest.raises(ValueError):
        key_block(suite, XARGS_MASTER[:47], XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM)


def test_key_block_repr_hides_keys() -> None:
    suite = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]
    block = key_block(suite, XARGS_MASTER, XARGS_CLIENT_RANDOM, XARGS_SERVER_RANDOM)
    assert XARGS_CLIENT_KEY.hex() not in repr(block)
    assert str(list(XARGS_CLIENT_KEY)) not in repr(block)


def test_finished_verify_data_known_answers() -> None:
    """RFC 5246 §7.4.9: 12 bytes of PRF(master_secret, "client finished"/"server finished", hash)."""
    client = finished_verify_data("sha256", XARGS_MASTER, True, XARGS_HANDSHAKE_HASH)
    server = finished_verify_data("sha256", XARGS_MASTER, False, XARGS_HANDSHAKE_HASH)
    assert client == XARGS_CLIENT_VERIFY_DATA
    assert server == OPENSSL_SERVER_VERIFY_DATA
