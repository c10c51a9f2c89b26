"""Post-quantum key exchange with independent peers (issue #4; draft-ietf-tls-ecdhe-mlkem, draft-ietf-tls-mlkem).

Each hybrid group with every peer that offers it, in both directions where the peer can serve. The
negotiated group is read back from the peer's own report whenever the peer can tell:
- Go 1.27 crypto/tls (gotls.go): client and server report the group.
- Node 26 / OpenSSL 3.5 (node_tls.js): the client reports getEphemeralKeyInfo(); the server's group comes
  from its own OpenSSL SSL_trace of the ServerHello (getEphemeralKeyInfo is client-only in Node).
- pyOpenSSL on OpenSSL 4.0 (pyossl_peer.py): Connection.get_group_name() on both sides.
- tlslite-ng + kyber-py (tlslite_peer.py): connection.ecdhCurve on both sides.
- Bun (BoringSSL), Deno (rustls), curl_cffi (BoringSSL, Chrome's ClientHello): these expose no group at all,
  so only our side's view is asserted (plus the peer's success).
Peers that are not installed skip (scripts/install-peers.sh; pip install -e .[dev]).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import pki
from handclasp import NamedGroup, ServerConfig
from handclasp.crypto.groups import DEFAULT_GROUPS, SUPPORTED_GROUPS
from tests.interop.client_helpers import client_config, open_client, read_exactly, read_until_close
from tests.interop.peers.harness import (
    PeerPKI,
    curl_cffi_get,
    deno_client,
    deno_server,
    go_server,
    run_go_client,
)
from tests.interop.pq_helpers import (
    chromium_get,
    node_client,
    node_server,
    openssl_trace_server_group,
    pyossl_client,
    pyossl_server,
    tlslite_client,
    tlslite_server,
)
from tests.interop.server_helpers import running_server

PKI = pki.test_pki()
HYBRIDS = [NamedGroup.X25519MLKEM768, NamedGroup.SECP256R1MLKEM768, NamedGroup.SECP384R1MLKEM1024]
# Go spells the groups its own way on the command line (gotls.go accepts the NamedGroup names too).
GO_NAMES = {
    NamedGroup.X25519MLKEM768: "X25519MLKEM768",
    NamedGroup.SECP256R1MLKEM768: "SecP256r1MLKEM768",
    NamedGroup.SECP384R1MLKEM1024: "SecP384r1MLKEM1024",
    NamedGroup.MLKEM1024: "MLKEM1024",
    NamedGroup.X25519: "X25519",
}


def our_server_config(**options: Any) -> ServerConfig:
    options.setdefault("groups", SUPPORTED_GROUPS)  # pure ML-KEM is opt-in; accept everything here
    return ServerConfig(certificates=(PKI.server("ecdsa-p256"),), keylog_filename=None, **options)


def _echo_once(port: int, groups: tuple[NamedGroup, ...] | None, ca: Any, payload: bytes = b"pq ping") -> Any:
    """Our client: handshake, one echo round trip, clean close. Returns our Negotiated."""
    options: dict[str, Any] = {} if groups is None else {"groups": groups}
    run = open_client(port, client_config(ca, **options))
    with run.tls:
        run.tls.sendall(payload)
        assert read_exactly(run.tls, len(payload)) == payload
        run.tls.shutdown_write()
        read_until_close(run.tls)
    negotiated = run.tls.negotiated
    assert negotiated is not None
    return negotiated


def _assert_server_saw(run: Any, group: NamedGroup, *, hello_retry: bool = False) -> None:
    record = run.wait_record(0)
    assert record.negotiated is not None, record
    assert record.negotiated.group is group and record.negotiated.hello_retry is hello_retry


# ==================================================================================== Go (client + server)


@pytest.mark.parametrize("group", [*HYBRIDS, NamedGroup.MLKEM1024], ids=lambda g: g.name)
def test_go_client_to_our_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with running_server(our_server_config()) as run:
        report = run_go_client(run.port, cafile=peer_pki.ca, groups=GO_NAMES[group], send="go pq")
        _assert_server_saw(run, group)
    assert report["ok"] and report["received"] == "go pq", report
    assert report["group"] == group.name and report["hello_retry"] is False, report


def test_go_default_client_gets_x25519mlkem768_from_our_default_server(peer_pki: PeerPKI) -> None:
    """Go's default ClientHello carries X25519MLKEM768 and X25519 shares; our default server picks the hybrid."""
    with running_server(our_server_config(groups=DEFAULT_GROUPS)) as run:
        report = run_go_client(run.port, cafile=peer_pki.ca, send="go default")
        _assert_server_saw(run, NamedGroup.X25519MLKEM768)
    assert report["ok"] and report["group"] == "X25519MLKEM768" and report["hello_retry"] is False, report


