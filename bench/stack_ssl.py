"""Python's ``ssl`` (OpenSSL): SSLObject over MemoryBIO in-process, SSLSocket on loopback."""

from __future__ import annotations

import ctypes
import socket
import ssl
import time
from collections.abc import Callable

from bench.common import (
    MAX_STEPS,
    RESUME13_KEY_TYPE,
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
    recv_exactly,
)
from bench.harness import Operation
from bench.pki import SERVER_NAME

TLS13_SUITE = b"TLS_AES_128_GCM_SHA256"
TLS12_CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"


class SslStack(Stack):
    name = "ssl"

    def __init__(self, pki: object) -> None:
        super().__init__(pki)  # type: ignore[arg-type]
        self._suite_pinned = True
        self.client_ctx = self._context(ssl.PROTOCOL_TLS_CLIENT)
        self.client_ctx.load_verify_locations(cafile=self.pki.ca_path)
        self.server_ctx: dict[str, ssl.SSLContext] = {}
        for key_type, cert in self.pki.certs.items():
            ctx = self._context(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert.cert_path, cert.key_path)
            ctx.num_tickets = 0  # full handshakes only; no NewSessionTicket cost
            self.server_ctx[key_type] = ctx
        # TLS 1.2: OpenSSL's default groups (X25519 first; P-256 must be offered for the P-256 certificate:
        # ``ssl`` can only set a single curve). Tickets unless OP_NO_TICKET; then session IDs, through
        # the server context's internal session cache (on by default).
        self.tls12_client_ctx = _tls12_context(ssl.PROTOCOL_TLS_CLIENT)
        self.tls12_client_ctx.load_verify_locations(cafile=self.pki.ca_path)
        self.tls12_server_ctx: dict[Tls12Mode, ssl.SSLContext] = {}
        cert = self.pki.certs[TLS12_KEY_TYPE]
        for mode in ("full", "ticket", "session-id"):
            ctx = _tls12_context(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert.cert_path, cert.key_path)
            if mode != "ticket":
                ctx.options |= ssl.OP_NO_TICKET
            self.tls12_server_ctx[mode] = ctx
        # TLS 1.3 resumption: row 1's server with one (stateless) ticket per handshake.
        self.resume13_server_ctx = self._context(ssl.PROTOCOL_TLS_SERVER)
        cert = self.pki.certs[RESUME13_KEY_TYPE]
        self.resume13_server_ctx.load_cert_chain(cert.cert_path, cert.key_path)
        self.resume13_server_ctx.num_tickets = 1

    def _context(self, protocol: ssl._SSLMethod) -> ssl.SSLContext:
        ctx = ssl.SSLContext(protocol)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.set_ecdh_curve("X25519")
        self._suite_pinned = _pin_tls13_suite(ctx) and self._suite_pinned
        return ctx

    def notes(self) -> list[str]:
        notes = [
            f"ssl: {ssl.OPENSSL_VERSION}; server num_tickets=0 (1 in the resumed rows); client verifies chain "
            "+ hostname",
            "ssl TLS 1.2: OpenSSL's default groups; session IDs via OP_NO_TICKET and the server context's "
            "own cache; the server sends close_notify after each TLS 1.2 handshake (untimed), or OpenSSL "
            "drops the session from its cache",
        ]
        if not self._suite_pinned:
            notes.append("ssl: could not pin TLS_AES_128_GCM_SHA256 (ctypes); OpenSSL default suite used")
        return notes

    # --- in-process
    def _pair(self, key_type: str) -> tuple[_MemEnd, _MemEnd, int]:
        return _mem_pair(self.client_ctx, self.server_ctx[key_type])

    def handshake_op(self, key_type: str) -> Operation:
        def op() -> int:
            return self._pair(key_type)[2]

        return op

    def describe(self, key_type: str) -> str:
        """One handshake with a message callback on the client, to read the group and signature scheme."""
        messages: dict[int, bytes] = {}

        def record(
            conn: object, direction: str, version: object, content_type: int, msg_type: int, data: bytes
        ) -> None:
            if direction == "read" and content_type == 22:
                messages[int(msg_type)] = bytes(data)

        self.client_ctx._msg_callback = record  # type: ignore[attr-defined]
        try:
            client, _, _ = self._pair(key_type)
        finally:
            self.client_ctx._msg_callback = None  # type: ignore[attr-defined]
        version, cipher = client.obj.version(), client.obj.cipher()
        if version != "TLSv1.3":
            raise BenchError(f"ssl negotiated {version}")
        group, scheme = (
            _server_hello_group(messages.get(2, b"")),
            _certificate_verify_scheme(messages.get(15, b"")),
        )
        return f"{version} {cipher[0] if cipher else '?'} {group} {scheme}"

    # --- in-process TLS 1.2
    def _tls12_session(self, mode: Tls12Mode) -> ssl.SSLSession | None:
        """The session the resumed rows offer: from one full handshake with that row's server."""
        if mode == "full":
            return None
        client, server, _ = _mem_pair(self.tls12_client_ctx, self.tls12_server_ctx[mode])
        _send_close_notify(server)
        session = client.obj.session
        if session is None:
            raise BenchError(f"ssl TLS 1.2 ({mode}): the full handshake left no session")
        if mode == "ticket" and not session.has_ticket:
            raise BenchError("ssl TLS 1.2: the server sent no session ticket")
        if mode == "session-id" and (session.has_ticket or not session.id):
            raise BenchError("ssl TLS 1.2: expected a session ID and no ticket")
        return session

    def _tls12_pair(self, mode: Tls12Mode, session: ssl.SSLSession | None) -> tuple[_MemEnd, _MemEnd, int]:
        client, server, server_ns = _mem_pair(self.tls12_client_ctx, self.tls12_server_ctx[mode], session)
        _send_close_notify(server)  # untimed; without it OpenSSL drops the session from its cache on free
        want = mode != "full"
        for side, end in (("client", client), ("server", server)):
            version, reused = end.obj.version(), end.obj.session_reused
            if version != "TLSv1.2" or reused != want:
                raise BenchError(
                    f"ssl TLS 1.2 {mode}: {side} {version} session_reused={reused}, expected {want}"
                )
        return client, server, server_ns

    def tls12_op(self, mode: Tls12Mode) -> Operation:
        session = self._tls12_session(mode)

        def op() -> int:
            return self._tls12_pair(mode, session)[2]

        return op

    def describe_tls12(self, mode: Tls12Mode) -> str:
        """One checked handshake, with a message callback on the client for the group and signature scheme."""
        session = self._tls12_session(mode)
        messages: dict[int, bytes] = {}

        def record(
            conn: object, direction: str, version: object, content_type: int, msg_type: int, data: bytes
        ) -> None:
            if direction == "read" and content_type == 22:
                messages[int(msg_type)] = bytes(data)

        self.tls12_client_ctx._msg_callback = record  # type: ignore[attr-defined]
        try:
            client, _, _ = self._tls12_pair(mode, session)
        finally:
            self.tls12_client_ctx._msg_callback = None  # type: ignore[attr-defined]
        cipher = client.obj.cipher()
        if mode == "full":
            group, scheme = _server_key_exchange_params(messages.get(12, b""))
        else:
            group = scheme = "-"  # no key exchange when resuming
            if 12 in messages or 11 in messages:
                raise BenchError(
                    "ssl TLS 1.2: a resumed handshake carried a Certificate or ServerKeyExchange"
                )
        how = TLS12_HOW[mode]
        return f"{client.obj.version()} {cipher[0] if cipher else '?'} {group} {scheme} ({how})"

    # --- in-process TLS 1.3 resumption
    def _resume13_pair(self, session: ssl.SSLSession | None) -> tuple[_MemEnd, _MemEnd, int]:
        """One handshake offering ``session``; the client then reads the server's NewSessionTicket."""
        client, server, server_ns = _mem_pair(self.client_ctx, self.resume13_server_ctx, session)
        try:  # a TLS 1.3 client takes in the ticket on its first read (untimed: client side)
            client.obj.read(1)
        except ssl.SSLWantReadError:
            pass
        return client, server, server_ns

    def _resume13_checked(self, session: ssl.SSLSession) -> tuple[_MemEnd, _MemEnd, int]:
        client, server, server_ns = self._resume13_pair(session)
        for side, end in (("client", client), ("server", server)):
            version, reused = end.obj.version(), end.obj.session_reused
            if version != "TLSv1.3" or not reused:
                raise BenchError(f"ssl TLS 1.3 psk_dhe_ke: {side} {version} session_reused={reused}")
        newest = client.obj.session
        if newest is None or not newest.has_ticket or newest.id == session.id:
            raise BenchError("ssl TLS 1.3 psk_dhe_ke: the resumed handshake brought no new ticket")
        return client, server, server_ns

    def _resume13_first(self) -> ssl.SSLSession:
        client, _, _ = self._resume13_pair(None)
        session = client.obj.session
        if session is None or not session.has_ticket:
            raise BenchError("ssl TLS 1.3: the full handshake left no ticket")
        return session

    def _resume13_mode(self, mode: Resume13Mode) -> None:
        if mode == "psk_ke":
            raise Unsupported(
                "ssl cannot do psk_ke (OpenSSL's SSL_OP_ALLOW_NO_DHE_KEX is not reachable from Python's ssl); "
                "its psk_dhe_ke row is the reference"
            )
        if mode == "0rtt":
            raise Unsupported("ssl (Python 3.11) has no 0-RTT API")

    def resume13_op(self, mode: Resume13Mode) -> Operation:
        self._resume13_mode(mode)
        newest = [self._resume13_first()]

        def op() -> int:
            client, _, server_ns = self._resume13_checked(newest[0])
            session = client.obj.session
            assert session is not None  # checked by _resume13_checked
            newest[0] = session  # the next handshake offers this connection's ticket
            return server_ns

        return op

    def describe_resume13(self, mode: Resume13Mode) -> str:
        self._resume13_mode(mode)
        messages: dict[int, bytes] = {}

        def record(
            conn: object, direction: str, version: object, content_type: int, msg_type: int, data: bytes
        ) -> None:
            if direction == "read" and content_type == 22:
                messages[int(msg_type)] = bytes(data)

        session = self._resume13_first()
        self.client_ctx._msg_callback = record  # type: ignore[attr-defined]
        try:
            client, _, _ = self._resume13_checked(session)
        finally:
            self.client_ctx._msg_callback = None  # type: ignore[attr-defined]
        if 11 in messages or 15 in messages:
            raise BenchError("ssl TLS 1.3: a resumed handshake carried a Certificate or CertificateVerify")
        cipher = client.obj.cipher()
        group = _server_hello_group(messages.get(2, b""))
        return f"{client.obj.version()} {cipher[0] if cipher else '?'} {group} (resumed, {mode})"

    def bulk_pair(self) -> BulkPair:
        client, server, _ = self._pair("ecdsa-p256")
        return _SslBulk(client, server)

    # --- loopback
    def loopback_server(self, key_type: str) -> ServeOne:
        ctx = self.server_ctx[key_type]

        def serve_one(conn: socket.socket) -> Callable[[], None]:
            tls = ctx.wrap_socket(conn, server_side=True)  # handshakes on wrap
            recv_exactly(tls, 1)
            return lambda: tls.sendall(b"y")

        return serve_one

    def loopback_client(self) -> ClientOne:
        ctx = self.client_ctx

        def client_one(sock: socket.socket) -> None:
            tls = ctx.wrap_socket(sock, server_hostname=SERVER_NAME)
            tls.sendall(b"x")
            recv_exactly(tls, 1)

        return client_one


