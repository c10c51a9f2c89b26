from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pki  # noqa: E402
from handclasp import ClientConfig, ServerConfig  # noqa: E402
from helpers import DeterministicProvider  # noqa: E402,F401  (re-exported for tests)


@pytest.fixture(scope="session")
def test_pki() -> pki.PKI:
    return pki.test_pki()


@pytest.fixture(scope="session")
def client_config(test_pki: pki.PKI) -> ClientConfig:
    return ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None)


@pytest.fixture(scope="session")
def server_config(test_pki: pki.PKI) -> ServerConfig:
    return ServerConfig(certificates=(test_pki.server("ecdsa-p256"),), keylog_filename=None)
