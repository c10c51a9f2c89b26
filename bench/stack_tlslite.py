"""tlslite-ng: TLSConnection over an in-memory transport, its async generators stepped in turn.

tlslite-ng drives I/O through generators that yield 0 when a ``recv`` would block. The
in-memory transport below raises EWOULDBLOCK when its inbox is empty, so both sides are
stepped from one thread with no sockets and no threads, and the server's CPU is measured
with ``time.thread_time_ns`` around the server generator's steps only.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from collections.abc import Callable, Generator
from typing import Any

from tlslite.api import (  # type: ignore[import-untyped]
    HandshakeSettings,
    SessionCache,
    TLSConnection,
    X509CertChain,
    parsePEMKey,
)
from tlslite.utils import cryptomath  # type: ignore[import-untyped]

from bench.common import (
    MAX_STEPS,
    RESUME13_KEY_TYPE,
    TLS12_HOW,
    TLS12_KEY_TYPE,
    TLS12_MODES,
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

MAX_GENERATOR_STEPS = 10_000


class TlsliteStack(Stack):
    name = "tlslite"

    def __init__(self, pki: BenchPKI) -> None:
        super().__init__(pki)
        self.settings = _settings()
        self.credentials: dict[str, tuple[Any, Any]] = {}
        for key_type, cert in pki.certs.items():
            chain = X509CertChain()
            with open(cert.cert_path) as f:
                chain.parsePemList(f.read())
            with open(cert.key_path) as f:
                key = parsePEMKey(f.read(), private=True)
            self.credentials[key_type] = (chain, key)
        self.tls12_client_settings = _tls12_settings(tickets=False)
        # "full" and "session-id": no tickets, a SessionCache; "ticket": ticketKeys and no cache.
        self.tls12_server_settings: dict[Tls12Mode, Any] = {
            mode: _tls12_settings(tickets=mode == "ticket") for mode in TLS12_MODES
        }
        self.tls12_caches: dict[Tls12Mode, Any] = {"full": SessionCache(), "session-id": SessionCache()}
        # TLS 1.3 resumption: row 1's settings, the server sending one ticket (ticketKeys), per PSK mode.
        self.resume13_settings: dict[str, tuple[Any, Any]] = {}
        for psk_mode in ("psk_dhe_ke", "psk_ke"):
            client, server = _settings(), _settings()
            client.psk_modes = server.psk_modes = [psk_mode]
            server.ticketKeys = [bytearray(os.urandom(32))]
            server.ticket_count = 1
            self.resume13_settings[psk_mode] = (client, server)

    def notes(self) -> list[str]:
        backends = [
            name
            for name, loaded in (
                ("M2Crypto", cryptomath.m2cryptoLoaded),
                ("pycrypto", cryptomath.pycryptoLoaded),
                ("gmpy2", cryptomath.GMPY2_LOADED),
            )
            if loaded
        ]
        crypto = ", ".join(backends) if backends else "pure-Python crypto (no M2Crypto/pycryptodome/gmpy2)"
        return [
            f"tlslite: tlslite-ng {_version()} with {crypto}; client does no certificate validation",
            "tlslite TLS 1.2: tickets via HandshakeSettings.ticketKeys (ticket_count=1); session IDs via a "
            "SessionCache passed to the server",
            "tlslite TLS 1.3 resumed rows: ticketKeys, ticket_count=1; resumption is checked on the client only "
            "(tlslite-ng's server never sets resumed in TLS 1.3); no 0-RTT client",
        ]

    # --- in-process
    def _pair(self, key_type: str) -> tuple[Any, Any, int]:
        chain, key = self.credentials[key_type]
        return _mem_pair(self.settings, self.settings, chain, key)

    def handshake_op(self, key_type: str) -> Operation:
        def op() -> int:
            return int(self._pair(key_type)[2])

        return op

    def describe(self, key_type: str) -> str:
        client, _, _ = self._pair(key_type)
        if client.version != (3, 4):
            raise BenchError(f"tlslite negotiated {client.version}")
        from tlslite.constants import GroupName, SignatureScheme  # type: ignore[import-untyped]

        group = GroupName.toStr(client.ecdhCurve) if client.ecdhCurve is not None else "?"
        scheme = SignatureScheme.toRepr(client.serverSigAlg) if client.serverSigAlg else "?"
        return f"TLSv1.3 {client.getCipherName()} ({client.getCipherImplementation()}) {group} {scheme}"

    # --- in-process TLS 1.2
    def _tls12_pair(self, mode: Tls12Mode, session: Any = None) -> tuple[Any, Any, int]:
        chain, key = self.credentials[TLS12_KEY_TYPE]
        return _mem_pair(
            self.tls12_client_settings,
            self.tls12_server_settings[mode],
            chain,
            key,
            session=session,
            cache=self.tls12_caches.get(mode),
        )

    def _tls12_session(self, mode: Tls12Mode) -> Any:
        """The session the resumed rows offer: from one full handshake with that row's server."""
        if mode == "full":
            return None
        client, _, _ = self._tls12_pair(mode)
        session = client.session
        if session is None or not session.resumable:
            raise BenchError(f"tlslite TLS 1.2 ({mode}): the full handshake left no resumable session")
        if mode == "ticket" and not session.tls_1_0_tickets:
            raise BenchError("tlslite TLS 1.2: the server sent no session ticket")
        if mode == "session-id" and (session.tls_1_0_tickets or not session.sessionID):
            raise BenchError("tlslite TLS 1.2: expected a session ID and no ticket")
        return session

    def _tls12_checked(self, mode: Tls12Mode, session: Any) -> tuple[Any, Any, int]:
        client, server, server_ns = self._tls12_pair(mode, session)
        want = mode != "full"
        for side, conn in (("client", client), ("server", server)):
            if conn.version != (3, 3) or bool(conn.resumed) != want:
                raise BenchError(
                    f"tlslite TLS 1.2 {mode}: {side} version {conn.version} resumed={conn.resumed}, expected {want}"
                )
        return client, server, server_ns

    def tls12_op(self, mode: Tls12Mode) -> Operation:
        session = self._tls12_session(mode)

        def op() -> int:
            return int(self._tls12_checked(mode, session)[2])

        return op

    def describe_tls12(self, mode: Tls12Mode) -> str:
        client, _, _ = self._tls12_checked(mode, self._tls12_session(mode))
        from tlslite.constants import GroupName, SignatureScheme

        if mode == "full":
            group = GroupName.toStr(client.ecdhCurve) if client.ecdhCurve is not None else "?"
            scheme = SignatureScheme.toRepr(client.serverSigAlg) if client.serverSigAlg else "?"
        else:
            group = scheme = "-"  # no key exchange when resuming
        how = TLS12_HOW[mode]
        return (
            f"TLSv1.2 {client.getCipherName()} ({client.getCipherImplementation()}) {group} {scheme} ({how})"
        )

    # --- in-process TLS 1.3 resumption
    def _resume13_pair(self, mode: Resume13Mode, session: Any) -> tuple[Any, Any, int]:
        """One handshake offering ``session``'s ticket; the client then reads the server's NewSessionTicket."""
        if mode == "0rtt":
            raise Unsupported("tlslite-ng's client cannot send 0-RTT data")
        client_settings, server_settings = self.resume13_settings[mode]
        chain, key = self.credentials[RESUME13_KEY_TYPE]
        client, server, server_ns = _mem_pair(client_settings, server_settings, chain, key, session=session)
        for result in client.readAsync(max=1, min=0):  # takes in the ticket (untimed: client side)
            if result in (0, 1):
                break
        if not client.session or not client.session.tickets:
            raise BenchError(f"tlslite TLS 1.3 {mode}: no ticket after the handshake")
        return client, server, server_ns

    def _resume13_checked(self, mode: Resume13Mode, session: Any) -> tuple[Any, Any, int]:
        client, server, server_ns = self._resume13_pair(mode, session)
        # The client reports resumed only when the ServerHello selected its ticket's PSK.
        if client.version != (3, 4) or not client.resumed:
            raise BenchError(f"tlslite TLS 1.3 {mode}: client version {client.version} resumed={client.resumed}")
        if (client.ecdhCurve is None) != (mode == "psk_ke"):
            raise BenchError(f"tlslite TLS 1.3 {mode}: key exchange group {client.ecdhCurve}")
        return client, server, server_ns

    def resume13_op(self, mode: Resume13Mode) -> Operation:
        newest = [self._resume13_pair(mode, None)[0].session]

        def op() -> int:
            client, _, server_ns = self._resume13_checked(mode, newest[0])
            newest[0] = client.session  # the next handshake offers this connection's ticket
            return int(server_ns)

        return op

    def describe_resume13(self, mode: Resume13Mode) -> str:
        client, _, _ = self._resume13_checked(mode, self._resume13_pair(mode, None)[0].session)
        from tlslite.constants import GroupName

        group = GroupName.toStr(client.ecdhCurve) if client.ecdhCurve is not None else "-"
        return f"TLSv1.3 {client.getCipherName()} ({client.getCipherImplementation()}) {group} (resumed, {mode})"

    def bulk_pair(self) -> BulkPair:
        client, server, _ = self._pair("ecdsa-p256")
        return _TlsliteBulk(client, server)

    # --- loopback
    def loopback_server(self, key_type: str) -> ServeOne:
        chain, key = self.credentials[key_type]
        settings = self.settings

        def serve_one(conn: socket.socket) -> Callable[[], None]:
            tls = TLSConnection(conn)
            tls.handshakeServer(certChain=chain, privateKey=key, settings=settings)
            if tls.read(max=1, min=1) != b"x":
                raise BenchError("tlslite server: bad request byte")
            return lambda: tls.write(b"y")

        return serve_one

    def loopback_client(self) -> ClientOne:
        settings = self.settings

        def client_one(sock: socket.socket) -> None:
            tls = TLSConnection(sock)
            tls.handshakeClientCert(settings=settings, serverName=SERVER_NAME)
            tls.write(b"x")
            if tls.read(max=1, min=1) != b"y":
                raise BenchError("tlslite client: bad reply byte")

        return client_one


