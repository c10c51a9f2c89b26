"""TLS 1.3 resumption and post-handshake authentication against OpenSSL, GnuTLS and Go (127.0.0.1 only).

Our server issues tickets that real clients resume with (s_client -sess_out/-sess_in, gnutls-cli --resume,
Go's session cache); our client resumes with tickets from openssl s_server and the Go server; and
post-handshake client authentication runs against s_client -enable_pha.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, events as ev
from handclasp.io.blocking import TLSSocket, wrap_server_socket
from handclasp.sessions.cache import ClientSession
from tests.interop.peers.harness import (
    HOST,
    PeerPKI,
    go_server,
    openssl_server,
    parse_gnutls,
    parse_openssl_client,
    run_gnutls_client,
    run_go_clients,
    run_openssl_client,
)
from tests.interop.server_helpers import running_server

PKI = pki.test_pki()
ECHO_INPUT = b"resumption ping\n"
TLS13_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
IO_TIMEOUT = 10.0


def server_config(**options: Any) -> ServerConfig:
    return ServerConfig(certificates=(PKI.server("ecdsa-p256"),), keylog_filename=None, **options)


def client_config(peer_pki: PeerPKI, **options: Any) -> ClientConfig:
    return ClientConfig(cafile=str(peer_pki.ca), keylog_filename=None, **options)


# ------------------------------------------------------------------ real clients against our server


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_openssl_client_resumes_with_our_ticket(peer_pki: PeerPKI, tmp_path: Path, mode: str) -> None:
    session = tmp_path / "session.pem"
    with running_server(server_config(tls13_ticket_mode=mode)) as run:
        first = run_openssl_client(run.port, ["-sess_out", str(session)], cafile=peer_pki.ca, input=ECHO_INPUT, linger=1.0)
        second = run_openssl_client(run.port, ["-sess_in", str(session)], cafile=peer_pki.ca, input=ECHO_INPUT)
        records = [run.wait_record(0), run.wait_record(1)]
    one, two = parse_openssl_client(first.stdout), parse_openssl_client(second.stdout)
    assert one["ok"] and not one["resumed"], first.stdout[-3000:]
    assert two["ok"] and two["resumed"] and two["version"] == "TLSv1.3", second.stdout[-3000:]
    assert "Reused, TLSv1.3" in second.stdout
    assert records[0].negotiated is not None and not records[0].negotiated.resumed
    assert records[1].negotiated is not None and records[1].negotiated.resumed
    assert bytes(records[1].received) == ECHO_INPUT and records[1].error is None


def test_gnutls_client_resumes(peer_pki: PeerPKI) -> None:
    with running_server(server_config()) as run:
        result = run_gnutls_client(
            run.port, cafile=peer_pki.ca, priority=TLS13_ONLY, input=ECHO_INPUT, linger=1.5, extra_args=["--resume"]
        )
        second = run.wait_record(1)
    client = parse_gnutls(result.stdout)
    assert client["ok"] and client["version"] == "TLSv1.3", result.stdout[-3000:] + result.stderr
    assert client["resumed"], result.stdout[-3000:]
    assert second.negotiated is not None and second.negotiated.resumed


def test_go_client_resumes(peer_pki: PeerPKI) -> None:
    with running_server(server_config()) as run:
        reports = run_go_clients(run.port, n=2, cafile=peer_pki.ca, send="go ping\n")
        second = run.wait_record(1)
    assert [r["ok"] for r in reports] == [True, True], reports
    assert [r["resumed"] for r in reports] == [False, True], reports
    assert second.negotiated is not None and second.negotiated.resumed


# ------------------------------------------------------------------ our client against real servers


def _http_get(port: int, config: ClientConfig, session: ClientSession | None) -> tuple[ClientConnection, bytes]:
    """GET / over a bounded socket loop; returns the connection (for .session / .negotiated) and the body."""
    conn = ClientConnection(config, "localhost", session=session)
    conn.start_handshake()
    body = bytearray()
    deadline = time.monotonic() + 20.0
    with socket.create_connection((HOST, int(port)), timeout=IO_TIMEOUT) as sock:
        sock.sendall(conn.data_to_send())
        requested = closed = False
        while not closed and time.monotonic() < deadline and len(body) < 1 << 20:
            data = sock.recv(65536)
            for event in conn.receive_bytes(data):
                if isinstance(event, ev.ApplicationData):
                    body += event.data
                elif isinstance(event, ev.CloseNotify):
                    closed = True
            if not data:
                break
            if conn.handshake_complete and not requested:
                conn.send_application_data(b"GET / HTTP/1.0\r\n\r\n")
                requested = True
            if out := conn.data_to_send():
                sock.sendall(out)
        conn.close()
        with contextlib.suppress(OSError):
            sock.sendall(conn.data_to_send())
    return conn, bytes(body)


def test_our_client_resumes_against_openssl_s_server(peer_pki: PeerPKI) -> None:
    config = client_config(peer_pki)
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, tls13_only=True) as port:
        first, page1 = _http_get(port, config, None)
        assert first.session is not None and first.session.session.version == 0x0304
        second, page2 = _http_get(port, config, first.session)
    assert first.negotiated is not None and not first.negotiated.resumed
    assert second.negotiated is not None and second.negotiated.resumed
    assert second.negotiated.peer_certificates == first.negotiated.peer_certificates
    assert b"New, TLSv1.3" in page1 and b"Reused, TLSv1.3" in page2, page2[:2000]


def test_our_client_resumes_against_go_server(peer_pki: PeerPKI) -> None:
    config = client_config(peer_pki)
    with go_server(peer_pki.server_cert, peer_pki.server_key, mode="http", n=2) as server:
        first, _ = _http_get(server, config, None)
        assert first.session is not None
        second, body = _http_get(server, config, first.session)
        report = server.wait_report(2)
    assert second.negotiated is not None and second.negotiated.resumed, body[:500]
    assert report.get("resumed") is True, report


# ------------------------------------------------------------------ post-handshake authentication


def test_post_handshake_auth_with_openssl_client(peer_pki: PeerPKI) -> None:
    """RFC 8446 §4.6.2: s_client -enable_pha answers our CertificateRequest after the handshake."""
    config = server_config(client_cafile=str(peer_pki.ca))
    received: list[ev.PeerCertificateReceived] = []
    failures: list[BaseException] = []
    listener = socket.create_server((HOST, 0))
    listener.settimeout(IO_TIMEOUT)
    port = listener.getsockname()[1]

    def serve_one() -> None:
        try:
            sock, _ = listener.accept()
            sock.settimeout(IO_TIMEOUT)
            hook = lambda event: received.append(event) if isinstance(event, ev.PeerCertificateReceived) else None  # noqa: E731
            tls: TLSSocket = wrap_server_socket(sock, config, event_hook=hook)
            line = tls.recv(4096)
            tls._do(tls.connection.request_client_certificate)  # type: ignore[union-attr]
            tls.sendall(line)
            deadline = time.monotonic() + IO_TIMEOUT
            while not received and time.monotonic() < deadline and tls.recv(4096):
                pass
            tls.close()
        except BaseException as exc:  # judged below
            failures.append(exc)

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        result = run_openssl_client(
            port,
            ["-enable_pha", "-cert", str(peer_pki.client_cert), "-key", str(peer_pki.client_key)],
            cafile=peer_pki.ca,
            input=ECHO_INPUT,
            linger=2.0,
        )
        thread.join(IO_TIMEOUT + 5)
    finally:
        listener.close()
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert not failures, failures
    assert len(received) == 1 and received[0].certificates, result.stdout[-2000:]
    assert received[0].certificates[0].subject == PKI.client.leaf.subject


def test_our_client_answers_openssl_s_server_post_handshake_request(peer_pki: PeerPKI) -> None:
    """s_server's interactive 'c' command sends a post-handshake CertificateRequest (SSL_verify_client_post_handshake);
    our client answers with Certificate/CertificateVerify/Finished and s_server accepts (SSL_do_handshake -> 1,
    then fresh tickets). OpenSSL 3.0 s_server has no flag for PHA-only, so ``-verify 1`` also asks in the handshake."""
    config = client_config(peer_pki, certificate=PKI.client, post_handshake_auth=True)
    with openssl_server(
        peer_pki.server_cert, peer_pki.server_key, www=False, tls13_only=True, cafile=peer_pki.ca, extra_args=["-verify", "1"]
    ) as server:
        conn = ClientConnection(config, "localhost")
        conn.start_handshake()
        seen: list[ev.Event] = []
        with socket.create_connection((HOST, int(server)), timeout=IO_TIMEOUT) as sock:
            sock.sendall(conn.data_to_send())
            requested = False
            deadline = time.monotonic() + 15.0
            while time.monotonic() < deadline:
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    break
                if not data:
                    break
                seen += conn.receive_bytes(data)
                if out := conn.data_to_send():
                    sock.sendall(out)
                if conn.handshake_complete and not requested:
                    requested = True
                    stdin = server.process.proc.stdin
                    assert stdin is not None
                    stdin.write(b"c\n")
                    stdin.flush()
                    sock.settimeout(2.0)
            output = server.process.stdout()
    names = [(e.direction.value, e.name) for e in seen if isinstance(e, ev.HandshakeMessage)]
    done = next(i for i, e in enumerate(seen) if isinstance(e, ev.HandshakeComplete))
    after = [(e.direction.value, e.name) for e in seen[done:] if isinstance(e, ev.HandshakeMessage)]
    assert ("received", "CertificateRequest") in after, names
    index = after.index(("received", "CertificateRequest"))
    assert after[index + 1 : index + 4] == [("sent", "Certificate"), ("sent", "CertificateVerify"), ("sent", "Finished")]
    assert "SSL_do_handshake -> 1" in output, output[-2000:]
