"""Real TLS peers for interop tests: start, drive and stop them on 127.0.0.1, and read what they negotiated.

Import from tests (``python -m pytest`` puts the repo root on sys.path; tests/interop/conftest.py makes sure)::

    from tests.interop.peers.harness import openssl_server, run_go_client, go_server, ...

Rules this module keeps: everything binds/connects 127.0.0.1 (servers that can only bind every interface run
inside a private network namespace, see ``netns_scenario``); servers bind port 0 and report the real port
(OpenSSL, Go and Deno all do), so there is no port race; every subprocess has a timeout and runs in its own
process group, which is killed at teardown (and at the end of the pytest session as a safety net).

Negotiated-parameter reports are dicts with (as far as the peer can tell) these keys:
``ok`` (bool), ``error`` (str | None), ``version`` ("TLSv1.3" / "TLSv1.2"), ``suite`` (IANA name, e.g.
"TLS_AES_128_GCM_SHA256"), ``group`` (a ``handclasp.wire.enums.NamedGroup`` member name, e.g. "X25519",
"SECP256R1", "X25519MLKEM768"), ``alpn`` (str | None), ``resumed`` (bool), plus peer-specific extras.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PEERS_DIR = REPO_ROOT / ".peers"
PEER_SOURCES = Path(__file__).resolve().parent
GOTLS = PEERS_DIR / "bin" / "gotls"
DENO = PEERS_DIR / "npm" / "node_modules" / "@deno" / "linux-x64-glibc" / "deno"
DENO_SCRIPT = PEER_SOURCES / "deno_tls.ts"
CURL_CFFI_SCRIPT = PEER_SOURCES / "curl_cffi_get.py"
NETNS_RUNNER = PEER_SOURCES / "netns_run.py"

DEFAULT_TIMEOUT = 20.0  # seconds for one client run / server start-up
HOST = "127.0.0.1"

PathLike = str | os.PathLike[str]


class PeerError(AssertionError):
    """A peer did not start, hung, or printed something the harness cannot read. Carries its output."""


# --------------------------------------------------------------------------------------------- availability


def peers_required() -> bool:
    """True when a missing peer must fail the test instead of skipping it (``make test`` as root sets this)."""
    return os.environ.get("HANDCLASP_REQUIRE_PEERS", "") == "1"


def require(what: str, available: bool, hint: str = "run scripts/install-peers.sh") -> None:
    if available:
        return
    message = f"{what} is not available ({hint})"
    if peers_required():
        pytest.fail(message + "; HANDCLASP_REQUIRE_PEERS=1", pytrace=False)
    pytest.skip(message)


def require_binary(name: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)), None
    )
    require(name, path is not None)
    assert path is not None
    return path


def require_gotls() -> str:
    require("Go peer .peers/bin/gotls", GOTLS.is_file() and os.access(GOTLS, os.X_OK))
    return str(GOTLS)


def require_deno() -> str:
    require("Deno .peers/npm (@deno/linux-x64-glibc)", DENO.is_file() and os.access(DENO, os.X_OK))
    return str(DENO)


def require_curl_cffi() -> None:
    try:
        import curl_cffi  # noqa: F401
    except ImportError:
        require("curl_cffi (pip install -e .[dev])", False)


def can_unshare_net() -> bool:
    """Whether this process can make a private network namespace (root: ``unshare -n``; else ``-rn``)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        done = subprocess.run([*_unshare_argv(), "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def can_capture() -> bool:
    """Whether tshark can capture on lo here (root, or dumpcap with capabilities)."""
    if shutil.which("tshark") is None:
        return False
    if os.geteuid() == 0:
        return True
    try:
        done = subprocess.run(["tshark", "-D"], capture_output=True, timeout=10, text=True)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Loopback" in done.stdout or "lo" in done.stdout.split()


# --------------------------------------------------------------------------------------------- processes

_LIVE: set[PeerProcess] = set()
_LIVE_LOCK = threading.Lock()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (bind to port 0). Prefer peers that bind 0 themselves."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0, host: str = HOST) -> None:
    """Block until a TCP connect to host:port succeeds (bounded). Note: this consumes one accept()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise PeerError(f"nothing listening on {host}:{port} after {timeout} s")


class PeerProcess:
    """A long-running peer: its own process group, stdin kept open (OpenSSL drops connections on stdin EOF),
    stdout and stderr collected by reader threads."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: PathLike | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self._lines: list[str] = []
        self._err: list[str] = []
        self._cond = threading.Condition()
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump(self, stream: Any, sink: list[str]) -> None:
        for raw in iter(stream.readline, b""):
            with self._cond:
                sink.append(raw.decode("utf-8", "replace"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    # -- reading
    def stdout(self) -> str:
        with self._cond:
            return "".join(self._lines)

    def stderr(self) -> str:
        with self._cond:
            return "".join(self._err)

    def output(self) -> str:
        """stdout followed by stderr, for assertion messages."""
        return self.stdout() + self.stderr()

    def describe(self) -> str:
        return (
            f"{self.name}: {' '.join(self.argv)}\n(returncode {self.proc.poll()})\n"
            f"--- stdout\n{self.stdout()[-6000:]}\n--- stderr\n{self.stderr()[-6000:]}"
        )

    def wait_for(
        self, pattern: str, timeout: float = DEFAULT_TIMEOUT, *, stream: str = "any"
    ) -> re.Match[str]:
        """Wait until the output matches ``pattern`` (a regex, multiline). Raises PeerError on timeout or exit."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = {
                    "stdout": "".join(self._lines),
                    "stderr": "".join(self._err),
                }.get(stream, "".join(self._lines) + "".join(self._err))
                match = regex.search(text)
                if match:
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._threads_alive()):
                    break
                self._cond.wait(min(remaining, 0.2))
        raise PeerError(f"waited {timeout} s for /{pattern}/\n{self.describe()}")

    def _threads_alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def json_lines(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for line in self.stdout().split("\n"):
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    out.append(json.loads(line))
        return out

    def reports(self) -> list[dict[str, Any]]:
        """Connection reports printed so far (gotls / deno_tls peers)."""
        return [_normalise(r) for r in self.json_lines() if r.get("event") == "connection"]

    def wait_report(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Wait until ``count`` connection reports were printed and return the ``count``-th one (1-based)."""
        deadline = time.monotonic() + timeout
        while True:
            # Decide "finished" before reading: a reader thread may append the last report and exit
            # between a read and the liveness check, and that report must not be missed.
            finished = time.monotonic() > deadline or (self.proc.poll() is not None and not self._threads_alive())
            found = self.reports()
            if len(found) >= count:
                return found[count - 1]
            if finished:
                raise PeerError(f"expected {count} connection report(s)\n{self.describe()}")
            with self._cond:
                self._cond.wait(0.1)

    # -- stopping
    def stop(self, timeout: float = 3.0) -> int | None:
        """Close stdin, SIGTERM the process group, SIGKILL after ``timeout``. Idempotent."""
        if self.proc.stdin and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        _kill_group(self.proc, timeout)
        for thread in self._threads:
            thread.join(2)
        with _LIVE_LOCK:
            _LIVE.discard(self)
        return self.proc.returncode

    def send_stdin(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()


def _kill_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(OSError):
                proc.send_signal(sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_all_peers() -> None:
    """Kill every peer process still running (used at the end of the pytest session)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for peer in live:
        peer.stop(timeout=1.0)


class PeerServer(int):
    """What the server context managers yield: the port (an ``int``, so ``with x() as port:`` works) plus the
    process, its output and its connection reports (Go and Deno servers print one per connection)."""

    process: PeerProcess
    host: str

    def __new__(cls, port: int, process: PeerProcess) -> PeerServer:
        obj = super().__new__(cls, port)
        obj.process = process
        obj.host = HOST
        return obj

    @property
    def port(self) -> int:
        return int(self)

    @property
    def addr(self) -> str:
        return f"{self.host}:{int(self)}"

    def output(self) -> str:
        return self.process.output()

    def reports(self) -> list[dict[str, Any]]:
        return self.process.reports()

    def wait_report(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        return self.process.wait_report(count, timeout)

    def wait_for(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> re.Match[str]:
        return self.process.wait_for(pattern, timeout)


@contextlib.contextmanager
def peer_server(
    argv: Sequence[str],
    ready: str,
    *,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: PathLike | None = None,
    start_timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[PeerServer]:
    r"""Any server process (e.g. ``handclasp serve ...`` or a Python script) that prints its port: ``ready``
    is a regex whose group 1 is the port (e.g. ``r"listening on 127\.0\.0\.1:(\d+)"``). Stopped (process
    group killed) when the block ends."""
    process = PeerProcess(name or Path(str(argv[0])).name, argv, env=env, cwd=cwd)
    try:
        match = process.wait_for(ready, start_timeout)
        yield PeerServer(int(match.group(1)), process)
    finally:
        process.stop()


def run_peer(
    argv: Sequence[str],
    *,
    input: bytes = b"",
    linger: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    cwd: PathLike | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a peer client to completion. Writes ``input`` to its stdin, keeps stdin open ``linger`` more
    seconds (s_client and gnutls-cli stop at stdin EOF, possibly before a NewSessionTicket arrives), then
    closes it. Returns a CompletedProcess with text stdout/stderr; raises PeerError on timeout (the process
    group is killed)."""
    process = PeerProcess(Path(str(argv[0])).name, argv, env=env, cwd=cwd)
    try:
        if input:
            with contextlib.suppress(OSError):
                process.send_stdin(input)
        if linger > 0:
            end = time.monotonic() + linger
            while time.monotonic() < end and process.proc.poll() is None:
                time.sleep(min(0.05, linger))
        if process.proc.stdin:
            with contextlib.suppress(OSError):
                process.proc.stdin.close()
        try:
            process.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(f"timed out after {timeout} s\n{process.describe()}") from None
        for thread in process._threads:
            thread.join(5)
        return subprocess.CompletedProcess(
            process.argv, process.proc.returncode, process.stdout(), process.stderr()
        )
    finally:
        process.stop(timeout=1.0)


def _normalise(report: dict[str, Any]) -> dict[str, Any]:
    report = dict(report)
    if report.get("alpn") == "":
        report["alpn"] = None
    report.setdefault("error", None)
    return report


def _keylog_env(keylog: PathLike | None) -> dict[str, str]:
    return {"SSLKEYLOGFILE": str(keylog)} if keylog is not None else {}


def _tmp_keylog() -> str:
    fd, path = tempfile.mkstemp(prefix="handclasp-keylog-", suffix=".txt")
    os.close(fd)
    return path


def keylog_labels(keylog: PathLike) -> set[str]:
    """The NSS key log labels present in a key log file (e.g. CLIENT_HANDSHAKE_TRAFFIC_SECRET)."""
    labels: set[str] = set()
    with contextlib.suppress(FileNotFoundError):
        for line in Path(keylog).read_text().splitlines():
            if line and not line.startswith("#"):
                labels.add(line.split(" ", 1)[0])
    return labels


def version_from_keylog(keylog: PathLike) -> str | None:
    labels = keylog_labels(keylog)
    if "CLIENT_HANDSHAKE_TRAFFIC_SECRET" in labels:
        return "TLSv1.3"
    if "CLIENT_RANDOM" in labels:
        return "TLSv1.2"
    return None


# --------------------------------------------------------------------------------------------- OpenSSL

OPENSSL_GROUPS = {
    "X25519": "X25519",
    "X448": "X448",
    "prime256v1": "SECP256R1",
    "secp256r1": "SECP256R1",
    "secp384r1": "SECP384R1",
    "secp521r1": "SECP521R1",
}


@contextlib.contextmanager
def openssl_server(
    cert: PathLike,
    key: PathLike,
    *,
    extra_args: Sequence[str] = (),
    www: bool = True,
    chain: PathLike | None = None,
    cafile: PathLike | None = None,
    verify_client: bool = False,
    keylog: PathLike | None = None,
    tls13_only: bool = False,
    start_timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[PeerServer]:
    """``openssl s_server`` on 127.0.0.1, port chosen by the kernel (the ACCEPT line tells it).

    ``www``: answer ``GET /`` with an HTML status page (incompatible with ``-early_data`` in extra_args).
    ``verify_client``: ``-Verify 1`` (client certificate required) with ``cafile`` as the client CA.
    stdin stays open until teardown, so without ``www`` the server keeps connections up. Yields a
    PeerServer (an int port); ``.output()`` has everything s_server printed (add ``-trace`` for details).
    """
    openssl = require_binary("openssl")
    argv = [openssl, "s_server", "-accept", f"{HOST}:0", "-cert", str(cert), "-key", str(key)]
    if chain is not None:
        argv += ["-cert_chain", str(chain)]
    if cafile is not None:
        argv += ["-CAfile", str(cafile)]
    if verify_client:
        argv += ["-Verify", "1"]
    if keylog is not None:
        argv += ["-keylogfile", str(keylog)]
    if tls13_only:
        argv += ["-tls1_3"]
    if www:
        argv += ["-www"]
    argv += list(extra_args)
    process = PeerProcess("openssl s_server", argv)
    try:
        match = process.wait_for(r"^ACCEPT .*:(\d+)\s*$", start_timeout, stream="stdout")
        yield PeerServer(int(match.group(1)), process)
    finally:
        process.stop()


def openssl_client_argv(
    port: int,
    args: Sequence[str] = (),
    *,
    servername: str | None = "localhost",
    cafile: PathLike | None = None,
    keylog: PathLike | None = None,
) -> list[str]:
    openssl = require_binary("openssl")
    argv = [openssl, "s_client", "-connect", f"{HOST}:{port}"]
    if servername is not None:
        argv += ["-servername", servername]
    if cafile is not None:
        argv += ["-CAfile", str(cafile), "-verify_return_error"]
        if servername is not None:
            argv += ["-verify_hostname", servername]
    if keylog is not None:
        argv += ["-keylogfile", str(keylog)]
    return argv + list(args)


def run_openssl_client(
    port: int,
    args: Sequence[str] = (),
    *,
    input: bytes = b"",
    servername: str | None = "localhost",
    cafile: PathLike | None = None,
    keylog: PathLike | None = None,
    linger: float = 0.5,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """``openssl s_client -connect 127.0.0.1:PORT [-servername] [-CAfile -verify_return_error] ARGS``.

    stdin gets ``input`` and stays open ``linger`` seconds (so tickets/responses can arrive), then EOF ends
    the client. Use ``parse_openssl_client(result.stdout)`` for the negotiated parameters.
    """
    argv = openssl_client_argv(port, args, servername=servername, cafile=cafile, keylog=keylog)
    return run_peer(argv, input=input, linger=linger, timeout=timeout)


def parse_openssl_client(output: str) -> dict[str, Any]:
    """Negotiated parameters from ``openssl s_client`` output (OpenSSL 3.0 format)."""
    report: dict[str, Any] = {
        "ok": False,
        "version": None,
        "suite": None,
        "group": None,
        "alpn": None,
        "resumed": False,
        "verify_code": None,
        "peer_signature_type": None,
        "peer_signing_digest": None,
        "early_data": None,
        "error": None,
    }
    session = re.search(r"^(New|Reused), (TLSv[\d.]+|SSLv3), Cipher is (\S+)", output, re.MULTILINE)
    if session and session.group(3) != "(NONE)":
        report.update(
            ok=True, version=session.group(2), suite=session.group(3), resumed=session.group(1) == "Reused"
        )
    temp_key = re.search(r"^Server Temp Key: (.+)$", output, re.MULTILINE)
    if temp_key:
        parts = [p.strip() for p in temp_key.group(1).split(",")]
        if parts[0] == "ECDH" and len(parts) > 1:
            report["group"] = OPENSSL_GROUPS.get(parts[1], parts[1])
        elif parts[0] == "DH" and len(parts) > 1:
            report["group"] = "FFDHE" + parts[1].split()[0]
        else:
            report["group"] = OPENSSL_GROUPS.get(parts[0], parts[0])
    alpn = re.search(r"^ALPN protocol: (\S+)", output, re.MULTILINE)
    if alpn:
        report["alpn"] = alpn.group(1)
    verify = re.search(r"Verify return code: (\d+)", output)
    if verify:
        report["verify_code"] = int(verify.group(1))
    for key, pattern in (
        ("peer_signature_type", r"^Peer signature type: (\S+)"),
        ("peer_signing_digest", r"^Peer signing digest: (\S+)"),
    ):
        found = re.search(pattern, output, re.MULTILINE)
        if found:
            report[key] = found.group(1)
    if "Early data was accepted" in output:
        report["early_data"] = True
    elif "Early data was rejected" in output:
        report["early_data"] = False
    if not report["ok"]:
        error = re.search(r"^.*(error|alert).*$", output, re.MULTILINE | re.IGNORECASE)
        report["error"] = error.group(0) if error else "no session established"
    return report


# --------------------------------------------------------------------------------------------- Go


def _go_common_args(
    *,
    groups: Sequence[str] | str | None,
    alpn: Sequence[str],
    min_version: str | None,
    max_version: str | None,
    ciphers: Sequence[str],
    ekm: str | None,
    timeout: float,
) -> list[str]:
    argv: list[str] = ["-timeout", f"{timeout}s"]
    if groups:
        argv += ["-groups", groups if isinstance(groups, str) else ",".join(groups)]
    if alpn:
        argv += ["-alpn", ",".join(alpn)]
    if min_version:
        argv += ["-minversion", min_version]
    if max_version:
        argv += ["-maxversion", max_version]
    if ciphers:
        argv += ["-ciphers", ",".join(ciphers)]
    if ekm:
        argv += ["-ekm", ekm]
    return argv


def run_go_clients(
    port: int,
    *,
    n: int = 1,
    cafile: PathLike | None = None,
    servername: str = "localhost",
    groups: Sequence[str] | str | None = None,
    alpn: Sequence[str] = (),
    cert: PathLike | None = None,
    key: PathLike | None = None,
    send: str | None = None,
    http: bool = False,
    read_len: int | None = None,
    insecure: bool = False,
    min_version: str | None = None,
    max_version: str | None = None,
    ciphers: Sequence[str] = (),
    ekm: str | None = None,
    keylog: PathLike | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> list[dict[str, Any]]:
    """Run the Go client for ``n`` sequential connections (later ones resume via Go's session cache) and
    return one report per connection. A failed handshake is a report with ``ok: False`` (not an exception);
    PeerError only when the program printed no report at all."""
    gotls = require_gotls()
    argv = [gotls, "-addr", f"{HOST}:{port}", "-servername", servername, "-n", str(n)]
    argv += _go_common_args(
        groups=groups,
        alpn=alpn,
        min_version=min_version,
        max_version=max_version,
        ciphers=ciphers,
        ekm=ekm,
        timeout=timeout / 2,
    )
    if cafile is not None:
        argv += ["-cafile", str(cafile)]
    if insecure:
        argv += ["-insecure"]
    if cert is not None:
        argv += ["-cert", str(cert), "-key", str(key)]
    if send is not None:
        argv += ["-send", send]
    if http:
        argv += ["-http"]
    if read_len is not None:
        argv += ["-readlen", str(read_len)]
    argv += list(extra_args)
    done = run_peer(argv, env=_keylog_env(keylog), timeout=timeout * n)
    reports = [
        _normalise(json.loads(line))
        for line in done.stdout.split("\n")
        if line.startswith("{") and '"event":"connection"' in line
    ]
    if not reports:
        raise PeerError(
            f"gotls client printed no report (rc {done.returncode})\n{done.stdout}\n{done.stderr}"
        )
    return reports


def run_go_client(port: int, **kwargs: Any) -> dict[str, Any]:
    """One Go client connection; same keyword arguments as ``run_go_clients`` (except ``n``). Returns the
    report: ok, error, version, version_id, suite, suite_id, group, group_id, alpn, resumed, hello_retry,
    server_name, peer_certs, peer_subjects, ekm (hex, with ekm=LABEL), sent, received_len, received."""
    return run_go_clients(port, n=1, **kwargs)[0]


@contextlib.contextmanager
def go_server(
    cert: PathLike,
    key: PathLike,
    *,
    groups: Sequence[str] | str | None = None,
    alpn: Sequence[str] = (),
    client_auth: str = "none",
    client_ca: PathLike | None = None,
    mode: str = "echo",
    n: int = 0,
    min_version: str | None = None,
    max_version: str | None = None,
    ciphers: Sequence[str] = (),
    ekm: str | None = None,
    no_tickets: bool = False,
    keylog: PathLike | None = None,
    extra_args: Sequence[str] = (),
    conn_timeout: float = 10.0,
    lifetime: float = 120.0,
    start_timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[PeerServer]:
    """Go crypto/tls server on 127.0.0.1:0. ``mode``: "echo" (echo bytes until EOF/close_notify) or "http"
    (answer one HTTP request with the connection report as JSON). ``client_auth``: none|request|require
    (verified against ``client_ca`` when given). ``n``: exit after n connections (0: until teardown).
    Yields a PeerServer; ``srv.wait_report(k)`` returns the server's report of its k-th connection."""
    gotls = require_gotls()
    argv = [gotls, "-server", "-addr", f"{HOST}:0", "-cert", str(cert), "-key", str(key)]
    argv += ["-mode", mode, "-n", str(n), "-lifetime", f"{lifetime}s", "-clientauth", client_auth]
    argv += _go_common_args(
        groups=groups,
        alpn=alpn,
        min_version=min_version,
        max_version=max_version,
        ciphers=ciphers,
        ekm=ekm,
        timeout=conn_timeout,
    )
    if client_ca is not None:
        argv += ["-clientca", str(client_ca)]
    if no_tickets:
        argv += ["-notickets"]
    argv += list(extra_args)
    process = PeerProcess("gotls server", argv, env=_keylog_env(keylog))
    try:
        match = process.wait_for(r'"event":"listening".*"port":(\d+)', start_timeout, stream="stdout")
        yield PeerServer(int(match.group(1)), process)
    finally:
        process.stop()


# --------------------------------------------------------------------------------------------- Deno (rustls)


def _deno_env(keylog: PathLike | None) -> dict[str, str]:
    env = {"DENO_NO_UPDATE_CHECK": "1", "DENO_DIR": str(PEERS_DIR / "deno-dir"), "NO_COLOR": "1"}
    env.update(_keylog_env(keylog))
    return env


def _deno_argv(role: str) -> list[str]:
    deno = require_deno()
    return [
        deno,
        "run",
        "--quiet",
        "--allow-net=127.0.0.1,localhost",
        "--allow-read",
        "--allow-env",
        str(DENO_SCRIPT),
        role,
    ]


@contextlib.contextmanager
def deno_server(
    cert: PathLike,
    key: PathLike,
    *,
    alpn: Sequence[str] = (),
    mode: str = "echo",
    n: int = 0,
    keylog: PathLike | None = None,
    conn_timeout: float = 10.0,
    lifetime: float = 120.0,
    start_timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[PeerServer]:
    """Deno (rustls) server on 127.0.0.1:0, modes as ``go_server``. Reports carry only ok/alpn/received
    (Deno exposes nothing else; look at the client side or the key log). No client-certificate support."""
    argv = _deno_argv("server") + ["--port", "0", "--cert", str(cert), "--key", str(key), "--mode", mode]
    argv += ["--n", str(n), "--timeout", str(conn_timeout), "--lifetime", str(lifetime)]
    if alpn:
        argv += ["--alpn", ",".join(alpn)]
    process = PeerProcess("deno server", argv, env=_deno_env(keylog))
    try:
        match = process.wait_for(r'"event":"listening".*"port":(\d+)', start_timeout, stream="stdout")
        yield PeerServer(int(match.group(1)), process)
    finally:
        process.stop()


def deno_client(
    port: int,
    *,
    cafile: PathLike | None = None,
    servername: str = "localhost",
    alpn: Sequence[str] = (),
    send: str | None = None,
    http: bool = False,
    read_len: int | None = None,
    cert: PathLike | None = None,
    key: PathLike | None = None,
    keylog: PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """One Deno (rustls) client connection to 127.0.0.1:PORT with SNI/verification name ``servername``.
    Returns the report (ok, error, alpn, sent, received_len, received) plus ``version`` derived from the
    key log (a temporary one unless ``keylog`` is given). With ``cert``/``key`` (mTLS) Deno connects to
    ``servername`` itself, which must then resolve to 127.0.0.1 (use "localhost" or "127.0.0.1")."""
    argv = _deno_argv("client") + ["--port", str(port), "--servername", servername]
    argv += ["--timeout", str(timeout / 2)]
    if cafile is not None:
        argv += ["--cafile", str(cafile)]
    if alpn:
        argv += ["--alpn", ",".join(alpn)]
    if send is not None:
        argv += ["--send", send]
    if http:
        argv += ["--http"]
    if read_len is not None:
        argv += ["--readlen", str(read_len)]
    if cert is not None:
        argv += ["--cert", str(cert), "--key", str(key)]
    own_keylog = keylog is None
    keylog_path = _tmp_keylog() if keylog is None else str(keylog)
    try:
        done = run_peer(argv, env=_deno_env(keylog_path), timeout=timeout)
        reports = [json.loads(line) for line in done.stdout.split("\n") if line.startswith("{")]
        if not reports:
            raise PeerError(
                f"deno client printed no report (rc {done.returncode})\n{done.stdout}\n{done.stderr}"
            )
        report = _normalise(reports[-1])
        report["version"] = version_from_keylog(keylog_path) if report.get("ok") else None
        return report
    finally:
        if own_keylog:
            with contextlib.suppress(OSError):
                os.unlink(keylog_path)


# --------------------------------------------------------------------------------------------- curl


def _localhost_resolve(url: str) -> list[str]:
    """``--resolve localhost:PORT:127.0.0.1`` for https://localhost:PORT URLs (never try ::1)."""
    match = re.match(r"https?://([^/:]+):(\d+)", url)
    if match and not re.fullmatch(r"[\d.]+", match.group(1)):
        return [f"{match.group(1)}:{match.group(2)}:{HOST}"]
    return []


def curl_get(
    url: str,
    cafile: PathLike | None = None,
    *,
    extra_args: Sequence[str] = (),
    keylog: PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """System curl (OpenSSL 3.0) GET. Returns {ok, returncode, status, body, version, suite, alpn,
    http_version, error, verbose}; the TLS details come from ``curl -v``."""
    curl = require_binary("curl")
    with tempfile.TemporaryDirectory(prefix="handclasp-curl-") as tmp:
        body_path = Path(tmp) / "body"
        argv = [curl, "-sS", "-v", "--max-time", str(timeout / 2), "-o", str(body_path), "-w", "%{json}"]
        for entry in _localhost_resolve(url):
            argv += ["--resolve", entry]
        if cafile is not None:
            argv += ["--cacert", str(cafile)]
        argv += [*extra_args, url]
        done = run_peer(argv, env=_keylog_env(keylog), timeout=timeout)
        body = body_path.read_bytes().decode("utf-8", "replace") if body_path.exists() else ""
    info: dict[str, Any] = {}
    with contextlib.suppress(json.JSONDecodeError):
        info = json.loads(done.stdout) if done.stdout.strip() else {}
    verbose = done.stderr
    tls = re.search(r"SSL connection using (\S+) / (\S+)", verbose)
    alpn = re.search(r"ALPN[:,] server accepted (?:to use )?(\S+)", verbose)
    return {
        "ok": done.returncode == 0,
        "returncode": done.returncode,
        "status": info.get("http_code") or info.get("response_code"),
        "http_version": info.get("http_version"),
        "body": body,
        "version": tls.group(1) if tls else None,
        "suite": tls.group(2) if tls else None,
        "alpn": alpn.group(1) if alpn else None,
        "error": info.get("errormsg") or (None if done.returncode == 0 else verbose[-2000:]),
        "verbose": verbose,
    }


def curl_cffi_get(
    url: str,
    impersonate: str = "chrome",
    *,
    cafile: PathLike | None = None,
    insecure: bool = False,
    keylog: PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """curl_cffi (BoringSSL with a browser's ClientHello: GREASE, X25519MLKEM768, ECH GREASE, ...) GET.
    Returns {ok, status, http_version, headers, body, error, impersonate}. The negotiated TLS parameters
    are not visible from curl_cffi: check them on the server side."""
    require_curl_cffi()
    argv = [sys.executable, str(CURL_CFFI_SCRIPT), url, "--impersonate", impersonate]
    argv += ["--timeout", str(timeout / 2)]
    for entry in _localhost_resolve(url):
        argv += ["--resolve", entry]
    if cafile is not None:
        argv += ["--cafile", str(cafile)]
    if insecure:
        argv += ["--insecure"]
    done = run_peer(argv, env=_keylog_env(keylog), timeout=timeout)
    lines = [line for line in done.stdout.split("\n") if line.startswith("{")]
    if not lines:
        raise PeerError(
            f"curl_cffi script printed no report (rc {done.returncode})\n{done.stdout}\n{done.stderr}"
        )
    report: dict[str, Any] = json.loads(lines[-1])
    report.setdefault("error", None)
    return report


# --------------------------------------------------------------------------------------------- GnuTLS

GNUTLS_GROUPS = {
    "X25519": "X25519",
    "X448": "X448",
    "SECP256R1": "SECP256R1",
    "SECP384R1": "SECP384R1",
    "SECP521R1": "SECP521R1",
    "FFDHE2048": "FFDHE2048",
    "FFDHE3072": "FFDHE3072",
    "FFDHE4096": "FFDHE4096",
}
GNUTLS_CIPHERS = {
    "AES-128-GCM": "TLS_AES_128_GCM_SHA256",
    "AES-256-GCM": "TLS_AES_256_GCM_SHA384",
    "CHACHA20-POLY1305": "TLS_CHACHA20_POLY1305_SHA256",
}


def parse_gnutls(output: str) -> dict[str, Any]:
    """Negotiated parameters from gnutls-cli / gnutls-serv output ("- Description: (TLS1.3-X.509)-...")."""
    report: dict[str, Any] = {
        "ok": False,
        "version": None,
        "suite": None,
        "group": None,
        "alpn": None,
        "signature": None,
        "resumed": False,
        "error": None,
    }
    desc = re.search(r"- Description: \((TLS[\d.]+)-[^)]*\)-\(([^)]*)\)-\(([^)]*)\)-\(([^)]*)\)", output)
    if desc:
        version = desc.group(1).replace("TLS", "TLSv")
        kx = desc.group(2)
        group = kx.split("-", 1)[1] if "-" in kx else kx
        report.update(
            ok=True, version=version, group=GNUTLS_GROUPS.get(group, group), signature=desc.group(3)
        )
        cipher = desc.group(4)
        report["suite"] = GNUTLS_CIPHERS.get(cipher, cipher) if version == "TLSv1.3" else cipher
    alpn = re.search(r"- Application protocol: (\S+)", output)
    if alpn:
        report["alpn"] = alpn.group(1)
    report["resumed"] = "This is a resumed session" in output
    if not report["ok"]:
        error = re.search(r"^\*\*\* (.*)$", output, re.MULTILINE)
        report["error"] = error.group(1) if error else "no handshake"
    return report


def gnutls_client_argv(
    port: int,
    *,
    cafile: PathLike | None = None,
    servername: str | None = "localhost",
    priority: str | None = None,
    alpn: Sequence[str] = (),
    cert: PathLike | None = None,
    key: PathLike | None = None,
    extra_args: Sequence[str] = (),
) -> list[str]:
    argv = [require_binary("gnutls-cli"), HOST, "-p", str(port)]
    if servername is not None:
        argv += [f"--sni-hostname={servername}", f"--verify-hostname={servername}"]
    if cafile is not None:
        argv += [f"--x509cafile={cafile}"]
    else:
        argv += ["--insecure"]
    if priority is not None:
        argv += [f"--priority={priority}"]
    for proto in alpn:
        argv += [f"--alpn={proto}"]
    if cert is not None:
        argv += [f"--x509certfile={cert}", f"--x509keyfile={key}"]
    return argv + list(extra_args)


def run_gnutls_client(
    port: int,
    *,
    input: bytes = b"",
    linger: float = 0.5,
    keylog: PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **argv_kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """``gnutls-cli`` against 127.0.0.1:PORT (a client binds nothing, so no namespace is needed).
    Keyword arguments as ``gnutls_client_argv`` (cafile, servername, priority, alpn, cert, key, extra_args).
    Use ``parse_gnutls(result.stdout)``."""
    argv = gnutls_client_argv(port, **argv_kwargs)
    return run_peer(argv, input=input, linger=linger, env=_keylog_env(keylog), timeout=timeout)


def gnutls_server_argv(
    port: int,
    cert: PathLike,
    key: PathLike,
    *,
    priority: str | None = None,
    http: bool = False,
    cafile: PathLike | None = None,
    require_client_cert: bool = False,
    alpn: Sequence[str] = (),
    extra_args: Sequence[str] = (),
) -> list[str]:
    """argv for ``gnutls-serv`` (echo server unless ``http``). It binds every interface: only run it
    through ``netns_scenario``/``gnutls_pair``."""
    argv = [require_binary("gnutls-serv"), "-p", str(port), "--http" if http else "--echo"]
    argv += [f"--x509certfile={cert}", f"--x509keyfile={key}"]
    if priority is not None:
        argv += [f"--priority={priority}"]
    if cafile is not None:
        argv += [f"--x509cafile={cafile}"]
    if require_client_cert:
        argv += ["--require-client-cert", "--verify-client-cert"]
    for proto in alpn:
        argv += [f"--alpn={proto}"]
    return argv + list(extra_args)


# --------------------------------------------------------------------------------------------- namespaces


@dataclass(frozen=True)
class NetnsResult:
    """Outcome of ``netns_scenario``: the server's whole output and the client's CompletedProcess."""

    ready: bool
    error: str | None
    server_output: str
    server_returncode: int | None
    client: subprocess.CompletedProcess[str]

    def describe(self) -> str:
        return (
            f"ready={self.ready} error={self.error}\n--- server\n{self.server_output[-6000:]}\n"
            f"--- client rc={self.client.returncode}\n{self.client.stdout[-6000:]}\n{self.client.stderr[-3000:]}"
        )


def _unshare_argv() -> list[str]:
    unshare = shutil.which("unshare") or "unshare"
    # Not root: a user namespace maps us to root inside, which is enough for `ip link set lo up`.
    return [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-r", "-n"]


def netns_scenario(
    server: Sequence[str],
    client: Sequence[str],
    port: int,
    *,
    ready: str = "connect",
    client_input: str = "",
    ready_timeout: float = 10.0,
    client_timeout: float = DEFAULT_TIMEOUT,
    cwd: PathLike | None = None,
) -> NetnsResult:
    """Run ``server`` and then ``client`` (argv lists) in one fresh network namespace with only ``lo`` up,
    for servers that bind every interface (gnutls-serv, NSS selfserv, bssl-tool server). Any fixed ``port``
    is fine: the namespace is empty. ``ready``: "connect" (poll 127.0.0.1:port; don't use with servers
    that accept only once) or a regex on the server's output. The client may be anything, e.g.
    ``[sys.executable, "-c", code]`` with handclasp code (the environment, PYTHONPATH included, is
    inherited)."""
    require("network namespaces (unshare -n)", can_unshare_net(), "needs root or user namespaces")
    require_binary("ip")
    client_argv = [str(a) for a in client]
    spec: dict[str, Any] = {
        "server": [str(a) for a in server],
        "client": client_argv,
        "port": port,
        "ready": ready,
        "client_input": client_input,
        "ready_timeout": ready_timeout,
        "client_timeout": client_timeout,
        "cwd": str(cwd) if cwd is not None else None,
    }
    argv = [*_unshare_argv(), sys.executable, str(NETNS_RUNNER)]
    total = ready_timeout + client_timeout + 15.0
    done = run_peer(argv, input=json.dumps(spec).encode(), timeout=total)
    lines = [line for line in done.stdout.split("\n") if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise PeerError(f"netns runner failed (rc {done.returncode})\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[-1])
    c = result["client"]
    return NetnsResult(
        ready=result["ready"],
        error=result["error"],
        server_output=result["server_output"],
        server_returncode=result["server_returncode"],
        client=subprocess.CompletedProcess(client_argv, c["returncode"], c["stdout"], c["stderr"]),
    )


def gnutls_pair(
    cert: PathLike,
    key: PathLike,
    cafile: PathLike,
    *,
    server_priority: str | None = None,
    client_priority: str | None = None,
    alpn: Sequence[str] = (),
    server_args: Sequence[str] = (),
    client_args: Sequence[str] = (),
    client_input: str = "",
    port: int = 14600,
    timeout: float = DEFAULT_TIMEOUT,
) -> NetnsResult:
    """gnutls-serv (echo) and gnutls-cli in one network namespace. ``parse_gnutls(result.client.stdout)``
    and ``parse_gnutls(result.server_output)`` give each side's view."""
    server = gnutls_server_argv(port, cert, key, priority=server_priority, alpn=alpn, extra_args=server_args)
    client = gnutls_client_argv(
        port, cafile=cafile, priority=client_priority, alpn=alpn, extra_args=client_args
    )
    return netns_scenario(server, client, port, client_input=client_input, client_timeout=timeout)


def gnutls_server_scenario(
    client: Sequence[str],
    cert: PathLike,
    key: PathLike,
    *,
    port: int = 14600,
    priority: str | None = None,
    http: bool = False,
    cafile: PathLike | None = None,
    require_client_cert: bool = False,
    alpn: Sequence[str] = (),
    server_args: Sequence[str] = (),
    client_input: str = "",
    timeout: float = DEFAULT_TIMEOUT,
) -> NetnsResult:
    """gnutls-serv plus any client argv (e.g. a handclasp client script) in one namespace."""
    server = gnutls_server_argv(
        port,
        cert,
        key,
        priority=priority,
        http=http,
        cafile=cafile,
        require_client_cert=require_client_cert,
        alpn=alpn,
        extra_args=server_args,
    )
    return netns_scenario(server, client, port, client_input=client_input, client_timeout=timeout)


# --------------------------------------------------------------------------------------------- tshark


@contextlib.contextmanager
def tshark_capture(
    port: int,
    *,
    directory: PathLike | None = None,
    interface: str = "lo",
    start_timeout: float = DEFAULT_TIMEOUT,
    settle: float = 0.3,
) -> Iterator[Path]:
    """Capture ``tcp port PORT`` on lo into a pcapng file while the block runs; yields its path (complete
    after the block). Needs root (or capture capabilities). Decode with ``tshark_read``."""
    tshark = require_binary("tshark")
    require("packet capture on lo", can_capture(), "needs root or dumpcap capabilities")
    own_dir = directory is None
    base = Path(tempfile.mkdtemp(prefix="handclasp-pcap-")) if directory is None else Path(directory)
    path = base / f"capture-{port}.pcapng"
    argv = [tshark, "-n", "-i", interface, "-f", f"tcp port {port}", "-w", str(path), "-a", "duration:300"]
    process = PeerProcess("tshark", argv)
    try:
        # "Capturing on 'Loopback: lo'" comes before dumpcap really captures; tshark 4 then logs
        # "Capture started." / 'File: "..."'.
        process.wait_for(r"Capture started|File: ", start_timeout, stream="stderr")
        time.sleep(0.2)
        yield path
        time.sleep(settle)  # let the last packets reach the capture
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.wait(5)
    finally:
        process.stop()
        if own_dir and not path.exists():
            with contextlib.suppress(OSError):
                base.rmdir()


def tshark_read(
    pcap: PathLike,
    *,
    keylog: PathLike | None = None,
    display_filter: str | None = None,
    fields: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    timeout: float = 60.0,
) -> str:
    """``tshark -r PCAP [-o tls.keylog_file:KEYLOG] [-Y FILTER] [-T fields -e F ...]`` → stdout."""
    argv = [require_binary("tshark"), "-n", "-r", str(pcap)]
    if keylog is not None:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    if display_filter:
        argv += ["-Y", display_filter]
    if fields:
        argv += ["-T", "fields"]
        for field in fields:
            argv += ["-e", field]
    argv += list(extra_args)
    done = run_peer(argv, timeout=timeout)
    if done.returncode != 0:
        raise PeerError(f"tshark -r failed (rc {done.returncode})\n{done.stderr}")
    return done.stdout


def tshark_handshake_types(pcap: PathLike, keylog: PathLike | None = None) -> list[int]:
    """Every TLS handshake message type in the capture, in order (decrypted ones too when ``keylog``)."""
    out = tshark_read(pcap, keylog=keylog, display_filter="tls.handshake.type", fields=["tls.handshake.type"])
    types: list[int] = []
    for line in out.split():
        types.extend(int(t) for t in line.split(",") if t)
    return types


# --------------------------------------------------------------------------------------------- PKI


@dataclass(frozen=True)
class PeerPKI:
    """PEM files for the peers. Server certs carry SANs DNS:localhost and IP:127.0.0.1; the client cert has
    extendedKeyUsage clientAuth. ``*_chain`` files hold leaf + intermediates (no root)."""

    directory: Path
    ca: Path
    server_cert: Path  # ECDSA P-256 leaf (chain file: leaf first)
    server_key: Path
    server_rsa_cert: Path  # RSA 2048 leaf
    server_rsa_key: Path
    client_cert: Path  # ECDSA P-256, clientAuth
    client_key: Path
    files: Mapping[str, Path] = field(
        default_factory=dict
    )  # every file written, by name ("expired.pem", ...)

    def path(self, name: str) -> Path:
        """A file of the PKI by name, e.g. ``pki.path("server-ed25519.pem")`` (tests/pki.py names)."""
        return self.files.get(name, self.directory / name)

    @classmethod
    def from_files(cls, directory: Path, files: Mapping[str, Path]) -> PeerPKI:
        """From tests/pki.py's ``write_pki`` output."""
        return cls(
            directory=directory,
            ca=files["ca.pem"],
            server_cert=files["server.pem"],
            server_key=files["server.key"],
            server_rsa_cert=files["server-rsa2048.pem"],
            server_rsa_key=files["server-rsa2048.key"],
            client_cert=files["client.pem"],
            client_key=files["client.key"],
            files=dict(files),
        )


def make_openssl_pki(directory: PathLike) -> PeerPKI:
    """A small test PKI made with the openssl CLI (an implementation independent of handclasp's own
    tools/certs.py): root CA (P-256) → server EC, server RSA, client EC. Valid for 30 days from now."""
    openssl = require_binary("openssl")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], cwd=d, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise PeerError(f"openssl {' '.join(args)} failed\n{done.stdout}\n{done.stderr}")

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    run(
        "req",
        "-x509",
        *ec,
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=handclasp interop test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    leaves = {
        "server": (
            ec,
            "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        ),
        "server-rsa": (
            ["-newkey", "rsa:2048"],
            "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        ),
        "client": (ec, "/CN=handclasp interop client", "extendedKeyUsage=clientAuth"),
    }
    for name, (keyopts, subject, ext) in leaves.items():
        (d / f"{name}.ext").write_text(
            ext + "\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        )
        run(
            "req",
            "-new",
            *keyopts,
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            subject,
        )
        run(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "30",
            "-extfile",
            f"{name}.ext",
        )
    return PeerPKI(
        directory=d,
        ca=d / "ca.pem",
        server_cert=d / "server.pem",
        server_key=d / "server.key",
        server_rsa_cert=d / "server-rsa.pem",
        server_rsa_key=d / "server-rsa.key",
        client_cert=d / "client.pem",
        client_key=d / "client.key",
        files={p.name: p for p in sorted(d.iterdir()) if p.suffix in (".pem", ".key")},
    )