def _mem_pair(
    client_settings: Any,
    server_settings: Any,
    chain: Any,
    key: Any,
    *,
    session: Any = None,
    cache: Any = None,
) -> tuple[Any, Any, int]:
    """A client and a server handshaking over memory; returns both and the server CPU ns."""
    client_sock, server_sock = _MemorySocket.pair()
    client = TLSConnection(client_sock)
    client_gen = client.handshakeClientCert(
        settings=client_settings, serverName=SERVER_NAME, session=session, async_=True
    )
    t0 = time.thread_time_ns()
    server = TLSConnection(server_sock)
    server_gen = server.handshakeServerAsync(
        certChain=chain, privateKey=key, settings=server_settings, sessionCache=cache
    )
    server_ns = time.thread_time_ns() - t0
    client_done = server_done = False
    for _ in range(MAX_STEPS):
        if not client_done:
            client_done = _run_until_blocked(client_gen)
        if not server_done:
            t0 = time.thread_time_ns()
            server_done = _run_until_blocked(server_gen)
            server_ns += time.thread_time_ns() - t0
        if client_done and server_done:
            return client, server, server_ns
    raise BenchError("tlslite in-memory handshake did not finish")


class _MemorySocket:
    """Half of an in-memory byte pipe with the socket methods tlslite-ng uses."""

    def __init__(self) -> None:
        self.inbox = bytearray()
        self.peer: _MemorySocket = self

    @classmethod
    def pair(cls) -> tuple[_MemorySocket, _MemorySocket]:
        a, b = cls(), cls()
        a.peer, b.peer = b, a
        return a, b

    def send(self, data: bytes) -> int:
        self.peer.inbox += data
        return len(data)

    def sendall(self, data: bytes) -> None:
        self.peer.inbox += data

    def recv(self, bufsize: int) -> bytes:
        if not self.inbox:
            raise BlockingIOError(errno.EWOULDBLOCK, "in-memory pipe is empty")
        data = bytes(self.inbox[:bufsize])
        del self.inbox[:bufsize]
        return data

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 0)

    getpeername = getsockname

    def settimeout(self, value: float | None) -> None:
        pass

    def gettimeout(self) -> float | None:
        return None

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        pass


