"""What only the blocking adapter has: makefile, unwrap, event hooks and the threaded server."""

from __future__ import annotations

import threading

import io_harness as h
import pytest

from handclasp import events
from handclasp.errors import HandclaspError
from handclasp.io import blocking


def test_makefile_reads_lines_and_writes_through() -> None:
    def line_echo(tls: blocking.TLSSocket, addr: object) -> None:
        with tls.makefile("rb") as reader, tls.makefile("wb") as writer:
            for line in reader:
                writer.write(line.upper())
                writer.flush()

    with blocking.serve("127.0.0.1", 0, h.server_config(), line_echo) as server:
        with blocking.connect("127.0.0.1", server.port, h.client_config(), server_name="localhost") as tls:
            writer = tls.makefile("w")
            writer.write("first line\nsecond line\n")
            writer.flush()
            reader = tls.makefile("r")
            assert reader.readline() == "FIRST LINE\n"
            assert reader.readline() == "SECOND LINE\n"


def test_event_hook_sees_handshake_messages_in_both_directions() -> None:
    seen: list[events.Event] = []
    with blocking.serve("127.0.0.1", 0, h.server_config(), lambda tls, addr: None) as server:
        with blocking.connect("127.0.0.1", server.port, h.client_config(), server_name="localhost",
                              event_hook=seen.append):
            pass
    messages = [e for e in seen if isinstance(e, events.HandshakeMessage)]
    sent = [m.name for m in messages if m.direction is events.Direction.SENT]
    received = [m.name for m in messages if m.direction is events.Direction.RECEIVED]
    assert sent[0] == "ClientHello"
    assert "Finished" in sent[-1]
    assert received[0] == "ServerHello"
    assert any(isinstance(e, events.HandshakeComplete) for e in seen)


def test_serve_stops_after_max_connections() -> None:
    server = blocking.serve("127.0.0.1", 0, h.server_config(), lambda tls, addr: None, max_connections=2)
    try:
        for _ in range(2):
            with blocking.connect("127.0.0.1", server.port, h.client_config(), server_name="localhost"):
                pass
        assert server.wait(h.TIMEOUT)
    finally:
        server.shutdown()


def test_serve_stops_when_the_stop_event_is_set() -> None:
    stop = threading.Event()
    server = blocking.serve("127.0.0.1", 0, h.server_config(), lambda tls, addr: None, stop_event=stop)
    assert not server.wait(0.3)
    stop.set()
    assert server.wait(h.TIMEOUT)
    server.shutdown()


def test_unwrap_exchanges_close_notify_and_returns_the_tcp_socket() -> None:
    client_unwrapped = threading.Event()

    def unwrap_then_talk_plain(tls: blocking.TLSSocket, addr: object) -> None:
        plain = tls.unwrap()
        client_unwrapped.wait(h.TIMEOUT)
        plain.sendall(b"plain text now")

    with blocking.serve("127.0.0.1", 0, h.server_config(), unwrap_then_talk_plain) as server:
        tls = blocking.connect("127.0.0.1", server.port, h.client_config(), server_name="localhost")
        plain = tls.unwrap()
        client_unwrapped.set()
        plain.settimeout(h.TIMEOUT)
        assert plain.recv(100) == b"plain text now"
        plain.close()


def test_send_after_close_is_refused() -> None:
    with blocking.serve("127.0.0.1", 0, h.server_config(), lambda tls, addr: h.echo(tls)) as server:
        tls = blocking.connect("127.0.0.1", server.port, h.client_config(), server_name="localhost")
        tls.close()
        with pytest.raises(HandclaspError):
            tls.sendall(b"too late")
