"""Connection: the sans-I/O façade both sides share, and the one error boundary.

Bytes go in through ``receive_bytes`` and come out of ``data_to_send``; events are
returned, never called back.  This module owns the connection phase table
(Handshaking → Traffic → Closed, Failed from anywhere), routes records by content
type, dispatches handshake messages to the current state after checking its
``expects``, and is the only place that sends a fatal alert.  The two sides,
ClientConnection and ServerConnection, are in ``endpoints.py``.
"""

from __future__ import annotations

import dataclasses
import enum

from handclasp.common.context import HandshakeContext, ReadsEarlyData, State
from handclasp.common.limits import TemperCounters
from handclasp.common.traffic import Traffic
from handclasp.crypto import prf12
from handclasp.crypto.schedule13 import export_keying_material
from handclasp.crypto.suites import SuiteParams
from handclasp.errors import (
    AlertReceived,
    ApiMisuse,
    ConnectionClosed,
    InternalError,
    Misbehaviour,
    PeerMisbehaved,
    TLSError,
    UnexpectedMessage,
)
from handclasp.events import (
    ApplicationData,
    CloseNotify,
    Direction,
    Event,
    HandshakeComplete,
    HandshakeMessage,
)
from handclasp.negotiated import Negotiated
from handclasp.record.layer import RecordLayer
from handclasp.record.protection12 import Protection12
from handclasp.sessions.cache import ClientSession
from handclasp.wire.enums import AlertDescription, AlertLevel, ContentType, HandshakeType, ProtocolVersion
from handclasp.wire.handshake import HandshakeJoiner, KeyUpdate, Message, decode_message, encode_message
from handclasp.wire.handshake12 import ChangeCipherSpec, HelloRequest, Message12, decode_message12


class Phase(enum.Enum):
    HANDSHAKING = "handshaking"
    TRAFFIC = "traffic"
    CLOSED = "closed"
    FAILED = "failed"


# The only legal phase changes; nothing else assigns a phase.
_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.HANDSHAKING: frozenset({Phase.TRAFFIC, Phase.CLOSED, Phase.FAILED}),
    Phase.TRAFFIC: frozenset({Phase.CLOSED, Phase.FAILED}),
    Phase.CLOSED: frozenset({Phase.FAILED}),
    Phase.FAILED: frozenset(),
}

# RFC 8446 §4.2.10: how much refused 0-RTT data a server skips before calling it an attack.
MAX_SKIPPED_EARLY_DATA = 2**16

_EARLY_RECORD_OVERHEAD = 5 + 1 + 16 + 256  # header, inner type, AEAD tag, padding slack per record

_CLOSE_NOTIFY = bytes((AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY))

# Enum members as constants for the per-record path (an Enum attribute lookup costs ~0.15 µs on 3.11).
_TRAFFIC = Phase.TRAFFIC
_APPLICATION_DATA = ContentType.APPLICATION_DATA
_HANDSHAKE = ContentType.HANDSHAKE


def _application_data(data: bytes) -> ApplicationData:
    """``ApplicationData(data)`` for the per-record path: a frozen dataclass's generated __init__
    (``object.__setattr__`` via a closure) costs ~0.5 µs; this sets the one slot directly."""
    event = _new_event(ApplicationData)
    _set_event_data(event, data)
    return event


_new_event = object.__new__
_set_event_data = vars(ApplicationData)["data"].__set__  # the slot's member descriptor
# Nothing else to set or check: a new field or a __post_init__ must come through here too.
assert [f.name for f in dataclasses.fields(ApplicationData)] == ["data"]
assert not hasattr(ApplicationData, "__post_init__")


