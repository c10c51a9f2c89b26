"""TLS 1.0 / 1.1 (RFC 2246 / RFC 4346) behind ``legacy_versions=True`` against OpenSSL and GnuTLS on 127.0.0.1.

OpenSSL 3 needs ``@SECLEVEL=0`` to speak TLS 1.0/1.1 at all. Every test checks the peer's own report
(s_client's / the s_server -www page's ``Protocol  :`` and cipher, its ``Master-Key`` against the master
secret we logged, gnutls' Description line) against our ``negotiated``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import pki
from handclasp import AlertDescription, CipherSuite, ProtocolVersion
from handclasp.errors import TLSError
from tests.interop.peers.harness import (
    PeerPKI,
    gnutls_server_scenario,
    openssl_server,
    parse_gnutls,
    parse_openssl_client,
    run_gnutls_client,
    run_openssl_client,
)
from tests.interop.server_helpers import running_server
from tests.interop.tls12_helpers import (
    OPENSSL_SUITE_NAMES,
    TLS12,
    client12_config,
    client_session,
    http_get12,
    keylog_master_secrets,
    openssl_ems,
    openssl_master_keys,
    openssl_sessions,
    server12_config,
    suite_cert_stem,
    suite_key_type,
    suite_uses_rsa_kx,
)

PKI = pki.test_pki()
ECHO_INPUT = b"legacy interop ping\n"
S = CipherSuite
SECLEVEL0 = "DEFAULT:@SECLEVEL=0"
OPENSSL_FLAG = {ProtocolVersion.TLS1_0: "-tls1", ProtocolVersion.TLS1_1: "-tls1_1"}
OPENSSL_PROTOCOL = {ProtocolVersion.TLS1_0: "TLSv1", ProtocolVersion.TLS1_1: "TLSv1.1"}
LEGACY = [ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_1]
SUITES = [
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    S.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
    S.TLS_RSA_WITH_AES_128_CBC_SHA,
    S.TLS_RSA_WITH_AES_256_CBC_SHA,
]


def _cipher_arg(suite: CipherSuite) -> str:
    return f"{OPENSSL_SUITE_NAMES[suite]}:@SECLEVEL=0"


def _s_client(port: int, version: ProtocolVersion, args: list[str], cafile: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    return run_openssl_client(port, [OPENSSL_FLAG[version], *args], cafile=cafile, input=ECHO_INPUT, **kw)


def _settled(server: Any, timeout: float = 10.0) -> str:
    server.process.proc.wait(timeout)
    for thread in server.process._threads:
        thread.join(5)
    return str(server.output())


# ============================================================================ openssl s_client vs our server


@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
@pytest.mark.parametrize("etm", [True, False], ids=["etm", "mac_then_encrypt"])
def test_server_openssl_legacy(
    peer_pki: PeerPKI, version: ProtocolVersion, suite: CipherSuite, etm: bool, tmp_path: Path
) -> None:
    keylog = tmp_path / "keylog.txt"
    config = server12_config(
        (PKI.server(suite_key_type(suite)),),  # type: ignore[arg-type]
        cipher_suites=(suite,),
        legacy_versions=True,
        legacy_rsa_key_exchange=suite_uses_rsa_kx(suite),
        keylog_filename=str(keylog),
    )
    args = ["-cipher", _cipher_arg(suite)] + ([] if etm else ["-no_etm"])
    with running_server(config) as run:
        result = _s_client(run.port, version, args, peer_pki.ca)
        record = run.wait_record(0)
    out = result.stdout
    client = parse_openssl_client(out)
    assert client["ok"], out[-3000:] + result.stderr
    assert openssl_sessions(out) == [("New", OPENSSL_PROTOCOL[version], OPENSSL_SUITE_NAMES[suite])]
    assert client["verify_code"] == 0 and openssl_ems(out) == ["yes"]
    assert "Secure Renegotiation IS supported" in out
    assert openssl_master_keys(out) == list(keylog_master_secrets(keylog).values())
    negotiated = record.negotiated
    assert negotiated is not None and negotiated.version is version and negotiated.cipher_suite is suite
    assert bytes(record.received) == ECHO_INPUT and record.error is None
    assert ECHO_INPUT.decode().strip() in out  # echoed back under the legacy record protection
    if not suite_uses_rsa_kx(suite):
        # RFC 2246 §7.4.3 / RFC 4492 §5.4: s_client checked our ServerKeyExchange as MD5+SHA-1 (RSA) or SHA-1 (ECDSA)
        ecdsa = suite_key_type(suite).startswith("ecdsa")
        assert (client["peer_signature_type"], client["peer_signing_digest"]) == (
            ("ECDSA", "SHA1") if ecdsa else ("RSA", "MD5-SHA1")
        ), out[-3000:]


def test_server_openssl_legacy_resumption(peer_pki: PeerPKI, tmp_path: Path) -> None:
    sess = tmp_path / "session.pem"
    config = server12_config((PKI.server(),), legacy_versions=True)
    cipher = ["-cipher", SECLEVEL0]
    with running_server(config) as run:
        first = _s_client(run.port, ProtocolVersion.TLS1_0, [*cipher, "-sess_out", str(sess)], peer_pki.ca)
        second = _s_client(run.port, ProtocolVersion.TLS1_0, [*cipher, "-sess_in", str(sess)], peer_pki.ca)
        records = [run.wait_record(0), run.wait_record(1)]
    assert openssl_sessions(first.stdout)[0][:2] == ("New", "TLSv1"), first.stdout[-3000:]
    assert openssl_sessions(second.stdout)[0][:2] == ("Reused", "TLSv1"), second.stdout[-3000:]
    assert [r.negotiated.resumed for r in records if r.negotiated] == [False, True]
    assert all(bytes(r.received) == ECHO_INPUT for r in records)


@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
def test_server_openssl_client_certificate_legacy(peer_pki: PeerPKI, version: ProtocolVersion) -> None:
    """RFC 2246 §7.4.4 / §7.4.8: CertificateRequest without signature algorithms, CertificateVerify over
    the handshake with the key's legacy signature (the client key is ECDSA: SHA-1)."""
    config = server12_config(
        (PKI.server("rsa2048"),), client_auth="require", client_cadata=PKI.ca.root_pem, legacy_versions=True
    )
    args = ["-cipher", SECLEVEL0, "-cert", str(peer_pki.client_cert), "-key", str(peer_pki.client_key)]
    with running_server(config) as run:
        result = _s_client(run.port, version, args, peer_pki.ca)
        record = run.wait_record(0)
    client = parse_openssl_client(result.stdout)
    assert client["ok"], result.stdout[-3000:] + result.stderr
    assert openssl_sessions(result.stdout)[0][1] == OPENSSL_PROTOCOL[version]
    assert record.negotiated is not None and record.negotiated.peer_certificates[0] == PKI.client.leaf
    assert bytes(record.received) == ECHO_INPUT


