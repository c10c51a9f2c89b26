"""The handclasp client against real TLS 1.3 servers on 127.0.0.1: OpenSSL s_server, Go crypto/tls,
gnutls-serv (in a network namespace), Deno (rustls) and Python's ssl module.

Every test checks the negotiated values on both sides: ours from ``TLSSocket.negotiated`` and the
server's from its own report (``s_server -trace`` / ``-www`` page, the Go server's JSON line, gnutls-serv's
"Description" line, the Deno server's key log, the Python server's SSLSocket).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.interop.client_helpers import (
    ClientRun,
    client_config,
    echo_concurrently,
    http_get,
    load_client_cert,
    open_client,
    openssl_group_name,
    parse_s_server_www,
    python_ssl_server,
    read_exactly,
    read_until,
    read_until_close,
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
    require_binary,
)

from handclasp import (
    AlertDescription,
    AlertReceived,
    CertificateProblem,
    CertificateVerifyError,
    CipherSuite,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
    events,
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


def _cert(pki: PeerPKI, stem: str) -> tuple[Path, Path]:
    return pki.path(f"{stem}.pem"), pki.path(f"{stem}.key")


def _settled(server: PeerServer, timeout: float = 5.0, quiet: float = 0.25) -> str:
    """The server's output once it stopped growing for ``quiet`` seconds (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    last = server.output()
    changed = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = server.output()
        if now != last:
            last, changed = now, time.monotonic()
        elif time.monotonic() - changed >= quiet:
            break
    return last


def _openssl(pki: PeerPKI, stem: str = "server-ecdsa-p256", *args: str, www: bool = True, **kw: Any) -> Any:
    cert, key = _cert(pki, stem)
    return openssl_server(cert, key, www=www, tls13_only=True, extra_args=["-trace", *args], **kw)


def _no_handshake_messages(run: ClientRun) -> list[Any]:
    return [e for e in run.events if not isinstance(e, events.HandshakeMessage)]


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
    assert trace.suite is suite and trace.group is NamedGroup.X25519 == ours.group
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
            srv.wait_for(r"ALPN protocols selected: \S+")
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
    assert "ALPN protocols advertised by the client: h2" in output
    assert any("(120)" in a for a in trace_view(output).alerts("sent")), trace_view(output).alerts("sent")


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
def test_openssl_client_certificate(peer_pki: PeerPKI, cert: str) -> None:
    client_cert = load_client_cert(peer_pki.client_cert, peer_pki.client_key)
    config = client_config(peer_pki.ca, certificate=client_cert)
    with _openssl(peer_pki, SERVER_CERTS[cert], verify_client=True, cafile=peer_pki.ca) as srv:
        run, page = http_get(srv, config)
        output = _settled(srv)
    trace = trace_view(output)
    ours = run.tls.negotiated
    assert ours is not None and ours.client_certificate_requested
    assert trace.sent("CertificateRequest") and trace.received("Certificate")
    assert trace.signature_scheme("received") is SignatureScheme.ECDSA_SECP256R1_SHA256  # our P-256 key
    www = parse_s_server_www(page)
    assert www["client_certificate"], page.decode()[-800:]
    assert "handclasp" in page.decode() and "client.handclasp.test" in page.decode() or "Client certificate" in page.decode()


def test_openssl_client_certificate_missing_is_refused(peer_pki: PeerPKI) -> None:
    with _openssl(peer_pki, "server-ecdsa-p256", verify_client=True, cafile=peer_pki.ca) as srv:
        with pytest.raises(AlertReceived) as caught:
            run = open_client(srv, client_config(peer_pki.ca))
            with run.tls:  # the handshake is complete for us; the server's alert follows our Finished
                run.tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
                read_until_close(run.tls)
        output = _settled(srv)
    assert caught.value.description is AlertDescription.CERTIFICATE_REQUIRED
    assert "peer did not return a certificate" in output or "certificate required" in output.lower()
    assert any("certificate required" in a.lower() or "(116)" in a for a in trace_view(output).alerts("sent"))


