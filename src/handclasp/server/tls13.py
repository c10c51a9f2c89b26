"""Server side of TLS 1.3 after the hello decisions (RFC 8446 §4.1.3, §4.3, §4.4).

Theory of operation:

    send_server_flight: ServerHello [CCS] {EncryptedExtensions [CertificateRequest]
                        Certificate CertificateVerify Finished}
      -> ExpectClientCertificate -> ExpectClientCertificateVerify   (when client auth is on)
      -> ExpectClientFinished -> common.traffic.Traffic

Rules: the server's whole first flight leaves in one ``receive_bytes`` call
(coalesced into as few records as the keys allow); the client's Finished is
checked against the transcript up to its CertificateVerify.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import ClassVar

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.traffic import FinishedVerified, Traffic, log_application_secrets
from handclasp.config import ServerConfig
from handclasp.crypto.groups import server_key_exchange
from handclasp.crypto.schedule13 import EarlySecret, MasterSecret, finished_verify_data
from handclasp.crypto.signatures import SignatureVerified, certificate_verify_content, sign, verify
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.crypto.transcript import Transcript
from handclasp.errors import CertificateProblem, CertificateVerifyError, Misbehaviour, PeerMisbehaved
from handclasp.events import HandshakeComplete
from handclasp.negotiated import Negotiated
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import CipherSuite, ProtocolVersion, SignatureScheme
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    Extension,
    KeyShareEntry,
    KeyShareServerHello,
    MaxFragmentLengthExt,
    OpaqueExtension,
    RecordSizeLimit,
    ServerNameAck,
    ServerNameList,
    SignatureAlgorithms,
    SupportedVersionsServerHello,
    find,
)
from handclasp.wire.handshake import (
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    EncryptedExtensions,
    Finished,
    Message,
    ServerHello,
)
from handclasp.x509.verify import CertificateVerified

CLIENT_HANDSHAKE_TRAFFIC_SECRET = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE_TRAFFIC_SECRET = "SERVER_HANDSHAKE_TRAFFIC_SECRET"


@dataclass(frozen=True, slots=True)
class FlightPlan:
    """The hello phase's decisions, handed to the flight builder."""

    hello: ClientHello
    hello_raw: bytes
    suite: CipherSuite
    share: KeyShareEntry
    certified: CertifiedKey
    scheme: SignatureScheme


@dataclass(frozen=True, slots=True)
class ClientSecrets:
    handshake: bytes
    application: bytes
    master: MasterSecret


def send_server_flight(ctx: HandshakeContext, config: ServerConfig, plan: FlightPlan, out: Output) -> State:
    params = TLS13_SUITES[plan.suite]
    ctx.params = params
    ctx.group = plan.share.group
    ctx.signature_scheme = plan.scheme
    server_share, shared = server_key_exchange(plan.share.group, plan.share.key_exchange, config.provider)
    hello = ServerHello(
        random=config.provider.random(32),
        legacy_session_id_echo=plan.hello.legacy_session_id,
        cipher_suite=plan.suite,
        # The order of RFC 8448's trace, so our ServerHello can be checked against it byte for byte.
        extensions=(
            KeyShareServerHello(server_share=KeyShareEntry(group=plan.share.group, key_exchange=server_share)),
            SupportedVersionsServerHello(selected_version=ProtocolVersion.TLS1_3),
        ),
    )
    if ctx.transcript is None:
        ctx.transcript = Transcript(params.hash_name, plan.hello_raw)
    else:
        ctx.transcript.update(plan.hello_raw)
    transcript = ctx.transcript
    transcript.update(out.send(hello))

    handshake_secret = EarlySecret(params).handshake(shared)
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
    if config.client_auth != "none":
        ctx.client_certificate_requested = True
        request = CertificateRequest13(
            certificate_request_context=b"",
            extensions=(SignatureAlgorithms(schemes=config.signature_schemes),),
        )
        transcript.update(out.send(request))
    entries = tuple(CertificateEntry(cert_data=der) for der in plan.certified.chain_der)
    transcript.update(out.send(Certificate13(certificate_request_context=b"", certificate_list=entries)))
    signature = sign(plan.scheme, plan.certified.private_key, certificate_verify_content(True, transcript.digest()))
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
    out.set_read_key(params, client_hs)
    secrets = ClientSecrets(handshake=client_hs, application=client_app, master=master)
    if config.client_auth != "none":
        return ExpectClientCertificate(config=config, secrets=secrets, server_app=server_app)
    return ExpectClientFinished(config=config, secrets=secrets, server_app=server_app, client_proof=None)


def _encrypted_extensions(
    ctx: HandshakeContext, hello: ClientHello, out: Output
) -> tuple[Extension | OpaqueExtension, ...]:
    exts: list[Extension | OpaqueExtension] = []
    if find(hello.extensions, ServerNameList) is not None:
        exts.append(ServerNameAck())
    if ctx.alpn_protocol is not None:
        exts.append(ApplicationLayerProtocolNegotiation(protocols=(ctx.alpn_protocol.encode("latin-1"),)))
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
    expects: ClassVar[tuple[type, ...]] = (Certificate13,)
    config: ServerConfig
    secrets: ClientSecrets
    server_app: bytes

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Certificate13)
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
                    hello_retry=ctx.hello_retry,
                )
            )
        )
        return Traffic.for_server(
            params=params,
            read_secret=self.secrets.application,
            write_secret=self.server_app,
            resumption_master_secret=resumption,
            client_proof=self.client_proof,
            finished=finished,
        )
