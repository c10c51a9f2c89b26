"""TLS 1.2 record protection (RFC 5246 §6.2.3.3, RFC 5288 §3, RFC 7905 §2) and its dispatcher.

The AEAD framing is checked against an independent construction: the nonce and the
additional data are rebuilt here byte by byte from the RFC text and fed to
``cryptography``'s AEADs directly, so a wrong nonce layout, AAD field or sequence
number shows up as a failed decryption, not as a matching mistake on both sides.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from hypothesis import given, settings, strategies as st

from handclasp.crypto.prf12 import key_block
from handclasp.crypto.suites12 import TLS12_SUITES, Suite12
from handclasp.errors import BadRecordMac, InternalError
from handclasp.record.protection12 import (
    AesGcmProtection12,
    ChaCha20Poly1305Protection12,
    Protection12,
    make_protection12,
)
from handclasp.wire.enums import CipherSuite, ContentType, ProtocolVersion
from helpers import DeterministicProvider

AEAD_SUITES = [s for s in TLS12_SUITES.values() if s.is_aead]
AEAD_IDS = [s.suite.name for s in AEAD_SUITES]
CLIENT_RANDOM = bytes(range(32))
SERVER_RANDOM = bytes(range(32, 64))
MASTER = bytes(range(100, 148))
V12 = 0x0303
APP = ContentType.APPLICATION_DATA


def _pair(
    suite: Suite12, version: ProtocolVersion = ProtocolVersion.TLS1_2, *, etm: bool = False
) -> tuple[Protection12, Protection12, bytes, bytes, bytes]:
    """(writer, reader, key, iv, mac_key) for the client-to-server direction."""
    block = key_block(suite, MASTER, CLIENT_RANDOM, SERVER_RANDOM, version=version)
    args = (suite, version, block.client_key, block.client_iv, block.client_mac_key)
    provider = DeterministicProvider(7)
    writer = make_protection12(*args, encrypt_then_mac=etm, provider=provider)
    reader = make_protection12(*args, encrypt_then_mac=etm, provider=provider)
    return writer, reader, block.client_key, block.client_iv, block.client_mac_key


def _aad(seq: int, content_type: int, version: int, length: int) -> bytes:
    """RFC 5246 §6.2.3.3: seq_num + TLSCompressed.type + .version + .length."""
    return (
        seq.to_bytes(8, "big")
        + bytes([content_type])
        + version.to_bytes(2, "big")
        + length.to_bytes(2, "big")
    )


@pytest.mark.parametrize("suite", AEAD_SUITES, ids=AEAD_IDS)
def test_aead_round_trip_several_records(suite: Suite12) -> None:
    writer, reader, _, _, _ = _pair(suite)
    payloads = [b"", b"x", bytes(range(256)) * 64, b"\x00" * 16384]
    types_ = [APP, ContentType.HANDSHAKE, ContentType.ALERT, APP]
    for content_type, payload in zip(types_, payloads, strict=True):
        body = writer.seal(content_type, V12, payload)
        assert len(body) == len(payload) + writer.max_overhead
        assert reader.open(content_type, V12, body) == payload


@settings(max_examples=40, deadline=None)
@given(
    suite=st.sampled_from(AEAD_SUITES),
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    content_type=st.sampled_from([ContentType.HANDSHAKE, ContentType.ALERT, APP]),
)
def test_aead_round_trip_any_payload(
    suite: Suite12, payloads: list[bytes], content_type: ContentType
) -> None:
    writer, reader, _, _, _ = _pair(suite)
    for payload in payloads:
        assert reader.open(content_type, V12, writer.seal(content_type, V12, payload)) == payload


@pytest.mark.parametrize("suite", AEAD_SUITES, ids=AEAD_IDS)
def test_aead_accepts_memoryview_payload_and_body(suite: Suite12) -> None:
    writer, reader, _, _, _ = _pair(suite)
    data = bytearray(b"0123456789" * 100)
    body = writer.seal(APP, V12, memoryview(data)[10:510])
    framed = b"hdr.." + body + b"trailing"
    assert reader.open(APP, V12, memoryview(framed)[5 : 5 + len(body)]) == bytes(data[10:510])


GCM_SUITES = [s for s in AEAD_SUITES if s.fixed_iv_len == 4]
CHACHA_SUITES = [s for s in AEAD_SUITES if s.fixed_iv_len == 12]


@pytest.mark.parametrize("suite", GCM_SUITES, ids=[s.suite.name for s in GCM_SUITES])
def test_gcm_explicit_nonce_is_the_sequence_number(suite: Suite12) -> None:
    """RFC 5288 §3: nonce = salt(4) || nonce_explicit(8), nonce_explicit sent first; here it is seq."""
    writer, _, key, salt, _ = _pair(suite)
    aead = AESGCM(key)
    for seq in range(5):
        payload = bytes([seq]) * (seq * 7)
        content_type = ContentType.HANDSHAKE if seq % 2 else APP
        body = writer.seal(content_type, V12, payload)
        explicit = body[:8]
        assert explicit == seq.to_bytes(8, "big")
        plain = aead.decrypt(salt + explicit, body[8:], _aad(seq, content_type, V12, len(payload)))
        assert plain == payload


@pytest.mark.parametrize("suite", CHACHA_SUITES, ids=[s.suite.name for s in CHACHA_SUITES])
def test_chacha_nonce_is_iv_xor_padded_sequence_number(suite: Suite12) -> None:
    """RFC 7905 §2: seq as 8 bytes big-endian, left-padded with 4 zeros, XOR write IV; no explicit nonce."""
    writer, _, key, iv, _ = _pair(suite)
    aead = ChaCha20Poly1305(key)
    for seq in range(5):
        payload = b"chacha" * seq
        body = writer.seal(APP, V12, payload)
        assert len(body) == len(payload) + 16
        padded = bytes(4) + seq.to_bytes(8, "big")
        nonce = bytes(a ^ b for a, b in zip(iv, padded, strict=True))
        assert aead.decrypt(nonce, body, _aad(seq, APP, V12, len(payload))) == payload


def test_gcm_salt_comes_first_in_the_nonce() -> None:
    """A different salt must change the record: the salt is part of the nonce."""
    key = bytes(16)
    one = AesGcmProtection12(key, b"\x00\x00\x00\x01").seal(APP, V12, b"data")
    two = AesGcmProtection12(key, b"\x00\x00\x00\x02").seal(APP, V12, b"data")
    assert one[:8] == two[:8] and one[8:] != two[8:]


def _tamper_cases(body: bytes) -> list[tuple[str, bytes]]:
    cases = [
        ("empty", b""),
        ("one byte", body[:1]),
        ("truncated tag", body[:-1]),
        ("extra byte", body + b"\x00"),
        ("flipped last (tag)", body[:-1] + bytes([body[-1] ^ 1])),
        ("flipped first", bytes([body[0] ^ 0x80]) + body[1:]),
        (
            "flipped middle",
            body[: len(body) // 2] + bytes([body[len(body) // 2] ^ 4]) + body[len(body) // 2 + 1 :],
        ),
    ]
    return cases


@pytest.mark.parametrize("suite", AEAD_SUITES, ids=AEAD_IDS)
def test_aead_tamper_is_bad_record_mac(suite: Suite12) -> None:
    """RFC 5246 §6.2.3.3: any authentication failure is a fatal bad_record_mac, with one exception type."""
    writer, _, _, _, _ = _pair(suite)
    body = writer.seal(APP, V12, b"attack at dawn" * 3)
    for name, altered in _tamper_cases(body):
        _, reader, _, _, _ = _pair(suite)
        with pytest.raises(BadRecordMac) as info:
            reader.open(APP, V12, altered)
        assert type(info.value) is BadRecordMac, name


@pytest.mark.parametrize("suite", AEAD_SUITES, ids=AEAD_IDS)
def test_aead_header_fields_are_authenticated(suite: Suite12) -> None:
    """RFC 5246 §6.2.3.3: type and version are in additional_data, so changing them fails."""
    writer, _, _, _, _ = _pair(suite)
    body = writer.seal(APP, V12, b"hello")
    for content_type, version in ((ContentType.HANDSHAKE, V12), (APP, 0x0302), (APP, 0x0301)):
        _, reader, _, _, _ = _pair(suite)
        with pytest.raises(BadRecordMac):
            reader.open(content_type, version, body)


@pytest.mark.parametrize("suite", AEAD_SUITES, ids=AEAD_IDS)
def test_aead_reorder_replay_and_drop_fail(suite: Suite12) -> None:
    """RFC 5246 §6.1: the implicit sequence number makes reordered, replayed or dropped records fail."""
    writer, _, _, _, _ = _pair(suite)
    first = writer.seal(APP, V12, b"one")
    second = writer.seal(APP, V12, b"two")
    _, reader, _, _, _ = _pair(suite)
    with pytest.raises(BadRecordMac):
        reader.open(APP, V12, second)  # dropped first / reordered
    _, reader, _, _, _ = _pair(suite)
    assert reader.open(APP, V12, first) == b"one"
    with pytest.raises(BadRecordMac):
        reader.open(APP, V12, first)  # replayed


def test_directions_use_different_keys() -> None:
    suite = TLS12_SUITES[CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
    block = key_block(suite, MASTER, CLIENT_RANDOM, SERVER_RANDOM)
    provider = DeterministicProvider(1)
    client_write = make_protection12(
        suite,
        ProtocolVersion.TLS1_2,
        block.client_key,
        block.client_iv,
        b"",
        encrypt_then_mac=False,
        provider=provider,
    )
    server_read_wrong = make_protection12(
        suite,
        ProtocolVersion.TLS1_2,
        block.server_key,
        block.server_iv,
        b"",
        encrypt_then_mac=False,
        provider=provider,
    )
    with pytest.raises(BadRecordMac):
        server_read_wrong.open(APP, V12, client_write.seal(APP, V12, b"x"))


@pytest.mark.parametrize(
    "protection",
    [
        lambda: AesGcmProtection12(bytes(16), bytes(4)),
        lambda: ChaCha20Poly1305Protection12(bytes(32), bytes(12)),
    ],
    ids=["gcm", "chacha"],
)
def test_sequence_number_never_wraps(protection: Any) -> None:
    """RFC 5246 §6.1: sequence numbers MUST NOT wrap; the last one (2^64 - 1) is still usable."""
    writer = protection()
    reader = protection()
    writer._seq = reader._seq = 2**64 - 1  # white box: 2^64 records cannot be sent in a test
    assert reader.open(APP, V12, writer.seal(APP, V12, b"last")) == b"last"
    with pytest.raises(InternalError):
        writer.seal(APP, V12, b"one too many")
    with pytest.raises(InternalError):
        reader.open(APP, V12, bytes(40))


def test_make_protection12_picks_the_aead() -> None:
    provider = DeterministicProvider(1)
    gcm = TLS12_SUITES[CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
    chacha = TLS12_SUITES[CipherSuite.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256]
    v12 = ProtocolVersion.TLS1_2
    made = make_protection12(gcm, v12, bytes(32), bytes(4), b"", encrypt_then_mac=True, provider=provider)
    assert isinstance(made, AesGcmProtection12)  # RFC 7366 §3: EtM does not apply to AEAD
    made = make_protection12(
        chacha, v12, bytes(32), bytes(12), b"", encrypt_then_mac=False, provider=provider
    )
    assert isinstance(made, ChaCha20Poly1305Protection12)


@pytest.mark.parametrize(
    ("suite_id", "version", "key", "iv", "mac_key"),
    [
        (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ProtocolVersion.TLS1_1, bytes(16), bytes(4), b""),
        (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ProtocolVersion.TLS1_2, bytes(32), bytes(4), b""),
        (
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            ProtocolVersion.TLS1_2,
            bytes(16),
            bytes(12),
            b"",
        ),
        (
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            ProtocolVersion.TLS1_2,
            bytes(16),
            bytes(4),
            b"m",
        ),
        (
            CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ProtocolVersion.TLS1_2,
            bytes(32),
            bytes(4),
            b"",
        ),
        (
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
            ProtocolVersion.TLS1_1,
            bytes(16),
            b"",
            bytes(32),
        ),
    ],
)
def test_make_protection12_rejects_wrong_inputs(
    suite_id: CipherSuite, version: ProtocolVersion, key: bytes, iv: bytes, mac_key: bytes
) -> None:
    """Wrong lengths are bugs; AEAD and SHA-2 MAC suites are TLS 1.2 only (RFC 5246 App. A.5, RFC 5288 §4)."""
    with pytest.raises(ValueError):
        make_protection12(
            TLS12_SUITES[suite_id],
            version,
            key,
            iv,
            mac_key,
            encrypt_then_mac=False,
            provider=DeterministicProvider(),
        )


def test_make_protection12_hands_cbc_to_legacy_cbc(monkeypatch: pytest.MonkeyPatch) -> None:
    """CBC suites go to legacy.cbc.CbcProtection with the suite's MAC hash and the version's IV mode."""
    made: list[dict[str, Any]] = []

    class FakeCbc:
        max_overhead = 0

        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)

    package = types.ModuleType("handclasp.legacy")
    module = types.ModuleType("handclasp.legacy.cbc")
    module.CbcProtection = FakeCbc  # type: ignore[attr-defined]
    package.cbc = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "handclasp.legacy", package)
    monkeypatch.setitem(sys.modules, "handclasp.legacy.cbc", module)
    provider = DeterministicProvider()
    suite = TLS12_SUITES[CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA]
    for version in (ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_2):
        iv = bytes(16) if version == ProtocolVersion.TLS1_0 else b""
        result = make_protection12(
            suite, version, b"k" * 32, iv, b"m" * 20, encrypt_then_mac=True, provider=provider
        )
        assert isinstance(result, FakeCbc)
    assert made == [
        {
            "cipher_key": b"k" * 32,
            "mac_key": b"m" * 20,
            "mac_hash_name": "sha1",
            "iv": iv,
            "version": version,
            "encrypt_then_mac": True,
            "is_tls10_implicit_iv": version == ProtocolVersion.TLS1_0,
            "provider": provider,
        }
        for version, iv in ((ProtocolVersion.TLS1_0, bytes(16)), (ProtocolVersion.TLS1_2, b""))
    ]


CBC_CASES = [
    (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, ProtocolVersion.TLS1_0),
    (CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, ProtocolVersion.TLS1_1),
    (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, ProtocolVersion.TLS1_2),
    (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, ProtocolVersion.TLS1_2),
]


@pytest.mark.parametrize("etm", [False, True], ids=["mte", "etm"])
@pytest.mark.parametrize(("suite_id", "version"), CBC_CASES, ids=[f"{s.name}-{v.name}" for s, v in CBC_CASES])
def test_cbc_through_the_dispatcher_round_trips(
    suite_id: CipherSuite, version: ProtocolVersion, etm: bool
) -> None:
    """Integration with legacy/cbc.py: key block → make_protection12 → seal/open, tamper → BadRecordMac."""
    pytest.importorskip("handclasp.legacy.cbc")
    suite = TLS12_SUITES[suite_id]
    writer, reader, _, _, _ = _pair(suite, version, etm=etm)
    bodies = []
    for payload in (b"first", b"", bytes(range(256)) * 10):
        body = writer.seal(APP, version, payload)
        assert len(body) <= len(payload) + writer.max_overhead
        bodies.append(body)
        assert reader.open(APP, version, body) == payload
    altered = bodies[-1][:-1] + bytes([bodies[-1][-1] ^ 1])
    _, fresh, _, _, _ = _pair(suite, version, etm=etm)
    assert fresh.open(APP, version, bodies[0]) == b"first"
    assert fresh.open(APP, version, bodies[1]) == b""
    with pytest.raises(BadRecordMac):
        fresh.open(APP, version, altered)
