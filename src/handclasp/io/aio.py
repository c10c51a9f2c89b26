"""asyncio streams over the sans-I/O core: ``open_connection`` and ``start_server``.

Theory of operation: one ``asyncio.Protocol`` per connection feeds transport
bytes to ``receive_bytes``, writes ``data_to_send()`` to the transport, and
feeds decrypted application data into a standard ``asyncio.StreamReader``.
The writer is a small ``StreamWriter`` look-alike.  No TLS logic lives here:
the handshake timeout is the only decision this module makes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from handclasp import events
from handclasp.config import ClientConfig, ServerConfig
from handclasp.endpoints import ClientConnection, ServerConnection
from handclasp.errors import ConnectionClosed, HandclaspError, HandshakeTimeout, TLSError
from handclasp.sessions.cache import ClientSession

EventHook = Callable[[events.Event], None]
ErrorHook = Callable[[Any, BaseException], None]
ClientConnectedCallback = Callable[[asyncio.StreamReader, "TLSStreamWriter"], Awaitable[None] | None]

_LOG = logging.getLogger("handclasp.io.aio")
_DEFAULT_LIMIT = 2**16


async def open_connection(host: str, port: int, config: ClientConfig, *, server_name: str | None = None,
                          limit: int = _DEFAULT_LIMIT, event_hook: EventHook | None = None,
                          session: ClientSession | None = None, early_data: bytes = b"",
                          **kwargs: Any) -> tuple[asyncio.StreamReader, TLSStreamWriter]:
    """Connect, complete the handshake (bounded by ``config.handshake_timeout``) and return streams.

    ``session`` (or ``config.session_cache``) offers resumption.  ``early_data`` is sent as 0-RTT data
    right after the ClientHello when the session allows all of it; if it could not be sent early or
    the server rejected it, it is written again as ordinary data once the handshake completes
    (RFC 8446 §4.2.10), so it arrives exactly once.  ``writer.early_data_accepted`` (also
    ``get_extra_info("early_data_accepted")``) tells which.  0-RTT data can be replayed (RFC 8446 §8)."""
    loop = asyncio.get_running_loop()
    conn = ClientConnection(config, server_name=server_name if server_name is not None else host, port=int(port),
                            session=session)
    protocol = _TLSProtocol(conn, config.handshake_timeout, limit=limit, event_hook=event_hook,
                            early_data=early_data)
    await loop.create_connection(lambda: protocol, host, port, **kwargs)
    try:
        await protocol.handshake_done
    except BaseException:
        if not protocol.transport.is_closing():  # timeout or cancelled; a TLS failure already closed it
            protocol.abort()
        raise
    writer = TLSStreamWriter(protocol)
    if early_data and not writer.early_data_accepted:
        writer.write(early_data)  # not sent early, or rejected: resend (RFC 8446 §4.2.10)
    return protocol.reader, writer


async def start_server(client_connected_cb: ClientConnectedCallback, host: str | None, port: int,
                       config: ServerConfig, *, limit: int = _DEFAULT_LIMIT,
                       event_hook: EventHook | None = None, on_error: ErrorHook | None = None,
                       **kwargs: Any) -> asyncio.Server:
    """Like ``asyncio.start_server``; the callback runs once the handshake completed.

    Handshake failures (including ``HandshakeTimeout``) go to ``on_error(peername, exc)``.
    """
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    def on_handshake(protocol: _TLSProtocol, future: asyncio.Future[None]) -> None:
        error = future.exception() if not future.cancelled() else asyncio.CancelledError()
        if error is not None:
            _LOG.debug("handshake failed: %s", error)
            if on_error is not None:
                on_error(protocol.peername, error)
            return
        result = client_connected_cb(protocol.reader, TLSStreamWriter(protocol))
        if asyncio.iscoroutine(result):
            task = loop.create_task(result)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def factory() -> _TLSProtocol:
        protocol = _TLSProtocol(ServerConnection(config), config.handshake_timeout, limit=limit,
                                event_hook=event_hook)
        protocol.handshake_done.add_done_callback(lambda future: on_handshake(protocol, future))
        return protocol

    return await loop.create_server(factory, host, port, **kwargs)


class TLSStreamWriter:
    """The parts of ``asyncio.StreamWriter`` that make sense over TLS."""

    def __init__(self, protocol: _TLSProtocol) -> None:
        self._protocol = protocol

    @property
    def transport(self) -> asyncio.BaseTransport:
        return self._protocol.transport

    @property
    def connection(self) -> ClientConnection | ServerConnection:
        return self._protocol.conn

    @property
    def early_data_accepted(self) -> bool:
        """Client: True when the ``early_data`` given to ``open_connection`` went out as 0-RTT data and
        the server accepted it.  Server: ``Negotiated.early_data_accepted``."""
        negotiated = self._protocol.conn.negotiated
        accepted = negotiated is not None and negotiated.early_data_accepted
        return accepted and (self._protocol.is_early_data_sent or isinstance(self._protocol.conn, ServerConnection))

    @property
    def early_data(self) -> bytes:
        """Server side: every byte received as 0-RTT ``EarlyData`` during the handshake, kept apart
        from the reader: it may be a replay (RFC 8446 §8, RFC 8470)."""
        return bytes(self._protocol.early_data)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._protocol.call(self._protocol.conn.send_application_data, bytes(data))

    def writelines(self, lines: list[bytes]) -> None:
        self.write(b"".join(lines))

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        """Send close_notify and keep reading (TLS 1.3 half-close, RFC 8446 §6.1)."""
        if not self._protocol.conn.is_closed:
            self._protocol.call(self._protocol.conn.close)

    def key_update(self, request_peer: bool = True) -> None:
        self._protocol.call(lambda: self._protocol.conn.key_update(request_peer=request_peer))

    def close(self) -> None:
        try:
            self.write_eof()
        except HandclaspError:
            pass
        self._protocol.transport.close()

    def is_closing(self) -> bool:
        return self._protocol.transport.is_closing()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._protocol.closed)

    async def drain(self) -> None:
        await self._protocol.drain()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "negotiated":
            return self._protocol.conn.negotiated
        if name == "connection":
            return self._protocol.conn
        if name == "early_data":
            return self.early_data
        if name == "early_data_accepted":
            return self.early_data_accepted
        return self._protocol.transport.get_extra_info(name, default)


class _TLSProtocol(asyncio.Protocol):
    def __init__(self, conn: ClientConnection | ServerConnection, handshake_timeout: float, *,
                 limit: int, event_hook: EventHook | None, early_data: bytes = b"") -> None:
        self.conn = conn
        self.early_data = bytearray()  # server: the EarlyData received during the handshake
        self._early_data_out = bytes(early_data)
        self.is_early_data_sent = False
        self._loop = asyncio.get_running_loop()
        self.reader = asyncio.StreamReader(limit=limit)
        self.handshake_done: asyncio.Future[None] = self._loop.create_future()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._handshake_timeout = handshake_timeout
        self._event_hook = event_hook
        self._transport: asyncio.Transport | None = None
        self._error: Exception | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def transport(self) -> asyncio.Transport:
        assert self._transport is not None, "not connected"
        return self._transport

    @property
    def peername(self) -> Any:
        return None if self._transport is None else self._transport.get_extra_info("peername")

    # --- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.reader.set_transport(transport)
        self._timer = self._loop.call_later(self._handshake_timeout, self._on_handshake_timeout)
        if isinstance(self.conn, ClientConnection):
            self.call(self.conn.start_handshake)
            early = self._early_data_out
            if early and len(early) <= self.conn.early_data_limit:
                self.call(self.conn.send_early_data, early)
                self.is_early_data_sent = True

    def data_received(self, data: bytes) -> None:
        self._receive(data)

    def eof_received(self) -> bool:
        self._receive(b"")
        self.reader.feed_eof()
        self._fail_handshake(ConnectionClosed("peer closed the connection during the handshake"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._fail_handshake(ConnectionClosed(f"connection lost: {exc}" if exc else "connection lost"))
        if self._error is None and exc is not None:
            self.reader.set_exception(exc)
        else:
            self.reader.feed_eof()
        self._wake_drain(self._error or exc or ConnectionResetError("connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        if self._drain_waiter is None:
            self._drain_waiter = self._loop.create_future()

    def resume_writing(self) -> None:
        self._wake_drain(None)

    # --- used by the writer
    def call(self, action: Callable[..., object], *args: Any) -> None:
        """Run one core verb and write what it queued."""
        try:
            result = action(*args)
        finally:
            self._flush()
        if self._event_hook is not None and isinstance(result, list):
            for event in result:  # start_handshake() and key_update() return the events they caused
                self._event_hook(event)

    async def drain(self) -> None:
        if self._error is not None:
            raise self._error
        if self._transport is None or self._transport.is_closing():
            await asyncio.sleep(0)  # let connection_lost run, as StreamWriter.drain does
        if self._drain_waiter is not None:
            await asyncio.shield(self._drain_waiter)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # --- private helpers
    def _receive(self, data: bytes) -> None:
        try:
            received = self.conn.receive_bytes(data)
        except TLSError as exc:
            self._flush()
            self._fail(exc)
            return
        self._flush()
        for event in received:
            if isinstance(event, events.ApplicationData):
                self.reader.feed_data(event.data)
            elif isinstance(event, events.EarlyData):
                self.early_data += event.data
            elif isinstance(event, events.CloseNotify):
                self.reader.feed_eof()
            if self._event_hook is not None:
                self._event_hook(event)
        if self.conn.handshake_complete and not self.handshake_done.done():
            self._cancel_timer()
            self.handshake_done.set_result(None)

    def _flush(self) -> None:
        try:
            data = self.conn.data_to_send()
        except HandclaspError:
            return
        if data and self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _fail(self, exc: Exception) -> None:
        self._error = exc
        self._fail_handshake(exc)
        self.reader.set_exception(exc)
        self._wake_drain(exc)
        if self._transport is not None:
            self._transport.close()

    def _fail_handshake(self, exc: Exception) -> None:
        if not self.handshake_done.done():
            self.handshake_done.set_exception(exc)
            self.handshake_done.exception()  # retrieved: no "never retrieved" warning on the server side

    def _on_handshake_timeout(self) -> None:
        if not self.handshake_done.done():
            self._fail(HandshakeTimeout(self._handshake_timeout))
            self.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake_drain(self, exc: Exception | None) -> None:
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)
                waiter.exception()
