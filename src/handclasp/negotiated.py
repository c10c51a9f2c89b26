"""What a completed handshake agreed on."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from handclasp.wire.enums import CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme


@dataclass(frozen=True, slots=True, kw_only=True)
class Negotiated:
    version: ProtocolVersion
    cipher_suite: CipherSuite
    group: NamedGroup | None
    signature_scheme: SignatureScheme | None
    alpn_protocol: str | None
    server_name: str | None
    peer_certificates: tuple[x509.Certificate, ...]
    client_certificate_requested: bool = False
    resumed: bool = False
    hello_retry: bool = False
    extended_master_secret: bool = False  # TLS 1.2 (RFC 7627); TLS 1.3 always binds the transcript
