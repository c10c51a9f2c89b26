"""After a TLS 1.2 handshake: renegotiation refused, and the proof tokens that guard Traffic12.

Theory of operation (RFC 5246 §7.4.1.1, RFC 5746 §4):

    Traffic12 (client) + HelloRequest -> warning no_renegotiation, stay
    Traffic12 (server) + ClientHello  -> warning no_renegotiation, stay

``Traffic12`` is built only through ``for_client``/``for_server`` with the proofs of
what authenticated the peer: a verified certificate plus a verified ServerKeyExchange
signature (or RSA key transport, where Finished proves the key), or a resumed session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.traffic import FinishedVerified
from handclasp.crypto.signatures import SignatureVerified
from handclasp.errors import InternalError
from handclasp.wire.enums import AlertDescription
from handclasp.wire.handshake import ClientHello, Message
from handclasp.wire.handshake12 import HelloRequest
from handclasp.x509.verify import CertificateVerified

_ISSUE_KEY = object()


class RsaKeyTransport:
    """The server proves its key by decrypting our premaster secret (checked by its Finished)."""

    __slots__ = ()

    def __init__(self, key: object) -> None:
        if key is not _ISSUE_KEY:
            raise InternalError("RsaKeyTransport is issued only by the TLS 1.2 client flight")

    @classmethod
    def _issue(cls) -> RsaKeyTransport:
        return cls(_ISSUE_KEY)


class ResumedSession:
    """The peer proved it holds a session's master secret (checked by Finished)."""

    __slots__ = ()

    def __init__(self, key: object) -> None:
        if key is not _ISSUE_KEY:
            raise InternalError("ResumedSession is issued only when a session is resumed")

    @classmethod
    def _issue(cls) -> ResumedSession:
        return cls(_ISSUE_KEY)


class FullHandshake:
    """A verified certificate together with what proved the key behind it."""

    __slots__ = ("certificate", "key_proof")

    def __init__(
        self, key: object, certificate: CertificateVerified, key_proof: SignatureVerified | RsaKeyTransport
    ) -> None:
        if key is not _ISSUE_KEY:
            raise InternalError("FullHandshake is issued only by a TLS 1.2 handshake state")
        if type(certificate) is not CertificateVerified or type(key_proof) not in (SignatureVerified, RsaKeyTransport):
            raise InternalError("FullHandshake needs a verified certificate and a key proof")
        self.certificate = certificate
        self.key_proof = key_proof

    @classmethod
    def _issue(cls, certificate: CertificateVerified, key_proof: SignatureVerified | RsaKeyTransport) -> FullHandshake:
        return cls(_ISSUE_KEY, certificate, key_proof)


@dataclass(frozen=True, slots=True)
class Traffic12:
    expects: ClassVar[tuple[type, ...]] = (HelloRequest, ClientHello)
    is_client: bool
    finished: FinishedVerified

    @classmethod
    def for_client(cls, *, proof: FullHandshake | ResumedSession, finished: FinishedVerified) -> Traffic12:
        if type(proof) not in (FullHandshake, ResumedSession) or type(finished) is not FinishedVerified:
            raise InternalError("Traffic12 needs the handshake's proof tokens")
        return cls(is_client=True, finished=finished)

    @classmethod
    def for_server(
        cls, *, client_proof: FullHandshake | ResumedSession | None, finished: FinishedVerified
    ) -> Traffic12:
        if client_proof is not None and type(client_proof) not in (FullHandshake, ResumedSession):
            raise InternalError("Traffic12 needs the handshake's proof tokens")
        if type(finished) is not FinishedVerified:
            raise InternalError("Traffic12 needs a verified Finished")
        return cls(is_client=False, finished=finished)

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        # RFC 5746 §4.2 / §4.4 and RFC 5246 §7.4.1.1: renegotiation is refused with a warning.
        if self.is_client and isinstance(msg, HelloRequest) or not self.is_client and isinstance(msg, ClientHello):
            out.send_warning_alert(AlertDescription.NO_RENEGOTIATION)
            return self
        from handclasp.errors import UnexpectedMessage

        raise UnexpectedMessage(("application data",), type(msg).__name__)
