"""Bleichenbacher / ROBOT resistance of the RSA key exchange, end to end (RFC 5246 §7.4.7.1).

A server with ``legacy_rsa_key_exchange`` receives ClientKeyExchange ciphertexts of every malformed
class.  RFC 5246 §7.4.7.1: the server MUST NOT generate an alert when the premaster secret does not
decrypt or has the wrong version, and MUST go on with a random premaster secret.  So every class
must look exactly like a well-formed ciphertext of the *wrong* premaster secret: the ClientKeyExchange
and the ChangeCipherSpec are accepted without a word, and the handshake fails only at the client's
Finished, with the same exception type, reason and alert bytes, in the same state.

That shared failure is bad_record_mac, not decrypt_error: the client seals its Finished with keys
from its own master secret, the server's keys come from the random premaster, so the Finished
*record* cannot be authenticated before its verify_data could be compared (RFC 5246 §6.2.3.3).
The oracle the attack needs is any difference between the rows; there is none.

The malformed ClientKeyExchange comes from a real client whose ``encrypt_premaster`` is replaced
(the client module imports it at call time), so the client's Finished is computed over exactly
the bytes the server receives.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings, strategies as st

import pki
from handclasp import ClientConfig, ServerConfig
from handclasp.connection import Phase
from handclasp.errors import BadRecordMac, TLSError
from handclasp.events import HandshakeMessage
from handclasp.legacy import rsa_kx
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import AlertDescription, CipherSuite, ContentType, ProtocolVersion
from helpers import ConnectionPair

S = CipherSuite
TLS12 = ProtocolVersion.TLS1_2
SUITES = [S.TLS_RSA_WITH_AES_128_GCM_SHA256, S.TLS_RSA_WITH_AES_256_CBC_SHA256]
CLIENT_VERSION = b"\x03\x03"  # the ClientHello.client_version of a TLS 1.2 client


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        out.append((data[pos], data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    assert pos == len(data)
    return out


def record(content_type: int, payload: bytes) -> bytes:
    return bytes((content_type,)) + b"\x03\x03" + len(payload).to_bytes(2, "big") + payload


# --- ciphertexts ---------------------------------------------------------------------------------


def raw_encrypt(key: rsa.RSAPublicKey, em: bytes) -> bytes:
    """textbook RSA of an encoded message ``em`` (k bytes, < n): lets us write any padding."""
    numbers = key.public_numbers()
    k = (key.key_size + 7) // 8
    assert len(em) == k and int.from_bytes(em, "big") < numbers.n
    return pow(int.from_bytes(em, "big"), numbers.e, numbers.n).to_bytes(k, "big")


def nonzero(n: int) -> bytes:
    return bytes(b % 255 + 1 for b in os.urandom(n))


def pkcs1(k: int, message: bytes, *, first: int = 0, block_type: int = 2, separator: bool = True, ps_len: int | None = None) -> bytes:
    """EM = first || block_type || PS || 0x00 || message, with PS of nonzero bytes (RFC 8017 §7.2.1)."""
    ps_len = k - 3 - len(message) if ps_len is None else ps_len
    em = bytes((first, block_type)) + nonzero(ps_len) + (b"\x00" if separator else b"") + message
    assert len(em) == k, (len(em), k)
    return em


def premaster(version: bytes = CLIENT_VERSION) -> bytes:
    return version + os.urandom(46)


def malformed(key: rsa.RSAPublicKey) -> dict[str, bytes]:
    """One ciphertext per malformed class (the client believes it sent ``premaster()``)."""
    k = (key.key_size + 7) // 8
    n = key.public_numbers().n
    valid = key.encrypt(premaster(), padding.PKCS1v15())
    m48 = premaster()
    return {
        # wrong length (visible on the wire)
        "empty": b"",
        "one-byte-short": valid[:-1],
        "one-byte-long": valid + b"\x00",
        "leading-zero-prepended": b"\x00" + valid,  # same integer, wrong length
        "half-length": valid[: k // 2],
        # not below the modulus
        "equal-to-modulus": n.to_bytes(k, "big"),
        "modulus-plus-one": (n + 1).to_bytes(k, "big"),
        "all-ff": b"\xff" * k,
        # small integers: EM is all zeros but the last byte
        "zero": bytes(k),
        "one": (1).to_bytes(k, "big"),
        # bad PKCS#1 v1.5 padding
        "first-byte-not-zero": raw_encrypt(key, pkcs1(k, m48, first=1)),
        "block-type-0": raw_encrypt(key, pkcs1(k, m48, block_type=0)),
        "block-type-1": raw_encrypt(key, pkcs1(k, m48, block_type=1)),
        "block-type-3": raw_encrypt(key, pkcs1(k, m48, block_type=3)),
        "no-separator": raw_encrypt(key, pkcs1(k, b"", separator=False, ps_len=k - 2)),
        "separator-at-index-2": raw_encrypt(key, pkcs1(k, nonzero(k - 3), ps_len=0)),
        "padding-string-7-bytes": raw_encrypt(key, pkcs1(k, nonzero(k - 10), ps_len=7)),
        "padding-string-7-bytes-48-message": raw_encrypt(key, bytes((0, 2)) + nonzero(7) + b"\x00" + bytes(k - 58) + m48),
        # valid padding, wrong premaster length
        "message-empty": raw_encrypt(key, pkcs1(k, b"")),
        "message-1-byte": raw_encrypt(key, pkcs1(k, b"\x03")),
        "message-47-bytes": raw_encrypt(key, pkcs1(k, m48[:47])),
        "message-49-bytes": raw_encrypt(key, pkcs1(k, m48 + b"\x00")),
        "message-96-bytes": raw_encrypt(key, pkcs1(k, m48 + m48)),
        # valid padding and length, wrong version bytes
        "version-0302": key.encrypt(premaster(b"\x03\x02"), padding.PKCS1v15()),
        "version-0000": key.encrypt(premaster(b"\x00\x00"), padding.PKCS1v15()),
        "version-0304": key.encrypt(premaster(b"\x03\x04"), padding.PKCS1v15()),
        "version-ffff": key.encrypt(premaster(b"\xff\xff"), padding.PKCS1v15()),
        # garbage below the modulus
        "garbage": b"\x00" + os.urandom(k - 1),
        "garbage-high": bytes(((n >> (8 * (k - 1))) - 1,)) + os.urandom(k - 1),
    }


# --- one run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Everything an attacker (or a test) could observe of the server's reaction."""

    error_type: type[TLSError] | None
    reason: object | None
    alert: AlertDescription | None
    state: str
    after_key_exchange: bytes  # what the server sent after ClientKeyExchange
    after_ccs: bytes  # ... after ChangeCipherSpec
    after_finished: bytes  # ... after the Finished record
    received: tuple[str, ...]  # the handshake messages the server took in from the client's flight


