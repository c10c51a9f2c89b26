"""Peer processes on 127.0.0.1: where peers live, whether they are installed (skip, or fail under
HANDCLASP_REQUIRE_PEERS=1), starting, reading and stopping them, and their key logs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
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


def unshare_argv() -> list[str]:
    unshare = shutil.which("unshare") or "unshare"
    # Not root: a user namespace maps us to root inside, which is enough for `ip link set lo up`.
    return [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-r", "-n"]


def can_unshare_net() -> bool:
    """Whether this process can make a private network namespace (root: ``unshare -n``; else ``-rn``)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        done = subprocess.run([*unshare_argv(), "true"], capture_output=True, timeout=10)
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
        return [normalise_report(r) for r in self.json_lines() if r.get("event") == "connection"]

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


def normalise_report(report: dict[str, Any]) -> dict[str, Any]:
    report = dict(report)
    if report.get("alpn") == "":
        report["alpn"] = None
    report.setdefault("error", None)
    return report


def keylog_env(keylog: PathLike | None) -> dict[str, str]:
    return {"SSLKEYLOGFILE": str(keylog)} if keylog is not None else {}


def tmp_keylog() -> str:
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
