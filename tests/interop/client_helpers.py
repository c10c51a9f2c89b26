"""Helpers for tests/interop/test_client_interop.py: the handclasp *client* against real servers.

- ``client_config`` / ``open_client``: a handclasp ClientConfig trusting the peer PKI, and a blocking
  TLSSocket that records every event it sees.
- ``read_until_close`` / ``read_exactly`` / ``read_until``: bounded reads over a TLSSocket.
- ``parse_openssl_trace`` / ``TraceView``: what ``openssl s_server -trace`` itself sent and received
  (ServerHellos, the group in its key_share, its CertificateVerify scheme, KeyUpdates, tickets, alerts).
- ``parse_s_server_www``: the negotiated values from the ``s_server -www`` status page.
- ``python_ssl_server``: a Python ``ssl`` (OpenSSL 3.0) TLS 1.3 server in a thread, reporting its view.
- Run as a script (``python tests/interop/client_helpers.py --port N ...``) it is a handclasp client that
  prints one JSON line with its view of the connection: used inside network namespaces (gnutls-serv).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handclasp import (
    CipherSuite,
    ClientConfig,
    ClientConnection,
    HandclaspError,
    NamedGroup,
    SignatureScheme,
    events,
)
from handclasp.events import Direction
from handclasp.io.blocking import TLSSocket, connect
from handclasp.tools.certs import CertifiedKey

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0  # seconds for any one socket operation of a test client
BOUNDED_READ = 64 * 1024 * 1024  # never buffer more than this from a peer


# --------------------------------------------------------------------------------------------- our client


def client_config(cafile: str | Path, **kwargs: Any) -> ClientConfig:
    """A ClientConfig trusting ``cafile``, no key log unless asked, and a short handshake timeout."""
    kwargs.setdefault("keylog_filename", None)
    kwargs.setdefault("handshake_timeout", IO_TIMEOUT)
    return ClientConfig(cafile=str(cafile), **kwargs)


def load_client_cert(cert: str | Path, key: str | Path) -> CertifiedKey:
    return CertifiedKey.load(str(cert), str(key))


@dataclass
class ClientRun:
    """A connected handclasp client plus every event it produced (HandshakeMessage included)."""

    tls: TLSSocket
    events: list[events.Event] = field(default_factory=list)

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def messages(self, direction: Direction) -> list[str]:
        return [
            e.name for e in self.events if isinstance(e, events.HandshakeMessage) and e.direction is direction
        ]


def open_client(port: int, config: ClientConfig, server_name: str | None = "localhost") -> ClientRun:
    """TCP connect to 127.0.0.1:port and run the handshake (raises what ``connect`` raises)."""
    recorded: list[events.Event] = []
    tls = connect(
        HOST, int(port), config, server_name=server_name, timeout=IO_TIMEOUT, event_hook=recorded.append
    )
    return ClientRun(tls, recorded)


def read_until_close(tls: TLSSocket, limit: int = BOUNDED_READ, timeout: float = IO_TIMEOUT) -> bytes:
    """Read until the peer's close_notify (``recv`` returns b""); bounded in size and time."""
    out = bytearray()
    deadline = time.monotonic() + timeout
    while len(out) <= limit:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no close_notify after {timeout} s ({len(out)} bytes read)")
        chunk = tls.recv(65536)
        if not chunk:
            return bytes(out)
        out += chunk
    raise AssertionError(f"peer sent more than {limit} bytes")


