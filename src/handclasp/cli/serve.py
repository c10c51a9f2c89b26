"""``handclasp serve``: a small HTTPS (or echo) server on the blocking adapter.

Without ``--cert`` it uses the user's local CA (``handclasp.tools.certs``) and a
reusable leaf for localhost and 127.0.0.1, and prints the ``curl`` line to try.
One log line per connection: what was negotiated, or the error that ended it.
"""

from __future__ import annotations

import argparse
import datetime
import html
from pathlib import Path
from typing import Any

from handclasp.cli.output import (
    Printer,
    UsageError,
    alpn_argument,
    error_message,
    format_address,
    name,
    negotiated_rows,
    version_name,
)
from handclasp.config import ClientAuth, ServerConfig
from handclasp.io.blocking import TLSSocket, serve
from handclasp.tools.certs import CertifiedKey, default_local_ca, user_data_dir

LOCAL_NAMES = ("localhost", "127.0.0.1")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run an HTTPS (or echo) server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="port (default 8443; 0 picks a free one)")
    parser.add_argument("--cert", help="PEM certificate chain, leaf first (default: local CA leaf)")
    parser.add_argument("--key", help="PEM private key for --cert")
    parser.add_argument("--client-ca", metavar="FILE", help="PEM roots for client certificates (requests one)")
    parser.add_argument("--require-client-cert", action="store_true", help="refuse clients without a cert")
    parser.add_argument("--alpn", type=alpn_argument, default=("http/1.1",),
                        help="comma-separated ALPN protocols (default http/1.1)")
    parser.add_argument("--keylog", metavar="FILE", help="append NSS key log lines (secrets!) to FILE")
    parser.add_argument("--echo", action="store_true", help="echo bytes back instead of serving a page")
    parser.add_argument("--max-connections", type=int, metavar="N", help="exit after N connections")
    parser.add_argument("--handshake-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    config = _server_config(args, out)
    handler = _echo if args.echo else _http_page

    def on_connection(tls: TLSSocket, addr: Any) -> None:
        out.line(_log_line(addr, tls))
        handler(tls, addr)

    def on_error(addr: Any, exc: BaseException) -> None:
        out.line(f"{format_address(addr)}  [red]error[/]: {error_message(exc)}",
                 f"{format_address(addr)}  error: {error_message(exc)}")

    server = serve(args.host, args.port, config, on_connection, max_connections=args.max_connections,
                   on_error=on_error)
    mode = "echo" if args.echo else "HTTPS"
    out.line(f"handclasp serve: {mode} on {args.host}:{server.port} "
             f"(ALPN {','.join(config.alpn_protocols) or '-'}; Ctrl-C stops)")
    if getattr(args, "ca_path", None) and not args.echo:
        out.line(f"try: curl --cacert {args.ca_path} https://localhost:{server.port}/")
    elif getattr(args, "ca_path", None):
        out.line(f"try: handclasp connect localhost:{server.port} --cafile {args.ca_path}")
    try:
        server.wait()
    except KeyboardInterrupt:
        out.line("stopping")
    finally:
        server.shutdown()
    return 0


def _server_config(args: argparse.Namespace, out: Printer) -> ServerConfig:
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together")
    if args.require_client_cert and not args.client_ca:
        raise UsageError("--require-client-cert needs --client-ca")
    if args.cert:
        certificate = CertifiedKey.load(args.cert, args.key)
    else:
        certificate, args.ca_path = _local_certificate()
        out.line(f"certificate for {', '.join(LOCAL_NAMES)} from the local CA; CA certificate: {args.ca_path}")
    client_auth: ClientAuth = "require" if args.require_client_cert else ("request" if args.client_ca else "none")
    return ServerConfig(certificates=(certificate,), alpn_protocols=args.alpn, client_auth=client_auth,
                        client_cafile=args.client_ca, keylog_filename=args.keylog,
                        handshake_timeout=args.handshake_timeout)


def _local_certificate() -> tuple[CertifiedKey, Path]:
    """The local CA's leaf for localhost/127.0.0.1, issued once and reused while valid."""
    ca = default_local_ca()
    directory = user_data_dir() / "serve"
    cert_path, key_path = directory / "localhost.pem", directory / "localhost.key"
    try:
        certificate = CertifiedKey.load(cert_path, key_path)
        certificate.leaf.verify_directly_issued_by(ca.intermediates[0] if ca.intermediates else ca.root)
        if certificate.leaf.not_valid_after_utc < datetime.datetime.now(datetime.UTC) + _RENEW_BEFORE:
            raise ValueError("expiring")
    except Exception:  # noqa: BLE001 - missing, unreadable, from another CA or expiring: issue anew
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        certificate = ca.issue(list(LOCAL_NAMES))
        certificate.write_pem(cert_path, key_path)
    return certificate, user_data_dir() / "ca" / "root.pem"


def _log_line(addr: Any, tls: TLSSocket) -> str:
    negotiated = tls.negotiated
    seconds = tls.handshake_seconds or 0.0
    fields = [
        format_address(addr),
        f"sni={getattr(negotiated, 'server_name', None) or '-'}",
        version_name(getattr(negotiated, "version", None)),
        name(getattr(negotiated, "cipher_suite", None)),
        name(getattr(negotiated, "group", None)),
        name(getattr(negotiated, "signature_scheme", None)),
        f"alpn={getattr(negotiated, 'alpn_protocol', None) or '-'}",
        f"resumed={'yes' if getattr(negotiated, 'resumed', False) else 'no'}",
        f"client_cert={'yes' if getattr(negotiated, 'peer_certificates', ()) else 'no'}",
        f"handshake={seconds * 1000:.1f}ms",
    ]
    return "  ".join(fields)


def _echo(tls: TLSSocket, addr: Any) -> None:
    """Echo until the client's close_notify; each recv is bounded by the idle timeout."""
    tls.settimeout(_IDLE_TIMEOUT)
    while data := tls.recv(65536):
        tls.sendall(data)


def _http_page(tls: TLSSocket, addr: Any) -> None:
    """Read one request head (bounded) and answer with a small page; Connection: close."""
    tls.settimeout(_IDLE_TIMEOUT)
    head = b""
    while b"\r\n\r\n" not in head and len(head) < _MAX_REQUEST_HEAD:
        chunk = tls.recv(4096)
        if not chunk:
            return
        head += chunk
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                   for label, value in negotiated_rows(tls.negotiated))
    body = (f"<!doctype html><title>handclasp</title><h1>Hello from handclasp</h1>"
            f"<p>{html.escape(request_line)}</p><table>{rows}</table>\n").encode()
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                + f"Content-Length: {len(body)}\r\n".encode() + b"Connection: close\r\n\r\n" + body)


_IDLE_TIMEOUT = 60.0
_MAX_REQUEST_HEAD = 65536
_RENEW_BEFORE = datetime.timedelta(days=7)
