"""Key exchange groups for the TLS 1.3 key_share (RFC 8446 §4.2.8, §7.4).

Every group is KEM-shaped: the client generates a key pair and sends its public
value; the server answers with its own public value (or, for ML-KEM, a
ciphertext) and derives the shared secret in one step (``server_key_exchange``).

Post-quantum groups (TLS 1.3 only):
- ML-KEM-768/1024 alone (draft-ietf-tls-mlkem §3): the client share is the
  encapsulation key, the server share the ciphertext, the secret ML-KEM's 32 bytes.
- Hybrids (draft-ietf-tls-ecdhe-mlkem §3, §4): each value is the concatenation
  of an ECDH part and an ML-KEM part. X25519MLKEM768 puts ML-KEM FIRST (in both
  shares and in the shared secret); SecP256r1MLKEM768 and SecP384r1MLKEM1024 put
  the ECDH part first. ``_HYBRIDS`` holds that order, in one place.

Rules of this file:
- Peer values are checked before use and every failure is
  ``PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE)`` (illegal_parameter):
  exact lengths, uncompressed points only (RFC 8446 §4.2.8.2), 1 < Y < p-1 for
  FFDHE (RFC 8446 §4.2.8.1), and no all-zero X25519/X448 result (RFC 8446 §7.4.2).
- Private keys for X25519, X448 and the NIST curves, and ML-KEM seeds, are
  derived from ``provider.random`` so seeded tests replay the client side byte
  for byte. ML-KEM encapsulation (the server side) takes its randomness from
  OpenSSL: cryptography offers no deterministic encapsulation. FFDHE keys come from
  OpenSSL (short exponents for the named groups; a Python ``pow`` would be
  neither constant-time nor fast).
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.utils import CryptographyDeprecationWarning

from handclasp.crypto.provider import CryptoProvider
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.wire.enums import NamedGroup

# cryptography 50 deprecates finite-field DH (the warning fires on attribute access). The RFC 7919
# groups stay supported here, so take the names once, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from cryptography.hazmat.primitives.asymmetric.dh import (
        DHParameterNumbers,
        DHParameters,
        DHPrivateKey,
        DHPublicNumbers,
    )


class KeyExchange(ABC):
    """One side's ephemeral key pair for ``group``."""

    group: NamedGroup
    public_bytes: bytes  # what goes in KeyShareEntry.key_exchange

    @abstractmethod
    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with the peer's key_exchange value.

        Raises PeerMisbehaved(BAD_KEY_SHARE) when the peer value is invalid.
        """


def generate_key_exchange(group: NamedGroup, provider: CryptoProvider) -> KeyExchange:
    """A fresh key pair for ``group`` (the client's key share)."""
    kem = _MLKEM.get(group)
    if kem is not None:
        return _MlkemKeyExchange(group, kem, provider)
    hybrid = _HYBRIDS.get(group)
    if hybrid is not None:
        return _HybridKeyExchange(group, hybrid, provider)
    if group == NamedGroup.X25519:
        return _X25519KeyExchange(provider)
    if group == NamedGroup.X448:
        return _X448KeyExchange(provider)
    curve = _CURVES.get(group)
    if curve is not None:
        return _EcdhKeyExchange(group, curve, provider)
    prime = _FFDHE_PRIMES.get(group)
    if prime is not None:
        return _FfdheKeyExchange(group, prime)
    raise ValueError(f"unsupported key exchange group {group.name}")


def server_key_exchange(
    group: NamedGroup, client_public: bytes, provider: CryptoProvider
) -> tuple[bytes, bytes]:
    """The server's key_exchange value and the shared secret for the client's share.

    For ML-KEM groups the server's value is a ciphertext (encapsulation), for hybrids
    the ECDH public value and the ciphertext in the group's order.
    """
    kem = _MLKEM.get(group)
    if kem is not None:
        ciphertext, shared = _encapsulate(group, kem, client_public)
        return ciphertext, shared
    hybrid = _HYBRIDS.get(group)
    if hybrid is not None:
        return _hybrid_server(group, hybrid, client_public, provider)
    kx = generate_key_exchange(group, provider)
    shared = kx.exchange(client_public)
    return kx.public_bytes, shared


class _X25519KeyExchange(KeyExchange):
    """RFC 7748 X25519; 32-byte values (RFC 8446 §4.2.8.2)."""

    __slots__ = ("group", "public_bytes", "_private")

    def __init__(self, provider: CryptoProvider) -> None:
        self.group = NamedGroup.X25519
        self._private = x25519.X25519PrivateKey.from_private_bytes(provider.random(32))
        self.public_bytes = self._private.public_key().public_bytes_raw()

    def exchange(self, peer_public: bytes) -> bytes:
        if len(peer_public) != 32:
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "X25519 share is not 32 bytes")
        try:
            shared = self._private.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:  # OpenSSL refuses an all-zero result (small-order point)
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "X25519 small-order point") from None
        return _reject_all_zero(shared)


