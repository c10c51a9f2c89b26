"""Fixtures for interop tests against real TLS peers (OpenSSL, GnuTLS, Go, Deno/rustls, curl, curl_cffi).

The helpers live in ``tests/interop/peers/harness.py``; import them directly::

    from tests.interop.peers.harness import openssl_server, run_openssl_client, parse_openssl_client, \
        go_server, run_go_client, run_go_clients, deno_server, deno_client, curl_get, curl_cffi_get, \
        run_gnutls_client, parse_gnutls, gnutls_pair, gnutls_server_scenario, netns_scenario, \
        tshark_capture, tshark_read, tshark_handshake_types, keylog_labels

Fixtures here: ``peer_pki`` (PEM files from tests/pki.py), ``openssl_pki`` (an independent PKI made by the
openssl CLI), ``keylog_path`` (a fresh key log path in tmp_path). Every test in this directory is marked
``interop``. A peer that is not installed skips its test, or fails it when HANDCLASP_REQUIRE_PEERS=1
(``make test`` sets that when it ran the installer as root). Leftover peer processes are killed at the end of
the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from tests.interop.peers.harness import PeerPKI, make_openssl_pki, stop_all_peers  # noqa: E402

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="session", autouse=True)
def _kill_leftover_peers() -> Iterator[None]:
    yield
    stop_all_peers()


@pytest.fixture(scope="session")
def peer_pki(tmp_path_factory: pytest.TempPathFactory) -> PeerPKI:
    """The project's test PKI (tests/pki.py ``write_pki``) as PEM files; see PeerPKI for the main paths and
    ``peer_pki.path("expired.pem")`` etc. for the rest."""
    directory = tmp_path_factory.mktemp("peer-pki")
    try:
        import pki  # tests/ is on sys.path (tests/conftest.py)
    except ImportError:
        return make_openssl_pki(directory)
    return PeerPKI.from_files(directory, pki.write_pki(directory))


@pytest.fixture(scope="session")
def openssl_pki(tmp_path_factory: pytest.TempPathFactory) -> PeerPKI:
    """A PKI made by the openssl CLI, independent of handclasp's certificate code."""
    return make_openssl_pki(tmp_path_factory.mktemp("openssl-pki"))


@pytest.fixture
def keylog_path(tmp_path: Path) -> Path:
    return tmp_path / "keylog.txt"
