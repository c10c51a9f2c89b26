"""Server side of TLS 1.3 after the hello decisions (RFC 8446 §4.1.3, §4.3, §4.4).

Theory of operation:

    send_server_flight: ServerHello [CCS] {EncryptedExtensions [CertificateRequest]
                        Certificate CertificateVerify Finished}
      -> ExpectClientCertificate -> ExpectClientCertificateVerify   (when client auth is on)
      -> ExpectClientFinished -> [NewSessionTicket x tls13_tickets] -> common.traffic.Traffic
    PSK handshake (RFC 8446 §2.2): ServerHello(+pre_shared_key) {EncryptedExtensions Finished}
    accepted 0-RTT (RFC 8446 §2.3): ... -> server.early.ExpectEndOfEarlyData -> ExpectClientFinished
    request_client_certificate (RFC 8446 §4.6.2): Traffic -> CertificateRequest
      -> ExpectPostHandshakeCertificate -> [..CertificateVerify] -> ..Finished -> Traffic

Rules: the server's whole first flight leaves in one ``receive_bytes`` call
(coalesced into as few records as the keys allow); the client's Finished is
checked against the transcript up to its CertificateVerify.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field, replace
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from handclasp.common.certcompress import (
    offer_extension,
    offered_algorithms,
    received_certificate,
    send_certificate,
)
from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.stapling import server_certificate_entries
from handclasp.common.traffic import FinishedVerified, Traffic, log_application_secrets
from handclasp.config import ServerConfig
from handclasp.crypto.groups import server_key_exchange
from handclasp.crypto.schedule13 import EarlySecret, MasterSecret, finished_verify_data, resumption_psk
from handclasp.crypto.signatures import SignatureVerified, certificate_verify_content, sign, verify
from handclasp.crypto.suites import TLS13_SUITES, SuiteParams
from handclasp.crypto.transcript import Transcript
from handclasp.errors import (
    ApiMisuse,
    CertificateProblem,
    CertificateVerifyError,
    Misbehaviour,
    PeerMisbehaved,
)
from handclasp.events import HandshakeComplete, PeerCertificateReceived
from handclasp.negotiated import Negotiated
from handclasp.server.early import ExpectEndOfEarlyData
from handclasp.sessions.psk import fork_transcript
from handclasp.sessions.store import Session
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import CipherSuite, ProtocolVersion, SignatureScheme
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    EarlyDataIndication,
    EarlyDataTicket,
    Extension,
    KeyShareEntry,
    KeyShareServerHello,
    MaxFragmentLengthExt,
    OpaqueExtension,
    RecordSizeLimit,
    SelectedPsk,
    ServerNameAck,
    ServerNameList,
    SignatureAlgorithms,
    SupportedVersionsServerHello,
    find,
)
from handclasp.wire.handshake import (
    Certificate13,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    Finished,
    KeyUpdate,
    Message,
    NewSessionTicket13,
    ServerHello,
)
from handclasp.x509.trust import load_roots
from handclasp.x509.verify import CertificateVerified, ClientCertVerifier, WebPkiClientVerifier

CLIENT_HANDSHAKE_TRAFFIC_SECRET = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE_TRAFFIC_SECRET = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_EARLY_TRAFFIC_SECRET = "CLIENT_EARLY_TRAFFIC_SECRET"
EARLY_EXPORTER_MASTER_SECRET = "EARLY_EXPORTER_MASTER_SECRET"


@dataclass(frozen=True, slots=True)
class ServerPsk:
    """The PSK the server selected (its binder already checked)."""

    index: int
    key: bytes = field(repr=False)
    suite: CipherSuite
    session: Session | None  # None for an external PSK
    dhe: bool  # psk_dhe_ke (True) or psk_ke


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """The hello phase's decisions, handed to the flight builder."""

    hello: ClientHello
    hello_raw: bytes
    suite: CipherSuite
    share: KeyShareEntry | None
    certified: CertifiedKey | None
    scheme: SignatureScheme | None
    psk: ServerPsk | None = None


@dataclass(frozen=True, slots=True)
class ClientSecrets:
    handshake: bytes
    application: bytes
    master: MasterSecret


