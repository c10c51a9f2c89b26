"""The handclasp server (``handclasp.io.blocking.serve``, in-process) against real TLS clients on 127.0.0.1.

Every test compares what our server recorded (``tls.negotiated``) with what the client reports itself:
openssl s_client output, gnutls-cli output, the Go client's JSON, curl -v, Deno/rustls, Python's ssl module
(OpenSSL) and curl_cffi's browser ClientHellos (BoringSSL).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

import pki
from handclasp import (
    AlertDescription,
    CipherSuite,
    NamedGroup,
    ProtocolVersion,
    ServerConfig,
    SignatureScheme,
)
from handclasp.errors import AlertReceived, CertificateVerifyError, TLSError
from handclasp.tools.certs import CertifiedKey, KeyType
from tests.interop.peers.harness import (
    PeerPKI,
    PeerProcess,
    curl_cffi_get,
    curl_get,
    deno_client,
    openssl_client_argv,
    openssl_server,
    parse_gnutls,
    parse_openssl_client,
    run_gnutls_client,
    run_go_client,
    run_openssl_client,
)
from tests.interop.server_helpers import running_server

PKI = pki.test_pki()
ECHO_INPUT = b"interop ping\n"
TLS13_ONLY = "NORMAL:-VERS-ALL:+VERS-TLS1.3"


def server_config(
    certificates: tuple[CertifiedKey, ...] | None = None, **options: object
) -> ServerConfig:
    return ServerConfig(
        certificates=certificates or (PKI.server("ecdsa-p256"),), keylog_filename=None, **options
    )  # type: ignore[arg-type]


def messages(output: str, name: str, direction: str) -> int:
    """How many handshake/record lines of ``name`` s_client -msg printed in ``direction`` ('>>>' sent)."""
    return len(re.findall(rf"{re.escape(direction)} TLS 1\.[23], [^\n]*\b{name}\b", output))


def received_ccs(output: str) -> int:
    """-msg prints a received TLS 1.3 dummy CCS only as its record header (type 0x14)."""
    return len(re.findall(r"<<< TLS 1\.[23], RecordHeader \[length 0005\]\n\s+14 03 03 00 01", output))


def received_record_lengths(output: str, content_type: int = 0x17) -> list[int]:
    """Lengths of the records of ``content_type`` s_client -msg received (from the 5-byte headers)."""
    pattern = rf"<<< TLS 1\.[23], RecordHeader \[length 0005\]\n\s+{content_type:02x} 03 03 ([0-9a-f]{{2}}) ([0-9a-f]{{2}})"
    return [int(hi + lo, 16) for hi, lo in re.findall(pattern, output, re.MULTILINE)]


# ------------------------------------------------------------------------------------ openssl s_client


@pytest.mark.parametrize("suite", list(CipherSuite)[:3], ids=lambda s: s.name)
def test_openssl_each_cipher_suite(peer_pki: PeerPKI, suite: CipherSuite) -> None:
    with running_server(server_config()) as run:
        result = run_openssl_client(
            run.port, ["-ciphersuites", suite.name], cafile=peer_pki.ca, input=ECHO_INPUT
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout + result.stderr
    assert client["version"] == "TLSv1.3" and client["verify_code"] == 0
    assert client["suite"] == suite.name
    assert record.negotiated is not None and record.negotiated.cipher_suite is suite
    assert bytes(record.received) == ECHO_INPUT and record.error is None
    assert ECHO_INPUT.decode().strip() in result.stdout  # the echo came back


OPENSSL_GROUP_NAMES = {
    NamedGroup.X25519: "X25519",
    NamedGroup.X448: "X448",
    NamedGroup.SECP256R1: "P-256",
    NamedGroup.SECP384R1: "P-384",
    NamedGroup.SECP521R1: "P-521",
    NamedGroup.FFDHE2048: "ffdhe2048",
    NamedGroup.FFDHE3072: "ffdhe3072",
    NamedGroup.FFDHE4096: "ffdhe4096",
}


@pytest.mark.parametrize("group", list(OPENSSL_GROUP_NAMES), ids=lambda g: g.name)
def test_openssl_each_group(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with running_server(server_config()) as run:
        result = run_openssl_client(
            run.port,
            ["-groups", OPENSSL_GROUP_NAMES[group], "-msg"],
            cafile=peer_pki.ca,
            input=ECHO_INPUT,
            linger=1.5 if group.name.startswith("FFDHE") else 0.5,
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["group"] == group.name
    assert record.negotiated is not None and record.negotiated.group is group
    assert record.negotiated.hello_retry is False  # s_client's share is for its only group
    assert messages(result.stdout, "ClientHello", ">>>") == 1
    assert bytes(record.received) == ECHO_INPUT


def test_openssl_hello_retry_request(peer_pki: PeerPKI) -> None:
    config = server_config(groups=(NamedGroup.SECP256R1,))
    with running_server(config) as run:
        result = run_openssl_client(
            run.port, ["-groups", "X25519:P-256", "-msg"], cafile=peer_pki.ca, input=ECHO_INPUT
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["group"] == "SECP256R1"
    # s_client sent two ClientHellos and received two ServerHellos (the first is the HelloRetryRequest)
    assert messages(result.stdout, "ClientHello", ">>>") == 2
    assert messages(result.stdout, "ServerHello", "<<<") == 2
    assert received_ccs(result.stdout) == 1  # RFC 8446 D.4: one dummy CCS, right after the HRR
    assert record.negotiated is not None and record.negotiated.hello_retry is True
    assert record.negotiated.group is NamedGroup.SECP256R1
    assert bytes(record.received) == ECHO_INPUT


def test_openssl_hello_retry_request_to_ffdhe(peer_pki: PeerPKI) -> None:
    config = server_config(groups=(NamedGroup.FFDHE3072, NamedGroup.SECP256R1))
    with running_server(config) as run:
        result = run_openssl_client(
            run.port, ["-groups", "X25519:ffdhe3072", "-msg"], cafile=peer_pki.ca, input=ECHO_INPUT, linger=1.5
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["group"] == "FFDHE3072"
    assert messages(result.stdout, "ClientHello", ">>>") == 2
    assert record.negotiated is not None and record.negotiated.hello_retry is True
    assert record.negotiated.group is NamedGroup.FFDHE3072


@pytest.mark.parametrize(
    ("args", "groups", "alert"),
    [
        (["-tls1_2"], None, 70),  # protocol_version: we speak TLS 1.3 only
        (["-groups", "X25519"], (NamedGroup.SECP256R1,), 40),  # handshake_failure: no common group
        (["-ciphersuites", "TLS_AES_128_CCM_SHA256"], None, 40),  # handshake_failure: no common suite
    ],
    ids=["tls12_only", "no_common_group", "no_common_suite"],
)
def test_openssl_incompatible_client_gets_the_right_alert(
    peer_pki: PeerPKI, args: list[str], groups: tuple[NamedGroup, ...] | None, alert: int
) -> None:
    # TLS 1.3-only server (TLS 1.2 is covered in test_tls12_interop.py).
    only13 = {"versions": (ProtocolVersion.TLS1_3,)}
    config = server_config(groups=groups, **only13) if groups else server_config(**only13)
    with running_server(config) as run:
        result = run_openssl_client(run.port, args, cafile=peer_pki.ca, input=ECHO_INPUT, linger=1.0)
        error = run.wait_handshake_error()
    assert parse_openssl_client(result.stdout)["ok"] is False
    assert f"alert number {alert}" in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]
    assert isinstance(error, TLSError) and error.alert is not None and int(error.alert) == alert


def test_openssl_max_fragment_length(peer_pki: PeerPKI) -> None:
    line = b"m" * 1500 + b"\n"
    with running_server(server_config()) as run:
        result = run_openssl_client(run.port, ["-maxfraglen", "512", "-msg"], cafile=peer_pki.ca, input=line)
        record = run.wait_record(0)
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert bytes(record.received) == line
    assert sum(len(run_) for run_ in re.findall(r"m{16,}", result.stdout)) == 1500  # echoed, -msg lines between
    lengths = received_record_lengths(result.stdout)
    assert len(lengths) >= 4  # EE..Finished (one or more) plus at least 3 application records
    assert max(lengths) <= 512 + 1 + 16  # RFC 6066: 512 content bytes + inner type + AEAD tag


def test_our_record_padding_reaches_openssl(peer_pki: PeerPKI) -> None:
    with running_server(server_config(record_padding_block=64)) as run:
        result = run_openssl_client(run.port, ["-msg"], cafile=peer_pki.ca, input=b"pad me\n" * 20)
        record = run.wait_record(0)
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert bytes(record.received) == b"pad me\n" * 20
    assert result.stdout.count("pad me") >= 20  # all echoed, padding stripped by OpenSSL
    # the application data records (after the handshake) are padded to multiples of 64 (plus the 16-byte tag)
    after_handshake = result.stdout.split("], Finished\n")[-1]  # after the client's Finished
    data_lengths = received_record_lengths(after_handshake)
    assert data_lengths and all((length - 16) % 64 == 0 for length in data_lengths), data_lengths


SIGNATURE_CASES: list[tuple[KeyType, str, SignatureScheme, str, str | None]] = [
    # server key type, s_client -sigalgs, expected scheme, s_client "Peer signature type", "Peer signing digest"
    ("ecdsa-p256", "ecdsa_secp256r1_sha256", SignatureScheme.ECDSA_SECP256R1_SHA256, "ECDSA", "SHA256"),
    ("ecdsa-p384", "ecdsa_secp384r1_sha384", SignatureScheme.ECDSA_SECP384R1_SHA384, "ECDSA", "SHA384"),
    ("ecdsa-p521", "ecdsa_secp521r1_sha512", SignatureScheme.ECDSA_SECP521R1_SHA512, "ECDSA", "SHA512"),
    ("rsa2048", "rsa_pss_rsae_sha256", SignatureScheme.RSA_PSS_RSAE_SHA256, "RSA-PSS", "SHA256"),
    ("rsa2048", "rsa_pss_rsae_sha384", SignatureScheme.RSA_PSS_RSAE_SHA384, "RSA-PSS", "SHA384"),
    ("rsa2048", "rsa_pss_rsae_sha512", SignatureScheme.RSA_PSS_RSAE_SHA512, "RSA-PSS", "SHA512"),
    ("ed25519", "ed25519", SignatureScheme.ED25519, "ed25519", None),
    ("ed448", "ed448", SignatureScheme.ED448, "ed448", None),
]


@pytest.mark.parametrize(
    ("key_type", "sigalgs", "scheme", "sig_type", "digest"), SIGNATURE_CASES, ids=[c[1] for c in SIGNATURE_CASES]
)
def test_openssl_each_signature_scheme(
    peer_pki: PeerPKI,
    key_type: KeyType,
    sigalgs: str,
    scheme: SignatureScheme,
    sig_type: str,
    digest: str | None,
) -> None:
    with running_server(server_config((PKI.server(key_type),))) as run:
        result = run_openssl_client(run.port, ["-sigalgs", sigalgs], cafile=peer_pki.ca, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["verify_code"] == 0
    assert client["peer_signature_type"] == sig_type
    if digest is not None:
        assert client["peer_signing_digest"] == digest
    assert record.negotiated is not None and record.negotiated.signature_scheme is scheme


def test_openssl_alpn(peer_pki: PeerPKI) -> None:
    config = server_config(alpn_protocols=("http/1.1", "h2"))
    with running_server(config) as run:
        result = run_openssl_client(
            run.port, ["-alpn", "h2,http/1.1"], cafile=peer_pki.ca, input=ECHO_INPUT
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    # RFC 7301 §3.2: the server picks by its own preference among what the client offered
    assert client["alpn"] == "http/1.1"
    assert record.negotiated is not None and record.negotiated.alpn_protocol == "http/1.1"


def test_openssl_alpn_without_overlap_gets_no_application_protocol(peer_pki: PeerPKI) -> None:
    with running_server(server_config(alpn_protocols=("h2",))) as run:
        result = run_openssl_client(run.port, ["-alpn", "spdy/3"], cafile=peer_pki.ca, input=ECHO_INPUT)
        error = run.wait_handshake_error()
    assert parse_openssl_client(result.stdout)["ok"] is False
    assert "alert number 120" in result.stdout + result.stderr  # no_application_protocol
    assert isinstance(error, TLSError)


@pytest.mark.parametrize("servername", ["localhost", pki.OTHER_NAME])
def test_openssl_sni_selects_the_certificate(peer_pki: PeerPKI, servername: str) -> None:
    config = server_config((PKI.server("ecdsa-p256"), PKI.other))
    with running_server(config) as run:
        result = run_openssl_client(
            run.port, [], servername=servername, cafile=peer_pki.ca, input=ECHO_INPUT
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["verify_code"] == 0  # -verify_hostname servername passed
    assert f"CN = {servername}" in result.stdout
    assert record.negotiated is not None and record.negotiated.server_name == servername


@pytest.mark.parametrize("sni", ["unknown.example", None], ids=["unknown_name", "no_sni"])
def test_openssl_unknown_or_absent_sni_gets_the_default_certificate(sni: str | None) -> None:
    config = server_config((PKI.server("ecdsa-p256"), PKI.other))
    args = ["-servername", sni] if sni else ["-noservername"]
    with running_server(config) as run:
        result = run_openssl_client(run.port, args, servername=None, cafile=None, input=ECHO_INPUT)
        record = run.wait_record(0)
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert re.search(r"^ 0 s:O = handclasp, CN = localhost$", result.stdout, re.MULTILINE)
    assert record.negotiated is not None and record.negotiated.server_name == sni


def test_openssl_fragmented_client_hello_and_client_certificate(peer_pki: PeerPKI) -> None:
    """-max_send_frag 512 with an ffdhe4096 share: the ClientHello spans two plaintext records and the client
    Certificate several protected ones; our server reassembles both."""
    config = server_config(client_auth="require", client_cadata=PKI.ca.root_pem)
    args = ["-groups", "ffdhe4096", "-max_send_frag", "512", "-msg"]
    args += ["-cert", str(peer_pki.client_cert), "-key", str(peer_pki.client_key)]
    with running_server(config) as run:
        result = run_openssl_client(run.port, args, cafile=peer_pki.ca, input=ECHO_INPUT, linger=1.5)
        record = run.wait_record(0)
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    hello_records = re.findall(r">>> TLS 1\.0, RecordHeader \[length 0005\]\n\s+16 03 01 ([0-9a-f]{2} [0-9a-f]{2})", result.stdout)
    assert len(hello_records) == 2, hello_records
    sent = dict((name, int(length, 16)) for length, name in re.findall(
        r">>> TLS 1\.3, Handshake \[length ([0-9a-f]+)\], (\w+)", result.stdout))
    assert sent["ClientHello"] > 512 and sent["Certificate"] > 512
    assert record.negotiated is not None and record.negotiated.group is NamedGroup.FFDHE4096
    assert record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert bytes(record.received) == ECHO_INPUT


def test_openssl_client_certificate_required(peer_pki: PeerPKI) -> None:
    config = server_config(client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        result = run_openssl_client(
            run.port,
            ["-cert", str(peer_pki.client_cert), "-key", str(peer_pki.client_key)],
            cafile=peer_pki.ca,
            input=ECHO_INPUT,
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert record.negotiated is not None and record.negotiated.client_certificate_requested
    certs = record.negotiated.peer_certificates
    assert certs and certs[0] == PKI.client.leaf
    assert bytes(record.received) == ECHO_INPUT


def test_openssl_without_required_client_certificate_gets_alert_116(peer_pki: PeerPKI) -> None:
    config = server_config(client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        result = run_openssl_client(run.port, [], cafile=peer_pki.ca, input=ECHO_INPUT, linger=1.0)
        error = run.wait_handshake_error()
    output = result.stdout + result.stderr
    assert "alert number 116" in output or "certificate required" in output, output[-3000:]
    assert isinstance(error, TLSError)
    assert ECHO_INPUT.decode().strip() not in result.stdout


def test_openssl_client_certificate_from_an_unknown_ca_is_refused(peer_pki: PeerPKI, tmp_path: Path) -> None:
    stranger = PKI.unrelated_ca.issue(["client.unrelated.test"], client=True)
    stranger.write_pem(tmp_path / "stranger.pem", tmp_path / "stranger.key")
    config = server_config(client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        result = run_openssl_client(
            run.port,
            ["-cert", str(tmp_path / "stranger.pem"), "-key", str(tmp_path / "stranger.key")],
            cafile=peer_pki.ca,
            input=ECHO_INPUT,
            linger=1.0,
        )
        error = run.wait_handshake_error()
    assert isinstance(error, CertificateVerifyError), repr(error)
    assert "alert number 48" in result.stdout + result.stderr  # unknown_ca
    assert ECHO_INPUT.decode().strip() not in result.stdout


def test_openssl_client_certificate_requested_but_absent(peer_pki: PeerPKI) -> None:
    config = server_config(client_auth="request", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        result = run_openssl_client(run.port, [], cafile=peer_pki.ca, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert record.negotiated is not None
    assert record.negotiated.client_certificate_requested is True
    assert record.negotiated.peer_certificates == ()
    assert bytes(record.received) == ECHO_INPUT


def _interactive_s_client(port: int, cafile: Path, *args: str) -> PeerProcess:
    """s_client in interactive mode (no -quiet/-ign_eof: its 'k'/'K' commands work), with -msg."""
    process = PeerProcess("openssl s_client", openssl_client_argv(port, ["-msg", *args], cafile=cafile))
    process.wait_for(r"Verify return code: 0", timeout=20, stream="stdout")
    return process


def test_openssl_client_key_updates_and_our_server_keeps_echoing(peer_pki: PeerPKI) -> None:
    with running_server(server_config()) as run:
        client = _interactive_s_client(run.port, peer_pki.ca)
        try:
            client.send_stdin(b"k\n")  # KeyUpdate, update_not_requested
            client.wait_for(r"KEYUPDATE", 10, stream="stderr")
            client.send_stdin(b"after-small-k\n")
            client.wait_for(r"^after-small-k$", 10, stream="stdout")
            client.send_stdin(b"K\n")  # KeyUpdate, update_requested: our server must answer with its own
            client.wait_for(r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate", 10, stream="stdout")
            client.send_stdin(b"after-big-K\n")
            client.wait_for(r"^after-big-K$", 10, stream="stdout")
        finally:
            client.stop()
        record = run.wait_record(0)
    output = client.stdout()
    assert messages(output, "KeyUpdate", ">>>") == 2
    assert messages(output, "KeyUpdate", "<<<") == 1  # our answer to update_requested, and only that one
    assert bytes(record.received) == b"after-small-k\nafter-big-K\n"
    assert record.error is None or isinstance(record.error, TLSError)  # s_client may leave without close


def test_our_server_key_update_while_openssl_client_reads(peer_pki: PeerPKI) -> None:
    with running_server(server_config(), mode="key_update") as run:
        client = _interactive_s_client(run.port, peer_pki.ca)
        try:
            client.send_stdin(b"first\n")
            client.wait_for(r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate", 10, stream="stdout")
            client.wait_for(r"^first$", 10, stream="stdout")  # echoed under our new key
            # OpenSSL answers update_requested with its own KeyUpdate before its next write
            client.send_stdin(b"second\n")
            client.wait_for(r">>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate", 10, stream="stdout")
            client.wait_for(r"^second$", 10, stream="stdout")  # we read under the client's new key
        finally:
            client.stop()
        record = run.wait_record(0)
    output = client.stdout()
    assert messages(output, "KeyUpdate", "<<<") == 1  # ours
    assert messages(output, "KeyUpdate", ">>>") == 1  # s_client's reply (we requested it)
    assert record.key_updates_sent == 1
    assert bytes(record.received) == b"first\nsecond\n"


def test_openssl_client_record_padding_and_post_handshake_auth_offer(peer_pki: PeerPKI) -> None:
    """s_client pads its records to 512 bytes and offers post_handshake_auth: we strip and ignore."""
    line = b"p" * 700 + b"\n"
    with running_server(server_config()) as run:
        result = run_openssl_client(
            run.port, ["-record_padding", "512", "-enable_pha"], cafile=peer_pki.ca, input=line
        )
        record = run.wait_record(0)
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert bytes(record.received) == line and record.error is None
    assert "p" * 700 in result.stdout


def _openssl_session(peer_pki: PeerPKI, path: Path) -> Path:
    """A TLS 1.3 session (ticket allowing early data) from openssl s_server, saved by s_client -sess_out."""
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, www=False, extra_args=["-early_data"]) as port:
        done = run_openssl_client(port, ["-sess_out", str(path)], cafile=peer_pki.ca, input=b"x\n", linger=1.0)
    assert parse_openssl_client(done.stdout)["ok"] and path.stat().st_size > 0, done.stdout[-2000:]
    return path


def test_openssl_client_offering_a_foreign_psk_gets_a_full_handshake(peer_pki: PeerPKI, tmp_path: Path) -> None:
    session = _openssl_session(peer_pki, tmp_path / "session.pem")
    with running_server(server_config()) as run:
        result = run_openssl_client(run.port, ["-sess_in", str(session)], cafile=peer_pki.ca, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["resumed"] is False and client["verify_code"] == 0  # PSK ignored, certificate sent
    assert record.negotiated is not None and record.negotiated.resumed is False
    assert bytes(record.received) == ECHO_INPUT


def test_openssl_client_early_data_is_rejected_and_skipped(peer_pki: PeerPKI, tmp_path: Path) -> None:
    session = _openssl_session(peer_pki, tmp_path / "session.pem")
    early = tmp_path / "early.txt"
    early.write_bytes(b"0-RTT line that must be skipped\n")
    with running_server(server_config()) as run:
        result = run_openssl_client(
            run.port,
            ["-sess_in", str(session), "-early_data", str(early)],
            cafile=peer_pki.ca,
            input=ECHO_INPUT,
            linger=1.0,
        )
        deadline = time.monotonic() + 5
        while not run.records and not run.handshake_errors and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.handshake_errors == [], run.handshake_errors  # today: [(addr, BadRecordMac(...))]
        record = run.wait_record(0, timeout=5)
    client = parse_openssl_client(result.stdout)
    assert client["ok"] and client["early_data"] is False, result.stdout[-3000:] + result.stderr
    assert bytes(record.received) == ECHO_INPUT  # the early data never reaches the application


@pytest.mark.parametrize("middlebox", [True, False], ids=["compat", "no_middlebox"])
def test_openssl_middlebox_compatibility_ccs(peer_pki: PeerPKI, middlebox: bool) -> None:
    args = ["-msg"] if middlebox else ["-msg", "-no_middlebox"]
    with running_server(server_config()) as run:
        result = run_openssl_client(run.port, args, cafile=peer_pki.ca, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    sent = messages(result.stdout, "ChangeCipherSpec", ">>>")
    received = received_ccs(result.stdout)
    if middlebox:
        assert sent == 1 and received == 1  # RFC 8446 D.4: both sides send one dummy CCS
    else:
        assert sent == 0
        assert received == 0  # the client sent an empty legacy_session_id: no compat mode
    assert bytes(record.received) == ECHO_INPUT


# ------------------------------------------------------------------------------------ gnutls-cli


GNUTLS_GROUPS = ["X25519", "X448", "SECP384R1", "FFDHE3072"]


@pytest.mark.parametrize("group", GNUTLS_GROUPS)
def test_gnutls_groups(peer_pki: PeerPKI, group: str) -> None:
    priority = f"{TLS13_ONLY}:-GROUP-ALL:+GROUP-{group}"
    with running_server(server_config()) as run:
        result = run_gnutls_client(run.port, cafile=peer_pki.ca, priority=priority, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["version"] == "TLSv1.3" and client["group"] == group
    assert record.negotiated is not None and record.negotiated.group.name == group  # type: ignore[union-attr]
    assert record.negotiated.hello_retry is False
    assert client["suite"] == record.negotiated.cipher_suite.name
    assert bytes(record.received) == ECHO_INPUT


def test_gnutls_chacha20_and_signature(peer_pki: PeerPKI) -> None:
    priority = f"{TLS13_ONLY}:-CIPHER-ALL:+CHACHA20-POLY1305"
    with running_server(server_config((PKI.server("rsa2048"),))) as run:
        result = run_gnutls_client(run.port, cafile=peer_pki.ca, priority=priority, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["suite"] == "TLS_CHACHA20_POLY1305_SHA256"
    assert record.negotiated is not None
    assert record.negotiated.cipher_suite is CipherSuite.TLS_CHACHA20_POLY1305_SHA256
    assert record.negotiated.signature_scheme is not None
    assert client["signature"] == record.negotiated.signature_scheme.name.replace("_", "-")
    assert bytes(record.received) == ECHO_INPUT


def test_gnutls_client_certificate_and_alpn(peer_pki: PeerPKI) -> None:
    config = server_config(
        client_auth="require", client_cadata=PKI.ca.root_pem, alpn_protocols=("h2", "http/1.1")
    )
    with running_server(config) as run:
        result = run_gnutls_client(
            run.port,
            cafile=peer_pki.ca,
            priority=TLS13_ONLY,
            alpn=["http/1.1"],
            cert=peer_pki.client_cert,
            key=peer_pki.client_key,
            input=ECHO_INPUT,
        )
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["alpn"] == "http/1.1"
    assert record.negotiated is not None and record.negotiated.alpn_protocol == "http/1.1"
    assert record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert bytes(record.received) == ECHO_INPUT


def test_gnutls_record_size_limit(peer_pki: PeerPKI) -> None:
    """gnutls-cli --recordsize=512 sends record_size_limit (RFC 8449): our 8x echo must fit 512-byte records."""
    line = b"s" * 400 + b"\n"
    with running_server(server_config(), mode="repeat") as run:
        result = run_gnutls_client(
            run.port, cafile=peer_pki.ca, priority=TLS13_ONLY, input=line, extra_args=["--recordsize=512"], linger=1.0
        )
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert bytes(record.received) == line and record.error is None
    assert result.stdout.count("s" * 400) == 8, result.stdout[-3000:] + result.stderr  # all 3208 bytes arrived
    assert "Error" not in result.stderr


def test_gnutls_rekey_inline_commands(peer_pki: PeerPKI) -> None:
    """gnutls-cli ^rekey^ (KeyUpdate, update_requested) and ^rekey1^ (ours not requested) between lines."""
    lines = b"one\n^rekey^\ntwo\n^rekey1^\nthree\n"
    with running_server(server_config()) as run:
        result = run_gnutls_client(
            run.port, cafile=peer_pki.ca, input=lines, extra_args=["--inline-commands"], linger=1.5
        )
        record = run.wait_record(0)
    assert parse_gnutls(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert result.stdout.count("- Rekey was completed") == 2
    assert re.search(r"^one\ntwo\nthree$", result.stdout, re.MULTILINE)  # echoed under the new keys
    assert bytes(record.received) == b"one\ntwo\nthree\n" and record.error is None


# ------------------------------------------------------------------------------------ Go crypto/tls


@pytest.mark.parametrize(
    ("go_groups", "group"),
    [
        ("X25519", NamedGroup.X25519),
        ("P256", NamedGroup.SECP256R1),
        ("P384", NamedGroup.SECP384R1),
        ("P521", NamedGroup.SECP521R1),
    ],
)
def test_go_client_groups(peer_pki: PeerPKI, go_groups: str, group: NamedGroup) -> None:
    with running_server(server_config()) as run:
        report = run_go_client(run.port, cafile=peer_pki.ca, groups=go_groups, send="go ping")
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3" and report["group"] == group.name
    assert report["hello_retry"] is False
    assert report["received"] == "go ping"
    assert record.negotiated is not None and record.negotiated.group is group
    assert report["suite"] == record.negotiated.cipher_suite.name


def test_go_default_client_prefers_mlkem_and_we_pick_its_hybrid_share(peer_pki: PeerPKI) -> None:
    """Go's default ClientHello has X25519MLKEM768 and X25519 shares: the hybrid without HelloRetryRequest."""
    with running_server(server_config()) as run:
        report = run_go_client(run.port, cafile=peer_pki.ca, send="pq")
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["group"] == "X25519MLKEM768" and report["hello_retry"] is False
    assert record.negotiated is not None
    assert record.negotiated.group is NamedGroup.X25519MLKEM768 and record.negotiated.hello_retry is False


