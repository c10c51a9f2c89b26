"""0-RTT early data through both adapters (blocking and asyncio), against our own server on 127.0.0.1.

``connect(..., session=, early_data=)`` / ``open_connection(..., session=, early_data=)`` send the bytes
as 0-RTT when the ticket allows it and re-send them as 1-RTT data when not (RFC 8446 §4.2.10), so they
reach the server exactly once; the server keeps 0-RTT bytes apart (``early_data``) from ``recv()``.
"""

from __future__ import annotations

import dataclasses
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import io_harness as h
import pytest

from handclasp.config import ClientConfig, ServerConfig
from handclasp.io import aio, blocking
from handclasp.sessions.cache import ClientSession

EARLY = b"GET /early HTTP/1.0\r\n\r\n"
LATER = b"and some 1-RTT data\n"
MAX_EARLY = 16384


@dataclass
class Seen:
    """What the server's handler saw on one connection."""

    early_data: bytes
    received: bytes
    early_data_accepted: bool
    resumed: bool


@dataclass
class Outcome:
    """What the client saw: the echo (early bytes echoed first, then the rest), and its verdict."""

    echoed: bytes
    early_data_accepted: bool
    resumed: bool
    session: ClientSession | None


@pytest.fixture(params=["blocking", "asyncio"])
def adapter(request: pytest.FixtureRequest) -> Iterator[h.BlockingAdapter | h.AsyncioAdapter]:
    instance = h.BlockingAdapter() if request.param == "blocking" else h.AsyncioAdapter()
    yield instance
    instance.close()


def echo_early_first(seen: queue.Queue[Seen]) -> h.Behaviour:
    """Echo the 0-RTT bytes, then everything received until close_notify; report what was seen."""

    def behaviour(conn: Any) -> None:
        source = conn if isinstance(conn, blocking.TLSSocket) else conn.writer
        early = source.early_data
        if early:
            conn.sendall(early)
        received = bytearray()
        while data := conn.recv(65536):
            received += data
            conn.sendall(data)
        negotiated = conn.negotiated
        seen.put(Seen(early, bytes(received), source.early_data_accepted, bool(negotiated and negotiated.resumed)))

    return behaviour


def client_round(adapter: h.BlockingAdapter | h.AsyncioAdapter, port: int, config: ClientConfig,
                 session: ClientSession | None, early_data: bytes) -> Outcome:
    """Connect (offering ``session`` and ``early_data``), send LATER, half-close, read the echo to EOF."""
    if isinstance(adapter, h.BlockingAdapter):
        tls = blocking.connect("127.0.0.1", port, config, server_name="localhost", timeout=h.TIMEOUT,
                               session=session, early_data=early_data)
        client: Any = tls
        accepted, connection = tls.early_data_accepted, tls.connection
    else:
        reader, writer = adapter.run(aio.open_connection("127.0.0.1", port, config, server_name="localhost",
                                                         session=session, early_data=early_data))
        client = h.AsyncioClient(adapter, reader, writer)
        accepted, connection = writer.early_data_accepted, writer.connection
        assert writer.get_extra_info("early_data_accepted") is accepted
    client.sendall(LATER)
    client.shutdown_write()
    echoed = h.recv_until_eof(client)
    negotiated = client.negotiated
    client.close()
    return Outcome(echoed, accepted, bool(negotiated and negotiated.resumed), connection.session)


def first_session(adapter: h.BlockingAdapter | h.AsyncioAdapter, port: int, config: ClientConfig,
                  seen: queue.Queue[Seen]) -> ClientSession:
    outcome = client_round(adapter, port, config, None, b"")
    assert outcome.echoed == LATER and seen.get(timeout=h.TIMEOUT).received == LATER
    assert outcome.session is not None and outcome.session.session.max_early_data_size == MAX_EARLY
    return outcome.session