def _run_until_blocked(gen: Generator[Any, None, None]) -> bool:
    """Advance a tlslite handshake generator until it wants to read (False) or finishes (True)."""
    for _ in range(MAX_GENERATOR_STEPS):
        try:
            result = next(gen)
        except StopIteration:
            return True
        if result == 0:
            return False
    raise BenchError("tlslite generator did not block or finish")


def _read_exactly(conn: Any, n: int) -> bytes:
    for result in conn.readAsync(max=n, min=n):
        if result in (0, 1):
            raise BenchError("tlslite bulk read stalled")
        return bytes(result)
    raise BenchError("tlslite bulk read ended without data")


class _TlsliteBulk(BulkPair):
    def __init__(self, client: Any, server: Any) -> None:
        self.client, self.server = client, server

    def client_to_server(self, chunk: bytes) -> int:
        self.client.write(chunk)
        _check(len(_read_exactly(self.server, len(chunk))), len(chunk))
        return 0

    def server_to_client(self, chunk: bytes) -> int:
        self.server.write(chunk)
        _check(len(_read_exactly(self.client, len(chunk))), len(chunk))
        return 0


def _check(got: int, want: int) -> None:
    if got != want:
        raise BenchError(f"tlslite bulk: received {got} of {want} bytes")


def _settings() -> Any:
    settings = HandshakeSettings()
    settings.minVersion = (3, 4)
    settings.maxVersion = (3, 4)
    settings.versions = [(3, 4)]
    settings.cipherNames = ["aes128gcm"]
    settings.eccCurves = ["x25519"]
    settings.keyShares = ["x25519"]
    settings.dhGroups = []
    # rsa_pss_rsae_sha256, as the other stacks pick (tlslite-ng's own default order picks sha512)
    settings.rsaSigHashes = ["sha256"]
    settings.ticket_count = 0  # no session tickets (none are sent without ticketKeys either)
    return settings


def _tls12_settings(*, tickets: bool) -> Any:
    settings = HandshakeSettings()
    settings.minVersion = (3, 3)
    settings.maxVersion = (3, 3)
    settings.versions = [(3, 3)]
    settings.cipherNames = ["aes128gcm"]
    settings.keyExchangeNames = ["ecdhe_ecdsa"]
    # X25519 for the key exchange; P-256 is offered too, for the ECDSA P-256 certificate (RFC 8422 §5.1)
    settings.eccCurves = ["x25519", "secp256r1"]
    settings.keyShares = ["x25519"]
    settings.dhGroups = []
    settings.ecdsaSigHashes = ["sha256"]  # ecdsa_secp256r1_sha256, as the other stacks pick
    if tickets:  # RFC 5077 tickets (at most one per TLS 1.2 handshake)
        settings.ticketKeys = [bytearray(os.urandom(32))]
        settings.ticket_count = 1
    else:
        settings.ticket_count = 0
    return settings


def _version() -> str:
    from importlib.metadata import version

    try:
        return version("tlslite-ng")
    except Exception:
        return "?"
