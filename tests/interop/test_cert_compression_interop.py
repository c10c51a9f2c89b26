"""Certificate compression (RFC 8879) against real peers on 127.0.0.1.

* curl_cffi impersonating Chrome (BoringSSL, offers brotli) fetches a page from our server: our server's
  events show the CompressedCertificate it sent, and a tshark capture decrypted with our server's key log
  shows handshake type 25 (never 11) with algorithm brotli on the wire.
* tlslite-ng (pure Python, LGPL: driven through its public API only) is the one installed peer that also
  *sends* compressed certificates: as a server (our client decompresses and verifies its chain, for each
  algorithm) and as a client answering our CertificateRequest. Node 26 (OpenSSL 3.5.9), pyOpenSSL on
  OpenSSL 4.0.3, Bun (BoringSSL) and GnuTLS 3.7.9 were tried and send a plain Certificate (their builds
  have no compression libraries, or the API does not register any).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pki
from handclasp import ClientConfig, ServerConfig
from handclasp.common.certcompress import compress_certificate
from handclasp.events import Direction, Event, HandshakeMessage
from handclasp.io.blocking import TLSSocket, connect, serve
from handclasp.wire.enums import CertificateCompressionAlgorithm
from handclasp.wire.extensions import CertificateCompressionAlgorithms, find
from handclasp.wire.handshake import Certificate13, CertificateEntry, ClientHello, CompressedCertificate
from tests.interop.peers.harness import (
    PeerPKI,
    curl_cffi_get,
    peer_server,
    require,
    run_peer,
    tshark_capture,
    tshark_read,
)

PKI = pki.test_pki()
Alg = CertificateCompressionAlgorithm
ALGORITHMS = [Alg.BROTLI, Alg.ZLIB, Alg.ZSTD]
TIMEOUT = 10.0

# A tlslite-ng peer: "server CERT KEY SEND RECEIVE mtls|plain" or "client CERT KEY SEND RECEIVE PORT".
# SEND / RECEIVE are tlslite's certificate_compression_send / _receive lists (zlib,brotli,zstd).
# One JSON line per connection; X25519 only (tlslite's ML-KEM is pure Python and not the point here).
TLSLITE_PEER = r"""
import json, socket, sys
from tlslite.api import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

role, cert, key, send, receive, extra = sys.argv[1:7]
chain = X509CertChain()
chain.parsePemList(open(cert).read())
private = parsePEMKey(open(key).read(), private=True)
settings = HandshakeSettings()
settings.minVersion = settings.maxVersion = (3, 4)
settings.eccCurves = ["x25519"]
settings.keyShares = ["x25519"]
settings.certificate_compression_send = send.split(",")
settings.certificate_compression_receive = receive.split(",")

def report(conn, ok, error=None):
    session = getattr(conn, "session", None)
    print(json.dumps({"event": "connection", "role": role, "ok": ok, "error": error,
                      "server_cert_compression": conn.server_cert_compression_algo,
                      "client_cert_compression": conn.client_cert_compression_algo,
                      "client_certificate": bool(session is not None and session.clientCertChain)}), flush=True)

if role == "server":
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)
    print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    sock, _ = listener.accept()
    sock.settimeout(10)
    conn = TLSConnection(sock)
    try:
        conn.handshakeServer(certChain=chain, privateKey=private, reqCert=extra == "mtls", settings=settings)
        conn.write(b"hello from tlslite\n")
        report(conn, True)
    except Exception as exc:
        report(conn, False, repr(exc))
else:
    conn = TLSConnection(socket.create_connection(("127.0.0.1", int(extra)), timeout=10))
    try:
        conn.handshakeClientCert(certChain=chain, privateKey=private, settings=settings)
        greeting = conn.read(max=100)  # our server's greeting (after its NewSessionTickets)
        report(conn, greeting == b"hello from handclasp\n", None if greeting else "no greeting")
        conn.close()
    except Exception as exc:
        report(conn, False, repr(exc))
