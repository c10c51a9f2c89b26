"""TLS 1.2 DHE with server-chosen parameters (RFC 5246 §7.4.3, §8.1.2; RFC 7919)."""

from __future__ import annotations

import time

import pytest

from handclasp.crypto import groups
from handclasp.crypto.groups import (
    UNNAMED_DH_GROUP,
    DheKeyExchange,
    KeyExchange,
    dhe_group_for_client,
    dhe_params_for_group,
)
from handclasp.crypto.provider import DEFAULT_PROVIDER
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.wire.enums import AlertDescription, NamedGroup

FFDHE = (NamedGroup.FFDHE2048, NamedGroup.FFDHE3072, NamedGroup.FFDHE4096)

# A 2048-bit safe prime from `openssl dhparam 2048` (generator 2): not an RFC 7919 group.
CUSTOM_SAFE_PRIME_2048 = int(
    "e93964b3d699bc07f14caa44488d5ea01cb439aca5faf7b0122fa8f7a4e58e6b2b8c65fbca4d0a392ee97e1c1a538e24"
    "95c3eba63ebb4ff0ad74ab88cb9f3d2522c3e9566248b06c36349ff49ae9ea56f340b87c93dad4fb90b9bfb333b8569b"
    "044d2ed06221e035e03f80c4a5d77a022e61d38a5718c7fbb10143f8507075a05a3412ffc596a95a5cfb8b9cc36c99ad"
    "2b3f0e046ac24c610e1066d0941717baf4fc5a4a9a3b2cbf4095d36ad5edf500ef7034dfe124c0741bba0a7e95d6c19e"
    "3edf2abbceee6d5b4e7f5e243a5438ba316e27bf200c78d9be2c7ee49c0f2e27557009080cfbf5d6e42982b094d37f86"
    "ac6499cae39a177e112700becf19212f",
    16,
)
# RFC 3526 §2: the 1536-bit MODP group (a safe prime, generator 2) — too small for us.
MODP_1536 = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404dd"
    "ef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f"
    "83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca237327ffffffffffffffff",
    16,
)
P2048 = dhe_params_for_group(NamedGroup.FFDHE2048)[0]


def _assert_bad_key_share(excinfo: pytest.ExceptionInfo[PeerMisbehaved]) -> None:
    assert excinfo.value.reason is Misbehaviour.BAD_KEY_SHARE
    assert excinfo.value.alert is AlertDescription.ILLEGAL_PARAMETER


@pytest.mark.parametrize("group", FFDHE, ids=lambda g: g.name)
def test_params_for_group_are_the_rfc7919_groups(group: NamedGroup) -> None:
    p, g = dhe_params_for_group(group)
    assert g == 2
    assert p == groups._FFDHE_PRIMES[group]  # the primes test_groups.py re-derives from e
    assert p.bit_length() == {NamedGroup.FFDHE2048: 2048, NamedGroup.FFDHE3072: 3072}.get(group, 4096)


@pytest.mark.parametrize("group", [NamedGroup.X25519, NamedGroup.FFDHE6144, NamedGroup.FFDHE8192])
def test_params_for_unsupported_group_is_a_value_error(group: NamedGroup) -> None:
    with pytest.raises(ValueError):
        dhe_params_for_group(group)


@pytest.mark.parametrize("group", FFDHE, ids=lambda g: g.name)
def test_server_and_client_agree_on_a_named_group(group: NamedGroup) -> None:
    server = DheKeyExchange.for_group(group, DEFAULT_PROVIDER)
    client = DheKeyExchange.from_params(server.p, server.g, DEFAULT_PROVIDER)
    assert isinstance(client, KeyExchange)
    assert server.group is client.group is group
    assert server.named_group is group
    shared = client.exchange(server.public_bytes)
    assert shared == server.exchange(client.public_bytes)
    assert shared[0] != 0 and client.public_bytes[0] != 0 and server.public_bytes[0] != 0


def test_custom_safe_prime_is_accepted_and_unnamed() -> None:
    server = DheKeyExchange.from_params(CUSTOM_SAFE_PRIME_2048, 2, DEFAULT_PROVIDER)
    client = DheKeyExchange.from_params(CUSTOM_SAFE_PRIME_2048, 2, DEFAULT_PROVIDER)
    assert server.named_group is None and server.group is UNNAMED_DH_GROUP
    assert client.exchange(server.public_bytes) == server.exchange(client.public_bytes)


