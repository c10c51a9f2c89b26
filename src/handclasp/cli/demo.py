"""``handclasp demo``: one TLS 1.3 handshake over loopback, narrated message by message.

An in-memory CA issues a certificate for localhost; a server runs in a thread
(blocking adapter) on a free 127.0.0.1 port; a client connects over a real
socket.  Every handshake message is printed as it arrives at the other side,
then the negotiated parameters, the certificate chain and one echoed line.
"""

from __future__ import annotations

import argparse
import time

from rich.markup import escape

from handclasp import events
from handclasp.cli.output import CommandError, Printer, certificate_rows, message_name, negotiated_rows
from handclasp.config import ClientConfig, ServerConfig
from handclasp.endpoints import ClientConnection, ServerConnection
from handclasp.io.blocking import EventHook, TLSSocket, connect, serve
from handclasp.tools.certs import LocalCA

MESSAGE = b"hello from the handclasp demo"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="narrate one TLS 1.3 handshake over 127.0.0.1",
                                   description=DESCRIPTION)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: Printer | None = None) -> int:
    out = out if out is not None else Printer()
    ca = LocalCA.create("handclasp demo CA")
    server_config = ServerConfig(certificates=(ca.issue(["localhost", "127.0.0.1"]),),
                                 alpn_protocols=("http/1.1",))
    client_config = ClientConfig(cadata=ca.root_pem, alpn_protocols=("http/1.1",), handshake_timeout=10.0)
    trace = _Trace(out)
    with serve("127.0.0.1", 0, server_config, _echo_once, max_connections=1,
               event_hook=trace.hook("server")) as server:
        out.line(f"[bold]handclasp demo[/]: TLS 1.3 between a client and a server on 127.0.0.1:{server.port}",
                 f"handclasp demo: TLS 1.3 between a client and a server on 127.0.0.1:{server.port}")
        out.section("Handshake messages, in wire order (printed as each one arrives)")
        # Build (and drop) one connection of each side first, so first-use imports don't count as time.
        ClientConnection(client_config, server_name="localhost"), ServerConnection(server_config)
        trace.start()
        with connect("127.0.0.1", server.port, client_config, server_name="localhost", timeout=10.0,
                      event_hook=trace.hook("client")) as tls:
            trace.handshake_done()
            reply = _exchange(tls)
            negotiated = tls.negotiated
        server.wait(10.0)
    if negotiated is None:  # connect() only returns after the handshake completed
        raise CommandError("the handshake did not complete")
    out.section("Negotiated")
    out.fields(negotiated_rows(negotiated))
    out.section("Certificate chain (as the client received and verified it)")
    out.fields(certificate_rows(negotiated.peer_certificates))
    out.section("Application data")
    arrow = out.arrow()
    out.fields([(f"client {arrow} server", repr(MESSAGE)), (f"server {arrow} client", repr(reply))])
    if reply != MESSAGE:
        out.line("[red]the echo did not match[/]", "the echo did not match")
        return 1
    return 0


class _Trace:
    """Prints each HandshakeMessage as it arrives at the other side, with the time since the start.

    Printing on arrival (``Direction.RECEIVED``) keeps the lines in wire order.
    """

    def __init__(self, out: Printer) -> None:
        self._out = out
        self._started = time.perf_counter()

    def start(self) -> None:
        self._started = time.perf_counter()
        header = f"{'time':>10}  {'direction':<16}  {'message':<20}  {'size':>7}  {'record':<9}  details"
        self._out.line(f"[dim]{header}[/]", header)

    def hook(self, side: str) -> EventHook:
        peer = "server" if side == "client" else "client"

        def on_event(event: events.Event) -> None:
            if isinstance(event, events.HandshakeMessage) and event.direction is events.Direction.RECEIVED:
                self._print(f"{peer} {self._out.arrow()} {side}", event)

        return on_event

    def handshake_done(self) -> None:
        elapsed = (time.perf_counter() - self._started) * 1000
        self._out.line(f"[green]client: handshake complete[/] after {elapsed:.1f} ms",
                       f"client: handshake complete after {elapsed:.1f} ms")

    def _print(self, direction: str, event: events.HandshakeMessage) -> None:
        elapsed = (time.perf_counter() - self._started) * 1000
        record = "encrypted" if event.encrypted else "plaintext"
        summary = event.summary if event.message is not None else ""
        message = message_name(event.msg_type)
        head = f"{elapsed:+7.1f} ms  {direction:<16}  "
        tail = f"  {event.length:>5} B  {record:<9}  "
        colour = "yellow" if event.encrypted else "cyan"
        self._out.line(f"{head}[bold {colour}]{message:<20}[/]{tail}{escape(summary)}",
                       f"{head}{message:<20}{tail}{summary}".rstrip())


def _echo_once(tls: TLSSocket, addr: object) -> None:
    """Echo until the client closes."""
    for _ in range(1000):
        data = tls.recv(65536)
        if not data:
            return
        tls.sendall(data)


def _exchange(tls: TLSSocket) -> bytes:
    tls.sendall(MESSAGE)
    reply = b""
    for _ in range(100):
        if len(reply) >= len(MESSAGE):
            break
        chunk = tls.recv(65536)
        if not chunk:
            break
        reply += chunk
    return reply

DESCRIPTION = (
    "Run one TLS 1.3 handshake between a client and a server on 127.0.0.1 and print every handshake "
    "message, the negotiated parameters, the certificate chain and an echoed line."
)
