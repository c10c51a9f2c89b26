"""A handclasp server running in-process (``handclasp.io.blocking.serve``) for interop tests with real clients.

``running_server(config, mode)`` starts the server on 127.0.0.1:0 and yields a ``ServerRun``: its ``port``
and, per connection, a ``ConnRecord`` with what the server negotiated, what it received, the exporter value
and the error (if any) that ended the connection. The handlers are small and bounded:

* ``"echo"``: echo every chunk until the peer's close_notify (or an error / idle timeout).
* ``"http"``: read one HTTP/1.1 request head, answer with a page naming the negotiated parameters.
* ``"key_update"``: like echo, but after the first chunk send a KeyUpdate (request_peer=True) before echoing.
* ``"repeat"``: like echo, but send every chunk back ``REPEAT`` times (more out than in: record-size tests).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from handclasp import ServerConfig
from handclasp.io.blocking import TLSSocket, serve
from handclasp.negotiated import Negotiated

IDLE_TIMEOUT = 15.0  # every server-side recv is bounded by this
EKM_LABEL = "EXPORTER-handclasp"
MAX_ECHO = 4 * 1024 * 1024
REPEAT = 8


@dataclass
class ConnRecord:
    """What the server saw on one connection."""

    addr: Any
    negotiated: Negotiated | None = None
    received: bytearray = field(default_factory=bytearray)
    ekm: str | None = None  # hex, 32 bytes, label EKM_LABEL, no context (as Go's ExportKeyingMaterial(label, nil))
    error: BaseException | None = None
    clean_close: bool = False  # the peer's close_notify arrived
    key_updates_sent: int = 0
    done: bool = False
    early_data: bytes = b""  # what arrived as 0-RTT EarlyData during the handshake (not in ``received``)


class ServerRun:
    """Handle on a running in-process server: port plus per-connection records."""

    def __init__(self) -> None:
        self.port = 0
        self.records: list[ConnRecord] = []
        self.handshake_errors: list[tuple[Any, BaseException]] = []
        self._cond = threading.Condition()

    def add(self, record: ConnRecord) -> None:
        with self._cond:
            self.records.append(record)
            self._cond.notify_all()

    def finish(self, record: ConnRecord) -> None:
        with self._cond:
            record.done = True
            self._cond.notify_all()

    def on_error(self, addr: Any, exc: BaseException) -> None:
        with self._cond:
            if not any(r.addr == addr for r in self.records):
                self.handshake_errors.append((addr, exc))
            self._cond.notify_all()

    def wait_record(self, index: int = 0, timeout: float = 20.0) -> ConnRecord:
        """The ``index``-th connection (0-based), once its handler has returned."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (len(self.records) > index and self.records[index].done):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"server: no finished connection #{index} after {timeout} s "
                        f"(records={self.records!r}, handshake errors={self.handshake_errors!r})"
                    )
                self._cond.wait(min(remaining, 0.2))
            return self.records[index]

    def wait_handshake_error(self, timeout: float = 20.0) -> BaseException:
        """The first connection that failed during the handshake (``on_error`` of ``serve``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.handshake_errors:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"server: no handshake error after {timeout} s ({self.records!r})")
                self._cond.wait(min(remaining, 0.2))
            return self.handshake_errors[0][1]


def _echo(tls: TLSSocket, record: ConnRecord, *, key_update: bool = False, repeat: int = 1) -> None:
    first = True
    while len(record.received) < MAX_ECHO:
        data = tls.recv(65536)
        if not data:
            record.clean_close = True
            return
        record.received += data
        if key_update and first:
            tls.key_update(request_peer=True)
            record.key_updates_sent += 1
        first = False
        tls.sendall(data * repeat)


def http_body(negotiated: Negotiated | None) -> bytes:
    if negotiated is None:
        return b"no handshake\n"
    parts = [
        f"suite={negotiated.cipher_suite.name}",
        f"group={negotiated.group.name if negotiated.group else '-'}",
        f"alpn={negotiated.alpn_protocol or '-'}",
        f"sni={negotiated.server_name or '-'}",
    ]
    return ("hello from handclasp " + " ".join(parts) + "\n").encode()


def _http(tls: TLSSocket, record: ConnRecord) -> None:
    while b"\r\n\r\n" not in record.received and len(record.received) < 65536:
        chunk = tls.recv(4096)
        if not chunk:
            return
        record.received += chunk
    body = http_body(tls.negotiated)
    tls.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


@contextlib.contextmanager
def running_server(
    config: ServerConfig, mode: str = "echo", *, max_connections: int | None = None
) -> Iterator[ServerRun]:
    """Run ``serve("127.0.0.1", 0, config, handler)`` for the duration of the block."""
    run = ServerRun()

    def handler(tls: TLSSocket, addr: Any) -> None:
        record = ConnRecord(addr=addr, negotiated=tls.negotiated, early_data=tls.early_data)
        with contextlib.suppress(Exception):
            record.ekm = tls.connection.export_keying_material(EKM_LABEL.encode(), None, 32).hex()  # Go: context nil
        run.add(record)
        tls.settimeout(IDLE_TIMEOUT)
        try:
            if mode == "http":
                _http(tls, record)
            else:
                _echo(tls, record, key_update=mode == "key_update", repeat=REPEAT if mode == "repeat" else 1)
        except BaseException as exc:  # recorded for the test to judge
            record.error = exc
        finally:
            run.finish(record)

    server = serve("127.0.0.1", 0, config, handler, max_connections=max_connections, on_error=run.on_error)
    run.port = server.port
    try:
        yield run
    finally:
        server.shutdown(timeout=5.0)