class _MemEnd:
    __slots__ = ("incoming", "outgoing", "obj", "done")

    def __init__(
        self, ctx: ssl.SSLContext, *, server_side: bool, session: ssl.SSLSession | None = None
    ) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        hostname = None if server_side else SERVER_NAME
        self.obj = ctx.wrap_bio(
            self.incoming, self.outgoing, server_side=server_side, server_hostname=hostname, session=session
        )
        self.done = False

    def step(self, data: bytes) -> bytes:
        if data:
            self.incoming.write(data)
        if not self.done:
            try:
                self.obj.do_handshake()
                self.done = True
            except ssl.SSLWantReadError:
                pass
        return self.outgoing.read()


def _mem_pair(
    client_ctx: ssl.SSLContext, server_ctx: ssl.SSLContext, session: ssl.SSLSession | None = None
) -> tuple[_MemEnd, _MemEnd, int]:
    """A client and a server handshaking over memory; returns both ends and the server CPU ns."""
    client = _MemEnd(client_ctx, server_side=False, session=session)
    t0 = time.thread_time_ns()
    server = _MemEnd(server_ctx, server_side=True)
    server_ns = time.thread_time_ns() - t0
    server_ns += _handshake(client, server)
    return client, server, server_ns


def _handshake(client: _MemEnd, server: _MemEnd) -> int:
    """Step both ends over memory until both finish; returns server CPU ns."""
    server_ns = 0
    to_server = client.step(b"")
    for _ in range(MAX_STEPS):
        t0 = time.thread_time_ns()
        to_client = server.step(to_server)
        server_ns += time.thread_time_ns() - t0
        to_server = client.step(to_client)
        if client.done and server.done and not to_server:
            return server_ns
    raise BenchError("ssl in-memory handshake did not finish")


