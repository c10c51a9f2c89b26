"""Checks of the real-peer harness itself: the peers talk to each other (no handclasp involved), and each
helper reports what was negotiated. If these fail, the interop tests of handclasp cannot be trusted."""

from __future__ import annotations

import socket
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.interop.peers.harness import (
    NetnsResult,
    PeerError,
    PeerPKI,
    curl_cffi_get,
    curl_get,
    deno_client,
    deno_server,
    free_port,
    gnutls_pair,
    gnutls_server_scenario,
    go_server,
    keylog_labels,
    netns_scenario,
    openssl_server,
    parse_gnutls,
    parse_openssl_client,
    peer_server,
    run_gnutls_client,
    run_go_client,
    run_go_clients,
    run_openssl_client,
    run_peer,
    tshark_capture,
    tshark_handshake_types,
)

# ------------------------------------------------------------------------------------------ harness basics


def test_run_peer_times_out_and_kills() -> None:
    start = time.monotonic()
    with pytest.raises(PeerError, match="timed out"):
        run_peer(["sleep", "30"], timeout=0.5)
    assert time.monotonic() - start < 10


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_server_process_is_gone_after_the_block(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key) as srv:
        assert srv.process.proc.poll() is None
        assert isinstance(srv, int) and srv.port == int(srv) and srv.addr == f"127.0.0.1:{srv.port}"
    assert srv.process.proc.poll() is not None
    with socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex(("127.0.0.1", srv.port)) != 0


def test_peer_server_reads_the_port_from_any_process() -> None:
    code = textwrap.dedent(
        """
        import socket
        srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1); srv.settimeout(20)
        print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
        conn, _ = srv.accept(); conn.sendall(b"pong"); conn.close()
        """
    )
    with peer_server([sys.executable, "-c", code], r"listening on 127\.0\.0\.1:(\d+)") as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            assert sock.recv(4) == b"pong"


# ------------------------------------------------------------------------------------------ OpenSSL <-> Go


def test_go_client_to_openssl_server(peer_pki: PeerPKI, keylog_path: Path) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=True) as port:
        report = run_go_client(port, cafile=peer_pki.ca, http=True, keylog=keylog_path)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3"
    # OpenSSL 3.0 has no ML-KEM: Go's X25519MLKEM768 offer falls back to its X25519 share
    assert report["group"] == "X25519"
    assert report["suite"] in {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    }
    assert report["received"].startswith("HTTP/1.0 200 ok")
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in keylog_labels(keylog_path)


def test_go_client_groups_reach_openssl(peer_pki: PeerPKI) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, extra_args=["-groups", "P-384"]) as port:
        report = run_go_client(port, cafile=peer_pki.ca, groups=["X25519", "P384"])
    assert report["ok"], report
    assert report["group"] == "SECP384R1"
    assert report["hello_retry"] is True  # Go sent an X25519 share only


def test_go_client_rejects_unknown_ca(peer_pki: PeerPKI) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key) as port:
        report = run_go_client(port, cafile=peer_pki.path("unrelated-ca.pem"))
    assert report["ok"] is False
    assert "certificate" in report["error"]


def test_openssl_client_to_go_server_mtls(peer_pki: PeerPKI) -> None:
    with go_server(
        peer_pki.server_cert, peer_pki.server_key, client_auth="require", client_ca=peer_pki.ca, alpn=["h2"]
    ) as srv:
        result = run_openssl_client(
            srv,
            [
                "-groups",
                "P-256",
                "-alpn",
                "h2",
                "-cert",
                str(peer_pki.client_cert),
                "-key",
                str(peer_pki.client_key),
            ],
            cafile=peer_pki.ca,
            input=b"ping\n",
        )
        server_view = srv.wait_report(1)
    client_view = parse_openssl_client(result.stdout)
    assert client_view["ok"], result.stdout + result.stderr
    assert client_view["version"] == "TLSv1.3"
    assert client_view["group"] == "SECP256R1"
    assert client_view["alpn"] == "h2"
    assert client_view["verify_code"] == 0
    assert server_view["ok"] and server_view["peer_certs"] >= 1  # s_client may add the CA
    assert server_view["group"] == "SECP256R1" and server_view["alpn"] == "h2"
    assert "ping" in result.stdout  # echoed back


def test_openssl_client_without_cert_is_refused_by_go_server(peer_pki: PeerPKI) -> None:
    with go_server(
        peer_pki.server_cert, peer_pki.server_key, client_auth="require", client_ca=peer_pki.ca
    ) as srv:
        result = run_openssl_client(srv, [], cafile=peer_pki.ca, input=b"ping\n")
        server_view = srv.wait_report(1)
    assert server_view["ok"] is False
    assert "certificate" in server_view["error"]
    assert "ping" not in result.stdout


