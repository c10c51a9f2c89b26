"""Test PKI for the benchmark, from ``handclasp.tools.certs``.

One local CA (ECDSA P-256 root) and one ``localhost`` server certificate per key type,
written as PEM files into a temporary directory: ``ssl`` and tlslite-ng load PEM files,
handclasp takes the ``CertifiedKey`` objects directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from handclasp.tools.certs import CertifiedKey, KeyType, LocalCA

KEY_TYPES: tuple[KeyType, ...] = ("ecdsa-p256", "rsa2048")
SERVER_NAME = "localhost"


@dataclass(frozen=True)
class BenchCert:
    key_type: KeyType
    cert_path: str  # PEM chain, leaf first, root not included
    key_path: str  # PEM private key
    certified_key: CertifiedKey


@dataclass(frozen=True)
class BenchPKI:
    source: str
    ca_path: str
    ca_pem: bytes
    certs: dict[str, BenchCert]


def build_pki(directory: str) -> BenchPKI:
    """Create the CA and one localhost certificate per entry of KEY_TYPES under ``directory``."""
    ca = LocalCA.create(common_name="handclasp bench CA")
    ca_path = os.path.join(directory, "ca.pem")
    with open(ca_path, "wb") as f:
        f.write(ca.root_pem)
    certs: dict[str, BenchCert] = {}
    for key_type in KEY_TYPES:
        certified = ca.issue([SERVER_NAME], key_type=key_type)
        cert_path = os.path.join(directory, f"{key_type}.crt")
        key_path = os.path.join(directory, f"{key_type}.key")
        certified.write_pem(cert_path, key_path)
        certs[key_type] = BenchCert(key_type, cert_path, key_path, certified)
    return BenchPKI("handclasp.tools.certs (LocalCA, ECDSA P-256 root)", ca_path, ca.root_pem, certs)
