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

from handclasp.common.certcompress import DEFAULT_CERTIFICATE_COMPRESSION, SUPPORTED_ALGORITHMS
from handclasp.crypto.groups import DEFAULT_GROUPS, SUPPORTED_GROUPS
from handclasp.crypto.provider import DEFAULT_PROVIDER, CryptoProvider
from handclasp.crypto.signatures import DEFAULT_SIGNATURE_SCHEMES, DEFAULT_SIGNATURE_SCHEMES_CERT
from handclasp.crypto.suites import DEFAULT_TLS13_SUITES, TLS13_SUITES
from handclasp.crypto.suites12 import DEFAULT_TLS12_SUITES, TLS12_SUITES
from handclasp.sessions.cache import ClientSessionCache
from handclasp.sessions.psk import ExternalPsk
from handclasp.sessions.replay import MemoryReplayGuard, ReplayGuard
from handclasp.sessions.store import MemorySessionStore, SessionStore
from handclasp.sessions.tickets import TicketKeys
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import (
    CertificateCompressionAlgorithm,
    CipherSuite,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
)
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
TicketMode = Literal["stateless", "stateful"]
OcspStapling = Literal["off", "request", "require"]

DEFAULT_VERSIONS: tuple[ProtocolVersion, ...] = (ProtocolVersion.TLS1_3, ProtocolVersion.TLS1_2)
DEFAULT_CIPHER_SUITES: tuple[CipherSuite, ...] = DEFAULT_TLS13_SUITES + DEFAULT_TLS12_SUITES
# RFC 8996: TLS 1.0 and 1.1 only when legacy_versions=True.
_LEGACY_VERSIONS = (ProtocolVersion.TLS1_1, ProtocolVersion.TLS1_0)
_MODERN_VERSIONS = frozenset({ProtocolVersion.TLS1_3, ProtocolVersion.TLS1_2})
# In TLS 1.2, PKCS#1 v1.5 still signs handshake messages (RFC 5246 §7.4.1.4.1).
_TLS12_EXTRA_SCHEMES = (
    SignatureScheme.RSA_PKCS1_SHA256,
    SignatureScheme.RSA_PKCS1_SHA384,
    SignatureScheme.RSA_PKCS1_SHA512,
)


def _allowed_versions(versions: tuple[ProtocolVersion, ...], legacy: bool) -> tuple[ProtocolVersion, ...]:
    """Highest first; TLS 1.0/1.1 appear only in legacy mode."""
    allowed = set(versions) if legacy else set(versions) & _MODERN_VERSIONS
    if legacy and ProtocolVersion.TLS1_2 in versions:
        allowed |= set(_LEGACY_VERSIONS)
    return tuple(sorted(allowed, reverse=True))


def _check_versions(versions: tuple[ProtocolVersion, ...], legacy: bool) -> None:
    if not versions:
        raise ValueError("versions must not be empty")
    for version in versions:
        if version in _MODERN_VERSIONS or (legacy and version in _LEGACY_VERSIONS):
            continue
        raise ValueError(f"{version!r}: TLS 1.0/1.1 need legacy_versions=True (RFC 8996); SSL 3.0 never")