@pytest.mark.parametrize("group", [*HYBRIDS, NamedGroup.MLKEM1024], ids=lambda g: g.name)
def test_our_client_to_go_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, groups=[GO_NAMES[group]], n=1) as srv:
        ours = _echo_once(srv, (group,), peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is group and ours.hello_retry is False
    assert report["ok"] and report["group"] == group.name and report["hello_retry"] is False, report


@pytest.mark.parametrize("group", [NamedGroup.SECP256R1MLKEM768, NamedGroup.SECP384R1MLKEM1024], ids=lambda g: g.name)
def test_go_server_sends_our_default_client_a_hello_retry_into_a_hybrid(peer_pki: PeerPKI, group: NamedGroup) -> None:
    """Our default shares are X25519MLKEM768 + X25519; a Go server that allows only another hybrid asks again."""
    with go_server(peer_pki.server_cert, peer_pki.server_key, groups=[GO_NAMES[group]], n=1) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is group and ours.hello_retry is True
    assert report["ok"] and report["group"] == group.name and report["hello_retry"] is True, report


def test_classical_go_server_takes_our_x25519_share_without_hrr(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, groups=["X25519", "P256"], n=1) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is NamedGroup.X25519 and ours.hello_retry is False
    assert report["ok"] and report["group"] == "X25519" and report["hello_retry"] is False, report


def test_our_default_client_to_go_default_server(peer_pki: PeerPKI) -> None:
    with go_server(peer_pki.server_cert, peer_pki.server_key, n=1) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is NamedGroup.X25519MLKEM768 and ours.hello_retry is False
    assert report["ok"] and report["group"] == "X25519MLKEM768" and report["hello_retry"] is False, report


# ==================================================================================== Node 26 (OpenSSL 3.5)

NODE_GROUPS = [*HYBRIDS, NamedGroup.MLKEM768, NamedGroup.MLKEM1024]


@pytest.mark.parametrize("group", NODE_GROUPS, ids=lambda g: g.name)
def test_node_client_to_our_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with running_server(our_server_config()) as run:
        report = node_client("node", run.port, peer_pki.ca, groups=[group.name])
        _assert_server_saw(run, group)
    assert report["ok"] and report["received"] == "pq ping", report
    assert report["group"] == group.name, report


@pytest.mark.parametrize("group", NODE_GROUPS, ids=lambda g: g.name)
def test_our_client_to_node_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with node_server("node", peer_pki.server_cert, peer_pki.server_key, groups=[group.name]) as srv:
        ours = _echo_once(srv, (group,), peer_pki.ca)
        report = srv.wait_report(1)
        trace_group = openssl_trace_server_group(srv.process.stderr())
    assert ours.group is group and ours.hello_retry is False
    assert report["ok"] and report["received"] == "pq ping", report
    assert trace_group == group.name  # the Node server's own SSL_trace of its ServerHello key_share


def test_node_default_client_and_server_choose_x25519mlkem768(peer_pki: PeerPKI) -> None:
    with running_server(our_server_config()) as run:
        report = node_client("node", run.port, peer_pki.ca)
        _assert_server_saw(run, NamedGroup.X25519MLKEM768)
    assert report["ok"] and report["group"] == "X25519MLKEM768", report
    with node_server("node", peer_pki.server_cert, peer_pki.server_key) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        srv.wait_report(1)
        assert openssl_trace_server_group(srv.process.stderr()) == "X25519MLKEM768"
    assert ours.group is NamedGroup.X25519MLKEM768 and ours.hello_retry is False


# ==================================================================================== Bun (BoringSSL)


def test_bun_client_to_our_server(peer_pki: PeerPKI) -> None:
    """Bun reports no group (getEphemeralKeyInfo is null): our server's view only."""
    with running_server(our_server_config()) as run:
        report = node_client("bun", run.port, peer_pki.ca)
        _assert_server_saw(run, NamedGroup.X25519MLKEM768)
    assert report["ok"] and report["received"] == "pq ping", report
    assert report["implementation"].startswith("bun ")


def test_our_client_to_bun_server(peer_pki: PeerPKI) -> None:
    with node_server("bun", peer_pki.server_cert, peer_pki.server_key) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is NamedGroup.X25519MLKEM768 and ours.hello_retry is False
    assert report["ok"] and report["received"] == "pq ping", report


# ==================================================================================== pyOpenSSL (OpenSSL 4.0)

OPENSSL4_GROUPS = [*HYBRIDS, NamedGroup.MLKEM768, NamedGroup.MLKEM1024]


@pytest.mark.parametrize("group", OPENSSL4_GROUPS, ids=lambda g: g.name)
def test_pyopenssl_client_to_our_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with running_server(our_server_config()) as run:
        report = pyossl_client(run.port, peer_pki.ca, groups=[group.name])
        _assert_server_saw(run, group)
    assert report["ok"] and report["received"] == "pq ping", report
    assert report["group"] == group.name, report


@pytest.mark.parametrize("group", OPENSSL4_GROUPS, ids=lambda g: g.name)
def test_our_client_to_pyopenssl_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with pyossl_server(peer_pki.server_cert, peer_pki.server_key, groups=[group.name]) as srv:
        ours = _echo_once(srv, (group,), peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is group and ours.hello_retry is False
    assert report["ok"] and report["group"] == group.name and report["received"] == "pq ping", report


def test_pyopenssl_defaults_both_ways_choose_x25519mlkem768(peer_pki: PeerPKI) -> None:
    with running_server(our_server_config()) as run:
        report = pyossl_client(run.port, peer_pki.ca)
        _assert_server_saw(run, NamedGroup.X25519MLKEM768)
    assert report["ok"] and report["group"] == "X25519MLKEM768", report
    with pyossl_server(peer_pki.server_cert, peer_pki.server_key) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is NamedGroup.X25519MLKEM768 and ours.hello_retry is False
    assert report["ok"] and report["group"] == "X25519MLKEM768", report


# ==================================================================================== tlslite-ng + kyber-py


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
def test_tlslite_client_to_our_server(group: NamedGroup) -> None:
    with running_server(our_server_config()) as run:
        report = tlslite_client(run.port, groups=[group.name])
        _assert_server_saw(run, group)
    assert report["ok"] and report["received"] == "pq ping", report
    assert report["group"] == group.name, report


@pytest.mark.parametrize("group", HYBRIDS, ids=lambda g: g.name)
def test_our_client_to_tlslite_server(peer_pki: PeerPKI, group: NamedGroup) -> None:
    with tlslite_server(peer_pki.server_cert, peer_pki.server_key, groups=[group.name]) as srv:
        ours = _echo_once(srv, (group,), peer_pki.ca)
        report = srv.wait_report(1, timeout=40.0)
    assert ours.group is group and ours.hello_retry is False
    assert report["ok"] and report["group"] == group.name and report["received"] == "pq ping", report


# ==================================================================================== Deno (rustls)


def test_deno_client_to_our_server(peer_pki: PeerPKI) -> None:
    """Deno 2.9's rustls lists X25519MLKEM768 last and shares only X25519, so by default we take X25519 (no
    HRR); a server that allows only the hybrid gets it after a HelloRetryRequest. Deno reports no group:
    our server's view only."""
    with running_server(our_server_config()) as run:
        report = deno_client(run.port, cafile=peer_pki.ca, send="deno default")
        _assert_server_saw(run, NamedGroup.X25519)
    assert report["ok"] and report["version"] == "TLSv1.3", report
    with running_server(our_server_config(groups=(NamedGroup.X25519MLKEM768,))) as run:
        report = deno_client(run.port, cafile=peer_pki.ca, send="deno pq")
        _assert_server_saw(run, NamedGroup.X25519MLKEM768, hello_retry=True)
    assert report["ok"] and report["version"] == "TLSv1.3", report


def test_our_client_to_deno_server(peer_pki: PeerPKI) -> None:
    with deno_server(peer_pki.server_cert, peer_pki.server_key, n=1) as srv:
        ours = _echo_once(srv, None, peer_pki.ca)
        report = srv.wait_report(1)
    assert ours.group is NamedGroup.X25519MLKEM768 and ours.hello_retry is False
    assert report["ok"], report


# ==================================================================================== curl_cffi (Chrome)


@pytest.mark.parametrize(("impersonate", "group"), [("chrome", NamedGroup.X25519MLKEM768), ("safari180", NamedGroup.X25519)])
def test_curl_cffi_browser_hello_to_our_server(peer_pki: PeerPKI, impersonate: str, group: NamedGroup) -> None:
    """Chrome's ClientHello (GREASE, 0x11EC + X25519 shares) gets the hybrid without HRR; Safari's has none."""
    get: Callable[..., dict[str, Any]] = curl_cffi_get
    with running_server(our_server_config(alpn_protocols=("http/1.1",)), mode="http") as run:
        report = get(f"https://localhost:{run.port}/", impersonate, cafile=peer_pki.ca)
        _assert_server_saw(run, group)
    assert report["ok"] and report["status"] == 200, report


# ==================================================================================== Chromium (BoringSSL)


def test_headless_chromium_to_our_server(tmp_path: Any) -> None:
    """Chromium offers X25519MLKEM768 (with an X25519 share); its own NetLog names the group it got."""
    with running_server(our_server_config(alpn_protocols=("http/1.1",)), mode="http") as run:
        report = chromium_get(f"https://localhost:{run.port}/", tmp_path)
        _assert_server_saw(run, NamedGroup.X25519MLKEM768)
    assert report["ok"], report
    assert "hello from handclasp" in report["dom"] and "group=X25519MLKEM768" in report["dom"]
    assert report["key_exchange_groups"] and set(report["key_exchange_groups"]) == {"X25519MLKEM768"}, report
