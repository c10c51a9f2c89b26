"""The ``handclasp`` command, run as a subprocess: demo, serve, connect, and real clients on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from handclasp.tools.certs import LocalCA
from tests.interop.peers.harness import require_binary

HANDCLASP = str(Path(sys.executable).parent / "handclasp")
TIMEOUT = 60
# The demo's two ends compress the certificate by default (RFC 8879).
HANDSHAKE_MESSAGES = ("ClientHello", "ServerHello", "EncryptedExtensions", "CompressedCertificate", "CertificateVerify",
                      "Finished")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private data dir (so the local CA lands in tmp_path), no colours, no key log."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SSLKEYLOGFILE", "FORCE_COLOR")}
    environ.update(XDG_DATA_HOME=str(tmp_path / "data"), NO_COLOR="1")
    return environ


def handclasp(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([HANDCLASP, *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=TIMEOUT, check=False)


@contextmanager
def serving(*args: str, env: dict[str, str]) -> Iterator[tuple[int, list[str]]]:
    """Run ``handclasp serve --port 0 ARGS``; yield (port, stdout lines so far and later)."""
    proc = subprocess.Popen([HANDCLASP, "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    ready: queue.Queue[int] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if match := re.search(r" on 127\.0\.0\.1:(\d+) ", line):
                ready.put(int(match.group(1)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield ready.get(timeout=TIMEOUT), lines
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        reader.join(TIMEOUT)


def require_tool(name: str) -> None:
    """Skip when a peer program is missing, or fail under HANDCLASP_REQUIRE_PEERS=1 (CI)."""
    require_binary(name)


def wait_for_line(proc: subprocess.Popen[str], needle: str) -> bool:
    """Read ``proc``'s stdout in a thread until a line contains ``needle`` (bounded by TIMEOUT)."""
    found: queue.Queue[bool] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if needle in line:
                found.put(True)
                return
        found.put(False)

    threading.Thread(target=read, daemon=True).start()
    return found.get(timeout=TIMEOUT)


def local_ca_path(env: dict[str, str]) -> str:
    return str(Path(env["XDG_DATA_HOME"]) / "handclasp" / "ca" / "root.pem")


def test_demo_narrates_the_handshake(env: dict[str, str]) -> None:
    result = handclasp("demo", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for message in HANDSHAKE_MESSAGES:
        assert any(re.search(rf"\s{message}\s+\d+ B", line) for line in lines), message
    assert "TLSv1.3" in result.stdout
    assert "ECDSA P-256" in result.stdout
    assert result.stdout.count("b'hello from the handclasp demo'") == 2
    assert "\x1b[" not in result.stdout  # plain text when stdout is not a terminal


def test_serve_then_connect_http(env: dict[str, str]) -> None:
    with serving("--max-connections", "1", env=env) as (port, lines):
        result = handclasp("connect", f"127.0.0.1:{port}", "--servername", "localhost",
                           "--cafile", local_ca_path(env), "--alpn", "http/1.1", "--http", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("HTTP/1.1 200 OK\n")  # text mode folds CRLF
        assert "Hello from handclasp" in result.stdout
        assert "TLSv1.3" in result.stderr
        assert re.search(r"verification\s+OK", result.stderr)
    log = [line for line in lines if line.startswith("127.0.0.1:")]
    assert len(log) == 1
    assert "sni=localhost" in log[0] and "TLSv1.3" in log[0] and "alpn=http/1.1" in log[0]


def test_connect_pipes_stdin_through_an_echo_server(env: dict[str, str]) -> None:
    with serving("--echo", "--max-connections", "1", env=env) as (port, _lines):
        result = handclasp("connect", f"localhost:{port}", "--cafile", local_ca_path(env),
                           "--groups", "P-256,x25519", "--ciphers", "TLS_CHACHA20_POLY1305_SHA256",
                           env=env, stdin="one\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\ntwo\n"
    assert re.search(r"group\s+SECP256R1", result.stderr)
    assert re.search(r"cipher suite\s+TLS_CHACHA20_POLY1305_SHA256", result.stderr)


def test_connect_to_an_untrusted_server_fails_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(LocalCA.create("some other CA").root_pem)
    with serving("--max-connections", "1", env=env) as (port, lines):
        result = handclasp("connect", f"127.0.0.1:{port}", "--cafile", str(other_ca), "--http", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("handclasp: error: certificate verify failed: unknown_issuer")
    assert any("error: peer sent alert unknown_ca" in line for line in lines)


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["connect", "127.0.0.1:1", "--groups", "nonsense"], 2),
        (["connect", "127.0.0.1:http"], 2),
        (["connect", "127.0.0.1:1", "--cert", "only-a-cert.pem"], 2),
        (["serve", "--require-client-cert"], 2),
        (["connect", "127.0.0.1:1"], 1),  # nothing listens on port 1
    ],
)
def test_errors_are_one_line_and_exit_non_zero(args: list[str], status: int, env: dict[str, str]) -> None:
    result = handclasp(*args, env=env)
    assert result.returncode == status
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("handclasp")
    assert "error: " in result.stderr.splitlines()[-1]


@pytest.mark.interop
def test_curl_fetches_the_page(env: dict[str, str]) -> None:
    require_tool("curl")
    with serving("--max-connections", "1", "--alpn", "http/1.1", env=env) as (port, lines):
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "20", "--cacert", local_ca_path(env),
             "--resolve", f"localhost:{port}:127.0.0.1", f"https://localhost:{port}/"],
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "Hello from handclasp" in result.stdout
    assert any("alpn=http/1.1" in line for line in lines)


