"""TLS certificate compression (RFC 8879): round trips both ways, negotiation, and every way to get it wrong.

Negative tests forge the peer's CompressedCertificate by replacing the ``send_certificate`` hook of
the sending side, so the forged message is what both transcripts hash; each asserts the raised
(type, reason, alert) and that the peer receives that alert.
"""

from __future__ import annotations

import dataclasses
import functools
import tracemalloc
import zlib
from collections.abc import Callable, Sequence

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard

import handclasp.client.tls13 as client_tls13
import handclasp.server.tls13 as server_tls13
import pki
from handclasp import ClientConfig, ServerConfig
from handclasp.common import certcompress
from handclasp.common.context import Output
from handclasp.connection import Connection
from handclasp.errors import (
    AlertReceived,
    DecodeError,
    Misbehaviour,
    PeerMisbehaved,
    TLSError,
    UnexpectedMessage,
)
from handclasp.events import Direction, HandshakeMessage
from handclasp.wire import extensions as ext
from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    AlertDescription,
    AlertLevel,
    CertificateCompressionAlgorithm,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
)
from handclasp.wire.extensions import MessageKind
from handclasp.wire.handshake import (
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    ClientHello,
    CompressedCertificate,
    decode_message,
)
from helpers import ConnectionPair

A = AlertDescription
M = Misbehaviour
Alg = CertificateCompressionAlgorithm
ALGORITHMS = [Alg.BROTLI, Alg.ZLIB, Alg.ZSTD]
RAW_COMPRESS: dict[Alg, Callable[[bytes], bytes]] = {
    Alg.ZLIB: zlib.compress,
    Alg.BROTLI: brotli.compress,
    Alg.ZSTD: lambda data: zstandard.ZstdCompressor().compress(data),
}
Forge = Callable[[bytes], CompressedCertificate]
BOMB_SIZE = 32 << 20  # deflate tops out near 1:1000, and the message must fit the 64 KiB handshake limit


@functools.cache
def bomb(algorithm: Alg) -> bytes:
    """32 MiB of zeros, compressed fast (the point is the ratio, not the compressor's effort)."""
    zeros = bytes(BOMB_SIZE)
    if algorithm is Alg.BROTLI:
        return brotli.compress(zeros, quality=1)  # type: ignore[no-any-return]
    if algorithm is Alg.ZLIB:
        return zlib.compress(zeros, 9)
    return zstandard.ZstdCompressor(level=1).compress(zeros)


# --- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def auth_server(test_pki: pki.PKI, server_config: ServerConfig) -> ServerConfig:
    return dataclasses.replace(server_config, client_auth="require", client_cadata=test_pki.ca.root_pem)


@pytest.fixture
def auth_client(test_pki: pki.PKI, client_config: ClientConfig) -> ClientConfig:
    return dataclasses.replace(client_config, certificate=test_pki.client)


def sent(events: Sequence[object], cls: type) -> list[object]:
    return [
        e.message
        for e in events
        if isinstance(e, HandshakeMessage) and e.direction is Direction.SENT and isinstance(e.message, cls)
    ]


def received(events: Sequence[object], cls: type) -> list[object]:
    return [
        e.message
        for e in events
        if isinstance(e, HandshakeMessage)
        and e.direction is Direction.RECEIVED
        and isinstance(e.message, cls)
    ]


def body_of(certificate: Certificate13) -> bytes:
    w = Writer()
    certificate.encode(w)
    return bytes(w.getvalue())


def forge(monkeypatch: pytest.MonkeyPatch, module: object, make: Forge) -> None:
    """Make ``module``'s side send ``make(Certificate body)`` in place of its Certificate."""

    def send(out: Output, certificate: Certificate13, ours: object, theirs: object) -> bytes:
        return out.send(make(body_of(certificate)))

    monkeypatch.setattr(module, "send_certificate", send)


def compressed(
    algorithm: Alg, data: bytes, *, length: int | None = None, payload: bytes | None = None
) -> CompressedCertificate:
    return CompressedCertificate(
        algorithm=algorithm,
        uncompressed_length=len(data) if length is None else length,
        compressed_certificate_message=RAW_COMPRESS[algorithm](data) if payload is None else payload,
    )