def _check_certificate_compression(algorithms: tuple[CertificateCompressionAlgorithm, ...]) -> None:
    for algorithm in algorithms:
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise ValueError(f"unsupported certificate compression algorithm {algorithm!r}")
    if len(set(algorithms)) != len(algorithms):
        raise ValueError("certificate_compression lists an algorithm twice")


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
        if suite not in TLS13_SUITES and suite not in TLS12_SUITES:
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
    versions: tuple[ProtocolVersion, ...] = DEFAULT_VERSIONS
    legacy_versions: bool = False
    legacy_rsa_key_exchange: bool = False
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_CIPHER_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    key_share_groups: tuple[NamedGroup, ...] | None = None  # None: first group (+ X25519 after X25519MLKEM768)
    signature_schemes: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES
    signature_schemes_cert: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES_CERT
    certificate: CertifiedKey | None = None
    certificates: tuple[CertifiedKey, ...] = ()  # more client certificates, chosen per CertificateRequest
    keylog_filename: str | None = field(default_factory=_env_keylog)
    middlebox_compat: bool = True
    encrypt_then_mac: bool = True
    offer_extended_master_secret: bool = True
    require_extended_master_secret: bool = True
    session_cache: ClientSessionCache | None = None
    session_tickets: bool = True
    # TLS 1.3 (RFC 8446 §4.2.9, §4.2.6): PSK modes offered with a ticket or external PSK; PHA.
    psk_modes: tuple[PskKeyExchangeMode, ...] = (PskKeyExchangeMode.PSK_DHE_KE,)
    external_psk: ExternalPsk | None = None
    post_handshake_auth: bool = False
    # RFC 8446 §2.3: offer 0-RTT (send_early_data) when the resumed ticket allows it. Opt-in:
    # early data can be replayed (RFC 8446 §8).
    enable_early_data: bool = False
    # RFC 8879: algorithms offered for the server's certificate (and used for ours), our order; () = off.
    certificate_compression: tuple[CertificateCompressionAlgorithm, ...] = DEFAULT_CERTIFICATE_COMPRESSION
    fallback_scsv: bool = False
    # RFC 8446 §4.4.2.1 / RFC 6066 §8: ask for the leaf's OCSP staple and check what comes back;
    # "require" refuses a server without one (must-staple leaves, RFC 7633, always do).
    ocsp_stapling: OcspStapling = "request"
    # RFC 6962 §3.3.1: ask for SCTs; Negotiated.signed_certificate_timestamps is passed through UNVERIFIED.
    request_scts: bool = False
    max_fragment_length: int | None = None
    record_size_limit: int | None = None
    record_padding_block: int = 0
    max_handshake_message_size: int = DEFAULT_MAX_HANDSHAKE_MESSAGE
    handshake_timeout: float = 30.0
    provider: CryptoProvider = DEFAULT_PROVIDER

    def __post_init__(self) -> None:
        _check_common(self.cipher_suites, self.groups, self.signature_schemes, self.alpn_protocols)
        _check_versions(self.versions, self.legacy_versions)
        _check_certificate_compression(self.certificate_compression)
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
        if self.ocsp_stapling not in ("off", "request", "require"):
            raise ValueError("ocsp_stapling must be 'off', 'request' or 'require'")
        verifier: ServerCertVerifier
        if self.dangerous_skip_verification:
            verifier = NoServerVerification()
        elif self.verifier is not None:
            verifier = self.verifier
        else:
            verifier = _LazyServerVerifier(self.cafile, self.cadata)
        object.__setattr__(self, "_server_verifier", verifier)

    @property
    def allowed_versions(self) -> tuple[ProtocolVersion, ...]:
        return _allowed_versions(self.versions, self.legacy_versions)

    @property
    def tls12_signature_schemes(self) -> tuple[SignatureScheme, ...]:
        return tuple(dict.fromkeys(self.signature_schemes + _TLS12_EXTRA_SCHEMES))

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
    versions: tuple[ProtocolVersion, ...] = DEFAULT_VERSIONS
    legacy_versions: bool = False
    legacy_rsa_key_exchange: bool = False
    require_extended_master_secret: bool = True
    session_store: SessionStore | None = field(default_factory=MemorySessionStore)
    session_tickets: bool = True
    ticket_keys: TicketKeys | None = None  # None with session_tickets: keys made (and rotated) per config
    session_lifetime: int = 7200
    # TLS 1.3 (RFC 8446 §4.6.1, §4.2.9): tickets sent after the handshake, how they keep the
    # session, which PSK modes are accepted, how far an obfuscated ticket age may be off.
    tls13_tickets: int = 2
    tls13_ticket_mode: TicketMode = "stateless"
    psk_modes: tuple[PskKeyExchangeMode, ...] = (PskKeyExchangeMode.PSK_DHE_KE,)
    external_psks: tuple[ExternalPsk, ...] = ()
    max_ticket_age_skew: float = 10.0
    # TLS 1.3 0-RTT (RFC 8446 §4.2.10, §8): 0 is off; else tickets allow this many bytes of early
    # data, accepted when fresh (ticket ages within max_early_data_age_skew seconds) and, with
    # stateless tickets, seen first by early_data_anti_replay (no guard: never accepted then).
    max_early_data_size: int = 0
    early_data_anti_replay: ReplayGuard | None = field(default_factory=MemoryReplayGuard)
    max_early_data_age_skew: float = 10.0
    cipher_suites: tuple[CipherSuite, ...] = DEFAULT_CIPHER_SUITES
    groups: tuple[NamedGroup, ...] = DEFAULT_GROUPS
    signature_schemes: tuple[SignatureScheme, ...] = DEFAULT_SIGNATURE_SCHEMES
    client_auth: ClientAuth = "none"
    client_cafile: str | None = None
    client_cadata: bytes | None = None
    client_verifier: ClientCertVerifier | None = None
    # RFC 8879: our order for compressing our certificate (first one the client offered) and the
    # algorithms offered in CertificateRequest for the client's; () = off.
    certificate_compression: tuple[CertificateCompressionAlgorithm, ...] = DEFAULT_CERTIFICATE_COMPRESSION
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
        _check_certificate_compression(self.certificate_compression)
        verifier: ClientCertVerifier | None = self.client_verifier
        if verifier is None and self.client_auth != "none":
            if self.client_cafile is None and self.client_cadata is None:
                raise ValueError("client_auth needs client_cafile, client_cadata or client_verifier")
            verifier = WebPkiClientVerifier(load_roots(self.client_cafile, self.client_cadata))
        object.__setattr__(self, "_client_verifier", verifier)
        cookie_key = self.hrr_cookie_key or self.provider.random(32)
        object.__setattr__(self, "_cookie_key", cookie_key)
        _check_versions(self.versions, self.legacy_versions)
        if not 0 <= self.tls13_tickets <= 16:
            raise ValueError("tls13_tickets must be 0..16")
        if self.tls13_ticket_mode not in ("stateless", "stateful"):
            raise ValueError("tls13_ticket_mode must be 'stateless' or 'stateful'")
        if not 0 <= self.max_early_data_size <= 0xFFFFFFFF:
            raise ValueError("max_early_data_size must be 0..2^32-1 (RFC 8446 §4.6.1)")
        if not self.max_early_data_age_skew >= 0:
            raise ValueError("max_early_data_age_skew must not be negative")
        if not 0 < self.session_lifetime <= 7 * 24 * 3600:
            raise ValueError("session_lifetime must be 1 s .. 7 days (RFC 8446 §4.6.1)")
        if self.session_tickets and self.ticket_keys is None:
            keys = TicketKeys(provider=self.provider, lifetime=self.session_lifetime)
            object.__setattr__(self, "ticket_keys", keys)
        elif not self.session_tickets:
            object.__setattr__(self, "ticket_keys", None)

    @property
    def allowed_versions(self) -> tuple[ProtocolVersion, ...]:
        return _allowed_versions(self.versions, self.legacy_versions)

    @property
    def tls12_signature_schemes(self) -> tuple[SignatureScheme, ...]:
        return tuple(dict.fromkeys(self.signature_schemes + _TLS12_EXTRA_SCHEMES))

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