def read_exactly(tls: TLSSocket, n: int, timeout: float = IO_TIMEOUT) -> bytes:
    out = bytearray()
    deadline = time.monotonic() + timeout
    while len(out) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(out)} of {n} bytes after {timeout} s")
        chunk = tls.recv(min(65536, n - len(out)))
        if not chunk:
            raise AssertionError(f"close_notify after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def read_until(tls: TLSSocket, needle: bytes, limit: int = 1 << 20, timeout: float = IO_TIMEOUT) -> bytes:
    out = bytearray()
    deadline = time.monotonic() + timeout
    while needle not in out:
        if time.monotonic() > deadline or len(out) > limit:
            raise TimeoutError(f"{needle!r} not seen; got {bytes(out[-200:])!r}")
        chunk = tls.recv(65536)
        if not chunk:
            raise AssertionError(f"close_notify before {needle!r}; got {bytes(out[-200:])!r}")
        out += chunk
    return bytes(out)


def http_get(
    port: int, config: ClientConfig, path: str = "/", server_name: str | None = "localhost"
) -> tuple[ClientRun, bytes]:
    """``GET path HTTP/1.0`` over a new connection; returns the run and the whole response (until close_notify)."""
    run = open_client(port, config, server_name)
    with run.tls:
        run.tls.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        body = read_until_close(run.tls)
    return run, body


def echo_concurrently(tls: TLSSocket, payload: bytes, timeout: float = 60.0) -> bytes:
    """Send ``payload`` from a writer thread while this thread reads the echo (avoids a TCP deadlock
    with servers that echo as they read); returns what came back (len(payload) bytes)."""
    failure: list[BaseException] = []

    def write() -> None:
        try:
            tls.sendall(payload)
        except BaseException as exc:  # noqa: BLE001 - reported to the reading thread
            failure.append(exc)

    writer = threading.Thread(target=write, name="echo-writer", daemon=True)
    writer.start()
    try:
        received = read_exactly(tls, len(payload), timeout)
    finally:
        writer.join(timeout)
    if failure:
        raise failure[0]
    return received


def sans_io_http_get(
    port: int,
    config: ClientConfig,
    *,
    chunk: int = 1,
    server_name: str = "localhost",
    timeout: float = 20.0,
    sent: list[bytes] | None = None,
) -> tuple[ClientConnection, list[events.Event], bytes]:
    """``GET /`` with the sans-I/O ClientConnection over our own socket loop, feeding ``receive_bytes``
    ``chunk`` bytes at a time. Returns the connection, every event and the response (until close_notify).
    Everything written to the socket is appended to ``sent`` when given."""
    written: list[bytes] = sent if sent is not None else []
    conn = ClientConnection(config, server_name=server_name)
    seen: list[events.Event] = list(conn.start_handshake())
    body = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection((HOST, int(port)), timeout=IO_TIMEOUT) as sock:
        written.append(conn.data_to_send())
        sock.sendall(written[-1])
        requested = closed = False
        while not closed:
            if time.monotonic() > deadline or len(body) > BOUNDED_READ:
                raise TimeoutError(f"no close_notify after {timeout} s ({len(body)} bytes)")
            data = sock.recv(65536)
            pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] if data else [b""]
            for piece in pieces:
                new = conn.receive_bytes(piece)
                seen += new
                for event in new:
                    if isinstance(event, events.ApplicationData):
                        body += event.data
                    elif isinstance(event, events.CloseNotify):
                        closed = True
                if conn.handshake_complete and not requested:
                    conn.send_application_data(b"GET / HTTP/1.0\r\n\r\n")
                    requested = True
                if out := conn.data_to_send():
                    written.append(out)
                    sock.sendall(out)
        conn.close()
        written.append(conn.data_to_send())
        with contextlib.suppress(OSError):
            sock.sendall(written[-1])
    return conn, seen, bytes(body)


def sans_io_failed_handshake(
    port: int, config: ClientConfig, *, server_name: str = "localhost", timeout: float = 20.0
) -> tuple[HandclaspError, bytes]:
    """Run a handshake that our client must refuse, over our own socket loop; on the error, write the
    alert the core queued, then half-close and drain the socket before closing it, so that no TCP reset
    can make the server lose the alert. Returns (the error, the bytes written after it)."""
    conn = ClientConnection(config, server_name=server_name)
    conn.start_handshake()
    deadline = time.monotonic() + timeout
    with socket.create_connection((HOST, int(port)), timeout=IO_TIMEOUT) as sock:
        sock.sendall(conn.data_to_send())
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            try:
                conn.receive_bytes(data)
            except HandclaspError as exc:
                alert = conn.data_to_send()
                sock.sendall(alert)
                sock.shutdown(socket.SHUT_WR)
                with contextlib.suppress(OSError):
                    while time.monotonic() < deadline and sock.recv(65536):
                        pass
                return exc, alert
            if out := conn.data_to_send():
                sock.sendall(out)
            if conn.handshake_complete:
                raise AssertionError("the handshake completed")
    raise TimeoutError(f"no error after {timeout} s")


