"""handclasp's TLS 1.2 (RFC 5246 + RFC 7627 EMS, RFC 7366 EtM, RFC 5746, RFC 5077) against real peers on
127.0.0.1: OpenSSL 3.0 (s_server / s_client), GnuTLS, Python's ssl, curl, Go crypto/tls and Botan 2.

Every test compares our view (``negotiated``, our key log) with the peer's own report: the s_server -www
page and -trace output, s_client's session block (its ``Master-Key`` is compared with the master secret we
logged), gnutls' Description/Options lines, the Go peer's JSON line, Botan's "Handshake complete" line.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pki
from handclasp import AlertDescription, CipherSuite, NamedGroup, ProtocolVersion
from handclasp.crypto.suites12 import TLS12_SUITES, BulkCipher
from handclasp.errors import AlertReceived, TLSError
from handclasp.sessions.cache import ClientSessionCache
from tests.interop.client_helpers import (
    load_client_cert,
    parse_s_server_www,
    trace_view,
)
from tests.interop.peers.harness import (
    PeerPKI,
    PeerProcess,
    PeerServer,
    curl_get,
    gnutls_server_scenario,
    go_server,
    netns_scenario,
    openssl_client_argv,
    openssl_server,
    parse_gnutls,
    parse_openssl_client,
    require_binary,
    run_gnutls_client,
    run_go_clients,
    run_openssl_client,
    run_peer,
)
from tests.interop.server_helpers import running_server
from tests.interop.tls12_helpers import (
    BOTH,
    FFDHE2048_PREFIX,
    OPENSSL_GROUP_ARG,
    OPENSSL_SUITE_NAMES,
    OPENSSL_SUITES_BY_NAME,
    TLS12,
    TLS13,
    client12_config,
    client_session,
    echo12,
    http_get12,
    keylog_master_secrets,
    openssl_ems,
    openssl_master_keys,
    openssl_sessions,
    python_ssl12_server,
    script12_argv,
    script12_reports,
    server12_config,
    suite_cert_stem,
    suite_is_cbc,
    suite_key_type,
    suite_uses_rsa_kx,
    trace_dh_p,
    trace_extensions,
    trace_named_curve,
)

PKI = pki.test_pki()
ECHO_INPUT = b"tls12 interop ping\n"
SUITES = list(TLS12_SUITES)
GNUTLS12 = "NORMAL:-VERS-ALL:+VERS-TLS1.2"
DOWNGRADE_TLS12 = "444F574E47524401"  # RFC 8446 §4.1.3: "DOWNGRD" 01 ends a 1.3-capable server's 1.2 random
GNUTLS_CIPHER = {
    BulkCipher.AES_128_GCM: "AES-128-GCM",
    BulkCipher.AES_256_GCM: "AES-256-GCM",
    BulkCipher.CHACHA20_POLY1305: "CHACHA20-POLY1305",
    BulkCipher.AES_128_CBC: "AES-128-CBC",
    BulkCipher.AES_256_CBC: "AES-256-CBC",
}


def _settled(server: PeerServer, timeout: float = 10.0) -> str:
    """Everything a ``-naccept N`` s_server printed, once it exited (its -trace output is complete then)."""
    process = server.process
    try:
        process.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"s_server did not exit after its connections\n{process.describe()}") from None
    for thread in process._threads:
        thread.join(5)
    return server.output()


def _s_server12(
    pki_files: PeerPKI, stem: str, *args: str, naccept: int = 1, tls12_only: bool = True, **kw: Any
) -> Any:
    """``openssl s_server [-tls1_2] -naccept N -trace ARGS`` with the PKI's ``stem`` certificate."""
    extra = ["-tls1_2"] if tls12_only else []
    extra += ["-naccept", str(naccept), "-trace", *args]
    return openssl_server(
        pki_files.path(f"{stem}.pem"), pki_files.path(f"{stem}.key"), extra_args=extra, **kw
    )


def _random_bytes(message_lines: tuple[str, ...]) -> str:
    for line in message_lines:
        found = re.match(r"random_bytes \(len=28\): ([0-9A-F]+)", line)
        if found:
            return found.group(1)
    raise AssertionError(f"no random in {message_lines}")


# ============================================================================ our client vs openssl s_server


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_client_openssl_each_suite(peer_pki: PeerPKI, suite: CipherSuite, tmp_path: Path) -> None:
    keylog = tmp_path / "keylog.txt"
    config = client12_config(
        peer_pki.ca,
        cipher_suites=(suite,),
        legacy_rsa_key_exchange=suite_uses_rsa_kx(suite),
        keylog_filename=str(keylog),
    )
    name = OPENSSL_SUITE_NAMES[suite]
    with _s_server12(peer_pki, suite_cert_stem(suite), "-cipher", name) as srv:
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.version is TLS12 and ours.cipher_suite is suite
    assert ours.extended_master_secret is True and ours.resumed is False
    text = page.decode("utf-8", "replace")
    assert openssl_sessions(text) == [("New", "TLSv1.2", name)], text[-2000:]
    assert openssl_ems(text) == ["yes"]
    # the master secret we logged is the one s_server computed (PRF, EMS session hash, key exchange)
    assert openssl_master_keys(text) == list(keylog_master_secrets(keylog).values())
    server_hello = trace.sent("ServerHello")
    assert len(server_hello) == 1
    extensions = trace_extensions(server_hello[0])
    assert "extended_master_secret" in extensions and "renegotiate" in extensions
    # RFC 7366: CBC suites run with encrypt-then-MAC, which the server acknowledges; AEAD ones never do
    assert ("encrypt_then_mac" in extensions) is suite_is_cbc(suite), extensions
    client_hello = trace.received("ClientHello")[0]
    assert "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" in "\n".join(client_hello.lines) or "renegotiate" in (
        trace_extensions(client_hello)
    )


@pytest.mark.parametrize("legacy", [False, True], ids=["etm_required", "legacy_mac_then_encrypt"])
def test_client_openssl_cbc_without_etm(peer_pki: PeerPKI, legacy: bool) -> None:
    """s_server -no_etm picks a CBC suite without acknowledging encrypt_then_mac: by default our client
    refuses (RFC 7366 policy); with legacy_versions=True it runs MAC-then-encrypt."""
    suite = CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
    config = client12_config(peer_pki.ca, cipher_suites=(suite,), legacy_versions=legacy)
    with _s_server12(peer_pki, "server-rsa2048", "-no_etm", "-cipher", OPENSSL_SUITE_NAMES[suite]) as srv:
        if not legacy:
            with pytest.raises(TLSError) as caught:
                http_get12(srv, config)
            output = _settled(srv)
            assert caught.value.alert is not None and "encrypt_then_mac" in str(caught.value), repr(
                caught.value
            )
            assert f"alert {caught.value.alert.name.lower().replace('_', ' ')}" in output, output[-2000:]
            return
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.cipher_suite is suite
    assert openssl_sessions(page.decode()) == [("New", "TLSv1.2", OPENSSL_SUITE_NAMES[suite])]
    assert "encrypt_then_mac" not in trace_extensions(trace.sent("ServerHello")[0])