class _X448KeyExchange(KeyExchange):
    """RFC 7748 X448; 56-byte values (RFC 8446 §4.2.8.2)."""

    __slots__ = ("group", "public_bytes", "_private")

    def __init__(self, provider: CryptoProvider) -> None:
        self.group = NamedGroup.X448
        self._private = x448.X448PrivateKey.from_private_bytes(provider.random(56))
        self.public_bytes = self._private.public_key().public_bytes_raw()

    def exchange(self, peer_public: bytes) -> bytes:
        if len(peer_public) != 56:
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "X448 share is not 56 bytes")
        try:
            shared = self._private.exchange(x448.X448PublicKey.from_public_bytes(peer_public))
        except ValueError:
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "X448 small-order point") from None
        return _reject_all_zero(shared)


class _EcdhKeyExchange(KeyExchange):
    """ECDHE over a NIST curve; the shared secret is the x coordinate (RFC 8446 §7.4.2)."""

    __slots__ = ("group", "public_bytes", "_private", "_curve", "_point_len")

    def __init__(self, group: NamedGroup, curve: ec.EllipticCurve, provider: CryptoProvider) -> None:
        self.group = group
        self._curve = curve
        order = _CURVE_ORDERS[group]
        # 64 extra random bits make the reduction bias negligible (FIPS 186-5 A.4.1 style).
        scalar = int.from_bytes(provider.random((order.bit_length() + 7) // 8 + 8), "big") % (order - 1) + 1
        self._private = ec.derive_private_key(scalar, curve)
        self.public_bytes = self._private.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        self._point_len = len(self.public_bytes)

    def exchange(self, peer_public: bytes) -> bytes:
        # RFC 8446 §4.2.8.2: UncompressedPointRepresentation only (legacy_form = 4).
        if len(peer_public) != self._point_len or peer_public[0] != 4:
            raise PeerMisbehaved(
                Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} share is not an uncompressed point"
            )
        try:
            # from_encoded_point checks the point is on the curve.
            peer = ec.EllipticCurvePublicKey.from_encoded_point(self._curve, peer_public)
            return self._private.exchange(ec.ECDH(), peer)
        except ValueError:
            raise PeerMisbehaved(
                Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} point not on curve"
            ) from None


class _FfdheKeyExchange(KeyExchange):
    """RFC 7919 finite-field DH with generator 2; values are len(p) bytes (RFC 8446 §4.2.8.1)."""

    __slots__ = ("group", "public_bytes", "_private", "_prime", "_size")

    def __init__(self, group: NamedGroup, prime: int) -> None:
        self.group = group
        self._prime = prime
        self._size = (prime.bit_length() + 7) // 8
        self._private: DHPrivateKey = _ffdhe_parameters(group).generate_private_key()
        y = self._private.public_key().public_numbers().y
        self.public_bytes = y.to_bytes(self._size, "big")

    def exchange(self, peer_public: bytes) -> bytes:
        p = self._prime
        if len(peer_public) != self._size:
            raise PeerMisbehaved(
                Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} share is not {self._size} bytes"
            )
        y = int.from_bytes(peer_public, "big")
        if not 1 < y < p - 1:  # RFC 8446 §4.2.8.1, NIST SP 800-56A 5.6.2.3.1
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} value out of range")
        try:
            peer = DHPublicNumbers(y, _ffdhe_parameters(self.group).parameter_numbers()).public_key()
            shared = self._private.exchange(peer)
        except (ValueError, UnsupportedAlgorithm):
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} value rejected") from None
        # RFC 8446 §7.4.1: the shared secret keeps its leading zeros (left-padded to len(p)).
        return shared.rjust(self._size, b"\x00")