def expect_failure(
    victim: Connection,
    peer: Connection,
    step: Callable[[], object],
    error_type: type[TLSError],
    reason: Misbehaviour | None,
    alert: AlertDescription,
) -> None:
    """``step`` fails with exactly (type, reason, alert), and the peer reads that alert off the wire."""
    with pytest.raises(error_type) as info:
        step()
    error = info.value
    assert type(error) is error_type
    if reason is not None:
        assert error.reason is reason  # type: ignore[attr-defined]
    assert error.alert is alert
    out = victim.data_to_send()
    if out[0] == ContentType.ALERT:  # no write key yet: a plaintext alert
        assert out[-2:] == bytes((AlertLevel.FATAL, alert))
        return
    with pytest.raises(AlertReceived) as got:
        peer.receive_bytes(out)
    assert got.value.description is alert


def client_fails(
    pair: ConnectionPair, error_type: type[TLSError], reason: Misbehaviour | None, alert: AlertDescription
) -> None:
    pair.client_to_server()
    expect_failure(pair.client, pair.server, pair.server_to_client, error_type, reason, alert)


def server_fails(
    pair: ConnectionPair, error_type: type[TLSError], reason: Misbehaviour | None, alert: AlertDescription
) -> None:
    pair.client_to_server()
    pair.server_to_client()
    expect_failure(pair.server, pair.client, pair.client_to_server, error_type, reason, alert)


# --- round trips --------------------------------------------------------------------------------------


