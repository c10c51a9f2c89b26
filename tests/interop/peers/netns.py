"""Private network namespaces for peers that can only bind every interface."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.interop.peers.process import (
    DEFAULT_TIMEOUT,
    NETNS_RUNNER,
    PathLike,
    PeerError,
    can_unshare_net,
    require,
    require_binary,
    run_peer,
    unshare_argv,
)


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
    argv = [*unshare_argv(), sys.executable, str(NETNS_RUNNER)]
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