def test_early_data_is_accepted_and_kept_apart_from_recv(adapter: h.BlockingAdapter | h.AsyncioAdapter) -> None:
    seen: queue.Queue[Seen] = queue.Queue()
    config = h.client_config(enable_early_data=True)
    with adapter.server(h.server_config(max_early_data_size=MAX_EARLY), echo_early_first(seen)) as (port, _):
        session = first_session(adapter, port, config, seen)
        outcome = client_round(adapter, port, config, session, EARLY)
        server = seen.get(timeout=h.TIMEOUT)
    assert outcome.resumed and outcome.early_data_accepted
    assert outcome.echoed == EARLY + LATER  # exactly once
    assert server.resumed and server.early_data_accepted
    assert server.early_data == EARLY  # as EarlyData, never through recv()
    assert server.received == LATER


def test_rejected_early_data_is_resent_once_as_ordinary_data(adapter: h.BlockingAdapter | h.AsyncioAdapter) -> None:
    """RFC 8446 §4.2.10: the server may ignore early data; the client then resends it after the handshake."""
    seen: queue.Queue[Seen] = queue.Queue()
    config = h.client_config(enable_early_data=True)
    accepting = h.server_config(max_early_data_size=MAX_EARLY)
    with adapter.server(accepting, echo_early_first(seen)) as (port, _):
        session = first_session(adapter, port, config, seen)
    refusing = dataclasses.replace(accepting, max_early_data_size=0)  # same ticket keys: resumption still works
    with adapter.server(refusing, echo_early_first(seen)) as (port, _):
        outcome = client_round(adapter, port, config, session, EARLY)
        server = seen.get(timeout=h.TIMEOUT)
    assert outcome.resumed and not outcome.early_data_accepted
    assert outcome.echoed == EARLY + LATER
    assert server.resumed and not server.early_data_accepted
    assert server.early_data == b""
    assert server.received == EARLY + LATER  # arrived once, as 1-RTT data


@pytest.mark.parametrize("case", ["no-session", "disabled", "too-big"])
def test_early_data_that_cannot_go_early_is_sent_after_the_handshake(
    adapter: h.BlockingAdapter | h.AsyncioAdapter, case: str
) -> None:
    seen: queue.Queue[Seen] = queue.Queue()
    config = h.client_config(enable_early_data=True)
    payload = b"x" * (MAX_EARLY + 1) if case == "too-big" else EARLY
    with adapter.server(h.server_config(max_early_data_size=MAX_EARLY), echo_early_first(seen)) as (port, _):
        session = None if case == "no-session" else first_session(adapter, port, config, seen)
        client = dataclasses.replace(config, enable_early_data=False) if case == "disabled" else config
        outcome = client_round(adapter, port, client, session, payload)
        server = seen.get(timeout=h.TIMEOUT)
    assert outcome.resumed is (case != "no-session")
    assert not outcome.early_data_accepted  # nothing of ours went early
    assert server.early_data_accepted is (case == "too-big")  # offered: an empty 0-RTT was accepted
    assert server.early_data == b"" and server.received == payload + LATER
    assert outcome.echoed == payload + LATER


def test_aio_server_exposes_early_data_via_get_extra_info() -> None:
    import asyncio

    async def scenario() -> tuple[bytes, bool, bytes]:
        got: asyncio.Future[tuple[bytes, bool]] = asyncio.get_running_loop().create_future()

        async def on_client(reader: asyncio.StreamReader, writer: aio.TLSStreamWriter) -> None:
            got.set_result((writer.get_extra_info("early_data"), writer.get_extra_info("early_data_accepted")))
            writer.write(await reader.read())
            writer.close()

        config: ServerConfig = h.server_config(max_early_data_size=MAX_EARLY)
        server = await aio.start_server(on_client, "127.0.0.1", 0, config)
        port = server.sockets[0].getsockname()[1]
        client = h.client_config(enable_early_data=True)
        async with server:
            reader, writer = await aio.open_connection("127.0.0.1", port, client, server_name="localhost")
            writer.write_eof()
            await reader.read()
            session = writer.connection.session
            writer.close()
            await got
            got = asyncio.get_running_loop().create_future()
            reader, writer = await aio.open_connection("127.0.0.1", port, client, server_name="localhost",
                                                       session=session, early_data=EARLY)
            writer.write_eof()
            echoed = await reader.read()
            writer.close()
            early, accepted = await got
        return early, accepted, echoed

    early, accepted, echoed = asyncio.run(asyncio.wait_for(scenario(), h.TIMEOUT))
    assert early == EARLY and accepted
    assert echoed == b""  # the early bytes never reached the reader
