"""Go's crypto/tls as an interop peer (the gotls program built from gotls.go)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from tests.interop.peers.process import (
    DEFAULT_TIMEOUT,
    HOST,
    PathLike,
    PeerError,
    PeerProcess,
    PeerServer,
    keylog_env,
    normalise_report,
    require_gotls,
    run_peer,
)


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
    done = run_peer(argv, env=keylog_env(keylog), timeout=timeout * n)
    reports = [
        normalise_report(json.loads(line))
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
    process = PeerProcess("gotls server", argv, env=keylog_env(keylog))
    try:
        match = process.wait_for(r'"event":"listening".*"port":(\d+)', start_timeout, stream="stdout")
        yield PeerServer(int(match.group(1)), process)
    finally:
        process.stop()