def _send_close_notify(end: _MemEnd) -> None:
    """SSL_shutdown: send close_notify (not waiting for the peer's).

    OpenSSL removes a session from the server's cache when its connection is freed without a
    shutdown (RFC 5246 §7.2.1), which would defeat session-ID resumption.
    """
    try:
        end.obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    end.outgoing.read()


class _SslBulk(BulkPair):
    def __init__(self, client: _MemEnd, server: _MemEnd) -> None:
        self.client, self.server = client, server

    def client_to_server(self, chunk: bytes) -> int:
        _transfer(self.client, self.server, chunk)
        return 0

    def server_to_client(self, chunk: bytes) -> int:
        _transfer(self.server, self.client, chunk)
        return 0


def _transfer(sender: _MemEnd, receiver: _MemEnd, chunk: bytes) -> None:
    sender.obj.write(chunk)
    receiver.incoming.write(sender.outgoing.read())
    got = 0
    for _ in range(MAX_STEPS):
        try:
            got += len(receiver.obj.read(65536))
        except ssl.SSLWantReadError:
            break
        if got >= len(chunk):
            break
    if got != len(chunk):
        raise BenchError(f"ssl bulk: received {got} of {len(chunk)} bytes")


def _tls12_context(protocol: ssl._SSLMethod) -> ssl.SSLContext:
    ctx = ssl.SSLContext(protocol)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHER)
    return ctx


