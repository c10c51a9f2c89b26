"""RSA key exchange (RFC 5246 §7.4.7.1): round trip and the Bleichenbacher countermeasure."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from handclasp.legacy.rsa_kx import PREMASTER_LENGTH, decrypt_premaster, encrypt_premaster
from handclasp.wire.enums import ProtocolVersion

TLS12 = ProtocolVersion.TLS1_2


class RecordingProvider:
    def __init__(self, seed: int = 3) -> None:
        self._rng = random.Random(seed)
        self.requests: list[int] = []
        self.drawn: list[bytes] = []

    def random(self, n: int) -> bytes:
        self.requests.append(n)
        out = self._rng.randbytes(n)
        self.drawn.append(out)
        return out

    def now(self) -> float:
        return 0.0


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "version", [ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_1, TLS12], ids=lambda v: v.name
)
def test_round_trip(key: rsa.RSAPrivateKey, version: ProtocolVersion) -> None:
    provider = RecordingProvider()
    premaster, ciphertext = encrypt_premaster(key.public_key(), version, provider)
    assert len(premaster) == PREMASTER_LENGTH == 48
    assert premaster[:2] == int(version).to_bytes(2, "big")  # RFC 5246 §7.4.7.1: client_version first
    assert premaster[2:] == provider.drawn[0] and provider.requests == [46]
    assert len(ciphertext) == 256
    assert key.decrypt(ciphertext, padding.PKCS1v15()) == premaster  # plain PKCS#1 v1.5
    assert decrypt_premaster(key, ciphertext, version, RecordingProvider(9)) == premaster


# --- malformed ClientKeyExchange classes (Bleichenbacher / ROBOT / Marvin)
#
# Most malformed paddings cannot be made through a PKCS#1 v1.5 API, so the test encrypts crafted
# encoded messages with textbook RSA (pow with the public numbers). That is test scaffolding for
# producing bad input; the code under test only ever uses cryptography's RSA.


def _raw_encrypt(key: rsa.RSAPrivateKey, encoded: bytes) -> bytes:
    numbers = key.public_key().public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    assert len(encoded) == k
    return pow(int.from_bytes(encoded, "big"), numbers.e, numbers.n).to_bytes(k, "big")


def _encoded(message: bytes, *, k: int = 256, block_type: int = 2, separator_at: int | None = None) -> bytes:
    """0x00 || block_type || nonzero padding || 0x00 || message (the separator can be moved or dropped)."""
    filler = bytes(random.Random(len(message) * 7 + block_type).randrange(1, 256) for _ in range(k))
    body = filler[: k - 3 - len(message)] + b"\x00" + message
    encoded = bytearray(b"\x00" + bytes((block_type,)) + body)
    if separator_at is not None:
        encoded[len(encoded) - len(message) - 1] = 0x5A  # remove the real separator
        if separator_at >= 0:
            encoded[separator_at] = 0
    return bytes(encoded)


def _good_premaster(version: int = 0x0303) -> bytes:
    return version.to_bytes(2, "big") + bytes(range(46))


CipherFactory = Callable[[rsa.RSAPrivateKey], bytes]

# Classes whose result must be exactly client_version || R (no implicit-rejection message is involved).
PUBLIC_FAILURES: dict[str, CipherFactory] = {
    "empty": lambda key: b"",
    "one_byte_short": lambda key: bytes(255),
    "one_byte_long": lambda key: bytes(257),
    "double_length": lambda key: bytes(512),
    "not_below_modulus": lambda key: b"\xff" * 256,
    "valid_padding_47_byte_message": lambda key: key.public_key().encrypt(bytes(47), padding.PKCS1v15()),
    "valid_padding_49_byte_message": lambda key: key.public_key().encrypt(bytes(49), padding.PKCS1v15()),
    "valid_padding_empty_message": lambda key: key.public_key().encrypt(b"", padding.PKCS1v15()),
    # a correct encoding whose separator sits early: a valid 155-byte message, so length != 48
    "valid_padding_155_byte_message": lambda key: _raw_encrypt(
        key, _encoded(_good_premaster(), separator_at=100)
    ),
}
# Classes with a wrong PKCS#1 encoding: OpenSSL's implicit rejection returns a synthetic message,
# so the result is 48 bytes with the client version, from R or (rarely) from the synthetic message.
PADDING_FAILURES: dict[str, CipherFactory] = {
    "random_below_modulus": lambda key: b"\x00" + random.Random(5).randbytes(255),
    "all_zero": lambda key: bytes(256),
    "block_type_1": lambda key: _raw_encrypt(key, _encoded(_good_premaster(), block_type=1)),
    "block_type_0": lambda key: _raw_encrypt(key, _encoded(_good_premaster(), block_type=0)),
    "first_byte_nonzero": lambda key: _raw_encrypt(key, b"\x01" + _encoded(_good_premaster())[1:]),
    "no_separator": lambda key: _raw_encrypt(key, _encoded(_good_premaster(), separator_at=-1)),
    "separator_in_first_8_padding_bytes": lambda key: _raw_encrypt(
        key, _encoded(_good_premaster(), separator_at=5)
    ),
}


@pytest.mark.parametrize("factory", list(PUBLIC_FAILURES.values()), ids=list(PUBLIC_FAILURES))
def test_public_failures_yield_version_and_the_random_r(
    key: rsa.RSAPrivateKey, factory: CipherFactory
) -> None:
    """RFC 5246 §7.4.7.1: bad padding or length != 48 → ClientHello.client_version || R, no error."""
    provider = RecordingProvider()
    result = decrypt_premaster(key, factory(key), TLS12, provider)
    assert provider.requests == [46]  # R is drawn even when nothing can be decrypted
    assert result == b"\x03\x03" + provider.drawn[0]


@pytest.mark.parametrize("factory", list(PADDING_FAILURES.values()), ids=list(PADDING_FAILURES))
def test_padding_failures_never_raise_and_keep_the_shape(
    key: rsa.RSAPrivateKey, factory: CipherFactory
) -> None:
    provider = RecordingProvider()
    result = decrypt_premaster(key, factory(key), TLS12, provider)
    assert type(result) is bytes and len(result) == 48 and result[:2] == b"\x03\x03"
    assert provider.requests == [46]
    assert result[2:] != bytes(range(46))  # the crafted premaster never leaks through


def test_wrong_version_inside_is_replaced_by_client_version(key: rsa.RSAPrivateKey) -> None:
    """RFC 5246 §7.4.7.1: pre_master_secret = ClientHello.client_version || M[2..47], whatever M's version."""
    inner = _good_premaster(0x0301)
    ciphertext = key.public_key().encrypt(inner, padding.PKCS1v15())
    result = decrypt_premaster(key, ciphertext, TLS12, RecordingProvider())
    assert result == b"\x03\x03" + inner[2:]
    assert result != inner  # so the client (who used 0x0301) ends with a different secret: Finished fails


def test_crafted_valid_encoding_is_accepted(key: rsa.RSAPrivateKey) -> None:
    """Control for the crafted classes above: the same crafting with a correct encoding decrypts."""
    ciphertext = _raw_encrypt(key, _encoded(_good_premaster()))
    assert decrypt_premaster(key, ciphertext, TLS12, RecordingProvider()) == _good_premaster()


def _wrong_version(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().encrypt(_good_premaster(0x0300), padding.PKCS1v15())


def test_every_malformed_class_has_the_same_observable_shape(key: rsa.RSAPrivateKey) -> None:
    """Bleichenbacher table: no class raises, and all give (bytes, 48, client_version prefix)."""
    classes: dict[str, CipherFactory] = {
        **PUBLIC_FAILURES,
        **PADDING_FAILURES,
        "wrong_version": _wrong_version,
    }
    shapes = set()
    for factory in classes.values():
        provider = RecordingProvider()
        result = decrypt_premaster(key, factory(key), TLS12, provider)
        shapes.add((type(result), len(result), result[:2], tuple(provider.requests)))
    assert shapes == {(bytes, 48, b"\x03\x03", (46,))}
