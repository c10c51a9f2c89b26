"""Deno (rustls) as an interop peer (deno_tls.ts)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from tests.interop.peers.process import (
    DEFAULT_TIMEOUT,
    DENO_SCRIPT,
    PEERS_DIR,
    PathLike,
    PeerError,
    PeerProcess,
    PeerServer,
    keylog_env,
    normalise_report,
    require_deno,
    run_peer,
    tmp_keylog,
    version_from_keylog,
)


def _deno_env(keylog: PathLike | None) -> dict[str, str]:
    env = {"DENO_NO_UPDATE_CHECK": "1", "DENO_DIR": str(PEERS_DIR / "deno-dir"), "NO_COLOR": "1"}
    env.update(keylog_env(keylog))
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
    keylog_path = tmp_keylog() if keylog is None else str(keylog)
    try:
        done = run_peer(argv, env=_deno_env(keylog_path), timeout=timeout)
        reports = [json.loads(line) for line in done.stdout.split("\n") if line.startswith("{")]
        if not reports:
            raise PeerError(
                f"deno client printed no report (rc {done.returncode})\n{done.stdout}\n{done.stderr}"
            )
        report = normalise_report(reports[-1])
        report["version"] = version_from_keylog(keylog_path) if report.get("ok") else None
        return report
    finally:
        if own_keylog:
            with contextlib.suppress(OSError):
                os.unlink(keylog_path)