"""


def require_tlslite() -> None:
    try:
        import tlslite  # noqa: F401
    except ImportError:
        require("tlslite-ng (pip install -e .[dev])", False)


class EventServer:
    """Our server (``handclasp.io.blocking.serve``) keeping every event and the Negotiated per connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.events: list[Event] = []
        self.negotiated: list[Any] = []
        self.errors: list[BaseException] = []
        self.done = threading.Event()

    def sent(self, cls: type) -> list[object]:
        return [e.message for e in self._messages(Direction.SENT) if isinstance(e.message, cls)]

    def received(self, cls: type) -> list[object]:
        return [e.message for e in self._messages(Direction.RECEIVED) if isinstance(e.message, cls)]

    def _messages(self, direction: Direction) -> list[HandshakeMessage]:
        return [e for e in list(self.events) if isinstance(e, HandshakeMessage) and e.direction is direction]


@contextlib.contextmanager
def event_server(config: ServerConfig, *, http: bool = False) -> Iterator[EventServer]:
    holder: list[EventServer] = []

    def handler(tls: TLSSocket, addr: Any) -> None:
        run = holder[0]
        run.negotiated.append(tls.negotiated)
        tls.settimeout(TIMEOUT)
        try:
            if not http:
                tls.sendall(b"hello from handclasp\n")
            request = b""
            while True:
                chunk = tls.recv(4096)
                request += chunk
                if not chunk or (http and b"\r\n\r\n" in request):
                    break
            if http:
                body = b"hello from handclasp\n"
                tls.sendall(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(body), body)
                )
        except Exception as exc:  # recorded for the test
            run.errors.append(exc)
        finally:
            run.done.set()

    def on_error(addr: Any, exc: BaseException) -> None:
        holder[0].errors.append(exc)
        holder[0].done.set()

    server = serve(
        "127.0.0.1", 0, config, handler, event_hook=lambda e: holder[0].events.append(e), on_error=on_error
    )
    holder.append(EventServer(server.port))
    try:
        yield holder[0]
    finally:
        server.shutdown(timeout=5.0)


def server_config(**options: Any) -> ServerConfig:
    options.setdefault("keylog_filename", None)
    return ServerConfig(certificates=(PKI.server("ecdsa-p256"),), **options)


def offered(hello: object) -> tuple[Alg, ...]:
    assert isinstance(hello, ClientHello)
    offer = find(hello.extensions, CertificateCompressionAlgorithms)
    return offer.algorithms if offer is not None else ()


# ------------------------------------------------------------------------------------ curl_cffi (BoringSSL)


def fetch_with_chrome(run: EventServer, peer_pki: PeerPKI) -> dict[str, Any]:
    result = curl_cffi_get(f"https://localhost:{run.port}/", "chrome", cafile=peer_pki.ca)
    assert run.done.wait(TIMEOUT)
    assert result["ok"], (result["error"], run.errors)
    assert result["status"] == 200 and "hello from handclasp" in result["body"]
    return result


def test_chrome_gets_a_brotli_compressed_certificate(peer_pki: PeerPKI) -> None:
    """RFC 8879 §3-§4: Chrome offers brotli; our server sends CompressedCertificate(brotli), and BoringSSL
    decompresses it, verifies the chain and the CertificateVerify over a transcript holding it as sent."""
    with event_server(server_config(alpn_protocols=("http/1.1",)), http=True) as run:
        fetch_with_chrome(run, peer_pki)
    (hello,) = run.received(ClientHello)
    assert Alg.BROTLI in offered(hello)
    (message,) = run.sent(CompressedCertificate)
    assert isinstance(message, CompressedCertificate) and message.algorithm is Alg.BROTLI
    assert run.sent(Certificate13) == []
    chain = Certificate13(
        certificate_request_context=b"",
        certificate_list=tuple(CertificateEntry(cert_data=der) for der in PKI.server("ecdsa-p256").chain_der),
    )
    assert message == compress_certificate(chain, Alg.BROTLI)  # our chain, nothing else, inside
    assert run.errors == []


