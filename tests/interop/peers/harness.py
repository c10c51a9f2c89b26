"""Real TLS peers for interop tests: start, drive and stop them on 127.0.0.1, and read what they negotiated.

This module is the one import for tests; the code lives next door, one module per job: ``process``
(availability, processes, key logs), ``drive_openssl``, ``drive_gnutls``, ``drive_go``, ``drive_deno``,
``drive_curl``, ``netns``, ``tshark`` and ``peer_pki``.

Import from tests (``python -m pytest`` puts the repo root on sys.path; tests/interop/conftest.py makes sure)::

    from tests.interop.peers.harness import openssl_server, run_go_client, go_server, ...

Rules this module keeps: everything binds/connects 127.0.0.1 (servers that can only bind every interface run
inside a private network namespace, see ``netns_scenario``); servers bind port 0 and report the real port
(OpenSSL, Go and Deno all do), so there is no port race; every subprocess has a timeout and runs in its own
process group, which is killed at teardown (and at the end of the pytest session as a safety net).

Negotiated-parameter reports are dicts with (as far as the peer can tell) these keys:
``ok`` (bool), ``error`` (str | None), ``version`` ("TLSv1.3" / "TLSv1.2"), ``suite`` (IANA name, e.g.
"TLS_AES_128_GCM_SHA256"), ``group`` (a ``handclasp.wire.enums.NamedGroup`` member name, e.g. "X25519",
"SECP256R1", "X25519MLKEM768"), ``alpn`` (str | None), ``resumed`` (bool), plus peer-specific extras.
"""

from __future__ import annotations

from tests.interop.peers.drive_curl import (
    curl_cffi_get as curl_cffi_get,
    curl_get as curl_get,
)
from tests.interop.peers.drive_deno import (
    deno_client as deno_client,
    deno_server as deno_server,
)
from tests.interop.peers.drive_gnutls import (
    GNUTLS_CIPHERS as GNUTLS_CIPHERS,
    GNUTLS_GROUPS as GNUTLS_GROUPS,
    gnutls_client_argv as gnutls_client_argv,
    gnutls_pair as gnutls_pair,
    gnutls_server_argv as gnutls_server_argv,
    gnutls_server_scenario as gnutls_server_scenario,
    parse_gnutls as parse_gnutls,
    run_gnutls_client as run_gnutls_client,
)
from tests.interop.peers.drive_go import (
    go_server as go_server,
    run_go_client as run_go_client,
    run_go_clients as run_go_clients,
)
from tests.interop.peers.drive_openssl import (
    OPENSSL_GROUPS as OPENSSL_GROUPS,
    openssl_client_argv as openssl_client_argv,
    openssl_server as openssl_server,
    parse_openssl_client as parse_openssl_client,
    run_openssl_client as run_openssl_client,
)
from tests.interop.peers.netns import (
    NetnsResult as NetnsResult,
    netns_scenario as netns_scenario,
)
from tests.interop.peers.peer_pki import (
    PeerPKI as PeerPKI,
    make_openssl_pki as make_openssl_pki,
)
from tests.interop.peers.process import (
    CURL_CFFI_SCRIPT as CURL_CFFI_SCRIPT,
    DEFAULT_TIMEOUT as DEFAULT_TIMEOUT,
    DENO as DENO,
    DENO_SCRIPT as DENO_SCRIPT,
    GOTLS as GOTLS,
    HOST as HOST,
    NETNS_RUNNER as NETNS_RUNNER,
    PEER_SOURCES as PEER_SOURCES,
    PEERS_DIR as PEERS_DIR,
    REPO_ROOT as REPO_ROOT,
    PathLike as PathLike,
    PeerError as PeerError,
    PeerProcess as PeerProcess,
    PeerServer as PeerServer,
    can_capture as can_capture,
    can_unshare_net as can_unshare_net,
    free_port as free_port,
    keylog_labels as keylog_labels,
    peer_server as peer_server,
    peers_required as peers_required,
    require as require,
    require_binary as require_binary,
    require_curl_cffi as require_curl_cffi,
    require_deno as require_deno,
    require_gotls as require_gotls,
    run_peer as run_peer,
    stop_all_peers as stop_all_peers,
    version_from_keylog as version_from_keylog,
    wait_for_port as wait_for_port,
)
from tests.interop.peers.tshark import (
    tshark_capture as tshark_capture,
    tshark_handshake_types as tshark_handshake_types,
    tshark_read as tshark_read,
)
