"""TLS certificate compression (RFC 8879), for both directions of TLS 1.3.

Theory of operation:

    offer:    ClientHello / CertificateRequest carry compress_certificate (our algorithms, our order)
    send:     ``send_certificate``: the peer offered an algorithm we also have -> CompressedCertificate
              (compressed once per (algorithm, Certificate body) and cached), else the plain Certificate
    receive:  ``received_certificate``: a CompressedCertificate is checked against what we offered,
              decompressed with an output limit, and decoded as the Certificate it stands for; the
              states then run exactly the checks they run on a Certificate

Rules: decompression never produces much more than ``uncompressed_length`` + 1 bytes, so a
decompression bomb costs nothing; every failure is bad_certificate (RFC 8879 §4). The transcript
hashes the CompressedCertificate as sent, never the Certificate inside it (RFC 8879 §4), so the
states keep using the raw bytes they were given. Compression is TLS 1.3 only (RFC 8879 §3).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import brotli  # type: ignore[import-untyped]
import zstandard

from handclasp.errors import Misbehaviour, PeerMisbehaved, UnexpectedMessage
from handclasp.wire.codec import Writer
from handclasp.wire.enums import CertificateCompressionAlgorithm, HandshakeType
from handclasp.wire.extensions import CertificateCompressionAlgorithms, find
from handclasp.wire.handshake import Certificate13, CompressedCertificate, decode_message

if TYPE_CHECKING:
    from handclasp.common.context import Output

Algorithm = CertificateCompressionAlgorithm


def offer_extension(ours: Sequence[Algorithm]) -> tuple[CertificateCompressionAlgorithms, ...]:
    """Our compress_certificate for a ClientHello or CertificateRequest: none when compression is off."""
    return (CertificateCompressionAlgorithms(algorithms=tuple(ours)),) if ours else ()


def offered_algorithms(extensions: Sequence[object]) -> tuple[Algorithm, ...]:
    """The algorithms in a ClientHello's or CertificateRequest's compress_certificate (() if absent)."""
    offer = find(extensions, CertificateCompressionAlgorithms)
    return offer.algorithms if offer is not None else ()


def negotiate(ours: Sequence[Algorithm], theirs: Sequence[Algorithm]) -> Algorithm | None:
    """RFC 8879 §3-§4: our first algorithm the peer offered; values we do not know are ignored."""
    return next((algorithm for algorithm in ours if algorithm in theirs), None)


def send_certificate(
    out: Output,
    certificate: Certificate13,
    ours: Sequence[Algorithm],
    theirs: Sequence[Algorithm],
) -> bytes:
    """Send ``certificate``, compressed if the peer offered one of ``ours``; the raw bytes, for the transcript."""
    algorithm = negotiate(ours, theirs)
    if algorithm is None:
        return out.send(certificate)
    return out.send(compress_certificate(certificate, algorithm))


def compress_certificate(certificate: Certificate13, algorithm: Algorithm) -> CompressedCertificate:
    """RFC 8879 §4 (and erratum 8753): the Certificate *body*, without its 4-byte handshake header."""
    w = Writer()
    certificate.encode(w)
    body = bytes(w.getvalue())
    return CompressedCertificate(
        algorithm=algorithm,
        uncompressed_length=len(body),
        compressed_certificate_message=compress(algorithm, body),
    )


def received_certificate(
    msg: Certificate13 | CompressedCertificate, offered: Sequence[Algorithm], max_size: int
) -> tuple[Certificate13, Algorithm | None]:
    """The Certificate a state received (decompressed if need be) and the algorithm it came compressed with."""
    if isinstance(msg, Certificate13):
        return msg, None
    if not offered:
        # RFC 8879 §3: without our compress_certificate there is no CompressedCertificate to expect.
        raise UnexpectedMessage(("Certificate",), "CompressedCertificate")
    return decompress_certificate(msg, offered, max_size), msg.algorithm


def decompress_certificate(
    msg: CompressedCertificate, offered: Sequence[Algorithm], max_size: int
) -> Certificate13:
    """RFC 8879 §4: check the algorithm and the claimed length, decompress with a limit, decode."""
    # RFC 8879 §4: the algorithm MUST be one the receiver listed in its compress_certificate.
    if msg.algorithm not in offered:
        raise PeerMisbehaved(Misbehaviour.UNOFFERED_CERTIFICATE_COMPRESSION, msg.algorithm.name)
    # RFC 8879 §4: uncompressed_length lets the receiver enforce its message size limit before decompressing.
    if msg.uncompressed_length > max_size:
        raise PeerMisbehaved(
            Misbehaviour.COMPRESSED_CERTIFICATE_TOO_LARGE, f"{msg.uncompressed_length} bytes"
        )
    # A Certificate body is never empty (context length byte + certificate_list length).
    if msg.uncompressed_length == 0:
        raise PeerMisbehaved(Misbehaviour.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH, "uncompressed_length 0")
    body = decompress(msg.algorithm, msg.compressed_certificate_message, msg.uncompressed_length)
    certificate = decode_message(HandshakeType.CERTIFICATE, body)
    assert isinstance(certificate, Certificate13)
    return certificate


def compress(algorithm: Algorithm, data: bytes) -> bytes:
    """Compress ``data``; results are cached, so a server compresses its chain once, not per handshake."""
    return _compress_cached(algorithm, data)


def decompress(algorithm: Algorithm, data: bytes, uncompressed_length: int) -> bytes:
    """Exactly ``uncompressed_length`` bytes, or PeerMisbehaved (bad_certificate, RFC 8879 §4).

    The decoders stop near ``uncompressed_length`` + 1 bytes of output, however much the input
    would expand to; a truncated stream or bytes after its end are failures too.
    """
    try:
        out, complete = _DECOMPRESSORS[algorithm](data, uncompressed_length + 1)
    except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
        raise PeerMisbehaved(Misbehaviour.CERTIFICATE_DECOMPRESSION_FAILED, algorithm.name) from exc
    # RFC 8879 §4: a decompressed length other than uncompressed_length is bad_certificate.
    if len(out) != uncompressed_length:
        raise PeerMisbehaved(
            Misbehaviour.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH, f"{len(out)} != {uncompressed_length}"
        )
    if not complete:
        raise PeerMisbehaved(
            Misbehaviour.CERTIFICATE_DECOMPRESSION_FAILED, f"{algorithm.name}: truncated stream"
        )
    return out


@functools.lru_cache(maxsize=128)
def _compress_cached(algorithm: Algorithm, data: bytes) -> bytes:
    if algorithm is Algorithm.BROTLI:
        # RFC 8879 §4: Brotli (RFC 7932); quality 11 pays off because the result is cached.
        compressed: bytes = brotli.compress(data, quality=11)
        return compressed
    if algorithm is Algorithm.ZLIB:
        return zlib.compress(data, 9)  # RFC 8879 §4: ZLIB (RFC 1950)
    if algorithm is Algorithm.ZSTD:
        return zstandard.ZstdCompressor(level=19).compress(data)  # RFC 8879 §4: Zstandard (RFC 8478)
    raise ValueError(f"unsupported certificate compression algorithm {algorithm!r}")


def _zlib(data: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = zlib.decompressobj()
    out = decompressor.decompress(data, limit)
    return out, decompressor.eof and not decompressor.unused_data and not decompressor.unconsumed_tail


def _brotli(data: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = brotli.Decompressor()
    # brotli >= 1.2: the output buffer stops growing at the limit (it may overshoot by one growth step).
    out: bytes = decompressor.process(data, output_buffer_limit=limit)
    finished: bool = decompressor.is_finished()
    return out, finished


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    # A frame that states its content size gets a buffer of that size: check it before allocating.
    content_size = zstandard.get_frame_parameters(data).content_size
    if content_size != zstandard.CONTENTSIZE_UNKNOWN and content_size >= limit:
        return b"", False  # claims more than uncompressed_length: a length mismatch, nothing decoded
    decompressor = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
    # One frame, nothing after it; output beyond ``limit`` (unknown content size) is an error.
    return decompressor.decompress(data, max_output_size=limit, allow_extra_data=False), True


_DECOMPRESSORS = {
    Algorithm.ZLIB: _zlib,
    Algorithm.BROTLI: _brotli,
    Algorithm.ZSTD: _zstd,
}
SUPPORTED_ALGORITHMS: frozenset[Algorithm] = frozenset(_DECOMPRESSORS)
# Our preference, as OpenSSL 3.2+ and Chrome (brotli first).
DEFAULT_CERTIFICATE_COMPRESSION: tuple[Algorithm, ...] = (Algorithm.BROTLI, Algorithm.ZLIB, Algorithm.ZSTD)
# Frames may declare windows up to 2 GiB; 8 MiB is zstd level 19's own window and bounds the allocation.
_ZSTD_MAX_WINDOW = 1 << 23
