"""ConnectionPair: a client and a server stepped over memory, with tampering hooks."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.events import ApplicationData, Event, HandshakeComplete

Tamper = Callable[[bytes], bytes]


@dataclass
class ConnectionPair:
    client: ClientConnection
    server: ServerConnection
    client_events: list[Event] = field(default_factory=list)
    server_events: list[Event] = field(default_factory=list)

    @classmethod
    def make(cls, client_config: ClientConfig, server_config: ServerConfig, server_name: str | None = "localhost") -> ConnectionPair:
        pair = cls(ClientConnection(client_config, server_name), ServerConnection(server_config))
        pair.client.start_handshake()
        return pair

    def client_to_server(self, tamper: Tamper | None = None) -> list[Event]:
        data = self.client.data_to_send()
        if tamper is not None:
            data = tamper(data)
        events = self.server.receive_bytes(data) if data else []
        self.server_events += events
        return events

    def server_to_client(self, tamper: Tamper | None = None) -> list[Event]:
        data = self.server.data_to_send()
        if tamper is not None:
            data = tamper(data)
        events = self.client.receive_bytes(data) if data else []
        self.client_events += events
        return events

    def handshake(self, max_flights: int = 8) -> None:
        for _ in range(max_flights):
            self.client_to_server()
            self.server_to_client()
            if self.client.handshake_complete and self.server.handshake_complete:
                self.client_to_server()
                return
        raise AssertionError("handshake did not complete")

    def transfer(self, data: bytes, *, from_client: bool = True) -> bytes:
        """Send data one way and assert that exactly it arrives."""
        sender, step = (self.client, self.client_to_server) if from_client else (self.server, self.server_to_client)
        sender.send_application_data(data)
        received = b"".join(e.data for e in step() if isinstance(e, ApplicationData))
        assert received == data
        return received

    def completions(self) -> tuple[HandshakeComplete, HandshakeComplete]:
        c = [e for e in self.client_events if isinstance(e, HandshakeComplete)]
        s = [e for e in self.server_events if isinstance(e, HandshakeComplete)]
        assert len(c) == 1 and len(s) == 1
        return c[0], s[0]


def records(data: bytes) -> list[bytes]:
    """Split a byte stream into whole TLS records."""
    out = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        out.append(data[pos : pos + 5 + length])
        pos += 5 + length
    return out


def strip_extension_from_client_hello(data: bytes, extension_class: type) -> bytes:
    """Re-frame a plaintext ClientHello record without one extension (an attacker's edit)."""
    import dataclasses

    from handclasp.wire.codec import Reader
    from handclasp.wire.handshake import ClientHello, encode_message

    assert data[0] == 22, "expected a plaintext handshake record"
    body = data[5 + 4 : 5 + int.from_bytes(data[3:5], "big")]
    hello = ClientHello.decode(Reader(body))
    hello = dataclasses.replace(hello, extensions=tuple(e for e in hello.extensions if type(e) is not extension_class))
    message = encode_message(hello)
    return data[:3] + len(message).to_bytes(2, "big") + message + data[5 + int.from_bytes(data[3:5], "big") :]


class DeterministicProvider:
    """Seeded randomness and a fixed clock, so handshakes replay byte for byte."""

    def __init__(self, seed: int = 1, now: float | None = None) -> None:
        self._rng = random.Random(seed)
        import time

        self._now = now if now is not None else time.time()

    def random(self, n: int) -> bytes:
        return self._rng.randbytes(n)

    def now(self) -> float:
        return self._now