@pytest.mark.parametrize(("name", "expected_san"), [("other.localhost", "other.localhost"), ("localhost", "localhost")])
def test_openssl_sni_selects_certificate(peer_pki: PeerPKI, name: str, expected_san: str) -> None:
    other_cert, other_key = _cert(peer_pki, "other")
    args = ("-servername", "other.localhost", "-cert2", str(other_cert), "-key2", str(other_key))
    with _openssl(peer_pki, "server-ecdsa-p256", *args) as srv:
        run, page = http_get(srv, client_config(peer_pki.ca), server_name=name)
        output = _settled(srv)
    ours = run.tls.negotiated
    assert ours is not None and ours.server_name == name
    from cryptography import x509

    sans = ours.peer_certificates[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert expected_san in sans.get_values_for_type(x509.DNSName)
    assert f'Hostname in TLS extension: "{name}"' in output
    assert ("Switching server context." in output) is (name == "other.localhost")
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
            srv.wait_for(r"^\s+KeyUpdate, Length=1")
            srv.process.send_stdin(b"after-server-update\n")
            read_until(run.tls, b"after-server-update\n")
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


def test_openssl_sends_two_session_tickets(peer_pki: PeerPKI) -> None:
    with _openssl(peer_pki, "server-ecdsa-p256") as srv:
        run, page = http_get(srv, client_config(peer_pki.ca))
        trace = trace_view(_settled(srv))
    tickets = run.of(events.SessionTicketReceived)
    assert len(tickets) == 2 == len(trace.sent("NewSessionTicket"))
    assert all(t.ticket.ticket and 0 < t.ticket.ticket_lifetime <= 7 * 86400 for t in tickets)
    assert tickets[0].ticket.ticket_nonce != tickets[1].ticket.ticket_nonce
    assert parse_s_server_www(page)["status_ok"]


@pytest.mark.parametrize("cert", sorted(SERVER_CERTS))
def test_openssl_unknown_ca(peer_pki: PeerPKI, cert: str) -> None:
    """We trust an unrelated root: CertificateVerifyError(UNKNOWN_ISSUER), and the server reads alert 48."""
    with _openssl(peer_pki, SERVER_CERTS[cert]) as srv:
        with pytest.raises(CertificateVerifyError) as caught:
            open_client(srv, client_config(peer_pki.path("unrelated-ca.pem")))
        output = _settled(srv)
    assert caught.value.problem is CertificateProblem.UNKNOWN_ISSUER
    assert caught.value.alert is AlertDescription.UNKNOWN_CA
    received = trace_view(output).alerts("received")
    assert any("unknown CA(48)" in a or "(48)" in a for a in received), received
    assert "alert unknown ca" in output.lower()


# ============================================================================================ Go crypto/tls


def _go_echo(run: ClientRun, payload: bytes) -> bytes:
    with run.tls:
        run.tls.sendall(payload)
        echoed = read_exactly(run.tls, len(payload))
        run.tls.shutdown_write()
        assert read_until_close(run.tls) == b""
    return echoed


@pytest.mark.parametrize(
    "group", [NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.SECP521R1], ids=lambda g: g.name
)
def test_go_each_group(peer_pki: PeerPKI, group: NamedGroup) -> None:
    cert, key = _cert(peer_pki, "server-ecdsa-p256" if group is not NamedGroup.SECP384R1 else "server-rsa2048")
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
    config = client_config(peer_pki.ca, certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key))
    with go_server(server_cert, server_key, client_auth="require", client_ca=peer_pki.ca) as srv:
        run = open_client(srv, config)
        assert _go_echo(run, b"mtls") == b"mtls"
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None and run.tls.negotiated.client_certificate_requested
    assert report["ok"] and report["peer_certs"] == 1, report
    assert any("handclasp" in s or "client" in s for s in report["peer_subjects"]), report


def test_go_mutual_tls_without_certificate_is_refused(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, client_auth="require", client_ca=peer_pki.ca) as srv:
        with pytest.raises(AlertReceived) as caught:
            run = open_client(srv, client_config(peer_pki.ca))
            _go_echo(run, b"no cert")
        report = srv.wait_report(1)
    assert caught.value.description is AlertDescription.CERTIFICATE_REQUIRED
    assert report["ok"] is False and "certificate" in report["error"]


def test_go_one_mib_echo(peer_pki: PeerPKI) -> None:
    payload = os.urandom(MIB)
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


@pytest.mark.parametrize("context", [b"", None], ids=["empty-context", "no-context"])
def test_go_exporter_matches(peer_pki: PeerPKI, context: bytes | None) -> None:
    """Go exports ExportKeyingMaterial(label, nil, 32); in TLS 1.3 a missing and an empty context are the
    same (RFC 8446 §7.5: the context is hashed either way)."""
    label = "EXPORTER-handclasp-interop"
    with go_server(peer_pki.server_cert, peer_pki.server_key, ekm=label) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        ours = run.tls.connection.export_keying_material(label.encode(), context or b"", 32)
        other = run.tls.connection.export_keying_material(b"EXPORTER-other", b"", 32)
        _go_echo(run, b"ekm")
        report = srv.wait_report(1)
    assert report["ok"], report
    assert bytes.fromhex(report["ekm"]) == ours
    assert other != ours and len(ours) == 32


