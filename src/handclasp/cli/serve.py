"""``handclasp serve``: a small HTTPS (or echo) server on the blocking adapter.

Without ``--cert`` it uses the user's local CA (``handclasp.tools.certs``) and a
reusable leaf for localhost and 127.0.0.1, and prints the ``curl`` line to try.
One log line per connection: what was negotiated, or the error that ended it.
``--early-data`` accepts 0-RTT data on resumed connections (``--echo`` echoes it first;
the page treats it as the start of the request).
"""

from __future__ import annotations

import argparse
import datetime
import html
from pathlib import Path
from typing import Any

from rich.markup import escape

from handclasp.cli.output import (
    Printer,
    UsageError,
    alpn_argument,
    error_message,
    format_address,
    load_certified_key,
    name,
    negotiated_rows,
    version_name,
)
from handclasp.config import ClientAuth, ServerConfig
from handclasp.io.blocking import TLSSocket, serve
from handclasp.tools.certs import CertifiedKey, default_local_ca, user_data_dir

LOCAL_NAMES = ("localhost", "127.0.0.1")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run an HTTPS (or echo) server", description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="port (default 8443; 0 picks a free one)")
    parser.add_argument("--cert", help="PEM certificate chain, leaf first (default: local CA leaf)")
    parser.add_argument("--key", help="PEM private key for --cert")
    parser.add_argument("--client-ca", metavar="FILE", help="PEM roots for client certificates (requests one)")
    parser.add_argument("--require-client-cert", action="store_true", help="refuse clients without a cert")
    parser.add_argument("--alpn", type=alpn_argument, default=("http/1.1",),
                        help="comma-separated ALPN protocols (default http/1.1)")
    parser.add_argument("--keylog", metavar="FILE", help="append NSS key log lines (secrets!) to FILE")
    parser.add_argument("--ocsp-file", metavar="FILE",
                        help="DER OCSP response for the leaf, stapled in TLS 1.3 when asked (never fetched)")
    parser.add_argument("--legacy", action="store_true",
                        help="also accept TLS 1.0/1.1 and CBC without encrypt-then-MAC (RFC 8996: avoid)")
    parser.add_argument("--echo", action="store_true", help="echo bytes back instead of serving a page")
    parser.add_argument("--early-data", action="store_true",
                        help="accept TLS 1.3 0-RTT early data on resumed connections (replayable!)")
    parser.add_argument("--max-early-data", type=int, default=_DEFAULT_MAX_EARLY_DATA, metavar="N",
                        help=f"with --early-data: bytes of early data allowed (default {_DEFAULT_MAX_EARLY_DATA})")
    parser.add_argument("--max-connections", type=int, metavar="N", help="exit after N connections")
    parser.add_argument("--handshake-timeout", type=float, default=30.0, metavar="SECONDS")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    config, ca_path = _server_config(args, out)
    handler = _echo if args.echo else _http_page

    def on_connection(tls: TLSSocket, addr: Any) -> None:
        out.text(_log_line(addr, tls))
        handler(tls, addr)

    def on_error(addr: Any, exc: BaseException) -> None:
        message = f"{format_address(addr)}  error: {error_message(exc)}"
        out.line(escape(message).replace("error:", "[red]error[/]:", 1), message)

    server = serve(args.host, args.port, config, on_connection, max_connections=args.max_connections,
                   on_error=on_error)
    mode = "echo" if args.echo else "HTTPS"
    out.text(f"handclasp serve: {mode} on {args.host}:{server.port} "
             f"(ALPN {','.join(config.alpn_protocols) or '-'}; Ctrl-C stops)")
    if ca_path is not None and not args.echo:
        out.text(f"try: curl --cacert {ca_path} https://localhost:{server.port}/")
    elif ca_path is not None:
        out.text(f"try: handclasp connect localhost:{server.port} --cafile {ca_path}")
    try:
        server.wait()
    except KeyboardInterrupt:
        out.text("stopping")
    finally:
        server.shutdown()
    return 0


def _server_config(args: argparse.Namespace, out: Printer) -> tuple[ServerConfig, Path | None]:
    """The config, and the local CA's certificate path when no --cert was given."""
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together")
    if args.require_client_cert and not args.client_ca:
        raise UsageError("--require-client-cert needs --client-ca")
    if args.early_data and not 0 < args.max_early_data <= 0xFFFFFFFF:
        raise UsageError("--max-early-data must be between 1 and 2^32-1")
    ca_path = None
    if args.cert:
        certificate = load_certified_key(args.cert, args.key)
    else:
        certificate, ca_path = _local_certificate()
        out.text(f"certificate for {', '.join(LOCAL_NAMES)} from the local CA; CA certificate: {ca_path}")
    if args.ocsp_file:
        try:
            certificate = certificate.load_ocsp_response(args.ocsp_file)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--ocsp-file: {exc}") from None
    client_auth: ClientAuth = "require" if args.require_client_cert else ("request" if args.client_ca else "none")
    try:
        config = ServerConfig(certificates=(certificate,), alpn_protocols=args.alpn, client_auth=client_auth,
                              client_cafile=args.client_ca, keylog_filename=args.keylog,
                              handshake_timeout=args.handshake_timeout, legacy_versions=args.legacy,
                              max_early_data_size=args.max_early_data if args.early_data else 0)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return config, ca_path


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
    if tls.early_data_accepted:
        fields.append(f"early_data={len(tls.early_data)}B")
    return "  ".join(fields)


def _echo(tls: TLSSocket, addr: Any) -> None:
    """Echo until the client's close_notify; each recv is bounded by the idle timeout."""
    tls.settimeout(_IDLE_TIMEOUT)
    if early := tls.early_data:  # 0-RTT data, in order, before the 1-RTT bytes
        tls.sendall(early)
    while data := tls.recv(65536):
        tls.sendall(data)


def _http_page(tls: TLSSocket, addr: Any) -> None:
    """Read one request head (bounded) and answer with a small page; Connection: close."""
    tls.settimeout(_IDLE_TIMEOUT)
    head = tls.early_data  # a replayed GET / only shows this page again (RFC 8470 §3: safe to answer)
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
_DEFAULT_MAX_EARLY_DATA = 16384
_MAX_REQUEST_HEAD = 65536
_RENEW_BEFORE = datetime.timedelta(days=7)

DESCRIPTION = (
    "Serve a small HTTPS page (or echo with --echo). Without --cert, a local CA under the user data "
    "directory issues a certificate for localhost and 127.0.0.1. One log line per connection."
)