def test_server_without_legacy_refuses_openssl_tls1(peer_pki: PeerPKI) -> None:
    """RFC 8996 §5: TLS 1.0 is refused by default, with protocol_version (70)."""
    with running_server(server12_config((PKI.server(),))) as run:
        result = _s_client(run.port, ProtocolVersion.TLS1_0, ["-cipher", SECLEVEL0], peer_pki.ca, linger=1.0)
        error = run.wait_handshake_error()
    assert not parse_openssl_client(result.stdout)["ok"]
    assert "alert protocol version" in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]
    assert isinstance(error, TLSError) and error.alert is AlertDescription.PROTOCOL_VERSION


# ============================================================================ our client vs openssl s_server


def _s_server(peer_pki: PeerPKI, stem: str, version: ProtocolVersion, *args: str, naccept: int = 1) -> Any:
    extra = [OPENSSL_FLAG[version], "-naccept", str(naccept), *args]
    return openssl_server(peer_pki.path(f"{stem}.pem"), peer_pki.path(f"{stem}.key"), extra_args=extra)


@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
@pytest.mark.parametrize("etm", [True, False], ids=["etm", "mac_then_encrypt"])
def test_client_openssl_legacy(
    peer_pki: PeerPKI, version: ProtocolVersion, suite: CipherSuite, etm: bool, tmp_path: Path
) -> None:
    keylog = tmp_path / "keylog.txt"
    config = client12_config(
        peer_pki.ca,
        versions=(TLS12,),
        legacy_versions=True,
        cipher_suites=(suite,),
        legacy_rsa_key_exchange=suite_uses_rsa_kx(suite),
        encrypt_then_mac=etm,
        keylog_filename=str(keylog),
    )
    args = ["-cipher", _cipher_arg(suite)] + ([] if etm else ["-no_etm"])
    with _s_server(peer_pki, suite_cert_stem(suite), version, *args) as srv:
        run, page = http_get12(srv, config)
        _settled(srv)
    ours = run.tls.negotiated
    assert ours is not None and ours.version is version and ours.cipher_suite is suite
    assert ours.extended_master_secret is True
    text = page.decode("utf-8", "replace")
    assert openssl_sessions(text) == [("New", OPENSSL_PROTOCOL[version], OPENSSL_SUITE_NAMES[suite])], text[-2000:]
    assert openssl_master_keys(text) == list(keylog_master_secrets(keylog).values())


def test_client_openssl_legacy_resumption(peer_pki: PeerPKI) -> None:
    config = client12_config(peer_pki.ca, versions=(TLS12,), legacy_versions=True)
    with _s_server(peer_pki, "server-ecdsa-p256", ProtocolVersion.TLS1_0, "-cipher", SECLEVEL0, "-no_ticket", naccept=2) as srv:
        first, _ = http_get12(srv, config)
        session = client_session(first)
        assert session is not None
        second, page2 = http_get12(srv, config, session=session)
        _settled(srv)
    one, two = first.tls.negotiated, second.tls.negotiated
    assert one is not None and two is not None and one.version is two.version is ProtocolVersion.TLS1_0
    assert one.resumed is False and two.resumed is True
    assert openssl_sessions(page2.decode())[0][:2] == ("Reused", "TLSv1")


