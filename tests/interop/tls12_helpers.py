"""Helpers for tests/interop/test_tls12_interop.py: handclasp's TLS 1.2 against real peers.

- ``OPENSSL_SUITE_NAMES``: IANA TLS 1.2 suite → OpenSSL's name (``-cipher``, ``Cipher is ...``).
- ``client12_config`` / ``server12_config``: configs that speak TLS 1.2 only unless told otherwise.
- ``open_client12`` / ``http_get12``: our client over a blocking ``TLSSocket`` that can offer a previous
  connection's session (``connect`` cannot: it builds ``ClientConnection(config, server_name)`` only).
- ``keylog_master_secrets`` / ``openssl_master_keys``: the TLS 1.2 master secret as we logged it (NSS
  ``CLIENT_RANDOM``) and as OpenSSL printed it (``Master-Key:``), to compare byte for byte.
- ``trace_extensions``: extension names of one message in ``openssl -trace`` output.
- ``python_ssl12_server``: a Python ``ssl`` server limited to TLS 1.2 for one connection.
- Run as a script (``python tests/interop/tls12_helpers.py --port N ...``) it is a handclasp client that
  prints one JSON line with its view of a TLS 1.2 connection: used inside network namespaces
  (gnutls-serv, botan tls_server, which bind every interface).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import ssl
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:  # script mode: ``tests.interop`` must be importable
    sys.path.insert(0, str(_REPO_ROOT))

from handclasp import (  # noqa: E402
    CipherSuite,
    ClientConfig,
    ClientConnection,
    HandclaspError,
    NamedGroup,
    ProtocolVersion,
    ServerConfig,
    events,
)
from handclasp.crypto.suites12 import TLS12_SUITES, AuthAlgorithm, KeyExchangeAlgorithm  # noqa: E402
from handclasp.io.blocking import TLSSocket  # noqa: E402
from handclasp.sessions.cache import ClientSession  # noqa: E402
from handclasp.tools.certs import CertifiedKey  # noqa: E402
from tests.interop.client_helpers import (  # noqa: E402
    HOST,
    IO_TIMEOUT,
    ClientRun,
    PythonServerView,
    TraceMessage,
    client_config,
    load_client_cert,
    python_ssl_server,
    read_exactly,
    read_until_close,
)

TLS12 = ProtocolVersion.TLS1_2
TLS13 = ProtocolVersion.TLS1_3
BOTH = (TLS13, TLS12)

# IANA name → OpenSSL 3.0 name (``openssl ciphers -V -stdname``); every suite of TLS12_SUITES is here.
OPENSSL_SUITE_NAMES: dict[CipherSuite, str] = {
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
    CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: "DHE-RSA-AES128-GCM-SHA256",
    CipherSuite.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: "DHE-RSA-AES256-GCM-SHA384",
    CipherSuite.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "DHE-RSA-CHACHA20-POLY1305",
    CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
    CipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "ECDHE-ECDSA-AES128-SHA256",
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: "ECDHE-ECDSA-AES256-SHA384",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: "ECDHE-RSA-AES128-SHA256",
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: "ECDHE-RSA-AES256-SHA384",
    CipherSuite.TLS_DHE_RSA_WITH_AES_128_CBC_SHA: "DHE-RSA-AES128-SHA",
    CipherSuite.TLS_DHE_RSA_WITH_AES_256_CBC_SHA: "DHE-RSA-AES256-SHA",
    CipherSuite.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: "DHE-RSA-AES128-SHA256",
    CipherSuite.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: "DHE-RSA-AES256-SHA256",
    CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
    CipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
    CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA256: "AES128-SHA256",
    CipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA256: "AES256-SHA256",
}
OPENSSL_SUITES_BY_NAME = {name: suite for suite, name in OPENSSL_SUITE_NAMES.items()}

# handclasp group → ``openssl -groups`` spelling
OPENSSL_GROUP_ARG = {
    NamedGroup.X25519: "X25519",
    NamedGroup.SECP256R1: "P-256",
    NamedGroup.SECP384R1: "P-384",
    NamedGroup.SECP521R1: "P-521",
    NamedGroup.X448: "X448",
}
# RFC 7919 ffdhe2048 prime, first 16 bytes (hex) — RFC 3526 MODP group 14 starts FFFF...C90FDAA22168C234
FFDHE2048_PREFIX = "FFFFFFFFFFFFFFFFADF85458A2BB4A9A"


def suite_uses_rsa_kx(suite: CipherSuite) -> bool:
    return TLS12_SUITES[suite].kx is KeyExchangeAlgorithm.RSA


def suite_is_cbc(suite: CipherSuite) -> bool:
    return TLS12_SUITES[suite].is_cbc


def suite_cert_stem(suite: CipherSuite) -> str:
    """The PKI file stem a server needs for ``suite``: ECDSA suites an EC key, the rest RSA."""
    return "server-ecdsa-p256" if TLS12_SUITES[suite].auth is AuthAlgorithm.ECDSA else "server-rsa2048"


def suite_key_type(suite: CipherSuite) -> str:
    return "ecdsa-p256" if TLS12_SUITES[suite].auth is AuthAlgorithm.ECDSA else "rsa2048"


# --------------------------------------------------------------------------------------------- configs


def client12_config(cafile: str | Path, **kwargs: Any) -> ClientConfig:
    """``client_config`` (trust ``cafile``, no key log, short timeout) speaking TLS 1.2 only by default."""
    kwargs.setdefault("versions", (TLS12,))
    return client_config(cafile, **kwargs)


def server12_config(certificates: tuple[CertifiedKey, ...], **kwargs: Any) -> ServerConfig:
    """A ServerConfig speaking TLS 1.2 only by default, no key log unless asked."""
    kwargs.setdefault("versions", (TLS12,))
    kwargs.setdefault("keylog_filename", None)
    kwargs.setdefault("handshake_timeout", IO_TIMEOUT)
    return ServerConfig(certificates=certificates, **kwargs)


# --------------------------------------------------------------------------------------------- our client


def open_client12(
    port: int,
    config: ClientConfig,
    server_name: str | None = "localhost",
    *,
    session: ClientSession | None = None,
    cache_port: int | None = None,
) -> ClientRun:
    """TCP connect to 127.0.0.1:port, then the handshake of ``ClientConnection(config, server_name,
    port=cache_port, session=session)`` over a blocking TLSSocket (bounded by the config's timeout)."""
    recorded: list[events.Event] = []
    sock = socket.create_connection((HOST, int(port)), timeout=IO_TIMEOUT)
    conn = ClientConnection(config, server_name, port=cache_port, session=session)
    tls = TLSSocket(sock, conn, event_hook=recorded.append)
    tls.do_handshake(config.handshake_timeout, restore_timeout=IO_TIMEOUT)
    return ClientRun(tls, recorded)


def http_get12(
    port: int,
    config: ClientConfig,
    server_name: str | None = "localhost",
    *,
    session: ClientSession | None = None,
    cache_port: int | None = None,
) -> tuple[ClientRun, bytes]:
    """``GET / HTTP/1.0`` over a new connection (s_server -www); returns the run and the page."""
    run = open_client12(port, config, server_name, session=session, cache_port=cache_port)
    with run.tls:
        run.tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        body = read_until_close(run.tls)
    return run, body


def echo12(
    port: int,
    config: ClientConfig,
    payload: bytes,
    server_name: str | None = "localhost",
    *,
    session: ClientSession | None = None,
) -> tuple[ClientRun, bytes]:
    """Send ``payload`` to an echo server and read as many bytes back."""
    run = open_client12(port, config, server_name, session=session)
    with run.tls:
        run.tls.sendall(payload)
        echoed = read_exactly(run.tls, len(payload))
    return run, echoed


def client_session(run: ClientRun) -> ClientSession | None:
    conn = run.tls.connection
    assert isinstance(conn, ClientConnection)
    return conn.session


# --------------------------------------------------------------------------------------------- reports


def keylog_master_secrets(path: str | Path) -> dict[str, str]:
    """client_random (hex, lower) → master secret (hex, lower) from an NSS key log (CLIENT_RANDOM lines)."""
    found: dict[str, str] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in Path(path).read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "CLIENT_RANDOM":
                found[parts[1].lower()] = parts[2].lower()
    return found


def openssl_master_keys(output: str) -> list[str]:
    """Every ``Master-Key:`` value (hex, lower) printed by s_client / the s_server -www page."""
    return [m.lower() for m in re.findall(r"^\s*Master-Key: ([0-9A-Fa-f]+)\s*$", output, re.MULTILINE)]


def openssl_sessions(output: str) -> list[tuple[str, str, str]]:
    """Every session of s_client output / an s_server -www page: (New|Reused, protocol, OpenSSL suite
    name). The protocol comes from the SSL-Session block's ``Protocol  :`` line: the ``New, TLSv1.0,
    Cipher is ...`` line names the *suite's* minimum version (SSL_CIPHER_get_version), not the session's."""
    heads = re.findall(r"^(New|Reused), (?:TLSv[\d.]+|SSLv3), Cipher is (\S+)", output, re.MULTILINE)
    protocols = re.findall(r"^\s+Protocol\s*: (\S+)", output, re.MULTILINE)
    return [(kind, proto, name) for (kind, name), proto in zip(heads, protocols, strict=False)]


def openssl_ems(output: str) -> list[str]:
    """Every ``Extended master secret: yes|no`` value."""
    return re.findall(r"^\s*Extended master secret: (\w+)", output, re.MULTILINE)


def trace_extensions(message: TraceMessage) -> list[str]:
    """Extension names (``encrypt_then_mac``, ``extended_master_secret``, ...) in an -trace message."""
    return re.findall(r"extension_type=([\w]+)\(\d+\)", "\n".join(message.lines))


def trace_named_curve(message: TraceMessage) -> NamedGroup | None:
    """``named_curve`` of a TLS 1.2 ServerKeyExchange in -trace output ("named_curve: secp384r1 (P-384) (24)")."""
    found = re.search(r"^named_curve: .*\((\d+)\)$", "\n".join(message.lines), re.MULTILINE)
    return NamedGroup(int(found.group(1))) if found else None


def trace_dh_p(message: TraceMessage) -> str | None:
    found = re.search(r"dh_p \(len=\d+\): ([0-9A-F]+)", "\n".join(message.lines))
    return found.group(1) if found else None


# --------------------------------------------------------------------------------------------- Python ssl


def python_ssl12_server(
    cert: str | Path,
    key: str | Path,
    *,
    ciphers: str | None = None,
    client_ca: str | Path | None = None,
    alpn: Sequence[str] = (),
    timeout: float = IO_TIMEOUT,
) -> contextlib.AbstractContextManager[tuple[int, PythonServerView]]:
    """A TLS 1.2-only ``ssl`` server on 127.0.0.1:0 for one connection, echoing until EOF."""
    return python_ssl_server(cert, key, ciphers=ciphers, client_ca=client_ca, alpn=alpn, timeout=timeout,
                             version=ssl.TLSVersion.TLSv1_2)


# --------------------------------------------------------------------------------------------- script mode


def script12_argv(
    port: int,
    cafile: str | Path,
    *,
    versions: Sequence[str] = ("TLS1_2",),
    suites: Sequence[str] = (),
    groups: Sequence[str] = (),
    alpn: Sequence[str] = (),
    legacy_rsa: bool = False,
    cert: str | Path | None = None,
    key: str | Path | None = None,
    send: str = "hello from handclasp\n",
    server_name: str = "localhost",
    connections: int = 1,
) -> list[str]:
    """argv running this file as a handclasp client (for ``netns_scenario`` / ``gnutls_server_scenario``)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--port", str(port), "--cafile", str(cafile)]
    argv += ["--servername", server_name, "--send", send, "--versions", ",".join(versions)]
    argv += ["--connections", str(connections)]
    for option, values in (("--suites", suites), ("--groups", groups), ("--alpn", alpn)):
        if values:
            argv += [option, ",".join(values)]
    if legacy_rsa:
        argv += ["--legacy-rsa"]
    if cert is not None:
        argv += ["--cert", str(cert), "--key", str(key)]
    return argv


def script12_reports(stdout: str) -> list[dict[str, Any]]:
    """The JSON lines the script printed, one per connection (``[{"ok": False, ...}]`` when none)."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines] or [{"ok": False, "error": "no report", "stdout": stdout}]


def _one_connection(
    args: argparse.Namespace, config: ClientConfig, session: ClientSession | None
) -> tuple[dict[str, Any], ClientSession | None]:
    report: dict[str, Any] = {"ok": False}
    new_session: ClientSession | None = None
    try:
        run = open_client12(args.port, config, args.servername, session=session)
        with run.tls:
            negotiated = run.tls.negotiated
            assert negotiated is not None
            report.update(
                version=negotiated.version.name,
                suite=negotiated.cipher_suite.name,
                group=negotiated.group.name if negotiated.group else None,
                signature_scheme=negotiated.signature_scheme.name if negotiated.signature_scheme else None,
                alpn=negotiated.alpn_protocol,
                resumed=negotiated.resumed,
                extended_master_secret=negotiated.extended_master_secret,
                client_certificate_requested=negotiated.client_certificate_requested,
            )
            payload = args.send.encode()
            run.tls.sendall(payload)
            echoed = read_exactly(run.tls, len(payload))
            report["echo"] = echoed[:1000].decode("utf-8", "replace")
            report["echo_matches"] = echoed == payload
            new_session = client_session(run)
            report["session_id"] = new_session.session_id.hex() if new_session else None
            report["ticket"] = bool(new_session and new_session.ticket)
        report["ok"] = True
    except (HandclaspError, OSError, AssertionError) as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
    return report, new_session


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="handclasp TLS 1.2 client: one JSON line per connection")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--servername", default="localhost")
    parser.add_argument("--versions", default="TLS1_2")
    parser.add_argument("--suites")
    parser.add_argument("--groups")
    parser.add_argument("--alpn")
    parser.add_argument("--legacy-rsa", action="store_true")
    parser.add_argument("--ems-optional", action="store_true", help="require_extended_master_secret=False")
    parser.add_argument("--send", default="hello from handclasp\n")
    parser.add_argument("--connections", type=int, default=1, help="later ones offer the previous session")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {
        "versions": tuple(ProtocolVersion[v] for v in args.versions.split(",")),
        "legacy_rsa_key_exchange": args.legacy_rsa,
        "require_extended_master_secret": not args.ems_optional,
    }
    if args.suites:
        kwargs["cipher_suites"] = tuple(CipherSuite[n] for n in args.suites.split(","))
    if args.groups:
        kwargs["groups"] = tuple(NamedGroup[n] for n in args.groups.split(","))
    if args.alpn:
        kwargs["alpn_protocols"] = tuple(args.alpn.split(","))
    if args.cert:
        kwargs["certificate"] = load_client_cert(args.cert, args.key)
    config = client_config(args.cafile, **kwargs)
    session: ClientSession | None = None
    ok = True
    deadline = time.monotonic() + 60
    for _ in range(max(1, min(args.connections, 5))):
        if time.monotonic() > deadline:
            break
        report, session = _one_connection(args, config, session)
        ok = ok and report["ok"]
        print(json.dumps(report), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
