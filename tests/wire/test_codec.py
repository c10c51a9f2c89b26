"""Reader / Writer: integers, vectors and length-prefixed blocks (RFC 8446 §3)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from handclasp.errors import DecodeError
from handclasp.wire.codec import Reader, Writer

WIDTHS = [1, 2, 3, 4]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_integers_round_trip(data: st.DataObject) -> None:
    width = data.draw(st.sampled_from(WIDTHS))
    value = data.draw(st.integers(0, 2 ** (8 * width) - 1))
    w = Writer()
    getattr(w, {1: "uint8", 2: "uint16", 3: "uint24", 4: "uint32"}[width])(value)
    w.uint(width, value)
    encoded = w.getvalue()
    assert len(encoded) == 2 * width and len(w) == 2 * width
    r = Reader(encoded)
    assert getattr(r, {1: "uint8", 2: "uint16", 3: "uint24", 4: "uint32"}[width])() == value
    assert r.uint(width) == value
    r.expect_end()


@settings(max_examples=100, deadline=None)
@given(width=st.sampled_from(WIDTHS), payload=st.binary(max_size=300))
def test_vector_round_trip(width: int, payload: bytes) -> None:
    if width == 1 and len(payload) > 255:
        payload = payload[:255]
    w = Writer()
    w.vector(width, payload)
    encoded = w.getvalue()
    assert encoded[:width] == len(payload).to_bytes(width, "big")
    r = Reader(encoded)
    assert r.vector(width) == payload
    assert r.is_empty() and r.remaining == 0


@settings(max_examples=100, deadline=None)
@given(width=st.sampled_from(WIDTHS), inner=st.lists(st.binary(max_size=20), max_size=8))
def test_block_back_patches_its_length(width: int, inner: list[bytes]) -> None:
    w = Writer()
    w.uint8(0xAA)
    with w.block(width):
        for item in inner:
            w.vector(1, item)
    w.uint8(0xBB)
    encoded = w.getvalue()
    body_len = sum(1 + len(i) for i in inner)
    assert encoded[1 : 1 + width] == body_len.to_bytes(width, "big")
    r = Reader(encoded)
    assert r.uint8() == 0xAA
    with r.block(width) as body:
        got = []
        while not body.is_empty():
            got.append(body.vector(1))
    assert got == inner
    assert r.uint8() == 0xBB
    r.expect_end()


def test_block_rejects_trailing_bytes() -> None:
    """RFC 8446 §3 / §6.2: a length that leaves bytes unread in its block is decode_error."""
    r = Reader(b"\x00\x03\x01\x02\x03")
    with pytest.raises(DecodeError) as info:
        with r.block(2) as body:
            body.uint16()
    assert info.value.alert.name == "DECODE_ERROR"


def test_block_rejects_short_read_inside_the_block() -> None:
    """RFC 8446 §6.2: reading past a block's declared end is decode_error, even if bytes follow."""
    r = Reader(b"\x01\x01\xff\xff\xff")
    with pytest.raises(DecodeError):
        with r.block(1) as body:
            body.uint16()


@pytest.mark.parametrize("width", WIDTHS)
def test_block_rejects_a_length_beyond_the_data(width: int) -> None:
    """RFC 8446 §6.2: a length prefix longer than the message is decode_error."""
    data = (5).to_bytes(width, "big") + b"\x00\x00\x00\x00"
    with pytest.raises(DecodeError):
        with Reader(data).block(width):
            pass
    with pytest.raises(DecodeError):
        Reader(data).vector(width)


@pytest.mark.parametrize("method", ["uint8", "uint16", "uint24", "uint32"])
def test_short_integer_reads_are_decode_errors(method: str) -> None:
    """RFC 8446 §6.2: a truncated integer is decode_error."""
    size = {"uint8": 1, "uint16": 2, "uint24": 3, "uint32": 4}[method]
    with pytest.raises(DecodeError):
        getattr(Reader(b"\x01" * (size - 1)), method)()


def test_bytes_rejects_short_and_negative_reads() -> None:
    """RFC 8446 §6.2: a fixed-length field that runs past the end is decode_error."""
    r = Reader(b"abc")
    with pytest.raises(DecodeError):
        r.bytes(4)
    with pytest.raises(DecodeError):
        r.bytes(-1)
    assert r.bytes(3) == b"abc"
    with pytest.raises(DecodeError):
        r.uint8()


@pytest.mark.parametrize(
    ("data", "min_len", "max_len"),
    [(b"\x00", 1, None), (b"\x03abc", 4, None), (b"\x03abc", 0, 2), (b"\x00", 2, 254)],
)
def test_vector_bounds_are_enforced(data: bytes, min_len: int, max_len: int | None) -> None:
    """RFC 8446 §3: a vector outside its <floor..ceiling> is decode_error."""
    with pytest.raises(DecodeError):
        Reader(data).vector(1, min_len=min_len, max_len=max_len)
    with pytest.raises(DecodeError):
        with Reader(data).block(1, min_len=min_len, max_len=max_len) as body:
            body.rest()


def test_vector_bounds_accept_the_edges() -> None:
    assert Reader(b"\x02ab").vector(1, min_len=2, max_len=2) == b"ab"
    with Reader(b"\x02ab").block(1, min_len=2, max_len=2) as body:
        assert body.rest() == b"ab"


def test_reader_on_a_window_does_not_read_outside_it() -> None:
    r = Reader(b"XXabcYY", 2, 5)
    assert r.remaining == 3
    assert r.rest() == b"abc"
    with pytest.raises(DecodeError):
        r.uint8()


def test_reader_accepts_bytearray_and_memoryview() -> None:
    assert Reader(bytearray(b"\x01\x02")).uint16() == 0x0102
    assert Reader(memoryview(b"\x01\x02")).uint16() == 0x0102


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), max_size=50))
def test_uint16_list_round_trip(values: list[int]) -> None:
    w = Writer()
    w.uint16_list(2, values)
    assert Reader(w.getvalue()).uint16_list(2) == values


@pytest.mark.parametrize("raw", [b"\x00\x01\x00", b"\x00\x03\x00\x01\x02", b"\x00\x05\x13\x01\x13\x02\x13"])
def test_uint16_list_rejects_odd_length(raw: bytes) -> None:
    """RFC 8446 §3: a vector of uint16 has an even byte length, else decode_error."""
    with pytest.raises(DecodeError):
        Reader(raw).uint16_list(2)


def test_uint16_list_min_len() -> None:
    """RFC 8446 §4.1.2: cipher_suites<2..2^16-2> rejects an empty list."""
    with pytest.raises(DecodeError):
        Reader(b"\x00\x00").uint16_list(2, min_len=2)


def test_expect_end_rejects_leftovers() -> None:
    """RFC 8446 §6.2: bytes after a message's last field are decode_error."""
    r = Reader(b"\x01\x02")
    r.uint8()
    with pytest.raises(DecodeError):
        r.expect_end()


@pytest.mark.parametrize("width", [1, 2])
def test_writer_refuses_vectors_too_long_for_the_prefix(width: int) -> None:
    too_long = bytes(2 ** (8 * width))
    with pytest.raises(ValueError):
        Writer().vector(width, too_long)
    w = Writer()
    with pytest.raises(ValueError):
        with w.block(width):
            w.bytes(too_long)


def test_nested_blocks_back_patch_independently() -> None:
    w = Writer()
    with w.block(2):
        with w.block(1):
            w.bytes(b"ab")
        w.bytes(b"c")
    assert w.getvalue() == b"\x00\x04\x02abc"