def send_server_flight(ctx: HandshakeContext, config: ServerConfig, plan: FlightPlan, out: Output) -> State:
    params = TLS13_SUITES[plan.suite]
    ctx.params = params
    ctx.group = plan.share.group if plan.share is not None else None
    ctx.signature_scheme = plan.scheme
    # The order of RFC 8448's trace, so our ServerHello can be checked against it byte for byte.
    extensions: list[Extension | OpaqueExtension] = []
    shared: bytes | None = None
    if plan.share is not None:
        server_share, shared = server_key_exchange(plan.share.group, plan.share.key_exchange, config.provider)
        extensions.append(KeyShareServerHello(server_share=KeyShareEntry(group=plan.share.group, key_exchange=server_share)))
    extensions.append(SupportedVersionsServerHello(selected_version=ProtocolVersion.TLS1_3))
    if plan.psk is not None:
        extensions.append(SelectedPsk(selected_identity=plan.psk.index))
        ctx.resumed = plan.psk.session is not None
        if plan.psk.session is not None:
            ctx.peer_certificates = tuple(x509.load_der_x509_certificate(der) for der in plan.psk.session.peer_certificates)
    hello = ServerHello(
        random=config.provider.random(32),
        legacy_session_id_echo=plan.hello.legacy_session_id,
        cipher_suite=plan.suite,
        extensions=tuple(extensions),
    )
    if ctx.transcript is None:
        ctx.transcript = Transcript(params.hash_name, plan.hello_raw)
    else:
        ctx.transcript.update(plan.hello_raw)
    transcript = ctx.transcript
    client_early = _client_early_traffic_secret(ctx, plan, out) if ctx.early_data_accepted else None
    transcript.update(out.send(hello))

    handshake_secret = EarlySecret(params, plan.psk.key if plan.psk is not None else None).handshake(shared)
    th = transcript.digest()
    client_hs = handshake_secret.client_handshake_traffic_secret(th)
    server_hs = handshake_secret.server_handshake_traffic_secret(th)
    out.log_secret(CLIENT_HANDSHAKE_TRAFFIC_SECRET, client_hs)
    out.log_secret(SERVER_HANDSHAKE_TRAFFIC_SECRET, server_hs)
    # RFC 8446 §D.4: a compatibility-mode client (non-empty session id) gets a CCS after ServerHello.
    if plan.hello.legacy_session_id and not ctx.sent_dummy_ccs:
        out.send_dummy_change_cipher_spec()
        ctx.sent_dummy_ccs = True
    out.set_write_key(params, server_hs)

    transcript.update(out.send(EncryptedExtensions(extensions=_encrypted_extensions(ctx, plan.hello, out))))
    # RFC 8446 §4.3.2, §2.2: with a PSK, no CertificateRequest, Certificate or CertificateVerify.
    request_certificate = config.client_auth != "none" and plan.psk is None
    if request_certificate:
        ctx.client_certificate_requested = True
        request = CertificateRequest13(
            certificate_request_context=b"",
            # RFC 8879 §3: compress_certificate in CertificateRequest offers it for the client's certificate.
            extensions=(
                SignatureAlgorithms(schemes=config.signature_schemes),
                *offer_extension(config.certificate_compression),
            ),
        )
        transcript.update(out.send(request))
    if plan.psk is None:
        assert plan.certified is not None and plan.scheme is not None
        # RFC 8446 §4.4.2.1: the leaf carries the OCSP staple / SCTs when the client asked for them.
        entries = server_certificate_entries(plan.certified, plan.hello, ctx)
        certificate = Certificate13(certificate_request_context=b"", certificate_list=entries)
        offer = offered_algorithms(plan.hello.extensions)
        transcript.update(send_certificate(out, certificate, config.certificate_compression, offer))
        content = certificate_verify_content(True, transcript.digest())
        signature = sign(plan.scheme, plan.certified.private_key, content)
        transcript.update(out.send(CertificateVerify(algorithm=plan.scheme, signature=signature)))
    verify_data = finished_verify_data(params, server_hs, transcript.digest())
    transcript.update(out.send(Finished(verify_data=verify_data)))

    server_finished_hash = transcript.digest()
    master = handshake_secret.master()
    client_app = master.client_application_traffic_secret_0(server_finished_hash)
    server_app = master.server_application_traffic_secret_0(server_finished_hash)
    ctx.exporter_master_secret = master.exporter_master_secret(server_finished_hash)
    log_application_secrets(out, client_app, server_app, ctx.exporter_master_secret)
    out.set_write_key(params, server_app)
    secrets = ClientSecrets(handshake=client_hs, application=client_app, master=master)
    after: State
    if request_certificate:
        after = ExpectClientCertificate(config=config, secrets=secrets, server_app=server_app)
    else:
        after = ExpectClientFinished(config=config, secrets=secrets, server_app=server_app, client_proof=None)
    if client_early is None:
        out.set_read_key(params, client_hs)
        return after
    # RFC 8446 §2.3: the client's 0-RTT data, then EndOfEarlyData, under client_early_traffic_secret.
    assert plan.psk is not None
    session = plan.psk.session
    out.set_read_key(params, client_early)
    return ExpectEndOfEarlyData(
        params=params,
        client_handshake_secret=client_hs,
        max_early_data_size=session.max_early_data_size if session is not None else config.max_early_data_size,
        after=after,
    )


