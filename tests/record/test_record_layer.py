"""RecordLayer: framing, TLS 1.3 protection, limits and buffering (RFC 8446 §5)."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings, strategies as st

from handclasp.crypto.schedule13 import traffic_key_iv
from handclasp.crypto.suites import TLS13_SUITES, SuiteParams
from handclasp.errors import BadRecordMac, InternalError, Misbehaviour, PeerMisbehaved, RecordOverflow
from handclasp.record.layer import RecordLayer
from handclasp.wire.enums import AlertDescription, CipherSuite, ContentType

SUITES = list(TLS13_SUITES.values())
AES128 = TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]
CT = ContentType


def _pair(params: SuiteParams = AES128) -> tuple[RecordLayer, RecordLayer]:
    secret = bytes(range(params.hash_len))
    writer, reader = RecordLayer(is_client=True), RecordLayer(is_client=False)
    writer.set_write_key(params, secret)
    reader.set_read_key(params, secret)
    return writer, reader


def _drain(layer: RecordLayer, limit: int = 10_000) -> list[tuple[ContentType, bytes]]:
    out: list[tuple[ContentType, bytes]] = []
    for _ in range(limit):
        record = layer.next_record()
        if record is None:
            return out
        out.append(record)
    raise AssertionError("too many records")


def _records(wire: bytes) -> list[tuple[int, int, bytes]]:
    """Split wire bytes into (type, version, body) without the record layer."""
    out = []
    while wire:
        content_type, version, length = struct.unpack("!BHH", wire[:5])
        out.append((content_type, version, wire[5 : 5 + length]))
        wire = wire[5 + length :]
    return out


def _misbehaviour(excinfo: pytest.ExceptionInfo[PeerMisbehaved], reason: Misbehaviour) -> None:
    assert excinfo.value.reason is reason


# --- round trips


@pytest.mark.parametrize("params", SUITES, ids=lambda p: p.suite.name)
@settings(max_examples=25, deadline=None)
@given(payload=st.binary(min_size=1, max_size=3000), padding=st.integers(min_value=0, max_value=300))
def test_round_trip_all_suites(params: SuiteParams, payload: bytes, padding: int) -> None:
    writer, reader = _pair(params)
    for content_type in (CT.HANDSHAKE, CT.APPLICATION_DATA, CT.ALERT):
        wire = writer.encode(content_type, payload, padding=padding)
        for outer_type, version, _ in _records(wire):
            assert (outer_type, version) == (23, 0x0303)
        reader.feed(wire)
        assert b"".join(body for _, body in _drain(reader)) == payload
    assert not reader.has_partial_record


@pytest.mark.parametrize("params", SUITES, ids=lambda p: p.suite.name)
def test_full_size_records(params: SuiteParams) -> None:
    writer, reader = _pair(params)
    payload = bytes(range(256)) * 64  # 2^14
    wire = writer.encode(CT.APPLICATION_DATA, payload)
    assert len(wire) == 5 + 2**14 + 1 + 16
    reader.feed(wire)
    assert reader.next_record() == (CT.APPLICATION_DATA, payload)


def test_nonce_is_iv_xor_sequence_number() -> None:
    """RFC 8446 §5.3: nonce = write_iv XOR (64-bit sequence number, left-padded)."""
    secret = b"\x42" * 32
    writer = RecordLayer(is_client=False)
    writer.set_write_key(AES128, secret)
    key, iv = traffic_key_iv(AES128, secret)
    records = [writer.encode(CT.APPLICATION_DATA, b"record %d" % n) for n in range(3)]
    for seq, wire in enumerate(records):
        nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
        assert AESGCM(key).decrypt(nonce, wire[5:], wire[:5]) == b"record %d" % seq + b"\x17"


def test_new_key_resets_sequence_number() -> None:
    writer, _ = _pair()
    first = writer.encode(CT.APPLICATION_DATA, b"same")
    writer.set_write_key(AES128, bytes(range(32)))
    assert writer.encode(CT.APPLICATION_DATA, b"same") == first


# --- fragmentation and the write limit


def test_fragmentation_at_the_limit() -> None:
    writer, reader = _pair()
    exact = writer.encode(CT.HANDSHAKE, b"\x01" * 2**14)
    assert len(_records(exact)) == 1
    over = writer.encode(CT.HANDSHAKE, b"\x02" * (2**14 + 1))
    bodies = _records(over)
    assert [len(body) for _, _, body in bodies] == [2**14 + 17, 1 + 17]
    reader.feed(exact + over)
    assert [len(c) for _, c in _drain(reader)] == [2**14, 2**14, 1]


def test_plaintext_fragmentation() -> None:
    client = RecordLayer(is_client=False)
    wire = client.encode(CT.HANDSHAKE, bytes(40000))
    assert [len(body) for _, _, body in _records(wire)] == [2**14, 2**14, 40000 - 2**15]


def test_record_size_limit() -> None:
    """RFC 8449: no record carries more than the peer's limit (content + padding here)."""
    writer, reader = _pair()
    writer.set_write_record_limit(512)
    wire = writer.encode(CT.APPLICATION_DATA, bytes(2000), padding=12)
    bodies = [body for _, _, body in _records(wire)]
    assert [len(b) for b in bodies] == [500 + 1 + 12 + 16] * 4  # every record carries the padding
    assert all(len(b) - 16 <= 512 + 1 for b in bodies)
    reader.feed(wire)
    assert b"".join(c for _, c in _drain(reader)) == bytes(2000)