# ------------------------------------------------------------------------------------------ Go <-> Go, Deno


def test_go_pair_pq_resumption_and_exporter(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, ekm="EXPORTER-handclasp") as srv:
        reports = run_go_clients(srv, n=2, cafile=peer_pki.ca, send="hello", ekm="EXPORTER-handclasp")
        server_first = srv.wait_report(1)
    first, second = reports
    assert first["ok"] and second["ok"], reports
    assert first["group"] == "X25519MLKEM768" and first["group_id"] == 0x11EC
    assert first["received"] == "hello"
    assert first["resumed"] is False and second["resumed"] is True
    assert first["ekm"] == server_first["ekm"] and len(first["ekm"]) == 64


def test_deno_client_to_go_server(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, alpn=["h2", "http/1.1"]) as srv:
        report = deno_client(srv, cafile=peer_pki.ca, alpn=["h2"], send="from deno")
        server_view = srv.wait_report(1)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3"  # from the key log
    assert report["alpn"] == "h2"
    assert report["received"] == "from deno"
    assert server_view["group"] == "X25519MLKEM768"  # rustls does PQ too


def test_deno_client_mtls_to_go_server(peer_pki: PeerPKI) -> None:
    with go_server(
        peer_pki.server_cert, peer_pki.server_key, client_auth="require", client_ca=peer_pki.ca
    ) as srv:
        report = deno_client(
            srv, cafile=peer_pki.ca, send="x", cert=peer_pki.client_cert, key=peer_pki.client_key
        )
        server_view = srv.wait_report(1)
    assert report["ok"], report
    assert server_view["peer_certs"] == 1


def test_go_client_to_deno_server(peer_pki: PeerPKI) -> None:
    with deno_server(peer_pki.server_cert, peer_pki.server_key, alpn=["http/1.1"], mode="http") as srv:
        report = run_go_client(srv, cafile=peer_pki.ca, alpn=["http/1.1"], http=True)
        server_view = srv.wait_report(1)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3" and report["alpn"] == "http/1.1"
    assert report["group"] == "X25519MLKEM768"
    assert report["received"].startswith("HTTP/1.1 200 OK")
    assert server_view["ok"] and server_view["alpn"] == "http/1.1"


# ------------------------------------------------------------------------------------------ curl, curl_cffi


def test_curl_to_openssl_server(peer_pki: PeerPKI) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key) as port:
        result = curl_get(
            f"https://localhost:{port}/", peer_pki.ca, extra_args=["--tlsv1.3", "--curves", "X25519"]
        )
    assert result["ok"], result["error"]
    assert result["status"] == 200
    assert result["version"] == "TLSv1.3"
    assert "s_server" in result["body"] or "Ciphers" in result["body"]


def test_curl_cffi_chrome_to_go_server(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, mode="http", alpn=["http/1.1"]) as srv:
        result = curl_cffi_get(f"https://localhost:{srv.port}/", "chrome", cafile=peer_pki.ca)
        server_view = srv.wait_report(1)
    assert result["ok"], result["error"]
    assert result["status"] == 200
    assert server_view["group"] == "X25519MLKEM768"
    assert "chrome" in server_view["received"].lower() or "mozilla" in server_view["received"].lower()


def test_curl_cffi_to_openssl_server(peer_pki: PeerPKI) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key) as port:
        result = curl_cffi_get(f"https://localhost:{port}/", "chrome", cafile=peer_pki.ca)
    assert result["ok"], result["error"]
    assert result["status"] == 200


def test_curl_cffi_rejects_unknown_ca(peer_pki: PeerPKI) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key) as port:
        result = curl_cffi_get(
            f"https://localhost:{port}/", "chrome", cafile=peer_pki.path("unrelated-ca.pem")
        )
    assert result["ok"] is False and result["error"]


# ------------------------------------------------------------------------------------------ GnuTLS, namespaces


def test_gnutls_pair_in_namespace(peer_pki: PeerPKI) -> None:
    result = gnutls_pair(
        peer_pki.server_cert,
        peer_pki.server_key,
        peer_pki.ca,
        client_priority="NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X448",
        client_input="echo me\n",
    )
    assert result.ready, result.describe()
    client_view = parse_gnutls(result.client.stdout)
    server_view = parse_gnutls(result.server_output)
    assert client_view["ok"], result.describe()
    assert client_view["version"] == "TLSv1.3" and client_view["group"] == "X448"
    assert server_view["group"] == "X448"
    assert "echo me" in result.client.stdout


