"""Session resumption state: sessions, server stores, tickets and the client cache."""

from __future__ import annotations

from handclasp.sessions.cache import ClientSession, ClientSessionCache, load_session, save_session
from handclasp.sessions.replay import MemoryReplayGuard, ReplayGuard
from handclasp.sessions.store import MemorySessionStore, Session, SessionFormatError, SessionStore
from handclasp.sessions.tickets import TicketKeys

__all__ = [
    "ClientSession",
    "ClientSessionCache",
    "MemoryReplayGuard",
    "MemorySessionStore",
    "ReplayGuard",
    "Session",
    "SessionFormatError",
    "SessionStore",
    "TicketKeys",
    "load_session",
    "save_session",
]