def _client_early_traffic_secret(ctx: HandshakeContext, plan: FlightPlan, out: Output) -> bytes:
    """RFC 8446 §7.1: Derive-Secret(Early Secret, "c e traffic", ClientHello), with the ticket's PSK."""
    assert plan.psk is not None
    early = EarlySecret(ctx.suite(), plan.psk.key)
    hello_hash = ctx.transcript_hash()
    secret = early.client_early_traffic_secret(hello_hash)
    out.log_secret(CLIENT_EARLY_TRAFFIC_SECRET, secret)
    out.log_secret(EARLY_EXPORTER_MASTER_SECRET, early.early_exporter_master_secret(hello_hash))
    return secret


def _encrypted_extensions(
    ctx: HandshakeContext, hello: ClientHello, out: Output
) -> tuple[Extension | OpaqueExtension, ...]:
    exts: list[Extension | OpaqueExtension] = []
    if find(hello.extensions, ServerNameList) is not None:
        exts.append(ServerNameAck())
    if ctx.alpn_protocol is not None:
        exts.append(ApplicationLayerProtocolNegotiation(protocols=(ctx.alpn_protocol.encode("latin-1"),)))
    if ctx.early_data_accepted:
        exts.append(EarlyDataIndication())  # RFC 8446 §4.2.10: 0-RTT accepted
    size_limit = find(hello.extensions, RecordSizeLimit)
    fragment = find(hello.extensions, MaxFragmentLengthExt)
    if size_limit is not None:
        # RFC 8449 §4: in TLS 1.3 the limit counts the inner content type; answer with ours.
        out.set_write_record_limit(min(2**14, size_limit.limit - 1))
        exts.append(RecordSizeLimit(limit=2**14 + 1))
    elif fragment is not None:
        # RFC 6066 §4: echo the request and keep to it.
        out.set_write_record_limit(1 << (8 + fragment.code))
        exts.append(MaxFragmentLengthExt(code=fragment.code))
    return tuple(exts)


@dataclass(frozen=True, slots=True)
class ExpectClientCertificate:
    expects: ClassVar[tuple[type, ...]] = (Certificate13, CompressedCertificate)
    config: ServerConfig
    secrets: ClientSecrets
    server_app: bytes

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Certificate13 | CompressedCertificate)
        # RFC 8879 §4: our CertificateRequest offered config.certificate_compression; raw stays as sent.
        offered, limit = self.config.certificate_compression, self.config.max_handshake_message_size
        msg, ctx.certificate_compression = received_certificate(msg, offered, limit)
        # RFC 8446 §4.4.2: the context echoes the CertificateRequest's (empty in the handshake).
        if msg.certificate_request_context:
            raise PeerMisbehaved(Misbehaviour.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT)
        transcript = ctx.transcript
        assert transcript is not None
        if not msg.certificate_list:
            # RFC 8446 §4.4.2.4: no certificate when one is required is certificate_required.
            if self.config.client_auth == "require":
                raise CertificateVerifyError(CertificateProblem.REQUIRED, "client sent no certificate")
            transcript.update(raw)
            return ExpectClientFinished(config=self.config, secrets=self.secrets, server_app=self.server_app, client_proof=None)
        for entry in msg.certificate_list:
            # RFC 8446 §4.4.2: entry extensions must answer our CertificateRequest, which asks for none.
            if entry.extensions:
                raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, entry.extensions[0].extension_type.name)
        verifier = self.config.resolved_client_verifier
        assert verifier is not None
        chain = [entry.cert_data for entry in msg.certificate_list]
        verified = verifier.verify_client(chain, ctx.provider.now())
        ctx.peer_certificates = verified.chain
        transcript.update(raw)
        return ExpectClientCertificateVerify(
            config=self.config, secrets=self.secrets, server_app=self.server_app, certificate=verified
        )


@dataclass(frozen=True, slots=True)
class ExpectClientCertificateVerify:
    expects: ClassVar[tuple[type, ...]] = (CertificateVerify,)
    config: ServerConfig
    secrets: ClientSecrets
    server_app: bytes
    certificate: CertificateVerified

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, CertificateVerify)
        # RFC 8446 §4.4.3: the scheme must be one from our CertificateRequest.
        if msg.algorithm not in self.config.signature_schemes:
            raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, msg.algorithm.name)
        transcript = ctx.transcript
        assert transcript is not None
        content = certificate_verify_content(False, transcript.digest())
        signature = verify(msg.algorithm, self.certificate.chain[0].public_key(), content, msg.signature)
        transcript.update(raw)
        return ExpectClientFinished(
            config=self.config,
            secrets=self.secrets,
            server_app=self.server_app,
            client_proof=(self.certificate, signature),
        )


