"""Post-quantum groups: known answers for fixed keys, the per-group concatenation order, and peer-value checks.

Sources of the known answers (none of them computed by the code under test):
- X25519 keys and shared secret: RFC 7748 §6.1 (Alice's and Bob's keys).
- P-256 keys and shared secret: RFC 8448 §5 (the HelloRetryRequest trace), via tests/crypto/rfc8448.py.
- ML-KEM encapsulation keys and shared secrets: kyber-py (an independent pure-Python FIPS 203
  implementation) from the fixed seed d || z = 00..3f and message m = 64..83; its SHA-256 digests and
  secrets are pinned below, and kyber-py recomputes them when installed.
Layouts: draft-ietf-tls-ecdhe-mlkem §4 (X25519MLKEM768: ML-KEM part first in both shares and the secret;
SecP256r1MLKEM768 and SecP384r1MLKEM1024: ECDH part first) and draft-ietf-tls-mlkem §3 (pure ML-KEM).
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings, strategies as st

import rfc8448 as v
from handclasp.crypto.groups import (
    DEFAULT_GROUPS,
    default_key_share_groups,
    generate_key_exchange,
    is_post_quantum,
    server_key_exchange,
)
from handclasp.crypto.provider import DEFAULT_PROVIDER
from handclasp.errors import Misbehaviour, PeerMisbehaved
from handclasp.wire.enums import AlertDescription, NamedGroup

# RFC 7748 §6.1
ALICE_X25519_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_X25519_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_X25519_PRIVATE = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_X25519_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
X25519_SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

# FIPS 203 key generation from seed d || z, computed with kyber-py 1.2.0 (ML_KEM_*.key_derive).
MLKEM_SEED = bytes(range(64))
MLKEM_M = bytes(range(100, 132))  # the encapsulation randomness for kyber-py's _encaps_internal
MLKEM768_EK_SHA256 = "0b7934c83125c788995e2ba6bd761e33046b3e40571be53e023309a29f398cc9"
MLKEM768_K = bytes.fromhex("c5a74110c158acbaf9c01deb86fa6cc10c14533feda54bec1fdd000d61f07e4e")
MLKEM768_CT_SHA256 = "57fe559432dbb3c5547c73f155820622f7efdd532e4330360a36ebf7d2ddec55"
MLKEM1024_EK_SHA256 = "c7b8fa0aa471d5ae18922d6ccad5b31e1d84f92ae723abfd13747018740a8530"
MLKEM1024_K = bytes.fromhex("f64fab54e0b56ccc058bf30d5d5d9dc2023e266432bf4e8009fbbaf3c8602331")
MLKEM1024_CT_SHA256 = "1fe22ad629280fa1dc35fb4e640ab7cef0eae704976517f163d599966f231e9d"

P384_CLIENT_SCALAR = int("7" * 96, 16)  # any fixed scalar below n
P384_SERVER_SCALAR = int("5" * 96, 16)
P256_SERVER_SCALAR = int("3" * 64, 16)  # RFC 8448 gives only the server's public P-256 value

# group -> (ML-KEM size, encapsulation key length, ciphertext length, ECDH share length, ML-KEM first)
LAYOUT = {
    NamedGroup.X25519MLKEM768: ("768", 1184, 1088, 32, True),
    NamedGroup.SECP256R1MLKEM768: ("768", 1184, 1088, 65, False),
    NamedGroup.SECP384R1MLKEM1024: ("1024", 1568, 1568, 97, False),
}
HYBRIDS = tuple(LAYOUT)


class LengthKeyedProvider:
    """'Random' bytes chosen by the requested length: 64 = ML-KEM seed, 32 = X25519 key, 40/56 = the
    P-256/P-384 scalar input (random(n) mod (n_order - 1) + 1, so d - 1 encodes d)."""

    def __init__(self, by_length: dict[int, bytes]) -> None:
        self._by_length = by_length

    def random(self, n: int) -> bytes:
        return self._by_length[n]

    def now(self) -> float:
        return 0.0


def _scalar_input(d: int, length: int) -> bytes:
    return (d - 1).to_bytes(length, "big")


def client_provider(group: NamedGroup) -> LengthKeyedProvider:
    p256 = int.from_bytes(v.HRR_CLIENT_P256_PRIVATE, "big")
    return LengthKeyedProvider(
        {
            64: MLKEM_SEED,
            32: ALICE_X25519_PRIVATE,
            40: _scalar_input(p256, 40),
            56: _scalar_input(P384_CLIENT_SCALAR, 56),
        }
    )


def server_provider() -> LengthKeyedProvider:
    return LengthKeyedProvider(
        {
            32: BOB_X25519_PRIVATE,
            40: _scalar_input(P256_SERVER_SCALAR, 40),
            56: _scalar_input(P384_SERVER_SCALAR, 56),
        }
    )


def _nist_public(scalar: int, curve: ec.EllipticCurve) -> bytes:
    key = ec.derive_private_key(scalar, curve)
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _nist_shared(client_scalar: int, server_scalar: int, curve: ec.EllipticCurve) -> bytes:
    ours = ec.derive_private_key(client_scalar, curve)
    return ours.exchange(ec.ECDH(), ec.derive_private_key(server_scalar, curve).public_key())


def _ecdh_for_our_server(group: NamedGroup) -> tuple[bytes, bytes, bytes]:
    """Like _ecdh_known, with the server keys of server_provider()."""
    if group is NamedGroup.SECP256R1MLKEM768:
        p256 = int.from_bytes(v.HRR_CLIENT_P256_PRIVATE, "big")
        return (
            v.HRR_CLIENT_P256_PUBLIC,
            _nist_public(P256_SERVER_SCALAR, ec.SECP256R1()),
            _nist_shared(p256, P256_SERVER_SCALAR, ec.SECP256R1()),
        )
    return _ecdh_known(group)


def _ecdh_known(group: NamedGroup) -> tuple[bytes, bytes, bytes]:
    """(client ECDH public, server ECDH public, ECDH shared secret) for the fixed keys."""
    if group is NamedGroup.X25519MLKEM768:
        return ALICE_X25519_PUBLIC, BOB_X25519_PUBLIC, X25519_SHARED
    if group is NamedGroup.SECP256R1MLKEM768:
        return v.HRR_CLIENT_P256_PUBLIC, v.HRR_SERVER_P256_PUBLIC, v.HRR_ECDHE_SHARED
    curve = ec.SECP384R1()
    return (
        _nist_public(P384_CLIENT_SCALAR, curve),
        _nist_public(P384_SERVER_SCALAR, curve),
        _nist_shared(P384_CLIENT_SCALAR, P384_SERVER_SCALAR, curve),
    )


def _mlkem_known(size: str) -> tuple[str, bytes, str]:
    if size == "768":
        return MLKEM768_EK_SHA256, MLKEM768_K, MLKEM768_CT_SHA256
    return MLKEM1024_EK_SHA256, MLKEM1024_K, MLKEM1024_CT_SHA256


def _kyber(size: str):  # type: ignore[no-untyped-def]
    ml_kem = pytest.importorskip("kyber_py.ml_kem")
    return ml_kem.ML_KEM_768 if size == "768" else ml_kem.ML_KEM_1024


def _assert_bad_key_share(excinfo: pytest.ExceptionInfo[PeerMisbehaved]) -> None:
    assert excinfo.value.reason is Misbehaviour.BAD_KEY_SHARE
    assert excinfo.value.alert is AlertDescription.ILLEGAL_PARAMETER


# ------------------------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
def test_hybrid_client_share_is_the_known_keys_in_the_group_order(group: NamedGroup) -> None:
    """draft-ietf-tls-ecdhe-mlkem §4.1: client share = ML-KEM ek || X25519 (0x11EC), ECDH || ek (0x11EB/0x11ED)."""
    size, ek_len, _, ecdh_len, kem_first = LAYOUT[group]
    ek_sha256, _, _ = _mlkem_known(size)
    client = generate_key_exchange(group, client_provider(group))
    share = client.public_bytes
    assert client.group is group and len(share) == ek_len + ecdh_len
    ek, ecdh = (share[:ek_len], share[ek_len:]) if kem_first else (share[ecdh_len:], share[:ecdh_len])
    assert hashlib.sha256(ek).hexdigest() == ek_sha256
    assert ecdh == _ecdh_known(group)[0]


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
def test_hybrid_client_derives_the_known_secret_in_the_group_order(group: NamedGroup) -> None:
    """draft-ietf-tls-ecdhe-mlkem §4.2: server share and shared secret keep the same per-group order."""
    size, ek_len, ct_len, _, kem_first = LAYOUT[group]
    _, k_known, ct_sha256 = _mlkem_known(size)
    kem = _kyber(size)
    client = generate_key_exchange(group, client_provider(group))
    ek = client.public_bytes[:ek_len] if kem_first else client.public_bytes[-ek_len:]
    k, ct = kem._encaps_internal(ek, MLKEM_M)  # deterministic FIPS 203 encapsulation, independent code
    assert (k, hashlib.sha256(ct).hexdigest(), len(ct)) == (k_known, ct_sha256, ct_len)
    _, server_ecdh, ecdh_shared = _ecdh_known(group)
    server_share = ct + server_ecdh if kem_first else server_ecdh + ct
    expected = k_known + ecdh_shared if kem_first else ecdh_shared + k_known
    assert client.exchange(server_share) == expected
    # Swapping the halves of the secret gives another value: the order is really tested.
    assert expected != (ecdh_shared + k_known if kem_first else k_known + ecdh_shared)


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
def test_hybrid_server_encapsulates_to_the_client_key_in_the_group_order(group: NamedGroup) -> None:
    """Our server's share: ciphertext || X25519 (0x11EC) or ECDH || ciphertext; secret in the same order.
    The ciphertext is decapsulated by kyber-py with the client's FIPS 203 seed."""
    size, ek_len, ct_len, ecdh_len, kem_first = LAYOUT[group]
    kem = _kyber(size)
    ek, dk = kem.key_derive(MLKEM_SEED)
    client_ecdh, server_ecdh, ecdh_shared = _ecdh_for_our_server(group)
    client_share = ek + client_ecdh if kem_first else client_ecdh + ek
    server_share, secret = server_key_exchange(group, client_share, server_provider())
    assert len(server_share) == ct_len + ecdh_len and len(secret) == 32 + len(ecdh_shared)
    if kem_first:
        ct, ecdh_part, k, ecdh_secret = server_share[:ct_len], server_share[ct_len:], secret[:32], secret[32:]
    else:
        ecdh_part, ct = server_share[:ecdh_len], server_share[ecdh_len:]
        ecdh_secret, k = secret[: len(ecdh_shared)], secret[len(ecdh_shared) :]
    assert ecdh_part == server_ecdh and ecdh_secret == ecdh_shared
    assert kem.decaps(dk, ct) == k