def default_key_share_groups(groups: Sequence[NamedGroup]) -> tuple[NamedGroup, ...]:
    """Which groups get a share in the first ClientHello when the config does not say.

    The first group; when that is X25519MLKEM768 and X25519 is also configured, an
    X25519 share too, so a classical-only server needs no HelloRetryRequest
    (draft-ietf-tls-ecdhe-mlkem §5, as browsers and Go do).
    """
    first = tuple(groups[:1])
    if first == (NamedGroup.X25519MLKEM768,) and NamedGroup.X25519 in groups:
        return (NamedGroup.X25519MLKEM768, NamedGroup.X25519)
    return first


def is_post_quantum(group: NamedGroup) -> bool:
    """ML-KEM alone or an ECDHE-MLKEM hybrid: TLS 1.3 key_share only, never TLS 1.2 ECDHE."""
    return group in _MLKEM or group in _HYBRIDS


@dataclass(frozen=True, slots=True)
class _Kem:
    """One ML-KEM parameter set (FIPS 203 Table 3 sizes)."""

    private_key: type[mlkem.MLKEM768PrivateKey] | type[mlkem.MLKEM1024PrivateKey]
    public_key: type[mlkem.MLKEM768PublicKey] | type[mlkem.MLKEM1024PublicKey]
    encapsulation_key_len: int
    ciphertext_len: int


@dataclass(frozen=True, slots=True)
class _Hybrid:
    """An ECDHE-MLKEM hybrid: its ECDH group, its ML-KEM, and which part comes first."""

    ecdh_group: NamedGroup
    ecdh_len: int  # X25519: 32; P-256/P-384: uncompressed point, 65/97
    kem: _Kem
    kem_first: bool  # draft-ietf-tls-ecdhe-mlkem §4.1: True only for X25519MLKEM768

    def join(self, ecdh_part: bytes, kem_part: bytes) -> bytes:
        return kem_part + ecdh_part if self.kem_first else ecdh_part + kem_part

    def split(self, value: bytes, kem_len: int) -> tuple[bytes, bytes]:
        """(ecdh part, kem part) of a share; the caller has checked the total length."""
        if self.kem_first:
            return value[kem_len:], value[:kem_len]
        return value[: self.ecdh_len], value[self.ecdh_len :]


class _MlkemKeyExchange(KeyExchange):
    """ML-KEM alone (draft-ietf-tls-mlkem §3): encapsulation key out, ciphertext in."""

    __slots__ = ("group", "public_bytes", "_private", "_kem")

    def __init__(self, group: NamedGroup, kem: _Kem, provider: CryptoProvider) -> None:
        self.group = group
        self._kem = kem
        # FIPS 203 §7.1: the 64-byte seed d || z determines the key pair.
        self._private = kem.private_key.from_seed_bytes(provider.random(_MLKEM_SEED_LEN))
        self.public_bytes = self._private.public_key().public_bytes_raw()

    def exchange(self, peer_public: bytes) -> bytes:
        # draft-ietf-tls-mlkem §3: a ciphertext of the wrong length is illegal_parameter.
        if len(peer_public) != self._kem.ciphertext_len:
            raise PeerMisbehaved(
                Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} ciphertext is not {self._kem.ciphertext_len} bytes"
            )
        return _decapsulate(self._private, peer_public, self.group)


