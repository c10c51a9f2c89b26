"""Key exchange groups: RFC 8448 vectors, RFC 7919 primes, and peer-value validation (RFC 8446 §4.2.8)."""

from __future__ import annotations

import ecdsa  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import rfc8448 as v
from handclasp.crypto import groups
from handclasp.crypto.groups import (
    DEFAULT_GROUPS,
    SUPPORTED_GROUPS,
    KeyExchange,
    generate_key_exchange,
    server_key_exchange,
)
from handclasp.crypto.provider import DEFAULT_PROVIDER
from handclasp.errors import Misbehaviour, PeerMisbehaved
from handclasp.wire.enums import AlertDescription, NamedGroup


class FixedProvider:
    """Returns the given bytes as its 'random' output (once)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def random(self, n: int) -> bytes:
        assert n == len(self._data), (n, len(self._data))
        return self._data

    def now(self) -> float:
        return 0.0


def _assert_bad_key_share(excinfo: pytest.ExceptionInfo[PeerMisbehaved]) -> None:
    assert excinfo.value.reason is Misbehaviour.BAD_KEY_SHARE
    assert excinfo.value.alert is AlertDescription.ILLEGAL_PARAMETER


def test_x25519_rfc8448_vectors() -> None:
    client = generate_key_exchange(NamedGroup.X25519, FixedProvider(v.CLIENT_X25519_PRIVATE))
    assert client.group is NamedGroup.X25519
    assert client.public_bytes == v.CLIENT_X25519_PUBLIC
    assert client.exchange(v.SERVER_X25519_PUBLIC) == v.ECDHE_SHARED
    server_public, shared = server_key_exchange(
        NamedGroup.X25519, v.CLIENT_X25519_PUBLIC, FixedProvider(v.SERVER_X25519_PRIVATE)
    )
    assert (server_public, shared) == (v.SERVER_X25519_PUBLIC, v.ECDHE_SHARED)


def test_secp256r1_rfc8448_hrr_vectors() -> None:
    # The scalar is random(40) mod (n-1) + 1, so d-1 as 40 bytes yields d.
    d = int.from_bytes(v.HRR_CLIENT_P256_PRIVATE, "big")
    client = generate_key_exchange(NamedGroup.SECP256R1, FixedProvider((d - 1).to_bytes(40, "big")))
    assert client.public_bytes == v.HRR_CLIENT_P256_PUBLIC
    assert client.exchange(v.HRR_SERVER_P256_PUBLIC) == v.HRR_ECDHE_SHARED


@pytest.mark.parametrize("group", SUPPORTED_GROUPS, ids=lambda g: g.name)
def test_round_trip_agrees(group: NamedGroup) -> None:
    client = generate_key_exchange(group, DEFAULT_PROVIDER)
    assert isinstance(client, KeyExchange)
    server_public, server_shared = server_key_exchange(group, client.public_bytes, DEFAULT_PROVIDER)
    assert client.exchange(server_public) == server_shared
    # ML-KEM groups: the client sends an encapsulation key, the server a ciphertext.
    client_len, server_len = KEM_LENGTHS.get(group, (PUBLIC_LENGTHS.get(group), PUBLIC_LENGTHS.get(group)))
    assert (len(client.public_bytes), len(server_public)) == (client_len, server_len)
    assert len(server_shared) == SHARED_LENGTHS[group]


PUBLIC_LENGTHS = {
    NamedGroup.X25519: 32,
    NamedGroup.X448: 56,
    NamedGroup.SECP256R1: 65,
    NamedGroup.SECP384R1: 97,
    NamedGroup.SECP521R1: 133,
    NamedGroup.FFDHE2048: 256,
    NamedGroup.FFDHE3072: 384,
    NamedGroup.FFDHE4096: 512,
}
SHARED_LENGTHS = {
    NamedGroup.X25519: 32,
    NamedGroup.X448: 56,
    NamedGroup.SECP256R1: 32,
    NamedGroup.SECP384R1: 48,
    NamedGroup.SECP521R1: 66,
    NamedGroup.FFDHE2048: 256,
    NamedGroup.FFDHE3072: 384,
    NamedGroup.FFDHE4096: 512,
    NamedGroup.X25519MLKEM768: 64,
    NamedGroup.SECP256R1MLKEM768: 64,
    NamedGroup.SECP384R1MLKEM1024: 80,
    NamedGroup.MLKEM768: 32,
    NamedGroup.MLKEM1024: 32,
}
# (client share, server share): draft-ietf-tls-ecdhe-mlkem §4, draft-ietf-tls-mlkem §3.
KEM_LENGTHS = {
    NamedGroup.X25519MLKEM768: (1216, 1120),
    NamedGroup.SECP256R1MLKEM768: (1249, 1153),
    NamedGroup.SECP384R1MLKEM1024: (1665, 1665),
    NamedGroup.MLKEM768: (1184, 1088),
    NamedGroup.MLKEM1024: (1568, 1568),
}


def test_supported_groups_order() -> None:
    # Issue #4: X25519MLKEM768 first, then the other hybrids, then the classical groups;
    # pure ML-KEM is supported but not offered by default.
    assert SUPPORTED_GROUPS[: len(DEFAULT_GROUPS)] == DEFAULT_GROUPS
    assert DEFAULT_GROUPS[:5] == (
        NamedGroup.X25519MLKEM768,
        NamedGroup.SECP256R1MLKEM768,
        NamedGroup.SECP384R1MLKEM1024,
        NamedGroup.X25519,
        NamedGroup.SECP256R1,
    )
    assert NamedGroup.MLKEM768 in SUPPORTED_GROUPS and NamedGroup.MLKEM768 not in DEFAULT_GROUPS


def test_unsupported_group_is_a_local_error() -> None:
    with pytest.raises(ValueError):
        generate_key_exchange(NamedGroup.FFDHE8192, DEFAULT_PROVIDER)


def test_private_keys_come_from_the_provider() -> None:
    a = generate_key_exchange(NamedGroup.X25519, FixedProvider(b"\x11" * 32))
    b = generate_key_exchange(NamedGroup.X25519, FixedProvider(b"\x11" * 32))
    assert a.public_bytes == b.public_bytes
    p = generate_key_exchange(NamedGroup.SECP384R1, FixedProvider(b"\x22" * 56))
    q = generate_key_exchange(NamedGroup.SECP384R1, FixedProvider(b"\x22" * 56))
    assert p.public_bytes == q.public_bytes


@pytest.mark.parametrize(
    "group,share",
    [
        (NamedGroup.X25519, b"\x09" * 31),
        (NamedGroup.X25519, b"\x09" * 33),
        (NamedGroup.X448, b"\x05" * 55),
        (NamedGroup.SECP256R1, b""),
        (NamedGroup.SECP256R1, b"\x04" + b"\x01" * 63),
        (NamedGroup.FFDHE2048, b"\x02" * 255),
        (NamedGroup.FFDHE2048, b"\x02" * 257),
    ],
    ids=lambda x: x.name if isinstance(x, NamedGroup) else len(x),
)
def test_wrong_length_share_is_rejected(group: NamedGroup, share: bytes) -> None:
    """RFC 8446 §4.2.8.1/§4.2.8.2: key_exchange has a fixed size per group."""
    kx = generate_key_exchange(group, DEFAULT_PROVIDER)
    with pytest.raises(PeerMisbehaved) as excinfo:
        kx.exchange(share)
    _assert_bad_key_share(excinfo)


@pytest.mark.parametrize("group", [NamedGroup.X25519, NamedGroup.X448], ids=lambda g: g.name)
def test_small_order_point_is_rejected(group: NamedGroup) -> None:
    """RFC 8446 §7.4.2: an all-zero X25519/X448 shared secret MUST be rejected."""
    kx = generate_key_exchange(group, DEFAULT_PROVIDER)
    for point in (bytes(PUBLIC_LENGTHS[group]), b"\x01" + bytes(PUBLIC_LENGTHS[group] - 1)):
        with pytest.raises(PeerMisbehaved) as excinfo:
            kx.exchange(point)
        _assert_bad_key_share(excinfo)


def test_all_zero_check_itself() -> None:
    with pytest.raises(PeerMisbehaved):
        groups._reject_all_zero(bytes(32))
    assert groups._reject_all_zero(b"\x00" * 31 + b"\x01") == b"\x00" * 31 + b"\x01"


@pytest.mark.parametrize(
    "group,curve",
    [(NamedGroup.SECP256R1, ec.SECP256R1()), (NamedGroup.SECP384R1, ec.SECP384R1())],
    ids=["p256", "p384"],
)
def test_compressed_and_off_curve_points_are_rejected(group: NamedGroup, curve: ec.EllipticCurve) -> None:
    """RFC 8446 §4.2.8.2: only the uncompressed form; peers MUST validate the point."""
    kx = generate_key_exchange(group, DEFAULT_PROVIDER)
    peer = ec.generate_private_key(curve).public_key()
    compressed = peer.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    uncompressed = peer.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    hybrid = bytes([6 + (uncompressed[-1] & 1)]) + uncompressed[1:]
    off_curve = uncompressed[:-1] + bytes([uncompressed[-1] ^ 1])
    for share in (compressed, compressed.ljust(len(uncompressed), b"\x00"), hybrid, off_curve):
        with pytest.raises(PeerMisbehaved) as excinfo:
            kx.exchange(share)
        _assert_bad_key_share(excinfo)
    assert len(kx.exchange(uncompressed)) == SHARED_LENGTHS[group]


def test_ffdhe_out_of_range_values_are_rejected() -> None:
    """RFC 8446 §4.2.8.1: peers MUST check 1 < Y < p-1."""
    p = groups._FFDHE_PRIMES[NamedGroup.FFDHE2048]
    kx = generate_key_exchange(NamedGroup.FFDHE2048, DEFAULT_PROVIDER)
    for y in (0, 1, p - 1, p, 2**2048 - 1):
        with pytest.raises(PeerMisbehaved) as excinfo:
            kx.exchange(y.to_bytes(256, "big"))
        _assert_bad_key_share(excinfo)


def test_ffdhe_shared_secret_keeps_leading_zeros() -> None:
    """RFC 8446 §7.4.1: the FFDHE shared secret is left-padded to the size of p."""
    p = groups._FFDHE_PRIMES[NamedGroup.FFDHE2048]
    kx = generate_key_exchange(NamedGroup.FFDHE2048, DEFAULT_PROVIDER)
    x = kx._private.private_numbers().x  # type: ignore[attr-defined]
    for r in range(2, 4000):  # ~1/256 of peer values give a leading zero byte
        y = 1 << r
        if y >= p - 1:
            break
        shared = kx.exchange(y.to_bytes(256, "big"))
        assert len(shared) == 256
        if shared[0] == 0:
            assert shared == pow(y, x, p).to_bytes(256, "big")
            return
    pytest.fail("no peer value produced a shared secret with a leading zero byte")


def _e_times_power_of_two(shift: int) -> int:
    """floor(2^shift * e) from the series e = sum 1/k!, with 64 guard bits."""
    scale = 1 << (shift + 64)
    total, term, k = 0, scale, 0
    while term:  # terminates: term shrinks by a factor k each step
        total += term
        k += 1
        term //= k
    return total >> 64


@pytest.mark.parametrize(
    "group,bits,x",
    [
        (NamedGroup.FFDHE2048, 2048, 560316),
        (NamedGroup.FFDHE3072, 3072, 2625351),
        (NamedGroup.FFDHE4096, 4096, 5736041),
    ],
    ids=["2048", "3072", "4096"],
)
def test_ffdhe_primes_are_rfc7919(group: NamedGroup, bits: int, x: int) -> None:
    """RFC 7919 Appendix A: p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1, a safe prime."""
    p = groups._FFDHE_PRIMES[group]
    expected = 2**bits - 2 ** (bits - 64) + (_e_times_power_of_two(bits - 130) + x) * 2**64 - 1
    assert p == expected
    assert p.bit_length() == bits
    assert p >> (bits - 64) == 2**64 - 1 and p & (2**64 - 1) == 2**64 - 1
    q = (p - 1) // 2
    assert pow(2, p - 1, p) == 1
    assert pow(2, q - 1, q) == 1


@pytest.mark.parametrize(
    "group,reference",
    [
        (NamedGroup.SECP256R1, ecdsa.NIST256p),
        (NamedGroup.SECP384R1, ecdsa.NIST384p),
        (NamedGroup.SECP521R1, ecdsa.NIST521p),
    ],
    ids=["p256", "p384", "p521"],
)
def test_curve_orders(group: NamedGroup, reference: ecdsa.curves.Curve) -> None:
    n = groups._CURVE_ORDERS[group]
    assert n == reference.order
    curve = groups._CURVES[group]
    # (n-1)·G = -G: same x, y negated, which holds only if n is the order of G.
    g = ec.derive_private_key(1, curve).public_key().public_numbers()
    minus_g = ec.derive_private_key(n - 1, curve).public_key().public_numbers()
    assert minus_g.x == g.x and minus_g.y != g.y