def test_go_server_preferring_ml_kem_negotiates_x25519(peer_pki: PeerPKI) -> None:
    """The Go server accepts only X25519MLKEM768 and X25519; we offer no ML-KEM, so X25519 without HRR."""
    with go_server(peer_pki.server_cert, peer_pki.server_key, groups=["X25519MLKEM768", "X25519"]) as srv:
        run = open_client(srv, client_config(peer_pki.ca))
        _go_echo(run, b"pq")
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None and run.tls.negotiated.group is NamedGroup.X25519
    assert run.tls.negotiated.hello_retry is False
    assert report["ok"] and report["group"] == "X25519" and report["hello_retry"] is False, report


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
    ("alpn", "", {"alpn": ["h2", "http/1.1"]}, {"alpn": "http/1.1"}),
]


@pytest.mark.parametrize(("label", "priority", "options", "expected"), _GNUTLS_CASES, ids=[c[0] for c in _GNUTLS_CASES])
def test_gnutls_server(peer_pki: PeerPKI, label: str, priority: str, options: dict[str, Any], expected: dict[str, str | None]) -> None:
    port = 14600
    client_alpn = ("http/1.1",) if "alpn" in options else ()
    client = script_argv(port, peer_pki.ca, alpn=client_alpn, send=f"gnutls {label}\n")
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
    assert ours["version"] == "TLS1_3" and ours["echo"] == f"gnutls {label}\n"
    assert ours["group"] == theirs["group"] and ours["suite"] == theirs["suite"], (ours, theirs)
    for key, value in expected.items():
        assert ours[key] == value, (key, ours)
        if key != "alpn":
            assert theirs[key] == value, (key, theirs)
    if "group" in expected:
        assert ours["hello_retry"] is (expected["group"] != "X25519")
    if "alpn" in expected:
        assert re.search(r"Application protocol: http/1\.1|ALPN.*http/1\.1", result.server_output) or theirs["alpn"] == "http/1.1", result.describe()


# ============================================================================================ Deno (rustls)


def test_deno_server_echo_and_alpn(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """Deno reports only ok/alpn/received; its key log (SSLKEYLOGFILE) must hold our very secrets."""
    server_log, client_log = tmp_path / "deno-keylog.txt", tmp_path / "client-keylog.txt"
    with deno_server(peer_pki.server_cert, peer_pki.server_key, alpn=["h2", "http/1.1"], keylog=server_log) as srv:
        run = open_client(srv, client_config(peer_pki.ca, alpn_protocols=("http/1.1",), keylog_filename=str(client_log)))
        with run.tls:
            run.tls.sendall(b"hello rustls")
            echoed = read_exactly(run.tls, 12)
            run.tls.shutdown_write()
            read_until_close(run.tls)
        report = srv.wait_report(1)
    assert echoed == b"hello rustls"
    assert run.tls.negotiated is not None and run.tls.negotiated.alpn_protocol == "http/1.1"
    assert report["ok"] and report["alpn"] == "http/1.1" and report["received"] == "hello rustls", report

    def secrets(path: Path) -> set[tuple[str, str, str]]:
        out = set()
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and not line.startswith("#"):
                out.add((parts[0], parts[1].lower(), parts[2].lower()))
        return out

    ours, theirs = secrets(client_log), secrets(server_log)
    wanted = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"}
    assert wanted <= {label for label, _, _ in theirs}  # TLS 1.3 on the server side
    assert {s for s in theirs if s[0] in wanted} <= ours


# ============================================================================================ Python ssl


@pytest.mark.parametrize(("curve", "group"), [("X25519", NamedGroup.X25519), ("secp384r1", NamedGroup.SECP384R1)])
def test_python_ssl_server_echo(peer_pki: PeerPKI, curve: str, group: NamedGroup) -> None:
    with python_ssl_server(peer_pki.server_rsa_cert, peer_pki.server_rsa_key, curve=curve, alpn=["h2"]) as (port, view):
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
    config = client_config(peer_pki.ca, certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key))
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

