"""handclasp's NSS key log is good enough for Wireshark: capture on lo with tshark and decrypt.

Without the key log tshark sees only ClientHello and ServerHello; with it, EncryptedExtensions (8),
Certificate (11), CertificateVerify (15), Finished (20), KeyUpdate (24) and the application data.
"""

from __future__ import annotations

from pathlib import Path

import pki
from handclasp import ClientConfig, ServerConfig
from handclasp.io.blocking import connect
from tests.interop.peers.harness import (
    PeerPKI,
    keylog_labels,
    parse_openssl_client,
    run_openssl_client,
    tshark_capture,
    tshark_handshake_types,
    tshark_read,
)
from tests.interop.server_helpers import running_server

PKI = pki.test_pki()
TLS13_LABELS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
}


def uris(pcap: Path, keylog: Path | None) -> list[str]:
    out = tshark_read(pcap, keylog=keylog, display_filter="http.request", fields=["http.request.uri"])
    return [line.strip() for line in out.splitlines() if line.strip()]


def client_randoms(pcap: Path) -> set[str]:
    out = tshark_read(pcap, display_filter="tls.handshake.type == 1", fields=["tls.handshake.random"])
    return {line.strip().replace(":", "").lower() for line in out.splitlines() if line.strip()}


def keylog_randoms(keylog: Path) -> set[str]:
    return {line.split()[1].lower() for line in keylog.read_text().splitlines() if line and line[0] != "#"}


def test_handclasp_client_and_server_decrypt_across_key_update(keylog_path: Path) -> None:
    server_config = ServerConfig(
        certificates=(PKI.server(),), alpn_protocols=("http/1.1",), keylog_filename=None
    )
    client_config = ClientConfig(
        cadata=PKI.ca.root_pem, alpn_protocols=("http/1.1",), keylog_filename=str(keylog_path)
    )
    first = b"GET /before-key-update HTTP/1.1\r\nHost: localhost\r\n\r\n"
    second = b"GET /after-key-update HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with running_server(server_config, mode="key_update") as run:
        with tshark_capture(run.port) as pcap:
            with connect("127.0.0.1", run.port, client_config, server_name="localhost", timeout=10) as tls:
                tls.sendall(first)
                echoed = b""
                while len(echoed) < len(first):
                    echoed += tls.recv(4096)
                tls.sendall(second)  # after the server's KeyUpdate and our answer to it
                while len(echoed) < len(first) + len(second):
                    echoed += tls.recv(4096)
            record = run.wait_record(0)
    assert echoed == first + second and record.key_updates_sent == 1
    assert TLS13_LABELS <= keylog_labels(keylog_path)
    assert keylog_randoms(keylog_path) == client_randoms(pcap)  # the key log names this ClientHello

    plain = tshark_handshake_types(pcap)
    assert plain[:2] == [1, 2] and not {8, 11, 15, 20, 24} & set(plain)
    assert uris(pcap, None) == []  # nothing readable without the key log

    decrypted = tshark_handshake_types(pcap, keylog_path)
    assert {8, 25, 15, 20} <= set(decrypted)  # handclasp to handclasp: CompressedCertificate (RFC 8879)
    assert decrypted.count(24) == 2  # our server's KeyUpdate and the client's reply
    seen = uris(pcap, keylog_path)
    assert "/before-key-update" in seen
    assert "/after-key-update" in seen  # tshark followed both traffic secrets through the update


def test_handclasp_server_keylog_decrypts_openssl_client(peer_pki: PeerPKI, keylog_path: Path) -> None:
    server_config = ServerConfig(
        certificates=(PKI.server("rsa2048"),),
        alpn_protocols=("http/1.1",),
        keylog_filename=str(keylog_path),
    )
    request = b"GET /from-openssl-s-client HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with running_server(server_config, mode="http") as run:
        with tshark_capture(run.port) as pcap:
            result = run_openssl_client(
                run.port, ["-alpn", "http/1.1", "-groups", "P-384"], cafile=peer_pki.ca, input=request
            )
            record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"] and client["alpn"] == "http/1.1", result.stdout[-2000:]
    assert "hello from handclasp" in result.stdout
    assert record.negotiated is not None and record.negotiated.group.name == "SECP384R1"  # type: ignore[union-attr]
    assert TLS13_LABELS <= keylog_labels(keylog_path)
    assert keylog_randoms(keylog_path) == client_randoms(pcap)

    assert not {8, 11, 15, 20} & set(tshark_handshake_types(pcap))
    assert {8, 11, 15, 20} <= set(tshark_handshake_types(pcap, keylog_path))
    assert uris(pcap, keylog_path) == ["/from-openssl-s-client"]
    codes = tshark_read(pcap, keylog=keylog_path, display_filter="http.response", fields=["http.response.code"])
    assert codes.split() == ["200"]
    bodies = tshark_read(pcap, keylog=keylog_path, display_filter="http.response", fields=["http.file_data"])
    assert "hello from handclasp" in bodies or "68656c6c6f2066726f6d2068616e64636c617370" in bodies
