"""handclasp: ClientConnection / ServerConnection stepped over memory; sockets on loopback.

Written against the core API in the project spec (receive_bytes / data_to_send /
send_application_data). On loopback it uses the blocking adapter ``handclasp.io.blocking``
(``TLSSocket`` for the client, ``wrap_server_socket`` for the server) when it imports,
otherwise it drives the sans-I/O connections over the socket itself.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from types import ModuleType

from bench.common import (
    EARLY_DATA,
    MAX_STEPS,
    RESUME13_KEY_TYPE,
    SOCKET_TIMEOUT,
    TLS12_HOW,
    TLS12_KEY_TYPE,
    BenchError,
    BulkPair,
    ClientOne,
    Resume13Mode,
    ServeOne,
    Stack,
    Tls12Mode,
    Unsupported,
)
from bench.harness import Operation
from bench.pki import SERVER_NAME, BenchPKI
from handclasp import (
    CipherSuite,
    ClientConfig,
    ClientConnection,
    Connection,
    NamedGroup,
    ProtocolVersion,
    ServerConfig,
    ServerConnection,
    events,
)
from handclasp.sessions.cache import ClientSession
from handclasp.sessions.store import MemorySessionStore
from handclasp.wire.enums import PskKeyExchangeMode

RECV_SIZE = 65536
TLS12_SUITE = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
MAX_EARLY_DATA = 16384  # what the 0-RTT row's server allows per ticket (it sends len(EARLY_DATA))


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
                certificates=(cert.certified_key,), cipher_suites=suites, groups=groups, keylog_filename=None,
                tls13_tickets=0,  # like ssl's num_tickets=0: the rows time the handshake alone
            )
            for key_type, cert in pki.certs.items()
        }
        # The post-quantum row: X25519MLKEM768 only, one share, otherwise the same as above.
        pq = (NamedGroup.X25519MLKEM768,)
        self.pq_client_cfg = ClientConfig(
            cafile=pki.ca_path, cipher_suites=suites, groups=pq, key_share_groups=pq, keylog_filename=None
        )
        self.pq_server_cfg = {
            key_type: ServerConfig(
                certificates=(cert.certified_key,), cipher_suites=suites, groups=pq, keylog_filename=None,
                tls13_tickets=0,
            )
            for key_type, cert in pki.certs.items()
        }
        self.blocking = _blocking_adapter()
        tls12 = (ProtocolVersion.TLS1_2,)
        # X25519 for the key exchange; P-256 must be offered too, for the ECDSA P-256 certificate (RFC 8422 §5.1)
        tls12_groups = (NamedGroup.X25519, NamedGroup.SECP256R1)
        self.tls12_client_cfg = ClientConfig(
            cafile=pki.ca_path,
            versions=tls12,
            cipher_suites=(TLS12_SUITE,),
            groups=tls12_groups,
            key_share_groups=groups,
            keylog_filename=None,
        )
        ecdsa = pki.certs[TLS12_KEY_TYPE].certified_key

        def tls12_server(*, tickets: bool, session_ids: bool) -> ServerConfig:
            return ServerConfig(
                certificates=(ecdsa,),
                versions=tls12,
                cipher_suites=(TLS12_SUITE,),
                groups=tls12_groups,
                session_tickets=tickets,
                session_store=MemorySessionStore() if session_ids else None,
                keylog_filename=None,
            )

        # "full" and "session-id": tickets off, session-ID store on; "ticket": tickets only.
        self.tls12_server_cfg: dict[Tls12Mode, ServerConfig] = {
            "full": tls12_server(tickets=False, session_ids=True),
            "ticket": tls12_server(tickets=True, session_ids=False),
            "session-id": tls12_server(tickets=False, session_ids=True),
        }

    def notes(self) -> list[str]:
        loopback = (
            "handclasp.io.blocking (TLSSocket / wrap_server_socket)"
            if self.blocking
            else "the bench's own socket loop (handclasp.io.blocking did not import)"
        )
        return [f"handclasp: client verifies chain + hostname (cafile); loopback via {loopback}"]

    # --- in-process
    def _pair(self, key_type: str) -> tuple[ClientConnection, ServerConnection, int]:
        return _handshake(self.client_cfg, self.server_cfg[key_type])

    def handshake_op(self, key_type: str) -> Operation:
        def op() -> int:
            return self._pair(key_type)[2]

        return op

    def describe(self, key_type: str) -> str:
        n = self._pair(key_type)[0].negotiated
        if n is None:
            raise BenchError("handclasp: no Negotiated after the handshake")
        return f"{_name(n.version)} {_name(n.cipher_suite)} {_name(n.group)} {_name(n.signature_scheme)}"

    def pq_handshake_op(self, key_type: str) -> Operation:
        def op() -> int:
            return _handshake(self.pq_client_cfg, self.pq_server_cfg[key_type])[2]

        return op

    def describe_pq(self, key_type: str) -> str:
        n = _handshake(self.pq_client_cfg, self.pq_server_cfg[key_type])[0].negotiated
        if n is None or n.group is not NamedGroup.X25519MLKEM768:
            raise BenchError(f"handclasp: expected X25519MLKEM768, got {n and n.group}")
        return f"{_name(n.version)} {_name(n.cipher_suite)} {_name(n.group)} {_name(n.signature_scheme)}"

    # --- in-process TLS 1.2
    def _tls12_session(self, mode: Tls12Mode) -> ClientSession | None:
        """The session the resumed rows offer: from one full handshake with that row's server."""
        if mode == "full":
            return None
        client, _, _ = _handshake(self.tls12_client_cfg, self.tls12_server_cfg[mode])
        session = client.session
        if session is None:
            raise BenchError(f"handclasp TLS 1.2 ({mode}): the full handshake left no resumable session")
        if mode == "ticket" and not session.ticket:
            raise BenchError("handclasp TLS 1.2: the server sent no session ticket")
        if mode == "session-id" and (session.ticket or not session.session_id):
            raise BenchError("handclasp TLS 1.2: expected a session ID and no ticket")
        return session

    def _tls12_pair(
        self, mode: Tls12Mode, session: ClientSession | None
    ) -> tuple[ClientConnection, ServerConnection, int]:
        client, server, server_ns = _handshake(self.tls12_client_cfg, self.tls12_server_cfg[mode], session)
        want = mode != "full"
        for side, conn in (("client", client), ("server", server)):
            n = conn.negotiated
            if n is None or n.version != ProtocolVersion.TLS1_2 or n.resumed != want:
                got = "no handshake" if n is None else f"{_name(n.version)} resumed={n.resumed}"
                raise BenchError(f"handclasp TLS 1.2 {mode}: {side} {got}, expected resumed={want}")
        return client, server, server_ns

    def tls12_op(self, mode: Tls12Mode) -> Operation:
        session = self._tls12_session(mode)

        def op() -> int:
            return self._tls12_pair(mode, session)[2]

        return op

    def describe_tls12(self, mode: Tls12Mode) -> str:
        n = self._tls12_pair(mode, self._tls12_session(mode))[0].negotiated
        assert n is not None  # checked by _tls12_pair
        how = TLS12_HOW[mode]
        group, scheme = (_name(n.group), _name(n.signature_scheme)) if mode == "full" else ("-", "-")
        return f"{_name(n.version)} {_name(n.cipher_suite)} {group} {scheme} ({how})"

    # --- in-process TLS 1.3 resumption
    def _resume13_configs(self, mode: Resume13Mode) -> tuple[ClientConfig, ServerConfig]:
        """Row 1's configs, with one stateless ticket per handshake and the mode's PSK modes / 0-RTT.

        Built per cell, so the 0-RTT row starts with an empty anti-replay guard."""
        server = dataclasses.replace(
            self.server_cfg[RESUME13_KEY_TYPE], tls13_tickets=1, tls13_ticket_mode="stateless", session_store=None
        )
        client = self.client_cfg
        if mode == "psk_ke":  # no (EC)DHE on resumption: both ends offer / accept psk_ke only
            modes = (PskKeyExchangeMode.PSK_KE,)
            client = dataclasses.replace(client, psk_modes=modes)
            server = dataclasses.replace(server, psk_modes=modes)
        elif mode == "0rtt":
            if not _has_early_data_api():
                raise Unsupported(
                    "handclasp: this build has no 0-RTT API yet (ClientConfig.enable_early_data, "
                    "ServerConfig.max_early_data_size, ClientConnection.send_early_data)"
                )
            client = dataclasses.replace(client, enable_early_data=True)
            server = dataclasses.replace(server, max_early_data_size=MAX_EARLY_DATA)
        return client, server

    def _resume13_first(self, mode: Resume13Mode, client_cfg: ClientConfig, server_cfg: ServerConfig) -> ClientSession:
        """The first ticket: from one untimed full handshake with the row's server."""
        client, _, _ = _handshake(client_cfg, server_cfg)
        session = client.session
        if session is None or not session.ticket or session.session.version != ProtocolVersion.TLS1_3:
            raise BenchError(f"handclasp TLS 1.3 {mode}: the full handshake left no TLS 1.3 ticket")
        if mode == "0rtt" and not session.session.max_early_data_size:
            raise BenchError("handclasp 0-RTT: the ticket allows no early data")
        return session

    def _resumed13(
        self, mode: Resume13Mode, client_cfg: ClientConfig, server_cfg: ServerConfig, session: ClientSession
    ) -> tuple[ClientConnection, ServerConnection, int]:
        """One resumed handshake offering ``session``, checked on both ends."""
        server_events: list[events.Event] | None = [] if mode == "0rtt" else None
        early = EARLY_DATA if mode == "0rtt" else b""
        client, server, server_ns = _handshake(client_cfg, server_cfg, session, early, server_events)
        for side, conn in (("client", client), ("server", server)):
            n = conn.negotiated
            if n is None or n.version != ProtocolVersion.TLS1_3 or not n.resumed:
                got = "no handshake" if n is None else f"{_name(n.version)} resumed={n.resumed}"
                raise BenchError(f"handclasp TLS 1.3 {mode}: {side} {got}, expected a resumed TLS 1.3 handshake")
            if (n.group is None) != (mode == "psk_ke"):
                raise BenchError(f"handclasp TLS 1.3 {mode}: {side} group {_name(n.group)}")
            if mode == "0rtt" and not n.early_data_accepted:
                raise BenchError(f"handclasp 0-RTT: {side} reports the early data as not accepted")
        if server_events is not None:
            delivered = b"".join(e.data for e in server_events if isinstance(e, events.EarlyData))
            if delivered != early:
                raise BenchError(f"handclasp 0-RTT: the server delivered {len(delivered)} of {len(early)} early bytes")
        if client.session is None or client.session is session:
            raise BenchError(f"handclasp TLS 1.3 {mode}: the resumed handshake brought no new ticket")
        return client, server, server_ns

    def resume13_op(self, mode: Resume13Mode) -> Operation:
        client_cfg, server_cfg = self._resume13_configs(mode)
        newest = [self._resume13_first(mode, client_cfg, server_cfg)]

        def op() -> int:
            client, _, server_ns = self._resumed13(mode, client_cfg, server_cfg, newest[0])
            assert client.session is not None  # checked by _resumed13
            newest[0] = client.session  # the next handshake offers this connection's ticket
            return server_ns

        return op

    def describe_resume13(self, mode: Resume13Mode) -> str:
        client_cfg, server_cfg = self._resume13_configs(mode)
        n = self._resumed13(mode, client_cfg, server_cfg, self._resume13_first(mode, client_cfg, server_cfg))[0].negotiated
        assert n is not None  # checked by _resumed13
        early = f", 0-RTT {len(EARLY_DATA)} bytes accepted" if mode == "0rtt" else ""
        return f"{_name(n.version)} {_name(n.cipher_suite)} {_name(n.group) if n.group else '-'} (resumed, {mode}{early})"

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


