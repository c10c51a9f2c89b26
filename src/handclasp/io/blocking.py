"""Blocking sockets over the sans-I/O core: ``connect``, ``TLSSocket``, ``serve``.

No TLS logic here: every method loops over ``receive_bytes``, ``send_application_data`` and
``data_to_send``.  Output leaves in the order the core produced it: ``_state_lock`` guards the
connection and the outgoing buffer, and whoever holds ``_send_lock`` drains that buffer, so a reader
thread never waits behind a blocked writer.  Plaintext that arrives with the peer's close_notify is
returned by ``recv`` before ``b""``.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from handclasp import events
from handclasp.config import ClientConfig, ServerConfig
from handclasp.endpoints import ClientConnection, ServerConnection
from handclasp.errors import HandclaspError, HandshakeTimeout, TLSError
from handclasp.negotiated import Negotiated
from handclasp.sessions.cache import ClientSession

EventHook = Callable[[events.Event], None]
Handler = Callable[["TLSSocket", Any], None]
ErrorHook = Callable[[Any, BaseException], None]


def connect(host: str, port: int, config: ClientConfig, *, server_name: str | None = None,
            timeout: float | None = None, event_hook: EventHook | None = None,
            session: ClientSession | None = None, early_data: bytes = b"") -> TLSSocket:
    """TCP connect (``timeout`` also applies to later socket calls), then the handshake, bounded
    by ``config.handshake_timeout`` (``HandshakeTimeout``).  ``server_name`` defaults to ``host``;
    ``config.session_cache`` (keyed by name and port) or ``session`` offers resumption.

    ``early_data`` is sent as 0-RTT data right after the ClientHello when the resumed session allows
    all of it (``config.enable_early_data`` and the ticket's limit, see ``early_data_limit``).  If it
    could not be sent early, or the server rejected it, it is sent again as ordinary data once the
    handshake completes (RFC 8446 §4.2.10 lets the client resend), so the bytes arrive exactly once
    either way; ``TLSSocket.early_data_accepted`` tells which.  0-RTT data can be replayed by an
    attacker: only send requests that are safe to repeat (RFC 8446 §8, RFC 8470)."""
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    conn = ClientConnection(config, server_name=server_name or host, port=int(port), session=session)
    tls = TLSSocket(sock, conn, event_hook=event_hook)
    tls.do_handshake(config.handshake_timeout, restore_timeout=timeout, early_data=early_data)
    return tls


def wrap_server_socket(sock: socket.socket, config: ServerConfig, *,
                       event_hook: EventHook | None = None) -> TLSSocket:
    """Run the server side of the handshake on an accepted socket."""
    tls = TLSSocket(sock, ServerConnection(config), event_hook=event_hook)
    tls.do_handshake(config.handshake_timeout, restore_timeout=sock.gettimeout())
    return tls


class _Closing:  # ``with x:`` calls ``x.close()``
    close: Callable[[], None]

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class TLSSocket(_Closing):
    """A connected TLS socket; one reader thread and any number of writer threads."""

    def __init__(self, sock: socket.socket, conn: ClientConnection | ServerConnection, *,
                 event_hook: EventHook | None = None) -> None:
        self._sock, self._conn, self._event_hook = sock, conn, event_hook
        self._state_lock, self._send_lock = threading.Lock(), threading.Lock()
        self._outgoing, self._plaintext, self._early_data = bytearray(), bytearray(), bytearray()
        self._is_eof = self._is_sock_closed = self._is_early_data_sent = False
        self.handshake_seconds: float | None = None

    @property
    def negotiated(self) -> Negotiated | None:
        return self._conn.negotiated

    @property
    def early_data_accepted(self) -> bool:
        """Client: True when the ``early_data`` given to ``connect`` went out as 0-RTT data and the
        server accepted it.  Server: ``Negotiated.early_data_accepted``."""
        negotiated = self._conn.negotiated
        accepted = negotiated is not None and negotiated.early_data_accepted
        return accepted and (self._is_early_data_sent or isinstance(self._conn, ServerConnection))

    @property
    def early_data(self) -> bytes:
        """Server side: every byte received as 0-RTT ``EarlyData`` during the handshake.  Kept apart
        from ``recv()``: it may be a replay, so act on it only if that is safe (RFC 8446 §8, RFC 8470)."""
        return bytes(self._early_data)

    @property
    def connection(self) -> ClientConnection | ServerConnection:
        return self._conn

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def do_handshake(self, handshake_timeout: float, *, restore_timeout: float | None = None,
                     early_data: bytes = b"") -> None:
        """Run the handshake; a client sends ``early_data`` as 0-RTT or, failing that, as ordinary
        data after the handshake (exactly once, see ``connect``)."""
        deadline = (started := time.monotonic()) + handshake_timeout
        try:
            if isinstance(self._conn, ClientConnection):
                self._do(self._conn.start_handshake)
                if early_data and len(early_data) <= self._conn.early_data_limit:
                    self._do(self._conn.send_early_data, bytes(early_data))
                    self._is_early_data_sent = True
            while not self._conn.handshake_complete:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HandshakeTimeout(handshake_timeout)
                self._sock.settimeout(remaining)
                try:
                    data = self._sock.recv(_RECV_SIZE)
                except TimeoutError:
                    raise HandshakeTimeout(handshake_timeout) from None
                self._feed(data)  # the core raises ConnectionClosed at EOF
            self.handshake_seconds = time.monotonic() - started
            self._sock.settimeout(restore_timeout)
            if early_data and not self.early_data_accepted:
                self.sendall(early_data)  # not sent early, or rejected: resend (RFC 8446 §4.2.10)
        except BaseException:
            self._close_socket()
            raise

    def send(self, data: bytes | bytearray | memoryview) -> int:
        self.sendall(data)
        return len(data)

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        for start in range(0, len(view), _SEND_CHUNK):
            self._do(self._conn.send_application_data, bytes(view[start:start + _SEND_CHUNK]))

    def key_update(self, request_peer: bool = True) -> None:
        self._do(lambda: self._conn.key_update(request_peer=request_peer))

    def recv(self, bufsize: int) -> bytes:
        """Up to ``bufsize`` bytes of plaintext; ``b""`` after close_notify (EOF without it raises)."""
        while not self._plaintext and not self._is_eof:
            self._feed(self._sock.recv(_RECV_SIZE))
        chunk = bytes(self._plaintext[:bufsize])
        del self._plaintext[:bufsize]
        return chunk

    def recv_into(self, buffer: memoryview | bytearray, nbytes: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self.recv(nbytes or len(view))
        view[:len(chunk)] = chunk
        return len(chunk)

    def makefile(self, mode: str = "rb", buffering: int | None = None, *,
                 encoding: str | None = None, newline: str | None = None) -> Any:
        """A file object over the plaintext stream: 'rb', 'wb', 'r', 'w' (like socket.makefile)."""
        writing, raw = "w" in mode, _RawTLSIO(self, "w" in mode)
        size = io.DEFAULT_BUFFER_SIZE if buffering is None or buffering < 0 else buffering
        binary: io.BufferedIOBase = io.BufferedWriter(raw, size) if writing else io.BufferedReader(raw, size)
        return binary if "b" in mode else io.TextIOWrapper(binary, encoding=encoding or "utf-8", newline=newline, write_through=writing)

    def shutdown_write(self) -> None:
        """Send close_notify but keep reading (TLS 1.3 half-close, RFC 8446 §6.1)."""
        self._do(self._conn.close)

    def unwrap(self, timeout: float = 5.0) -> socket.socket:
        """Exchange close_notify with the peer and return the plain TCP socket."""
        if not self._conn.is_closed:
            self.shutdown_write()
        self._sock.settimeout(timeout)
        while not self._is_eof:
            self._feed(self._sock.recv(_RECV_SIZE))
        self._sock.settimeout(None)
        return self._sock

    def close(self) -> None:
        if self._is_sock_closed:
            return
        with contextlib.suppress(HandclaspError, OSError):
            if not self._conn.is_closed:
                self.shutdown_write()
            self._sock.shutdown(socket.SHUT_WR)
        self._close_socket()

    def _do(self, action: Callable[..., object], *args: Any) -> None:  # one core verb, then send its output
        with self._state_lock:
            result = action(*args)
            self._take_output()
        if self._event_hook is not None and isinstance(result, list):
            for event in result:  # start_handshake() and key_update() return the events they caused
                self._event_hook(event)
        self._flush()

    def _feed(self, data: bytes) -> None:
        try:
            with self._state_lock:
                try:
                    received = self._conn.receive_bytes(data)
                finally:
                    self._take_output()
        except TLSError:
            with contextlib.suppress(OSError):
                self._flush()  # the fatal alert the core queued
            raise
        if not data:
            self._is_eof = True
        for event in received:
            if isinstance(event, events.ApplicationData):
                self._plaintext += event.data
            elif isinstance(event, events.EarlyData):
                self._early_data += event.data
            elif isinstance(event, events.CloseNotify):
                self._is_eof = True
            if self._event_hook is not None:
                self._event_hook(event)
        self._flush(block=False)

    def _flush(self, block: bool = True) -> None:
        """Drain the outgoing buffer; with block=False, leave it to a writer that holds the lock."""
        while self._send_lock.acquire(blocking=block):
            try:
                with self._state_lock:
                    data = bytes(self._outgoing)
                    self._outgoing.clear()
                if data:
                    self._sock.sendall(data)
            finally:
                self._send_lock.release()
            with self._state_lock:
                if not self._outgoing:
                    return

    def _take_output(self) -> None:  # the caller holds _state_lock
        with contextlib.suppress(HandclaspError):
            self._outgoing += self._conn.data_to_send()

    def _close_socket(self) -> None:
        self._is_sock_closed = True
        self._sock.close()


class ThreadedTLSServer(_Closing):
    """``serve(host, port, config, handler)``: listen, and run ``handler(tls_sock, addr)`` in a
    thread per connection once its handshake is done; failures go to ``on_error(addr, exc)``.
    Stops after ``max_connections`` connections, when ``stop_event`` is set, or on ``shutdown()``."""

    def __init__(self, host: str, port: int, config: ServerConfig, handler: Handler, *,
                 max_connections: int | None = None, stop_event: threading.Event | None = None,
                 event_hook: EventHook | None = None, on_error: ErrorHook | None = None) -> None:
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(_ACCEPT_POLL)
        self._config, self._handler, self._max_connections = config, handler, max_connections
        self._stop = stop_event if stop_event is not None else threading.Event()
        self._hooks = (event_hook, on_error)
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept_loop, name="handclasp-accept", daemon=True)
        self._accept_thread.start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped and every handler returned; False on timeout."""
        deadline = time.monotonic() + (_FOREVER if timeout is None else timeout)
        self._accept_thread.join(timeout)
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in (self._accept_thread, *self._threads))

    def shutdown(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wait(timeout)
        self._listener.close()

    close = shutdown

    def _accept_loop(self) -> None:
        accepted = 0
        while not self._stop.is_set() and (self._max_connections is None or accepted < self._max_connections):
            try:
                sock, addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            accepted += 1
            sock.settimeout(None)
            thread = threading.Thread(target=self._serve_one, args=(sock, addr), daemon=True,
                                      name=f"handclasp-conn-{accepted}")
            self._threads.append(thread)
            thread.start()
        self._listener.close()

    def _serve_one(self, sock: socket.socket, addr: Any) -> None:
        event_hook, on_error = self._hooks
        try:
            with wrap_server_socket(sock, self._config, event_hook=event_hook) as tls:
                self._handler(tls, addr)
        except (TLSError, OSError) as exc:
            if on_error is not None:
                on_error(addr, exc)


serve = ThreadedTLSServer


class _RawTLSIO(io.RawIOBase):
    def __init__(self, tls: TLSSocket, writing: bool) -> None:
        super().__init__()
        self._tls, self._writing = tls, writing

    def readable(self) -> bool:
        return not self._writing

    def writable(self) -> bool:
        return self._writing

    def readinto(self, buffer: Any) -> int:
        return self._tls.recv_into(buffer)

    def write(self, data: Any) -> int:
        self._tls.sendall(data)
        return len(data)


_RECV_SIZE = _SEND_CHUNK = 65536
_ACCEPT_POLL = 0.2
_FOREVER = 1e9
