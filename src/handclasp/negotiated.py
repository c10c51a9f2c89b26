"""What a completed handshake agreed on."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from handclasp.wire.enums import (
    CertificateCompressionAlgorithm,
    CipherSuite,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)


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
    # The leaf's stapled OCSP response (DER) and raw SignedCertificateTimestampList (RFC 6962 §3.3,
    # unverified), as the server sent them; None when there were none (or on resumption).
    ocsp_response: bytes | None = None
    signed_certificate_timestamps: bytes | None = None
    # RFC 8879: the algorithm the peer's Certificate came compressed with (None: sent plain, or none sent).
    certificate_compression: CertificateCompressionAlgorithm | None = None
    early_data_accepted: bool = False  # TLS 1.3 0-RTT (RFC 8446 §4.2.10)
