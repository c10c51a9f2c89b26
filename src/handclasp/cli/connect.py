"""``handclasp connect HOST:PORT``: a TLS client in the spirit of ``openssl s_client -brief``.

The handshake summary goes to stderr; then stdin is piped to the server and the
server's data to stdout until close_notify (stdin EOF sends our close_notify but
keeps reading), or with ``--http`` one ``GET /`` is sent and the response printed.
``--sess-out``/``--sess-in`` save and offer a session file, ``--early-data`` sends a
file's bytes as 0-RTT data (resent after the handshake if the server refuses them).
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
from typing import Any, cast

from rich.markup import escape

from handclasp import events
from handclasp.cli.output import (
    CommandError,
    Printer,
    UsageError,
    alpn_argument,
    certificate_rows,
    cipher_suites_argument,
    error_message,
    groups_argument,
    load_certified_key,
    negotiated_rows,
    parse_host_port,
)
from handclasp.config import ClientConfig
from handclasp.errors import HandclaspError
from handclasp.io.blocking import TLSSocket, connect
from handclasp.sessions.cache import ClientSession, load_session, save_session
from handclasp.sessions.store import SessionFormatError
from handclasp.x509.ocsp import describe_ocsp_response


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("connect", help="connect to a TLS server (like openssl s_client -brief)",
                                   description=DESCRIPTION)
    parser.add_argument("target", metavar="HOST:PORT", help="server address, e.g. localhost:8443 or [::1]:443")
    parser.add_argument("--servername", help="name for SNI and certificate checks (default: HOST)")
    parser.add_argument("--cafile", help="PEM roots to trust (default: the system store)")
    parser.add_argument("--insecure", action="store_true",
                        help="DANGEROUS: skip certificate verification (dangerous_skip_verification)")
    parser.add_argument("--cert", help="PEM client certificate chain, leaf first")
    parser.add_argument("--key", help="PEM private key for --cert")
    parser.add_argument("--alpn", type=alpn_argument, help="comma-separated ALPN protocols, e.g. h2,http/1.1")
    parser.add_argument("--groups", type=groups_argument,
                        help="key exchange groups in preference order, e.g. x25519,P-256 (first gets a share)")
    parser.add_argument("--ciphers", type=cipher_suites_argument,
                        help="TLS 1.3 suites, e.g. TLS_AES_128_GCM_SHA256,TLS_CHACHA20_POLY1305_SHA256")
    parser.add_argument("--keylog", metavar="FILE", help="append NSS key log lines (secrets!) to FILE")
    parser.add_argument("--legacy", action="store_true",
                        help="also allow TLS 1.0/1.1 and CBC without encrypt-then-MAC (RFC 8996: avoid)")
    parser.add_argument("--http", action="store_true", help="send one GET / and print the response")
    parser.add_argument("--status", action="store_true",
                        help="print the server's stapled OCSP response (always requested and checked)")
    parser.add_argument("--sess-out", metavar="FILE",
                        help="write the resumable session (secret! mode 0600) to FILE, like s_client -sess_out")
    parser.add_argument("--sess-in", metavar="FILE", help="offer the session in FILE for resumption")
    parser.add_argument("--early-data", metavar="FILE",
                        help="send FILE's bytes as 0-RTT early data when the --sess-in session allows it "
                             "(sent again after the handshake if not accepted); replayable: safe requests only")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="TCP connect and handshake timeout (default 10)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, err: Printer | None = None) -> int:
    err = err if err is not None else Printer(sys.stderr)
    try:
        host, port = parse_host_port(args.target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    config = _client_config(args)
    session = _read_session(args.sess_in) if args.sess_in else None
    early_data = _read_file(args.early_data, "--early-data") if args.early_data else b""
    holder: list[TLSSocket] = []
    rejected: list[events.EarlyDataRejected] = []

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.EarlyDataRejected):
            rejected.append(event)
        elif isinstance(event, events.SessionTicketReceived) and args.sess_out and holder:
            _write_session(args.sess_out, holder[0])

    try:
        tls = connect(host, port, config, server_name=args.servername, timeout=args.timeout, event_hook=on_event,
                      session=session, early_data=early_data)
    except OSError as exc:
        raise CommandError(f"cannot connect to {host}:{port}: {error_message(exc)}") from None
    holder.append(tls)
    if args.sess_out:
        _write_session(args.sess_out, tls)  # a TLS 1.2 session is known now; tickets come later
    with tls:
        _print_summary(err, tls, f"{host}:{port}", args)
        if args.status and tls.negotiated is not None:
            err.text(describe_ocsp_response(tls.negotiated.ocsp_response))
        if args.early_data:
            err.text(_early_data_line(tls, bool(rejected)))
        if args.http:
            _http_get(tls, _host_header(args.servername or host, port))
        else:
            tls.settimeout(None)
            _pipe(tls)
    return 0


def _client_config(args: argparse.Namespace) -> ClientConfig:
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together")
    options: dict[str, Any] = {"handshake_timeout": args.timeout}
    if args.cafile:
        options["cafile"] = args.cafile
    if args.insecure:
        options["dangerous_skip_verification"] = True
    if args.cert:
        options["certificate"] = load_certified_key(args.cert, args.key)
    if args.alpn:
        options["alpn_protocols"] = args.alpn
    if args.groups:
        options["groups"] = args.groups
        options["key_share_groups"] = args.groups[:1]
    if args.ciphers:
        options["cipher_suites"] = args.ciphers
    if args.keylog:
        options["keylog_filename"] = args.keylog
    if args.legacy:
        options["legacy_versions"] = True
    if args.early_data:
        options["enable_early_data"] = True
    try:
        return ClientConfig(**options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _read_file(path: str, option: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {option} {path}: {error_message(exc)}") from None


def _read_session(path: str) -> ClientSession:
    try:
        return load_session(path)
    except (OSError, SessionFormatError) as exc:
        raise CommandError(f"cannot read session file {path}: {error_message(exc)}") from None


def _write_session(path: str, tls: TLSSocket) -> None:
    session = tls.connection.session
    if session is None:
        return
    try:
        save_session(path, session)
    except OSError as exc:
        raise CommandError(f"cannot write session file {path}: {error_message(exc)}") from None


def _early_data_line(tls: TLSSocket, rejected: bool) -> str:
    """The outcome as ``openssl s_client -early_data`` words it."""
    if tls.early_data_accepted:
        return "Early data was accepted"
    if rejected:
        return "Early data was rejected (sent again after the handshake)"
    return "Early data was not sent (no session allowing it; sent after the handshake)"


def _print_summary(err: Printer, tls: TLSSocket, address: str, args: argparse.Namespace) -> None:
    negotiated = tls.negotiated
    err.line(f"[bold green]CONNECTED[/] {escape(address)}", f"CONNECTED {address}")
    rows = negotiated_rows(negotiated)
    rows.append(("handshake", f"{(tls.handshake_seconds or 0.0) * 1000:.1f} ms"))
    if getattr(negotiated, "client_certificate_requested", False):
        rows.append(("client certificate", "requested, " + ("sent" if args.cert else "none sent")))
    if args.insecure:
        rows.append(("verification", "SKIPPED (--insecure: the server is NOT authenticated)"))
    else:
        trust = f"--cafile {args.cafile}" if args.cafile else "the system roots"
        rows.append(("verification", f"OK (chain and name checked against {trust})"))
    err.fields(rows)
    err.line("[bold]certificate chain[/]", "certificate chain")
    err.fields(certificate_rows(getattr(negotiated, "peer_certificates", ())))
    err.text("---")


def _http_get(tls: TLSSocket, host_header: str) -> None:
    request = (f"GET / HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: handclasp\r\n"
               "Accept: */*\r\nConnection: close\r\n\r\n")
    tls.sendall(request.encode("ascii"))
    _copy_to_stdout(tls)


def _pipe(tls: TLSSocket) -> None:
    """stdin → server in a thread (close_notify at EOF), server → stdout here."""
    def pump_stdin() -> None:
        stdin = cast(io.BufferedReader, sys.stdin.buffer)
        try:
            while chunk := stdin.read1(65536):
                tls.sendall(chunk)
            tls.shutdown_write()
        except (HandclaspError, OSError, ValueError):
            pass  # the connection ended first; the reader reports why

    threading.Thread(target=pump_stdin, name="handclasp-stdin", daemon=True).start()
    _copy_to_stdout(tls)


def _copy_to_stdout(tls: TLSSocket) -> None:
    stdout = sys.stdout.buffer
    while data := tls.recv(65536):
        stdout.write(data)
        stdout.flush()


def _host_header(host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port == 443 else f"{host}:{port}"

DESCRIPTION = (
    "Connect to a TLS server and print the handshake summary to stderr, then pipe stdin to the "
    "server and the server's data to stdout until close_notify, or with --http send one GET / and "
    "print the response."
)