class Connection:
    """Shared machinery of both sides; use ClientConnection or ServerConnection."""

    def __init__(self, ctx: HandshakeContext, state: State, *, padding_block: int, max_handshake_message: int) -> None:
        self._ctx = ctx
        self._state: State = state
        self._phase = Phase.HANDSHAKING
        self._records = RecordLayer(is_client=ctx.is_client)
        self._joiner = HandshakeJoiner(max_handshake_message)
        self._counters = TemperCounters()
        self._outgoing: list[bytes] = []
        self._pending_handshake: list[bytes] = []
        self._events: list[Event] = []
        self._error: TLSError | None = None
        self._negotiated: Negotiated | None = None
        self._padding_block = padding_block
        self._write_limit = 2**14
        self._peer_closed = False
        self._we_closed = False
        self._write_protected = False
        self._session: ClientSession | None = None

    # --- public API -------------------------------------------------------------------------

    @property
    def handshake_complete(self) -> bool:
        return self._negotiated is not None

    @property
    def negotiated(self) -> Negotiated | None:
        return self._negotiated

    @property
    def is_closed(self) -> bool:
        return self._phase in (Phase.CLOSED, Phase.FAILED)

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def peer_closed(self) -> bool:
        return self._peer_closed

    def receive_bytes(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Feed bytes from the transport (b"" means EOF); returns the events they caused."""
        if self._error is not None:  # the per-record path inlines _raise_if_failed and _take_events
            raise self._error
        try:  # the error boundary, as in ``with self._boundary()`` but free when nothing fails
            if not data:
                self._handle_eof()
            elif self._phase is Phase.CLOSED and self._negotiated is None:
                pass  # we gave up on the handshake (close()): its in-flight messages are no one's fault
            elif not self._peer_closed:
                records = self._records
                records.feed(data)
                while not self._peer_closed and (record := records.next_record()) is not None:
                    content_type, payload = record
                    if content_type is _APPLICATION_DATA and payload and self._phase is _TRAFFIC:
                        # Fast path (bulk data): _handle_record's checks and work for this record.
                        if self._joiner.has_pending:  # RFC 8446 §5.1
                            raise PeerMisbehaved(Misbehaviour.INTERLEAVED_HANDSHAKE)
                        self._counters.application_data()
                        self._events.append(_application_data(payload))
                    else:
                        self._handle_record(content_type, payload)
            if self._pending_handshake:
                self._flush_handshake()
        except BaseException as exc:
            self._pipeline_failed(exc)
            raise
        events, self._events = self._events, []
        return events

    def abort(self, error: TLSError) -> None:
        """Fail the connection locally (e.g. a handshake timeout): queue ``error.alert``, then Failed.

        Every later call re-raises ``error``; ``data_to_send()`` still yields the alert.
        """
        if self._error is None:
            self._fail(error)

    def data_to_send(self) -> bytes:
        """Drain the bytes waiting for the transport."""
        if not self._outgoing:
            return b""
        out = b"".join(self._outgoing)
        self._outgoing.clear()
        return out

    def send_application_data(self, data: bytes | bytearray | memoryview) -> None:
        if self._error is not None:  # _raise_if_failed, inlined
            raise self._error
        if self._phase is not _TRAFFIC or self._we_closed:
            raise ApiMisuse(f"cannot send application data while {self._phase.value}")
        try:  # the error boundary, as in ``with self._boundary()`` but free when nothing fails
            if type(data) is not bytes:
                data = memoryview(data).cast("B")  # len() counts bytes
            if self._padding_block:
                self._write_application_data(data)
            else:  # fast path (bulk data)
                self._outgoing.append(self._records.encode(_APPLICATION_DATA, data))
        except BaseException as exc:
            self._pipeline_failed(exc)
            raise

    def close(self) -> None:
        """Queue close_notify (RFC 8446 §6.1). Reading may go on until the peer closes."""
        if self._phase is Phase.FAILED or self._we_closed:
            return
        self._we_closed = True
        self._flush_handshake()
        self._outgoing.append(self._records.encode(ContentType.ALERT, _CLOSE_NOTIFY))
        if self._phase is Phase.HANDSHAKING or self._peer_closed:
            self._set_phase(Phase.CLOSED)

    def key_update(self, request_peer: bool = True) -> list[Event]:
        """Send KeyUpdate and switch our write key (RFC 8446 §4.6.3); returns the events it caused."""
        self._raise_if_failed()
        if self._phase is not Phase.TRAFFIC or self._we_closed or not isinstance(self._state, Traffic):
            raise ApiMisuse("key_update needs an established, open connection")
        with self._boundary():
            self._state = self._state.update_own_keys(self, request_peer=request_peer)
            self._flush_handshake()
        return self._take_events()

    def export_keying_material(self, label: bytes, context: bytes | None, length: int) -> bytes:
        """Keying material for ``label`` (RFC 5705; RFC 8446 §7.5), after the handshake.

        In TLS 1.3 a None context is the same as b""; in TLS 1.2 it is not (RFC 5705 §4), and
        TLS 1.2 exports need the extended master secret (RFC 7627 §5.4).
        """
        negotiated = self._negotiated
        if negotiated is None:
            raise ApiMisuse("keying material can be exported only after the handshake")
        if negotiated.version >= ProtocolVersion.TLS1_3:
            assert self._ctx.params is not None
            return export_keying_material(
                self._ctx.params, self._ctx.exporter_master_secret, label, context or b"", length
            )
        if not negotiated.extended_master_secret or self._ctx.exporter12 is None:
            raise ApiMisuse("TLS 1.2 keying material export needs the extended master secret (RFC 7627 §5.4)")
        prf_hash, master_secret, randoms = self._ctx.exporter12
        seed = randoms if context is None else randoms + len(context).to_bytes(2, "big") + context
        return prf12.prf(prf_hash, master_secret, label, seed, length)

    # --- Output port, used by states ----------------------------------------------------------

    def send(self, msg: Message | Message12) -> bytes:
        raw = encode_message(msg)  # type: ignore[arg-type]  # TLS 1.2 messages share TYPE and encode()
        self._pending_handshake.append(raw)
        self._events.append(
            HandshakeMessage(
                direction=Direction.SENT,
                msg_type=msg.TYPE,
                message=msg,
                length=len(raw),
                encrypted=self._write_protected,
            )
        )
        return raw

    def send_dummy_change_cipher_spec(self) -> None:
        # RFC 8446 §D.4: an unprotected CCS record, sent before the write keys change.
        self._flush_handshake()
        self._outgoing.append(self._records.encode(ContentType.CHANGE_CIPHER_SPEC, b"\x01"))
        self._events.append(
            HandshakeMessage(direction=Direction.SENT, msg_type=None, message=None, length=1, encrypted=False)
        )

    def send_change_cipher_spec(self) -> None:
        self._flush_handshake()
        self._outgoing.append(self._records.encode(ContentType.CHANGE_CIPHER_SPEC, b"\x01"))
        self._events.append(
            HandshakeMessage(
                direction=Direction.SENT, msg_type=None, message=ChangeCipherSpec(), length=1,
                encrypted=self._write_protected,
            )
        )

    def set_read_protection12(self, protection: Protection12, version: ProtocolVersion) -> None:
        # RFC 5246 §7.1 (and RFC 8446 §5.1's rule, which OpenSSL applies to 1.2 too): no message spans it.
        if self._joiner.has_pending:
            raise PeerMisbehaved(Misbehaviour.HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE)
        self._records.set_read_protection12(protection, version)

    def set_write_protection12(self, protection: Protection12, version: ProtocolVersion) -> None:
        self._flush_handshake()
        self._records.set_write_protection12(protection, version)
        self._write_protected = True

    def send_warning_alert(self, description: AlertDescription) -> None:
        self._flush_handshake()
        self._outgoing.append(self._records.encode(ContentType.ALERT, bytes((AlertLevel.WARNING, description))))

    def remember_session(self, session: ClientSession) -> None:
        self._session = session

    @property
    def session(self) -> ClientSession | None:
        """The resumable session this (client) connection holds, if any: the TLS 1.2 session, or the
        most recent TLS 1.3 ticket (pass it as ``ClientConnection(..., session=...)`` to resume)."""
        return self._session

    def _is_tls12(self) -> bool:
        version = self._ctx.version
        return version is not None and version < ProtocolVersion.TLS1_3

    def set_read_key(self, params: SuiteParams, secret: bytes) -> None:
        # RFC 8446 §5.1: handshake messages must not span a key change.
        if self._joiner.has_pending:
            raise PeerMisbehaved(Misbehaviour.HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE)
        self._records.set_read_key(params, secret)

    def set_write_key(self, params: SuiteParams, secret: bytes) -> None:
        self._flush_handshake()
        self._records.set_write_key(params, secret)
        self._write_protected = True

    def skip_early_data(self, max_early_data_size: int = 0) -> None:
        # Record lengths are counted: allow each record's header, type byte and tag on top.
        overhead = (max_early_data_size // 2**14 + 1) * _EARLY_RECORD_OVERHEAD
        self._records.skip_early_data(max(MAX_SKIPPED_EARLY_DATA, max_early_data_size + overhead))

    def set_write_plaintext(self) -> None:
        self._flush_handshake()
        self._records.clear_write_key()
        self._write_protected = False

    def set_write_record_limit(self, limit: int) -> None:
        self._write_limit = limit
        self._records.set_write_record_limit(limit)

    def emit(self, event: Event) -> None:
        if isinstance(event, HandshakeComplete):
            self._negotiated = event.negotiated
            self._set_phase(Phase.TRAFFIC)
        self._events.append(event)

    def log_secret(self, label: str, secret: bytes) -> None:
        if self._ctx.keylog is not None:
            self._ctx.keylog.log(label, self._ctx.client_random, secret)

    # --- inbound pipeline -------------------------------------------------------------------

    def _handle_record(self, content_type: ContentType, payload: bytes) -> None:
        # RFC 8446 §5.1: handshake messages must not be interleaved with other record types.
        if content_type is not _HANDSHAKE and self._joiner.has_pending:
            raise PeerMisbehaved(Misbehaviour.INTERLEAVED_HANDSHAKE)
        if content_type is _APPLICATION_DATA:
            self._handle_application_data(payload)
        elif content_type is _HANDSHAKE:
            self._handle_handshake(payload)
        elif content_type is ContentType.ALERT:
            self._handle_alert(payload)
        elif content_type is ContentType.CHANGE_CIPHER_SPEC:
            self._handle_change_cipher_spec(payload)
        else:
            raise PeerMisbehaved(Misbehaviour.UNKNOWN_CONTENT_TYPE, str(int(content_type)))

    def _handle_application_data(self, payload: bytes) -> None:
        # receive_bytes inlines this (and _handle_record's checks) for non-empty records in
        # Traffic: keep the two in step.
        if self._phase is not _TRAFFIC:
            state = self._state
            if self._phase is Phase.HANDSHAKING and isinstance(state, ReadsEarlyData):
                # RFC 8446 §2.3: accepted 0-RTT data, read under client_early_traffic_secret.
                if payload:
                    self._counters.application_data()
                else:
                    self._counters.empty_record()
                self._state = state.handle_early_data(self._ctx, payload, self)
                return
            raise PeerMisbehaved(Misbehaviour.APPLICATION_DATA_BEFORE_HANDSHAKE)
        if not payload:
            self._counters.empty_record()
            return
        self._counters.application_data()
        self._events.append(_application_data(payload))

    def _handle_handshake(self, payload: bytes) -> None:
        # RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent.
        if not payload:
            raise PeerMisbehaved(Misbehaviour.EMPTY_HANDSHAKE_RECORD)
        self._joiner.feed(payload)
        for msg_type, body, raw in self._joiner.messages():
            self._dispatch(msg_type, body, raw)

    def _dispatch(self, msg_type: HandshakeType, body: bytes, raw: bytes) -> None:
        if self._phase is Phase.TRAFFIC:
            self._counters.post_handshake_message()
        version = self._ctx.version
        msg: Message | Message12
        if version is not None and version < ProtocolVersion.TLS1_3:
            msg = decode_message12(msg_type, body, version)
            if isinstance(msg, HelloRequest) and self._phase is Phase.HANDSHAKING:
                self._counters.warning_alert()  # bounded, like other ignorable noise
                return  # RFC 5246 §7.4.1.1: ignored while negotiating; not part of the handshake hash
        else:
            msg = decode_message(msg_type, body)
            if isinstance(msg, KeyUpdate):
                self._counters.key_update()
        state = self._state
        if not isinstance(msg, state.expects):
            raise UnexpectedMessage(tuple(cls.__name__ for cls in state.expects), type(msg).__name__)
        self._events.append(
            HandshakeMessage(
                direction=Direction.RECEIVED,
                msg_type=msg_type,
                message=msg,
                length=len(raw),
                encrypted=self._records.is_read_protected,
            )
        )
        self._state = state.handle(self._ctx, msg, raw, self)

    def _handle_alert(self, payload: bytes) -> None:
        # RFC 8446 §6: an alert is exactly two bytes.
        if len(payload) != 2:
            raise PeerMisbehaved(Misbehaviour.ALERT_WRONG_LENGTH)
        description = AlertDescription(payload[1])
        if description is AlertDescription.CLOSE_NOTIFY:
            if self._phase is Phase.HANDSHAKING:
                raise AlertReceived(description)
            self._peer_closed = True
            if self._we_closed:
                self._set_phase(Phase.CLOSED)
            self._events.append(CloseNotify())
            return
        # RFC 8446 §6.1: user_canceled may be a warning; every other alert is fatal in TLS 1.3.
        if description is AlertDescription.USER_CANCELED and payload[0] == AlertLevel.WARNING:
            self._counters.warning_alert()
            return
        # RFC 5246 §7.2: before TLS 1.3, warning alerts (no_renegotiation, ...) do not end the connection.
        if payload[0] == AlertLevel.WARNING and self._is_tls12():
            self._counters.warning_alert()
            return
        raise AlertReceived(description)

    def _handle_change_cipher_spec(self, payload: bytes) -> None:
        # RFC 8446 §5: a CCS of one 0x01 byte is dropped during the handshake, else unexpected_message.
        if payload != b"\x01":
            raise PeerMisbehaved(Misbehaviour.INVALID_CCS)
        if self._is_tls12():
            # RFC 5246 §7.1: a real protocol message, accepted only where the state expects it.
            state = self._state
            if ChangeCipherSpec not in state.expects:
                raise PeerMisbehaved(Misbehaviour.UNEXPECTED_CCS)
            message = ChangeCipherSpec()
            self._events.append(
                HandshakeMessage(
                    direction=Direction.RECEIVED, msg_type=None, message=message, length=1,
                    encrypted=self._records.is_read_protected,
                )
            )
            self._state = state.handle(self._ctx, message, payload, self)
            return
        if self._phase is not Phase.HANDSHAKING or not self._ctx.client_random:
            raise PeerMisbehaved(Misbehaviour.UNEXPECTED_CCS)
        self._counters.change_cipher_spec()
        self._events.append(
            HandshakeMessage(direction=Direction.RECEIVED, msg_type=None, message=None, length=1, encrypted=False)
        )

    def _handle_eof(self) -> None:
        if self._peer_closed:
            return
        if self._phase is Phase.HANDSHAKING:
            raise ConnectionClosed("transport closed during the handshake")
        if self._records.has_partial_record or self._joiner.has_pending:
            raise PeerMisbehaved(Misbehaviour.TRUNCATED_AT_EOF)
        raise ConnectionClosed("transport closed without close_notify (possible truncation)", truncated=True)

    # --- outbound pipeline ------------------------------------------------------------------

    def _write_application_data(self, data: bytes | memoryview) -> None:
        block = self._padding_block
        if not block:
            self._outgoing.append(self._records.encode(_APPLICATION_DATA, data))
            return
        self._write_padded(ContentType.APPLICATION_DATA, data)

    def _write_padded(self, content_type: ContentType, data: bytes | memoryview) -> None:
        # RFC 8446 §5.4: pad each record to a multiple of the block, within the record limit.
        block = self._padding_block
        chunk = max(1, self._write_limit - block)
        for start in range(0, max(len(data), 1), chunk):
            piece = data[start : start + chunk]
            padding = (-(len(piece) + 1)) % block
            self._outgoing.append(self._records.encode(content_type, piece, padding=padding))

    def _pipeline_failed(self, exc: BaseException) -> None:
        """The error boundary's verdict on ``exc``: a TLSError fails the connection (the caller
        re-raises it); any other Exception fails it with an InternalError, raised here."""
        _Boundary(self).__exit__(type(exc), exc, exc.__traceback__)

    def _flush_handshake(self) -> None:
        if self._pending_handshake:
            data = b"".join(self._pending_handshake)
            self._pending_handshake.clear()
            if self._padding_block and self._phase is _TRAFFIC and self._write_protected:
                # Post-handshake messages (NewSessionTicket, KeyUpdate, ...) are padded like data (RFC 8446 §5.4).
                self._write_padded(ContentType.HANDSHAKE, data)
                return
            self._outgoing.append(self._records.encode(ContentType.HANDSHAKE, data))

    # --- error boundary -----------------------------------------------------------------------

    def _boundary(self) -> _Boundary:
        return _Boundary(self)

    def _fail(self, error: TLSError) -> None:
        self._error = error
        self._pending_handshake.clear()
        if error.alert is not None and not self._we_closed:
            alert = bytes((AlertLevel.FATAL, error.alert))
            try:
                self._outgoing.append(self._records.encode(ContentType.ALERT, alert))
            except Exception:  # noqa: BLE001 - an alert we cannot encode is simply not sent
                pass
        self._we_closed = True
        self._phase = Phase.FAILED

    def _take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    @property
    def is_write_closed(self) -> bool:
        """We sent close_notify (or failed): no more data can be sent."""
        return self._we_closed

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _set_phase(self, phase: Phase) -> None:
        if phase not in _TRANSITIONS[self._phase]:
            raise InternalError(f"illegal phase change {self._phase.value} -> {phase.value}")
        self._phase = phase


class _Boundary:
    """Turns every failure inside the pipeline into one stored TLSError (and its alert)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            return
        if isinstance(exc, TLSError):
            self._conn._fail(exc)
            return
        if isinstance(exc, Exception) and not isinstance(exc, ApiMisuse):
            error = InternalError(f"internal error: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self._conn._fail(error)
            raise error from exc
