"""TLS 1.0/1.1 PRF (RFC 2246 §5) and the MD5 || SHA-1 handshake hash."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from handclasp.legacy.prf10 import HASH_NAME, Md5Sha1, handshake_hash10, prf10
from tests.interop.peers.harness import require_binary

# TLS 1.0 key derivation vectors recorded from GnuTLS (published in Go's crypto/tls prf_test.go):
# (pre_master_secret, client_random, server_random, master_secret,
#  client_mac, server_mac, client_key, server_key) with 20-byte MAC keys and 16-byte keys.
GNUTLS_TLS10_VECTORS = [
    (
        "0302cac83ad4b1db3b9ab49ad05957de2a504a634a386fc600889321e1a971f57479466830ac3e6f468e87f5385fa0c5",
        "4ae66303755184a3917fcb44880605fcc53baa01912b22ed94473fc69cebd558",
        "4ae663020ec16e6bb5130be918cfcafd4d765979a3136a5d50c593446e4e44db",
        "3d851bab6e5556e959a16bc36d66cfae32f672bfa9ecdef6096cbb1b23472df1da63dbbd9827606413221d149ed08ceb",
        "805aaa19b3d2c0a0759a4b6c9959890e08480119",
        "2d22f9fe519c075c16448305ceee209fc24ad109",
        "d50b5771244f850cd8117a9ccafe2cf1",
        "e076e33206b30507a85c32855acd0919",
    ),
    (
        "03023f7527316bc12cbcd69e4b9e8275d62c028f27e65c745cfcddc7ce01bd3570a111378b63848127f1c36e5f9e4890",
        "4ae66364b5ea56b20ce4e25555aed2d7e67f42788dd03f3fee4adae0459ab106",
        "4ae66363ab815cbf6a248b87d6b556184e945e9b97fbdf247858b0bdafacfa1c",
        "7d64be7c80c59b740200b4b9c26d0baaa1c5ae56705acbcf2307fe62beb4728c19392c83f20483801cce022c77645460",
        "97742ed60a0554ca13f04f97ee193177b971e3b0",
        "37068751700400e03a8477a5c7eec0813ab9e0dc",
        "207cddbc600d2a200abac6502053ee5c",
        "df3f94f6e1eacc753b815fe16055cd43",
    ),
    (
        # a 128-byte pre-master secret (DHE): exercises the S1/S2 split on a longer secret
        "832d515f1d61eebb2be56ba0ef79879efb9b527504abb386fb4310ed5d0e3b1f220d3bb6b455033a2773e6d8bdf951d2"
        "78a187482b400d45deb88a5d5a6bb7d6a7a1decc04eb9ef0642876cd4a82d374d3b6ff35f0351dc5d411104de4313753"
        "55addc39bfb1f6329fb163b0bc298d658338930d07d313cd980a7e3d9196cac1",
        "4ae663b2ee389c0de147c509d8f18f5052afc4aaf9699efe8cb05ece883d3a5e",
        "4ae664d503fd4cff50cfc1fb8fc606580f87b0fcdac9554ba0e01d785bdf278e",
        "1aff2e7a2c4279d0126f57a65a77a8d9d0087cf2733366699bec27eb53d5740705a8574bb1acc2abbe90e44f0dd28d6c",
        "3c7647c93c1379a31a609542aa44e7f117a70085",
        "0d73102994be74a575a3ead8532590ca32a526d4",
        "ac7581b0b6c10d85bbd905ffbf36c65e",
        "ff07edde49682b45466bd2e39464b306",
    ),
]


@pytest.mark.parametrize("vector", GNUTLS_TLS10_VECTORS)
def test_prf10_matches_gnutls_master_secret_and_key_block(vector: tuple[str, ...]) -> None:
    """RFC 2246 §8.1 master secret and §6.3 key block, against GnuTLS-recorded values."""
    pms, client_random, server_random, master, client_mac, server_mac, client_key, server_key = (
        bytes.fromhex(x) for x in vector
    )
    got_master = prf10(pms, b"master secret", client_random + server_random, 48)
    assert got_master == master
    block = prf10(got_master, b"key expansion", server_random + client_random, 2 * 20 + 2 * 16)
    assert block[:20] == client_mac
    assert block[20:40] == server_mac
    assert block[40:56] == client_key
    assert block[56:72] == server_key


def test_prf10_a_wrong_secret_half_changes_the_output() -> None:
    """Both halves of the secret matter (MD5 over S1, SHA-1 over S2)."""
    secret = bytes(range(48))
    base = prf10(secret, b"label", b"seed", 32)
    first_half_changed = prf10(b"\xff" + secret[1:], b"label", b"seed", 32)
    second_half_changed = prf10(secret[:-1] + b"\xff", b"label", b"seed", 32)
    assert len({base, first_half_changed, second_half_changed}) == 3


@settings(max_examples=50, deadline=None)
@given(
    secret=st.binary(max_size=80),
    seed=st.binary(max_size=64),
    length=st.integers(min_value=0, max_value=200),
    shorter=st.integers(min_value=0, max_value=200),
)
def test_prf10_output_is_a_prefix_stream(secret: bytes, seed: bytes, length: int, shorter: int) -> None:
    out = prf10(secret, b"test label", seed, length)
    assert len(out) == length
    cut = min(shorter, length)
    assert prf10(secret, b"test label", seed, cut) == out[:cut]


@pytest.mark.parametrize("secret_len", [0, 1, 17, 48, 49, 128])
def test_prf10_agrees_with_openssl_tls1_prf(secret_len: int) -> None:
    """Cross-check with OpenSSL's TLS1-PRF KDF (digest MD5-SHA1); odd lengths share the middle byte."""
    openssl = require_binary("openssl")  # skipped without it, failed under HANDCLASP_REQUIRE_PEERS=1
    secret = bytes((i * 37 + 11) % 256 for i in range(secret_len))
    label, seed = b"key expansion", bytes(range(64))
    result = subprocess.run(
        [
            openssl, "kdf", "-keylen", "104", "-kdfopt", "digest:MD5-SHA1",
            "-kdfopt", f"hexsecret:{secret.hex()}", "-kdfopt", f"hexseed:{(label + seed).hex()}",
            "TLS1-PRF",
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip(), f"openssl kdf TLS1-PRF: {result.stderr.strip()[:200]}"
    expected = bytes.fromhex(result.stdout.strip().replace(":", ""))
    assert prf10(secret, label, seed, 104) == expected


def test_handshake_hash10_is_md5_then_sha1() -> None:
    """RFC 2246 §7.4.9: MD5(handshake_messages) + SHA-1(handshake_messages)."""
    data = b"handshake messages" * 100
    assert handshake_hash10(data) == hashlib.md5(data).digest() + hashlib.sha1(data).digest()
    assert len(handshake_hash10(b"")) == 36


def test_md5sha1_copy_leaves_the_running_hash_open() -> None:
    running = Md5Sha1(b"abc")
    snapshot = running.copy().digest()
    running.update(b"def")
    assert snapshot == handshake_hash10(b"abc")
    assert running.digest() == handshake_hash10(b"abcdef")
    assert running.digest_size == len(running.digest()) == 36
    assert running.name == HASH_NAME == "md5+sha1"