def test_go_client_alpn_mtls_and_exporter(peer_pki: PeerPKI) -> None:
    config = server_config(
        client_auth="require", client_cadata=PKI.ca.root_pem, alpn_protocols=("h2", "http/1.1")
    )
    with running_server(config) as run:
        report = run_go_client(
            run.port,
            cafile=peer_pki.ca,
            alpn=["http/1.1", "h2"],
            cert=peer_pki.client_cert,
            key=peer_pki.client_key,
            ekm="EXPORTER-handclasp",
            send="mtls",
        )
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["alpn"] == "h2"  # our preference wins
    assert record.negotiated is not None and record.negotiated.alpn_protocol == "h2"
    assert record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert report["ekm"] and report["ekm"] == record.ekm  # RFC 8446 §7.5, same on both ends
    assert report["received"] == "mtls"


def test_go_client_hello_retry_to_p384(peer_pki: PeerPKI) -> None:
    with running_server(server_config(groups=(NamedGroup.SECP384R1,))) as run:
        report = run_go_client(run.port, cafile=peer_pki.ca, send="hrr")
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["group"] == "SECP384R1" and report["hello_retry"] is True
    assert record.negotiated is not None and record.negotiated.hello_retry is True
    assert report["received"] == "hrr"


def test_go_client_sni_other_certificate_and_our_key_update(peer_pki: PeerPKI) -> None:
    config = server_config((PKI.server("ecdsa-p384"), PKI.other))
    with running_server(config, mode="key_update") as run:
        report = run_go_client(
            run.port, cafile=peer_pki.ca, servername=pki.OTHER_NAME, send="after our KeyUpdate"
        )
        record = run.wait_record(0)
    assert report["ok"], report
    assert any(pki.OTHER_NAME in subject for subject in report["peer_subjects"]), report["peer_subjects"]
    assert report["received"] == "after our KeyUpdate"  # read under our updated key
    assert record.negotiated is not None and record.negotiated.server_name == pki.OTHER_NAME
    assert record.key_updates_sent == 1


