"""TLS 1.3 0-RTT early data (RFC 8446 §2.3, §4.2.10) against OpenSSL 3.0 and GnuTLS 3.7 (127.0.0.1 only).

Real clients send early data to our server (s_client -sess_in -early_data, gnutls-cli --resume --earlydata)
and our client sends it to real servers (s_server -early_data, gnutls-serv --earlydata). Each test reads
what the PEER says (s_client "Early data was accepted/rejected", s_server "Early data received:", gnutls
"This is a resumed session"), not only our side. Rejections: a ticket without early_data (not offered),
a server that turned 0-RTT off after issuing the ticket, a server that cannot read the ticket.

Peer quirks found here (OpenSSL 3.0.19, GnuTLS 3.7.9):
- gnutls-serv --earlydata accepts 0-RTT but its --echo/--http loops never show or echo the early bytes, so
  against it only the handshake (EE early_data, resumption, EndOfEarlyData, 1-RTT echo afterwards) is checked.
- s_client does not resend rejected early data; our adapters do (RFC 8446 §4.2.10 allows either).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import pki
from handclasp import ClientConfig, ServerConfig
from handclasp.io.blocking import TLSSocket, connect
from handclasp.sessions.cache import ClientSession
from tests.interop.peers.harness import (
    HOST,
    PeerPKI,
    gnutls_server_scenario,
    keylog_labels,
    openssl_server,
    parse_gnutls,
    parse_openssl_client,
    run_gnutls_client,
    run_openssl_client,
    tshark_capture,
    tshark_handshake_types,
    tshark_read,
)
from tests.interop.server_helpers import running_server

PKI = pki.test_pki()
MAX_EARLY = 16384
EARLY = b"hello-early: GET /0rtt\n"
FIRST = b"first connection\n"
LATER = b"1-RTT after the early data\n"
IO_TIMEOUT = 10.0
TLS13_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
OPENSSL_EARLY = ["-early_data", "-max_early_data", str(MAX_EARLY)]


def server_config(**options: Any) -> ServerConfig:
    options.setdefault("max_early_data_size", MAX_EARLY)
    options.setdefault("keylog_filename", None)
    return ServerConfig(certificates=(PKI.server("ecdsa-p256"),), **options)


def client_config(peer_pki: PeerPKI, **options: Any) -> ClientConfig:
    options.setdefault("enable_early_data", True)
    return ClientConfig(cafile=str(peer_pki.ca), keylog_filename=None, handshake_timeout=IO_TIMEOUT, **options)


def keylog_lines(path: Path, label: str) -> set[str]:
    with contextlib.suppress(FileNotFoundError):
        return {line for line in path.read_text().splitlines() if line.startswith(label + " ")}
    return set()


# ------------------------------------------------------------------ real clients against our server


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_openssl_client_early_data_is_accepted_by_our_server(peer_pki: PeerPKI, tmp_path: Path, mode: str) -> None:
    session, early, ours, theirs = (tmp_path / n for n in ("s.pem", "early.txt", "ours.log", "theirs.log"))
    early.write_bytes(EARLY)
    config = server_config(tls13_ticket_mode=mode, keylog_filename=str(ours))
    with running_server(config) as run:
        first = run_openssl_client(run.port, ["-sess_out", str(session)], cafile=peer_pki.ca, input=FIRST, linger=1.0)
        second = run_openssl_client(
            run.port, ["-sess_in", str(session), "-early_data", str(early)], cafile=peer_pki.ca, keylog=theirs,
            input=LATER, linger=1.0,
        )
        records = [run.wait_record(0), run.wait_record(1)]
    assert "Max Early Data: 16384" in first.stdout, first.stdout[-3000:]
    report = parse_openssl_client(second.stdout)
    assert report["ok"] and report["resumed"], second.stdout[-3000:]
    assert report["early_data"] is True, second.stdout[-3000:]  # s_client: "Early data was accepted"
    negotiated = records[1].negotiated
    assert negotiated is not None and negotiated.resumed and negotiated.early_data_accepted
    assert records[1].early_data == EARLY
    assert bytes(records[1].received) == LATER  # 0-RTT bytes are not in the 1-RTT stream
    assert records[0].early_data == b""
    # Both sides derived the same client_early_traffic_secret (RFC 8446 §7.1).
    shared = keylog_lines(ours, "CLIENT_EARLY_TRAFFIC_SECRET") & keylog_lines(theirs, "CLIENT_EARLY_TRAFFIC_SECRET")
    assert len(shared) == 1, (keylog_labels(ours), keylog_labels(theirs))


def test_openssl_client_early_data_is_rejected_once_our_server_turns_it_off(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """RFC 8446 §4.2.10: a server may decline 0-RTT and still resume; s_client then reports the rejection."""
    session, early = tmp_path / "s.pem", tmp_path / "early.txt"
    early.write_bytes(EARLY)
    accepting = server_config()
    with running_server(accepting) as run:
        run_openssl_client(run.port, ["-sess_out", str(session)], cafile=peer_pki.ca, input=FIRST, linger=1.0)
        run.wait_record(0)
    refusing = dataclasses.replace(accepting, max_early_data_size=0)  # same ticket keys
    with running_server(refusing) as run:
        second = run_openssl_client(
            run.port, ["-sess_in", str(session), "-early_data", str(early)], cafile=peer_pki.ca, input=LATER, linger=1.0
        )
        record = run.wait_record(0)
    report = parse_openssl_client(second.stdout)
    assert report["ok"] and report["resumed"], second.stdout[-3000:]
    assert report["early_data"] is False, second.stdout[-3000:]  # "Early data was rejected"
    assert record.negotiated is not None and record.negotiated.resumed and not record.negotiated.early_data_accepted
    assert record.early_data == b"" and bytes(record.received) == LATER and record.error is None


def test_gnutls_client_early_data_reaches_our_server(peer_pki: PeerPKI, tmp_path: Path) -> None:
    early = tmp_path / "early.txt"
    early.write_bytes(EARLY)
    with running_server(server_config()) as run:
        result = run_gnutls_client(
            run.port, cafile=peer_pki.ca, priority=TLS13_ONLY, input=LATER, linger=2.0,
            extra_args=["--resume", f"--earlydata={early}", "--waitresumption"],
        )
        records = [run.wait_record(0), run.wait_record(1)]
    client = parse_gnutls(result.stdout)
    assert client["ok"] and client["resumed"], result.stdout[-3000:] + result.stderr[-2000:]
    negotiated = records[1].negotiated
    assert negotiated is not None and negotiated.resumed and negotiated.early_data_accepted
    assert records[1].early_data == EARLY, (records[0], records[1])


# ------------------------------------------------------------------ our client against real servers


def first_session(port: int, config: ClientConfig) -> ClientSession:
    """One full handshake; wait (bounded) for the server's NewSessionTicket."""
    tls = connect(HOST, port, config, server_name="localhost", timeout=IO_TIMEOUT)
    with tls:
        tls.sendall(FIRST)
        tls.settimeout(0.3)
        deadline = time.monotonic() + IO_TIMEOUT
        while tls.connection.session is None and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                tls.recv(65536)
        session = tls.connection.session
    assert session is not None, "no ticket from the server"
    return session


