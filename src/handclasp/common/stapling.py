"""OCSP stapling and SCT pass-through: the TLS glue between the handshake states and x509/ocsp.py.

Theory of operation:

    client  ClientHello + status_request (ocsp_stapling != "off") + signed_certificate_timestamp (request_scts)
    server  the leaf's CertificateEntry + CertificateStatus / SignedCertificateTimestampList, only when asked
            (RFC 8446 §4.4.2.1, RFC 6066 §8, RFC 6962 §3.3)
    client  ``check_server_status``: the staple is checked against the verified chain; must-staple
            (RFC 7633) or ocsp_stapling="require" without one fails; SCTs are kept, not verified
    TLS 1.2 client: when the ServerHello acknowledged status_request, a CertificateStatus message (RFC 6066 §8)
            may follow Certificate; ``ExpectCertificateStatus12`` takes it (or notes its absence) and hands
            everything else to the state that would have come next.

Rules: only the leaf's entry is read; status on other entries (RFC 6961 status_request_v2 territory)
is ignored, never checked.  The server never staples in TLS 1.2 and never fetches a response; the
client's own certificate never carries status (a CertificateRequest's status_request is ignored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from cryptography import x509

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.tls12 import Handshake12
from handclasp.config import ClientConfig
from handclasp.errors import CertificateProblem, CertificateVerifyError, UnexpectedMessage
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import CertificateStatusType
from handclasp.wire.extensions import (
    CertificateStatus,
    CertificateStatusRequest,
    Extension,
    OpaqueExtension,
    SignedCertificateTimestampList,
    SignedCertificateTimestampRequest,
    find,
)
from handclasp.wire.handshake import CertificateEntry, ClientHello, Message
from handclasp.wire.handshake12 import (
    CertificateRequest10,
    CertificateRequest12,
    CertificateStatus as CertificateStatus12,
    ServerHelloDone,
    ServerKeyExchange,
)
from handclasp.x509.ocsp import is_must_staple, verify_ocsp_response
from handclasp.x509.verify import CertificateVerified

__all__ = [
    "ExpectCertificateStatus12",
    "check_server_status",
    "client_status_extensions",
    "expect_certificate_status12",
    "server_certificate_entries",
]


def client_status_extensions(config: ClientConfig) -> list[Extension]:
    """ClientHello extensions: status_request (ocsp, no responder ids or extensions) and empty SCT."""
    exts: list[Extension] = []
    if config.ocsp_stapling != "off":
        exts.append(CertificateStatusRequest())  # RFC 6066 §8
    if config.request_scts:
        exts.append(SignedCertificateTimestampRequest())  # RFC 6962 §3.3.1
    return exts


def check_server_status(
    ctx: HandshakeContext,
    config: ClientConfig,
    certificate: CertificateVerified,
    leaf_extensions: Sequence[Extension | OpaqueExtension],
) -> None:
    """RFC 8446 §4.4.2.1: check the leaf entry's OCSP staple; record it and the SCT list in ``ctx``."""
    scts = find(leaf_extensions, SignedCertificateTimestampList)
    ctx.signed_certificate_timestamps = scts.to_bytes() if scts is not None else None
    if config.ocsp_stapling == "off":
        return  # nothing asked, nothing checked (must-staple included)
    status = find(leaf_extensions, CertificateStatus)
    if status is not None and status.status_type != CertificateStatusType.OCSP:
        # RFC 6066 §8: we asked for ocsp; any other type is not an answer.
        raise CertificateVerifyError(CertificateProblem.OCSP_MALFORMED, f"status_type {status.status_type}")
    ctx.ocsp_response = _check_staple(ctx, config, certificate, status.ocsp_response if status else None)


def server_certificate_entries(certified: CertifiedKey, hello: ClientHello, ctx: HandshakeContext) -> tuple[CertificateEntry, ...]:
    """The server's CertificateEntry list: staple and SCTs on the leaf, only where the client asked."""
    exts: list[Extension | OpaqueExtension] = []
    request = find(hello.extensions, CertificateStatusRequest)
    if certified.ocsp_response is not None and request is not None and request.status_type == CertificateStatusType.OCSP:
        exts.append(CertificateStatus(ocsp_response=certified.ocsp_response))
        ctx.ocsp_response = certified.ocsp_response
    if certified.sct_list is not None and find(hello.extensions, SignedCertificateTimestampRequest) is not None:
        exts.append(SignedCertificateTimestampList.from_bytes(certified.sct_list))
        ctx.signed_certificate_timestamps = certified.sct_list
    chain = certified.chain_der
    leaf = CertificateEntry(cert_data=chain[0], extensions=tuple(exts))
    return (leaf, *(CertificateEntry(cert_data=der) for der in chain[1:]))


def expect_certificate_status12(
    ctx: HandshakeContext,
    config: ClientConfig,
    hs: Handshake12,
    certificate: CertificateVerified,
    following: State,
    *,
    acknowledged: bool,
) -> State:
    """TLS 1.2: after Certificate, take a CertificateStatus first if the ServerHello acknowledged our
    status_request (RFC 6066 §8); otherwise no staple is coming, which must-staple may refuse now."""
    if config.ocsp_stapling == "off":
        return following
    if not acknowledged:
        _check_staple(ctx, config, certificate, None)
        return following
    return ExpectCertificateStatus12(config=config, hs=hs, certificate=certificate, following=following)


@dataclass(frozen=True, slots=True)
class ExpectCertificateStatus12:
    """RFC 6066 §8: CertificateStatus, if the server sends one, comes right after Certificate."""

    expects: ClassVar[tuple[type, ...]] = (
        CertificateStatus12,
        ServerKeyExchange,
        CertificateRequest12,
        CertificateRequest10,
        ServerHelloDone,
    )
    config: ClientConfig
    hs: Handshake12
    certificate: CertificateVerified
    following: State

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        if isinstance(msg, CertificateStatus12):
            if msg.status_type != CertificateStatusType.OCSP:
                raise CertificateVerifyError(CertificateProblem.OCSP_MALFORMED, f"status_type {msg.status_type}")
            ctx.ocsp_response = _check_staple(ctx, self.config, self.certificate, msg.ocsp_response)
            self.hs.add(raw)
            return self.following
        if not isinstance(msg, self.following.expects):
            raise UnexpectedMessage(tuple(cls.__name__ for cls in self.following.expects), type(msg).__name__)
        _check_staple(ctx, self.config, self.certificate, None)
        return self.following.handle(ctx, msg, raw, out)


def _check_staple(
    ctx: HandshakeContext, config: ClientConfig, certificate: CertificateVerified, der: bytes | None
) -> bytes | None:
    leaf = certificate.chain[0]
    if der is None:
        # RFC 7633 §4.2.3: a must-staple certificate without a staple is refused; so is "require".
        if config.ocsp_stapling == "require" or is_must_staple(leaf):
            raise CertificateVerifyError(CertificateProblem.OCSP_MISSING)
        return None
    if config.dangerous_skip_verification:
        return der  # nothing about this chain is checked, so neither is its staple
    verify_ocsp_response(der, leaf, _issuer(certificate), ctx.provider.now())
    return der


def _issuer(certificate: CertificateVerified) -> x509.Certificate:
    """The leaf's issuer: the verified path's second certificate, else the second one sent."""
    if len(certificate.path) > 1:
        return certificate.path[1]
    if len(certificate.chain) > 1:
        return certificate.chain[1]
    return certificate.chain[0]  # a self-issued leaf; anything else fails the CertID match
