"""OCSP stapling against OpenSSL, GnuTLS and curl (127.0.0.1 only).

Our server staples to ``openssl s_client -status`` and ``curl --cert-status``; our client checks the
staples of ``openssl s_server -status_file`` (TLS 1.3 in the leaf's CertificateEntry, TLS 1.2 in a
CertificateStatus message) and ``gnutls-serv --ocsp-response``.  Responses come from tools/ocsp.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import pki
from handclasp import ClientConfig, ServerConfig
from handclasp.errors import CertificateProblem, CertificateVerifyError
from handclasp.tools.ocsp import OcspStatus, ocsp_response_for
from handclasp.wire.enums import AlertDescription, ProtocolVersion
from tests.interop.client_helpers import open_client
from tests.interop.peers.harness import (
    PeerPKI,
    curl_get,
    gnutls_server_scenario,
    openssl_server,
    run_openssl_client,
)
from tests.interop.server_helpers import running_server

PKI = pki.test_pki()
ECHO_INPUT = b"ocsp ping\n"


def response_file(directory: Path, status: OcspStatus = "good") -> Path:
    path = directory / f"ocsp-{status}.der"
    path.write_bytes(ocsp_response_for(PKI.ca, PKI.server("ecdsa-p256").leaf, status=status))
    return path


def stapling_server(directory: Path) -> tuple[ServerConfig, bytes]:
    der = response_file(directory).read_bytes()
    certified = PKI.server("ecdsa-p256").with_ocsp_response(der)
    return ServerConfig(certificates=(certified,), keylog_filename=None), der


def client_config(peer_pki: PeerPKI, **options: object) -> ClientConfig:
    return ClientConfig(cafile=str(peer_pki.ca), keylog_filename=None, **options)  # type: ignore[arg-type]


# ------------------------------------------------------------------ real clients against our server


def test_openssl_client_sees_our_staple(peer_pki: PeerPKI, tmp_path: Path) -> None:
    config, der = stapling_server(tmp_path)
    with running_server(config) as run:
        result = run_openssl_client(run.port, ["-status", "-tls1_3"], cafile=peer_pki.ca, input=ECHO_INPUT)
        record = run.wait_record(0)
    assert "OCSP Response Status: successful" in result.stdout, result.stdout[-3000:]
    assert "Cert Status: good" in result.stdout, result.stdout[-3000:]
    assert "Verify return code: 0 (ok)" in result.stdout
    assert record.negotiated is not None and record.negotiated.ocsp_response == der


def test_openssl_client_without_status_gets_no_staple(peer_pki: PeerPKI, tmp_path: Path) -> None:
    config, _ = stapling_server(tmp_path)
    with running_server(config) as run:
        result = run_openssl_client(run.port, ["-tls1_3", "-status"], cafile=peer_pki.ca, input=ECHO_INPUT)
        plain = run_openssl_client(run.port, ["-tls1_3"], cafile=peer_pki.ca, input=ECHO_INPUT)
        records = [run.wait_record(0), run.wait_record(1)]
    assert "OCSP response:" in result.stdout
    assert "OCSP response" not in plain.stdout and "Verify return code: 0 (ok)" in plain.stdout
    assert records[1].negotiated is not None and records[1].negotiated.ocsp_response is None


def test_curl_cert_status_against_our_server(peer_pki: PeerPKI) -> None:
    """curl looks the issuer up in the server's chain, so this one serves leaf + intermediate."""
    certified = PKI.intermediate
    der = ocsp_response_for(PKI.intermediate_ca, certified.leaf)
    config = ServerConfig(certificates=(certified.with_ocsp_response(der),), keylog_filename=None)
    with running_server(config, mode="http") as run:
        report = curl_get(f"https://localhost:{run.port}/", peer_pki.ca, extra_args=["--tlsv1.3", "--cert-status"])
    assert report["ok"], report["error"]
    assert "SSL certificate status: good" in report["verbose"], report["verbose"][-3000:]


