"""ClientConnection and ServerConnection: how each side starts, and the verbs only one side has.

The shared machinery (phases, record routing, dispatch, the error boundary) is
``connection.Connection``; this module adds the client's session lookup, start_handshake
and 0-RTT writes, and the server's post-handshake CertificateRequest.
"""

from __future__ import annotations

import functools

from handclasp.common.context import HandshakeContext
from handclasp.common.traffic import Traffic
from handclasp.config import ClientConfig, ServerConfig
from handclasp.connection import Connection, Phase
from handclasp.errors import ApiMisuse
from handclasp.events import Event
from handclasp.keylog import KeyLogWriter
from handclasp.sessions.cache import ClientSession
from handclasp.wire.enums import ProtocolVersion


class ClientConnection(Connection):
    """A TLS client. ``port`` (with ``config.session_cache``) keys resumable sessions by
    (server_name, port); ``session`` offers one explicitly (from another connection's ``.session``)."""

    def __init__(
        self,
        config: ClientConfig,
        server_name: str | None = None,
        *,
        port: int | None = None,
        session: ClientSession | None = None,
    ) -> None:
        from handclasp.client.hello import ExpectStart

        keylog = _keylog_for(config.keylog_filename)
        ctx = HandshakeContext(is_client=True, provider=config.provider, keylog=keylog)
        self._cache_key = (server_name, port) if server_name and port is not None else None
        if session is None and config.session_cache is not None and self._cache_key is not None:
            session = config.session_cache.get(self._cache_key, config.provider.now())
            if session is not None and session.session.version == ProtocolVersion.TLS1_3:
                # RFC 8446 §C.4: a TLS 1.3 ticket is offered once; this connection's tickets replace it.
                config.session_cache.remove(self._cache_key)
        super().__init__(
            ctx,
            ExpectStart(config=config, server_name=server_name, session=session),
            padding_block=config.record_padding_block,
            max_handshake_message=config.max_handshake_message_size,
        )
        self._config = config
        self._started = False

    def start_handshake(self) -> list[Event]:
        """Queue the ClientHello; returns the events it caused (the sent ClientHello)."""
        if self._started:
            raise ApiMisuse("start_handshake() was already called")
        self._started = True
        from handclasp.client.hello import ExpectStart

        state = self._state
        assert isinstance(state, ExpectStart)
        with self._boundary():
            self._state = state.start(self._ctx, self)
            self._flush_handshake()
        return self._take_events()

    @property
    def early_data_limit(self) -> int:
        """Bytes of 0-RTT data ``send_early_data`` still accepts (RFC 8446 §4.2.10): 0 unless
        ``enable_early_data`` is on and a ticket that allows early data was offered, and 0 again
        once the server refused it or the handshake is over. Valid after ``start_handshake()``."""
        if not self._started or self._phase is not Phase.HANDSHAKING or self._we_closed:
            return 0
        return self._ctx.early_data_limit

    def send_early_data(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` as 0-RTT data, under client_early_traffic_secret (RFC 8446 §2.3).

        Only between ``start_handshake()`` and the end of the handshake, while 0-RTT is on
        offer and at most ``early_data_limit`` bytes (else ApiMisuse; nothing is sent). Early
        data can be replayed by an attacker (RFC 8446 §8); if the server refuses it
        (``EarlyDataRejected``), resend what matters with ``send_application_data``.
        """
        self._raise_if_failed()
        limit = self.early_data_limit
        if limit == 0:
            raise ApiMisuse("0-RTT data is not on offer on this connection (any more)")
        if type(data) is not bytes:
            data = memoryview(data).cast("B")  # len() counts bytes
        if len(data) > limit:
            raise ApiMisuse(f"{len(data)} bytes exceed the {limit} bytes of 0-RTT data still allowed")
        if not data:
            return
        with self._boundary():
            self._ctx.early_data_limit = limit - len(data)
            self._write_application_data(data)

    def remember_session(self, session: ClientSession) -> None:
        super().remember_session(session)
        if self._config.session_cache is not None and self._cache_key is not None:
            self._config.session_cache.put(self._cache_key, session)

    def receive_bytes(self, data: bytes | bytearray | memoryview) -> list[Event]:
        if not self._started:
            raise ApiMisuse("call start_handshake() first")
        return super().receive_bytes(data)


class ServerConnection(Connection):
    def __init__(self, config: ServerConfig) -> None:
        from handclasp.server.hello import ExpectClientHello

        keylog = _keylog_for(config.keylog_filename)
        ctx = HandshakeContext(is_client=False, provider=config.provider, keylog=keylog)
        super().__init__(
            ctx,
            ExpectClientHello(config=config),
            padding_block=config.record_padding_block,
            max_handshake_message=config.max_handshake_message_size,
        )
        self._config = config

    def request_client_certificate(self) -> list[Event]:
        """Ask the client for a certificate after the handshake (RFC 8446 §4.6.2).

        Needs TLS 1.3 and a client that offered post_handshake_auth (else ApiMisuse). The answer
        arrives as a ``PeerCertificateReceived`` event from ``receive_bytes``.
        """
        from handclasp.server.tls13 import request_client_certificate

        self._raise_if_failed()
        state = self._state
        if self._phase is not Phase.TRAFFIC or self._we_closed or not isinstance(state, Traffic):
            raise ApiMisuse("request_client_certificate needs an established, open TLS 1.3 connection")
        if not self._ctx.post_handshake_auth:
            # RFC 8446 §4.6.2: servers MUST NOT send a post-handshake CertificateRequest without the extension.
            raise ApiMisuse("the client did not offer post_handshake_auth")
        with self._boundary():
            self._state = request_client_certificate(self._ctx, self._config, state, self)
            self._flush_handshake()
        return self._take_events()


@functools.lru_cache(maxsize=16)
def _cached_keylog(path: str) -> KeyLogWriter:
    return KeyLogWriter(path)


def _keylog_for(path: str | None) -> KeyLogWriter | None:
    """One writer per key log file, shared by all connections that name it."""
    return _cached_keylog(path) if path else None