def test_record_limit_bounds() -> None:
    layer = RecordLayer(is_client=True)
    for bad in (0, -1, 2**14 + 1):
        with pytest.raises(ValueError):
            layer.set_write_record_limit(bad)
    layer.set_write_record_limit(64)
    assert [len(b) for _, _, b in _records(layer.encode(CT.HANDSHAKE, bytes(130)))] == [64, 64, 2]


def test_padding_must_leave_room() -> None:
    writer, _ = _pair()
    with pytest.raises(ValueError):
        writer.encode(CT.APPLICATION_DATA, b"x", padding=2**14)
    with pytest.raises(ValueError):
        writer.encode(CT.APPLICATION_DATA, b"x", padding=-1)
    plain = RecordLayer(is_client=True)
    with pytest.raises(ValueError):
        plain.encode(CT.HANDSHAKE, b"x", padding=1)


# --- padding


def test_padding_is_stripped() -> None:
    writer, reader = _pair()
    wire = writer.encode(CT.HANDSHAKE, b"hello", padding=100)
    assert len(wire) == 5 + 5 + 1 + 100 + 16
    reader.feed(wire)
    assert reader.next_record() == (CT.HANDSHAKE, b"hello")


def test_payload_ending_in_zeros_keeps_them() -> None:
    writer, reader = _pair()
    reader.feed(writer.encode(CT.APPLICATION_DATA, b"data\x00\x00\x00", padding=7))
    assert reader.next_record() == (CT.APPLICATION_DATA, b"data\x00\x00\x00")


def test_empty_application_data_record() -> None:
    writer, reader = _pair()
    wire = writer.encode(CT.APPLICATION_DATA, b"")
    assert len(wire) == 5 + 1 + 16
    reader.feed(wire + writer.encode(CT.APPLICATION_DATA, b"", padding=30))
    assert _drain(reader) == [(CT.APPLICATION_DATA, b""), (CT.APPLICATION_DATA, b"")]


def test_empty_records_of_other_types_are_refused() -> None:
    """RFC 8446 §5.1: zero-length fragments of handshake/alert MUST NOT be sent."""
    writer, _ = _pair()
    for content_type in (CT.HANDSHAKE, CT.ALERT):
        with pytest.raises(ValueError):
            writer.encode(content_type, b"")


# --- read-side failures


def test_tampering_is_bad_record_mac() -> None:
    """RFC 8446 §5.2: AEAD failure → bad_record_mac; header bytes are authenticated too."""
    writer, _ = _pair()
    wire = writer.encode(CT.APPLICATION_DATA, b"attack at dawn")
    for position in (2, 4, 5, 10, len(wire) - 1):  # version, length, body, tag
        tampered = bytearray(wire)
        tampered[position] ^= 0x01
        _, reader = _pair()
        reader.feed(bytes(tampered))
        if position == 4:  # a changed length makes the record incomplete (or too short)
            reader.feed(b"\x00")
        with pytest.raises(BadRecordMac) as excinfo:
            reader.next_record()
        assert excinfo.value.alert is AlertDescription.BAD_RECORD_MAC


