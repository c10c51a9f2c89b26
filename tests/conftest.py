from __future__ import annotations

import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pki  # noqa: E402
from handclasp import ClientConfig, ServerConfig  # noqa: E402


class DeterministicProvider:
    """Seeded randomness and a fixed clock, so handshakes replay byte for byte."""

    def __init__(self, seed: int = 1, now: float | None = None) -> None:
        self._rng = random.Random(seed)
        import time

        self._now = now if now is not None else time.time()

    def random(self, n: int) -> bytes:
        return self._rng.randbytes(n)

    def now(self) -> float:
        return self._now


@pytest.fixture(scope="session")
def test_pki() -> pki.PKI:
    return pki.test_pki()


@pytest.fixture(scope="session")
def client_config(test_pki: pki.PKI) -> ClientConfig:
    return ClientConfig(cadata=test_pki.ca.root_pem, keylog_filename=None)


@pytest.fixture(scope="session")
def server_config(test_pki: pki.PKI) -> ServerConfig:
    return ServerConfig(certificates=(test_pki.server("ecdsa-p256"),), keylog_filename=None)