@pytest.mark.parametrize(
    ("group", "size"), [(NamedGroup.MLKEM768, "768"), (NamedGroup.MLKEM1024, "1024")], ids=["768", "1024"]
)
def test_pure_mlkem_known_answers(group: NamedGroup, size: str) -> None:
    """draft-ietf-tls-mlkem §3: client share = encapsulation key, server share = ciphertext, secret = K."""
    ek_sha256, k_known, _ = _mlkem_known(size)
    client = generate_key_exchange(group, client_provider(group))
    assert hashlib.sha256(client.public_bytes).hexdigest() == ek_sha256
    k, ct = _kyber(size)._encaps_internal(client.public_bytes, MLKEM_M)
    assert k == k_known and client.exchange(ct) == k_known
    server_share, secret = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    assert len(server_share) == len(ct) and client.exchange(server_share) == secret and len(secret) == 32


@pytest.mark.parametrize("group", [*HYBRIDS, NamedGroup.MLKEM768, NamedGroup.MLKEM1024], ids=lambda g: g.name)
def test_both_sides_agree_with_fresh_keys(group: NamedGroup) -> None:
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    server_share, server_secret = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    assert client.exchange(server_share) == server_secret
    again_share, again_secret = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    assert again_share != server_share and again_secret != server_secret  # fresh encapsulation each time