def test_go_client_large_echo(peer_pki: PeerPKI) -> None:
    payload = "0123456789abcdef" * 6000  # 96000 bytes (an argv string must stay under 128 KiB)
    with running_server(server_config()) as run:
        report = run_go_client(run.port, cafile=peer_pki.ca, send=payload)
        record = run.wait_record(0)
    assert report["ok"], {k: v for k, v in report.items() if k != "received"}
    assert report["received_len"] == len(payload)
    assert payload.startswith(report["received"])  # the report keeps the first 4096 characters
    assert bytes(record.received) == payload.encode()


# ------------------------------------------------------------------------------------ Deno (rustls)


def test_deno_client_handshake_echo_alpn(peer_pki: PeerPKI) -> None:
    with running_server(server_config(alpn_protocols=("http/1.1",))) as run:
        report = deno_client(run.port, cafile=peer_pki.ca, alpn=["h2", "http/1.1"], send="from rustls")
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3" and report["alpn"] == "http/1.1"
    assert report["received"] == "from rustls"
    assert record.negotiated is not None and record.negotiated.alpn_protocol == "http/1.1"
    # rustls offers X25519MLKEM768 first with an X25519 share beside it
    assert record.negotiated.group is NamedGroup.X25519 and record.negotiated.hello_retry is False