def wait_closed(tls: TLSSocket) -> None:
    with contextlib.suppress(Exception):
        tls.close()


def test_our_early_data_is_received_by_openssl_s_server(peer_pki: PeerPKI) -> None:
    config = client_config(peer_pki)
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=False, tls13_only=True,
                        extra_args=OPENSSL_EARLY) as server:
        session = first_session(server, config)
        assert session.session.max_early_data_size == MAX_EARLY
        tls = connect(HOST, server, config, server_name="localhost", timeout=IO_TIMEOUT, session=session,
                      early_data=EARLY)
        try:
            assert tls.negotiated is not None and tls.negotiated.resumed
            assert tls.early_data_accepted
            tls.sendall(LATER)
            server.wait_for(re.escape(LATER.decode()), IO_TIMEOUT)
        finally:
            wait_closed(tls)
        output = server.output()
    # s_server prints "Early data received:", the bytes, "End of early data"; it writes the bytes to stdout
    # directly and the labels through a buffered BIO, so their order in the pipe varies.
    assert output.count("No early data received") == 1, output[-3000:]  # the first connection
    assert output.count("Early data received:") == 1 and "End of early data" in output, output[-3000:]
    assert output.count(EARLY.decode()) == 1, output[-3000:]


def test_s_server_without_early_data_gets_the_bytes_once_as_1rtt(peer_pki: PeerPKI) -> None:
    """The ticket carries no early_data extension, so 0-RTT must not be offered (RFC 8446 §4.2.10)."""
    config = client_config(peer_pki)
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=False, tls13_only=True) as server:
        session = first_session(server, config)
        assert session.session.max_early_data_size == 0
        tls = connect(HOST, server, config, server_name="localhost", timeout=IO_TIMEOUT, session=session,
                      early_data=EARLY)
        try:
            assert tls.negotiated is not None and tls.negotiated.resumed and not tls.early_data_accepted
            server.wait_for(re.escape(EARLY.decode()), IO_TIMEOUT)
        finally:
            wait_closed(tls)
        output = server.output()
    assert "Early data received" not in output
    assert output.count(EARLY.decode()) == 1, output[-3000:]


