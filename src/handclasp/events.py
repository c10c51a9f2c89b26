"""Events returned by ``receive_bytes``: frozen, slotted values, never callbacks."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cryptography import x509

from handclasp.negotiated import Negotiated
from handclasp.wire.enums import HandshakeType


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    negotiated: Negotiated


@dataclass(frozen=True, slots=True)
class ApplicationData:
    data: bytes


@dataclass(frozen=True, slots=True)
class EarlyData:
    """Server: 0-RTT data the client sent before the handshake completed (RFC 8446 §2.3).

    Kept apart from ApplicationData: it may be a replay (RFC 8446 §8, RFC 8470), so the
    application decides what it may act on before ``HandshakeComplete``.
    """

    data: bytes


@dataclass(frozen=True, slots=True)
class EarlyDataRejected:
    """Client: the server refused our 0-RTT data (RFC 8446 §4.2.10); resend it as 1-RTT data
    if it still matters."""


@dataclass(frozen=True, slots=True)
class SessionTicket:
    """A TLS 1.3 NewSessionTicket as the client received it (RFC 8446 §4.6.1)."""

    ticket: bytes
    ticket_lifetime: int
    ticket_age_add: int
    ticket_nonce: bytes
    max_early_data_size: int
    received_at: float


@dataclass(frozen=True, slots=True)
class SessionTicketReceived:
    ticket: SessionTicket


@dataclass(frozen=True, slots=True)
class PeerCertificateReceived:
    """Post-handshake authentication finished (RFC 8446 §4.6.2): the client's verified chain (empty: none sent)."""

    certificates: tuple[x509.Certificate, ...]


@dataclass(frozen=True, slots=True)
class CloseNotify:
    """The peer closed its write side cleanly; no more data will arrive."""


@dataclass(frozen=True, slots=True)
class KeyUpdated:
    """Traffic keys changed; ``sending`` says which direction."""

    sending: bool
    update_requested: bool


class Direction(enum.Enum):
    SENT = "sent"
    RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    """One handshake message (or a dummy ChangeCipherSpec, ``message`` None) sent or received.

    For display and tracing; ``summary`` names the message's key fields, never secrets.
    """

    direction: Direction
    msg_type: HandshakeType | None
    message: object
    length: int
    encrypted: bool

    @property
    def name(self) -> str:
        if self.message is None:
            return "ChangeCipherSpec"
        return _RFC_NAMES.get(type(self.message).__name__, type(self.message).__name__)

    @property
    def summary(self) -> str:
        from handclasp.wire.summary import summarize

        return summarize(self.message)


# Wire names as the RFCs write them, for classes named by version (Certificate13).
_RFC_NAMES = {
    "Certificate13": "Certificate",
    "CertificateRequest13": "CertificateRequest",
    "NewSessionTicket13": "NewSessionTicket",
}

Event = (
    HandshakeComplete
    | ApplicationData
    | EarlyData
    | EarlyDataRejected
    | SessionTicketReceived
    | PeerCertificateReceived
    | CloseNotify
    | KeyUpdated
    | HandshakeMessage
)
