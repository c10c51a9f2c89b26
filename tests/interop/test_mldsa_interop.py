"""ML-DSA authentication (draft-ietf-tls-mldsa-06, 0x0904-0x0906) against real peers, both roles.

* Go 1.27 crypto/tls parses ML-DSA certificates and PKCS#8 seed keys, verifies ML-DSA chains and offers the
  three ML-DSA schemes by default in TLS 1.3 (server, client, and client certificates both ways).
* pyOpenSSL on OpenSSL 4.0.3 (bundled with cryptography 50; the PEERS.md pyOpenSSL peer,
  tests/interop/peers/pyossl_peer.py via pq_helpers) serves and verifies ML-DSA chains in TLS 1.3.

Debian's OpenSSL 3.0 (s_client/s_server, Python ssl, curl) cannot decode an ML-DSA public key at all
("X509_PUBKEY_get0: decode error"), so it has no test here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from handclasp import ServerConfig, SignatureScheme
from handclasp.crypto.signatures import MLDSA_AVAILABLE
from handclasp.tools.certs import CertifiedKey, KeyType, LocalCA
from tests.interop.client_helpers import client_config, open_client, read_exactly, read_until_close
from tests.interop.peers.harness import go_server, run_go_client
from tests.interop.server_helpers import running_server

pytestmark = pytest.mark.skipif(not MLDSA_AVAILABLE, reason="cryptography backend without ML-DSA")

S = SignatureScheme
MLDSA_BY_KEY: list[tuple[KeyType, SignatureScheme]] = [
    ("mldsa44", S.MLDSA44),
    ("mldsa65", S.MLDSA65),
    ("mldsa87", S.MLDSA87),
]
SERVER_NAMES = ["localhost", "127.0.0.1"]


@dataclass
class Files:
    cert: Path
    key: Path
    certified: CertifiedKey


@dataclass
class MldsaPKI:
    ca: LocalCA
    root: Path  # ML-DSA-65 root; an ML-DSA-65 intermediate issues every leaf
    servers: dict[KeyType, Files]
    clients: dict[KeyType, Files]


@pytest.fixture(scope="module")
def mldsa_pki(tmp_path_factory: pytest.TempPathFactory) -> MldsaPKI:
    directory = tmp_path_factory.mktemp("mldsa-pki")
    ca = LocalCA.create("handclasp ML-DSA interop CA", "mldsa65", intermediate=True)
    root = directory / "root.pem"
    root.write_bytes(ca.root_pem)

    def write(stem: str, certified: CertifiedKey) -> Files:
        files = Files(directory / f"{stem}.pem", directory / f"{stem}.key", certified)
        certified.write_pem(files.cert, files.key)
        return files

    servers = {key_type: write(f"server-{key_type}", ca.issue(SERVER_NAMES, key_type)) for key_type, _ in MLDSA_BY_KEY}
    clients = {
        key_type: write(f"client-{key_type}", ca.issue(["client.handclasp.test"], key_type, client=True))
        for key_type, _ in MLDSA_BY_KEY
    }
    return MldsaPKI(ca, root, servers, clients)


def _echo(port: int, config: object, payload: bytes) -> tuple[bytes, object]:
    run = open_client(port, config)  # type: ignore[arg-type]
    with run.tls:
        negotiated = run.tls.negotiated
        run.tls.sendall(payload)
        echoed = read_exactly(run.tls, len(payload))
        run.tls.shutdown_write()
        assert read_until_close(run.tls) == b""
    return echoed, negotiated


@pytest.mark.parametrize(("key_type", "scheme"), MLDSA_BY_KEY, ids=[k for k, _ in MLDSA_BY_KEY])
def test_our_client_verifies_go_server_mldsa_chain(mldsa_pki: MldsaPKI, key_type: KeyType, scheme: SignatureScheme) -> None:
    """Go signs CertificateVerify with ML-DSA (empty FIPS 204 context); we verify it and the ML-DSA chain."""
    server = mldsa_pki.servers[key_type]
    with go_server(server.cert, server.key) as srv:
        echoed, negotiated = _echo(srv, client_config(mldsa_pki.root), key_type.encode())
        report = srv.wait_report(1)
    assert echoed == key_type.encode()
    assert negotiated.signature_scheme == scheme  # type: ignore[attr-defined]
    assert len(negotiated.peer_certificates) == 2  # type: ignore[attr-defined]
    assert report["ok"] and report["version"] == "TLSv1.3", report


@pytest.mark.parametrize(("key_type", "scheme"), MLDSA_BY_KEY, ids=[k for k, _ in MLDSA_BY_KEY])
def test_go_client_verifies_our_mldsa_server(mldsa_pki: MldsaPKI, key_type: KeyType, scheme: SignatureScheme) -> None:
    """Go's default signature_algorithms offers ML-DSA; it verifies our chain and our ML-DSA CertificateVerify."""
    config = ServerConfig(certificates=(mldsa_pki.servers[key_type].certified,), keylog_filename=None)
    with running_server(config) as run:
        report = run_go_client(run.port, cafile=mldsa_pki.root, send="ml-dsa", read_len=6)
        record = run.wait_record(0)
    assert report["ok"], report
    assert report["version"] == "TLSv1.3" and report["peer_certs"] == 2, report
    assert record.negotiated is not None and record.negotiated.signature_scheme == scheme