def record_headers(stream: bytes) -> list[tuple[int, int]]:
    """(content type, length) of each TLS record in a byte stream we wrote."""
    out: list[tuple[int, int]] = []
    offset = 0
    while offset + 5 <= len(stream):
        length = int.from_bytes(stream[offset + 3 : offset + 5], "big")
        out.append((stream[offset], length))
        offset += 5 + length
    assert offset == len(stream), "the stream does not end on a record boundary"
    return out


# --------------------------------------------------------------------------------------------- openssl -trace


@dataclass(frozen=True)
class TraceMessage:
    direction: str  # "sent" / "received", from the peer's point of view
    name: str  # "ServerHello", "KeyUpdate", ...
    lines: tuple[str, ...]  # the message's detail lines


_RECORD = re.compile(r"^(Sent|Received) Record")
_MESSAGE = re.compile(r"^ {4}(\w+), Length=\d+\s*$")


def parse_openssl_trace(output: str) -> list[TraceMessage]:
    """Handshake messages (and alerts, as name "Alert") in ``openssl s_server -trace`` output, in order."""
    messages: list[TraceMessage] = []
    direction = ""
    name: str | None = None
    lines: list[str] = []

    def flush() -> None:
        nonlocal name, lines
        if name is not None:
            messages.append(TraceMessage(direction, name, tuple(lines)))
        name, lines = None, []

    for line in output.splitlines():
        record = _RECORD.match(line)
        message = _MESSAGE.match(line)
        if record:
            flush()
            direction = record.group(1).lower()
        elif message:
            flush()
            name = message.group(1)
        elif line.startswith("    Level=") and direction:
            flush()
            name, lines = "Alert", [line.strip()]
        elif name is not None and line.startswith("      "):
            lines.append(line.strip())
        elif name is not None and line.strip() and not line.startswith(" "):
            flush()
    flush()
    return messages


@dataclass(frozen=True)
class TraceView:
    """The server's own account of one connection, from ``s_server -trace``."""

    messages: tuple[TraceMessage, ...]

    def sent(self, name: str) -> list[TraceMessage]:
        return [m for m in self.messages if m.direction == "sent" and m.name == name]

    def received(self, name: str) -> list[TraceMessage]:
        return [m for m in self.messages if m.direction == "received" and m.name == name]

    @property
    def hello_retry(self) -> bool:
        """Two ServerHellos sent: the first was a HelloRetryRequest."""
        return len(self.sent("ServerHello")) == 2

    @property
    def group(self) -> NamedGroup | None:
        """The NamedGroup of the key_share in the last ServerHello the server sent."""
        hellos = self.sent("ServerHello")
        if not hellos:
            return None
        for line in hellos[-1].lines:
            found = re.match(r"NamedGroup: .*\((\d+)\)$", line)
            if found:
                return NamedGroup(int(found.group(1)))
        return None

    @property
    def suite(self) -> CipherSuite | None:
        hellos = self.sent("ServerHello")
        for line in hellos[-1].lines if hellos else ():
            found = re.match(r"cipher_suite \{0x([0-9A-Fa-f]{2}), 0x([0-9A-Fa-f]{2})\}", line)
            if found:
                return CipherSuite(int(found.group(1) + found.group(2), 16))
        return None

    def signature_scheme(self, direction: str = "sent") -> SignatureScheme | None:
        """The scheme in the CertificateVerify the server sent (or received, for client auth)."""
        for message in self.messages:
            if message.name == "CertificateVerify" and message.direction == direction:
                for line in message.lines:
                    found = re.match(r"Signature Algorithm: .*\(0x([0-9a-fA-F]{4})\)", line)
                    if found:
                        return SignatureScheme(int(found.group(1), 16))
        return None

    def key_updates(self, direction: str) -> list[bool]:
        """update_requested flags of the KeyUpdate messages sent/received by the server."""
        return [
            any(line.startswith("update_requested") for line in m.lines)
            for m in self.messages
            if m.name == "KeyUpdate" and m.direction == direction
        ]

    def alerts(self, direction: str) -> list[str]:
        return [" ".join(m.lines) for m in self.messages if m.name == "Alert" and m.direction == direction]


@dataclass(frozen=True)
class TraceRecord:
    direction: str  # "sent" / "received", from the peer's point of view
    content_type: int  # outer type (23 for every protected record)
    length: int  # the record's length field
    inner_type: int | None  # for protected records: the decrypted content type