def test_chrome_handshake_on_the_wire_has_compressed_certificate(
    peer_pki: PeerPKI, keylog_path: Path
) -> None:
    """Independent proof from tshark: decrypted with our server's key log, the server's flight carries
    handshake type 25 with algorithm 2 (brotli) and no Certificate (11)."""
    config = server_config(alpn_protocols=("http/1.1",), keylog_filename=str(keylog_path))
    with event_server(config, http=True) as run:
        with tshark_capture(run.port) as pcap:
            fetch_with_chrome(run, peer_pki)
    (message,) = run.sent(CompressedCertificate)
    assert isinstance(message, CompressedCertificate)
    fields = [
        "tls.handshake.type",
        "tls.compress_certificate.algorithm",
        "tls.compress_certificate.uncompressed_length",
    ]
    out = tshark_read(pcap, keylog=keylog_path, display_filter="tls.handshake.type == 25", fields=fields)
    rows = [line.split("\t") for line in out.splitlines() if line.strip()]
    assert len(rows) == 1, out
    types, algorithm, length = rows[0]
    assert "25" in types.split(",") and "11" not in types.split(",")
    assert int(algorithm, 0) == Alg.BROTLI and int(length) == message.uncompressed_length
    everything = tshark_read(
        pcap, keylog=keylog_path, display_filter="tls.handshake.type", fields=["tls.handshake.type"]
    )
    assert "11" not in {t for line in everything.split() for t in line.split(",")}


# ------------------------------------------------------------------------------------ tlslite-ng


@contextlib.contextmanager
def tlslite_server(
    peer_pki: PeerPKI, send: str, receive: str = "zlib,brotli,zstd", *, mtls: bool = False
) -> Iterator[Any]:
    require_tlslite()
    argv = [sys.executable, "-c", TLSLITE_PEER, "server", str(peer_pki.server_cert), str(peer_pki.server_key)]
    argv += [send, receive, "mtls" if mtls else "plain"]
    with peer_server(argv, r"listening on 127\.0\.0\.1:(\d+)", name="tlslite server") as server:
        yield server


def tlslite_client(peer_pki: PeerPKI, port: int, send: str, receive: str) -> dict[str, Any]:
    require_tlslite()
    argv = [sys.executable, "-c", TLSLITE_PEER, "client", str(peer_pki.client_cert), str(peer_pki.client_key)]
    done = run_peer([*argv, send, receive, str(port)], timeout=40.0)
    reports = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert reports, done.stdout + done.stderr
    import json

    report: dict[str, Any] = json.loads(reports[-1])
    return report


def our_client(**options: Any) -> ClientConfig:
    return ClientConfig(cadata=PKI.ca.root_pem, keylog_filename=None, **options)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_tlslite_server_sends_compressed_certificate_to_our_client(peer_pki: PeerPKI, algorithm: Alg) -> None:
    """RFC 8879 §4: a compressor other than ours; our client decompresses, verifies and finishes."""
    events: list[Event] = []
    with tlslite_server(peer_pki, algorithm.name.lower()) as server:
        with connect(
            "127.0.0.1",
            server.port,
            our_client(),
            server_name="localhost",
            timeout=TIMEOUT,
            event_hook=events.append,
        ) as tls:
            greeting = tls.recv(100)
            negotiated = tls.negotiated
        report = server.wait_report(1)
    assert report["ok"], report
    assert report["server_cert_compression"] == algorithm.name.lower()  # the peer says it compressed
    assert greeting == b"hello from tlslite\n"
    assert negotiated is not None and negotiated.certificate_compression is algorithm
    assert negotiated.peer_certificates[0] == PKI.server("ecdsa-p256").chain[0]
    received = [
        e.message for e in events if isinstance(e, HandshakeMessage) and e.direction is Direction.RECEIVED
    ]
    assert any(isinstance(m, CompressedCertificate) and m.algorithm is algorithm for m in received)
    assert not any(isinstance(m, Certificate13) for m in received)


