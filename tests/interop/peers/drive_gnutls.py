"""GnuTLS's gnutls-serv and gnutls-cli as interop peers; gnutls-serv binds every interface, so it runs
in a private network namespace (``netns.netns_scenario``)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from typing import Any

from tests.interop.peers.netns import NetnsResult, netns_scenario
from tests.interop.peers.process import (
    DEFAULT_TIMEOUT,
    HOST,
    PathLike,
    keylog_env,
    require_binary,
    run_peer,
)

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
    return run_peer(argv, input=input, linger=linger, env=keylog_env(keylog), timeout=timeout)


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
