"""The ``handclasp`` command against real peers (what tests/cli/test_cli.py does not already cover):
gnutls-cli, Go and Deno clients against ``handclasp serve``; ``handclasp connect`` against gnutls-serv (in a
network namespace) and the Go server; ``handclasp connect --keylog`` decrypted by tshark."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.interop.peers.harness import (
    PeerPKI,
    PeerServer,
    deno_client,
    gnutls_server_scenario,
    go_server,
    keylog_labels,
    openssl_server,
    parse_gnutls,
    peer_server,
    run_gnutls_client,
    run_go_client,
    run_go_clients,
    run_peer,
    tshark_capture,
    tshark_handshake_types,
    tshark_read,
)

HANDCLASP = str(Path(sys.executable).parent / "handclasp")
READY = r"handclasp serve: \S+ on 127\.0\.0\.1:(\d+) "
TIMEOUT = 30.0


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A private data dir, no colours, no inherited SSLKEYLOGFILE."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SSLKEYLOGFILE", "FORCE_COLOR")}
    environ.update(XDG_DATA_HOME=str(tmp_path / "data"), NO_COLOR="1", COLUMNS="200")
    return environ


@contextmanager
def handclasp_serve(pki: PeerPKI, env: dict[str, str], *args: str) -> Iterator[PeerServer]:
    argv = [HANDCLASP, "serve", "--port", "0", "--cert", str(pki.server_cert), "--key", str(pki.server_key),
            *args]
    with peer_server(argv, READY, name="handclasp serve", env=env) as server:
        yield server


def log_lines(server: PeerServer, count: int) -> list[str]:
    """Wait for ``count`` connection log lines of ``handclasp serve`` and return them."""
    server.wait_for(r"(?:^127\.0\.0\.1:\d+  .*\n[\s\S]*){" + str(count) + "}", TIMEOUT)
    return re.findall(r"^127\.0\.0\.1:\d+  .*$", server.output(), re.MULTILINE)


def wait_exit(server: PeerServer) -> int | None:
    """``--max-connections`` servers exit by themselves once their connections are done."""
    try:
        return server.process.proc.wait(TIMEOUT)
    except Exception:  # noqa: BLE001 - reported by the assertion below
        return None


def handclasp_connect(*args: str, env: dict[str, str], stdin: bytes = b"", linger: float = 0.0):  # type: ignore[no-untyped-def]
    return run_peer([HANDCLASP, "connect", *args], input=stdin, linger=linger, env=env, timeout=TIMEOUT)


# ------------------------------------------------------------------------------------ real clients -> serve


def test_gnutls_cli_against_handclasp_serve_echo_mtls(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    with handclasp_serve(
        peer_pki, cli_env, "--echo", "--client-ca", str(peer_pki.ca), "--require-client-cert",
        "--alpn", "h2,http/1.1", "--max-connections", "1",
    ) as server:
        result = run_gnutls_client(
            server.port,
            cafile=peer_pki.ca,
            priority="NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X448",
            alpn=["http/1.1"],
            cert=peer_pki.client_cert,
            key=peer_pki.client_key,
            input=b"gnutls via the cli\n",
        )
        (line,) = log_lines(server, 1)
        assert wait_exit(server) == 0, server.output()
    client = parse_gnutls(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["group"] == "X448" and client["alpn"] == "http/1.1"
    assert "gnutls via the cli" in result.stdout  # echoed
    fields = line.split()
    assert "sni=localhost" in fields and "TLSv1.3" in fields and "X448" in fields
    assert client["suite"] in fields
    assert "alpn=http/1.1" in fields and "client_cert=yes" in fields


def test_gnutls_cli_without_client_cert_is_logged_as_an_error(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    with handclasp_serve(
        peer_pki, cli_env, "--echo", "--client-ca", str(peer_pki.ca), "--require-client-cert",
        "--max-connections", "1",
    ) as server:
        result = run_gnutls_client(server.port, cafile=peer_pki.ca, input=b"no cert\n")
        server.wait_for(r"^127\.0\.0\.1:\d+  error: .*certificate_required", TIMEOUT)
        assert wait_exit(server) == 0, server.output()
    # gnutls-cli completes its side of the handshake, then gets our certificate_required alert
    assert "Received alert [116]" in result.stdout, result.stdout[-2000:] + result.stderr
    assert "Server has requested a certificate" in result.stdout
    assert re.search(r"(?m)^no cert$", result.stdout) is None  # nothing was echoed


def test_go_client_against_handclasp_serve_http(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    with handclasp_serve(peer_pki, cli_env, "--max-connections", "2") as server:
        reports = run_go_clients(server.port, n=2, cafile=peer_pki.ca, alpn=["h2", "http/1.1"], http=True)
        lines = log_lines(server, 2)
        assert wait_exit(server) == 0, server.output()
    assert reports[0]["resumed"] is False  # the second connection may resume with a ticket
    for report in reports:
        assert report["ok"], report
        assert report["version"] == "TLSv1.3" and report["alpn"] == "http/1.1"
        # Go's default shares are X25519MLKEM768 + X25519; our server prefers the hybrid (issue #4)
        assert report["group"] == "X25519MLKEM768" and report["hello_retry"] is False
        assert report["received"].startswith("HTTP/1.1 200 OK\r\n")
        assert "Hello from handclasp" in report["received"]
    for line in lines:
        assert "X25519MLKEM768" in line.split() and "alpn=http/1.1" in line and reports[0]["suite"] in line


def test_go_client_p521_against_handclasp_serve_echo(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    with handclasp_serve(peer_pki, cli_env, "--echo", "--max-connections", "1") as server:
        report = run_go_client(server.port, cafile=peer_pki.ca, groups="P521", send="echo through the cli")
        (line,) = log_lines(server, 1)
        assert wait_exit(server) == 0, server.output()
    assert report["ok"], report
    assert report["group"] == "SECP521R1" and report["received"] == "echo through the cli"
    assert "SECP521R1" in line.split()


def test_deno_client_against_handclasp_serve(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    with handclasp_serve(peer_pki, cli_env, "--max-connections", "1") as server:
        report = deno_client(server.port, cafile=peer_pki.ca, alpn=["http/1.1"], http=True)
        (line,) = log_lines(server, 1)
        assert wait_exit(server) == 0, server.output()
    assert report["ok"], report
    assert report["alpn"] == "http/1.1" and report["received"].startswith("HTTP/1.1 200 OK")
    assert "X25519" in line.split() and "alpn=http/1.1" in line


# ------------------------------------------------------------------------------------ connect -> real servers


def test_connect_to_gnutls_serv_in_a_namespace(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    port = 14600
    client = [HANDCLASP, "connect", f"127.0.0.1:{port}", "--servername", "localhost", "--cafile", str(peer_pki.ca),
              "--groups", "ffdhe2048,x25519", "--alpn", "http/1.1", "--timeout", "15"]
    result = gnutls_server_scenario(
        client,
        peer_pki.server_rsa_cert,
        peer_pki.server_rsa_key,
        port=port,
        alpn=["http/1.1"],
        client_input="hello from handclasp connect\n",
        timeout=TIMEOUT,
    )
    assert result.ready, result.describe()
    server = parse_gnutls(result.server_output)
    assert result.client.returncode == 0, result.describe()
    assert "hello from handclasp connect" in result.client.stdout  # echoed by gnutls-serv
    assert re.search(r"group\s+FFDHE2048", result.client.stderr), result.client.stderr
    assert re.search(r"ALPN\s+http/1\.1", result.client.stderr)
    assert re.search(r"signature scheme\s+RSA_PSS_RSAE_SHA256", result.client.stderr)
    assert re.search(r"verification\s+OK", result.client.stderr)
    assert server["ok"] and server["group"] == "FFDHE2048", result.server_output[-2000:]
    assert server["signature"] == "RSA-PSS-RSAE-SHA256"


def test_connect_http_to_gnutls_serv_with_client_cert(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    port = 14601
    client = [HANDCLASP, "connect", f"127.0.0.1:{port}", "--servername", "localhost", "--cafile", str(peer_pki.ca),
              "--cert", str(peer_pki.client_cert), "--key", str(peer_pki.client_key),
              "--ciphers", "TLS_AES_256_GCM_SHA384", "--http", "--timeout", "15"]
    result = gnutls_server_scenario(
        client,
        peer_pki.server_cert,
        peer_pki.server_key,
        port=port,
        http=True,
        cafile=peer_pki.ca,
        require_client_cert=True,
        timeout=TIMEOUT,
    )
    assert result.ready, result.describe()
    assert result.client.returncode == 0, result.describe()
    assert result.client.stdout.startswith("HTTP/1.0 200 OK") or result.client.stdout.startswith("HTTP/1.1 200")
    assert re.search(r"cipher suite\s+TLS_AES_256_GCM_SHA384", result.client.stderr)
    assert re.search(r"client certificate\s+requested, sent", result.client.stderr)
    # gnutls-serv --http reports the session, including the client's certificate, in the page
    assert "handclasp interop client" in result.client.stdout or "client.handclasp.test" in result.client.stdout


def test_connect_to_go_server_echo(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, alpn=["h2", "http/1.1"]) as srv:
        result = handclasp_connect(
            f"127.0.0.1:{srv.port}", "--servername", "localhost", "--cafile", str(peer_pki.ca),
            "--alpn", "http/1.1", "--groups", "P-384", "--ciphers", "TLS_CHACHA20_POLY1305_SHA256",
            env=cli_env, stdin=b"one\ntwo\n",
        )
        server_view = srv.wait_report(1)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\ntwo\n"  # close_notify at stdin EOF; Go echoes and closes
    assert server_view["ok"], server_view
    assert server_view["group"] == "SECP384R1" and server_view["hello_retry"] is False
    assert server_view["suite"] == "TLS_CHACHA20_POLY1305_SHA256" and server_view["alpn"] == "http/1.1"
    assert re.search(r"group\s+SECP384R1", result.stderr)
    assert re.search(r"cipher suite\s+TLS_CHACHA20_POLY1305_SHA256", result.stderr)


def test_connect_to_go_mlkem_only_server_fails_with_one_line(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    # Pure ML-KEM-1024 is supported but not offered by default, so this server has no group in common.
    with go_server(peer_pki.server_cert, peer_pki.server_key, groups="MLKEM1024") as srv:
        result = handclasp_connect(
            f"127.0.0.1:{srv.port}", "--servername", "localhost", "--cafile", str(peer_pki.ca),
            env=cli_env, stdin=b"x\n",
        )
        server_view = srv.wait_report(1)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("handclasp: error: ")
    assert "Traceback" not in result.stderr
    assert server_view["ok"] is False


def test_connect_keylog_decrypted_by_tshark(peer_pki: PeerPKI, cli_env: dict[str, str], keylog_path: Path) -> None:
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=True) as port:
        with tshark_capture(port) as pcap:
            result = handclasp_connect(
                f"127.0.0.1:{port}", "--servername", "localhost", "--cafile", str(peer_pki.ca),
                "--alpn", "http/1.1", "--keylog", str(keylog_path), "--http", env=cli_env,
            )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP/1.0 200 ok")
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"} <= keylog_labels(keylog_path)
    assert not {8, 11, 15, 20} & set(tshark_handshake_types(pcap))
    assert {8, 11, 15, 20} <= set(tshark_handshake_types(pcap, keylog_path))
    uris = tshark_read(pcap, keylog=keylog_path, display_filter="http.request", fields=["http.request.uri"])
    assert uris.split() == ["/"]
    agents = tshark_read(pcap, keylog=keylog_path, display_filter="http.request", fields=["http.user_agent"])
    assert agents.split() == ["handclasp"]


# ------------------------------------------------------------------------------------ --legacy (TLS 1.0/1.1)


@pytest.mark.parametrize("legacy", [False, True], ids=["default", "legacy"])
def test_connect_legacy_flag_reaches_a_tls10_only_openssl_server(
    peer_pki: PeerPKI, cli_env: dict[str, str], legacy: bool
) -> None:
    """RFC 8996: TLS 1.0 only with --legacy; without it the handshake is refused with one line."""
    extra = ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", "1"]
    with openssl_server(str(peer_pki.server_cert), str(peer_pki.server_key), extra_args=extra) as srv:
        args = [f"127.0.0.1:{int(srv)}", "--servername", "localhost", "--cafile", str(peer_pki.ca), "--http"]
        result = handclasp_connect(*args, *(["--legacy"] if legacy else []), env=cli_env)
    if legacy:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "TLS1_0" in result.stderr or "TLSv1.0" in result.stderr, result.stderr[-2000:]
    else:
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1 and "protocol_version" in result.stderr, result.stderr


def test_openssl_tls11_client_against_handclasp_serve_legacy(peer_pki: PeerPKI, cli_env: dict[str, str]) -> None:
    from tests.interop.peers.harness import parse_openssl_client, run_openssl_client

    with handclasp_serve(peer_pki, cli_env, "--legacy", "--max-connections", "1") as server:
        result = run_openssl_client(
            int(server), ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], cafile=str(peer_pki.ca),
            input=b"GET / HTTP/1.0\r\n\r\n", linger=1.0,
        )
        lines = log_lines(server, 1)
    # "New, TLSv1.0, Cipher is ..." names the cipher's own version; the session's is on "Protocol  :".
    assert re.search(r"Protocol\s*:\s*TLSv1\.1", result.stdout), result.stdout[-2000:]
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-2000:]
    assert "TLS1_1" in lines[0] or "TLSv1.1" in lines[0], lines