def test_compression_is_on_by_default_with_brotli_first(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """RFC 8879 §3: the client offers compress_certificate; the server picks its first shared algorithm."""
    assert client_config.certificate_compression == (Alg.BROTLI, Alg.ZLIB, Alg.ZSTD)
    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    (message,) = sent(pair.server_events, CompressedCertificate)
    assert isinstance(message, CompressedCertificate) and message.algorithm is Alg.BROTLI
    assert sent(pair.server_events, Certificate13) == []
    c, s = pair.completions()
    assert c.negotiated.certificate_compression is Alg.BROTLI
    assert s.negotiated.certificate_compression is None  # no client certificate
    assert received(pair.client_events, CompressedCertificate) == [message]
    pair.transfer(b"ping")


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_server_certificate_round_trips(
    client_config: ClientConfig, server_config: ServerConfig, algorithm: Alg
) -> None:
    """RFC 8879 §4: the server's chain arrives compressed, decompresses, verifies; the transcript hashes it as sent."""
    server = dataclasses.replace(server_config, certificate_compression=(algorithm,))
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    (message,) = received(pair.client_events, CompressedCertificate)
    assert isinstance(message, CompressedCertificate) and message.algorithm is algorithm
    c, _ = pair.completions()
    assert c.negotiated.certificate_compression is algorithm
    assert c.negotiated.peer_certificates == server_config.certificates[0].chain
    pair.transfer(b"after compression", from_client=False)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_client_certificate_round_trips(
    auth_client: ClientConfig, auth_server: ServerConfig, test_pki: pki.PKI, algorithm: Alg
) -> None:
    """RFC 8879 §3: compress_certificate in CertificateRequest lets the client compress its certificate."""
    server = dataclasses.replace(auth_server, certificate_compression=(algorithm,))
    pair = ConnectionPair.make(auth_client, server)
    pair.handshake()
    (request,) = received(pair.client_events, CertificateRequest13)
    offer = ext.find(request.extensions, ext.CertificateCompressionAlgorithms)  # type: ignore[attr-defined]
    assert offer is not None and offer.algorithms == (algorithm,)
    (message,) = sent(pair.client_events, CompressedCertificate)
    assert isinstance(message, CompressedCertificate) and message.algorithm is algorithm
    c, s = pair.completions()
    assert s.negotiated.certificate_compression is algorithm
    assert s.negotiated.peer_certificates[0] == test_pki.client.chain[0]
    assert c.negotiated.certificate_compression is algorithm
    pair.transfer(b"mutual")


def test_intermediate_chain_compresses(test_pki: pki.PKI, client_config: ClientConfig) -> None:
    server = ServerConfig(certificates=(test_pki.intermediate,), keylog_filename=None)
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    c, _ = pair.completions()
    assert c.negotiated.certificate_compression is Alg.BROTLI
    assert len(c.negotiated.peer_certificates) == 2


def test_server_preference_decides(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8879 §4: the sender picks; ours is the server's first algorithm the client offered."""
    client = dataclasses.replace(client_config, certificate_compression=(Alg.BROTLI, Alg.ZSTD))
    server = dataclasses.replace(server_config, certificate_compression=(Alg.ZLIB, Alg.ZSTD, Alg.BROTLI))
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.certificate_compression is Alg.ZSTD


def test_hello_retry_keeps_compression(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8446 §4.1.2: the second ClientHello keeps compress_certificate; the certificate still comes compressed."""
    client = dataclasses.replace(
        client_config, groups=(NamedGroup.X25519, NamedGroup.SECP384R1), key_share_groups=(NamedGroup.X25519,)
    )
    server = dataclasses.replace(
        server_config, groups=(NamedGroup.SECP384R1,), certificate_compression=(Alg.ZSTD,)
    )
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    hellos = received(pair.server_events, ClientHello)
    assert len(hellos) == 2
    for hello in hellos:
        assert certcompress.offered_algorithms(hello.extensions) == client.certificate_compression  # type: ignore[attr-defined]
    c, s = pair.completions()
    assert c.negotiated.hello_retry and s.negotiated.hello_retry
    assert c.negotiated.certificate_compression is Alg.ZSTD


@pytest.mark.parametrize("side", ["client", "server"])
def test_compression_off_on_either_side_sends_a_plain_certificate(
    client_config: ClientConfig, server_config: ServerConfig, side: str
) -> None:
    """RFC 8879 §3: without a shared algorithm the Certificate goes uncompressed."""
    client = (
        dataclasses.replace(client_config, certificate_compression=()) if side == "client" else client_config
    )
    server = (
        dataclasses.replace(server_config, certificate_compression=()) if side == "server" else server_config
    )
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    (hello,) = received(pair.server_events, ClientHello)
    assert (ext.find(hello.extensions, ext.CertificateCompressionAlgorithms) is None) == (side == "client")  # type: ignore[attr-defined]
    assert sent(pair.server_events, CompressedCertificate) == []
    assert len(received(pair.client_events, Certificate13)) == 1
    c, _ = pair.completions()
    assert c.negotiated.certificate_compression is None


@pytest.mark.parametrize("side", ["client", "server"])
def test_client_certificate_goes_plain_when_either_side_is_off(
    auth_client: ClientConfig, auth_server: ServerConfig, side: str
) -> None:
    client = dataclasses.replace(auth_client, certificate_compression=()) if side == "client" else auth_client
    server = dataclasses.replace(auth_server, certificate_compression=()) if side == "server" else auth_server
    pair = ConnectionPair.make(client, server)
    pair.handshake()
    (request,) = received(pair.client_events, CertificateRequest13)
    has_offer = ext.find(request.extensions, ext.CertificateCompressionAlgorithms) is not None  # type: ignore[attr-defined]
    assert has_offer == (side == "client")
    assert len(received(pair.server_events, Certificate13)) == 1
    assert received(pair.server_events, CompressedCertificate) == []
    _, s = pair.completions()
    assert s.negotiated.certificate_compression is None and s.negotiated.peer_certificates


def test_unknown_algorithms_in_the_offer_are_ignored(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    """RFC 8879 §3 / RFC 8701: values we do not know are skipped, not errors."""
    client = dataclasses.replace(client_config)
    object.__setattr__(client, "certificate_compression", (Alg(0x7A7A), Alg(0x4444), Alg.ZLIB))
    pair = ConnectionPair.make(client, server_config)
    pair.handshake()
    assert pair.client.negotiated is not None and pair.client.negotiated.certificate_compression is Alg.ZLIB


def test_only_unknown_algorithms_give_a_plain_certificate(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    client = dataclasses.replace(client_config)
    object.__setattr__(client, "certificate_compression", (Alg(0x7A7A),))
    pair = ConnectionPair.make(client, server_config)
    pair.handshake()
    assert sent(pair.server_events, CompressedCertificate) == []
    assert pair.client.negotiated is not None and pair.client.negotiated.certificate_compression is None


def test_tls12_server_ignores_the_offer(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """RFC 8879 §3: with TLS 1.2 negotiated the extension is ignored."""
    server = dataclasses.replace(server_config, versions=(ProtocolVersion.TLS1_2,))
    pair = ConnectionPair.make(client_config, server)
    pair.handshake()
    c, _ = pair.completions()
    assert c.negotiated.version == ProtocolVersion.TLS1_2 and c.negotiated.certificate_compression is None


def test_server_compresses_its_chain_once(client_config: ClientConfig, server_config: ServerConfig) -> None:
    """A busy server does not compress per handshake: the second one is a cache hit with identical bytes."""
    server = dataclasses.replace(server_config, certificate_compression=(Alg.BROTLI,))
    messages = []
    for _ in range(2):
        pair = ConnectionPair.make(client_config, server)
        hits = certcompress._compress_cached.cache_info().hits
        pair.client_to_server()  # the server's whole flight is built here
        messages += sent(pair.server_events, CompressedCertificate)
    assert certcompress._compress_cached.cache_info().hits == hits + 1
    assert messages[0] == messages[1]


def test_summary_names_algorithm_and_sizes(client_config: ClientConfig, server_config: ServerConfig) -> None:
    pair = ConnectionPair.make(client_config, server_config)
    pair.handshake()
    (event,) = [
        e
        for e in pair.client_events
        if isinstance(e, HandshakeMessage) and isinstance(e.message, CompressedCertificate)
    ]
    message = event.message
    assert isinstance(message, CompressedCertificate)
    assert event.name == "CompressedCertificate"
    assert event.msg_type is HandshakeType.COMPRESSED_CERTIFICATE
    assert (
        event.summary
        == f"algorithm=brotli {message.uncompressed_length}B -> {len(message.compressed_certificate_message)}B"
    )


# --- negative: the client receiving the server's certificate -----------------------------------------


def test_unoffered_algorithm_is_illegal_parameter(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §4: the algorithm MUST be one the receiver offered."""
    client = dataclasses.replace(client_config, certificate_compression=(Alg.BROTLI,))
    forge(monkeypatch, server_tls13, lambda body: compressed(Alg.ZLIB, body))
    client_fails(ConnectionPair.make(client, server_config), PeerMisbehaved, M.UNOFFERED_CERTIFICATE_COMPRESSION, A.ILLEGAL_PARAMETER)


def test_unknown_algorithm_is_illegal_parameter(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §4: an algorithm nobody offered (unknown to us) is refused the same way."""
    forge(monkeypatch, server_tls13, lambda body: dataclasses.replace(compressed(Alg.ZLIB, body), algorithm=Alg(0x7A7A)))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.UNOFFERED_CERTIFICATE_COMPRESSION, A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
@pytest.mark.parametrize("delta", [1, -1], ids=["claims-longer", "claims-shorter"])
def test_uncompressed_length_mismatch_is_bad_certificate(
    client_config: ClientConfig,
    server_config: ServerConfig,
    monkeypatch: pytest.MonkeyPatch,
    algorithm: Alg,
    delta: int,
) -> None:
    """RFC 8879 §4: a decompressed length other than uncompressed_length MUST abort with bad_certificate."""
    forge(monkeypatch, server_tls13, lambda body: compressed(algorithm, body, length=len(body) + delta))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH, A.BAD_CERTIFICATE)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_decompression_bomb_costs_nothing(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch, algorithm: Alg
) -> None:
    """RFC 8879 §5: a tiny message that expands to 32 MiB, claiming the real length, is refused after ~1 length."""
    assert len(bomb(algorithm)) < 40_000
    forge(monkeypatch, server_tls13, lambda body: compressed(algorithm, body, payload=bomb(algorithm)))
    pair = ConnectionPair.make(client_config, server_config)
    pair.client_to_server()
    tracemalloc.start()
    try:
        expect_failure(pair.client, pair.server, pair.server_to_client, PeerMisbehaved, M.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH, A.BAD_CERTIFICATE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20  # the output stops near uncompressed_length: nothing like 32 MiB is ever held


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_huge_claimed_length_is_bad_certificate_before_decompressing(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch, algorithm: Alg
) -> None:
    """RFC 8879 §4: uncompressed_length lets the receiver enforce its size limit before decompressing."""
    forge(monkeypatch, server_tls13, lambda body: compressed(algorithm, body, length=(1 << 24) - 1, payload=bomb(algorithm)))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.COMPRESSED_CERTIFICATE_TOO_LARGE, A.BAD_CERTIFICATE)


def test_claimed_length_over_the_configured_limit(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap is max_handshake_message_size, the limit a plain Certificate would meet too."""
    client = dataclasses.replace(client_config, max_handshake_message_size=4096)
    forge(monkeypatch, server_tls13, lambda body: compressed(Alg.ZLIB, body, length=4097))
    client_fails(ConnectionPair.make(client, server_config), PeerMisbehaved, M.COMPRESSED_CERTIFICATE_TOO_LARGE, A.BAD_CERTIFICATE)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_garbage_compressed_data_is_bad_certificate(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch, algorithm: Alg
) -> None:
    """RFC 8879 §4: a message that cannot be decompressed MUST abort with bad_certificate."""
    forge(monkeypatch, server_tls13, lambda body: compressed(algorithm, body, payload=b"\xff" * 40))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.CERTIFICATE_DECOMPRESSION_FAILED, A.BAD_CERTIFICATE)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_trailing_bytes_after_the_stream_are_bad_certificate(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch, algorithm: Alg
) -> None:
    """RFC 8879 §4: the whole field is the compressed Certificate; anything after the stream is a failure."""
    forge(monkeypatch, server_tls13, lambda body: compressed(algorithm, body, payload=RAW_COMPRESS[algorithm](body) + b"\x00\x01"))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.CERTIFICATE_DECOMPRESSION_FAILED, A.BAD_CERTIFICATE)


def test_zero_uncompressed_length_is_bad_certificate(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §4: a Certificate is never empty, so a zero uncompressed_length cannot match (bad_certificate)."""
    forge(monkeypatch, server_tls13, lambda body: compressed(Alg.ZLIB, b"", length=0))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH, A.BAD_CERTIFICATE)


def test_compressed_certificate_that_is_not_a_certificate_is_decode_error(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8446 §4.4.2: what decompresses must parse as a Certificate body, with no trailing bytes."""
    forge(monkeypatch, server_tls13, lambda body: compressed(Alg.BROTLI, body + b"\x00"))
    client_fails(ConnectionPair.make(client_config, server_config), DecodeError, None, A.DECODE_ERROR)


def test_compressed_certificate_when_not_offered_is_unexpected_message(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §3: a client that did not offer compress_certificate gets no CompressedCertificate."""
    client = dataclasses.replace(client_config, certificate_compression=())
    forge(monkeypatch, server_tls13, lambda body: compressed(Alg.BROTLI, body))
    client_fails(ConnectionPair.make(client, server_config), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE)


def test_compressed_certificate_checks_run_on_the_inner_certificate(
    client_config: ClientConfig, server_config: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §4 + RFC 8446 §4.4.2: an empty certificate_list inside is refused exactly like a plain one."""
    forge(monkeypatch, server_tls13, lambda body: compressed(Alg.ZSTD, b"\x00\x00\x00\x00"))
    client_fails(ConnectionPair.make(client_config, server_config), PeerMisbehaved, M.NO_CERTIFICATE_FROM_SERVER, A.DECODE_ERROR)


# --- negative: the server receiving the client's certificate -----------------------------------------


def test_client_compressed_certificate_when_not_offered_is_unexpected_message(
    auth_client: ClientConfig, auth_server: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §3: our CertificateRequest had no compress_certificate, so a CompressedCertificate is unexpected."""
    server = dataclasses.replace(auth_server, certificate_compression=())
    forge(monkeypatch, client_tls13, lambda body: compressed(Alg.BROTLI, body))
    server_fails(ConnectionPair.make(auth_client, server), UnexpectedMessage, None, A.UNEXPECTED_MESSAGE)


def test_client_certificate_with_an_unoffered_algorithm(
    auth_client: ClientConfig, auth_server: ServerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8879 §4: the algorithm MUST be one our CertificateRequest listed."""
    server = dataclasses.replace(auth_server, certificate_compression=(Alg.ZLIB,))
    forge(monkeypatch, client_tls13, lambda body: compressed(Alg.BROTLI, body))
    server_fails(ConnectionPair.make(auth_client, server), PeerMisbehaved, M.UNOFFERED_CERTIFICATE_COMPRESSION, A.ILLEGAL_PARAMETER)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_client_certificate_bomb(
    auth_client: ClientConfig, auth_server: ServerConfig, monkeypatch: pytest.MonkeyPatch, algorithm: Alg
) -> None:
    """RFC 8879 §4-§5: the server bounds decompression of the client's certificate the same way."""
    forge(monkeypatch, client_tls13, lambda body: compressed(algorithm, body, payload=bomb(algorithm)))
    server_fails(ConnectionPair.make(auth_client, auth_server), PeerMisbehaved, M.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH, A.BAD_CERTIFICATE)


# --- the codec and the algorithms --------------------------------------------------------------------


def test_compress_certificate_extension_wire_format() -> None:
    """RFC 8879 §3: uint8 length, then uint16 algorithm code points."""
    w = Writer()
    ext.encode_extensions(
        w, (ext.CertificateCompressionAlgorithms(algorithms=(Alg.BROTLI, Alg.ZLIB, Alg.ZSTD)),)
    )
    assert w.getvalue() == bytes.fromhex("000b001b000706000200010003")


@pytest.mark.parametrize("body", ["00", "01ff", "03000100"], ids=["empty", "odd", "bad-length"])
def test_malformed_compress_certificate_is_decode_error(body: str) -> None:
    """RFC 8879 §3: algorithms<2..2^8-2>."""
    data = bytes.fromhex(body)
    block = b"\x00\x1b" + len(data).to_bytes(2, "big") + data
    with pytest.raises(DecodeError):
        ext.decode_extensions(Reader(len(block).to_bytes(2, "big") + block), MessageKind.CH)


@pytest.mark.parametrize("kind", [MessageKind.EE, MessageKind.CT])
def test_compress_certificate_outside_client_hello_and_certificate_request(kind: MessageKind) -> None:
    """RFC 8879 §3 / RFC 8446 §4.2: the extension belongs in ClientHello and CertificateRequest only."""
    block = b"\x00\x1b\x00\x03\x02\x00\x02"
    with pytest.raises(PeerMisbehaved) as info:
        ext.decode_extensions(Reader(len(block).to_bytes(2, "big") + block), kind)
    assert info.value.reason is M.EXTENSION_NOT_ALLOWED and info.value.alert is A.ILLEGAL_PARAMETER


def test_compressed_certificate_wire_format() -> None:
    """RFC 8879 §4: algorithm uint16, uncompressed_length uint24, compressed_certificate_message<1..2^24-1>."""
    message = CompressedCertificate(
        algorithm=Alg.ZSTD, uncompressed_length=0x010203, compressed_certificate_message=b"ab"
    )
    w = Writer()
    message.encode(w)
    assert w.getvalue() == bytes.fromhex("00030102030000026162")
    assert decode_message(HandshakeType.COMPRESSED_CERTIFICATE, bytes(w.getvalue())) == message
    with pytest.raises(DecodeError):
        decode_message(HandshakeType.COMPRESSED_CERTIFICATE, bytes.fromhex("0003000010000000"))


def test_compressed_body_has_no_handshake_header(test_pki: pki.PKI) -> None:
    """RFC 8879 §4 (erratum 8753): the Certificate *body* is compressed, without its 4-byte header."""
    certificate = Certificate13(
        certificate_request_context=b"",
        certificate_list=tuple(CertificateEntry(cert_data=d) for d in test_pki.intermediate.chain_der),
    )
    message = certcompress.compress_certificate(certificate, Alg.ZLIB)
    assert zlib.decompress(message.compressed_certificate_message) == body_of(certificate)
    assert message.uncompressed_length == len(body_of(certificate))


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_decompress_round_trips(algorithm: Alg) -> None:
    data = bytes(range(256)) * 40
    assert certcompress.decompress(algorithm, certcompress.compress(algorithm, data), len(data)) == data
    assert certcompress.decompress(algorithm, RAW_COMPRESS[algorithm](data), len(data)) == data


def test_zstd_frame_without_content_size_is_bounded() -> None:
    """A streamed zstd frame states no size: the output buffer is the claimed length + 1, no more."""
    compressor = zstandard.ZstdCompressor().compressobj()
    bomb = compressor.compress(bytes(64 << 20)) + compressor.flush()
    assert zstandard.get_frame_parameters(bomb).content_size == zstandard.CONTENTSIZE_UNKNOWN
    with pytest.raises(PeerMisbehaved) as info:
        certcompress.decompress(Alg.ZSTD, bomb, 1000)
    assert info.value.alert is A.BAD_CERTIFICATE
    small = zstandard.ZstdCompressor().compressobj()
    small_frame = small.compress(b"certificate") + small.flush()
    assert certcompress.decompress(Alg.ZSTD, small_frame, 11) == b"certificate"


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_truncated_stream_is_bad_certificate(algorithm: Alg) -> None:
    data = bytes(range(256)) * 8
    stream = RAW_COMPRESS[algorithm](data)
    with pytest.raises(PeerMisbehaved) as info:
        certcompress.decompress(algorithm, stream[:-2], len(data))
    assert info.value.alert is A.BAD_CERTIFICATE
    assert info.value.reason in (
        M.CERTIFICATE_DECOMPRESSION_FAILED,
        M.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH,
    )


def test_negotiate_takes_our_order_and_skips_unknown_values() -> None:
    ours = (Alg.ZSTD, Alg.BROTLI)
    assert certcompress.negotiate(ours, (Alg(0x0A0A), Alg.BROTLI, Alg.ZSTD)) is Alg.ZSTD
    assert certcompress.negotiate(ours, (Alg.ZLIB, Alg(0x0A0A))) is None
    assert certcompress.negotiate((), (Alg.ZLIB,)) is None


@pytest.mark.parametrize("algorithms", [(Alg(0x7A7A),), (Alg.ZLIB, Alg.ZLIB)], ids=["unknown", "duplicate"])
def test_config_rejects_bad_algorithm_lists(test_pki: pki.PKI, algorithms: tuple[Alg, ...]) -> None:
    with pytest.raises(ValueError):
        ClientConfig(certificate_compression=algorithms)
    with pytest.raises(ValueError):
        ServerConfig(certificates=(test_pki.server(),), certificate_compression=algorithms)


def test_client_hello_offer_lists_our_algorithms_in_order(
    client_config: ClientConfig, server_config: ServerConfig
) -> None:
    client = dataclasses.replace(client_config, certificate_compression=(Alg.ZSTD, Alg.ZLIB))
    pair = ConnectionPair.make(client, server_config)
    pair.client_to_server()
    (hello,) = received(pair.server_events, ClientHello)
    offer = ext.find(hello.extensions, ext.CertificateCompressionAlgorithms)  # type: ignore[attr-defined]
    assert offer is not None and offer.extension_type is ExtensionType.COMPRESS_CERTIFICATE
    assert offer.algorithms == (Alg.ZSTD, Alg.ZLIB)