def test_client_without_legacy_refuses_openssl_tls1(peer_pki: PeerPKI) -> None:
    """RFC 8996: by default our client offers TLS 1.2 at least; a TLS 1.0-only server fails the handshake."""
    config = client12_config(peer_pki.ca)
    with _s_server(peer_pki, "server-ecdsa-p256", ProtocolVersion.TLS1_0, "-cipher", SECLEVEL0) as srv:
        with pytest.raises(TLSError):
            http_get12(srv, config)


# ============================================================================ GnuTLS

GNUTLS_LEGACY = "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:%VERIFY_ALLOW_SIGN_WITH_SHA1"
GNUTLS_VERSION = {ProtocolVersion.TLS1_0: "TLSv1.0", ProtocolVersion.TLS1_1: "TLSv1.1"}


@pytest.mark.parametrize("stem", ["ecdsa-p256", "rsa2048"])
def test_server_gnutls_legacy(peer_pki: PeerPKI, stem: str) -> None:
    config = server12_config((PKI.server(stem),), legacy_versions=True)  # type: ignore[arg-type]
    with running_server(config) as run:
        result = run_gnutls_client(run.port, cafile=peer_pki.ca, priority=GNUTLS_LEGACY, input=ECHO_INPUT)
        record = run.wait_record(0)
    report = parse_gnutls(result.stdout)
    assert report["ok"], result.stdout[-3000:] + result.stderr
    assert report["version"] == "TLSv1.1"  # the highest both allow
    assert record.negotiated is not None and record.negotiated.version is ProtocolVersion.TLS1_1
    assert bytes(record.received) == ECHO_INPUT


_GNUTLS_CLIENT_CODE = """
import json, sys
sys.path.insert(0, {root!r})
from handclasp import CipherSuite, ProtocolVersion
from tests.interop.tls12_helpers import client12_config, echo12
config = client12_config({cafile!r}, versions=(ProtocolVersion.TLS1_2,), legacy_versions=True,
                         cipher_suites=(CipherSuite[{suite!r}],))
try:
    run, echoed = echo12({port}, config, b"gnutls legacy\\n")
    n = run.tls.negotiated
    print(json.dumps({{"ok": echoed == b"gnutls legacy\\n", "version": n.version.name, "suite": n.cipher_suite.name}}))
except Exception as exc:
    print(json.dumps({{"ok": False, "error": repr(exc)}}))
"""


@pytest.mark.parametrize(
    ("suite", "stem"),
    [(S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "server-ecdsa-p256"), (S.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "server-rsa2048")],
    ids=["ecdsa", "rsa"],
)
def test_client_gnutls_server_legacy(peer_pki: PeerPKI, suite: CipherSuite, stem: str) -> None:
    """gnutls-serv limited to TLS 1.0/1.1 (in a network namespace: it binds every interface)."""
    import json
    import sys

    port = 14631
    code = _GNUTLS_CLIENT_CODE.format(
        root=str(Path(__file__).resolve().parents[2]), cafile=str(peer_pki.ca), suite=suite.name, port=port
    )
    result = gnutls_server_scenario(
        [sys.executable, "-c", code],
        peer_pki.path(f"{stem}.pem"),
        peer_pki.path(f"{stem}.key"),
        port=port,
        priority=GNUTLS_LEGACY,
    )
    assert result.ready, result.describe()
    lines = [line for line in result.client.stdout.splitlines() if line.startswith("{")]
    assert lines, result.describe()
    ours = json.loads(lines[-1])
    theirs = parse_gnutls(result.server_output)
    assert ours["ok"], (ours, result.describe())
    assert ours["version"] == "TLS1_1" and ours["suite"] == suite.name
    assert theirs["ok"] and theirs["version"] == "TLSv1.1", result.describe()


@pytest.mark.parametrize("version", LEGACY, ids=lambda v: v.name)
def test_client_offering_tls13_falls_to_legacy_openssl(peer_pki: PeerPKI, version: ProtocolVersion) -> None:
    """A TLS 1.3-capable client with legacy_versions=True (supported_versions 1.3 .. 1.0) against a TLS
    1.0/1.1-only s_server: the server sets no downgrade sentinel (1.2 is disabled there), so it goes on."""
    config = client12_config(peer_pki.ca, versions=(ProtocolVersion.TLS1_3, TLS12), legacy_versions=True)
    with _s_server(peer_pki, "server-ecdsa-p256", version, "-cipher", SECLEVEL0) as srv:
        run, page = http_get12(srv, config)
        _settled(srv)
    assert run.tls.negotiated is not None and run.tls.negotiated.version is version
    assert openssl_sessions(page.decode())[0][:2] == ("New", OPENSSL_PROTOCOL[version])
