"""RFC 8448 §3 protected records, byte for byte through RecordLayer.encode and feed/next_record."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_der_x509_certificate

import rfc8448 as v
from handclasp.crypto.schedule13 import finished_verify_data, resumption_psk
from handclasp.crypto.signatures import certificate_verify_content
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.record.layer import RecordLayer
from handclasp.wire.enums import CipherSuite, ContentType

AES128 = TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]


def _split_messages(data: bytes) -> list[bytes]:
    messages = []
    while data:
        length = int.from_bytes(data[1:4], "big")
        messages.append(data[: 4 + length])
        data = data[4 + length :]
    return messages


def _read_one(layer: RecordLayer, record: bytes) -> tuple[ContentType, bytes]:
    layer.feed(record)
    got = layer.next_record()
    assert got is not None
    assert layer.next_record() is None and not layer.has_partial_record
    return got


def _server_flight() -> bytes:
    client = RecordLayer(is_client=True)
    client.set_read_key(AES128, v.SERVER_HANDSHAKE_TRAFFIC)
    content_type, flight = _read_one(client, v.SERVER_FLIGHT_RECORD)
    assert content_type is ContentType.HANDSHAKE
    return flight


def test_plaintext_hello_records() -> None:
    client = RecordLayer(is_client=True)
    assert (
        client.encode(ContentType.HANDSHAKE, v.CLIENT_HELLO) == v.CLIENT_HELLO_RECORD_HEADER + v.CLIENT_HELLO
    )
    server = RecordLayer(is_client=False)
    assert (
        server.encode(ContentType.HANDSHAKE, v.SERVER_HELLO) == v.SERVER_HELLO_RECORD_HEADER + v.SERVER_HELLO
    )
    assert _read_one(server, v.CLIENT_HELLO_RECORD_HEADER + v.CLIENT_HELLO) == (
        ContentType.HANDSHAKE,
        v.CLIENT_HELLO,
    )


def test_server_handshake_flight_decrypts_and_reencodes_byte_for_byte() -> None:
    flight = _server_flight()
    messages = _split_messages(flight)
    assert [m[0] for m in messages] == [8, 11, 15, 20]  # EE, Certificate, CertificateVerify, Finished
    assert messages[2] == v.CERTIFICATE_VERIFY_MESSAGE
    assert messages[3] == v.SERVER_FINISHED_MESSAGE

    server = RecordLayer(is_client=False)
    server.set_write_key(AES128, v.SERVER_HANDSHAKE_TRAFFIC)
    assert server.encode(ContentType.HANDSHAKE, flight) == v.SERVER_FLIGHT_RECORD


def test_server_finished_and_transcript_from_the_flight() -> None:
    ee, certificate, certificate_verify, finished = _split_messages(_server_flight())
    prefix = v.CLIENT_HELLO + v.SERVER_HELLO + ee + certificate + certificate_verify
    verify_data = finished_verify_data(AES128, v.SERVER_HANDSHAKE_TRAFFIC, hashlib.sha256(prefix).digest())
    assert verify_data == v.SERVER_FINISHED_VERIFY_DATA == finished[4:]
    assert hashlib.sha256(prefix + finished).digest() == v.SERVER_FINISHED_HASH


def test_certificate_verify_content_matches_rfc8448_signature() -> None:
    """The RFC's server CertificateVerify (rsa_pss_rsae_sha256) verifies over our §4.4.3 content."""
    ee, certificate, certificate_verify, _ = _split_messages(_server_flight())
    # Certificate: context<0>, certificate_list<3>, first entry cert_data<3>.
    cert_der_length = int.from_bytes(certificate[8:11], "big")
    cert = load_der_x509_certificate(certificate[11 : 11 + cert_der_length])
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 1024
    th = hashlib.sha256(v.CLIENT_HELLO + v.SERVER_HELLO + ee + certificate).digest()
    assert certificate_verify[4:6] == b"\x08\x04"
    signature = certificate_verify[8:]
    public_key.verify(
        signature,
        certificate_verify_content(True, th),
        padding.PSS(padding.MGF1(hashes.SHA256()), 32),
        hashes.SHA256(),
    )