def test_early_data_rejected_by_a_new_s_server_is_resent_once(peer_pki: PeerPKI) -> None:
    """A server that cannot use the ticket skips the 0-RTT records (RFC 8446 §4.2.10); we resend them."""
    config = client_config(peer_pki)
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=False, tls13_only=True,
                        extra_args=OPENSSL_EARLY) as server:
        session = first_session(server, config)
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=False, tls13_only=True,
                        extra_args=OPENSSL_EARLY) as server:  # new process: new ticket key
        tls = connect(HOST, server, config, server_name="localhost", timeout=IO_TIMEOUT, session=session,
                      early_data=EARLY)
        try:
            assert tls.negotiated is not None and not tls.negotiated.resumed and not tls.early_data_accepted
            server.wait_for(re.escape(EARLY.decode()), IO_TIMEOUT)
        finally:
            wait_closed(tls)
        output = server.output()
    assert "Early data received" not in output, output[-3000:]
    assert output.count(EARLY.decode()) == 1, output[-3000:]


GNUTLS_SERV_CLIENT = r"""
import json, sys, time
from handclasp import ClientConfig
from handclasp.io.blocking import connect

port, cafile = int(sys.argv[1]), sys.argv[2]
config = ClientConfig(cafile=cafile, keylog_filename=None, enable_early_data=True, handshake_timeout=10)
report = {"ok": False}

def read_until(tls, needle):
    got, deadline = b"", time.monotonic() + 10
    while needle not in got and time.monotonic() < deadline:
        chunk = tls.recv(65536)
        if not chunk:
            break
        got += chunk
    return got

try:
    with connect("127.0.0.1", port, config, server_name="localhost", timeout=10) as tls:
        tls.sendall(b"first\n")
        report["first_echo"] = read_until(tls, b"first\n").decode()
        session = tls.connection.session
    report["max_early_data"] = session.session.max_early_data_size if session else None
    with connect("127.0.0.1", port, config, server_name="localhost", timeout=10, session=session,
                 early_data=b"early bytes\n") as tls:
        report["resumed"] = tls.negotiated.resumed
        report["accepted"] = tls.early_data_accepted
        tls.sendall(b"second\n")
        report["second_echo"] = read_until(tls, b"second\n").decode()
    report["ok"] = True
except Exception as exc:
    report["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(report), flush=True)
"""


def test_our_early_data_is_accepted_by_gnutls_serv(peer_pki: PeerPKI) -> None:
    port = 14620
    client = [sys.executable, "-c", GNUTLS_SERV_CLIENT, str(port), str(peer_pki.ca)]
    result = gnutls_server_scenario(
        client, peer_pki.server_cert, peer_pki.server_key, port=port, priority=TLS13_ONLY,
        server_args=["--earlydata", f"--maxearlydata={MAX_EARLY}"],
    )
    assert result.ready, result.describe()
    lines = [line for line in result.client.stdout.splitlines() if line.startswith("{")]
    assert lines, result.describe()
    ours = json.loads(lines[-1])
    assert ours["ok"], result.describe()
    assert ours["max_early_data"] == MAX_EARLY
    assert ours["resumed"] and ours["accepted"], ours
    assert "second\n" in ours["second_echo"], ours  # 1-RTT works after EndOfEarlyData and the key switch
    assert result.server_output.count("This is a resumed session") == 1, result.describe()
    assert "Error" not in result.server_output.split("This is a resumed session", 1)[1][:2000], result.describe()


# ------------------------------------------------------------------ Wireshark reads our 0-RTT


def test_tshark_decrypts_our_early_data_with_our_keylog(tmp_path: Path) -> None:
    """With our key log (CLIENT_EARLY_TRAFFIC_SECRET), tshark decrypts the 0-RTT request and EndOfEarlyData (5)."""
    keylog = tmp_path / "keylog.txt"
    request = b"GET /zero-rtt HTTP/1.1\r\nHost: localhost\r\n\r\n"
    config = server_config(alpn_protocols=("http/1.1",))
    client = ClientConfig(cadata=PKI.ca.root_pem, alpn_protocols=("http/1.1",), keylog_filename=str(keylog),
                          enable_early_data=True)
    with running_server(config) as run:
        first = first_session(run.port, client)
        with tshark_capture(run.port) as pcap:
            with connect(HOST, run.port, client, server_name="localhost", timeout=IO_TIMEOUT, session=first,
                         early_data=request) as tls:
                assert tls.early_data_accepted
                tls.sendall(LATER)
                echoed = b""
                while len(echoed) < len(LATER):
                    echoed += tls.recv(4096)
            record = run.wait_record(1)
    assert record.early_data == request and echoed == LATER
    assert "CLIENT_EARLY_TRAFFIC_SECRET" in keylog_labels(keylog)
    assert 5 not in tshark_handshake_types(pcap)  # EndOfEarlyData is encrypted
    assert 5 in tshark_handshake_types(pcap, keylog)
    uris = tshark_read(pcap, keylog=keylog, display_filter="http.request", fields=["http.request.uri"])
    assert "/zero-rtt" in uris.split()