@pytest.fixture(scope="module")
def rsa_certified(test_pki: pki.PKI) -> CertifiedKey:
    return test_pki.server("rsa2048")


def _configs(client_config: ClientConfig, rsa_certified: CertifiedKey, suite: CipherSuite) -> tuple[ClientConfig, ServerConfig]:
    client = dataclasses.replace(client_config, versions=(TLS12,), cipher_suites=(suite,), legacy_rsa_key_exchange=True)
    server = ServerConfig(
        certificates=(rsa_certified,), versions=(TLS12,), cipher_suites=(suite,), legacy_rsa_key_exchange=True,
        keylog_filename=None,
    )
    return client, server


def run(
    monkeypatch: pytest.MonkeyPatch,
    client: ClientConfig,
    server: ServerConfig,
    make: Callable[[rsa.RSAPublicKey], tuple[bytes, bytes]],
) -> Outcome:
    """Drive a real client whose ClientKeyExchange carries ``make(server key)`` = (its premaster, ciphertext)."""
    decrypted: list[bytes] = []
    real_decrypt = rsa_kx.decrypt_premaster

    def encrypt_premaster(public_key, client_version, provider):  # type: ignore[no-untyped-def]
        assert client_version == TLS12
        return make(public_key)

    def decrypt_premaster(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_decrypt(*args, **kwargs)
        decrypted.append(result)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(rsa_kx, "encrypt_premaster", encrypt_premaster)
        patch.setattr(rsa_kx, "decrypt_premaster", decrypt_premaster)
        pair = ConnectionPair.make(client, server)
        pair.client_to_server()
        pair.server_to_client()
        records = split_records(pair.client.data_to_send())
        assert [t for t, _ in records] == [ContentType.HANDSHAKE, ContentType.CHANGE_CIPHER_SPEC, ContentType.HANDSHAKE]
        outputs: list[bytes] = []
        received: list[str] = []
        error: TLSError | None = None
        for content_type, payload in records:
            try:
                events = pair.server.receive_bytes(record(content_type, payload))
                received += [type(e.message).__name__ for e in events if isinstance(e, HandshakeMessage) and e.direction.name == "RECEIVED"]
            except TLSError as exc:
                error = exc
            outputs.append(pair.server.data_to_send())
            if error is not None:
                break
    # RFC 5246 §7.4.7.1: the decryption happened once and always produced a 48-byte premaster.
    assert len(decrypted) == 1 and len(decrypted[0]) == 48 and decrypted[0][:2] == CLIENT_VERSION
    if error is None:
        assert pair.server.phase is not Phase.FAILED
    outputs += [b""] * (3 - len(outputs))
    return Outcome(
        error_type=type(error) if error is not None else None,
        reason=getattr(error, "reason", None),
        alert=error.alert if error is not None else None,
        state=type(pair.server._state).__name__,
        after_key_exchange=outputs[0],
        after_ccs=outputs[1],
        after_finished=outputs[2],
        received=tuple(received),
    )


def _well_formed_wrong(key: rsa.RSAPublicKey) -> tuple[bytes, bytes]:
    return premaster(), key.encrypt(premaster(), padding.PKCS1v15())


@pytest.fixture(scope="module", params=SUITES, ids=lambda s: s.name)
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def baseline(
    monkeypatch: pytest.MonkeyPatch, client_config: ClientConfig, rsa_certified: CertifiedKey, suite: CipherSuite
) -> Outcome:
    """The reference: a well-formed ciphertext of a premaster other than the client's."""
    outcome = run(monkeypatch, *_configs(client_config, rsa_certified, suite), _well_formed_wrong)
    # The failure is at the Finished record, and nothing was said before it.
    assert outcome.error_type is BadRecordMac and outcome.alert is AlertDescription.BAD_RECORD_MAC
    assert outcome.state == "ExpectClientFinished12"
    assert outcome.after_key_exchange == outcome.after_ccs == b""
    assert outcome.after_finished == record(ContentType.ALERT, bytes((2, AlertDescription.BAD_RECORD_MAC)))
    assert outcome.received == ("ClientKeyExchange", "ChangeCipherSpec")
    return outcome


def test_the_harness_completes_an_honest_handshake(
    monkeypatch: pytest.MonkeyPatch, client_config: ClientConfig, rsa_certified: CertifiedKey, suite: CipherSuite
) -> None:
    """RFC 5246 §7.4.7.1: with the client's own premaster correctly encrypted the same harness succeeds,
    so the failures below come from the ciphertexts and not from the harness."""

    def honest(key: rsa.RSAPublicKey) -> tuple[bytes, bytes]:
        secret = premaster()
        return secret, key.encrypt(secret, padding.PKCS1v15())

    outcome = run(monkeypatch, *_configs(client_config, rsa_certified, suite), honest)
    assert outcome.error_type is None and outcome.state == "Traffic12"
    assert outcome.received == ("ClientKeyExchange", "ChangeCipherSpec", "Finished")


def test_honest_raw_pkcs1_encoding_completes(
    monkeypatch: pytest.MonkeyPatch, client_config: ClientConfig, rsa_certified: CertifiedKey, suite: CipherSuite
) -> None:
    """RFC 8017 §7.2.1: our hand-made EM = 00 02 PS 00 M is valid PKCS#1 v1.5, so the malformed variants
    below differ from a working ciphertext only in the field each one breaks."""

    def hand_made(key: rsa.RSAPublicKey) -> tuple[bytes, bytes]:
        secret = premaster()
        return secret, raw_encrypt(key, pkcs1((key.key_size + 7) // 8, secret))

    outcome = run(monkeypatch, *_configs(client_config, rsa_certified, suite), hand_made)
    assert outcome.error_type is None and outcome.state == "Traffic12"


CLASSES = [
    "empty", "one-byte-short", "one-byte-long", "leading-zero-prepended", "half-length",
    "equal-to-modulus", "modulus-plus-one", "all-ff", "zero", "one",
    "first-byte-not-zero", "block-type-0", "block-type-1", "block-type-3", "no-separator", "separator-at-index-2",
    "padding-string-7-bytes", "padding-string-7-bytes-48-message",
    "message-empty", "message-1-byte", "message-47-bytes", "message-49-bytes", "message-96-bytes",
    "version-0302", "version-0000", "version-0304", "version-ffff",
    "garbage", "garbage-high",
]


def test_every_class_is_tested(rsa_certified: CertifiedKey) -> None:
    key = rsa_certified.private_key.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert sorted(malformed(key)) == sorted(CLASSES)


@pytest.mark.parametrize("case", CLASSES)
def test_malformed_premaster_is_indistinguishable(
    monkeypatch: pytest.MonkeyPatch,
    client_config: ClientConfig,
    rsa_certified: CertifiedKey,
    suite: CipherSuite,
    baseline: Outcome,
    case: str,
) -> None:
    """RFC 5246 §7.4.7.1: each malformed EncryptedPreMasterSecret class (wrong length, >= modulus, bad padding,
    wrong premaster length, wrong version, garbage) proceeds to the Finished and fails there exactly as a
    well-formed ciphertext of a wrong premaster does: same exception type, reason, alert bytes and state."""
    outcome = run(monkeypatch, *_configs(client_config, rsa_certified, suite), lambda key: (premaster(), malformed(key)[case]))
    assert outcome == baseline


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ciphertext=st.binary(min_size=0, max_size=300))
def test_random_ciphertexts_are_indistinguishable(
    monkeypatch: pytest.MonkeyPatch,
    client_config: ClientConfig,
    rsa_certified: CertifiedKey,
    ciphertext: bytes,
) -> None:
    """RFC 5246 §7.4.7.1: arbitrary bytes in place of the ciphertext never change the server's reaction."""
    configs = _configs(client_config, rsa_certified, SUITES[0])
    reference = run(monkeypatch, *configs, _well_formed_wrong)
    assert run(monkeypatch, *configs, lambda key: (premaster(), ciphertext)) == reference