def test_deno_client_reads_after_our_key_update(peer_pki: PeerPKI) -> None:
    with running_server(server_config((PKI.server("ed25519"),)), mode="key_update") as run:
        report = deno_client(run.port, cafile=peer_pki.ca, send="rustls after KeyUpdate")
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["received"] == "rustls after KeyUpdate"
    assert record.key_updates_sent == 1
    assert record.negotiated is not None and record.negotiated.signature_scheme is SignatureScheme.ED25519


# ------------------------------------------------------------------------------------ Python ssl / asyncio


def _client_context(peer_pki: PeerPKI, *, client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(peer_pki.ca))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    if client_cert:
        context.load_cert_chain(str(peer_pki.client_cert), str(peer_pki.client_key))
    return context


MIB = 1024 * 1024
CHUNK = 64 * 1024


def test_python_ssl_client_mtls_and_one_mib_echo(peer_pki: PeerPKI) -> None:
    payload = bytes(range(256)) * (MIB // 256)
    config = server_config(client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        echoed = bytearray()
        with socket.create_connection(("127.0.0.1", run.port), timeout=20) as raw:
            context = _client_context(peer_pki, client_cert=True)
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.version() == "TLSv1.3"
                cipher = tls.cipher()
                for start in range(0, MIB, CHUNK):  # lock-step, so neither side blocks the other
                    tls.sendall(payload[start : start + CHUNK])
                    target = start + CHUNK
                    while len(echoed) < target:
                        data = tls.recv(CHUNK)
                        assert data, "server closed early"
                        echoed += data
                tls.unwrap()  # close_notify both ways
        record = run.wait_record(0)
    assert bytes(echoed) == payload
    assert record.negotiated is not None and cipher is not None
    assert cipher[0] == record.negotiated.cipher_suite.name
    assert record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert record.clean_close and len(record.received) == MIB


def test_asyncio_ssl_client(peer_pki: PeerPKI) -> None:
    payload = b"asyncio line\n" * 5000

    async def main(port: int) -> tuple[bytes, object]:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=_client_context(peer_pki), server_hostname="localhost"
        )
        writer.write(payload)
        await writer.drain()
        echoed = await asyncio.wait_for(reader.readexactly(len(payload)), 20)
        version = writer.get_extra_info("ssl_object").version()
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 10)
        return echoed, version

    with running_server(server_config(alpn_protocols=("http/1.1",))) as run:
        echoed, version = asyncio.run(main(run.port))
        record = run.wait_record(0)
    assert echoed == payload and version == "TLSv1.3"
    assert bytes(record.received) == payload
    assert record.negotiated is not None and record.negotiated.alpn_protocol is None