def test_curl_cert_status_refuses_a_server_without_a_staple(peer_pki: PeerPKI) -> None:
    config = ServerConfig(certificates=(PKI.server("ecdsa-p256"),), keylog_filename=None)
    with running_server(config, mode="http") as run:
        report = curl_get(f"https://localhost:{run.port}/", peer_pki.ca, extra_args=["--tlsv1.3", "--cert-status"])
    assert not report["ok"] and report["returncode"] == 91, report["verbose"][-3000:]  # CURLE_SSL_INVALIDCERTSTATUS


# ------------------------------------------------------------------ our client against real servers


@pytest.mark.parametrize("version", ["-tls1_3", "-tls1_2"])
def test_our_client_checks_openssl_servers_staple(peer_pki: PeerPKI, tmp_path: Path, version: str) -> None:
    """TLS 1.3: status in the leaf's CertificateEntry; TLS 1.2: the CertificateStatus message (RFC 6066 §8)."""
    path = response_file(tmp_path)
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, extra_args=[version, "-status_file", str(path)]) as port:
        run = open_client(port, client_config(peer_pki, ocsp_stapling="require"))
        with run.tls:
            negotiated = run.tls.negotiated
    assert negotiated is not None
    expected = ProtocolVersion.TLS1_3 if version == "-tls1_3" else ProtocolVersion.TLS1_2
    assert negotiated.version is expected
    assert negotiated.ocsp_response == path.read_bytes()


def test_our_client_refuses_a_revoked_staple_from_openssl(peer_pki: PeerPKI, tmp_path: Path) -> None:
    """RFC 8446 §6.2: certificate_revoked, which s_server reports as the alert it read."""
    path = response_file(tmp_path, "revoked")
    args = ["-tls1_3", "-status_file", str(path)]
    with openssl_server(peer_pki.server_cert, peer_pki.server_key, extra_args=args) as server:
        with pytest.raises(CertificateVerifyError) as info:
            open_client(server, client_config(peer_pki))
        output = _wait_output(server, "certificate revoked")
    assert (info.value.problem, info.value.alert) == (CertificateProblem.REVOKED, AlertDescription.CERTIFICATE_REVOKED)
    assert "certificate revoked" in output, output[-3000:]


def test_our_client_checks_gnutls_servers_staple(peer_pki: PeerPKI, tmp_path: Path) -> None:
    path = response_file(tmp_path)
    port = 14611
    code = _CLIENT_SCRIPT.format(port=port, cafile=str(peer_pki.ca))
    result = gnutls_server_scenario(
        [sys.executable, "-c", code],
        peer_pki.server_cert,
        peer_pki.server_key,
        port=port,
        priority="NORMAL:-VERS-ALL:+VERS-TLS1.3",
        server_args=[f"--ocsp-response={path}"],
        timeout=30.0,
    )
    assert result.ready, result.describe()
    lines = [line for line in result.client.stdout.splitlines() if line.startswith("{")]
    assert lines, result.describe()
    report = json.loads(lines[-1])
    assert report["version"] == "TLS1_3", report
    assert report["ocsp"] == path.read_bytes().hex(), report


def _wait_output(server: object, needle: str, timeout: float = 5.0) -> str:
    import time

    deadline = time.monotonic() + timeout
    output = ""
    while time.monotonic() < deadline:
        output = server.output()  # type: ignore[attr-defined]
        if needle in output:
            break
        time.sleep(0.1)
    return output


_CLIENT_SCRIPT = """
import json
from handclasp import ClientConfig
from handclasp.io.blocking import connect
config = ClientConfig(cafile={cafile!r}, keylog_filename=None, ocsp_stapling="require")
with connect("127.0.0.1", {port}, config, server_name="localhost", timeout=10) as tls:
    n = tls.negotiated
    print(json.dumps({{"version": n.version.name, "ocsp": (n.ocsp_response or b"").hex()}}), flush=True)
"""