def _pin_tls13_suite(ctx: ssl.SSLContext) -> bool:
    """Restrict TLS 1.3 suites to AES-128-GCM; ``ssl`` has no API for it, so call OpenSSL via ctypes.

    The SSL_CTX pointer is the first field after the object header of CPython's PySSLContext;
    it is used only after SSL_CTX_get_options() through it agrees with ``ctx.options``.
    """
    try:
        import _ssl

        lib = ctypes.CDLL(_ssl.__file__)
        get_options = lib.SSL_CTX_get_options
        get_options.argtypes, get_options.restype = [ctypes.c_void_p], ctypes.c_uint64
        set_suites = lib.SSL_CTX_set_ciphersuites
        set_suites.argtypes, set_suites.restype = [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int
        pointer = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
        if pointer is None or get_options(pointer) != int(ctx.options):
            return False
        return bool(set_suites(pointer, TLS13_SUITE) == 1)
    except (AttributeError, OSError, ImportError):
        return False


def _server_hello_group(message: bytes) -> str:
    """The key_share group of a TLS 1.3 ServerHello (handshake header included)."""
    from handclasp.wire.enums import NamedGroup

    try:
        at = 4 + 2 + 32
        at += 1 + message[at] + 2 + 1  # legacy_session_id_echo, cipher_suite, compression
        end = at + 2 + int.from_bytes(message[at : at + 2], "big")
        at += 2
        while at + 4 <= end:
            ext_type = int.from_bytes(message[at : at + 2], "big")
            length = int.from_bytes(message[at + 2 : at + 4], "big")
            if ext_type == 51:  # key_share
                return NamedGroup(int.from_bytes(message[at + 4 : at + 6], "big")).name
            at += 4 + length
    except (IndexError, ValueError):
        pass
    return "?"


def _certificate_verify_scheme(message: bytes) -> str:
    from handclasp.wire.enums import SignatureScheme

    if len(message) < 6:
        return "?"
    return SignatureScheme(int.from_bytes(message[4:6], "big")).name


def _server_key_exchange_params(message: bytes) -> tuple[str, str]:
    """(group, signature scheme) of a TLS 1.2 ECDHE ServerKeyExchange (handshake header included)."""
    from handclasp.wire.enums import NamedGroup, SignatureScheme

    try:
        if message[4] != 3:  # ECCurveType named_curve
            return "?", "?"
        group = NamedGroup(int.from_bytes(message[5:7], "big")).name
        at = 7 + 1 + message[7]  # the ECPoint
        return group, SignatureScheme(int.from_bytes(message[at : at + 2], "big")).name
    except (IndexError, ValueError):
        return "?", "?"
