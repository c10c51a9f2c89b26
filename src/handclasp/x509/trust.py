"""Trust anchors: the system CA bundle, certifi, or PEM/DER the user gives.

The default bundle is parsed once per process (it is a few hundred
certificates). Certificates in a system bundle that cryptography cannot parse
are skipped; in a file or data the user names, they are an error.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
import warnings
from collections.abc import Iterable

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

__all__ = ["load_roots", "default_bundle_path"]


def load_roots(cafile: str | None = None, cadata: bytes | None = None) -> list[x509.Certificate]:
    """Root certificates from ``cafile`` and/or ``cadata`` (PEM or DER); the system bundle when both are None.

    Raises ValueError when the named source holds no certificate or a malformed one,
    OSError when ``cafile`` cannot be read.
    """
    if cafile is None and cadata is None:
        return list(_default_roots())
    roots: list[x509.Certificate] = []
    if cafile is not None:
        with open(cafile, "rb") as handle:
            roots.extend(_parse_bundle(handle.read(), cafile, strict=True))
    if cadata is not None:
        roots.extend(_parse_bundle(cadata, "cadata", strict=True))
    return roots


def default_bundle_path() -> str:
    """The CA bundle file used by default: the system's if present, else certifi's."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, *SYSTEM_BUNDLES):
        if candidate and os.path.isfile(candidate):
            return candidate
    import certifi  # only when there is no system bundle

    return str(certifi.where())


@functools.cache
def _default_roots() -> tuple[x509.Certificate, ...]:
    path = default_bundle_path()
    with open(path, "rb") as handle:
        return tuple(_parse_bundle(handle.read(), path, strict=False))


def _parse_bundle(data: bytes, source: str, *, strict: bool) -> list[x509.Certificate]:
    blocks = _PEM_CERTIFICATE.findall(data)
    if not blocks:
        if b"-----BEGIN" in data:
            raise ValueError(f"{source}: no PEM CERTIFICATE blocks")
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError as exc:
            raise ValueError(f"{source}: not a PEM bundle or a DER certificate: {exc}") from None
    return list(_parse_blocks(blocks, source, strict=strict))


def _parse_blocks(blocks: Iterable[bytes], source: str, *, strict: bool) -> Iterable[x509.Certificate]:
    for block in blocks:
        try:
            with warnings.catch_warnings():
                if not strict:  # old system roots with zero or negative serials still load, quietly
                    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                cert = x509.load_pem_x509_certificate(block)
        except ValueError as exc:
            if strict:
                raise ValueError(f"{source}: malformed certificate: {exc}") from None
            continue
        yield cert


SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/cert.pem",  # macOS, BSDs
)
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.+?-----END CERTIFICATE-----", re.DOTALL)