def test_cryptography_seed_keygen_matches_kyber_py() -> None:
    """cryptography's ML-KEM from_seed_bytes and kyber-py's key_derive agree (FIPS 203 §7.1)."""
    for size, private_type in (("768", mlkem.MLKEM768PrivateKey), ("1024", mlkem.MLKEM1024PrivateKey)):
        ek, _ = _kyber(size).key_derive(MLKEM_SEED)
        assert private_type.from_seed_bytes(MLKEM_SEED).public_key().public_bytes_raw() == ek


def test_rfc7748_vectors_hold_in_cryptography() -> None:
    alice = x25519.X25519PrivateKey.from_private_bytes(ALICE_X25519_PRIVATE)
    assert alice.public_key().public_bytes_raw() == ALICE_X25519_PUBLIC
    assert alice.exchange(x25519.X25519PublicKey.from_public_bytes(BOB_X25519_PUBLIC)) == X25519_SHARED


# ------------------------------------------------------------------------------------------- defaults


def test_default_key_shares_are_the_hybrid_and_x25519() -> None:
    assert DEFAULT_GROUPS[0] is NamedGroup.X25519MLKEM768
    assert default_key_share_groups(DEFAULT_GROUPS) == (NamedGroup.X25519MLKEM768, NamedGroup.X25519)
    assert default_key_share_groups((NamedGroup.X25519MLKEM768,)) == (NamedGroup.X25519MLKEM768,)
    assert default_key_share_groups((NamedGroup.SECP256R1, NamedGroup.X25519)) == (NamedGroup.SECP256R1,)
    assert default_key_share_groups((NamedGroup.X25519, NamedGroup.X25519MLKEM768)) == (NamedGroup.X25519,)