@pytest.mark.interop
def test_openssl_s_client_verifies_and_reads_the_page(env: dict[str, str]) -> None:
    require_tool("openssl")
    with serving("--max-connections", "1", env=env) as (port, _lines):
        result = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
             "-CAfile", local_ca_path(env), "-verify_return_error", "-brief", "-ign_eof"],
            input="GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", capture_output=True, text=True,
            timeout=TIMEOUT, check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "Protocol version: TLSv1.3" in result.stderr
    assert "Verification: OK" in result.stderr
    assert "HTTP/1.1 200 OK" in result.stdout


def test_mutual_tls_with_files_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    ca = LocalCA.create("mutual TLS CA")
    (tmp_path / "ca.pem").write_bytes(ca.root_pem)
    ca.issue(["localhost", "127.0.0.1"]).write_pem(tmp_path / "server.pem", tmp_path / "server.key")
    ca.issue(["client.example"], client=True).write_pem(tmp_path / "client.pem", tmp_path / "client.key")
    serve_args = ["--cert", str(tmp_path / "server.pem"), "--key", str(tmp_path / "server.key"),
                  "--client-ca", str(tmp_path / "ca.pem"), "--require-client-cert", "--max-connections", "2"]
    with serving(*serve_args, env=env) as (port, lines):
        connect_args = ["connect", f"localhost:{port}", "--cafile", str(tmp_path / "ca.pem"), "--http"]
        with_cert = handclasp(*connect_args, "--cert", str(tmp_path / "client.pem"),
                              "--key", str(tmp_path / "client.key"), env=env)
        without_cert = handclasp(*connect_args, env=env)
    assert with_cert.returncode == 0, with_cert.stderr
    assert "Hello from handclasp" in with_cert.stdout
    assert without_cert.returncode == 1
    assert without_cert.stderr.splitlines()[-1] == "handclasp: error: peer sent alert certificate_required (116)"
    assert any("client_cert=yes" in line for line in lines)
    assert any("error: certificate verify failed: certificate_required" in line for line in lines)


def test_insecure_connects_to_an_unknown_server_and_says_so(env: dict[str, str]) -> None:
    with serving("--max-connections", "1", env=env) as (port, _lines):
        result = handclasp("connect", f"127.0.0.1:{port}", "--insecure", "--http", env=env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"verification\s+SKIPPED", result.stderr)


def test_keylog_is_written_only_when_asked(env: dict[str, str], tmp_path: Path) -> None:
    keylog = tmp_path / "keys.log"
    with serving("--echo", "--max-connections", "2", env=env) as (port, _lines):
        plain = handclasp("connect", f"localhost:{port}", "--cafile", local_ca_path(env), env=env, stdin="x")
        assert plain.returncode == 0, plain.stderr
        assert not keylog.exists()
        logged = handclasp("connect", f"localhost:{port}", "--cafile", local_ca_path(env),
                           "--keylog", str(keylog), env=env, stdin="x")
        assert logged.returncode == 0, logged.stderr
    labels = {line.split()[0] for line in keylog.read_text().splitlines()}
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} <= labels


@pytest.mark.interop
def test_connect_http_to_openssl_s_server(env: dict[str, str], tmp_path: Path) -> None:
    require_tool("openssl")
    ca = LocalCA.create("s_server CA")
    (tmp_path / "ca.pem").write_bytes(ca.root_pem)
    ca.issue(["localhost"]).write_pem(tmp_path / "server.pem", tmp_path / "server.key")
    with socket.socket() as probe:  # a free port for s_server (loopback; the race is harmless here)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(tmp_path / "server.pem"),
         "-key", str(tmp_path / "server.key"), "-www", "-naccept", "1", "-tls1_3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert wait_for_line(server, "ACCEPT")  # listening
        result = handclasp("connect", f"127.0.0.1:{port}", "--servername", "localhost",
                           "--cafile", str(tmp_path / "ca.pem"), "--http", env=env)
    finally:
        server.kill()
        server.wait(TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP/1.0 200 ok")
    assert "TLSv1.3" in result.stderr