def _handshake(
    client_cfg: ClientConfig,
    server_cfg: ServerConfig,
    session: ClientSession | None = None,
    early_data: bytes = b"",
    server_events: list[events.Event] | None = None,
) -> tuple[ClientConnection, ServerConnection, int]:
    """Step a client and a server over memory until both finish; returns them and the server CPU ns.

    ``early_data`` is sent as 0-RTT data right after the ClientHello; the server's events are
    appended to ``server_events`` when it is given (outside the timed calls)."""
    client = ClientConnection(client_cfg, server_name=SERVER_NAME, session=session)
    client.start_handshake()
    if early_data:
        client.send_early_data(early_data)
    t0 = time.thread_time_ns()
    server = ServerConnection(server_cfg)
    server_ns = time.thread_time_ns() - t0
    to_server = client.data_to_send()
    for _ in range(MAX_STEPS):
        t0 = time.thread_time_ns()
        received = server.receive_bytes(to_server) if to_server else ()
        to_client = server.data_to_send()
        server_ns += time.thread_time_ns() - t0
        if server_events is not None:
            server_events.extend(received)
        if to_client:
            client.receive_bytes(to_client)
        to_server = client.data_to_send()
        if client.handshake_complete and server.handshake_complete and not to_server:
            return client, server, server_ns
    raise BenchError("handclasp in-memory handshake did not finish")


def _has_early_data_api() -> bool:
    """Whether the 0-RTT API (being added for issue #4) is in this build."""
    client_fields = {f.name for f in dataclasses.fields(ClientConfig)}
    server_fields = {f.name for f in dataclasses.fields(ServerConfig)}
    return (
        "enable_early_data" in client_fields
        and "max_early_data_size" in server_fields
        and hasattr(ClientConnection, "send_early_data")
    )


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