class _HybridKeyExchange(KeyExchange):
    """ECDHE-MLKEM hybrid, client side (draft-ietf-tls-ecdhe-mlkem §4.1, §4.2)."""

    __slots__ = ("group", "public_bytes", "_hybrid", "_ecdh", "_private")

    def __init__(self, group: NamedGroup, hybrid: _Hybrid, provider: CryptoProvider) -> None:
        self.group = group
        self._hybrid = hybrid
        self._private = hybrid.kem.private_key.from_seed_bytes(provider.random(_MLKEM_SEED_LEN))
        self._ecdh = generate_key_exchange(hybrid.ecdh_group, provider)
        self.public_bytes = hybrid.join(self._ecdh.public_bytes, self._private.public_key().public_bytes_raw())

    def exchange(self, peer_public: bytes) -> bytes:
        hybrid = self._hybrid
        # draft-ietf-tls-ecdhe-mlkem §4.2: the server share is ECDH value + ML-KEM ciphertext.
        if len(peer_public) != hybrid.ecdh_len + hybrid.kem.ciphertext_len:
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, f"{self.group.name} server share length")
        ecdh_part, ciphertext = hybrid.split(peer_public, hybrid.kem.ciphertext_len)
        ecdh_secret = self._ecdh.exchange(ecdh_part)  # validates the point (BAD_KEY_SHARE)
        return hybrid.join(ecdh_secret, _decapsulate(self._private, ciphertext, self.group))


def _hybrid_server(
    group: NamedGroup, hybrid: _Hybrid, client_public: bytes, provider: CryptoProvider
) -> tuple[bytes, bytes]:
    # draft-ietf-tls-ecdhe-mlkem §4.1: the client share is ECDH value + encapsulation key.
    if len(client_public) != hybrid.ecdh_len + hybrid.kem.encapsulation_key_len:
        raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, f"{group.name} client share length")
    ecdh_part, encapsulation_key = hybrid.split(client_public, hybrid.kem.encapsulation_key_len)
    ecdh = generate_key_exchange(hybrid.ecdh_group, provider)
    ecdh_secret = ecdh.exchange(ecdh_part)
    ciphertext, kem_secret = _encapsulate(group, hybrid.kem, encapsulation_key)
    return hybrid.join(ecdh.public_bytes, ciphertext), hybrid.join(ecdh_secret, kem_secret)


def _encapsulate(group: NamedGroup, kem: _Kem, encapsulation_key: bytes) -> tuple[bytes, bytes]:
    """(ciphertext, shared secret). The key must pass FIPS 203 §7.2's modulus check."""
    if len(encapsulation_key) != kem.encapsulation_key_len:
        raise PeerMisbehaved(
            Misbehaviour.BAD_KEY_SHARE, f"{group.name} key is not {kem.encapsulation_key_len} bytes"
        )
    try:
        public = kem.public_key.from_public_bytes(encapsulation_key)
    except ValueError:  # draft-ietf-tls-mlkem §3: an invalid encapsulation key is illegal_parameter
        raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, f"{group.name} encapsulation key invalid") from None
    shared, ciphertext = public.encapsulate()
    return ciphertext, shared


def _decapsulate(
    private: mlkem.MLKEM768PrivateKey | mlkem.MLKEM1024PrivateKey, ciphertext: bytes, group: NamedGroup
) -> bytes:
    try:
        # FIPS 203 decapsulation never fails on a well-sized ciphertext (implicit rejection:
        # a tampered one yields an unrelated secret and the handshake fails at Finished).
        return private.decapsulate(ciphertext)
    except ValueError:
        raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, f"{group.name} ciphertext rejected") from None