def test_replayed_record_fails() -> None:
    writer, reader = _pair()
    wire = writer.encode(CT.APPLICATION_DATA, b"once")
    reader.feed(wire + wire)
    assert reader.next_record() == (CT.APPLICATION_DATA, b"once")
    with pytest.raises(BadRecordMac):
        reader.next_record()


def test_short_ciphertext_is_bad_record_mac() -> None:
    _, reader = _pair()
    reader.feed(b"\x17\x03\x03\x00\x05hello")
    with pytest.raises(BadRecordMac):
        reader.next_record()


def test_oversized_plaintext_header_rejected_before_body() -> None:
    """RFC 8446 §5.1: TLSPlaintext.length MUST NOT exceed 2^14 → record_overflow."""
    layer = RecordLayer(is_client=True)
    layer.feed(b"\x16\x03\x03" + (2**14 + 1).to_bytes(2, "big"))
    with pytest.raises(RecordOverflow) as excinfo:
        layer.next_record()
    assert excinfo.value.alert is AlertDescription.RECORD_OVERFLOW
    assert (excinfo.value.length, excinfo.value.limit) == (2**14 + 1, 2**14)


def test_oversized_ciphertext_header_rejected_before_body() -> None:
    """RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256 → record_overflow."""
    _, reader = _pair()
    reader.feed(b"\x17\x03\x03" + (2**14 + 256).to_bytes(2, "big"))
    assert reader.next_record() is None and reader.has_partial_record  # legal length: waits
    _, reader = _pair()
    reader.feed(b"\x17\x03\x03" + (2**14 + 257).to_bytes(2, "big"))
    with pytest.raises(RecordOverflow):
        reader.next_record()


def test_oversized_inner_plaintext_is_record_overflow() -> None:
    """RFC 8446 §5.4: TLSInnerPlaintext MUST NOT exceed 2^14 + 1."""
    writer, reader = _pair()
    assert writer._write is not None
    wire = writer._write.seal(bytes(2**14 + 1), b"\x17")  # bypasses the write limit
    reader.feed(wire)
    with pytest.raises(RecordOverflow):
        reader.next_record()


def test_padding_counts_toward_inner_limit() -> None:
    writer, reader = _pair()
    assert writer._write is not None
    reader.feed(writer._write.seal(bytes(2**14), b"\x17\x00"))
    with pytest.raises(RecordOverflow):
        reader.next_record()


@pytest.mark.parametrize("outer_type", [0, 19, 24, 255])
def test_unknown_outer_content_type(outer_type: int) -> None:
    """RFC 8446 §5: an unknown record type → unexpected_message."""
    for layer in (RecordLayer(is_client=True), _pair()[1]):
        layer.feed(bytes([outer_type]) + b"\x03\x03\x00\x01\x00")
        with pytest.raises(PeerMisbehaved) as excinfo:
            layer.next_record()
        _misbehaviour(excinfo, Misbehaviour.UNKNOWN_CONTENT_TYPE)
        assert excinfo.value.alert is AlertDescription.UNEXPECTED_MESSAGE


def test_unknown_inner_content_type() -> None:
    writer, reader = _pair()
    assert writer._write is not None
    reader.feed(writer._write.seal(b"data", b"\x18"))
    with pytest.raises(PeerMisbehaved) as excinfo:
        reader.next_record()
    _misbehaviour(excinfo, Misbehaviour.UNKNOWN_CONTENT_TYPE)


def test_protected_change_cipher_spec_is_fatal() -> None:
    """RFC 8446 §5: a protected change_cipher_spec record → unexpected_message."""
    writer, reader = _pair()
    assert writer._write is not None
    reader.feed(writer._write.seal(b"\x01", b"\x14"))
    with pytest.raises(PeerMisbehaved) as excinfo:
        reader.next_record()
    _misbehaviour(excinfo, Misbehaviour.UNEXPECTED_CCS)


