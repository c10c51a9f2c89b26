"""RFC 8448 §3 ("Simple 1-RTT Handshake") replayed through both of our state machines.

The key schedule and record vectors are checked piecewise in tests/crypto; here the
real ClientConnection and ServerConnection produce the trace's bytes themselves.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "crypto"))

import rfc8448  # noqa: E402
from handclasp import ClientConfig, ClientConnection, NamedGroup, ServerConfig, ServerConnection  # noqa: E402
from handclasp.client.hello import ExpectServerHello  # noqa: E402
from handclasp.crypto.groups import generate_key_exchange  # noqa: E402
from handclasp.events import HandshakeComplete  # noqa: E402
from handclasp.wire.codec import Reader  # noqa: E402
from handclasp.wire.handshake import ClientHello  # noqa: E402

CLIENT_RANDOM = rfc8448.CLIENT_HELLO[6:38]
CLIENT_X25519_PRIVATE = bytes.fromhex("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005")
SERVER_RANDOM = rfc8448.SERVER_HELLO[6:38]
SERVER_X25519_PRIVATE = bytes.fromhex("b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e")


class ScriptedProvider:
    """Hands out the trace's random values in the order the state machine asks for them."""

    def __init__(self, *values: bytes) -> None:
        self._values = list(values)

    def random(self, n: int) -> bytes:
        value = self._values.pop(0) if self._values else bytes(n)
        assert len(value) == n
        return value

    def now(self) -> float:
        return 1_500_000_000.0


def _keylog(path: str) -> dict[str, bytes]:
    with open(path) as f:
        return {line.split()[0]: bytes.fromhex(line.split()[2]) for line in f if line.strip()}


def test_server_reproduces_the_server_hello_and_handshake_secrets(tmp_path, test_pki) -> None:  # type: ignore[no-untyped-def]
    keylog = str(tmp_path / "server.keys")
    provider = ScriptedProvider(bytes(32), SERVER_X25519_PRIVATE, SERVER_RANDOM)
    config = ServerConfig(
        certificates=(test_pki.server("ecdsa-p256"),), keylog_filename=keylog, provider=provider, session_tickets=False
    )
    server = ServerConnection(config)
    server.receive_bytes(rfc8448.CLIENT_HELLO_RECORD_HEADER + rfc8448.CLIENT_HELLO)
    out = server.data_to_send()
    assert out[: 5 + len(rfc8448.SERVER_HELLO)] == rfc8448.SERVER_HELLO_RECORD_HEADER + rfc8448.SERVER_HELLO
    secrets = _keylog(keylog)
    assert secrets["CLIENT_HANDSHAKE_TRAFFIC_SECRET"] == rfc8448.CLIENT_HANDSHAKE_TRAFFIC
    assert secrets["SERVER_HANDSHAKE_TRAFFIC_SECRET"] == rfc8448.SERVER_HANDSHAKE_TRAFFIC


def test_client_answers_the_server_flight_with_the_traces_finished_record(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The trace's server key is RSA-1024, below our 2048-bit floor for live peers.
    monkeypatch.setattr("handclasp.crypto.signatures.MINIMUM_RSA_BITS", 1024)
    keylog = str(tmp_path / "client.keys")
    config = ClientConfig(
        dangerous_skip_verification=True, middlebox_compat=False, keylog_filename=keylog,
        provider=ScriptedProvider(CLIENT_RANDOM),
    )
    client = ClientConnection(config, "server")
    client.start_handshake()
    client.data_to_send()
    # Swap in the trace's own ClientHello and ephemeral key: the rest is our state machine.
    hello = ClientHello.decode(Reader(rfc8448.CLIENT_HELLO[4:]))
    share = generate_key_exchange(NamedGroup.X25519, ScriptedProvider(CLIENT_X25519_PRIVATE))
    client._state = ExpectServerHello(
        config=config, hello=hello, hello_raw=rfc8448.CLIENT_HELLO, shares={NamedGroup.X25519: share}, retry_suite=None
    )
    events = client.receive_bytes(
        rfc8448.SERVER_HELLO_RECORD_HEADER + rfc8448.SERVER_HELLO + rfc8448.SERVER_FLIGHT_RECORD
    )
    assert any(isinstance(e, HandshakeComplete) for e in events)
    assert client.data_to_send() == rfc8448.CLIENT_FINISHED_RECORD
    secrets = _keylog(keylog)
    assert secrets["CLIENT_TRAFFIC_SECRET_0"] == rfc8448.CLIENT_APPLICATION_TRAFFIC
    assert secrets["SERVER_TRAFFIC_SECRET_0"] == rfc8448.SERVER_APPLICATION_TRAFFIC
    assert secrets["EXPORTER_SECRET"] == rfc8448.EXPORTER_MASTER
    # The trace's NewSessionTicket and application data decrypt under our keys.
    events = client.receive_bytes(rfc8448.NEW_SESSION_TICKET_RECORD + rfc8448.SERVER_APPLICATION_RECORD)
    assert [type(e).__name__ for e in events][-1] == "ApplicationData"
    assert events[-1].data == rfc8448.APPLICATION_PAYLOAD  # type: ignore[union-attr]
    client.send_application_data(rfc8448.APPLICATION_PAYLOAD)
    assert client.data_to_send() == rfc8448.CLIENT_APPLICATION_RECORD