class DheKeyExchange(KeyExchange):
    """TLS 1.2 DHE with server-chosen parameters (RFC 5246 §7.4.3, §8.1.2; RFC 7919).

    The client builds one from the ServerKeyExchange's (dh_p, dh_g) with
    ``from_params``, which validates them; the server builds one for an RFC 7919
    group with ``for_group``. ``public_bytes`` is Y as a minimal-length big-endian
    integer (dh_Ys / dh_Yc, RFC 5246 §7.4.3, §7.4.7.2), and ``exchange`` returns
    the shared secret with leading zero bytes stripped (RFC 5246 §8.1.2), unlike
    TLS 1.3's left-padded FFDHE secret. Stripping leaks the number of leading zeros
    through the PRF's timing (the Raccoon attack); that is inherent to TLS 1.2 DHE,
    and one more reason ECDHE comes first.

    ``group`` is the RFC 7919 group when (p, g) is one of them, else the
    placeholder ``UNNAMED_DH_GROUP`` (the wire does not name custom groups);
    ``named_group`` is the same with None for custom parameters. Private keys come
    from OpenSSL (as for the TLS 1.3 FFDHE groups), not from the provider.
    """

    __slots__ = ("group", "public_bytes", "named_group", "p", "g", "_private", "_parameter_numbers")

    def __init__(self, parameters: DHParameters, named_group: NamedGroup | None) -> None:
        self._parameter_numbers = parameters.parameter_numbers()
        self.p = self._parameter_numbers.p
        self.g = self._parameter_numbers.g
        self.named_group = named_group
        self.group = named_group if named_group is not None else UNNAMED_DH_GROUP
        self._private: DHPrivateKey = parameters.generate_private_key()
        y = self._private.public_key().public_numbers().y
        self.public_bytes = y.to_bytes((y.bit_length() + 7) // 8, "big")

    @classmethod
    def from_params(cls, p: int, g: int, provider: CryptoProvider) -> DheKeyExchange:
        """Validate the server's (dh_p, dh_g) and make the client's key pair.

        Raises PeerIncompatible(WEAK_DH_GROUP) (insufficient_security) for p below
        2048 bits, and PeerMisbehaved(BAD_KEY_SHARE) (illegal_parameter) for
        parameters that are not a usable group.
        """
        del provider  # keys come from OpenSSL; the parameter keeps the KeyExchange shape
        named = _named_ffdhe_group(p, g)
        if named is not None:
            return cls(_ffdhe_parameters(named), named)
        if p.bit_length() < _DHE_MIN_PRIME_BITS:  # RFC 7919 §1 (Logjam); NIST SP 800-131A
            raise PeerIncompatible(Incompatibility.WEAK_DH_GROUP, f"{p.bit_length()}-bit prime")
        if p.bit_length() > _DHE_MAX_PRIME_BITS or p % 2 == 0:
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "DH prime size or parity")
        if not 1 < g < p - 1:  # RFC 7919 §3 / NIST SP 800-56A: g outside (1, p-1)
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "DH generator out of range")
        return cls(_checked_dh_parameters(p, g), None)

    @classmethod
    def for_group(cls, group: NamedGroup, provider: CryptoProvider) -> DheKeyExchange:
        """The server's key pair in an RFC 7919 group (see ``dhe_group_for_client``)."""
        return cls.from_params(*dhe_params_for_group(group), provider)

    def exchange(self, peer_public: bytes) -> bytes:
        """Z with leading zeros stripped (RFC 5246 §8.1.2); PeerMisbehaved(BAD_KEY_SHARE) for a bad Y."""
        p = self.p
        if not 0 < len(peer_public) <= (p.bit_length() + 7) // 8:
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "DH public value length")
        y = int.from_bytes(peer_public, "big")
        if not 1 < y < p - 1:  # RFC 7919 §5.1: the peer's Y MUST be in (1, p-1)
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "DH public value out of range")
        try:
            peer = DHPublicNumbers(y, self._parameter_numbers).public_key()
            shared = self._private.exchange(peer)
        except (ValueError, UnsupportedAlgorithm):
            raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "DH public value rejected") from None
        return shared.lstrip(b"\x00")  # RFC 5246 §8.1.2: leading zero bytes are stripped


