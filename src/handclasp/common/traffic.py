"""After the handshake: KeyUpdate, NewSessionTicket and the proof tokens that guard Traffic.

Theory of operation (RFC 8446 §4.6):

    Traffic + KeyUpdate(update_requested)   -> new read key; answer with our own KeyUpdate
    Traffic + KeyUpdate(update_not_requested) -> new read key
    Traffic + NewSessionTicket (client only) -> SessionTicketReceived event, a resumable ClientSession
    Traffic + CertificateRequest (client only, post_handshake_auth offered)
                                             -> Certificate [CertificateVerify] Finished (RFC 8446 §4.6.2)

``Traffic`` can only be built through ``for_client``/``for_server`` with the proof
tokens of every check the handshake had to pass, so a skipped check is an error
at construction time, not a silent acceptance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from cryptography.hazmat.primitives.serialization import Encoding

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.crypto.schedule13 import finished_verify_data, next_traffic_secret, resumption_psk
from handclasp.crypto.signatures import SignatureVerified, certificate_verify_content, schemes_for_key, sign
from handclasp.crypto.suites import SuiteParams
from handclasp.errors import InternalError, Misbehaviour, PeerMisbehaved
from handclasp.events import KeyUpdated, SessionTicket, SessionTicketReceived
from handclasp.sessions.cache import ClientSession
from handclasp.sessions.psk import fork_transcript
from handclasp.sessions.store import Session
from handclasp.wire.enums import KeyUpdateRequest, ProtocolVersion
from handclasp.wire.extensions import EarlyDataTicket, SignatureAlgorithms, find
from handclasp.wire.handshake import (
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    CertificateVerify,
    Finished,
    KeyUpdate,
    Message,
    NewSessionTicket13,
)
from handclasp.x509.verify import CertificateVerified

CLIENT_TRAFFIC_SECRET_0 = "CLIENT_TRAFFIC_SECRET_0"
SERVER_TRAFFIC_SECRET_0 = "SERVER_TRAFFIC_SECRET_0"
EXPORTER_SECRET = "EXPORTER_SECRET"

# RFC 8446 §4.6.1: servers MUST NOT use any value greater than 604800 seconds (7 days).
MAX_TICKET_LIFETIME = 604800

_ISSUE_KEY = object()


class FinishedVerified:
    """Proof that the peer's Finished was checked; only handshake states issue it."""

    __slots__ = ()

    def __init__(self, key: object) -> None:
        if key is not _ISSUE_KEY:
            raise InternalError("FinishedVerified is issued only by a Finished check")

    @classmethod
    def _issue(cls) -> FinishedVerified:
        return cls(_ISSUE_KEY)


class PskAccepted:
    """Proof that a PSK authenticated the handshake (binder checked, or the server selected ours)."""

    __slots__ = ()

    def __init__(self, key: object) -> None:
        if key is not _ISSUE_KEY:
            raise InternalError("PskAccepted is issued only by a PSK check")

    @classmethod
    def _issue(cls) -> PskAccepted:
        return cls(_ISSUE_KEY)


def log_application_secrets(out: Output, client: bytes, server: bytes, exporter: bytes) -> None:
    out.log_secret(CLIENT_TRAFFIC_SECRET_0, client)
    out.log_secret(SERVER_TRAFFIC_SECRET_0, server)
    out.log_secret(EXPORTER_SECRET, exporter)


