"""handclasp: ClientConnection / ServerConnection stepped over memory; sockets on loopback.

Written against the core API in the project spec (receive_bytes / data_to_send /
send_application_data). On loopback it uses the blocking adapter ``handclasp.io.blocking``
(``TLSSocket`` for the client, ``wrap_server_socket`` for the server) when it imports,
otherwise it drives the sans-I/O connections over the socket itself.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from types import ModuleType

from bench.common import MAX_STEPS, SOCKET_TIMEOUT, BenchError, BulkPair, ClientOne, ServeOne, Stack
from bench.harness import Operation
from bench.pki import SERVER_NAME, BenchPKI
from handclasp import (
    CipherSuite,
    ClientConfig,
    ClientConnection,
    Connection,
    NamedGroup,
    ServerConfig,
    ServerConnection,
    events,
)

RECV_SIZE = 65536


class HandclaspStack(Stack):
    name = "handclasp"

    def __init__(self, pki: BenchPKI) -> None:
        super().__init__(pki)
        suites = (CipherSuite.TLS_AES_128_GCM_SHA256,)
        groups = (NamedGroup.X25519,)
        self.client_cfg = ClientConfig(
            cafile=pki.ca_path,
            cipher_suites=suites,
            groups=groups,
            key_share_groups=groups,
            keylog_filename=None,
        )
        self.server_cfg = {
            key_type: ServerConfig(
                certificates=(cert.certified_key,), cipher_suites=suites, groups=groups, keylog_filename=None
            )
            for key_type, cert in pki.certs.items()
        }
        self.blocking = _blocking_adapter()

    def notes(self) -> list[str]:
        loopback = (
            "handclasp.io.blocking (TLSSocket / wrap_server_socket)"
            if self.blocking
            else "the bench's own socket loop (handclasp.io.blocking did not import)"
        )
        return [f"handclasp: client verifies chain + hostname (cafile); loopback via {loopback}"]

    # --- in-process
    def _pair(self, key_type: str) -> tuple[ClientConnection, ServerConnection, int]:
        client = ClientConnection(self.client_cfg, server_name=SERVER_NAME)
        client.start_handshake()
        t0 = time.thread_time_ns()
        server = ServerConnection(self.server_cfg[key_type])
        server_ns = time.thread_time_ns() - t0
        to_server = client.data_to_send()
        for _ in range(MAX_STEPS):
            t0 = time.thread_time_ns()
            if to_server:
                server.receive_bytes(to_server)
            to_client = server.data_to_send()
            server_ns += time.thread_time_ns() - t0
            if to_client:
                client.receive_bytes(to_client)
            to_server = client.data_to_send()
            if client.handshake_complete and server.handshake_complete and not to_server:
                return client, server, server_ns
        raise BenchError("handclasp in-memory handshake did not finish")

    def handshake_op(self, key_type: str) -> Operation:
        def op() -> int:
            return self._pair(key_type)[2]

        return op

    def describe(self, key_type: str) -> str:
        n = self._pair(key_type)[0].negotiated
        if n is None:
            raise BenchError("handclasp: no Negotiated after the handshake")
        return f"{_name(n.version)} {_name(n.cipher_suite)} {_name(n.group)} {_name(n.signature_scheme)}"

    def bulk_pair(self) -> BulkPair:
        client, server, _ = self._pair("ecdsa-p256")
        return _HandclaspBulk(client, server)

    # --- loopback
    def loopback_server(self, key_type: str) -> ServeOne:
        config = self.server_cfg[key_type]
        if self.blocking is not None:
            wrap_server_socket = self.blocking.wrap_server_socket

            def serve_with_adapter(sock: socket.socket) -> Callable[[], None]:
                tls = wrap_server_socket(sock, config)
                if tls.recv(1) != b"x":
                    raise BenchError("handclasp server: bad request byte")
                return lambda: tls.sendall(b"y")

            return serve_with_adapter

        def serve_one(sock: socket.socket) -> Callable[[], None]:
            conn = ServerConnection(config)
            _pump_until(conn, sock, lambda: False)

            def reply() -> None:
                conn.send_application_data(b"y")
                sock.sendall(conn.data_to_send())

            return reply

        return serve_one

    def loopback_client(self) -> ClientOne:
        config = self.client_cfg
        if self.blocking is not None:
            tls_socket = self.blocking.TLSSocket

            def client_with_adapter(sock: socket.socket) -> None:
                tls = tls_socket(sock, ClientConnection(config, server_name=SERVER_NAME))
                tls.do_handshake(SOCKET_TIMEOUT, restore_timeout=SOCKET_TIMEOUT)
                tls.sendall(b"x")
                if tls.recv(1) != b"y":
                    raise BenchError("handclasp client: bad reply byte")

            return client_with_adapter

        def client_one(sock: socket.socket) -> None:
            conn = ClientConnection(config, server_name=SERVER_NAME)
            conn.start_handshake()
            sock.sendall(conn.data_to_send())
            _pump_until(conn, sock, lambda: conn.handshake_complete)
            conn.send_application_data(b"x")
            sock.sendall(conn.data_to_send())
            _pump_until(conn, sock, lambda: False)

        return client_one


def _pump_until(conn: Connection, sock: socket.socket, done: Callable[[], bool]) -> bytes:
    """Feed socket bytes to ``conn`` and flush its output until ``done()`` or application data arrives."""
    for _ in range(MAX_STEPS):
        if done():
            return b""
        data = sock.recv(RECV_SIZE)
        if not data:
            raise BenchError("handclasp: unexpected EOF")
        received = _plaintext(conn.receive_bytes(data))
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        if received:
            return received
    raise BenchError("handclasp: socket exchange did not finish")


def _plaintext(received: list[events.Event]) -> bytes:
    return b"".join(e.data for e in received if isinstance(e, events.ApplicationData))


class _HandclaspBulk(BulkPair):
    def __init__(self, client: ClientConnection, server: ServerConnection) -> None:
        self.client, self.server = client, server

    def client_to_server(self, chunk: bytes) -> int:
        _transfer(self.client, self.server, chunk)
        return 0

    def server_to_client(self, chunk: bytes) -> int:
        _transfer(self.server, self.client, chunk)
        return 0


def _transfer(sender: Connection, receiver: Connection, chunk: bytes) -> None:
    sender.send_application_data(chunk)
    got = 0
    for event in receiver.receive_bytes(sender.data_to_send()):  # a plain loop: no generator per transfer
        if isinstance(event, events.ApplicationData):
            got += len(event.data)
    if got != len(chunk):
        raise BenchError(f"handclasp bulk: received {got} of {len(chunk)} bytes")


def _blocking_adapter() -> ModuleType | None:
    try:
        from handclasp.io import blocking
    except ImportError:
        return None
    return blocking if hasattr(blocking, "TLSSocket") and hasattr(blocking, "wrap_server_socket") else None


def _name(value: object) -> str:
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else str(value)