def parse_openssl_trace_records(output: str) -> list[TraceRecord]:
    """Every record header in ``openssl s_server -trace`` output, in order."""
    records: list[TraceRecord] = []
    pending: dict[str, Any] | None = None

    def flush() -> None:
        nonlocal pending
        if pending is not None and "length" in pending:
            records.append(
                TraceRecord(pending["direction"], pending["type"], pending["length"], pending.get("inner"))
            )
        pending = None

    for line in output.splitlines():
        record = _RECORD.match(line)
        if record:
            flush()
            pending = {"direction": record.group(1).lower(), "type": -1}
            continue
        if pending is None:
            continue
        if found := re.match(r"^  Content Type = .*\((\d+)\)", line):
            pending["type"] = int(found.group(1))
        elif found := re.match(r"^  Length = (\d+)", line):
            pending["length"] = int(found.group(1))
        elif found := re.match(r"^  Inner Content Type = .*\((\d+)\)", line):
            pending["inner"] = int(found.group(1))
            flush()
    flush()
    return records


def trace_view(output: str) -> TraceView:
    return TraceView(tuple(parse_openssl_trace(output)))


def parse_s_server_www(page: bytes) -> dict[str, Any]:
    """Negotiated values from the ``openssl s_server -www`` status page."""
    text = page.decode("utf-8", "replace")
    view: dict[str, Any] = {"status_ok": text.startswith("HTTP/1.0 200 ok")}
    found = re.search(r"^New, (TLSv[\d.]+), Cipher is (\S+)", text, re.MULTILINE)
    view["version"], view["suite"] = (found.group(1), found.group(2)) if found else (None, None)
    found = re.search(r"^Shared groups: (\S*)", text, re.MULTILINE)
    view["shared_groups"] = found.group(1).split(":") if found and found.group(1) else []
    view["client_certificate"] = "no client certificate available" not in text
    found = re.search(r"Verify return code: (\d+)", text)
    view["verify_code"] = int(found.group(1)) if found else None
    return view


def gnutls_server_details(output: str) -> dict[str, str | None]:
    """Extra lines of gnutls-serv's connection report: signatures and the tls-exporter channel binding."""
    details: dict[str, str | None] = {}
    for key, pattern in (
        ("server_signature", r"^- Server Signature: (\S+)"),
        ("client_signature", r"^- Client Signature: (\S+)"),
        ("tls_exporter", r"'tls-exporter': ([0-9a-f]+)"),
    ):
        found = re.search(pattern, output, re.MULTILINE)
        details[key] = found.group(1) if found else None
    return details


def openssl_group_name(name: str) -> NamedGroup:
    """``secp384r1`` / ``x25519`` / ``ffdhe2048`` (s_server's spelling) → NamedGroup."""
    return NamedGroup[name.upper()]


# --------------------------------------------------------------------------------------------- Python ssl


@dataclass
class PythonServerView:
    """What the Python ssl server saw of its (single) connection."""

    done: threading.Event = field(default_factory=threading.Event)
    version: str | None = None
    cipher: str | None = None
    alpn: str | None = None
    peer_cert: dict[str, Any] | None = None
    received: bytes = b""
    error: str | None = None