@pytest.mark.parametrize("group", list(OPENSSL_GROUP_ARG), ids=lambda g: g.name)
def test_client_openssl_ecdhe_groups(peer_pki: PeerPKI, group: NamedGroup) -> None:
    config = client12_config(peer_pki.ca)
    with _s_server12(peer_pki, "server-ecdsa-p256", "-groups", OPENSSL_GROUP_ARG[group]) as srv:
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.version is TLS12 and ours.group is group
    assert openssl_sessions(page.decode())[0][:2] == ("New", "TLSv1.2")
    ske = trace.sent("ServerKeyExchange")
    assert len(ske) == 1 and trace_named_curve(ske[0]) is group, ske[0].lines


@pytest.mark.parametrize("params", ["ffdhe2048", "openssl-default"])
def test_client_openssl_dhe(peer_pki: PeerPKI, params: str, tmp_path: Path) -> None:
    """DHE-RSA with the RFC 7919 ffdhe2048 group (-dhparam) and with OpenSSL's own default (RFC 3526
    MODP 2048, a group we cannot name but must accept: p has 2048 bits)."""
    args = ["-cipher", "DHE-RSA-AES128-GCM-SHA256"]
    if params == "ffdhe2048":
        dhparam = tmp_path / "ffdhe2048.pem"
        subprocess.run(
            [
                require_binary("openssl"),
                "genpkey",
                "-genparam",
                "-algorithm",
                "DH",
                "-pkeyopt",
                "group:ffdhe2048",
                "-out",
                str(dhparam),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        args += ["-dhparam", str(dhparam)]
    config = client12_config(peer_pki.ca, cipher_suites=(CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,))
    with _s_server12(peer_pki, "server-rsa2048", *args) as srv:
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.cipher_suite is CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    assert openssl_sessions(page.decode()) == [("New", "TLSv1.2", "DHE-RSA-AES128-GCM-SHA256")]
    prime = trace_dh_p(trace.sent("ServerKeyExchange")[0])
    assert prime is not None and len(prime) == 512  # 2048 bits
    if params == "ffdhe2048":
        assert prime.startswith(FFDHE2048_PREFIX)
        assert ours.group is NamedGroup.FFDHE2048
    else:
        assert not prime.startswith(FFDHE2048_PREFIX)
        assert ours.group is not NamedGroup.FFDHE2048


@pytest.mark.parametrize("how", ["session_id", "ticket"])
def test_client_openssl_resumption(peer_pki: PeerPKI, how: str, tmp_path: Path) -> None:
    """session_id: s_server -no_ticket, the second connection offers ``conn.session`` explicitly.
    ticket: s_server's RFC 5077 ticket, the second connection finds it in a ClientSessionCache."""
    keylog = tmp_path / "keylog.txt"
    cache = ClientSessionCache() if how == "ticket" else None
    config = client12_config(peer_pki.ca, keylog_filename=str(keylog), session_cache=cache)
    args = ["-no_ticket"] if how == "session_id" else []
    with _s_server12(peer_pki, "server-ecdsa-p256", *args, naccept=2) as srv:
        if how == "ticket":
            first, page1 = http_get12(srv, config, cache_port=srv.port)
            second, page2 = http_get12(srv, config, cache_port=srv.port)
        else:
            first, page1 = http_get12(srv, config)
            session = client_session(first)
            assert session is not None
            second, page2 = http_get12(srv, config, session=session)
        _settled(srv)
    session = client_session(first)
    assert session is not None
    if how == "ticket":
        assert session.ticket, session
        assert len(cache) == 1  # type: ignore[arg-type]
    else:
        assert session.ticket is None and len(session.session_id) == 32
    one, two = first.tls.negotiated, second.tls.negotiated
    assert one is not None and two is not None
    assert one.resumed is False and two.resumed is True
    assert two.cipher_suite is one.cipher_suite and two.extended_master_secret
    assert openssl_sessions(page1.decode())[0][0] == "New"
    assert openssl_sessions(page2.decode())[0][0] == "Reused"
    masters = list(keylog_master_secrets(keylog).values())
    assert len(masters) == 2 and masters[0] == masters[1]  # two client randoms, one master secret
    assert openssl_master_keys(page2.decode()) == [masters[0]]
    assert two.peer_certificates == one.peer_certificates  # restored from the session


def test_client_openssl_session_not_resumable_elsewhere(peer_pki: PeerPKI) -> None:
    """A session from one s_server offered to another (different session cache and ticket keys): the
    server ignores it, and we fall back to a full handshake."""
    config = client12_config(peer_pki.ca)
    with _s_server12(peer_pki, "server-ecdsa-p256") as srv:
        first, _ = http_get12(srv, config)
        _settled(srv)
    session = client_session(first)
    assert session is not None
    with _s_server12(peer_pki, "server-ecdsa-p256") as srv:
        second, page = http_get12(srv, config, session=session)
        _settled(srv)
    negotiated = second.tls.negotiated
    assert negotiated is not None and negotiated.resumed is False
    assert openssl_sessions(page.decode())[0][0] == "New"


@pytest.mark.parametrize("stem", ["server-ecdsa-p256", "server-rsa2048"])
def test_client_openssl_client_certificate(peer_pki: PeerPKI, stem: str) -> None:
    config = client12_config(
        peer_pki.ca, certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key)
    )
    with _s_server12(peer_pki, stem, cafile=peer_pki.ca, verify_client=True) as srv:
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.version is TLS12 and ours.client_certificate_requested
    www = parse_s_server_www(page)
    assert www["client_certificate"] and www["verify_code"] == 0, page.decode()[-1500:]
    assert trace.received("Certificate") and trace.received("CertificateVerify")
    scheme = trace.signature_scheme("received")
    assert scheme is not None and scheme.name.startswith("ECDSA_SECP256R1")


def test_client_openssl_sni_selects_certificate(peer_pki: PeerPKI) -> None:
    """s_server switches to -cert2 when our SNI is OTHER_NAME (verification of that name then passes)."""
    args = ["-servername", pki.OTHER_NAME, "-cert2", str(peer_pki.path("other.pem"))]
    args += ["-key2", str(peer_pki.path("other.key"))]
    config = client12_config(peer_pki.ca)
    with _s_server12(peer_pki, "server-ecdsa-p256", *args) as srv:
        run, page = http_get12(srv, config, server_name=pki.OTHER_NAME)
        output = _settled(srv)
    ours = run.tls.negotiated
    assert ours is not None and ours.version is TLS12 and ours.server_name == pki.OTHER_NAME
    assert ours.peer_certificates[0] == PKI.other.leaf
    assert "Switching server context." in output
    hello = trace_view(output).received("ClientHello")[0]
    assert "server_name" in trace_extensions(hello)
    assert openssl_sessions(page.decode())[0][:2] == ("New", "TLSv1.2")


def test_client_openssl_alpn(peer_pki: PeerPKI) -> None:
    """s_server picks h2 from our ALPN list by its own order."""
    config = client12_config(peer_pki.ca, alpn_protocols=("http/1.1", "h2"))
    with _s_server12(peer_pki, "server-ecdsa-p256", "-alpn", "h2,http/1.1") as srv:
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    ours = run.tls.negotiated
    assert ours is not None and ours.version is TLS12 and ours.alpn_protocol == "h2"
    assert "application_layer_protocol_negotiation" in trace_extensions(trace.sent("ServerHello")[0])
    assert openssl_sessions(page.decode())[0][:2] == ("New", "TLSv1.2")


@pytest.mark.parametrize(
    ("ours", "server_tls12_only", "expected"),
    [(BOTH, True, TLS12), (BOTH, False, TLS13), ((TLS12,), False, TLS12)],
    ids=["ours13+12_vs_openssl12", "ours13+12_vs_openssl13+12", "ours12_vs_openssl13+12"],
)
def test_client_openssl_version_matrix(
    peer_pki: PeerPKI, ours: tuple[ProtocolVersion, ...], server_tls12_only: bool, expected: ProtocolVersion
) -> None:
    config = client12_config(peer_pki.ca, versions=ours)
    with _s_server12(peer_pki, "server-ecdsa-p256", tls12_only=server_tls12_only) as srv:
        run, page = http_get12(srv, config)
        trace = trace_view(_settled(srv))
    negotiated = run.tls.negotiated
    assert negotiated is not None and negotiated.version is expected
    assert openssl_sessions(page.decode())[0][1] == ("TLSv1.3" if expected is TLS13 else "TLSv1.2")
    if expected is TLS12:
        random = _random_bytes(trace.sent("ServerHello")[0].lines)
        # RFC 8446 §4.1.3: a 1.3-capable s_server negotiating 1.2 ends its random with DOWNGRD\x01; our
        # client configured for 1.2 only must accept it (the check is for clients that offered 1.3)
        assert random.endswith(DOWNGRADE_TLS12) is (not server_tls12_only and ours == (TLS12,))


def test_client_refuses_tls13_only_openssl(peer_pki: PeerPKI) -> None:
    config = client12_config(peer_pki.ca)
    with openssl_server(
        peer_pki.server_cert, peer_pki.server_key, tls13_only=True, extra_args=["-naccept", "1"]
    ) as srv:
        with pytest.raises(TLSError) as caught:
            http_get12(srv, config)
        output = _settled(srv)
    assert "unsupported protocol" in output, output[-2000:]  # s_server's view: a 1.2-only ClientHello
    assert isinstance(caught.value, AlertReceived), repr(caught.value)
    assert caught.value.description is AlertDescription.PROTOCOL_VERSION


# ============================================================================ openssl s_client vs our server


def _s_client12(port: int, args: list[str], cafile: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    return run_openssl_client(port, ["-tls1_2", *args], cafile=cafile, input=ECHO_INPUT, **kw)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_server_openssl_each_suite(peer_pki: PeerPKI, suite: CipherSuite, tmp_path: Path) -> None:
    keylog = tmp_path / "keylog.txt"
    config = server12_config(
        (PKI.server(suite_key_type(suite)),),  # type: ignore[arg-type]
        cipher_suites=(suite,),
        legacy_rsa_key_exchange=suite_uses_rsa_kx(suite),
        keylog_filename=str(keylog),
    )
    name = OPENSSL_SUITE_NAMES[suite]
    with running_server(config) as run:
        result = _s_client12(run.port, ["-cipher", name, "-trace"], peer_pki.ca)
        record = run.wait_record(0)
    out = result.stdout
    client = parse_openssl_client(out)
    assert client["ok"], out[-3000:] + result.stderr
    assert openssl_sessions(out) == [("New", "TLSv1.2", name)] and client["verify_code"] == 0
    assert openssl_ems(out) == ["yes"]
    assert "Secure Renegotiation IS supported" in out
    assert openssl_master_keys(out) == list(keylog_master_secrets(keylog).values())
    assert record.negotiated is not None and record.negotiated.cipher_suite is suite
    assert record.negotiated.version is TLS12 and record.negotiated.extended_master_secret
    assert bytes(record.received) == ECHO_INPUT and record.error is None
    assert ECHO_INPUT.decode().strip() in out  # echoed back
    hellos = trace_view(out).received("ServerHello")
    assert len(hellos) == 1
    assert ("encrypt_then_mac" in trace_extensions(hellos[0])) is suite_is_cbc(suite)


@pytest.mark.parametrize("legacy", [False, True], ids=["etm_required", "legacy_mac_then_encrypt"])
def test_server_openssl_cbc_without_etm(peer_pki: PeerPKI, legacy: bool) -> None:
    """s_client -no_etm offering only a CBC suite: handshake_failure by default, MAC-then-encrypt with
    legacy_versions=True."""
    suite = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    config = server12_config((PKI.server(),), legacy_versions=legacy)
    with running_server(config) as run:
        result = _s_client12(
            run.port, ["-no_etm", "-cipher", OPENSSL_SUITE_NAMES[suite], "-trace"], peer_pki.ca, linger=1.0
        )
        if not legacy:
            error = run.wait_handshake_error()
            assert "alert number 40" in result.stdout + result.stderr, result.stdout[-2000:]
            assert isinstance(error, TLSError) and error.alert is AlertDescription.HANDSHAKE_FAILURE
            return
        record = run.wait_record(0)
    assert openssl_sessions(result.stdout) == [("New", "TLSv1.2", OPENSSL_SUITE_NAMES[suite])]
    assert "encrypt_then_mac" not in trace_extensions(trace_view(result.stdout).received("ServerHello")[0])
    assert record.negotiated is not None and record.negotiated.cipher_suite is suite
    assert bytes(record.received) == ECHO_INPUT and ECHO_INPUT.decode().strip() in result.stdout


@pytest.mark.parametrize("group", list(OPENSSL_GROUP_ARG), ids=lambda g: g.name)
def test_server_openssl_ecdhe_groups(peer_pki: PeerPKI, group: NamedGroup) -> None:
    """ECDHE-RSA: in TLS 1.2 the client's supported_groups also bind an ECDSA certificate's curve (RFC 8422
    §5.1; OpenSSL and we both enforce it), so an RSA certificate keeps the group the only variable."""
    with running_server(server12_config((PKI.server("rsa2048"),))) as run:
        result = _s_client12(run.port, ["-groups", OPENSSL_GROUP_ARG[group]], peer_pki.ca)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["version"] == "TLSv1.2" and client["group"] == group.name
    assert record.negotiated is not None and record.negotiated.group is group
    assert bytes(record.received) == ECHO_INPUT


def test_server_openssl_dhe_ffdhe2048(peer_pki: PeerPKI) -> None:
    """OpenSSL 3.0 lists no ffdhe group in a TLS 1.2 ClientHello: RFC 7919 §4 says use ffdhe2048."""
    config = server12_config((PKI.server("rsa2048"),))
    with running_server(config) as run:
        result = _s_client12(run.port, ["-cipher", "DHE-RSA-AES256-GCM-SHA384", "-trace"], peer_pki.ca)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert client["suite"] == "DHE-RSA-AES256-GCM-SHA384" and client["group"] == "FFDHE2048"
    prime = trace_dh_p(trace_view(result.stdout).received("ServerKeyExchange")[0])
    assert prime is not None and prime.startswith(FFDHE2048_PREFIX) and len(prime) == 512
    assert record.negotiated is not None and record.negotiated.group is NamedGroup.FFDHE2048


@pytest.mark.parametrize(
    ("how", "client_args", "options"),
    [
        ("ticket", [], {}),
        ("session_id", ["-no_ticket"], {}),
        ("session_id_no_server_tickets", [], {"session_tickets": False}),
    ],
    ids=["ticket", "session_id", "session_id_no_server_tickets"],
)
def test_server_openssl_resumption(
    peer_pki: PeerPKI, how: str, client_args: list[str], options: dict[str, Any], tmp_path: Path
) -> None:
    sess = tmp_path / "session.pem"
    keylog = tmp_path / "keylog.txt"
    config = server12_config((PKI.server(),), keylog_filename=str(keylog), **options)
    with running_server(config) as run:
        first = _s_client12(run.port, [*client_args, "-sess_out", str(sess)], peer_pki.ca)
        second = _s_client12(run.port, [*client_args, "-sess_in", str(sess)], peer_pki.ca)
        records = [run.wait_record(0), run.wait_record(1)]
    assert openssl_sessions(first.stdout)[0][0] == "New", first.stdout[-3000:]
    assert openssl_sessions(second.stdout)[0][:2] == ("Reused", "TLSv1.2"), second.stdout[-3000:]
    has_ticket = "TLS session ticket:" in first.stdout
    assert has_ticket is (how == "ticket")
    assert openssl_master_keys(first.stdout) == openssl_master_keys(second.stdout)
    masters = list(keylog_master_secrets(keylog).values())
    assert len(masters) == 2 and masters[0] == masters[1] == openssl_master_keys(first.stdout)[0]
    assert [r.negotiated.resumed for r in records if r.negotiated] == [False, True]
    assert openssl_ems(second.stdout) == ["yes"]
    assert all(bytes(r.received) == ECHO_INPUT for r in records)


def test_server_openssl_client_certificate(peer_pki: PeerPKI) -> None:
    config = server12_config((PKI.server("rsa2048"),), client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        result = _s_client12(
            run.port, ["-cert", str(peer_pki.client_cert), "-key", str(peer_pki.client_key)], peer_pki.ca
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"] and client["version"] == "TLSv1.2", result.stdout[-3000:] + result.stderr
    assert "Client Certificate Types: RSA sign, ECDSA sign" in result.stdout, result.stdout[-3000:]
    assert record.negotiated is not None and record.negotiated.client_certificate_requested
    assert record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert bytes(record.received) == ECHO_INPUT


def test_server_openssl_missing_client_certificate_gets_handshake_failure(peer_pki: PeerPKI) -> None:
    """RFC 5246 §7.4.6: no certificate where one is required → fatal handshake_failure (40);
    certificate_required (116) does not exist in TLS 1.2."""
    config = server12_config((PKI.server(),), client_auth="require", client_cadata=PKI.ca.root_pem)
    with running_server(config) as run:
        result = _s_client12(run.port, [], peer_pki.ca, linger=1.0)
        error = run.wait_handshake_error()
    output = result.stdout + result.stderr
    assert "alert number 40" in output or "handshake failure" in output, output[-3000:]
    assert isinstance(error, TLSError) and error.alert is not None
    assert int(error.alert) == 40


def test_server_openssl_sni_and_alpn(peer_pki: PeerPKI) -> None:
    config = server12_config((PKI.server(), PKI.other), alpn_protocols=("http/1.1", "h2"))
    with running_server(config) as run:
        result = run_openssl_client(
            run.port,
            ["-tls1_2", "-alpn", "h2,http/1.1"],
            servername=pki.OTHER_NAME,
            cafile=peer_pki.ca,
            input=ECHO_INPUT,
        )
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"] and client["verify_code"] == 0, result.stdout[-3000:] + result.stderr
    assert client["alpn"] == "http/1.1"  # our preference
    assert f"CN = {pki.OTHER_NAME}" in result.stdout
    assert record.negotiated is not None and record.negotiated.server_name == pki.OTHER_NAME
    assert record.negotiated.alpn_protocol == "http/1.1"


@pytest.mark.parametrize(
    ("ours", "client_args", "expected"),
    [(BOTH, ["-tls1_2"], "TLSv1.2"), (BOTH, [], "TLSv1.3"), ((TLS12,), [], "TLSv1.2")],
    ids=["ours13+12_vs_s_client12", "ours13+12_vs_s_client", "ours12_vs_s_client"],
)
def test_server_openssl_version_matrix(
    peer_pki: PeerPKI, ours: tuple[ProtocolVersion, ...], client_args: list[str], expected: str
) -> None:
    with running_server(server12_config((PKI.server(),), versions=ours)) as run:
        result = run_openssl_client(run.port, [*client_args, "-trace"], cafile=peer_pki.ca, input=ECHO_INPUT)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"] and client["version"] == expected, result.stdout[-3000:] + result.stderr
    assert record.negotiated is not None
    assert record.negotiated.version is {"TLSv1.2": TLS12, "TLSv1.3": TLS13}[expected]
    if expected == "TLSv1.2":
        random = _random_bytes(trace_view(result.stdout).received("ServerHello")[0].lines)
        # RFC 8446 §4.1.3: a 1.3-capable server negotiating 1.2 ends its random with DOWNGRD\x01
        assert random.endswith(DOWNGRADE_TLS12) is (TLS13 in ours), random
    assert bytes(record.received) == ECHO_INPUT


def test_server_openssl_fallback_scsv_gets_inappropriate_fallback(peer_pki: PeerPKI) -> None:
    """RFC 7507: TLS_FALLBACK_SCSV with a version below our highest → inappropriate_fallback (86)."""
    with running_server(server12_config((PKI.server(),), versions=BOTH)) as run:
        result = _s_client12(run.port, ["-fallback_scsv"], peer_pki.ca, linger=1.0)
        error = run.wait_handshake_error()
    output = result.stdout + result.stderr
    assert "alert number 86" in output or "inappropriate fallback" in output, output[-3000:]
    assert parse_openssl_client(result.stdout)["ok"] is False
    assert isinstance(error, TLSError) and error.alert is not None and int(error.alert) == 86


def test_server_openssl_fallback_scsv_at_our_highest_version_is_fine(peer_pki: PeerPKI) -> None:
    with running_server(server12_config((PKI.server(),))) as run:
        result = _s_client12(run.port, ["-fallback_scsv"], peer_pki.ca)
        record = run.wait_record(0)
    assert parse_openssl_client(result.stdout)["ok"], result.stdout[-3000:] + result.stderr
    assert bytes(record.received) == ECHO_INPUT


def test_server_openssl_renegotiation_is_refused(peer_pki: PeerPKI) -> None:
    """s_client's interactive "R" sends a renegotiating ClientHello (with renegotiation_info holding its
    Finished). We answer with a warning no_renegotiation (RFC 5246 §7.2.2) and do not renegotiate; OpenSSL
    then aborts with a fatal handshake_failure of its own (it treats a refused renegotiation as fatal)."""
    with running_server(server12_config((PKI.server(),))) as run:
        argv = openssl_client_argv(run.port, ["-tls1_2", "-msg"], cafile=peer_pki.ca)
        client = PeerProcess("openssl s_client", argv)
        try:
            client.wait_for(r"Verify return code: 0", timeout=20, stream="stdout")
            client.send_stdin(b"before\n")
            client.wait_for(r"^before$", 10, stream="stdout")
            client.send_stdin(b"R\n")
            client.wait_for(r"RENEGOTIATING", 10)
            client.wait_for(
                r"<<< TLS 1\.2, Alert \[length 0002\], warning no_renegotiation", 10, stream="stdout"
            )
            try:
                client.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        finally:
            client.stop()
        record = run.wait_record(0)
    output = client.stdout()
    assert len(re.findall(r">>> TLS 1\.2, Handshake \[length [0-9a-f]+\], ClientHello", output)) == 2
    assert (
        len(re.findall(r"<<< TLS 1\.2, Handshake \[length [0-9a-f]+\], ServerHello$", output, re.MULTILINE))
        == 1
    )
    assert bytes(record.received) == b"before\n"
    # OpenSSL ends the connection with a fatal handshake_failure after our refusal (or just closes)
    assert record.error is None or isinstance(record.error, AlertReceived), repr(record.error)
    if isinstance(record.error, AlertReceived):
        assert record.error.description is AlertDescription.HANDSHAKE_FAILURE


# ============================================================================ GnuTLS


_GNUTLS_SERVER_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    # label, priority suffix, our certificate key type, expectations
    ("default", "", "ecdsa-p256", {"group": "X25519"}),
    ("rsa-chacha20", "-CIPHER-ALL:+CHACHA20-POLY1305", "rsa2048", {"cipher": "CHACHA20-POLY1305"}),
    ("dhe-ffdhe3072", "-KX-ALL:+DHE-RSA:-GROUP-ALL:+GROUP-FFDHE3072", "rsa2048", {"group": "FFDHE3072"}),
    ("cbc-etm", "-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA256", "ecdsa-p256", {"cipher": "AES-128-CBC"}),
    ("x448", "-GROUP-ALL:+GROUP-X448", "rsa2048", {"group": "X448"}),  # an ECDSA P-256 cert needs P-256
]


@pytest.mark.parametrize(
    ("label", "priority", "key_type", "expected"),
    _GNUTLS_SERVER_CASES,
    ids=[c[0] for c in _GNUTLS_SERVER_CASES],
)
def test_server_gnutls_client(
    peer_pki: PeerPKI, label: str, priority: str, key_type: str, expected: dict[str, Any]
) -> None:
    with running_server(server12_config((PKI.server(key_type),))) as run:  # type: ignore[arg-type]
        result = run_gnutls_client(
            run.port,
            cafile=peer_pki.ca,
            priority=f"{GNUTLS12}:{priority}" if priority else GNUTLS12,
            input=ECHO_INPUT,
        )
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"] and client["version"] == "TLSv1.2", result.stdout[-3000:] + result.stderr
    ours = record.negotiated
    assert ours is not None and ours.version is TLS12
    params = TLS12_SUITES[ours.cipher_suite]
    assert client["suite"] == GNUTLS_CIPHER[params.cipher], (client, ours.cipher_suite)
    assert ours.group is not None and client["group"] == ours.group.name
    for key, value in expected.items():
        assert (client["suite"] if key == "cipher" else client[key]) == value, (key, client)
    options = re.search(r"^- Options: (.*)$", result.stdout, re.MULTILINE)
    assert (
        options and "extended master secret" in options.group(1) and "safe renegotiation" in options.group(1)
    )
    if params.is_cbc:
        assert "EtM" in options.group(1), options.group(1)  # RFC 7366 negotiated
    assert bytes(record.received) == ECHO_INPUT


@pytest.mark.parametrize("tickets", [True, False], ids=["ticket", "session_id"])
def test_server_gnutls_resume(peer_pki: PeerPKI, tickets: bool) -> None:
    with running_server(server12_config((PKI.server(),), session_tickets=tickets)) as run:
        result = run_gnutls_client(
            run.port,
            cafile=peer_pki.ca,
            priority=GNUTLS12,
            input=ECHO_INPUT,
            extra_args=["--resume"],
            linger=1.5,
        )
        first, second = run.wait_record(0), run.wait_record(1)
    assert "*** This is a resumed session" in result.stdout, result.stdout[-3000:] + result.stderr
    assert parse_gnutls(result.stdout)["version"] == "TLSv1.2"
    assert first.negotiated is not None and second.negotiated is not None
    assert (first.negotiated.resumed, second.negotiated.resumed) == (False, True)
    assert bytes(second.received) == ECHO_INPUT


def test_server_gnutls_client_certificate_and_alpn(peer_pki: PeerPKI) -> None:
    config = server12_config(
        (PKI.server(),),
        client_auth="require",
        client_cadata=PKI.ca.root_pem,
        alpn_protocols=("h2", "http/1.1"),
    )
    with running_server(config) as run:
        result = run_gnutls_client(
            run.port,
            cafile=peer_pki.ca,
            priority=GNUTLS12,
            alpn=["http/1.1"],
            cert=peer_pki.client_cert,
            key=peer_pki.client_key,
            input=ECHO_INPUT,
        )
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"] and client["version"] == "TLSv1.2", result.stdout[-3000:] + result.stderr
    assert client["alpn"] == "http/1.1"
    assert record.negotiated is not None and record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert record.negotiated.alpn_protocol == "http/1.1"
    assert bytes(record.received) == ECHO_INPUT


_GNUTLS_CLIENT_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("ecdsa", "", "server", {}),
    ("rsa-dhe", "-KX-ALL:+DHE-RSA", "server-rsa2048", {"group": "FFDHE2048"}),
    ("cbc-etm", "-CIPHER-ALL:+AES-256-CBC:-MAC-ALL:+SHA1", "server", {"cipher": "AES-256-CBC"}),
]


@pytest.mark.parametrize(
    ("label", "priority", "stem", "expected"), _GNUTLS_CLIENT_CASES, ids=[c[0] for c in _GNUTLS_CLIENT_CASES]
)
def test_client_gnutls_server(
    peer_pki: PeerPKI, label: str, priority: str, stem: str, expected: dict[str, Any]
) -> None:
    port = 14612
    client = script12_argv(port, peer_pki.ca, send=f"gnutls12 {label}\n", connections=2)
    result = gnutls_server_scenario(
        client,
        peer_pki.path(f"{stem}.pem"),
        peer_pki.path(f"{stem}.key"),
        port=port,
        priority=f"{GNUTLS12}:{priority}" if priority else GNUTLS12,
    )
    assert result.ready, result.describe()
    reports = script12_reports(result.client.stdout)
    theirs = parse_gnutls(result.server_output)
    assert len(reports) == 2 and all(r["ok"] for r in reports), result.describe()
    ours = reports[0]
    assert theirs["ok"] and theirs["version"] == "TLSv1.2", result.describe()
    assert ours["version"] == "TLS1_2" and ours["echo_matches"] and ours["extended_master_secret"]
    assert theirs["group"] == ours["group"], (ours, theirs)
    assert theirs["suite"] == GNUTLS_CIPHER[TLS12_SUITES[CipherSuite[ours["suite"]]].cipher], (ours, theirs)
    for key, value in expected.items():
        assert (theirs["suite"] if key == "cipher" else ours[key]) == value, (key, ours, theirs)
    assert reports[1]["resumed"] is True and reports[1]["echo_matches"], reports[1]


# ============================================================================ Python ssl, curl


def test_server_python_ssl_client_tls12_and_resumption(peer_pki: PeerPKI) -> None:
    context = ssl.create_default_context(cafile=str(peer_pki.ca))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(peer_pki.client_cert), str(peer_pki.client_key))
    config = server12_config(
        (PKI.server(),), versions=BOTH, client_auth="request", client_cadata=PKI.ca.root_pem
    )
    seen: list[tuple[str | None, str, bool]] = []
    with running_server(config) as run:
        session = None
        for _ in range(2):
            with socket.create_connection(("127.0.0.1", run.port), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                    tls.sendall(ECHO_INPUT)
                    echoed = b""
                    while len(echoed) < len(ECHO_INPUT):
                        chunk = tls.recv(1024)
                        assert chunk
                        echoed += chunk
                    assert echoed == ECHO_INPUT
                    seen.append((tls.version(), tls.cipher()[0], tls.session_reused))  # type: ignore[index]
                    session = tls.session
                    tls.unwrap()
        records = [run.wait_record(0), run.wait_record(1)]
    assert [s[0] for s in seen] == ["TLSv1.2", "TLSv1.2"]
    assert [s[2] for s in seen] == [False, True]
    first = records[0].negotiated
    assert first is not None and OPENSSL_SUITE_NAMES[first.cipher_suite] == seen[0][1]
    assert first.peer_certificates[0] == PKI.client.leaf
    assert [r.negotiated.resumed for r in records if r.negotiated] == [False, True]
    assert all(r.clean_close for r in records)


def test_server_curl_tls12(peer_pki: PeerPKI) -> None:
    config = server12_config((PKI.server(),), versions=BOTH, alpn_protocols=("http/1.1",))
    with running_server(config, mode="http") as run:
        result = curl_get(
            f"https://localhost:{run.port}/tls12", peer_pki.ca, extra_args=["--tlsv1.2", "--tls-max", "1.2"]
        )
        record = run.wait_record(0)
    assert result["ok"], result["error"]
    assert result["status"] == 200 and result["version"] == "TLSv1.2"
    assert record.negotiated is not None and record.negotiated.version is TLS12
    assert OPENSSL_SUITES_BY_NAME.get(result["suite"]) is record.negotiated.cipher_suite
    assert result["alpn"] == "http/1.1" and record.negotiated.alpn_protocol == "http/1.1"
    assert f"suite={record.negotiated.cipher_suite.name}" in result["body"]


@pytest.mark.parametrize("ours", [BOTH, (TLS12,)], ids=["ours13+12", "ours12"])
def test_client_python_ssl_server_tls12(peer_pki: PeerPKI, ours: tuple[ProtocolVersion, ...]) -> None:
    config = client12_config(
        peer_pki.ca, versions=ours, certificate=load_client_cert(peer_pki.client_cert, peer_pki.client_key)
    )
    with python_ssl12_server(
        peer_pki.server_rsa_cert, peer_pki.server_rsa_key, client_ca=peer_pki.ca, alpn=["http/1.1"]
    ) as (port, view):
        run, echoed = echo12(port, config, ECHO_INPUT)
        view.done.wait(10)
    assert view.error is None, view.error
    negotiated = run.tls.negotiated
    assert echoed == ECHO_INPUT and view.received == ECHO_INPUT
    assert view.version == "TLSv1.2" and negotiated is not None and negotiated.version is TLS12
    assert view.cipher == OPENSSL_SUITE_NAMES[negotiated.cipher_suite]
    assert view.peer_cert is not None  # our client certificate was verified by OpenSSL
    assert negotiated.extended_master_secret


# ============================================================================ Go crypto/tls


@pytest.mark.parametrize(
    ("ciphers", "key_type"),
    [((), "ecdsa-p256"), (("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",), "rsa2048")],
    ids=["default", "rsa-chacha20"],
)
def test_server_go_client_tls12_and_resumption(
    peer_pki: PeerPKI, ciphers: tuple[str, ...], key_type: str
) -> None:
    config = server12_config((PKI.server(key_type),), versions=BOTH)  # type: ignore[arg-type]
    with running_server(config) as run:
        reports = run_go_clients(
            run.port, n=2, cafile=peer_pki.ca, max_version="1.2", ciphers=ciphers, send="go tls12"
        )
        records = [run.wait_record(0), run.wait_record(1)]
    assert all(r["ok"] for r in reports), reports
    assert [r["version"] for r in reports] == ["TLSv1.2", "TLSv1.2"]
    assert [r["resumed"] for r in reports] == [False, True]
    assert [r.negotiated.resumed for r in records if r.negotiated] == [False, True]
    first = records[0].negotiated
    assert first is not None and reports[0]["suite"] == first.cipher_suite.name
    if ciphers:
        assert first.cipher_suite.name == ciphers[0]
    assert first.group is not None and reports[0]["group"] == first.group.name
    assert all(r["received"] == "go tls12" for r in reports)


@pytest.mark.parametrize("legacy", [False, True], ids=["etm_required", "legacy_mac_then_encrypt"])
def test_server_go_client_cbc_without_etm(peer_pki: PeerPKI, legacy: bool) -> None:
    """Go's crypto/tls has no encrypt-then-MAC: offering only CBC suites, it gets handshake_failure from us
    by default (RFC 7366 policy), and a MAC-then-encrypt CBC connection with legacy_versions=True."""
    suite = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"
    config = server12_config((PKI.server(),), legacy_versions=legacy)
    with running_server(config) as run:
        reports = run_go_clients(run.port, cafile=peer_pki.ca, max_version="1.2", ciphers=[suite], send="cbc")
        if not legacy:
            error = run.wait_handshake_error()
            assert reports[0]["ok"] is False and "handshake failure" in reports[0]["error"], reports
            assert isinstance(error, TLSError) and error.alert is AlertDescription.HANDSHAKE_FAILURE
            return
        record = run.wait_record(0)
    assert reports[0]["ok"] and reports[0]["suite"] == suite and reports[0]["received"] == "cbc", reports
    assert record.negotiated is not None and record.negotiated.cipher_suite.name == suite
    assert bytes(record.received) == b"cbc"


def test_server_go_client_exporter_tls12(peer_pki: PeerPKI) -> None:
    """RFC 5705 keying material over TLS 1.2 (Go allows it only with extended master secret)."""
    with running_server(server12_config((PKI.server(),))) as run:
        reports = run_go_clients(
            run.port, cafile=peer_pki.ca, max_version="1.2", ekm="EXPORTER-handclasp", send="ekm"
        )
        record = run.wait_record(0)
    assert reports[0]["ok"] and reports[0]["ekm"], reports
    assert record.ekm == reports[0]["ekm"]


@pytest.mark.parametrize("tickets", [True, False], ids=["tickets", "no_tickets"])
def test_client_go_server_tls12(peer_pki: PeerPKI, tickets: bool) -> None:
    """Go's server resumes only by ticket: without tickets our offered session is ignored, full handshake."""
    config = client12_config(peer_pki.ca, versions=BOTH, alpn_protocols=("h2", "http/1.1"))
    with go_server(
        peer_pki.server_cert,
        peer_pki.server_key,
        max_version="1.2",
        no_tickets=not tickets,
        alpn=["http/1.1"],
    ) as srv:
        first, echoed = echo12(srv, config, ECHO_INPUT)
        session = client_session(first)
        assert session is not None
        second, echoed2 = echo12(srv, config, ECHO_INPUT, session=session)
        reports = [srv.wait_report(1), srv.wait_report(2)]
    assert echoed == echoed2 == ECHO_INPUT
    one, two = first.tls.negotiated, second.tls.negotiated
    assert one is not None and two is not None
    assert reports[0]["version"] == "TLSv1.2" and one.version is TLS12
    assert reports[0]["suite"] == one.cipher_suite.name and one.group is not None
    assert reports[0]["group"] == one.group.name and one.alpn_protocol == "http/1.1"
    assert bool(session.ticket) is tickets
    assert two.resumed is tickets and reports[1]["resumed"] is tickets


@pytest.mark.parametrize(("max_version", "expected"), [("1.2", TLS12), ("1.3", TLS13)])
def test_version_matrix_go(peer_pki: PeerPKI, max_version: str, expected: ProtocolVersion) -> None:
    """Both directions: our 1.3+1.2 client against a Go server capped at max_version, and a Go client capped
    at max_version against our 1.3+1.2 server."""
    config = client12_config(peer_pki.ca, versions=BOTH)
    with go_server(peer_pki.server_cert, peer_pki.server_key, max_version=max_version) as srv:
        run, _ = echo12(srv, config, ECHO_INPUT)
        report = srv.wait_report(1)
    assert run.tls.negotiated is not None and run.tls.negotiated.version is expected
    name = "TLSv1.3" if expected is TLS13 else "TLSv1.2"
    assert report["version"] == name
    with running_server(server12_config((PKI.server(),), versions=BOTH)) as srv2:
        reports = run_go_clients(srv2.port, cafile=peer_pki.ca, max_version=max_version, send="v")
        record = srv2.wait_record(0)
    assert reports[0]["ok"] and reports[0]["version"] == name, reports
    assert record.negotiated is not None and record.negotiated.version is expected


# ============================================================================ Botan 2 (TLS 1.2 only)


def _botan() -> str:
    return require_binary("botan")


_BOTAN_POLICIES = {
    "default": "",
    "cbc-etm": "ciphers = AES-128\nmacs = SHA-256\n",
    "dhe": "key_exchange_methods = DH\n",
    "chacha20": "ciphers = ChaCha20Poly1305\n",
}


@pytest.mark.parametrize("policy", list(_BOTAN_POLICIES))
def test_server_botan_client(peer_pki: PeerPKI, policy: str, tmp_path: Path) -> None:
    botan = _botan()
    key_type = "rsa2048" if policy == "dhe" else "ecdsa-p256"
    argv = [botan, "tls_client", "localhost", f"--trusted-cas={peer_pki.ca}", "--skip-system-cert-store"]
    if _BOTAN_POLICIES[policy]:
        (tmp_path / "policy.txt").write_text(_BOTAN_POLICIES[policy])
        argv.append(f"--policy={tmp_path / 'policy.txt'}")
    with running_server(server12_config((PKI.server(key_type),), versions=BOTH)) as run:  # type: ignore[arg-type]
        result = run_peer([*argv, f"--port={run.port}"], input=ECHO_INPUT, linger=1.5)
        record = run.wait_record(0)
    done = re.search(r"^Handshake complete, (TLS v1\.\d) using (\w+)", result.stdout, re.MULTILINE)
    assert done, result.stdout[-3000:] + result.stderr
    assert "Certificate validation status: Verified" in result.stdout
    ours = record.negotiated
    assert ours is not None and ours.version is TLS12 and done.group(1) == "TLS v1.2"
    assert "TLS_" + done.group(2) == ours.cipher_suite.name
    params = TLS12_SUITES[ours.cipher_suite]
    if policy == "cbc-etm":
        assert params.is_cbc and params.mac_name == "sha256"
    elif policy == "dhe":
        assert ours.group is not None and ours.group.name.startswith("FFDHE")
    elif policy == "chacha20":
        assert params.cipher is BulkCipher.CHACHA20_POLY1305
    assert ours.extended_master_secret
    assert bytes(record.received) == ECHO_INPUT
    assert ECHO_INPUT.decode().strip() in result.stdout  # the echo came back


@pytest.mark.parametrize("stem", ["server", "server-rsa2048"])
def test_client_botan_server(peer_pki: PeerPKI, stem: str) -> None:
    botan = _botan()
    port = 14613
    server = [botan, "tls_server", str(peer_pki.path(f"{stem}.pem")), str(peer_pki.path(f"{stem}.key"))]
    server.append(f"--port={port}")
    client = script12_argv(port, peer_pki.ca, versions=("TLS1_3", "TLS1_2"), send="botan\n", connections=2)
    result = netns_scenario(server, client, port, ready=r"Listening for new connections")
    assert result.ready, result.describe()
    reports = script12_reports(result.client.stdout)
    assert len(reports) == 2 and all(r["ok"] for r in reports), result.describe()
    done = re.findall(r"^Handshake complete, (TLS v1\.\d) using (\w+)", result.server_output, re.MULTILINE)
    assert len(done) == 2, result.describe()
    assert done[0] == ("TLS v1.2", reports[0]["suite"].removeprefix("TLS_"))
    assert reports[0]["version"] == "TLS1_2" and reports[0]["extended_master_secret"]
    assert reports[0]["echo_matches"] and reports[1]["echo_matches"]
    assert reports[1]["resumed"] is True, reports[1]


# ============================================================================ more negatives and policies


@pytest.mark.parametrize(
    ("server_tls12_only", "fails"), [(False, True), (True, False)], ids=["openssl13+12", "openssl12"]
)
def test_client_fallback_scsv(peer_pki: PeerPKI, server_tls12_only: bool, fails: bool) -> None:
    """ClientConfig(fallback_scsv=True) on a 1.2-only retry: a 1.3-capable s_server answers
    inappropriate_fallback (RFC 7507 §3); a 1.2-only one proceeds."""
    config = client12_config(peer_pki.ca, fallback_scsv=True)
    with _s_server12(peer_pki, "server-ecdsa-p256", tls12_only=server_tls12_only) as srv:
        if fails:
            with pytest.raises(AlertReceived) as caught:
                http_get12(srv, config)
            trace = trace_view(_settled(srv))
            assert caught.value.description is AlertDescription.INAPPROPRIATE_FALLBACK
            assert "TLS_FALLBACK_SCSV" in "\n".join(trace.received("ClientHello")[0].lines)
            return
        run, page = http_get12(srv, config)
        _settled(srv)
    assert run.tls.negotiated is not None and run.tls.negotiated.version is TLS12
    assert openssl_sessions(page.decode())[0][:2] == ("New", "TLSv1.2")


@pytest.mark.parametrize("required", [True, False], ids=["ems_required", "ems_optional"])
def test_server_gnutls_client_without_extended_master_secret(peer_pki: PeerPKI, required: bool) -> None:
    """gnutls-cli %NO_SESSION_HASH sends no extended_master_secret: refused while we require EMS (the
    default, RFC 7627 §5.2), a legacy master secret with require_extended_master_secret=False."""
    config = server12_config((PKI.server(),), require_extended_master_secret=required)
    with running_server(config) as run:
        result = run_gnutls_client(
            run.port,
            cafile=peer_pki.ca,
            priority=f"{GNUTLS12}:%NO_SESSION_HASH",
            input=ECHO_INPUT,
            linger=1.0,
        )
        if required:
            error = run.wait_handshake_error()
            assert parse_gnutls(result.stdout)["ok"] is False, result.stdout[-2000:]
            assert isinstance(error, TLSError) and "extended_master_secret" in str(error), repr(error)
            assert "Received alert [40]" in result.stdout + result.stderr  # handshake_failure
            return
        record = run.wait_record(0)
    client = parse_gnutls(result.stdout)
    assert client["ok"] and client["version"] == "TLSv1.2", result.stdout[-3000:] + result.stderr
    options = re.search(r"^- Options: (.*)$", result.stdout, re.MULTILINE)
    assert options is None or "extended master secret" not in options.group(1)
    assert record.negotiated is not None and record.negotiated.extended_master_secret is False
    assert bytes(record.received) == ECHO_INPUT


@pytest.mark.parametrize("required", [True, False], ids=["ems_required", "ems_optional"])
def test_client_gnutls_server_without_extended_master_secret(peer_pki: PeerPKI, required: bool) -> None:
    """gnutls-serv %NO_SESSION_HASH does not echo extended_master_secret: our client aborts while it
    requires EMS (the default), and runs a legacy master secret otherwise."""
    port = 14614
    client = script12_argv(port, peer_pki.ca, send="no ems\n")
    if not required:
        client.append("--ems-optional")
    result = gnutls_server_scenario(
        client, peer_pki.server_cert, peer_pki.server_key, port=port, priority=f"{GNUTLS12}:%NO_SESSION_HASH"
    )
    assert result.ready, result.describe()
    ours = script12_reports(result.client.stdout)[0]
    if required:
        assert ours["ok"] is False and "extended_master_secret" in ours["error"], result.describe()
        assert parse_gnutls(result.server_output)["ok"] is False, result.describe()
        return
    assert ours["ok"] and ours["extended_master_secret"] is False and ours["echo_matches"], result.describe()
    theirs = parse_gnutls(result.server_output)
    assert theirs["ok"] and theirs["version"] == "TLSv1.2", result.describe()


def test_client_gnutls_server_requires_client_certificate(peer_pki: PeerPKI) -> None:
    port = 14615
    client = script12_argv(
        port, peer_pki.ca, send="gnutls12 mtls\n", cert=peer_pki.client_cert, key=peer_pki.client_key
    )
    result = gnutls_server_scenario(
        client,
        peer_pki.server_rsa_cert,
        peer_pki.server_rsa_key,
        port=port,
        priority=GNUTLS12,
        cafile=peer_pki.ca,
        require_client_cert=True,
    )
    assert result.ready, result.describe()
    ours = script12_reports(result.client.stdout)[0]
    theirs = parse_gnutls(result.server_output)
    assert ours["ok"] and ours["client_certificate_requested"] and ours["echo_matches"], result.describe()
    assert ours["version"] == "TLS1_2" and theirs["ok"] and theirs["version"] == "TLSv1.2", result.describe()
    assert re.search(r"Subject.*CN=" + re.escape(pki.CLIENT_NAME), result.server_output), result.describe()
