"""What every benchmarked stack provides, and the loopback server loop they share."""

from __future__ import annotations

import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Literal

from bench.harness import Operation
from bench.pki import BenchPKI

CHUNK = 16 * 1024  # bulk write size
MAX_STEPS = 64  # bound on in-memory ping-pong steps per handshake
SOCKET_TIMEOUT = 5.0  # seconds, every loopback socket operation

# A loopback server callback handles one accepted connection up to the point where the
# handshake is complete and the client's 1-byte request has been read; it returns a
# callable that sends the 1-byte reply. Server CPU is measured around the first part only.
ServeOne = Callable[[socket.socket], Callable[[], None]]
ClientOne = Callable[[socket.socket], None]

# The TLS 1.2 in-memory rows: a full ECDHE-ECDSA handshake, and two kinds of resumption.
Tls12Mode = Literal["full", "ticket", "session-id"]
TLS12_MODES: tuple[Tls12Mode, ...] = ("full", "ticket", "session-id")
TLS12_HOW: dict[Tls12Mode, str] = {
    "full": "full",
    "ticket": "resumed by ticket",
    "session-id": "resumed by session ID",
}
TLS12_KEY_TYPE = "ecdsa-p256"  # TLS 1.2 rows use the ECDSA P-256 certificate (ECDHE-ECDSA suite)

# The TLS 1.3 resumption rows (issue #4): a ticket with (EC)DHE, a ticket without it, and 0-RTT.
Resume13Mode = Literal["psk_dhe_ke", "psk_ke", "0rtt"]
RESUME13_MODES: tuple[Resume13Mode, ...] = ("psk_dhe_ke", "psk_ke", "0rtt")
RESUME13_KEY_TYPE = "ecdsa-p256"  # the certificate of the untimed full handshake that issues the first ticket
EARLY_DATA = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"  # the 0-RTT row's early data (35 bytes)


class BenchError(Exception):
    """A stack failed to complete a benchmark step (handshake stalled, wrong parameters...)."""


class Unsupported(BenchError):
    """The stack has no way to run this scenario at all: its cell shows n/a, and the reason is a footnote."""


class BulkPair(ABC):
    """An established in-memory client/server pair using TLS_AES_128_GCM_SHA256."""

    @abstractmethod
    def client_to_server(self, chunk: bytes) -> int:
        """Client writes ``chunk``; server reads all of it. Returns 0."""

    @abstractmethod
    def server_to_client(self, chunk: bytes) -> int:
        """Server writes ``chunk``; client reads all of it. Returns 0."""


class Stack(ABC):
    name: ClassVar[str]

    def __init__(self, pki: BenchPKI) -> None:
        self.pki = pki

    @abstractmethod
    def handshake_op(self, key_type: str) -> Operation:
        """One full in-memory TLS 1.3 handshake; returns server CPU ns."""

    @abstractmethod
    def describe(self, key_type: str) -> str:
        """Run one handshake and describe what was negotiated (checked against expectations)."""

    @abstractmethod
    def tls12_op(self, mode: Tls12Mode) -> Operation:
        """One in-memory TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 handshake; returns server CPU ns.

        "full": a full handshake from a server without tickets (session-ID cache on).
        "ticket" / "session-id": a resumed handshake, offering a session taken from one untimed
        full handshake made when the operation is built (the same session every time). Each
        call checks that both ends resumed (or, for "full", did not) and raises BenchError otherwise.
        """

    @abstractmethod
    def describe_tls12(self, mode: Tls12Mode) -> str:
        """Run ``tls12_op(mode)``'s handshake once (checked) and describe what was negotiated."""

    @abstractmethod
    def bulk_pair(self) -> BulkPair: ...

    @abstractmethod
    def loopback_server(self, key_type: str) -> ServeOne: ...

    @abstractmethod
    def loopback_client(self) -> ClientOne: ...

    def pq_handshake_op(self, key_type: str) -> Operation:
        """One full in-memory TLS 1.3 handshake with X25519MLKEM768 only; returns server CPU ns.

        Stacks without ML-KEM (Python's ssl on OpenSSL 3.0) raise Unsupported: the cell shows "n/a"
        and its X25519 row is the reference."""
        raise Unsupported(f"{self.name}: no X25519MLKEM768 here")

    def describe_pq(self, key_type: str) -> str:
        raise Unsupported(f"{self.name}: no X25519MLKEM768 here")

    def resume13_op(self, mode: Resume13Mode) -> Operation:
        """One resumed in-memory TLS 1.3 handshake (X25519, AES-128-GCM); returns server CPU ns.

        The server issues one stateless ticket per handshake; every call offers the newest ticket,
        taken from the previous call's connection (the first from one untimed full handshake made
        when the operation is built). "psk_dhe_ke": the ticket with an X25519 exchange; "psk_ke":
        the ticket alone, both sides offering only psk_ke; "0rtt": psk_dhe_ke plus ``EARLY_DATA``
        sent as 0-RTT data. Each call checks that it resumed (and, for "0rtt", that the server
        accepted and delivered the early data), and raises BenchError otherwise. A stack that
        cannot do the mode at all raises Unsupported."""
        raise Unsupported(f"{self.name}: no TLS 1.3 {mode} resumption in this bench adapter")

    def describe_resume13(self, mode: Resume13Mode) -> str:
        raise Unsupported(f"{self.name}: no TLS 1.3 {mode} resumption in this bench adapter")

    def notes(self) -> list[str]:
        return []


class LoopbackServer:
    """A sequential TLS server on 127.0.0.1 in a thread; accumulates server thread CPU."""

    def __init__(self, serve_one: ServeOne) -> None:
        self._serve_one = serve_one
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.2)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self.server_cpu_ns = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-loopback-server", daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=SOCKET_TIMEOUT + 1)
        self._listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(SOCKET_TIMEOUT)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    t0 = time.thread_time_ns()
                    reply = self._serve_one(conn)
                    self.server_cpu_ns += time.thread_time_ns() - t0
                    reply()
                except Exception as exc:  # reported by the client side
                    self.error = exc
                    return


def loopback_op(server: LoopbackServer, client_one: ClientOne) -> Operation:
    """One loopback connection: connect, handshake, 1-byte request/reply, close."""

    def op() -> int:
        before = server.server_cpu_ns
        sock = socket.create_connection(server.address, timeout=SOCKET_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle/delayed-ACK stalls
        try:
            client_one(sock)
        except Exception as exc:
            raise BenchError(f"loopback client failed ({exc!r}); server error: {server.error!r}") from exc
        finally:
            sock.close()
        return server.server_cpu_ns - before

    return op


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            raise BenchError("unexpected EOF")
        buf += data
    return buf