def test_our_mldsa_client_certificate_accepted_by_go(mldsa_pki: MldsaPKI) -> None:
    """Go requires and verifies our ML-DSA-87 client certificate and CertificateVerify."""
    server = mldsa_pki.servers["mldsa65"]
    client = mldsa_pki.clients["mldsa87"]
    config = client_config(mldsa_pki.root, certificate=client.certified)
    with go_server(server.cert, server.key, client_auth="require", client_ca=mldsa_pki.root) as srv:
        echoed, _ = _echo(srv, config, b"client ml-dsa-87")
        report = srv.wait_report(1)
    assert echoed == b"client ml-dsa-87"
    assert report["ok"] and report["peer_certs"] == 2, report


def test_go_mldsa_client_certificate_accepted_by_us(mldsa_pki: MldsaPKI) -> None:
    """We require and verify Go's ML-DSA-44 client certificate and its CertificateVerify."""
    client = mldsa_pki.clients["mldsa44"]
    config = ServerConfig(certificates=(mldsa_pki.servers["mldsa65"].certified,), keylog_filename=None,
                          client_auth="require", client_cadata=mldsa_pki.ca.root_pem)
    with running_server(config) as run:
        report = run_go_client(run.port, cafile=mldsa_pki.root, cert=client.cert, key=client.key,
                               send="mtls", read_len=4)
        record = run.wait_record(0)
    assert report["ok"], report
    assert record.negotiated is not None
    assert record.negotiated.peer_certificates[0] == client.certified.leaf


@pytest.mark.parametrize(("key_type", "scheme"), MLDSA_BY_KEY, ids=[k for k, _ in MLDSA_BY_KEY])
def test_pyopenssl_client_verifies_our_mldsa_server(
    mldsa_pki: MldsaPKI, key_type: KeyType, scheme: SignatureScheme
) -> None:
    """OpenSSL 4.0 (VERIFY_PEER against the ML-DSA root) accepts our chain and ML-DSA CertificateVerify."""
    from tests.interop.pq_helpers import pyossl_client

    config = ServerConfig(certificates=(mldsa_pki.servers[key_type].certified,), keylog_filename=None)
    with running_server(config) as run:
        report = pyossl_client(run.port, mldsa_pki.root, send="openssl ml-dsa")
        record = run.wait_record(0)
    assert report["ok"] and report["version"] == "TLSv1.3", report
    assert report["received"] == "openssl ml-dsa", report
    assert record.negotiated is not None and record.negotiated.signature_scheme == scheme


@pytest.mark.parametrize(("key_type", "scheme"), MLDSA_BY_KEY, ids=[k for k, _ in MLDSA_BY_KEY])
def test_our_client_verifies_pyopenssl_mldsa_server(
    mldsa_pki: MldsaPKI, key_type: KeyType, scheme: SignatureScheme
) -> None:
    """OpenSSL 4.0 signs CertificateVerify with ML-DSA; we verify it and its ML-DSA chain."""
    from tests.interop.pq_helpers import pyossl_server

    server = mldsa_pki.servers[key_type]
    with pyossl_server(server.cert, server.key) as srv:
        echoed, negotiated = _echo(srv, client_config(mldsa_pki.root), b"ossl")
        report = srv.wait_report(1)
    assert echoed == b"ossl"
    assert negotiated.signature_scheme == scheme  # type: ignore[attr-defined]
    assert report["ok"], report