@pytest.mark.parametrize("padding", [0, 1, 50])
def test_all_zero_inner_plaintext(padding: int) -> None:
    """RFC 8446 §5.4: no non-zero octet in the cleartext → unexpected_message."""
    writer, reader = _pair()
    assert writer._write is not None
    reader.feed(writer._write.seal(b"", bytes(padding)))
    with pytest.raises(PeerMisbehaved) as excinfo:
        reader.next_record()
    _misbehaviour(excinfo, Misbehaviour.NO_CONTENT_TYPE_IN_INNER_PLAINTEXT)
    assert excinfo.value.alert is AlertDescription.UNEXPECTED_MESSAGE


def test_bad_record_version_major() -> None:
    layer = RecordLayer(is_client=False)
    layer.feed(b"\x16\x02\x00\x00\x01\x00")
    with pytest.raises(PeerMisbehaved) as excinfo:
        layer.next_record()
    _misbehaviour(excinfo, Misbehaviour.BAD_RECORD_VERSION)
    ok = RecordLayer(is_client=False)
    ok.feed(b"\x16\x03\x07\x00\x01\x00")  # RFC 8446 §5.1: the minor version is ignored
    assert ok.next_record() == (CT.HANDSHAKE, b"\x00")


def test_ccs_passes_through_when_protected() -> None:
    """RFC 8446 §5: an unprotected change_cipher_spec may arrive at any time during the handshake."""
    writer, reader = _pair()
    reader.feed(b"\x14\x03\x03\x00\x01\x01" + writer.encode(CT.HANDSHAKE, b"finished"))
    assert reader.next_record() == (CT.CHANGE_CIPHER_SPEC, b"\x01")
    assert reader.next_record() == (CT.HANDSHAKE, b"finished")  # CCS did not use a sequence number


def test_ccs_is_written_in_plaintext_even_with_a_key() -> None:
    writer, _ = _pair()
    assert writer.encode(CT.CHANGE_CIPHER_SPEC, b"\x01") == b"\x14\x03\x03\x00\x01\x01"
    with pytest.raises(ValueError):
        writer.encode(CT.CHANGE_CIPHER_SPEC, b"\x01", padding=3)


def test_plaintext_record_after_key_change_is_refused() -> None:
    """RFC 8446 §5.2: once keys are in use every record but change_cipher_spec is protected."""
    _, reader = _pair()
    reader.feed(b"\x16\x03\x03\x00\x04\x14\x00\x00\x00")
    with pytest.raises(PeerMisbehaved) as excinfo:
        reader.next_record()
    _misbehaviour(excinfo, Misbehaviour.UNPROTECTED_RECORD)
    assert excinfo.value.alert is AlertDescription.UNEXPECTED_MESSAGE


# --- plaintext framing


def test_legacy_record_version() -> None:
    """RFC 8446 §5.1: 0x0303 everywhere, except 0x0301 allowed for the initial ClientHello."""
    client = RecordLayer(is_client=True)
    assert client.encode(CT.HANDSHAKE, b"ch1")[:3] == b"\x16\x03\x01"
    assert client.encode(CT.HANDSHAKE, b"ch2")[:3] == b"\x16\x03\x03"
    server = RecordLayer(is_client=False)
    assert server.encode(CT.HANDSHAKE, b"sh")[:3] == b"\x16\x03\x03"
    big = RecordLayer(is_client=True).encode(CT.HANDSHAKE, bytes(2**14 + 10))
    assert [version for _, version, _ in _records(big)] == [0x0301, 0x0301]


def test_plaintext_round_trip() -> None:
    client, server = RecordLayer(is_client=True), RecordLayer(is_client=False)
    server.feed(client.encode(CT.HANDSHAKE, b"hello") + client.encode(CT.ALERT, b"\x02\x28"))
    assert _drain(server) == [(CT.HANDSHAKE, b"hello"), (CT.ALERT, b"\x02\x28")]
    assert not server.is_read_protected and not client.is_write_protected


# --- buffering