def test_client_finished_record() -> None:
    finished = b"\x14\x00\x00\x20" + v.CLIENT_FINISHED_VERIFY_DATA
    client = RecordLayer(is_client=True)
    client.set_write_key(AES128, v.CLIENT_HANDSHAKE_TRAFFIC)
    assert client.encode(ContentType.HANDSHAKE, finished) == v.CLIENT_FINISHED_RECORD
    server = RecordLayer(is_client=False)
    server.set_read_key(AES128, v.CLIENT_HANDSHAKE_TRAFFIC)
    assert _read_one(server, v.CLIENT_FINISHED_RECORD) == (ContentType.HANDSHAKE, finished)


def test_new_session_ticket_application_data_and_alert_records() -> None:
    client = RecordLayer(is_client=True)
    client.set_read_key(AES128, v.SERVER_APPLICATION_TRAFFIC)
    content_type, ticket = _read_one(client, v.NEW_SESSION_TICKET_RECORD)
    assert content_type is ContentType.HANDSHAKE and ticket[0] == 4
    # NewSessionTicket: lifetime(4) age_add(4) ticket_nonce<1>.
    nonce = ticket[13 : 13 + ticket[12]]
    assert nonce == b"\x00\x00"
    assert resumption_psk(AES128, v.RESUMPTION_MASTER, nonce) == v.RESUMPTION_PSK

    server = RecordLayer(is_client=False)
    server.set_write_key(AES128, v.SERVER_APPLICATION_TRAFFIC)
    assert server.encode(ContentType.HANDSHAKE, ticket) == v.NEW_SESSION_TICKET_RECORD
    assert server.encode(ContentType.APPLICATION_DATA, v.APPLICATION_PAYLOAD) == v.SERVER_APPLICATION_RECORD
    assert server.encode(ContentType.ALERT, v.CLOSE_NOTIFY) == v.SERVER_ALERT_RECORD
    assert _read_one(client, v.SERVER_APPLICATION_RECORD) == (
        ContentType.APPLICATION_DATA,
        v.APPLICATION_PAYLOAD,
    )
    assert _read_one(client, v.SERVER_ALERT_RECORD) == (ContentType.ALERT, v.CLOSE_NOTIFY)

    client.set_write_key(AES128, v.CLIENT_APPLICATION_TRAFFIC)
    assert client.encode(ContentType.APPLICATION_DATA, v.APPLICATION_PAYLOAD) == v.CLIENT_APPLICATION_RECORD
    assert client.encode(ContentType.ALERT, v.CLOSE_NOTIFY) == v.CLIENT_ALERT_RECORD
    server.set_read_key(AES128, v.CLIENT_APPLICATION_TRAFFIC)
    assert _read_one(server, v.CLIENT_APPLICATION_RECORD) == (
        ContentType.APPLICATION_DATA,
        v.APPLICATION_PAYLOAD,
    )
    assert _read_one(server, v.CLIENT_ALERT_RECORD) == (ContentType.ALERT, v.CLOSE_NOTIFY)


def test_whole_server_side_byte_stream_in_one_feed() -> None:
    """SH (plaintext) and the protected flight arrive together; keys change between records."""
    client = RecordLayer(is_client=True)
    client.feed(v.SERVER_HELLO_RECORD_HEADER + v.SERVER_HELLO + v.SERVER_FLIGHT_RECORD)
    assert client.next_record() == (ContentType.HANDSHAKE, v.SERVER_HELLO)
    assert not client.has_partial_record  # the whole flight record is buffered, not yet parsed
    client.set_read_key(AES128, v.SERVER_HANDSHAKE_TRAFFIC)
    got = client.next_record()
    assert got is not None and got[0] is ContentType.HANDSHAKE and got[1].endswith(v.SERVER_FINISHED_MESSAGE)
    assert client.next_record() is None and not client.has_partial_record
