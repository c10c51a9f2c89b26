"""ClientConfig and ServerConfig: frozen, validated policy with safe defaults.

A config is built once and shared by many connections.  Everything dangerous is
spelled ``dangerous_*`` and off by default.  The trust store and verifiers are
built once per config (lazily), never per connection.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from handclasp.crypto.groups import DEFAULT_GROUPS, SUPPORTED_GROUPS
from handclasp.crypto.provider import DEFAULT_PROVIDER, CryptoProvider
from handclasp.crypto.signatures import DEFAULT_SIGNATURE_SCHEMES, DEFAULT_SIGNATURE_SCHEMES_CERT
from handclasp.crypto.suites import DEFAULT_TLS13_SUITES, TLS13_SUITES
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import CipherSuite, NamedGroup, SignatureScheme
from handclasp.wire.handshake import DEFAULT_MAX_HANDSHAKE_MESSAGE
from handclasp.x509.trust import load_roots
from handclasp.x509.verify import (
    ClientCertVerifier,
    NoServerVerification,
    ServerCertVerifier,
    WebPkiClientVerifier,
    WebPkiServerVerifier,
)

ClientAuth = Literal["none", "request", "require"]


def _env_keylog() -> str | None:
    return os.environ.get("SSLKEYLOGFILE") or None


def _check_common(
    cipher_suites: Sequence[CipherSuite],
    groups: Sequence[NamedGroup],
    signature_schemes: Sequence[SignatureScheme],
    alpn_protocols: Sequence[str],
) -> None:
    if not cipher_suites:
        raise ValueError("cipher_suites must not be empty")
    for suite in cipher_suites:
        if suite not in TLS13_SUITES:
            raise ValueError(f"unsupported cipher suite {suite!r}")
    if not groups:
        raise ValueError("groups must not be empty")
    for group in groups:
        if group not in SUPPORTED_GROUPS:
            raise ValueError(f"unsupported group {group!r}")
    if not signature_schemes:
        raise ValueError("signature_schemes must not be empty")
    for proto in alpn_protocols:
        # RFC 7301 §3.1: 1..255 bytes each.
        if not 1 <= len(proto.encode()) <= 255:
            raise ValueError(f"ALPN protocol name {proto!r} must be 1..255 bytes")


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    cafile: str | None = None
    cadata: bytes | None = None
    verifier: ServerCertVerifier | None = None
    dangerous_skip_verification: bool = False
    alpn_protocols: tuple[str, ...] = ()
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_TLS13_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    key_share_groups: tuple[NamedGroup, ...] | None = None  # None: the first of ``groups``
    signature_schemes: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES
    signature_schemes_cert: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES_CERT
    certificate: CertifiedKey | None = None
    certificates: tuple[CertifiedKey, ...] = ()  # more client certificates, chosen per CertificateRequest
    keylog_filename: str | None = field(default_factory=_env_keylog)
    middlebox_compat: bool = True
    max_fragment_length: int | None = None
    record_size_limit: int | None = None
    record_padding_block: int = 0
    max_handshake_message_size: int = DEFAULT_MAX_HANDSHAKE_MESSAGE
    handshake_timeout: float = 30.0
    provider: CryptoProvider = DEFAULT_PROVIDER

    def __post_init__(self) -> None:
        _check_common(self.cipher_suites, self.groups, self.signature_schemes, self.alpn_protocols)
        if self.key_share_groups is None:
            object.__setattr__(self, "key_share_groups", self.groups[:1])
        for group in self.key_share_groups or ():
            if group not in self.groups:
                raise ValueError(f"key_share group {group!r} is not in groups")
        if self.max_fragment_length not in (None, 512, 1024, 2048, 4096):
            raise ValueError("max_fragment_length must be 512, 1024, 2048 or 4096")
        if self.record_size_limit is not None and not 64 <= self.record_size_limit <= 2**14 + 1:
            raise ValueError("record_size_limit must be 64..16385")
        if self.record_padding_block < 0 or self.record_padding_block > 2**14:
            raise ValueError("record_padding_block must be 0..16384")
        if self.handshake_timeout <= 0:
            raise ValueError("handshake_timeout must be positive")
        verifier: ServerCertVerifier
        if self.dangerous_skip_verification:
            verifier = NoServerVerification()
        elif self.verifier is not None:
            verifier = self.verifier
        else:
            verifier = _LazyServerVerifier(self.cafile, self.cadata)
        object.__setattr__(self, "_server_verifier", verifier)

    @property
    def client_certificates(self) -> tuple[CertifiedKey, ...]:
        """``certificate`` then ``certificates``: the order in which one is picked for a request."""
        return ((self.certificate,) if self.certificate is not None else ()) + self.certificates

    @property
    def server_verifier(self) -> ServerCertVerifier:
        v: ServerCertVerifier = self.__dict__["_server_verifier"]
        return v


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    certificates: tuple[CertifiedKey, ...]
    alpn_protocols: tuple[str, ...] = ()
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_TLS13_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    signature_schemes: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES
    client_auth: ClientAuth = "none"
    client_cafile: str | None = None
    client_cadata: bytes | None = None
    client_verifier: ClientCertVerifier | None = None
    keylog_filename: str | None = field(default_factory=_env_keylog)
    record_padding_block: int = 0
    max_handshake_message_size: int = DEFAULT_MAX_HANDSHAKE_MESSAGE
    handshake_timeout: float = 30.0
    hrr_cookie_key: bytes | None = None
    provider: CryptoProvider = DEFAULT_PROVIDER

    def __post_init__(self) -> None:
        _check_common(self.cipher_suites, self.groups, self.signature_schemes, self.alpn_protocols)
        if not self.certificates:
            raise ValueError("a server needs at least one certificate")
        if self.client_auth not in ("none", "request", "require"):
            raise ValueError("client_auth must be 'none', 'request' or 'require'")
        verifier: ClientCertVerifier | None = self.client_verifier
        if verifier is None and self.client_auth != "none":
            if self.client_cafile is None and self.client_cadata is None:
                raise ValueError("client_auth needs client_cafile, client_cadata or client_verifier")
            verifier = WebPkiClientVerifier(load_roots(self.client_cafile, self.client_cadata))
        object.__setattr__(self, "_client_verifier", verifier)
        cookie_key = self.hrr_cookie_key or self.provider.random(32)
        object.__setattr__(self, "_cookie_key", cookie_key)

    @property
    def resolved_client_verifier(self) -> ClientCertVerifier | None:
        v: ClientCertVerifier | None = self.__dict__["_client_verifier"]
        return v

    @property
    def cookie_key(self) -> bytes:
        k: bytes = self.__dict__["_cookie_key"]
        return k


class _LazyServerVerifier:
    """Loads the trust store on first use, so building a config stays cheap."""

    def __init__(self, cafile: str | None, cadata: bytes | None) -> None:
        self._cafile = cafile
        self._cadata = cadata
        self._inner: WebPkiServerVerifier | None = None

    def verify_server(self, chain: Sequence[bytes], server_name: str | None, now: float):  # type: ignore[no-untyped-def]
        if self._inner is None:
            self._inner = WebPkiServerVerifier(load_roots(self._cafile, self._cadata))
        return self._inner.verify_server(chain, server_name, now)
