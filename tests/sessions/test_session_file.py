"""ClientSession.to_bytes/from_bytes and save_session/load_session (session files, like s_client -sess_out)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.events import HandshakeComplete
from handclasp.sessions import ClientSession, SessionFormatError
from handclasp.sessions.cache import CLIENT_SESSION_FORMAT_VERSION, load_session, save_session
from handclasp.sessions.store import Session
from handclasp.wire.enums import CipherSuite, ProtocolVersion
from helpers import ConnectionPair


def make_client_session(ticket: bytes | None = b"\x01ticket", session_id: bytes = b"") -> ClientSession:
    session = Session(
        version=ProtocolVersion.TLS1_3,
        cipher_suite=CipherSuite.TLS_AES_128_GCM_SHA256,
        master_secret=bytes(range(32)),
        extended_master_secret=False,
        server_name="localhost",
        alpn_protocol="h2",
        peer_certificates=(b"\x30\x00",),
        created_at=1_800_000_000.25,
        lifetime=7200,
        ticket_age_add=0x01020304,
        max_early_data_size=16384,
    )
    return ClientSession(session=session, session_id=session_id, ticket=ticket)


@pytest.mark.parametrize(
    "entry",
    [make_client_session(), make_client_session(ticket=None, session_id=bytes(32)), make_client_session(b"\xff" * 65535)],
    ids=["tls13-ticket", "tls12-session-id", "max-ticket"],
)
def test_client_session_round_trips(entry: ClientSession) -> None:
    data = entry.to_bytes()
    assert data[0] == CLIENT_SESSION_FORMAT_VERSION
    assert ClientSession.from_bytes(data) == entry


def test_repr_never_shows_the_secret() -> None:
    entry = make_client_session()
    text = repr(entry)
    assert "master_secret=b" not in text and "ticket=b" not in text and "\\x01ticket" not in text


def test_every_strict_prefix_and_any_trailing_byte_is_rejected() -> None:
    data = make_client_session().to_bytes()
    for end in range(len(data)):
        with pytest.raises(SessionFormatError):
            ClientSession.from_bytes(data[:end])
    with pytest.raises(SessionFormatError):
        ClientSession.from_bytes(data + b"\x00")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: bytes([2]) + d[1:],  # unknown format version
        lambda d: d[:-len(b"\x01ticket") - 3] + b"\x02" + d[-len(b"\x01ticket") - 2:],  # has_ticket = 2
        lambda d: d[:-len(b"\x01ticket") - 3] + b"\x01\x00\x00",  # empty ticket (ticket<1..2^16-1>)
    ],
    ids=["version", "has-ticket-flag", "empty-ticket"],
)
def test_malformed_fields_are_rejected(mutate: object) -> None:
    data = make_client_session().to_bytes()
    with pytest.raises(SessionFormatError):
        ClientSession.from_bytes(mutate(data))  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_session_format_error(data: bytes) -> None:
    try:
        ClientSession.from_bytes(data)
    except SessionFormatError:
        pass


def test_save_writes_an_owner_only_pem_file_and_load_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "sess.pem"
    path.write_text("old")
    os.chmod(path, 0o644)
    entry = make_client_session()
    save_session(path, entry)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("-----BEGIN HANDCLASP TLS SESSION-----\n")
    assert text.endswith("-----END HANDCLASP TLS SESSION-----\n")
    assert max(len(line) for line in text.splitlines()) <= 76
    assert load_session(path) == entry
    assert load_session(str(path)) == entry


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello\n",
        b"\xff\xfe binary",
        b"-----BEGIN HANDCLASP TLS SESSION-----\n!!!not base64!!!\n-----END HANDCLASP TLS SESSION-----\n",
        b"-----BEGIN HANDCLASP TLS SESSION-----\nAAAA\n-----END HANDCLASP TLS SESSION-----\n",
        b"-----END HANDCLASP TLS SESSION-----\n-----BEGIN HANDCLASP TLS SESSION-----\n",
    ],
    ids=["empty", "text", "binary", "bad-base64", "garbage-inside", "markers-swapped"],
)
def test_load_rejects_garbage_with_session_format_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.pem"
    path.write_bytes(content)
    with pytest.raises(SessionFormatError):
        load_session(path)


def test_a_saved_real_session_resumes(tmp_path: Path, test_pki: pki.PKI) -> None:
    """A TLS 1.3 ticket written to a file and read back resumes in a new connection."""
    server = ServerConfig(certificates=(test_pki.server("ecdsa-p256"),), keylog_filename=None)
    client = ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None)
    first = ConnectionPair.make(client, server)
    first.handshake()
    first.server_to_client()  # the NewSessionTickets
    assert first.client.session is not None
    save_session(tmp_path / "s.pem", first.client.session)
    loaded = load_session(tmp_path / "s.pem")
    assert loaded == first.client.session
    second = ConnectionPair(ClientConnection(client, "localhost", session=loaded), ServerConnection(server))
    second.client.start_handshake()
    second.handshake()
    completions = [e for e in second.client_events + second.server_events if isinstance(e, HandshakeComplete)]
    assert [c.negotiated.resumed for c in completions] == [True, True]