def test_partial_records_across_feeds() -> None:
    writer, reader = _pair()
    wire = writer.encode(CT.APPLICATION_DATA, b"a" * 100) + writer.encode(CT.APPLICATION_DATA, b"b" * 50)
    reader.feed(wire[:3])
    assert reader.next_record() is None and reader.has_partial_record
    reader.feed(wire[3:60])
    assert reader.next_record() is None and reader.has_partial_record
    reader.feed(wire[60:130])
    assert reader.next_record() == (CT.APPLICATION_DATA, b"a" * 100)
    assert reader.next_record() is None and reader.has_partial_record
    reader.feed(wire[130:])
    assert reader.next_record() == (CT.APPLICATION_DATA, b"b" * 50)
    assert reader.next_record() is None and not reader.has_partial_record
    assert len(reader._buffer) == 0


def test_byte_at_a_time() -> None:
    writer, reader = _pair()
    wire = b"".join(writer.encode(CT.HANDSHAKE, bytes([n]) * (n + 1)) for n in range(20))
    got = []
    for i in range(len(wire)):
        reader.feed(wire[i : i + 1])
        got.extend(_drain(reader))
    assert got == [(CT.HANDSHAKE, bytes([n]) * (n + 1)) for n in range(20)]
    assert not reader.has_partial_record


@settings(max_examples=50, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=600), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
)
def test_any_split_of_the_stream(payloads: list[bytes], cuts: list[int]) -> None:
    writer, reader = _pair()
    wire = b"".join(writer.encode(CT.APPLICATION_DATA, p) for p in payloads)
    points = sorted({0, len(wire), *(c % (len(wire) + 1) for c in cuts)})
    got = []
    for start, end in zip(points, points[1:], strict=False):
        reader.feed(wire[start:end])
        got.extend(_drain(reader))
    assert got == [(CT.APPLICATION_DATA, p) for p in payloads]


def test_header_checked_with_only_five_bytes_buffered() -> None:
    layer = RecordLayer(is_client=True)
    layer.feed(b"\x63\x03\x03")
    assert layer.next_record() is None
    layer.feed(b"\x00\x01")
    with pytest.raises(PeerMisbehaved):
        layer.next_record()


# --- sequence number exhaustion


def test_write_sequence_number_does_not_wrap() -> None:
    """RFC 8446 §5.3: the sequence number MUST NOT wrap."""
    writer, _ = _pair()
    assert writer._write is not None
    writer._write._seq = 2**64 - 1
    writer.encode(CT.APPLICATION_DATA, b"last")
    with pytest.raises(InternalError):
        writer.encode(CT.APPLICATION_DATA, b"one too many")


def test_read_sequence_number_does_not_wrap() -> None:
    writer, reader = _pair()
    assert writer._write is not None and reader._read is not None
    writer._write._seq = reader._read._seq = 2**64 - 1
    reader.feed(writer.encode(CT.APPLICATION_DATA, b"last"))
    assert reader.next_record() == (CT.APPLICATION_DATA, b"last")
    reader.feed(b"\x17\x03\x03\x00\x11" + bytes(17))
    with pytest.raises(InternalError):
        reader.next_record()


def test_layer_still_accepts_bytes_after_a_failed_record() -> None:
    """No buffer export outlives a failed decryption (feed must not hit BufferError)."""
    writer, reader = _pair()
    wire = bytearray(writer.encode(CT.APPLICATION_DATA, b"payload"))
    wire[-1] ^= 1
    reader.feed(bytes(wire) + b"\x17\x03")
    with pytest.raises(BadRecordMac):
        reader.next_record()
    before = len(reader._buffer)
    reader.feed(b"\x03\x00")  # would raise BufferError while a view of the buffer is alive
    assert len(reader._buffer) == before + 2


def test_bytes_like_payloads() -> None:
    writer, reader = _pair()
    data = bytearray(range(256)) * 100
    wire = writer.encode(CT.APPLICATION_DATA, memoryview(data)[10:]) + writer.encode(CT.HANDSHAKE, data)
    reader.feed(memoryview(wire))
    assert b"".join(c for _, c in _drain(reader)) == bytes(data[10:]) + bytes(data)
    plain = RecordLayer(is_client=False)
    assert plain.encode(CT.HANDSHAKE, memoryview(b"abc")) == b"\x16\x03\x03\x00\x03abc"
    assert _records(plain.encode(CT.HANDSHAKE, bytearray(2**14 + 1)))[1][2] == b"\x00"