# ------------------------------------------------------------------------------------ curl (OpenSSL 3.0)


@pytest.mark.parametrize(
    ("curves", "group"), [("X25519", NamedGroup.X25519), ("P-384", NamedGroup.SECP384R1)]
)
def test_curl_get(peer_pki: PeerPKI, curves: str, group: NamedGroup) -> None:
    with running_server(server_config(alpn_protocols=("http/1.1",)), mode="http") as run:
        result = curl_get(
            f"https://localhost:{run.port}/hello",
            peer_pki.ca,
            extra_args=["--tlsv1.3", "--curves", curves],
        )
        record = run.wait_record(0)
    assert result["ok"], result["error"]
    assert result["status"] == 200 and result["version"] == "TLSv1.3"
    assert result["alpn"] == "http/1.1" and result["http_version"] == "1.1"  # curl offered h2 too
    assert record.negotiated is not None
    assert result["suite"] == record.negotiated.cipher_suite.name
    assert record.negotiated.group is group and record.negotiated.alpn_protocol == "http/1.1"
    assert f"group={group.name}" in result["body"]
    assert record.received.startswith(b"GET /hello HTTP/1.1\r\n")


def test_curl_chacha20_and_client_certificate(peer_pki: PeerPKI) -> None:
    config = server_config(alpn_protocols=("http/1.1",), client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config, mode="http") as run:
        result = curl_get(
            f"https://localhost:{run.port}/mtls",
            peer_pki.ca,
            extra_args=[
                "--tlsv1.3",
                "--tls13-ciphers",
                "TLS_CHACHA20_POLY1305_SHA256",
                "--cert",
                str(peer_pki.client_cert),
                "--key",
                str(peer_pki.client_key),
            ],
        )
        record = run.wait_record(0)
    assert result["ok"], result["error"]
    assert result["status"] == 200 and result["suite"] == "TLS_CHACHA20_POLY1305_SHA256"
    assert record.negotiated is not None
    assert record.negotiated.cipher_suite is CipherSuite.TLS_CHACHA20_POLY1305_SHA256
    assert record.negotiated.peer_certificates[0] == PKI.client.leaf


