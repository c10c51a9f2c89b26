"""OpenSSL's s_server and s_client as interop peers, and what they print."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

from tests.interop.peers.process import (
    DEFAULT_TIMEOUT,
    HOST,
    PathLike,
    PeerProcess,
    PeerServer,
    require_binary,
    run_peer,
)

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
