"""The TLS 1.2 PRF and what is derived with it (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627 §4).

    PRF(secret, label, seed) = P_<hash>(secret, label + seed)
    P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ...
    A(0) = seed, A(i) = HMAC(secret, A(i-1))

The hash is the suite's (``"sha256"`` or ``"sha384"``; see ``suites12.prf_hash_for``).
``"md5+sha1"`` selects the TLS 1.0/1.1 PRF (RFC 2246 §5), which lives in
``handclasp.legacy.prf10`` and is imported only when asked for.

Rules of this file: labels are module constants; nothing here keeps state; lengths
of the inputs the RFCs fix (randoms, master secret) are checked, as a wrong one is a bug.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from handclasp.crypto.suites12 import LEGACY_PRF_HASH, Suite12, key_block_iv_len, prf_hash_for
from handclasp.wire.enums import ProtocolVersion


@dataclass(frozen=True, slots=True)
class KeyBlock:
    """The key block cut into its parts, in RFC 5246 §6.3 order. MAC keys are empty for AEAD
    suites; IVs are empty for CBC in TLS 1.1+ (explicit per-record IVs)."""

    client_mac_key: bytes
    server_mac_key: bytes
    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes

    def __repr__(self) -> str:  # never print key material
        return "KeyBlock(<secret>)"


def prf(hash_name: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """``length`` bytes of PRF(secret, label, seed) (RFC 5246 §5)."""
    if hash_name == LEGACY_PRF_HASH:
        from handclasp.legacy.prf10 import prf10  # TLS 1.0/1.1 only: loaded on demand

        return prf10(secret, label, seed, length)
    if hash_name not in _HASH_LEN:
        raise ValueError(f"no TLS 1.2 PRF with hash {hash_name!r}")
    if length < 0:
        raise ValueError("negative PRF length")
    return _p_hash(hash_name, secret, label + seed, length)


def master_secret(
    hash_name: str, pre_master_secret: bytes, client_random: bytes, server_random: bytes
) -> bytes:
    """RFC 5246 §8.1: PRF(pre_master_secret, "master secret", client_random + server_random)[0..47]."""
    _check_randoms(client_random, server_random)
    return prf(
        hash_name, pre_master_secret, MASTER_SECRET_LABEL, client_random + server_random, MASTER_SECRET_LEN
    )


def extended_master_secret(hash_name: str, pre_master_secret: bytes, session_hash: bytes) -> bytes:
    """RFC 7627 §4: PRF(pre_master_secret, "extended master secret", session_hash)[0..47],
    where session_hash is the transcript hash up to and including ClientKeyExchange (§3)."""
    return prf(hash_name, pre_master_secret, EXTENDED_MASTER_SECRET_LABEL, session_hash, MASTER_SECRET_LEN)


def key_block(
    suite: Suite12,
    master_secret: bytes,
    client_random: bytes,
    server_random: bytes,
    *,
    version: ProtocolVersion = ProtocolVersion.TLS1_2,
) -> KeyBlock:
    """RFC 5246 §6.3: PRF(master_secret, "key expansion", server_random + client_random), cut into
    client/server MAC keys, keys and IVs. ``version`` picks the PRF (TLS 1.0/1.1: MD5 ⊕ SHA-1)
    and whether CBC takes an IV from the key block (TLS 1.0 only, RFC 2246 §6.3)."""
    _check_randoms(client_random, server_random)
    if len(master_secret) != MASTER_SECRET_LEN:
        raise ValueError(f"master secret must be {MASTER_SECRET_LEN} bytes")
    mac_len = suite.mac_len
    key_len = suite.key_len
    iv_len = key_block_iv_len(suite, version)
    block = prf(
        prf_hash_for(suite, version),
        master_secret,
        KEY_EXPANSION_LABEL,
        server_random + client_random,
        2 * (mac_len + key_len + iv_len),
    )
    keys = 2 * mac_len
    ivs = keys + 2 * key_len
    return KeyBlock(
        client_mac_key=block[:mac_len],
        server_mac_key=block[mac_len:keys],
        client_key=block[keys : keys + key_len],
        server_key=block[keys + key_len : ivs],
        client_iv=block[ivs : ivs + iv_len],
        server_iv=block[ivs + iv_len :],
    )


def finished_verify_data(
    hash_name: str, master_secret: bytes, is_client: bool, handshake_hash: bytes
) -> bytes:
    """RFC 5246 §7.4.9: PRF(master_secret, finished_label, Hash(handshake_messages))[0..11].
    For TLS 1.0/1.1 pass ``"md5+sha1"`` and MD5(handshake) + SHA1(handshake) (RFC 2246 §7.4.9)."""
    label = CLIENT_FINISHED_LABEL if is_client else SERVER_FINISHED_LABEL
    return prf(hash_name, master_secret, label, handshake_hash, VERIFY_DATA_LEN)


def _p_hash(hash_name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5 P_hash, one keyed HMAC object copied per block."""
    keyed = hmac.new(secret, digestmod=hash_name)
    out: list[bytes] = []
    produced = 0
    a = seed
    while produced < length:  # bounded: ceil(length / hash_len) iterations
        mac = keyed.copy()
        mac.update(a)
        a = mac.digest()  # A(i)
        mac = keyed.copy()
        mac.update(a)
        mac.update(seed)
        block = mac.digest()
        out.append(block)
        produced += len(block)
    return b"".join(out)[:length]


def _check_randoms(client_random: bytes, server_random: bytes) -> None:
    if len(client_random) != RANDOM_LEN or len(server_random) != RANDOM_LEN:
        raise ValueError(f"client and server randoms must be {RANDOM_LEN} bytes")


MASTER_SECRET_LABEL = b"master secret"
EXTENDED_MASTER_SECRET_LABEL = b"extended master secret"
KEY_EXPANSION_LABEL = b"key expansion"
CLIENT_FINISHED_LABEL = b"client finished"
SERVER_FINISHED_LABEL = b"server finished"
MASTER_SECRET_LEN = 48
VERIFY_DATA_LEN = 12  # RFC 5246 §7.4.9: verify_data_length 12 for every suite defined so far
RANDOM_LEN = 32
_HASH_LEN = {"sha256": 32, "sha384": 48}