def dhe_params_for_group(group: NamedGroup) -> tuple[int, int]:
    """(p, g) of an RFC 7919 group (Appendix A) for the TLS 1.2 ServerKeyExchange."""
    prime = _FFDHE_PRIMES.get(group)
    if prime is None:
        raise ValueError(f"no DHE parameters for {group.name}")
    return prime, 2


def dhe_group_for_client(client_groups: Sequence[NamedGroup]) -> NamedGroup | None:
    """The server's DHE group for a TLS 1.2 ClientHello's supported_groups (RFC 7919 §4).

    The first FFDHE group the client lists that we support; ffdhe2048 when the
    client lists no FFDHE group at all (a pre-RFC 7919 client); None when it lists
    FFDHE groups but none we support: then the server MUST NOT select a DHE suite.
    """
    ffdhe = [group for group in client_groups if _FFDHE_RANGE_START <= group <= _FFDHE_RANGE_END]
    if not ffdhe:
        return NamedGroup.FFDHE2048
    for group in ffdhe:
        if group in _FFDHE_PRIMES:
            return group
    return None


def _checked_dh_parameters(p: int, g: int) -> DHParameters:
    # OpenSSL's DH_check (p a safe prime, g a suitable generator) costs about 0.35 s for 2048 bits,
    # so the few parameter sets a client meets are remembered once they pass.
    parameters = _CUSTOM_DH_PARAMETERS.get((p, g))
    if parameters is not None:
        return parameters
    try:
        parameters = DHParameterNumbers(p, g).parameters()
    except (ValueError, UnsupportedAlgorithm):
        raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "DH parameters rejected") from None
    if len(_CUSTOM_DH_PARAMETERS) >= _CUSTOM_DH_CACHE_SIZE:
        _CUSTOM_DH_PARAMETERS.pop(next(iter(_CUSTOM_DH_PARAMETERS)), None)  # oldest first
    _CUSTOM_DH_PARAMETERS[(p, g)] = parameters
    return parameters


def _named_ffdhe_group(p: int, g: int) -> NamedGroup | None:
    if g != 2:
        return None
    for group, prime in _FFDHE_PRIMES.items():
        if prime == p:
            return group
    return None


def _reject_all_zero(shared: bytes) -> bytes:
    # RFC 8446 §7.4.2: an all-zero X25519/X448 result MUST be rejected. OpenSSL already refuses
    # it; this check stays in case a backend does not. The comparison reveals only "all zero".
    if not any(shared):
        raise PeerMisbehaved(Misbehaviour.BAD_KEY_SHARE, "all-zero shared secret")
    return shared


def _ffdhe_parameters(group: NamedGroup) -> DHParameters:
    params = _FFDHE_PARAMETERS.get(group)
    if params is None:
        params = DHParameterNumbers(_FFDHE_PRIMES[group], 2).parameters()
        _FFDHE_PARAMETERS[group] = params
    return params


SUPPORTED_GROUPS: tuple[NamedGroup, ...] = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.SECP256R1MLKEM768,
    NamedGroup.SECP384R1MLKEM1024,
    NamedGroup.X25519,
    NamedGroup.SECP256R1,
    NamedGroup.X448,
    NamedGroup.SECP384R1,
    NamedGroup.SECP521R1,
    NamedGroup.FFDHE2048,
    NamedGroup.FFDHE3072,
    NamedGroup.FFDHE4096,
    NamedGroup.MLKEM768,
    NamedGroup.MLKEM1024,
)
# Issue #4: X25519MLKEM768 first, the hybrids ahead of the classical groups (a server that has both a
# hybrid and a classical share picks the hybrid). Pure ML-KEM (no classical half) is supported but
# opt-in, as in Go and OpenSSL.
DEFAULT_GROUPS: tuple[NamedGroup, ...] = SUPPORTED_GROUPS[:11]