@contextlib.contextmanager
def python_ssl_server(
    cert: str | Path,
    key: str | Path,
    *,
    curve: str | None = None,
    ciphers: str | None = None,
    client_ca: str | Path | None = None,
    alpn: Sequence[str] = (),
    timeout: float = IO_TIMEOUT,
    version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
) -> Iterator[tuple[int, PythonServerView]]:
    """An ``ssl`` server on 127.0.0.1:0 speaking only ``version``, for one connection: echoes until
    EOF. With ``client_ca`` it requires a client certificate; ``ciphers`` is an OpenSSL TLS 1.2
    cipher string. Yields (port, view); the view is complete once ``view.done`` is set."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(str(cert), str(key))
    if curve is not None:
        ctx.set_ecdh_curve(curve)
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(str(client_ca))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    view = PythonServerView()
    listener = socket.create_server((HOST, 0))
    listener.settimeout(timeout)

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            raw.settimeout(timeout)
            with ctx.wrap_socket(raw, server_side=True) as tls:
                view.version, view.cipher = tls.version(), tls.cipher()[0]  # type: ignore[index]
                view.alpn = tls.selected_alpn_protocol()
                view.peer_cert = tls.getpeercert() or None
                total = 0
                while total < BOUNDED_READ:
                    try:
                        data = tls.recv(65536)
                    except ssl.SSLZeroReturnError:
                        break
                    if not data:
                        break
                    total += len(data)
                    view.received += data
                    tls.sendall(data)
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.unwrap()
        except Exception as exc:  # noqa: BLE001 - reported through the view
            view.error = f"{type(exc).__name__}: {exc}"
        finally:
            view.done.set()

    thread = threading.Thread(target=serve, name=f"python-ssl-server-{version.name}", daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1]), view
    finally:
        view.done.wait(timeout)
        listener.close()
        thread.join(timeout)


# --------------------------------------------------------------------------------------------- script mode


def _names(kind: Callable[[str], Any], text: str | None) -> tuple[Any, ...]:
    return tuple(kind(part) for part in text.split(",")) if text else ()


def script_argv(
    port: int,
    cafile: str | Path,
    *,
    groups: Sequence[str] = (),
    key_share: Sequence[str] = (),
    suites: Sequence[str] = (),
    alpn: Sequence[str] = (),
    send: str = "hello from handclasp\n",
    server_name: str = "localhost",
    extra: Sequence[str] = (),
) -> list[str]:
    """argv running this file as a handclasp client (for ``netns_scenario`` / ``gnutls_server_scenario``)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--port", str(port), "--cafile", str(cafile)]
    argv += ["--servername", server_name, "--send", send]
    for option, values in (
        ("--groups", groups),
        ("--key-share", key_share),
        ("--suites", suites),
        ("--alpn", alpn),
    ):
        if values:
            argv += [option, ",".join(values)]
    return argv + list(extra)


def script_report(stdout: str) -> dict[str, Any]:
    """The JSON line the script printed (``{"ok": False, "error": "no report"}`` when there is none)."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {"ok": False, "error": "no report", "stdout": stdout}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="handclasp client: one connection, one JSON line")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--servername", default="localhost")
    parser.add_argument("--groups")
    parser.add_argument("--key-share")
    parser.add_argument("--suites")
    parser.add_argument("--alpn")
    parser.add_argument("--send", default="hello from handclasp\n")
    parser.add_argument("--repeat", type=int, default=1, help="send the text this many times")
    parser.add_argument("--record-size-limit", type=int)
    parser.add_argument("--max-fragment-length", type=int)
    parser.add_argument("--cert", help="client certificate chain (PEM); needs --key")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {}
    if args.groups:
        kwargs["groups"] = _names(lambda n: NamedGroup[n], args.groups)
    if args.key_share:
        kwargs["key_share_groups"] = _names(lambda n: NamedGroup[n], args.key_share)
    if args.suites:
        kwargs["cipher_suites"] = _names(lambda n: CipherSuite[n], args.suites)
    if args.alpn:
        kwargs["alpn_protocols"] = tuple(args.alpn.split(","))
    if args.record_size_limit:
        kwargs["record_size_limit"] = args.record_size_limit
    if args.max_fragment_length:
        kwargs["max_fragment_length"] = args.max_fragment_length
    if args.cert:
        kwargs["certificate"] = load_client_cert(args.cert, args.key)
    report: dict[str, Any] = {"ok": False}
    try:
        run = open_client(args.port, client_config(args.cafile, **kwargs), args.servername)
        with run.tls:
            negotiated = run.tls.negotiated
            assert negotiated is not None
            report.update(
                version=negotiated.version.name,
                suite=negotiated.cipher_suite.name,
                group=negotiated.group.name if negotiated.group else None,
                signature_scheme=negotiated.signature_scheme.name if negotiated.signature_scheme else None,
                alpn=negotiated.alpn_protocol,
                hello_retry=negotiated.hello_retry,
                client_certificate_requested=negotiated.client_certificate_requested,
                # RFC 9266 tls-exporter channel binding (gnutls-serv prints it)
                tls_exporter=run.tls.connection.export_keying_material(
                    b"EXPORTER-Channel-Binding", b"", 32
                ).hex(),
            )
            payload = args.send.encode() * args.repeat
            run.tls.sendall(payload)
            echoed = read_exactly(run.tls, len(payload))
            report["echo"] = echoed[:1000].decode("utf-8", "replace")
            report["echo_len"], report["echo_matches"] = len(echoed), echoed == payload
        report["ok"] = True
    except (HandclaspError, OSError, AssertionError) as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
