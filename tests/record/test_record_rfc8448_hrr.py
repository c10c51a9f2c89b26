"""RFC 8448 §5 (HelloRetryRequest, P-256): the rest of the schedule, checked through its protected records."""

from __future__ import annotations

import hashlib

import rfc8448 as v
from handclasp.crypto.schedule13 import EarlySecret, finished_verify_data, traffic_key_iv
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.crypto.transcript import Transcript
from handclasp.record.layer import RecordLayer
from handclasp.wire.enums import CipherSuite, ContentType

AES128 = TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]


def _read_one(layer: RecordLayer, record: bytes) -> tuple[ContentType, bytes]:
    layer.feed(record)
    got = layer.next_record()
    assert got is not None and layer.next_record() is None
    return got


def test_hello_retry_request_trace() -> None:
    transcript = Transcript.after_hello_retry("sha256", v.HRR_CLIENT_HELLO_1)
    for message in (v.HELLO_RETRY_REQUEST, v.HRR_CLIENT_HELLO_2, v.HRR_SERVER_HELLO):
        transcript.update(message)
    hello_hash = transcript.digest()
    handshake = EarlySecret(AES128).handshake(v.HRR_ECDHE_SHARED)
    client_hs = handshake.client_handshake_traffic_secret(hello_hash)
    server_hs = handshake.server_handshake_traffic_secret(hello_hash)
    assert (client_hs, server_hs) == (v.HRR_CLIENT_HANDSHAKE_TRAFFIC, v.HRR_SERVER_HANDSHAKE_TRAFFIC)
    assert traffic_key_iv(AES128, server_hs) == v.HRR_SERVER_HANDSHAKE_KEY_IV
    assert traffic_key_iv(AES128, client_hs) == v.HRR_CLIENT_HANDSHAKE_KEY_IV

    # The server's protected flight: decrypt, check its Finished, re-encode byte for byte.
    client = RecordLayer(is_client=True)
    client.set_read_key(AES128, server_hs)
    content_type, flight = _read_one(client, v.HRR_SERVER_FLIGHT_RECORD)
    assert content_type is ContentType.HANDSHAKE
    finished = flight[-36:]
    assert finished[:4] == b"\x14\x00\x00\x20"
    transcript.update(flight[:-36])
    assert finished_verify_data(AES128, server_hs, transcript.digest()) == finished[4:]
    server = RecordLayer(is_client=False)
    server.set_write_key(AES128, server_hs)
    assert server.encode(ContentType.HANDSHAKE, flight) == v.HRR_SERVER_FLIGHT_RECORD

    transcript.update(finished)
    server_finished_hash = transcript.digest()
    master = handshake.master()
    assert master.secret == v.HRR_MASTER_SECRET
    assert (
        master.client_application_traffic_secret_0(server_finished_hash) == v.HRR_CLIENT_APPLICATION_TRAFFIC
    )
    assert (
        master.server_application_traffic_secret_0(server_finished_hash) == v.HRR_SERVER_APPLICATION_TRAFFIC
    )
    assert master.exporter_master_secret(server_finished_hash) == v.HRR_EXPORTER_MASTER
    assert traffic_key_iv(AES128, v.HRR_SERVER_APPLICATION_TRAFFIC) == v.HRR_SERVER_APPLICATION_KEY_IV
    assert traffic_key_iv(AES128, v.HRR_CLIENT_APPLICATION_TRAFFIC) == v.HRR_CLIENT_APPLICATION_KEY_IV

    # The client Finished record.
    client_finished = b"\x14\x00\x00\x20" + finished_verify_data(AES128, client_hs, server_finished_hash)
    client.set_write_key(AES128, client_hs)
    assert client.encode(ContentType.HANDSHAKE, client_finished) == v.HRR_CLIENT_FINISHED_RECORD
    server.set_read_key(AES128, client_hs)
    assert _read_one(server, v.HRR_CLIENT_FINISHED_RECORD) == (ContentType.HANDSHAKE, client_finished)
    transcript.update(client_finished)
    assert master.resumption_master_secret(transcript.digest()) == v.HRR_RESUMPTION_MASTER

    # close_notify both ways under the application keys (sequence number 0 each).
    client.set_write_key(AES128, v.HRR_CLIENT_APPLICATION_TRAFFIC)
    server.set_write_key(AES128, v.HRR_SERVER_APPLICATION_TRAFFIC)
    assert client.encode(ContentType.ALERT, v.CLOSE_NOTIFY) == v.HRR_CLIENT_ALERT_RECORD
    assert server.encode(ContentType.ALERT, v.CLOSE_NOTIFY) == v.HRR_SERVER_ALERT_RECORD


def test_message_hash_replaces_client_hello_1() -> None:
    """RFC 8446 §4.4.1: the transcript after HRR starts with message_hash(Hash(ClientHello1))."""
    expected = hashlib.sha256(
        b"\xfe\x00\x00\x20" + hashlib.sha256(v.HRR_CLIENT_HELLO_1).digest() + v.HELLO_RETRY_REQUEST
    ).digest()
    transcript = Transcript.after_hello_retry("sha256", v.HRR_CLIENT_HELLO_1)
    transcript.update(v.HELLO_RETRY_REQUEST)
    assert transcript.digest() == expected
