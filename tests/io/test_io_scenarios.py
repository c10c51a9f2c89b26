"""One scenario suite, run against both adapters (blocking and asyncio), on 127.0.0.1."""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections.abc import Iterator

import io_harness as h
import pytest

from handclasp.errors import CertificateVerifyError, HandshakeTimeout
from handclasp.tools.certs import LocalCA
from handclasp.wire.enums import ProtocolVersion

MIB = 1 << 20


@pytest.fixture(params=["blocking", "asyncio"])
def adapter(request: pytest.FixtureRequest) -> Iterator[h.BlockingAdapter | h.AsyncioAdapter]:
    instance = h.BlockingAdapter() if request.param == "blocking" else h.AsyncioAdapter()
    yield instance
    instance.close()


def outcome(outcomes: queue.Queue[object]) -> object:
    return outcomes.get(timeout=h.TIMEOUT)


def test_handshake_completes_with_tls13(adapter: h.BlockingAdapter | h.AsyncioAdapter) -> None:
    with adapter.server(h.server_config(alpn_protocols=("http/1.1",)), h.echo) as (port, outcomes):
        client = adapter.connect(port, h.client_config(alpn_protocols=("h2", "http/1.1")))
        negotiated = client.negotiated
        assert negotiated is not None
        assert negotiated.version == ProtocolVersion.TLS1_3
        assert negotiated.alpn_protocol == "http/1.1"
        assert negotiated.peer_certificates[0] == h.pki()[1].leaf
        client.close()
        assert outcome(outcomes) == "ok"


def test_echo_one_mebibyte_both_ways(adapter: h.BlockingAdapter | h.AsyncioAdapter) -> None:
    payload = os.urandom(MIB)
    with adapter.server(h.server_config(), h.echo) as (port, outcomes):
        client = adapter.connect(port, h.client_config())
        # Send from a thread while this thread reads, so neither side's buffers fill up.
        sender = threading.Thread(target=client.sendall, args=(payload,))
        sender.start()
        echoed = h.recv_exactly(client, MIB)
        sender.join(h.TIMEOUT)
        assert echoed == payload
        client.close()
        assert outcome(outcomes) == "ok"


def test_close_notify_ends_the_stream_cleanly_on_both_sides(
    adapter: h.BlockingAdapter | h.AsyncioAdapter,
) -> None:
    """RFC 8446 §6.1: after close_notify the peer reads EOF, and may still answer (half-close)."""
    with adapter.server(h.server_config(), h.echo) as (port, outcomes):
        client = adapter.connect(port, h.client_config())
        client.sendall(b"last request")
        client.shutdown_write()
        assert h.recv_until_eof(client) == b"last request"
        assert client.recv(100) == b""
        assert outcome(outcomes) == "ok"  # the server's recv returned b"" (a clean close_notify)
        client.close()


def test_recv_after_peer_close_returns_buffered_data_then_eof(
    adapter: h.BlockingAdapter | h.AsyncioAdapter,
) -> None:
    """Data that arrives with the peer's close_notify is still delivered, then b"" for good."""
    words = b"famous last words " * 1000

    def say_and_close(conn: h.Client) -> None:
        conn.sendall(words)
        conn.close()

    with adapter.server(h.server_config(), say_and_close) as (port, outcomes):
        client = adapter.connect(port, h.client_config())
        assert outcome(outcomes) == "ok"
        time.sleep(0.1)  # let the data and the close_notify arrive together
        assert h.recv_until_eof(client) == words
        assert client.recv(100) == b""
        assert client.recv(100) == b""
        client.close()


def test_key_update_keeps_the_stream_working(adapter: h.BlockingAdapter | h.AsyncioAdapter) -> None:
    with adapter.server(h.server_config(), h.echo) as (port, outcomes):
        client = adapter.connect(port, h.client_config())
        client.sendall(b"before")
        assert h.recv_exactly(client, 6) == b"before"
        client.key_update()
        client.sendall(b"after")
        assert h.recv_exactly(client, 5) == b"after"
        client.close()
        assert outcome(outcomes) == "ok"


def test_client_handshake_timeout_against_silent_server(
    adapter: h.BlockingAdapter | h.AsyncioAdapter,
) -> None:
    with h.silent_tcp_server() as port:
        started = time.monotonic()
        with pytest.raises(HandshakeTimeout):
            adapter.connect(port, h.client_config(handshake_timeout=0.5))
        assert 0.4 < time.monotonic() - started < 5


def test_server_drops_a_client_that_never_finishes_the_handshake(
    adapter: h.BlockingAdapter | h.AsyncioAdapter,
) -> None:
    with adapter.server(h.server_config(handshake_timeout=0.5), h.echo) as (port, _outcomes):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as silent:
            started = time.monotonic()
            assert silent.recv(100) == b""  # the server closed on us
            assert time.monotonic() - started < 4


def test_untrusted_server_certificate_is_refused(adapter: h.BlockingAdapter | h.AsyncioAdapter) -> None:
    """RFC 8446 §4.4.2.4: a chain that does not verify aborts the handshake."""
    other_ca = LocalCA.create("unrelated CA")
    with adapter.server(h.server_config(), h.echo) as (port, outcomes):
        with pytest.raises(CertificateVerifyError):
            adapter.connect(port, h.client_config(cadata=other_ca.root_pem))
        assert isinstance(outcome(outcomes), Exception)  # the server saw the alert