_MLKEM_SEED_LEN = 64  # FIPS 203 §7.1: d || z
_MLKEM768 = _Kem(mlkem.MLKEM768PrivateKey, mlkem.MLKEM768PublicKey, 1184, 1088)
_MLKEM1024 = _Kem(mlkem.MLKEM1024PrivateKey, mlkem.MLKEM1024PublicKey, 1568, 1568)
_MLKEM: dict[NamedGroup, _Kem] = {NamedGroup.MLKEM768: _MLKEM768, NamedGroup.MLKEM1024: _MLKEM1024}
# draft-ietf-tls-ecdhe-mlkem §4.1: only X25519MLKEM768 puts the ML-KEM part first.
_HYBRIDS: dict[NamedGroup, _Hybrid] = {
    NamedGroup.X25519MLKEM768: _Hybrid(NamedGroup.X25519, 32, _MLKEM768, kem_first=True),
    NamedGroup.SECP256R1MLKEM768: _Hybrid(NamedGroup.SECP256R1, 65, _MLKEM768, kem_first=False),
    NamedGroup.SECP384R1MLKEM1024: _Hybrid(NamedGroup.SECP384R1, 97, _MLKEM1024, kem_first=False),
}

_CURVES: dict[NamedGroup, ec.EllipticCurve] = {
    NamedGroup.SECP256R1: ec.SECP256R1(),
    NamedGroup.SECP384R1: ec.SECP384R1(),
    NamedGroup.SECP521R1: ec.SECP521R1(),
}
# The orders n of the base points (SEC 2 v2 §2.4.2, §2.5.1, §2.6.1).
_CURVE_ORDERS: dict[NamedGroup, int] = {
    NamedGroup.SECP256R1: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    NamedGroup.SECP384R1: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
    NamedGroup.SECP521R1: int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D"
        "03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}

# RFC 7919 Appendix A.1-A.3 primes (generator 2). Each is
# p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1 with X = 560316, 2625351, 5736041;
# tests/crypto/test_groups.py re-derives them from e and checks they are safe primes.
_FFDHE2048_P = int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
    "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
    "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
    "886B423861285C97FFFFFFFFFFFFFFFF",
    16,
)
_FFDHE3072_P = int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
    "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
    "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
    "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
    "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
    "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B66C62E37FFFFFFFFFFFFFFFF",
    16,
)
_FFDHE4096_P = int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
    "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
    "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
    "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
    "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
    "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B669E1EF16E6F52C3164DF4FB"
    "7930E9E4E58857B6AC7D5F42D69F6D187763CF1D5503400487F55BA57E31CC7A7135C886EFB4318AED6A1E012D9E6832"
    "A907600A918130C46DC778F971AD0038092999A333CB8B7A1A1DB93D7140003C2A4ECEA9F98D0ACC0A8291CDCEC97DCF"
    "8EC9B55A7F88A46B4DB5A851F44182E1C68A007E5E655F6AFFFFFFFFFFFFFFFF",
    16,
)
_FFDHE_PRIMES: dict[NamedGroup, int] = {
    NamedGroup.FFDHE2048: _FFDHE2048_P,
    NamedGroup.FFDHE3072: _FFDHE3072_P,
    NamedGroup.FFDHE4096: _FFDHE4096_P,
}
_FFDHE_PARAMETERS: dict[NamedGroup, DHParameters] = {}

# TLS 1.2 DHE with server-chosen parameters (DheKeyExchange).
UNNAMED_DH_GROUP = NamedGroup(0x0000)  # placeholder ``group`` for custom (p, g); not on the wire
_DHE_MIN_PRIME_BITS = 2048
_DHE_MAX_PRIME_BITS = 8192  # OpenSSL itself refuses above 10000; bounds the client's work
_FFDHE_RANGE_START = 0x0100  # RFC 7919 §2: FFDHE code points are 256-511
_FFDHE_RANGE_END = 0x01FF
_CUSTOM_DH_CACHE_SIZE = 16
_CUSTOM_DH_PARAMETERS: dict[tuple[int, int], DHParameters] = {}  # validated (p, g), insertion order
