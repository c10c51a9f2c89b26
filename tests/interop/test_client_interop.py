"""The handclasp client against real TLS 1.3 servers on 127.0.0.1: OpenSSL s_server, Go crypto/tls,
gnutls-serv (in a network namespace), Deno (rustls) and Python's ssl module.

Every test checks the negotiated values on both sides: ours from ``TLSSocket.negotiated`` and the
server's from its own report (``s_server -trace`` / ``-www`` page, the Go server's JSON line, gnutls-serv's
"Description" line, the Deno server's key log, the Python server's SSLSocket).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from handclasp import (
    AlertDescription,
    AlertReceived,
    CertificateProblem,
    CertificateVerifyError,
    CipherSuite,
    ConnectionClosed,
    Misbehaviour,
    NamedGroup,
    PeerMisbehaved,
    ProtocolVersion,
    SignatureScheme,
    events,
)
from tests.interop.client_helpers import (
    IO_TIMEOUT,
    ClientRun,
    client_config,
    echo_concurrently,
    gnutls_server_details,
    http_get,
    load_client_cert,
    open_client,
    openssl_group_name,
    parse_openssl_trace_records,
    parse_s_server_www,
    python_ssl_server,
    read_exactly,
    read_until,
    read_until_close,
    record_headers,
    sans_io_failed_handshake,
    sans_io_http_get,
    script_argv,
    script_report,
    trace_view,
)
from tests.interop.peers.harness import (
    PeerPKI,
    PeerServer,
    deno_server,
    gnutls_server_scenario,
    go_server,
    openssl_server,
    parse_gnutls,
    peer_server,
    require,
    require_binary,
)

TLS13 = ProtocolVersion.TLS1_3
ALL_SUITES = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
# handclasp group -> the name ``openssl s_server -groups`` takes
OPENSSL_GROUP_ARG = {
    NamedGroup.X25519: "X25519",
    NamedGroup.X448: "X448",
    NamedGroup.SECP256R1: "P-256",
    NamedGroup.SECP384R1: "P-384",
    NamedGroup.SECP521R1: "P-521",
    NamedGroup.FFDHE2048: "ffdhe2048",
    NamedGroup.FFDHE3072: "ffdhe3072",
    NamedGroup.FFDHE4096: "ffdhe4096",
}
SERVER_CERTS = {"ecdsa": "server-ecdsa-p256", "rsa": "server-rsa2048"}
MIB = 1 << 20


def www_suite(page: str) -> str | None:
    return parse_s_server_www(page.encode())["suite"]


def _ascii_payload(size: int) -> bytes:
    """Random but printable. The Go server copies the first 4 KiB it read into its JSON report; Go's JSON
    leaves U+0085 (NEL, bytes C2 85) unescaped and the harness splits stdout with str.splitlines(), which
    breaks lines there too, so random binary loses the report about 6% of the time."""
    return base64.b64encode(os.urandom(size))[:size]


def _cert(pki: PeerPKI, stem: str) -> tuple[Path, Path]:
    return pki.path(f"{stem}.pem"), pki.path(f"{stem}.key")


def _settled(server: PeerServer, timeout: float = 10.0) -> str:
    """Everything the (``-naccept 1``) s_server printed, once it has exited after its one connection:
    its -trace output is buffered and only complete at exit."""
    process = server.process
    try:
        process.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"s_server did not exit after its connection\n{process.describe()}") from None
    for thread in process._threads:  # the output readers end at EOF
        thread.join(5)
    return server.output()


def _openssl(pki: PeerPKI, stem: str = "server-ecdsa-p256", *args: str, www: bool = True, **kw: Any) -> Any:
    cert, key = _cert(pki, stem)
    return openssl_server(
        cert, key, www=www, tls13_only=True, extra_args=["-naccept", "1", "-trace", *args], **kw
    )


# ============================================================================================ OpenSSL s_server


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.name)
def test_openssl_each_suite(peer_pki: PeerPKI, suite: CipherSuite, cert: str) -> None:
    with _openssl(peer_pki, SERVER_CERTS[cert], "-ciphersuites", suite.name) as srv:
        run, page = http_get(srv, client_config(peer_pki.ca))
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.version is TLS13 and ours.cipher_suite is suite
    www = parse_s_server_www(page)
    assert www["status_ok"] and www["version"] == "TLSv1.3" and www["suite"] == suite.name
    assert trace.suite is suite and trace.group is NamedGroup.X25519 and ours.group is NamedGroup.X25519
    expected_key = "ECDSA" if cert == "ecdsa" else "RSA_PSS_RSAE"
    assert ours.signature_scheme is not None and ours.signature_scheme.name.startswith(expected_key)
    assert trace.signature_scheme() is ours.signature_scheme


_GROUP_CASES = [(g, "hrr") for g in OPENSSL_GROUP_ARG if g is not NamedGroup.X25519] + [
    (g, "share") for g in OPENSSL_GROUP_ARG
]


@pytest.mark.parametrize(("group", "how"), _GROUP_CASES, ids=lambda v: getattr(v, "name", v))
def test_openssl_each_group(peer_pki: PeerPKI, group: NamedGroup, how: str) -> None:
    """The server allows one group. "hrr": our share is X25519 only, so the server must ask again;
    "share": our first ClientHello carries a share for that group, so no HelloRetryRequest."""
    key_share = (NamedGroup.X25519,) if how == "hrr" else (group,)
    groups = (group,) + tuple(g for g in OPENSSL_GROUP_ARG if g is not group)
    config = client_config(peer_pki.ca, groups=groups, key_share_groups=key_share)
    with _openssl(peer_pki, "server-ecdsa-p256", "-groups", OPENSSL_GROUP_ARG[group]) as srv:
        run, page = http_get(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.group is group
    assert ours.hello_retry is (how == "hrr")
    assert trace.group is group and trace.hello_retry is (how == "hrr")
    assert [openssl_group_name(n) for n in parse_s_server_www(page)["shared_groups"]] == [group]
    client_hellos = run.messages(events.Direction.SENT).count("ClientHello")
    assert client_hellos == (2 if how == "hrr" else 1)


_SCHEME_CASES = [
    ("server-ecdsa-p256", SignatureScheme.ECDSA_SECP256R1_SHA256),
    ("server-ecdsa-p384", SignatureScheme.ECDSA_SECP384R1_SHA384),
    ("server-ecdsa-p521", SignatureScheme.ECDSA_SECP521R1_SHA512),
    ("server-ed25519", SignatureScheme.ED25519),
    ("server-ed448", SignatureScheme.ED448),
    ("server-rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA256),
    ("server-rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA384),
    ("server-rsa2048", SignatureScheme.RSA_PSS_RSAE_SHA512),
]


@pytest.mark.parametrize(("stem", "scheme"), _SCHEME_CASES, ids=lambda v: getattr(v, "name", v))
def test_openssl_each_signature_scheme(peer_pki: PeerPKI, stem: str, scheme: SignatureScheme) -> None:
    """Our signature_algorithms holds just one scheme; the server's certificate fits it."""
    config = client_config(peer_pki.ca, signature_schemes=(scheme,))
    with _openssl(peer_pki, stem) as srv:
        run, page = http_get(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.signature_scheme is scheme
    assert trace.signature_scheme("sent") is scheme
    assert parse_s_server_www(page)["status_ok"]


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
def test_openssl_alpn(peer_pki: PeerPKI, cert: str) -> None:
    config = client_config(peer_pki.ca, alpn_protocols=("h2", "http/1.1"))
    with _openssl(peer_pki, SERVER_CERTS[cert], "-alpn", "http/1.1", www=False) as srv:
        run = open_client(srv, config)
        with run.tls:
            ours = run.tls.negotiated
            run.tls.sendall(b"alpn ok\n")
            srv.wait_for("alpn ok")
        output = _settled(srv)
    assert ours is not None and ours.alpn_protocol == "http/1.1"
    assert re.search(r"^ALPN protocols advertised by the client: h2, http/1\.1$", output, re.MULTILINE)
    assert re.search(r"^ALPN protocols selected: http/1\.1$", output, re.MULTILINE)


def test_openssl_alpn_no_overlap_is_refused(peer_pki: PeerPKI) -> None:
    """OpenSSL 3.0 s_server answers an ALPN mismatch with no_application_protocol (RFC 7301 §3.2)."""
    config = client_config(peer_pki.ca, alpn_protocols=("h2",))
    with _openssl(peer_pki, "server-ecdsa-p256", "-alpn", "http/1.1") as srv:
        with pytest.raises(AlertReceived) as caught:
            open_client(srv, config)
        output = _settled(srv)
    assert caught.value.description is AlertDescription.NO_APPLICATION_PROTOCOL
    assert "no application protocol" in output  # s_server's own error line (tls_handle_alpn)


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
def test_openssl_client_certificate(peer_pki: PeerPKI, cert: str) -> None:
    client_cert = load_client_cert(peer_pki.client_cert, peer_pki.client_key)
    config = client_config(peer_pki.ca, certificate=client_cert)
    with _openssl(
        peer_pki, SERVER_CERTS[cert], "-verify_return_error", verify_client=True, cafile=peer_pki.ca
    ) as srv:
        run, page = http_get(srv, config)
        output = _settled(srv)
    trace = trace_view(output)
    ours = run.tls.negotiated
    assert ours is not None and ours.client_certificate_requested
    assert trace.sent("CertificateRequest") and trace.received("Certificate")
    assert trace.signature_scheme("received") is SignatureScheme.ECDSA_SECP256R1_SHA256  # our P-256 key
    assert parse_s_server_www(page)["client_certificate"], page.decode()[-800:]
    assert parse_s_server_www(page)["verify_code"] == 0
    our_leaf_pem = re.search(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", peer_pki.client_cert.read_text(), re.S
    )
    assert our_leaf_pem is not None
    assert our_leaf_pem.group(0) in page.decode()  # the status page prints the client certificate


_CLIENT_KEY_SCHEMES = {
    "ed25519": SignatureScheme.ED25519,
    "ed448": SignatureScheme.ED448,
    "rsa2048": SignatureScheme.RSA_PSS_RSAE_SHA256,
    "ecdsa-p384": SignatureScheme.ECDSA_SECP384R1_SHA384,
    "ecdsa-p521": SignatureScheme.ECDSA_SECP521R1_SHA512,
}


def _client_cert(key_type: str) -> Any:
    """A client certificate of ``key_type`` under the session's test CA (the one peer_pki wrote)."""
    pki = pytest.importorskip("pki")
    return pki.test_pki().ca.issue([pki.CLIENT_NAME], key_type, client=True)


@pytest.mark.parametrize("key_type", sorted(_CLIENT_KEY_SCHEMES))
def test_openssl_client_certificate_key_types(peer_pki: PeerPKI, key_type: str) -> None:
    """Our CertificateVerify with each client key type, as s_server (strict: -verify_return_error) reads it."""
    config = client_config(peer_pki.ca, certificate=_client_cert(key_type))
    with _openssl(
        peer_pki, "server-ecdsa-p256", "-verify_return_error", verify_client=True, cafile=peer_pki.ca
    ) as srv:
        run, page = http_get(srv, config)
        trace = trace_view(_settled(srv))
    assert trace.signature_scheme("received") is _CLIENT_KEY_SCHEMES[key_type]
    www = parse_s_server_www(page)
    assert www["client_certificate"] and www["verify_code"] == 0


@pytest.mark.parametrize("key_type", ["ed25519", "rsa2048", "ecdsa-p384", "ed448"])
def test_go_client_certificate_key_types(peer_pki: PeerPKI, key_type: str) -> None:
    """Go verifies our client certificate and signature; Go has no Ed448, so its CertificateRequest does
    not allow it and we must answer with an empty Certificate (refused: certificate_required)."""
    config = client_config(peer_pki.ca, certificate=_client_cert(key_type))
    with go_server(
        peer_pki.server_cert, peer_pki.server_key, client_auth="require", client_ca=peer_pki.ca
    ) as srv:
        if key_type == "ed448":
            with pytest.raises(AlertReceived) as caught:
                _go_echo(open_client(srv, config), b"ed448")
            assert caught.value.description is AlertDescription.CERTIFICATE_REQUIRED
            report = srv.wait_report(1)
            assert report["ok"] is False and "didn't provide a certificate" in report["error"], report
            return
        run = open_client(srv, config)
        assert _go_echo(run, key_type.encode()) == key_type.encode()
        report = srv.wait_report(1)
    assert report["ok"] and report["peer_certs"] == 1, report


def test_openssl_client_certificate_missing_is_refused(peer_pki: PeerPKI) -> None:
    with _openssl(peer_pki, "server-ecdsa-p256", verify_client=True, cafile=peer_pki.ca) as srv:
        with pytest.raises(AlertReceived) as caught:
            run = open_client(srv, client_config(peer_pki.ca))
            with run.tls:  # the handshake is complete for us; the server's alert follows our Finished
                run.tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                read_until_close(run.tls)
        output = _settled(srv)
    assert caught.value.description is AlertDescription.CERTIFICATE_REQUIRED
    assert "peer did not return a certificate" in output, output[-2000:]


@pytest.mark.parametrize(
    ("name", "expected_san"),
    [
        ("other.localhost", "other.localhost"),
        ("localhost", "localhost"),
        ("Other.LOCALHOST.", "other.localhost"),
    ],
)
def test_openssl_sni_selects_certificate(peer_pki: PeerPKI, name: str, expected_san: str) -> None:
    other_cert, other_key = _cert(peer_pki, "other")
    args = ("-servername", "other.localhost", "-cert2", str(other_cert), "-key2", str(other_key))
    with _openssl(peer_pki, "server-ecdsa-p256", *args) as srv:
        run, page = http_get(srv, client_config(peer_pki.ca), server_name=name)
        output = _settled(srv)
    ours = run.tls.negotiated
    assert ours is not None and ours.server_name == expected_san  # normalised: lower case, no trailing dot
    sans = ours.peer_certificates[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert expected_san in sans.get_values_for_type(x509.DNSName)
    assert f'Hostname in TLS extension: "{expected_san}"' in output
    assert ("Switching server context." in output) is (expected_san == "other.localhost")
    assert parse_s_server_www(page)["status_ok"]


def test_openssl_key_update_from_us(peer_pki: PeerPKI) -> None:
    with _openssl(peer_pki, "server-ecdsa-p256", www=False) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            run.tls.sendall(b"before\n")
            srv.wait_for("^before$")
            run.tls.key_update(request_peer=True)
            run.tls.sendall(b"after-our-update\n")
            srv.wait_for("^after-our-update$")
            srv.process.send_stdin(b"reply-from-server\n")  # s_server answers our request before this
            assert read_until(run.tls, b"reply-from-server\n").endswith(b"reply-from-server\n")
        trace = trace_view(_settled(srv))
    updates = run.of(events.KeyUpdated)
    assert updates[0] == events.KeyUpdated(sending=True, update_requested=True)
    assert events.KeyUpdated(sending=False, update_requested=False) in updates[1:]
    assert trace.key_updates("received") == [True]
    assert trace.key_updates("sent") == [False]


def _stdin_line_until_received(srv: PeerServer, run: ClientRun, line: bytes, attempts: int = 20) -> None:
    run.tls.settimeout(0.5)
    try:
        for _ in range(attempts):
            time.sleep(0.1)
            srv.process.send_stdin(line)
            try:
                read_until(run.tls, line, timeout=1.0)
                return
            except TimeoutError:
                continue
        raise AssertionError(f"{line!r} never arrived through s_server")
    finally:
        run.tls.settimeout(IO_TIMEOUT)


@pytest.mark.parametrize("command", ["K", "k"])
def test_openssl_key_update_from_server(peer_pki: PeerPKI, command: str) -> None:
    """s_server's stdin command K (update_requested) / k (not requested)."""
    requested = command == "K"
    with _openssl(peer_pki, "server-rsa2048", www=False) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            run.tls.sendall(b"ready\n")
            srv.wait_for("^ready$")
            srv.process.send_stdin(f"{command}\n".encode())
            # s_server drops whatever shares its stdin read with the k/K command, and its -trace output
            # is buffered until the connection ends: so send the next line until it comes through.
            _stdin_line_until_received(srv, run, b"after-server-update\n")
            run.tls.sendall(b"still-flowing\n")
            srv.wait_for("^still-flowing$")
        trace = trace_view(_settled(srv))
    updates = run.of(events.KeyUpdated)
    assert events.KeyUpdated(sending=False, update_requested=requested) in updates
    assert (events.KeyUpdated(sending=True, update_requested=False) in updates) is requested
    assert trace.key_updates("sent") == [requested]
    assert trace.key_updates("received") == ([False] if requested else [])


def test_openssl_one_mib_download_and_upload(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """-WWW serves a 1 MiB file from its working directory; then 1 MiB up to a plain s_server."""
    blob = os.urandom(MIB)
    (tmp_path / "blob.bin").write_bytes(blob)
    cert, key = _cert(peer_pki, "server-ecdsa-p256")
    openssl = require_binary("openssl")
    argv = [openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-tls1_3", "-WWW"]
    with peer_server(argv, r"^ACCEPT .*:(\d+)\s*$", cwd=tmp_path) as srv:
        run, response = http_get(srv, client_config(peer_pki.ca), path="/blob.bin")
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 ok"), head
    assert len(body) == MIB and hashlib.sha256(body).digest() == hashlib.sha256(blob).digest()
    assert run.tls.negotiated is not None and run.tls.negotiated.version is TLS13

    upload = (b"x" * 1023 + b"\n") * 1024  # 1 MiB of lines; s_server prints what it reads
    with _openssl(peer_pki, "server-ecdsa-p256", www=False) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            run.tls.sendall(upload)
            run.tls.sendall(b"END-OF-UPLOAD\n")
            srv.wait_for("^END-OF-UPLOAD$", timeout=30)
        received = srv.process.stdout().count("x" * 1023 + "\n")
    assert received == 1024


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.name)
def test_openssl_exporter_matches(peer_pki: PeerPKI, suite: CipherSuite) -> None:
    """s_server -keymatexport prints the RFC 8446 §7.5 exporter (empty context) it computed: ours must match
    for each suite's hash, and for a length that is not the hash length."""
    label = "EXPORTER-handclasp-openssl"
    args = ("-keymatexport", label, "-keymatexportlen", "48", "-ciphersuites", suite.name)
    with _openssl(peer_pki, "server-rsa2048", *args, www=False) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            ours = run.tls.connection.export_keying_material(label.encode(), b"", 48)
            assert run.tls.negotiated is not None and run.tls.negotiated.cipher_suite is suite
        output = _settled(srv)
    found = re.search(rf"Label: '{label}'\s+Length: 48 bytes\s+Keying material: ([0-9A-F]+)", output)
    assert found is not None, output[-1500:]
    assert bytes.fromhex(found.group(1)) == ours


def test_openssl_makefile_http(peer_pki: PeerPKI) -> None:
    """TLSSocket.makefile('wb'/'rb') for a line-oriented protocol (HTTP/1.0 to s_server -www)."""
    with _openssl(peer_pki, "server-ecdsa-p256") as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            writer, reader = run.tls.makefile("wb"), run.tls.makefile("rb")
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            writer.flush()
            status = reader.readline()
            rest = reader.read()
    assert status == b"HTTP/1.0 200 ok\r\n"
    assert b"New, TLSv1.3, Cipher is" in rest and rest.rstrip().endswith(b"</HTML>")


@pytest.mark.parametrize(
    ("args", "cli", "expected"),
    [
        ([], ["--http"], {"group": "X25519", "hello retry": "no"}),
        (
            ["-groups", "ffdhe3072"],
            ["--http", "--groups", "x25519,ffdhe3072", "--ciphers", "CHACHA20"],
            {"group": "FFDHE3072", "hello retry": "yes", "cipher suite": "TLS_CHACHA20_POLY1305_SHA256"},
        ),
    ],
    ids=["default", "ffdhe3072-chacha20"],
)
def test_cli_connect_to_openssl(
    peer_pki: PeerPKI, args: list[str], cli: list[str], expected: dict[str, str]
) -> None:
    """`handclasp connect` (the CLI client) against s_server -www: its summary on stderr, the page on stdout."""
    handclasp = Path(sys.executable).with_name("handclasp")
    require("the handclasp console script", handclasp.exists(), "pip install -e . in this venv")
    with _openssl(peer_pki, "server-ecdsa-p256", *args) as srv:
        done = subprocess.run(
            [
                str(handclasp),
                "connect",
                f"127.0.0.1:{srv.port}",
                "--servername",
                "localhost",
                "--cafile",
                str(peer_pki.ca),
                *cli,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        trace = trace_view(_settled(srv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HTTP/1.0 200 ok")
    summary = dict(re.findall(r"^  (\S+(?: \S+)*?) {2,}(.+)$", done.stderr, re.MULTILINE))
    assert summary.get("version") == "TLSv1.3", done.stderr
    for key, value in expected.items():
        assert summary.get(key) == value, (key, done.stderr)
    assert trace.group is NamedGroup[summary["group"]] and trace.hello_retry is (
        summary["hello retry"] == "yes"
    )
    assert www_suite(done.stdout) == summary["cipher suite"]


def test_openssl_server_vanishing_is_a_truncation(peer_pki: PeerPKI) -> None:
    """s_server killed mid-connection: the kernel closes the socket without close_notify, so recv must
    raise ConnectionClosed(truncated=True), never return b"" as if the stream had ended cleanly."""
    with _openssl(peer_pki, "server-ecdsa-p256", www=False) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            run.tls.sendall(b"hello\n")
            srv.wait_for("^hello$")
            os.killpg(srv.process.proc.pid, signal.SIGKILL)
            with pytest.raises(ConnectionClosed) as caught:
                read_until_close(run.tls)
    assert caught.value.truncated is True
    assert not run.of(events.CloseNotify)


def test_openssl_sends_two_session_tickets(peer_pki: PeerPKI) -> None:
    with _openssl(peer_pki, "server-ecdsa-p256") as srv:
        run, page = http_get(srv, client_config(peer_pki.ca))
        trace = trace_view(_settled(srv))
    tickets = run.of(events.SessionTicketReceived)
    assert len(tickets) == 2 == len(trace.sent("NewSessionTicket"))
    assert all(t.ticket.ticket and 0 < t.ticket.ticket_lifetime <= 7 * 86400 for t in tickets)
    assert tickets[0].ticket.ticket_nonce != tickets[1].ticket.ticket_nonce
    assert parse_s_server_www(page)["status_ok"]


def test_openssl_tickets_announce_early_data(peer_pki: PeerPKI) -> None:
    """-early_data -max_early_data 16384: the early_data extension of NewSessionTicket reaches our event."""
    with _openssl(peer_pki, "server-ecdsa-p256", "-early_data", "-max_early_data", "16384", www=False) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            run.tls.sendall(b"tickets?\n")
            srv.wait_for("^tickets\\?$")
            srv.process.send_stdin(b"here\n")
            read_until(run.tls, b"here\n")
        trace = trace_view(_settled(srv))
    tickets = [e.ticket for e in run.of(events.SessionTicketReceived)]
    assert len(tickets) == len(trace.sent("NewSessionTicket")) == 2
    assert all(t.max_early_data_size == 16384 for t in tickets), tickets
    assert any("max_early_data=16384" in line for line in trace.sent("NewSessionTicket")[0].lines)


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
def test_openssl_unknown_ca(peer_pki: PeerPKI, cert: str) -> None:
    """We trust an unrelated root: CertificateVerifyError(UNKNOWN_ISSUER), and the server reads alert 48."""
    with _openssl(peer_pki, SERVER_CERTS[cert]) as srv:
        with pytest.raises(CertificateVerifyError) as caught:
            open_client(srv, client_config(peer_pki.path("unrelated-ca.pem")))
        output = _settled(srv)
    assert caught.value.problem is CertificateProblem.UNKNOWN_ISSUER
    assert caught.value.alert is AlertDescription.UNKNOWN_CA
    assert re.search(r"tlsv1 alert unknown ca.*SSL alert number 48", output), output[-2000:]


@pytest.mark.parametrize(
    ("stem", "name", "problem", "alert"),
    [
        ("expired", "localhost", CertificateProblem.EXPIRED, AlertDescription.CERTIFICATE_EXPIRED),
        ("not-yet-valid", "localhost", CertificateProblem.NOT_YET_VALID, None),
        ("server-ecdsa-p256", "wrong.localhost", CertificateProblem.NAME_MISMATCH, None),
    ],
    ids=["expired", "not-yet-valid", "name-mismatch"],
)
def test_openssl_bad_server_certificate(
    peer_pki: PeerPKI, stem: str, name: str, problem: CertificateProblem, alert: AlertDescription | None
) -> None:
    """The alert we send is the one s_server reports reading ("SSL alert number N")."""
    with _openssl(peer_pki, stem) as srv:
        with pytest.raises(CertificateVerifyError) as caught:
            open_client(srv, client_config(peer_pki.ca), server_name=name)
        output = _settled(srv)
    assert caught.value.problem is problem
    sent = caught.value.alert
    assert sent is not None and (alert is None or sent is alert)
    assert f"SSL alert number {int(sent)}" in output, (sent, output[-1500:])


def test_openssl_intermediate_chain(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """Leaf + intermediate from s_server (-cert_chain); we trust only the root."""
    pems = re.findall(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
        peer_pki.path("server-intermediate.pem").read_text(),
        re.S,
    )
    assert len(pems) == 2
    (tmp_path / "intermediate.pem").write_text(pems[1])
    with _openssl(peer_pki, "server-intermediate", chain=tmp_path / "intermediate.pem", www=True) as srv:
        run, page = http_get(srv, client_config(peer_pki.ca))
    ours = run.tls.negotiated
    assert ours is not None and len(ours.peer_certificates) == 2
    assert "intermediate" in ours.peer_certificates[1].subject.rfc4514_string()
    assert parse_s_server_www(page)["status_ok"]


@pytest.mark.parametrize("signing", ["sha256", "sha384", "pss"])
def test_openssl_rsa_ca_made_by_openssl(tmp_path: Path, signing: str) -> None:
    """An RSA root and leaf made by the openssl CLI: RSA PKCS#1 v1.5 (or PSS) signatures in the chain."""
    openssl = require_binary("openssl")

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=openssl RSA root", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr",
        "-subj", "/CN=localhost")  # fmt: skip
    (tmp_path / "leaf.ext").write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    sign = {
        "sha256": ["-sha256"],
        "sha384": ["-sha384"],
        "pss": ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"],
    }
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext", *sign[signing])  # fmt: skip
    with openssl_server(tmp_path / "leaf.pem", tmp_path / "leaf.key", tls13_only=True) as srv:
        run_, page = http_get(srv, client_config(tmp_path / "ca.pem"))
    ours = run_.tls.negotiated
    assert ours is not None and ours.signature_scheme is not None
    assert ours.signature_scheme.name.startswith("RSA_PSS_RSAE")
    is_pss = ours.peer_certificates[0].signature_algorithm_oid == x509.SignatureAlgorithmOID.RSASSA_PSS
    assert is_pss is (signing == "pss") and parse_s_server_www(page)["status_ok"]


@pytest.fixture(scope="module")
def rsa_pss_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A leaf with an id-RSASSA-PSS public key (openssl genpkey -algorithm RSA-PSS) under an EC root."""
    openssl = require_binary("openssl")
    d = tmp_path_factory.mktemp("rsa-pss")

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], cwd=d, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=rsa-pss test root",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    run("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaf.key")
    run("req", "-new", "-key", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    (d / "leaf.ext").write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext")  # fmt: skip
    return d


@pytest.mark.parametrize(
    "scheme",
    [
        SignatureScheme.RSA_PSS_PSS_SHA256,
        SignatureScheme.RSA_PSS_PSS_SHA384,
        SignatureScheme.RSA_PSS_PSS_SHA512,
    ],
    ids=lambda s: s.name,
)
def test_openssl_rsa_pss_key_certificate(rsa_pss_pki: Path, scheme: SignatureScheme) -> None:
    """rsa_pss_pss_* schemes: the server's key is an RSASSA-PSS key (tests/pki.py cannot make one)."""
    config = client_config(rsa_pss_pki / "ca.pem", signature_schemes=(scheme,))
    with openssl_server(
        rsa_pss_pki / "leaf.pem",
        rsa_pss_pki / "leaf.key",
        tls13_only=True,
        extra_args=["-naccept", "1", "-trace"],
    ) as srv:
        run, page = http_get(srv, config)
        trace = trace_view(_settled(srv))
    assert run.tls.negotiated is not None and run.tls.negotiated.signature_scheme is scheme
    assert trace.signature_scheme("sent") is scheme and parse_s_server_www(page)["status_ok"]


def test_openssl_independent_pki(openssl_pki: PeerPKI) -> None:
    """The PKI made by the openssl CLI (not by handclasp's tools/certs.py): RSA server, EC client cert."""
    config = client_config(
        openssl_pki.ca, certificate=load_client_cert(openssl_pki.client_cert, openssl_pki.client_key)
    )
    with openssl_server(
        openssl_pki.server_rsa_cert,
        openssl_pki.server_rsa_key,
        tls13_only=True,
        verify_client=True,
        cafile=openssl_pki.ca,
    ) as srv:
        run, page = http_get(srv, config)
    assert run.tls.negotiated is not None and run.tls.negotiated.client_certificate_requested
    assert parse_s_server_www(page)["client_certificate"]


_REFUSALS = [
    # A TLS 1.3-only client (TLS 1.2 is covered in test_tls12_interop.py).
    ("tls12-only", ["-tls1_2"], {"versions": (ProtocolVersion.TLS1_3,)}, AlertDescription.PROTOCOL_VERSION, "unsupported protocol"),
    (
        "no-shared-suite",
        ["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"],
        {"cipher_suites": (CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_CHACHA20_POLY1305_SHA256)},
        AlertDescription.HANDSHAKE_FAILURE,
        "no shared cipher",
    ),
    (
        "no-shared-group",
        ["-tls1_3", "-groups", "X448"],
        {"groups": (NamedGroup.X25519, NamedGroup.SECP256R1)},
        AlertDescription.HANDSHAKE_FAILURE,
        "no suitable key share",
    ),
]


@pytest.mark.parametrize(
    ("label", "args", "options", "alert", "server_error"), _REFUSALS, ids=[r[0] for r in _REFUSALS]
)
def test_openssl_refuses_handshake(
    peer_pki: PeerPKI,
    label: str,
    args: list[str],
    options: dict[str, Any],
    alert: AlertDescription,
    server_error: str,
) -> None:
    """Nothing in common with the server: we raise AlertReceived with the alert s_server says it sent."""
    cert, key = _cert(peer_pki, "server-ecdsa-p256")
    with openssl_server(cert, key, extra_args=["-naccept", "1", *args]) as srv:
        with pytest.raises(AlertReceived) as caught:
            open_client(srv, client_config(peer_pki.ca, **options))
        output = _settled(srv)
    assert caught.value.description is alert
    assert server_error in output, output[-1000:]


def test_go_tls12_only_server_refuses_a_tls13_only_client(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, max_version="1.2") as srv:
        with pytest.raises(AlertReceived) as caught:
            open_client(srv, client_config(peer_pki.ca, versions=(ProtocolVersion.TLS1_3,)))
        report = srv.wait_report(1)
    assert caught.value.description is AlertDescription.PROTOCOL_VERSION
    assert report["ok"] is False and "unsupported versions" in report["error"], report


@pytest.mark.parametrize("compat", [True, False], ids=["middlebox-compat", "no-compat"])
def test_openssl_middlebox_compatibility(peer_pki: PeerPKI, compat: bool) -> None:
    """RFC 8446 D.4: with compat we send a legacy_session_id and one dummy ChangeCipherSpec; without it,
    neither (and we still accept the server's)."""
    with _openssl(peer_pki, "server-ecdsa-p256", "-groups", "P-256") as srv:  # with a HelloRetryRequest
        run, page = http_get(srv, client_config(peer_pki.ca, middlebox_compat=compat))
        output = _settled(srv)
    records = parse_openssl_trace_records(output)
    server_ccs = [r for r in records if r.direction == "sent" and r.content_type == 20]
    client_ccs = [r for r in records if r.direction == "received" and r.content_type == 20]
    assert len(client_ccs) == (1 if compat else 0), records
    # OpenSSL 3.0 sends its dummy ChangeCipherSpec after a HelloRetryRequest even without a session id,
    # which a client must drop either way (RFC 8446 §5)
    assert len(server_ccs) == 1, records
    hellos = trace_view(output).received("ClientHello")
    assert len(hellos) == 2 and all(("session_id (len=32)" in " ".join(h.lines)) is compat for h in hellos)
    assert run.tls.negotiated is not None and run.tls.negotiated.hello_retry
    assert parse_s_server_www(page)["status_ok"]


def test_openssl_ip_address_has_no_sni(peer_pki: PeerPKI) -> None:
    """server_name "127.0.0.1": verified against the IP SAN, and no server_name extension (RFC 6066 §3)."""
    with _openssl(peer_pki, "server-ecdsa-p256") as srv:
        run, page = http_get(srv, client_config(peer_pki.ca), server_name="127.0.0.1")
        output = _settled(srv)
    assert run.tls.negotiated is not None and parse_s_server_www(page)["status_ok"]
    assert "Hostname in TLS extension" not in output
    assert "extension_type=server_name(0)" not in output


def test_openssl_fragmented_handshake_records(peer_pki: PeerPKI) -> None:
    """-max_send_frag 512: the server's Certificate (RSA) spans several records; tiny records after."""
    with _openssl(peer_pki, "server-rsa2048", "-max_send_frag", "512") as srv:
        run, page = http_get(srv, client_config(peer_pki.ca))
        output = _settled(srv)
    sent = [r for r in parse_openssl_trace_records(output) if r.direction == "sent"]
    handshake_records = [r for r in sent if r.inner_type == 22]
    assert max(r.length for r in sent) <= 512 + 17, sent
    assert any(r.length == 512 + 17 for r in handshake_records), sent  # a full 512-byte fragment
    assert parse_s_server_www(page)["status_ok"] and len(page) > 2048
    assert run.tls.negotiated is not None and run.tls.negotiated.signature_scheme is not None


@pytest.mark.parametrize(
    ("copies", "limit", "accepted"),
    [(8, None, True), (8, 16384, False), (30, None, False), (30, 128 * 1024, True)],
    ids=["25KiB", "25KiB-over-a-16KiB-limit", "80KiB-over-the-default-64KiB", "80KiB-raised-limit"],
)
def test_openssl_huge_certificate_message(
    peer_pki: PeerPKI, tmp_path: Path, copies: int, limit: int | None, accepted: bool
) -> None:
    """s_server -cert_chain with many extra certificates: a Certificate message over 16 KiB spans records;
    over max_handshake_message_size (64 KiB by default) it is refused, with the alert s_server reads
    (our own socket loop, which half-closes and drains before closing: see sans_io_failed_handshake)."""
    pems: list[str] = []
    for name in (
        "server-rsa2048.pem",
        "other.pem",
        "server-ed448.pem",
        "server-ecdsa-p521.pem",
        "unrelated.pem",
    ):
        pems += re.findall(
            r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
            peer_pki.path(name).read_text(),
            re.S,
        )
    (tmp_path / "extra.pem").write_text("".join(pems * copies))
    options = {} if limit is None else {"max_handshake_message_size": limit}
    cert, key = _cert(peer_pki, "server-ecdsa-p256")
    # no -trace here: printing 150 certificates makes s_server miss our alert
    with openssl_server(cert, key, chain=tmp_path / "extra.pem", tls13_only=True) as srv:
        if accepted:
            run, page = http_get(srv, client_config(peer_pki.ca, **options))
            assert parse_s_server_www(page)["status_ok"]
            assert run.tls.negotiated is not None and len(run.tls.negotiated.peer_certificates) > 5 * copies
            sizes = [e.length for e in run.of(events.HandshakeMessage) if e.name == "Certificate"]
            assert sizes and sizes[0] > 16384, sizes  # one message over several records
            return
        error, alert = sans_io_failed_handshake(srv, client_config(peer_pki.ca, **options))
        seen = srv.wait_for(r"SSL alert number (\d+)", timeout=10)
    assert isinstance(error, PeerMisbehaved) and error.reason is Misbehaviour.HANDSHAKE_MESSAGE_TOO_LARGE
    assert error.alert is AlertDescription.ILLEGAL_PARAMETER and int(seen.group(1)) == int(error.alert)
    # one alert under the handshake key (after our dummy ChangeCipherSpec if not sent yet)
    assert record_headers(alert) in ([(23, 2 + 1 + 16)], [(20, 1), (23, 2 + 1 + 16)])


def test_openssl_everything_at_once(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """HelloRetryRequest (P-521) + ChaCha20 + RSA server + ALPN + SNI + client certificate, and
    s_server's key log holds exactly our secrets (same client random, same traffic secrets)."""
    server_log, client_log = tmp_path / "server-keylog.txt", tmp_path / "client-keylog.txt"
    config = client_config(
        peer_pki.ca,
        alpn_protocols=("h2", "http/1.1"),
        cipher_suites=(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_AES_128_GCM_SHA256),
        certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key),
        keylog_filename=str(client_log),
    )
    args = ("-groups", "P-521", "-alpn", "http/1.1", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256",
            "-servername", "other.localhost", "-cert2", str(peer_pki.path("other.pem")),
            "-key2", str(peer_pki.path("other.key")), "-verify_return_error")  # fmt: skip
    with _openssl(
        peer_pki, "server-rsa2048", *args, verify_client=True, cafile=peer_pki.ca, keylog=server_log
    ) as srv:
        run, page = http_get(srv, config)
        output = _settled(srv)
    ours = run.tls.negotiated
    trace = trace_view(output)
    www = parse_s_server_www(page)
    assert ours is not None and ours.hello_retry and ours.group is NamedGroup.SECP521R1
    assert trace.hello_retry and trace.group is NamedGroup.SECP521R1
    assert (
        ours.cipher_suite is CipherSuite.TLS_CHACHA20_POLY1305_SHA256
        and www["suite"] == ours.cipher_suite.name
    )
    assert ours.alpn_protocol == "http/1.1" and "ALPN protocols selected: http/1.1" in output
    assert 'Hostname in TLS extension: "localhost"' in output
    assert www["client_certificate"] and www["verify_code"] == 0
    assert trace.signature_scheme("sent") is ours.signature_scheme
    theirs = _keylog_secrets(server_log)
    assert len(theirs) >= 5 and theirs == _keylog_secrets(client_log)


def test_openssl_max_fragment_length(peer_pki: PeerPKI) -> None:
    """We ask for max_fragment_length 512 (RFC 6066): s_server acknowledges it and keeps its records small."""
    with _openssl(peer_pki, "server-ecdsa-p256") as srv:
        run, page = http_get(srv, client_config(peer_pki.ca, max_fragment_length=512))
        output = _settled(srv)
    encrypted_extensions = trace_view(output).sent("EncryptedExtensions")
    assert any("max_fragment_length(1)" in line for line in encrypted_extensions[0].lines)
    protected = [r for r in parse_openssl_trace_records(output) if r.direction == "sent" and r.inner_type]
    assert protected and max(r.length for r in protected) <= 512 + 1 + 16 + 255
    assert parse_s_server_www(page)["status_ok"]


def test_openssl_record_padding(peer_pki: PeerPKI) -> None:
    """record_padding_block=256: our application data records carry a 256-byte multiple of inner plaintext
    (seen in the bytes we wrote), and s_server still reads the request and answers it."""
    written: list[bytes] = []
    with _openssl(peer_pki, "server-ecdsa-p256") as srv:
        conn, _, page = sans_io_http_get(
            srv, client_config(peer_pki.ca, record_padding_block=256), chunk=65536, sent=written
        )
    assert parse_s_server_www(page)["status_ok"]
    headers = record_headers(b"".join(written))
    request = len(b"GET / HTTP/1.0\r\n\r\n")
    assert (23, 256 + 16) in headers, headers  # the request: 18 bytes + type + zeros = 256, plus the tag
    assert (23, request + 1 + 16) not in headers, headers


@pytest.mark.parametrize("chunk", [1, 7])
def test_openssl_sans_io_byte_by_byte(peer_pki: PeerPKI, chunk: int) -> None:
    """Our own socket loop over ClientConnection, fed ``chunk`` bytes at a time (split headers, tags)."""
    with _openssl(peer_pki, "server-ecdsa-p384", "-groups", "P-384") as srv:
        conn, seen, page = sans_io_http_get(srv, client_config(peer_pki.ca), chunk=chunk)
        trace = trace_view(_settled(srv))
    assert conn.negotiated is not None and conn.negotiated.group is NamedGroup.SECP384R1
    assert trace.group is NamedGroup.SECP384R1 and trace.hello_retry
    assert sum(isinstance(e, events.SessionTicketReceived) for e in seen) == 2
    assert parse_s_server_www(page)["version"] == "TLSv1.3"


# ============================================================================================ Go crypto/tls


def _go_echo(run: ClientRun, payload: bytes) -> bytes:
    with run.tls:
        run.tls.sendall(payload)
        echoed = read_exactly(run.tls, len(payload))
        run.tls.shutdown_write()
        assert read_until_close(run.tls) == b""
    return echoed


@pytest.mark.parametrize(
    "group",
    [NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.SECP521R1],
    ids=lambda g: g.name,
)
def test_go_each_group(peer_pki: PeerPKI, group: NamedGroup) -> None:
    cert, key = _cert(
        peer_pki, "server-ecdsa-p256" if group is not NamedGroup.SECP384R1 else "server-rsa2048"
    )
    with go_server(cert, key, groups=[group.name]) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        assert _go_echo(run, b"group test") == b"group test"
        report = srv.wait_report(1)
    ours = run.tls.negotiated
    assert ours is not None and ours.group is group
    assert ours.hello_retry is (group is not NamedGroup.X25519)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3" and report["group"] == group.name
    assert report["hello_retry"] is ours.hello_retry
    assert report["suite"] == ours.cipher_suite.name
    assert report["server_name"] == "localhost" and report["received"] == "group test"


def test_go_asyncio_client(peer_pki: PeerPKI) -> None:
    """The asyncio adapter (handclasp.io.aio.open_connection) against the Go echo server."""
    from handclasp.io.aio import open_connection

    async def talk(port: int) -> tuple[bytes, Any]:
        reader, writer = await open_connection(
            "127.0.0.1", port, client_config(peer_pki.ca, alpn_protocols=("h2",)), server_name="localhost"
        )
        writer.write(b"line one\nline two\n")
        await writer.drain()
        lines = await asyncio.wait_for(reader.readline(), 10) + await asyncio.wait_for(reader.readline(), 10)
        writer.write_eof()
        rest = await asyncio.wait_for(reader.read(), 10)
        negotiated = writer.get_extra_info("negotiated")
        writer.close()
        await writer.wait_closed()
        return lines + rest, negotiated

    with go_server(peer_pki.server_cert, peer_pki.server_key, alpn=["h2"]) as srv:
        received, negotiated = asyncio.run(asyncio.wait_for(talk(srv.port), 30))
        report = srv.wait_report(1)
    assert received == b"line one\nline two\n"
    assert negotiated.alpn_protocol == "h2" == report["alpn"] and report["ok"], report
    assert report["received"] == "line one\nline two\n"


def test_go_asyncio_one_mib_with_key_update(peer_pki: PeerPKI) -> None:
    """asyncio adapter: 1 MiB written while the echo is read, a KeyUpdate (asking Go to update too)
    in the middle of the stream, then half-close and the server's close_notify."""
    from handclasp.io.aio import open_connection

    payload = _ascii_payload(MIB)

    async def talk(port: int) -> bytes:
        reader, writer = await open_connection(
            "127.0.0.1", port, client_config(peer_pki.ca), server_name="localhost"
        )

        async def write() -> None:
            writer.write(payload[: MIB // 2])
            await writer.drain()
            writer.key_update(request_peer=True)
            writer.write(payload[MIB // 2 :])
            await writer.drain()

        sender = asyncio.create_task(write())
        echoed = await asyncio.wait_for(reader.readexactly(MIB), 30)
        await sender
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        await writer.wait_closed()
        return echoed

    with go_server(peer_pki.server_cert, peer_pki.server_key, conn_timeout=60) as srv:
        echoed = asyncio.run(asyncio.wait_for(talk(srv.port), 60))
        report = srv.wait_report(1)
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()
    assert report["ok"] and report["received_len"] == MIB == report["sent"], report["error"]


def test_go_unwrap_returns_the_tcp_socket(peer_pki: PeerPKI) -> None:
    """TLSSocket.unwrap(): close_notify both ways with Go, then the plain socket is ours."""
    with go_server(peer_pki.server_cert, peer_pki.server_key) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        run.tls.sendall(b"abc")
        assert read_exactly(run.tls, 3) == b"abc"
        sock = run.tls.unwrap()
        try:
            sock.settimeout(5)
            assert sock.recv(1) == b""  # Go closed the TCP connection after its close_notify
        finally:
            sock.close()
        report = srv.wait_report(1)
    assert report["ok"] and report["received"] == "abc", report


def test_go_alpn(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, alpn=["h2", "http/1.1"]) as srv:
        run = open_client(srv, client_config(peer_pki.ca, alpn_protocols=("http/1.1", "h2")))
        _go_echo(run, b"alpn")
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None
    assert report["alpn"] == "h2" == run.tls.negotiated.alpn_protocol  # Go prefers its own order


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
def test_go_mutual_tls(peer_pki: PeerPKI, cert: str) -> None:
    server_cert, server_key = _cert(peer_pki, SERVER_CERTS[cert])
    config = client_config(
        peer_pki.ca, certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key)
    )
    with go_server(server_cert, server_key, client_auth="require", client_ca=peer_pki.ca) as srv:
        run = open_client(srv, config)
        assert _go_echo(run, b"mtls") == b"mtls"
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None and run.tls.negotiated.client_certificate_requested
    assert report["ok"] and report["peer_certs"] == 1, report
    assert any("handclasp" in s or "client" in s for s in report["peer_subjects"]), report


def test_go_client_certificate_requested_but_optional(peer_pki: PeerPKI) -> None:
    """client_auth=request: we have no certificate, send an empty Certificate, and go on."""
    with go_server(
        peer_pki.server_cert, peer_pki.server_key, client_auth="request", client_ca=peer_pki.ca
    ) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        assert _go_echo(run, b"anonymous") == b"anonymous"
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None and run.tls.negotiated.client_certificate_requested
    assert report["ok"] and report["peer_certs"] == 0, report


def test_go_mutual_tls_without_certificate_is_refused(peer_pki: PeerPKI) -> None:
    with go_server(
        peer_pki.server_cert, peer_pki.server_key, client_auth="require", client_ca=peer_pki.ca
    ) as srv:
        with pytest.raises(AlertReceived) as caught:
            run = open_client(srv, client_config(peer_pki.ca))
            _go_echo(run, b"no cert")
        report = srv.wait_report(1)
    assert caught.value.description is AlertDescription.CERTIFICATE_REQUIRED
    assert report["ok"] is False and "certificate" in report["error"]


def test_go_one_mib_echo(peer_pki: PeerPKI) -> None:
    payload = _ascii_payload(MIB)
    with go_server(peer_pki.server_cert, peer_pki.server_key, conn_timeout=60) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        with run.tls:
            echoed = echo_concurrently(run.tls, payload)
            run.tls.shutdown_write()
            assert read_until_close(run.tls) == b""
        report = srv.wait_report(1)
    assert hashlib.sha256(echoed).digest() == hashlib.sha256(payload).digest()
    assert report["ok"] and report["received_len"] == MIB and report["sent"] == MIB, {
        k: v for k, v in report.items() if k != "received"
    }


def test_go_key_updates_interleaved_with_data(peer_pki: PeerPKI) -> None:
    """Eight KeyUpdates from us (every other one asks Go to update too), each followed by an echo."""
    rounds = 8
    with go_server(peer_pki.server_cert, peer_pki.server_key) as srv:
        run = open_client(
            srv, client_config(peer_pki.ca, cipher_suites=(CipherSuite.TLS_CHACHA20_POLY1305_SHA256,))
        )
        with run.tls:
            for i in range(rounds):
                run.tls.key_update(request_peer=i % 2 == 0)
                message = f"round {i}|".encode()
                run.tls.sendall(message)
                assert read_exactly(run.tls, len(message)) == message
            run.tls.shutdown_write()
            assert read_until_close(run.tls) == b""
        report = srv.wait_report(1)
    updates = run.of(events.KeyUpdated)
    ours = [u for u in updates if u.sending]
    theirs = [u for u in updates if not u.sending]
    assert [u.update_requested for u in ours] == [i % 2 == 0 for i in range(rounds)]
    assert len(theirs) == rounds // 2 and not any(
        u.update_requested for u in theirs
    )  # Go answers each request
    assert report["ok"], report
    assert report["suite"] == "TLS_CHACHA20_POLY1305_SHA256"
    assert report["received"] == "".join(f"round {i}|" for i in range(rounds))


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.name)
def test_go_exporter_matches(peer_pki: PeerPKI, suite: CipherSuite) -> None:
    """Go exports ExportKeyingMaterial(label, nil, 32): in TLS 1.3 a missing and an empty context are the
    same (RFC 8446 §7.5 hashes the context either way), so ours with context b"" must be equal. Per suite,
    since the exporter uses the suite's hash (SHA-384 for AES-256-GCM)."""
    label = "EXPORTER-handclasp-interop"
    with go_server(peer_pki.server_cert, peer_pki.server_key, ekm=label) as srv:
        run = open_client(srv, client_config(peer_pki.ca, cipher_suites=(suite,)))
        ours = run.tls.connection.export_keying_material(label.encode(), b"", 32)
        other = run.tls.connection.export_keying_material(b"EXPORTER-other", b"", 32)
        _go_echo(run, b"ekm")
        report = srv.wait_report(1)
    assert report["ok"] and report["suite"] == suite.name, report
    assert bytes.fromhex(report["ekm"]) == ours
    assert other != ours and len(ours) == 32


def test_go_server_preferring_ml_kem_negotiates_x25519mlkem768(peer_pki: PeerPKI) -> None:
    """The Go server accepts only X25519MLKEM768 and X25519; our default shares are X25519MLKEM768 + X25519
    (issue #4), so the hybrid without HRR."""
    with go_server(peer_pki.server_cert, peer_pki.server_key, groups=["X25519MLKEM768", "X25519"]) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        _go_echo(run, b"pq")
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None and run.tls.negotiated.group is NamedGroup.X25519MLKEM768
    assert run.tls.negotiated.hello_retry is False
    assert report["ok"] and report["group"] == "X25519MLKEM768" and report["hello_retry"] is False, report


# ============================================================================================ gnutls-serv

_GNUTLS_BASE = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
_GNUTLS_CASES: list[tuple[str, str, dict[str, Any], dict[str, str | None]]] = [
    ("x25519", "-GROUP-ALL:+GROUP-X25519", {}, {"group": "X25519"}),
    ("x448", "-GROUP-ALL:+GROUP-X448", {}, {"group": "X448"}),
    ("p256", "-GROUP-ALL:+GROUP-SECP256R1", {}, {"group": "SECP256R1"}),
    ("ffdhe2048", "-GROUP-ALL:+GROUP-FFDHE2048", {}, {"group": "FFDHE2048"}),
    (
        "chacha20",
        "-CIPHER-ALL:+CHACHA20-POLY1305",
        {},
        {"suite": "TLS_CHACHA20_POLY1305_SHA256"},
    ),
    ("aes256", "-CIPHER-ALL:+AES-256-GCM", {}, {"suite": "TLS_AES_256_GCM_SHA384"}),
    ("alpn", "", {"alpn": ["h2", "http/1.1"]}, {"alpn": "http/1.1"}),
    ("record-size-limit", "", {"client_extra": ["--record-size-limit", "512", "--repeat", "300"]}, {}),
    ("max-fragment-length", "", {"client_extra": ["--max-fragment-length", "1024", "--repeat", "300"]}, {}),
]


@pytest.mark.parametrize(
    ("label", "priority", "options", "expected"), _GNUTLS_CASES, ids=[c[0] for c in _GNUTLS_CASES]
)
def test_gnutls_server(
    peer_pki: PeerPKI, label: str, priority: str, options: dict[str, Any], expected: dict[str, str | None]
) -> None:
    port = 14600
    client_alpn = ("http/1.1",) if "alpn" in options else ()
    extra = options.get("client_extra", [])
    client = script_argv(port, peer_pki.ca, alpn=client_alpn, send=f"gnutls {label}\n", extra=extra)
    result = gnutls_server_scenario(
        client,
        peer_pki.server_cert,
        peer_pki.server_key,
        port=port,
        priority=f"{_GNUTLS_BASE}:{priority}" if priority else _GNUTLS_BASE,
        alpn=options.get("alpn", ()),
    )
    assert result.ready, result.describe()
    ours = script_report(result.client.stdout)
    theirs = parse_gnutls(result.server_output)
    assert ours["ok"], result.describe()
    assert theirs["ok"] and theirs["version"] == "TLSv1.3", result.describe()
    assert (
        ours["version"] == "TLS1_3" and ours["echo_matches"] and ours["echo"].startswith(f"gnutls {label}\n")
    )
    assert ours["group"] == theirs["group"] and ours["suite"] == theirs["suite"], (ours, theirs)
    details = gnutls_server_details(result.server_output)
    assert details["tls_exporter"] == ours["tls_exporter"], (details, ours)
    assert details["server_signature"] == ours["signature_scheme"].replace("_", "-"), (details, ours)
    for key, value in expected.items():
        assert ours[key] == value, (key, ours)
        if key != "alpn":
            assert theirs[key] == value, (key, theirs)
    if "group" in expected:
        assert ours["hello_retry"] is (expected["group"] != "X25519")
    if "alpn" in expected:
        assert (
            re.search(r"Application protocol: http/1\.1|ALPN.*http/1\.1", result.server_output)
            or theirs["alpn"] == "http/1.1"
        ), result.describe()


@pytest.mark.parametrize("with_cert", [True, False], ids=["client-cert", "no-client-cert"])
def test_gnutls_server_client_certificate(peer_pki: PeerPKI, with_cert: bool) -> None:
    """gnutls-serv --require-client-cert --verify-client-cert (its CertificateRequest names the CA)."""
    port = 14600
    extra = ["--cert", str(peer_pki.client_cert), "--key", str(peer_pki.client_key)] if with_cert else []
    client = script_argv(port, peer_pki.ca, send="gnutls mtls\n", extra=extra)
    result = gnutls_server_scenario(
        client,
        peer_pki.server_rsa_cert,
        peer_pki.server_rsa_key,
        port=port,
        priority=_GNUTLS_BASE,
        cafile=peer_pki.ca,
        require_client_cert=True,
    )
    assert result.ready, result.describe()
    ours = script_report(result.client.stdout)
    if not with_cert:
        assert ours["ok"] is False and "certificate_required" in ours["error"], result.describe()
        assert parse_gnutls(result.server_output)["ok"] is False
        return
    theirs = parse_gnutls(result.server_output)
    assert ours["ok"] and ours["client_certificate_requested"] and ours["echo"] == "gnutls mtls\n", (
        result.describe()
    )
    assert theirs["ok"] and theirs["version"] == "TLSv1.3", result.describe()
    details = gnutls_server_details(result.server_output)
    assert details["client_signature"] == "ECDSA-SECP256R1-SHA256", details
    assert details["server_signature"] == ours["signature_scheme"].replace("_", "-") == "RSA-PSS-RSAE-SHA256"
    assert details["tls_exporter"] == ours["tls_exporter"], (details, ours)
    leaf = re.search(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", peer_pki.client_cert.read_text(), re.S
    )
    assert leaf is not None and leaf.group(0) in result.server_output  # gnutls-serv prints our certificate


# ============================================================================================ Deno (rustls)


def _keylog_secrets(path: Path) -> set[tuple[str, str, str]]:
    """(label, client_random, secret) lines of an NSS key log."""
    out = set()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#"):
            out.add((parts[0], parts[1].lower(), parts[2].lower()))
    return out


def test_deno_server_echo_and_alpn(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """Deno reports only ok/alpn/received; its key log (SSLKEYLOGFILE) must hold our very secrets."""
    server_log, client_log = tmp_path / "deno-keylog.txt", tmp_path / "client-keylog.txt"
    with deno_server(
        peer_pki.server_cert, peer_pki.server_key, alpn=["h2", "http/1.1"], keylog=server_log
    ) as srv:
        run = open_client(
            srv, client_config(peer_pki.ca, alpn_protocols=("http/1.1",), keylog_filename=str(client_log))
        )
        with run.tls:
            run.tls.sendall(b"hello rustls")
            echoed = read_exactly(run.tls, 12)
            run.tls.shutdown_write()
            read_until_close(run.tls)
        report = srv.wait_report(1)
    assert echoed == b"hello rustls"
    assert run.tls.negotiated is not None and run.tls.negotiated.alpn_protocol == "http/1.1"
    assert report["ok"] and report["alpn"] == "http/1.1" and report["received"] == "hello rustls", report

    ours, theirs = _keylog_secrets(client_log), _keylog_secrets(server_log)
    wanted = {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    }
    assert wanted <= {label for label, _, _ in theirs}  # TLS 1.3 on the server side
    assert {s for s in theirs if s[0] in wanted} <= ours


def test_deno_server_hello_retry(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """rustls has no X448: our X448-only key share makes it send a HelloRetryRequest."""
    server_log, client_log = tmp_path / "deno-keylog.txt", tmp_path / "client-keylog.txt"
    groups = (NamedGroup.X448, NamedGroup.SECP256R1, NamedGroup.X25519, NamedGroup.SECP384R1)
    config = client_config(
        peer_pki.ca, groups=groups, key_share_groups=(NamedGroup.X448,), keylog_filename=str(client_log)
    )
    with deno_server(peer_pki.server_rsa_cert, peer_pki.server_rsa_key, keylog=server_log) as srv:
        run = open_client(srv, config)
        with run.tls:
            run.tls.sendall(b"after hrr")
            assert read_exactly(run.tls, 9) == b"after hrr"
            run.tls.shutdown_write()
            read_until_close(run.tls)
        report = srv.wait_report(1)
    ours = run.tls.negotiated
    assert ours is not None and ours.hello_retry and ours.group in {NamedGroup.SECP256R1, NamedGroup.X25519}
    assert report["ok"] and report["received"] == "after hrr", report
    assert _keylog_secrets(server_log) and _keylog_secrets(server_log) <= _keylog_secrets(client_log)


# ============================================================================================ Python ssl


@pytest.mark.parametrize(
    ("curve", "group"), [("X25519", NamedGroup.X25519), ("secp384r1", NamedGroup.SECP384R1)]
)
def test_python_ssl_server_echo(peer_pki: PeerPKI, curve: str, group: NamedGroup) -> None:
    with python_ssl_server(peer_pki.server_rsa_cert, peer_pki.server_rsa_key, curve=curve, alpn=["h2"]) as (
        port,
        view,
    ):
        run = open_client(port, client_config(peer_pki.ca, alpn_protocols=("h2",)))
        with run.tls:
            run.tls.sendall(b"python ssl")
            echoed = read_exactly(run.tls, 10)
            run.tls.shutdown_write()
            assert read_until_close(run.tls) == b""
        assert view.done.wait(10)
    ours = run.tls.negotiated
    assert view.error is None, view.error
    assert echoed == b"python ssl" and view.received == b"python ssl"
    assert ours is not None and ours.group is group and ours.hello_retry is (group is not NamedGroup.X25519)
    assert view.version == "TLSv1.3" and view.cipher == ours.cipher_suite.name
    assert view.alpn == "h2" == ours.alpn_protocol
    assert view.peer_cert is None


def test_python_ssl_server_requires_client_certificate(peer_pki: PeerPKI) -> None:
    config = client_config(
        peer_pki.ca, certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key)
    )
    with python_ssl_server(peer_pki.server_cert, peer_pki.server_key, client_ca=peer_pki.ca) as (port, view):
        run = open_client(port, config)
        with run.tls:
            run.tls.sendall(b"mtls")
            assert read_exactly(run.tls, 4) == b"mtls"
            run.tls.shutdown_write()
            read_until_close(run.tls)
        assert view.done.wait(10)
    assert view.error is None, view.error
    assert view.peer_cert is not None
    subject = dict(item for rdn in view.peer_cert["subject"] for item in rdn)
    assert subject, view.peer_cert
    assert run.tls.negotiated is not None and run.tls.negotiated.client_certificate_requested


def test_python_ssl_server_refuses_missing_client_certificate(peer_pki: PeerPKI) -> None:
    with python_ssl_server(peer_pki.server_cert, peer_pki.server_key, client_ca=peer_pki.ca) as (port, view):
        with pytest.raises(AlertReceived) as caught:
            run = open_client(port, client_config(peer_pki.ca))
            with run.tls:
                run.tls.sendall(b"x")
                read_until_close(run.tls)
        assert view.done.wait(10)
    assert caught.value.description is AlertDescription.CERTIFICATE_REQUIRED
    assert view.error is not None and "CERTIFICATE" in view.error.upper()