def test_namespace_has_only_lo_and_hides_the_server(peer_pki: PeerPKI) -> None:
    port = free_port()
    code = textwrap.dedent(
        f"""
        import socket, ssl
        ctx = ssl.create_default_context(cafile={str(peer_pki.ca)!r})
        with socket.create_connection(("127.0.0.1", {port}), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                print("version", tls.version())
                tls.sendall(b"hi\\n")
                print("echo", tls.recv(100))
        print("interfaces", sorted(name for _, name in socket.if_nameindex()))
        import time; time.sleep(3)
        """
    )
    results: list[NetnsResult] = []
    scenario = threading.Thread(
        target=lambda: results.append(
            gnutls_server_scenario(
                [sys.executable, "-c", code], peer_pki.server_cert, peer_pki.server_key, port=port
            )
        )
    )
    scenario.start()
    try:
        time.sleep(1.5)  # the client in the namespace is connected (it sleeps 3 s before leaving)
        with socket.socket() as sock:
            sock.settimeout(1)
            host_rc = sock.connect_ex(("127.0.0.1", port))
    finally:
        scenario.join(60)
    assert host_rc != 0  # not reachable from the host namespace
    (result,) = results
    assert result.ready, result.describe()
    assert "version TLSv1.3" in result.client.stdout, result.describe()
    assert "echo b'hi\\n'" in result.client.stdout
    assert "interfaces ['lo']" in result.client.stdout


def test_netns_scenario_reports_a_server_that_never_listens() -> None:
    result = netns_scenario(["sleep", "30"], ["true"], 14999, ready_timeout=1.0)
    assert result.ready is False
    assert result.error and "ready" in result.error


def test_gnutls_client_to_go_server(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, alpn=["h2"]) as srv:
        result = run_gnutls_client(srv, cafile=peer_pki.ca, alpn=["h2"], input=b"gnutls\n")
        server_view = srv.wait_report(1)
    view = parse_gnutls(result.stdout)
    assert view["ok"], result.stdout + result.stderr
    assert view["version"] == "TLSv1.3" and view["alpn"] == "h2"
    assert view["group"] == server_view["group"] == "X25519"
    assert view["suite"] == server_view["suite"]


# ------------------------------------------------------------------------------------------ tshark


def test_tshark_capture_decrypts_with_keylog(peer_pki: PeerPKI, keylog_path: Path) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key) as port:
        with tshark_capture(port) as pcap:
            report = run_go_client(port, cafile=peer_pki.ca, http=True, keylog=keylog_path)
    assert report["ok"], report
    assert pcap.stat().st_size > 0
    plain = tshark_handshake_types(pcap)
    decrypted = tshark_handshake_types(pcap, keylog_path)
    assert plain[:2] == [1, 2]  # ClientHello, ServerHello; the rest is encrypted
    assert {8, 11, 15, 20} <= set(decrypted)  # EE, Certificate, CertificateVerify, Finished


# ------------------------------------------------------------------------------------------ parsers


def test_parse_openssl_client_canned() -> None:
    text = textwrap.dedent(
        """
        Peer signature type: ECDSA
        Server Temp Key: ECDH, prime256v1, 256 bits
        ---
        New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
        ALPN protocol: h2
        Verify return code: 0 (ok)
        """
    )
    view = parse_openssl_client(text)
    assert view["ok"] and view["version"] == "TLSv1.3" and view["suite"] == "TLS_AES_256_GCM_SHA384"
    assert view["group"] == "SECP256R1" and view["alpn"] == "h2" and view["verify_code"] == 0
    failed = parse_openssl_client(
        "New, (NONE), Cipher is (NONE)\n40C7:error:0A000410:SSL routines::handshake failure\n"
    )
    assert failed["ok"] is False and "error" in failed["error"]


def test_parse_gnutls_canned() -> None:
    view = parse_gnutls("- Description: (TLS1.3-X.509)-(ECDHE-X25519)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)\n")
    assert view == {
        "ok": True,
        "version": "TLSv1.3",
        "suite": "TLS_AES_256_GCM_SHA384",
        "group": "X25519",
        "alpn": None,
        "signature": "RSA-PSS-RSAE-SHA256",
        "resumed": False,
        "error": None,
    }
    assert parse_gnutls("*** Fatal error: Error in the certificate.\n")["ok"] is False