def test_tlslite_server_requests_our_client_certificate_compressed(peer_pki: PeerPKI) -> None:
    """RFC 8879 §3: tlslite's CertificateRequest carries compress_certificate; our client answers compressed."""
    client = our_client(certificate=PKI.client, certificate_compression=(Alg.ZSTD, Alg.BROTLI))
    with tlslite_server(peer_pki, "zlib", receive="brotli,zstd", mtls=True) as server:
        with connect("127.0.0.1", server.port, client, server_name="localhost", timeout=TIMEOUT) as tls:
            assert tls.recv(100) == b"hello from tlslite\n"
        report = server.wait_report(1)
    assert report["ok"] and report["client_certificate"], report
    assert report["client_cert_compression"] == "zstd"  # our first choice among those tlslite offered


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_tlslite_client_decompresses_our_certificate(peer_pki: PeerPKI, algorithm: Alg) -> None:
    """RFC 8879 §4: tlslite offers one algorithm; our server compresses with it and tlslite completes."""
    with event_server(server_config()) as run:
        report = tlslite_client(peer_pki, run.port, "zlib", algorithm.name.lower())
        assert run.done.wait(TIMEOUT)
    assert report["ok"], report
    assert report["server_cert_compression"] == algorithm.name.lower()
    (message,) = run.sent(CompressedCertificate)
    assert isinstance(message, CompressedCertificate) and message.algorithm is algorithm
    assert run.errors == []


def test_tlslite_client_certificate_arrives_compressed(peer_pki: PeerPKI) -> None:
    """RFC 8879 §3: our CertificateRequest offers compression; tlslite's client certificate comes compressed
    and our server verifies it. (tlslite 0.8.2 picks the algorithm from its own ClientHello offer, not from
    the CertificateRequest: it offers only brotli here so that its pick is one we asked for.)"""
    config = server_config(
        client_auth="require", client_cadata=PKI.ca.root_pem, certificate_compression=(Alg.BROTLI,)
    )
    with event_server(config) as run:
        report = tlslite_client(peer_pki, run.port, "zlib,brotli", "brotli")
        assert run.done.wait(TIMEOUT)
    assert report["ok"] and report["client_cert_compression"] == "brotli", report
    assert run.errors == []
    (negotiated,) = run.negotiated
    assert negotiated.certificate_compression is Alg.BROTLI
    assert negotiated.peer_certificates[0] == PKI.client.chain[0]
    assert len(run.received(CompressedCertificate)) == 1


def test_tlslite_client_compressing_with_an_algorithm_we_did_not_offer_is_refused(peer_pki: PeerPKI) -> None:
    """RFC 8879 §4: the algorithm MUST be one the receiver listed. tlslite 0.8.2 chooses the client
    certificate's algorithm from its own ClientHello (zlib first) although our CertificateRequest listed only
    brotli (the bug tlsfuzzer reported against GnuTLS, gitlab.com/gnutls/gnutls/-/issues/1440, from the other
    side): our server refuses with illegal_parameter and the handshake fails for tlslite too."""
    from handclasp.errors import Misbehaviour, PeerMisbehaved
    from handclasp.wire.enums import AlertDescription

    config = server_config(
        client_auth="require", client_cadata=PKI.ca.root_pem, certificate_compression=(Alg.BROTLI,)
    )
    with event_server(config) as run:
        report = tlslite_client(peer_pki, run.port, "zlib,brotli", "zlib,brotli")
        assert run.done.wait(TIMEOUT)
    assert report["client_cert_compression"] == "zlib" and not report["ok"], report
    (error,) = run.errors
    assert (
        isinstance(error, PeerMisbehaved) and error.reason is Misbehaviour.UNOFFERED_CERTIFICATE_COMPRESSION
    )
    assert error.alert is AlertDescription.ILLEGAL_PARAMETER
    assert run.negotiated == []  # the handler never ran
