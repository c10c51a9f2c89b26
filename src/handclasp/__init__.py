"""handclasp: a sans-I/O TLS 1.3 handshake stack.

Bytes go in (``receive_bytes``), events and bytes come out (``data_to_send``);
the adapters in ``handclasp.io`` put it on sockets.
"""

from handclasp import events
from handclasp.config import ClientConfig, ServerConfig
from handclasp.connection import Connection
from handclasp.endpoints import ClientConnection, ServerConnection
from handclasp.errors import (
    AlertReceived,
    ApiMisuse,
    BadRecordMac,
    CertificateProblem,
    CertificateVerifyError,
    ConnectionClosed,
    DecodeError,
    HandclaspError,
    HandshakeTimeout,
    Incompatibility,
    InternalError,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    RecordOverflow,
    TLSError,
    UnexpectedMessage,
)
from handclasp.negotiated import Negotiated
from handclasp.sessions.cache import ClientSession, ClientSessionCache
from handclasp.sessions.psk import ExternalPsk
from handclasp.sessions.replay import MemoryReplayGuard, ReplayGuard
from handclasp.sessions.store import MemorySessionStore, Session
from handclasp.sessions.tickets import TicketKeys
from handclasp.wire.enums import AlertDescription, CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme

__all__ = [
    "AlertDescription",
    "AlertReceived",
    "ApiMisuse",
    "BadRecordMac",
    "CertificateProblem",
    "CertificateVerifyError",
    "CipherSuite",
    "ClientConfig",
    "ClientConnection",
    "ClientSession",
    "ClientSessionCache",
    "Connection",
    "ConnectionClosed",
    "DecodeError",
    "ExternalPsk",
    "HandclaspError",
    "HandshakeTimeout",
    "Incompatibility",
    "InternalError",
    "MemoryReplayGuard",
    "MemorySessionStore",
    "Misbehaviour",
    "NamedGroup",
    "Negotiated",
    "PeerIncompatible",
    "PeerMisbehaved",
    "ProtocolVersion",
    "RecordOverflow",
    "ReplayGuard",
    "ServerConfig",
    "ServerConnection",
    "Session",
    "SignatureScheme",
    "TLSError",
    "TicketKeys",
    "UnexpectedMessage",
    "events",
]
