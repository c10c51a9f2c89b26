"""Reader and Writer: the TLS presentation language's integers and vectors.

Length-prefixed vectors are context managers, so no caller computes a length
by hand: ``with r.block(2) as body:`` yields a sub-reader that must be read to
its end, and ``with w.block(2):`` back-patches the length when the block
closes.  Every short read or leftover byte raises :class:`DecodeError`.
"""

from __future__ import annotations

import functools
import struct

from handclasp.errors import DecodeError

_Bytes = bytes  # the methods named ``bytes`` below shadow the builtin in annotations

_MAX = {1: 0xFF, 2: 0xFFFF, 3: 0xFFFFFF, 4: 0xFFFFFFFF}


@functools.lru_cache(maxsize=256)
def _uint16s(count: int) -> struct.Struct:
    return struct.Struct(f">{count}H")


class Reader:
    __slots__ = ("_data", "_pos", "_end")

    def __init__(self, data: _Bytes | bytearray | memoryview, start: int = 0, end: int | None = None) -> None:
        self._data: _Bytes = data if type(data) is _Bytes else _Bytes(data)
        self._pos = start
        self._end = len(self._data) if end is None else end

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def is_empty(self) -> bool:
        return self._pos >= self._end

    def _take(self, n: int) -> int:
        pos = self._pos
        if n < 0 or pos + n > self._end:
            raise DecodeError("truncated")
        self._pos = pos + n
        return pos

    # The readers below inline ``_take``: a ClientHello makes hundreds of these calls.

    def uint8(self) -> int:
        pos = self._pos
        if pos >= self._end:
            raise DecodeError("truncated")
        self._pos = pos + 1
        return self._data[pos]

    def uint16(self) -> int:
        pos = self._pos
        if pos + 2 > self._end:
            raise DecodeError("truncated")
        self._pos = pos + 2
        data = self._data
        return (data[pos] << 8) | data[pos + 1]

    def uint24(self) -> int:
        pos = self._take(3)
        return int.from_bytes(self._data[pos : pos + 3], "big")

    def uint32(self) -> int:
        pos = self._take(4)
        return int.from_bytes(self._data[pos : pos + 4], "big")

    def uint(self, width: int) -> int:
        if width == 2:
            return self.uint16()
        if width == 1:
            return self.uint8()
        pos = self._take(width)
        return int.from_bytes(self._data[pos : pos + width], "big")

    def bytes(self, n: int) -> _Bytes:
        pos = self._pos
        if n < 0 or pos + n > self._end:
            raise DecodeError("truncated")
        self._pos = pos + n
        return self._data[pos : pos + n]

    def rest(self) -> _Bytes:
        return self.bytes(self.remaining)

    def vector(self, width: int, *, min_len: int = 0, max_len: int | None = None) -> _Bytes:
        """A length-prefixed opaque vector ``opaque x<min..max>``."""
        n = self.uint16() if width == 2 else self.uint(width)
        if n < min_len or (max_len is not None and n > max_len):
            raise DecodeError("vector length out of range")
        return self.bytes(n)

    def block(self, width: int, *, min_len: int = 0, max_len: int | None = None) -> _ReadBlock:
        """A length-prefixed block; the body must be consumed exactly (``with r.block(2) as body:``)."""
        n = self.uint16() if width == 2 else self.uint(width)
        if n < min_len or (max_len is not None and n > max_len):
            raise DecodeError("block length out of range")
        start = self._take(n)
        return _ReadBlock(Reader(self._data, start, start + n))

    def uint16_list(self, width: int, *, min_len: int = 0) -> list[int]:
        """A vector of uint16 values (cipher suites, groups, schemes)."""
        raw = self.vector(width, min_len=min_len)
        count, odd = divmod(len(raw), 2)
        if odd:
            raise DecodeError("odd length for uint16 vector")
        return list(_uint16s(count).unpack(raw))

    def expect_end(self) -> None:
        if not self.is_empty():
            raise DecodeError("trailing bytes")


class Writer:
    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def getvalue(self) -> _Bytes:
        return bytes(self._buf)

    def __len__(self) -> int:
        return len(self._buf)

    def uint8(self, v: int) -> None:
        self._buf.append(v)

    def uint16(self, v: int) -> None:
        self._buf += v.to_bytes(2, "big")

    def uint24(self, v: int) -> None:
        self._buf += v.to_bytes(3, "big")

    def uint32(self, v: int) -> None:
        self._buf += v.to_bytes(4, "big")

    def uint(self, width: int, v: int) -> None:
        self._buf += v.to_bytes(width, "big")

    def bytes(self, b: _Bytes | bytearray | memoryview) -> None:
        self._buf += b

    def vector(self, width: int, b: _Bytes | bytearray | memoryview) -> None:
        if len(b) > _MAX[width]:
            raise ValueError("vector too long for its length prefix")
        self._buf += len(b).to_bytes(width, "big")
        self._buf += b

    def uint16_list(self, width: int, values: list[int] | tuple[int, ...]) -> None:
        self.vector(width, b"".join(v.to_bytes(2, "big") for v in values))

    def block(self, width: int) -> _WriteBlock:
        """A length-prefixed block whose length is back-patched on exit (``with w.block(2):``)."""
        return _WriteBlock(self, width)


class _ReadBlock:
    """Context manager over a sub-reader; leftover bytes are a DecodeError."""

    __slots__ = ("_sub",)

    def __init__(self, sub: Reader) -> None:
        self._sub = sub

    def __enter__(self) -> Reader:
        return self._sub

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None and not self._sub.is_empty():
            raise DecodeError("trailing bytes in block")


class _WriteBlock:
    __slots__ = ("_writer", "_width", "_at")

    def __init__(self, writer: Writer, width: int) -> None:
        self._writer = writer
        self._width = width
        self._at = 0

    def __enter__(self) -> Writer:
        buf = self._writer._buf
        self._at = len(buf)
        buf += bytes(self._width)
        return self._writer

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            return
        buf = self._writer._buf
        width = self._width
        n = len(buf) - self._at - width
        if n > _MAX[width]:
            raise ValueError("block too long for its length prefix")
        buf[self._at : self._at + width] = n.to_bytes(width, "big")