def test_post_quantum_groups_are_flagged() -> None:
    pq = {g for g in NamedGroup if is_post_quantum(g)}
    assert pq == {*HYBRIDS, NamedGroup.MLKEM768, NamedGroup.MLKEM1024}


# ------------------------------------------------------------------------------------------- bad values


@pytest.mark.parametrize("group", [*HYBRIDS, NamedGroup.MLKEM768, NamedGroup.MLKEM1024], ids=lambda g: g.name)
@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_length_shares_are_bad_key_share(group: NamedGroup, delta: int) -> None:
    """draft-ietf-tls-ecdhe-mlkem §4 / draft-ietf-tls-mlkem §3: a share of the wrong length is illegal_parameter."""
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    server_share, _ = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    bad_client = client.public_bytes + b"\x00" if delta > 0 else client.public_bytes[:-1]
    bad_server = server_share + b"\x00" if delta > 0 else server_share[:-1]
    with pytest.raises(PeerMisbehaved) as excinfo:
        server_key_exchange(group, bad_client, DEFAULT_PROVIDER)
    _assert_bad_key_share(excinfo)
    with pytest.raises(PeerMisbehaved) as excinfo:
        client.exchange(bad_server)
    _assert_bad_key_share(excinfo)


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
def test_invalid_encapsulation_key_is_bad_key_share(group: NamedGroup) -> None:
    """FIPS 203 §7.2 modulus check: coefficients >= q (all 0xff bytes) make the key invalid."""
    _, ek_len, _, ecdh_len, kem_first = LAYOUT[group]
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    share = bytearray(client.public_bytes)
    start = 0 if kem_first else ecdh_len
    share[start : start + 384] = b"\xff" * 384
    with pytest.raises(PeerMisbehaved) as excinfo:
        server_key_exchange(group, bytes(share), DEFAULT_PROVIDER)
    _assert_bad_key_share(excinfo)


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
@pytest.mark.parametrize("side", ["client", "server"])
def test_invalid_ecdh_part_is_bad_key_share(group: NamedGroup, side: str) -> None:
    """RFC 8446 §4.2.8.2 / §7.4.2 inside the hybrid: the ECDH half is checked like a plain share."""
    _, ek_len, ct_len, ecdh_len, kem_first = LAYOUT[group]
    # X25519: the all-zero (small-order) point; NIST curves: a point with a compressed-form prefix.
    bad_ecdh = bytes(32) if kem_first else b"\x02" + bytes(ecdh_len - 1)
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    server_share, _ = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    if side == "client":
        value = client.public_bytes[:ek_len] + bad_ecdh if kem_first else bad_ecdh + client.public_bytes[ecdh_len:]
        with pytest.raises(PeerMisbehaved) as excinfo:
            server_key_exchange(group, value, DEFAULT_PROVIDER)
    else:
        value = server_share[:ct_len] + bad_ecdh if kem_first else bad_ecdh + server_share[ecdh_len:]
        with pytest.raises(PeerMisbehaved) as excinfo:
            client.exchange(value)
    _assert_bad_key_share(excinfo)


@pytest.mark.parametrize("group", [*HYBRIDS, NamedGroup.MLKEM768], ids=lambda g: g.name)
def test_tampered_ciphertext_gives_another_secret(group: NamedGroup) -> None:
    """FIPS 203 implicit rejection: a flipped ciphertext bit decapsulates to an unrelated secret (the
    handshake then fails at Finished), with no error that would be an oracle."""
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    server_share, secret = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    kem_first = LAYOUT.get(group, ("", 0, 0, 0, True))[4]
    flip = 10 if kem_first else len(server_share) - 10  # a byte inside the ciphertext part
    tampered = bytearray(server_share)
    tampered[flip] ^= 0x01
    other = client.exchange(bytes(tampered))
    assert len(other) == len(secret) and other != secret


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_server_shares_never_crash(data: st.DataObject) -> None:
    group = data.draw(st.sampled_from([*HYBRIDS, NamedGroup.MLKEM768]))
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    expected_len = {
        NamedGroup.X25519MLKEM768: 1120,
        NamedGroup.SECP256R1MLKEM768: 1153,
        NamedGroup.SECP384R1MLKEM1024: 1665,
        NamedGroup.MLKEM768: 1088,
    }[group]
    length = data.draw(st.sampled_from([0, 1, expected_len - 1, expected_len, expected_len + 1]))
    value = data.draw(st.binary(min_size=length, max_size=length))
    try:
        secret = client.exchange(value)
    except PeerMisbehaved as exc:
        assert exc.reason is Misbehaviour.BAD_KEY_SHARE
    else:
        assert length == expected_len and len(secret) in (32, 64, 80)