@dataclass(frozen=True, slots=True)
class Traffic:
    expects: ClassVar[tuple[type, ...]] = (KeyUpdate, NewSessionTicket13, CertificateRequest13)
    is_client: bool
    params: SuiteParams
    read_secret: bytes
    write_secret: bytes
    resumption_master_secret: bytes
    finished: FinishedVerified

    @classmethod
    def for_client(
        cls,
        *,
        params: SuiteParams,
        read_secret: bytes,
        write_secret: bytes,
        resumption_master_secret: bytes,
        certificate: CertificateVerified | None,
        signature: SignatureVerified | None,
        finished: FinishedVerified,
        psk: PskAccepted | None = None,
    ) -> Traffic:
        if psk is not None:
            _require(psk, PskAccepted)  # RFC 8446 §2.2: a PSK handshake has no server certificate
        else:
            _require(certificate, CertificateVerified)
            _require(signature, SignatureVerified)
        _require(finished, FinishedVerified)
        return cls(
            is_client=True,
            params=params,
            read_secret=read_secret,
            write_secret=write_secret,
            resumption_master_secret=resumption_master_secret,
            finished=finished,
        )

    @classmethod
    def for_server(
        cls,
        *,
        params: SuiteParams,
        read_secret: bytes,
        write_secret: bytes,
        resumption_master_secret: bytes,
        client_proof: tuple[CertificateVerified, SignatureVerified] | None,
        finished: FinishedVerified,
    ) -> Traffic:
        if client_proof is not None:
            _require(client_proof[0], CertificateVerified)
            _require(client_proof[1], SignatureVerified)
        _require(finished, FinishedVerified)
        return cls(
            is_client=False,
            params=params,
            read_secret=read_secret,
            write_secret=write_secret,
            resumption_master_secret=resumption_master_secret,
            finished=finished,
        )

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        if isinstance(msg, KeyUpdate):
            return self._handle_key_update(msg, out)
        if isinstance(msg, CertificateRequest13):
            return self._handle_certificate_request(ctx, msg, raw, out)
        assert isinstance(msg, NewSessionTicket13)
        if not self.is_client:
            # RFC 8446 §4.6.1: only servers send NewSessionTicket.
            raise PeerMisbehaved(Misbehaviour.UNEXPECTED_POST_HANDSHAKE_MESSAGE, "NewSessionTicket from a client")
        if msg.ticket_lifetime > MAX_TICKET_LIFETIME:
            raise PeerMisbehaved(Misbehaviour.INVALID_TICKET_LIFETIME)
        early = find(msg.extensions, EarlyDataTicket)
        ticket = SessionTicket(
            ticket=msg.ticket,
            ticket_lifetime=msg.ticket_lifetime,
            ticket_age_add=msg.ticket_age_add,
            ticket_nonce=msg.ticket_nonce,
            max_early_data_size=early.max_early_data_size if early is not None else 0,
            received_at=ctx.provider.now(),
        )
        out.emit(SessionTicketReceived(ticket))
        if msg.ticket_lifetime > 0:  # RFC 8446 §4.6.1: zero means "discard immediately"
            out.remember_session(self._client_session(ctx, ticket))
        return self

    def _client_session(self, ctx: HandshakeContext, ticket: SessionTicket) -> ClientSession:
        session = Session(
            version=ProtocolVersion.TLS1_3,
            cipher_suite=self.params.suite,
            master_secret=resumption_psk(self.params, self.resumption_master_secret, ticket.ticket_nonce),
            extended_master_secret=False,
            server_name=ctx.server_name,
            alpn_protocol=ctx.alpn_protocol,
            peer_certificates=tuple(cert.public_bytes(Encoding.DER) for cert in ctx.peer_certificates),
            created_at=ticket.received_at,
            lifetime=ticket.ticket_lifetime,
            ticket_age_add=ticket.ticket_age_add,
            max_early_data_size=ticket.max_early_data_size,
        )
        return ClientSession(session=session, session_id=b"", ticket=ticket.ticket)

    def _handle_certificate_request(
        self, ctx: HandshakeContext, msg: CertificateRequest13, raw: bytes, out: Output
    ) -> Traffic:
        """RFC 8446 §4.6.2: answer at once with Certificate, CertificateVerify and Finished (§4.4)."""
        config = ctx.client_config
        if not self.is_client or config is None or not ctx.post_handshake_auth:
            # RFC 8446 §4.6.2: a client that did not offer post_handshake_auth treats it as unexpected_message.
            raise PeerMisbehaved(Misbehaviour.UNEXPECTED_POST_HANDSHAKE_MESSAGE, "CertificateRequest")
        # RFC 8446 §4.3.2: after the handshake the context is non-empty; signature_algorithms is required.
        if not msg.certificate_request_context:
            raise PeerMisbehaved(Misbehaviour.EMPTY_POST_HANDSHAKE_CERTIFICATE_REQUEST_CONTEXT)
        algorithms = find(msg.extensions, SignatureAlgorithms)
        if algorithms is None:
            raise PeerMisbehaved(Misbehaviour.MISSING_SIGNATURE_ALGORITHMS)
        assert ctx.transcript is not None
        transcript = fork_transcript(ctx.transcript)  # ClientHello ... client Finished
        transcript.update(raw)
        chosen = next(
            (
                (certified, scheme)
                for certified in config.client_certificates
                for scheme in schemes_for_key(certified.private_key)
                if scheme in algorithms.schemes and scheme in config.signature_schemes
            ),
            None,
        )
        entries = tuple(CertificateEntry(cert_data=der) for der in chosen[0].chain_der) if chosen else ()
        context = msg.certificate_request_context
        transcript.update(out.send(Certificate13(certificate_request_context=context, certificate_list=entries)))
        if chosen is not None:
            certified, scheme = chosen
            signature = sign(scheme, certified.private_key, certificate_verify_content(False, transcript.digest()))
            transcript.update(out.send(CertificateVerify(algorithm=scheme, signature=signature)))
        out.send(Finished(verify_data=finished_verify_data(self.params, self.write_secret, transcript.digest())))
        return self

    def _handle_key_update(self, msg: KeyUpdate, out: Output) -> Traffic:
        # RFC 8446 §4.6.3: switch the read key; if asked, answer with update_not_requested.
        read_secret = next_traffic_secret(self.params, self.read_secret)
        out.set_read_key(self.params, read_secret)
        state = replace(self, read_secret=read_secret)
        requested = msg.request_update is KeyUpdateRequest.UPDATE_REQUESTED
        out.emit(KeyUpdated(sending=False, update_requested=requested))
        # RFC 8446 §6.1: after our close_notify we write nothing, not even the answering KeyUpdate.
        if requested and not out.is_write_closed:
            state = state.update_own_keys(out, request_peer=False)
        return state

    def update_own_keys(self, out: Output, *, request_peer: bool) -> Traffic:
        request = KeyUpdateRequest.UPDATE_REQUESTED if request_peer else KeyUpdateRequest.UPDATE_NOT_REQUESTED
        out.send(KeyUpdate(request_update=request))
        write_secret = next_traffic_secret(self.params, self.write_secret)
        out.set_write_key(self.params, write_secret)
        out.emit(KeyUpdated(sending=True, update_requested=request_peer))
        return replace(self, write_secret=write_secret)


def _require(token: object, cls: type) -> None:
    if type(token) is not cls:
        raise InternalError(f"missing proof token {cls.__name__}")