def test_shared_secret_strips_leading_zeros_and_public_values_are_minimal() -> None:
    """RFC 5246 §8.1.2: leading zero bytes of Z are stripped before use as the pre_master_secret."""
    server = DheKeyExchange.for_group(NamedGroup.FFDHE2048, DEFAULT_PROVIDER)
    x = server._private.private_numbers().x
    deadline = time.monotonic() + 30
    seen_short = False
    for _ in range(6000):  # about 1 in 256 secrets has a leading zero byte
        client = DheKeyExchange.from_params(P2048, 2, DEFAULT_PROVIDER)
        shared = server.exchange(client.public_bytes)
        z = pow(int.from_bytes(client.public_bytes, "big"), x, P2048)  # independent computation
        assert shared == z.to_bytes((z.bit_length() + 7) // 8, "big")
        assert client.public_bytes == int.from_bytes(client.public_bytes, "big").to_bytes(
            (int.from_bytes(client.public_bytes, "big").bit_length() + 7) // 8, "big"
        )
        if len(shared) < 256:
            seen_short = True
            break
        if time.monotonic() > deadline:
            break
    assert seen_short, "no shared secret with a leading zero byte within the bound"


def test_peer_value_with_leading_zero_bytes_is_accepted() -> None:
    server = DheKeyExchange.for_group(NamedGroup.FFDHE2048, DEFAULT_PROVIDER)
    client = DheKeyExchange.from_params(P2048, 2, DEFAULT_PROVIDER)
    padded = client.public_bytes.rjust(256, b"\x00")
    assert server.exchange(padded) == server.exchange(client.public_bytes)


def test_small_prime_is_weak_dh_group() -> None:
    """RFC 7919 §1 (Logjam): a prime below 2048 bits → insufficient_security."""
    with pytest.raises(PeerIncompatible) as excinfo:
        DheKeyExchange.from_params(MODP_1536, 2, DEFAULT_PROVIDER)
    assert excinfo.value.reason is Incompatibility.WEAK_DH_GROUP
    assert excinfo.value.alert is AlertDescription.INSUFFICIENT_SECURITY


@pytest.mark.parametrize(
    ("p", "g"),
    [
        (P2048, 0),
        (P2048, 1),
        (P2048, P2048 - 1),  # order 2
        (P2048, P2048),
        (P2048, P2048 + 2),
        (CUSTOM_SAFE_PRIME_2048, 1),
        (CUSTOM_SAFE_PRIME_2048, CUSTOM_SAFE_PRIME_2048 - 1),
        (P2048 + 1, 2),  # even
        (P2048 + 2, 2),  # odd, 2048 bits, not prime
        (CUSTOM_SAFE_PRIME_2048 + 4, 2),  # odd, not prime
        ((1 << 8193) + 1, 2),  # too large to spend work on
    ],
    ids=["g0", "g1", "g_p-1", "g_p", "g_above_p", "custom_g1", "custom_g_p-1", "even_p", "composite_p"]
    + ["composite_p2", "huge_p"],
)
def test_bad_parameters_are_illegal_parameter(p: int, g: int) -> None:
    with pytest.raises(PeerMisbehaved) as excinfo:
        DheKeyExchange.from_params(p, g, DEFAULT_PROVIDER)
    _assert_bad_key_share(excinfo)


@pytest.mark.parametrize(
    "peer",
    [b"", b"\x00", b"\x01", (P2048 - 1).to_bytes(256, "big"), P2048.to_bytes(256, "big"),
     (P2048 + 1).to_bytes(257, "big"), b"\xff" * 256, b"\x00" + b"\x02" * 256],
    ids=["empty", "zero", "one", "p-1", "p", "p+1", "all_ff", "too_long"],
)  # fmt: skip
def test_bad_peer_values_are_illegal_parameter(peer: bytes) -> None:
    """RFC 7919 §5.1: the peer's public value MUST satisfy 1 < Y < p-1."""
    for kx in (
        DheKeyExchange.for_group(NamedGroup.FFDHE2048, DEFAULT_PROVIDER),
        DheKeyExchange.from_params(CUSTOM_SAFE_PRIME_2048, 2, DEFAULT_PROVIDER),
    ):
        with pytest.raises(PeerMisbehaved) as excinfo:
            kx.exchange(peer)
        _assert_bad_key_share(excinfo)


@pytest.mark.parametrize(
    ("client_groups", "expected"),
    [
        ((), NamedGroup.FFDHE2048),  # no supported_groups: a pre-RFC 7919 client
        ((NamedGroup.X25519, NamedGroup.SECP256R1), NamedGroup.FFDHE2048),  # no FFDHE entries
        ((NamedGroup.X25519, NamedGroup.FFDHE3072, NamedGroup.FFDHE2048), NamedGroup.FFDHE3072),
        ((NamedGroup.FFDHE8192, NamedGroup.FFDHE4096), NamedGroup.FFDHE4096),
        ((NamedGroup.FFDHE6144, NamedGroup.FFDHE8192), None),  # RFC 7919 §4: MUST NOT select DHE
        ((NamedGroup(0x01FC),), None),  # FFDHE private-use range, unknown to us
    ],
)
def test_group_for_client_follows_rfc7919_section4(
    client_groups: tuple[NamedGroup, ...], expected: NamedGroup | None
) -> None:
    assert dhe_group_for_client(client_groups) is expected
