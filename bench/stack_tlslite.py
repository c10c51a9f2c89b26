"""tlslite-ng: TLSConnection over an in-memory transport, its async generators stepped in turn.

tlslite-ng drives I/O through generators that yield 0 when a ``recv`` would block. The
in-memory transport below raises EWOULDBLOCK when its inbox is empty, so both sides are
stepped from one thread with no sockets and no threads, and the server's CPU is measured
with ``time.thread_time_ns`` around the server generator's steps only.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable, Generator
from typing import Any

from tlslite.api import (  # type: ignore[import-untyped]
    HandshakeSettings,
    TLSConnection,
    X509CertChain,
    parsePEMKey,
)
from tlslite.utils import cryptomath  # type: ignore[import-untyped]

from bench.common import MAX_STEPS, BenchError, BulkPair, ClientOne, ServeOne, Stack
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
        return [f"tlslite: tlslite-ng {_version()} with {crypto}; client does no certificate validation"]

    # --- in-process
    def _pair(self, key_type: str) -> tuple[Any, Any, int]:
        client_sock, server_sock = _MemorySocket.pair()
        client = TLSConnection(client_sock)
        client_gen = client.handshakeClientCert(settings=self.settings, serverName=SERVER_NAME, async_=True)
        chain, key = self.credentials[key_type]
        t0 = time.thread_time_ns()
        server = TLSConnection(server_sock)
        server_gen = server.handshakeServerAsync(certChain=chain, privateKey=key, settings=self.settings)
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


def _version() -> str:
    from importlib.metadata import version

    try:
        return version("tlslite-ng")
    except Exception:
        return "?"
