"""One synchronous face over both I/O adapters, so each scenario is written once.

``BlockingAdapter`` uses ``handclasp.io.blocking`` directly.  ``AsyncioAdapter``
runs an event loop in a thread and drives ``handclasp.io.aio`` from the test
thread with ``run_coroutine_threadsafe``, so the same test body exercises both.
Everything listens on 127.0.0.1; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from handclasp.config import ClientConfig, ServerConfig
from handclasp.io import aio, blocking
from handclasp.negotiated import Negotiated
from handclasp.tools.certs import CertifiedKey, LocalCA

T = TypeVar("T")
TIMEOUT = 20.0
SERVER_NAMES = ("localhost", "127.0.0.1")


class Client(Protocol):
    @property
    def negotiated(self) -> Negotiated | None: ...
    def sendall(self, data: bytes) -> None: ...
    def recv(self, size: int) -> bytes: ...
    def shutdown_write(self) -> None: ...
    def key_update(self) -> None: ...
    def close(self) -> None: ...


# A server behaviour gets a Client-like object for each accepted connection.
Behaviour = Callable[[Client], None]


@functools.cache
def pki() -> tuple[LocalCA, CertifiedKey]:
    ca = LocalCA.create("handclasp io-test CA")
    return ca, ca.issue(list(SERVER_NAMES))


def server_config(**options: Any) -> ServerConfig:
    return ServerConfig(certificates=(pki()[1],), **options)


def client_config(**options: Any) -> ClientConfig:
    options.setdefault("cadata", pki()[0].root_pem)
    options.setdefault("handshake_timeout", 10.0)
    return ClientConfig(**options)


def recv_exactly(client: Client, size: int) -> bytes:
    chunks = bytearray()
    for _ in range(100_000):
        if len(chunks) >= size:
            break
        chunk = client.recv(size - len(chunks))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)


def recv_until_eof(client: Client, limit: int = 1 << 22) -> bytes:
    chunks = bytearray()
    for _ in range(100_000):
        chunk = client.recv(65536)
        if not chunk or len(chunks) > limit:
            break
        chunks += chunk
    return bytes(chunks)


def echo(conn: Client) -> None:
    """Echo until the peer's close_notify, then close."""
    for _ in range(100_000):
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


@contextmanager
def silent_tcp_server() -> Iterator[int]:
    """Accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for sock in accepted:
            sock.close()
        listener.close()


class BlockingAdapter:
    name = "blocking"

    @contextmanager
    def server(self, config: ServerConfig, behaviour: Behaviour) -> Iterator[tuple[int, queue.Queue[object]]]:
        """Yields (port, outcomes): each connection puts "ok" or the exception that ended it."""
        outcomes: queue.Queue[object] = queue.Queue()

        def handler(tls: blocking.TLSSocket, addr: object) -> None:
            try:
                behaviour(tls)
            except Exception as exc:
                outcomes.put(exc)
                raise
            outcomes.put("ok")

        with blocking.serve("127.0.0.1", 0, config, handler, on_error=lambda a, e: outcomes.put(e)) as srv:
            yield srv.port, outcomes

    def connect(self, port: int, config: ClientConfig, server_name: str = "localhost") -> Client:
        return blocking.connect("127.0.0.1", port, config, server_name=server_name, timeout=TIMEOUT)

    def close(self) -> None:
        pass


class AsyncioAdapter:
    name = "asyncio"

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    @contextmanager
    def server(self, config: ServerConfig, behaviour: Behaviour) -> Iterator[tuple[int, queue.Queue[object]]]:
        outcomes: queue.Queue[object] = queue.Queue()

        async def on_client(reader: asyncio.StreamReader, writer: aio.TLSStreamWriter) -> None:
            # The behaviour is synchronous; run it in a thread against a sync view of the streams.
            conn = AsyncioClient(self, reader, writer)
            try:
                await asyncio.to_thread(behaviour, conn)
            except Exception as exc:
                outcomes.put(exc)
            else:
                outcomes.put("ok")
            finally:
                writer.close()

        srv = self.run(aio.start_server(on_client, "127.0.0.1", 0, config, on_error=lambda a, e: outcomes.put(e)))
        try:
            yield srv.sockets[0].getsockname()[1], outcomes
        finally:
            self.run(_close_server(srv))  # on the loop's thread: asyncio.Server is not thread-safe

    def connect(self, port: int, config: ClientConfig, server_name: str = "localhost") -> Client:
        reader, writer = self.run(aio.open_connection("127.0.0.1", port, config, server_name=server_name))
        return AsyncioClient(self, reader, writer)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class AsyncioClient:
    """A blocking view of an (asyncio reader, TLSStreamWriter) pair, for the scenario bodies."""

    def __init__(self, adapter: AsyncioAdapter, reader: asyncio.StreamReader,
                 writer: aio.TLSStreamWriter) -> None:
        self._adapter = adapter
        self.reader = reader
        self.writer = writer

    @property
    def negotiated(self) -> Negotiated | None:
        value: Negotiated | None = self.writer.get_extra_info("negotiated")
        return value

    def sendall(self, data: bytes) -> None:
        async def send() -> None:
            self.writer.write(data)
            await self.writer.drain()

        self._adapter.run(send())

    def recv(self, size: int) -> bytes:
        return self._adapter.run(self.reader.read(size))

    def shutdown_write(self) -> None:
        self._call(self.writer.write_eof)

    def key_update(self) -> None:
        self._call(self.writer.key_update)

    def close(self) -> None:
        async def close() -> None:
            self.writer.close()
            await self.writer.wait_closed()

        self._adapter.run(close())

    def _call(self, action: Callable[[], None]) -> None:
        async def call() -> None:
            action()

        self._adapter.run(call())


async def _close_server(srv: asyncio.AbstractServer) -> None:
    srv.close()
    await asyncio.wait_for(srv.wait_closed(), 5)