@dataclass(frozen=True, slots=True)
class ExpectClientFinished:
    expects: ClassVar[tuple[type, ...]] = (Finished,)
    config: ServerConfig
    secrets: ClientSecrets
    server_app: bytes
    client_proof: tuple[CertificateVerified, SignatureVerified] | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Finished)
        params = ctx.suite()
        transcript = ctx.transcript
        assert transcript is not None
        expected = finished_verify_data(params, self.secrets.handshake, transcript.digest())
        # RFC 8446 §4.4.4: a wrong verify_data is decrypt_error.
        if not hmac.compare_digest(expected, msg.verify_data):
            raise PeerMisbehaved(Misbehaviour.BAD_FINISHED)
        finished = FinishedVerified._issue()
        transcript.update(raw)
        out.set_read_key(params, self.secrets.application)
        resumption = self.secrets.master.resumption_master_secret(transcript.digest())
        ctx.master = self.secrets.master
        out.emit(
            HandshakeComplete(
                Negotiated(
                    version=ProtocolVersion.TLS1_3,
                    cipher_suite=params.suite,
                    group=ctx.group,
                    signature_scheme=ctx.signature_scheme,
                    alpn_protocol=ctx.alpn_protocol,
                    server_name=ctx.server_name,
                    peer_certificates=ctx.peer_certificates,
                    client_certificate_requested=ctx.client_certificate_requested,
                    resumed=ctx.resumed,
                    hello_retry=ctx.hello_retry,
                    early_data_accepted=ctx.early_data_accepted,
                    certificate_compression=ctx.certificate_compression,
                    ocsp_response=ctx.ocsp_response,
                    signed_certificate_timestamps=ctx.signed_certificate_timestamps,
                )
            )
        )
        _send_tickets(ctx, self.config, params, resumption, out)
        return Traffic.for_server(
            params=params,
            read_secret=self.secrets.application,
            write_secret=self.server_app,
            resumption_master_secret=resumption,
            client_proof=self.client_proof,
            finished=finished,
        )


def _send_tickets(ctx: HandshakeContext, config: ServerConfig, params: SuiteParams, resumption: bytes, out: Output) -> None:
    """RFC 8446 §4.6.1: NewSessionTickets carrying the resumption PSK, sealed or stored by ticket id."""
    # RFC 8446 §4.2.9: no tickets for a client that sent no psk_key_exchange_modes.
    if not ctx.peer_psk_modes or config.tls13_tickets == 0:
        return
    stateful = config.tls13_ticket_mode == "stateful"
    keys, store = config.ticket_keys, config.session_store
    if (stateful and store is None) or (not stateful and keys is None):
        return
    now = ctx.provider.now()
    lifetime = config.session_lifetime if keys is None or stateful else min(config.session_lifetime, keys.lifetime)
    certificates = tuple(cert.public_bytes(Encoding.DER) for cert in ctx.peer_certificates)
    for index in range(config.tls13_tickets):
        nonce = index.to_bytes(1, "big")
        age_add = int.from_bytes(ctx.provider.random(4), "big")
        session = Session(
            version=ProtocolVersion.TLS1_3,
            cipher_suite=params.suite,
            master_secret=resumption_psk(params, resumption, nonce),
            extended_master_secret=False,
            server_name=ctx.server_name,
            alpn_protocol=ctx.alpn_protocol,
            peer_certificates=certificates,
            created_at=now,
            lifetime=lifetime,
            ticket_age_add=age_add,
            max_early_data_size=config.max_early_data_size,
        )
        if stateful:
            assert store is not None
            ticket = ctx.provider.random(TICKET_ID_LENGTH)
            store.put(ticket, session)
        else:
            assert keys is not None
            try:
                ticket = keys.seal(session, now)
            except ValueError:
                return  # too large a ticket (a very long client chain): issue none
        # RFC 8446 §4.6.1: early_data(max_early_data_size) says the ticket may carry 0-RTT.
        extensions = (EarlyDataTicket(max_early_data_size=config.max_early_data_size),) if config.max_early_data_size else ()
        out.send(
            NewSessionTicket13(
                ticket_lifetime=lifetime, ticket_age_add=age_add, ticket_nonce=nonce, ticket=ticket, extensions=extensions
            )
        )


