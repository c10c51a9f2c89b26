"""The session's test PKI: one ECDSA P-256 root and the certificates the tests need.

``test_pki()`` is cached for the process; every certificate on it is made on
first use (RSA key generation costs tens of milliseconds), so a test run pays
only for the key types it touches. ``write_pki(directory)`` writes it as PEM
files for real peers (openssl, gnutls):

    ca.pem                      the root (trust anchor)
    server.pem / server.key     = server-ecdsa-p256
    server-<type>.pem / .key    leaf for localhost and 127.0.0.1, one per SERVER_KEY_TYPES
    server-intermediate.pem     leaf + intermediate CA (same root); .key
    other.pem / other.key       leaf for other.localhost (SNI selection)
    client.pem / client.key     client certificate (clientAuth) for client.handclasp.test
    expired.pem / .key          leaf for localhost that expired yesterday
    not-yet-valid.pem / .key    leaf for localhost valid from tomorrow
    unrelated-ca.pem            a second, unrelated root
    unrelated.pem / .key        leaf for localhost issued by the unrelated root

Import the module (``import pki``), not the function: pytest would collect a
bare ``test_pki`` name in a test module.

RSA-PSS: cryptography cannot write id-RSASSA-PSS public keys, so there is no
"rsa-pss" server certificate (``RSA_PSS_SUPPORTED`` is False).
"""

from __future__ import annotations

import datetime
import functools
import os
from pathlib import Path

from cryptography import x509

from handclasp.tools.certs import CertifiedKey, KeyType, LocalCA

__all__ = [
    "CLIENT_NAME",
    "OTHER_NAME",
    "PKI",
    "RSA_PSS_SUPPORTED",
    "SERVER_KEY_TYPES",
    "SERVER_NAMES",
    "test_pki",
    "write_pki",
]

SERVER_NAMES = ("localhost", "127.0.0.1")
OTHER_NAME = "other.localhost"
CLIENT_NAME = "client.handclasp.test"
RSA_PSS_SUPPORTED = False
SERVER_KEY_TYPES: tuple[KeyType, ...] = (
    "ecdsa-p256",
    "ecdsa-p384",
    "ecdsa-p521",
    "rsa2048",
    "ed25519",
    "ed448",
)


class PKI:
    """Lazily issued certificates under one root; attributes are computed once."""

    def __init__(self) -> None:
        self.ca = LocalCA.create("handclasp test CA", "ecdsa-p256")
        self._servers: dict[KeyType, CertifiedKey] = {}

    @property
    def roots(self) -> list[x509.Certificate]:
        return [self.ca.root]

    def server(self, key_type: KeyType = "ecdsa-p256") -> CertifiedKey:
        """The server certificate for localhost and 127.0.0.1 with a ``key_type`` key."""
        if key_type not in self._servers:
            self._servers[key_type] = self.ca.issue(SERVER_NAMES, key_type)
        return self._servers[key_type]

    @functools.cached_property
    def other(self) -> CertifiedKey:
        return self.ca.issue([OTHER_NAME])

    @functools.cached_property
    def client(self) -> CertifiedKey:
        return self.ca.issue([CLIENT_NAME], client=True)

    @functools.cached_property
    def expired(self) -> CertifiedKey:
        now = _now()
        return self.ca.issue(
            SERVER_NAMES,
            not_before=now - datetime.timedelta(days=30),
            not_after=now - datetime.timedelta(days=1),
        )

    @functools.cached_property
    def not_yet_valid(self) -> CertifiedKey:
        now = _now()
        return self.ca.issue(
            SERVER_NAMES,
            not_before=now + datetime.timedelta(days=1),
            not_after=now + datetime.timedelta(days=30),
        )

    @functools.cached_property
    def intermediate_ca(self) -> LocalCA:
        return self.ca.create_intermediate("handclasp test intermediate CA")

    @functools.cached_property
    def intermediate(self) -> CertifiedKey:
        """Chain (leaf, intermediate) under the same root."""
        return self.intermediate_ca.issue(SERVER_NAMES)

    @functools.cached_property
    def unrelated_ca(self) -> LocalCA:
        return LocalCA.create("unrelated test CA")

    @functools.cached_property
    def unrelated(self) -> CertifiedKey:
        return self.unrelated_ca.issue(SERVER_NAMES)


@functools.cache
def test_pki() -> PKI:
    """The process-wide test PKI (cached)."""
    return PKI()


test_pki.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def write_pki(directory: str | os.PathLike[str], pki: PKI | None = None) -> dict[str, Path]:
    """Write the test PKI as PEM files (see the module docstring); return name → path."""
    pki = pki or test_pki()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    _write_bytes(out / "ca.pem", pki.ca.root_pem, paths)
    _write_bytes(out / "unrelated-ca.pem", pki.unrelated_ca.root_pem, paths)
    keys: dict[str, CertifiedKey] = {
        f"server-{key_type}": pki.server(key_type) for key_type in SERVER_KEY_TYPES
    }
    keys |= {
        "server": pki.server("ecdsa-p256"),
        "server-intermediate": pki.intermediate,
        "other": pki.other,
        "client": pki.client,
        "expired": pki.expired,
        "not-yet-valid": pki.not_yet_valid,
        "unrelated": pki.unrelated,
    }
    for stem, certified in keys.items():
        certified.write_pem(out / f"{stem}.pem", out / f"{stem}.key")
        paths[f"{stem}.pem"] = out / f"{stem}.pem"
        paths[f"{stem}.key"] = out / f"{stem}.key"
    return paths


def _write_bytes(path: Path, data: bytes, paths: dict[str, Path]) -> None:
    path.write_bytes(data)
    paths[path.name] = path


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)