# ------------------------------------------------------------------------------------ curl_cffi (browsers)


@pytest.mark.parametrize("browser", ["chrome", "firefox", "safari"])
def test_curl_cffi_browser_client_hello(peer_pki: PeerPKI, browser: str) -> None:
    """A real browser ClientHello (GREASE, X25519MLKEM768, compress_certificate, ALPS, ECH GREASE, ...):
    the X25519MLKEM768 share is taken (issue #4), no HelloRetryRequest, and the response arrives."""
    with running_server(server_config(alpn_protocols=("http/1.1",)), mode="http") as run:
        result = curl_cffi_get(f"https://localhost:{run.port}/", browser, cafile=peer_pki.ca)
        record = run.wait_record(0)
    assert result["ok"], (result["error"], run.handshake_errors)
    assert result["status"] == 200 and result["http_version"] == "1.1"
    assert "hello from handclasp" in result["body"]
    assert record.negotiated is not None
    assert record.negotiated.group is NamedGroup.X25519MLKEM768
    assert record.negotiated.hello_retry is False
    assert record.negotiated.alpn_protocol == "http/1.1"
    assert record.negotiated.server_name == "localhost"


# ------------------------------------------------------------------------------------ sanity of the server side


def test_client_refusing_our_certificate_fails_both_ends(peer_pki: PeerPKI) -> None:
    with running_server(server_config()) as run:
        result = run_openssl_client(
            run.port, [], cafile=peer_pki.path("unrelated-ca.pem"), input=ECHO_INPUT, linger=1.0
        )
        error = run.wait_handshake_error()
    assert "certificate verify failed" in result.stderr
    assert "Verify return code: 20" in result.stdout  # unable to get local issuer certificate
    assert isinstance(error, TLSError)
    assert run.records == []  # the handler never ran


def test_openssl_plaintext_unknown_ca_alert_is_reported_as_the_alert(peer_pki: PeerPKI) -> None:
    with running_server(server_config()) as run:
        run_openssl_client(run.port, [], cafile=peer_pki.path("unrelated-ca.pem"), input=ECHO_INPUT, linger=1.0)
        error = run.wait_handshake_error()
    assert isinstance(error, AlertReceived), repr(error)
    assert error.description is AlertDescription.UNKNOWN_CA


def test_many_clients_at_once(peer_pki: PeerPKI) -> None:
    """Four OpenSSL clients in parallel threads against one server: each gets its own echo."""
    results: dict[int, str] = {}
    with running_server(server_config()) as run:

        def one(i: int) -> None:
            done = run_openssl_client(run.port, [], cafile=peer_pki.ca, input=f"client-{i}\n".encode())
            results[i] = done.stdout

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        received = sorted(bytes(run.wait_record(i).received) for i in range(4))
    assert received == [f"client-{i}\n".encode() for i in range(4)]
    for i in range(4):
        assert re.search(rf"^client-{i}$", results[i], re.MULTILINE)