def request_client_certificate(ctx: HandshakeContext, config: ServerConfig, traffic: Traffic, out: Output) -> State:
    """RFC 8446 §4.6.2: send a CertificateRequest with a fresh, non-empty context."""
    verifier = _post_handshake_verifier(config)
    context = ctx.provider.random(16)
    request = CertificateRequest13(
        certificate_request_context=context,
        extensions=(SignatureAlgorithms(schemes=config.signature_schemes),),
    )
    assert ctx.transcript is not None
    transcript = fork_transcript(ctx.transcript)  # ClientHello ... client Finished
    transcript.update(out.send(request))
    return ExpectPostHandshakeCertificate(
        config=config, verifier=verifier, traffic=traffic, context=context, transcript=transcript
    )


def _post_handshake_verifier(config: ServerConfig) -> ClientCertVerifier:
    verifier = config.resolved_client_verifier
    if verifier is not None:
        return verifier
    if config.client_cafile is None and config.client_cadata is None:
        raise ApiMisuse("post-handshake authentication needs client_cafile, client_cadata or client_verifier")
    return WebPkiClientVerifier(load_roots(config.client_cafile, config.client_cadata))


@dataclass(frozen=True, slots=True)
class ExpectPostHandshakeCertificate:
    expects: ClassVar[tuple[type, ...]] = (Certificate13, KeyUpdate)
    config: ServerConfig
    verifier: ClientCertVerifier
    traffic: Traffic
    context: bytes
    transcript: Transcript

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        if isinstance(msg, KeyUpdate):
            return replace(self, traffic=_key_update(self.traffic, ctx, msg, raw, out))
        assert isinstance(msg, Certificate13)
        # RFC 8446 §4.4.2: the context echoes the CertificateRequest's.
        if not hmac.compare_digest(msg.certificate_request_context, self.context):
            raise PeerMisbehaved(Misbehaviour.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT, "context does not match")
        if not msg.certificate_list:
            if self.config.client_auth == "require":
                raise CertificateVerifyError(CertificateProblem.REQUIRED, "client sent no certificate")
            self.transcript.update(raw)
            return ExpectPostHandshakeFinished(traffic=self.traffic, transcript=self.transcript, certificate=None)
        for entry in msg.certificate_list:
            if entry.extensions:
                raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, entry.extensions[0].extension_type.name)
        verified = self.verifier.verify_client([entry.cert_data for entry in msg.certificate_list], ctx.provider.now())
        self.transcript.update(raw)
        return ExpectPostHandshakeCertificateVerify(
            config=self.config, traffic=self.traffic, transcript=self.transcript, certificate=verified
        )


@dataclass(frozen=True, slots=True)
class ExpectPostHandshakeCertificateVerify:
    expects: ClassVar[tuple[type, ...]] = (CertificateVerify,)
    config: ServerConfig
    traffic: Traffic
    transcript: Transcript
    certificate: CertificateVerified

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, CertificateVerify)
        # RFC 8446 §4.4.3: the scheme must be one from our CertificateRequest.
        if msg.algorithm not in self.config.signature_schemes:
            raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, msg.algorithm.name)
        content = certificate_verify_content(False, self.transcript.digest())
        verify(msg.algorithm, self.certificate.chain[0].public_key(), content, msg.signature)
        self.transcript.update(raw)
        return ExpectPostHandshakeFinished(traffic=self.traffic, transcript=self.transcript, certificate=self.certificate)


@dataclass(frozen=True, slots=True)
class ExpectPostHandshakeFinished:
    expects: ClassVar[tuple[type, ...]] = (Finished,)
    traffic: Traffic
    transcript: Transcript
    certificate: CertificateVerified | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Finished)
        # RFC 8446 §4.4.4: keyed with client_application_traffic_secret_N; a mismatch is decrypt_error.
        expected = finished_verify_data(self.traffic.params, self.traffic.read_secret, self.transcript.digest())
        if not hmac.compare_digest(expected, msg.verify_data):
            raise PeerMisbehaved(Misbehaviour.BAD_FINISHED)
        chain = self.certificate.chain if self.certificate is not None else ()
        if chain:
            ctx.peer_certificates = chain
        out.emit(PeerCertificateReceived(chain))
        return self.traffic


def _key_update(traffic: Traffic, ctx: HandshakeContext, msg: KeyUpdate, raw: bytes, out: Output) -> Traffic:
    state = traffic.handle(ctx, msg, raw, out)
    assert isinstance(state, Traffic)
    return state


TICKET_ID_LENGTH = 32

