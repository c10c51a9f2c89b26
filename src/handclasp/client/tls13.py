"""Client side of the TLS 1.3 encrypted flight (RFC 8446 §4.3-§4.4).

Theory of operation:

    ExpectEncryptedExtensions
      -> ExpectCertificateOrCertificateRequest
           [CertificateRequest] -> ExpectCertificate
      -> ExpectCertificateVerify -> ExpectFinished
    (PSK handshake, RFC 8446 §2.2: ExpectEncryptedExtensions -> ExpectFinished, no certificates)
      -> (send [Certificate, CertificateVerify], Finished) -> common.traffic.Traffic

Rules: every received message is added to the transcript *after* the checks that
need the hash before it; ``Traffic`` is only built with the three proof tokens
(certificate, signature, Finished).  This file never touches the record layer
except through ``Output``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import ClassVar

from handclasp.common.certcompress import offered_algorithms, received_certificate, send_certificate
from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.stapling import check_server_status
from handclasp.common.traffic import FinishedVerified, PskAccepted, Traffic, log_application_secrets
from handclasp.config import ClientConfig
from handclasp.crypto.schedule13 import HandshakeSecret, finished_verify_data
from handclasp.crypto.signatures import (
    SignatureVerified,
    certificate_verify_content,
    schemes_for_key,
    sign,
    verify,
)
from handclasp.crypto.transcript import Transcript
from handclasp.errors import Misbehaviour, PeerMisbehaved
from handclasp.events import EarlyDataRejected, HandshakeComplete
from handclasp.negotiated import Negotiated
from handclasp.sessions.store import Session
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import ProtocolVersion, SignatureScheme
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    EarlyDataIndication,
    MaxFragmentLengthExt,
    RecordSizeLimit,
    SignatureAlgorithms,
    find,
    types_of,
)
from handclasp.wire.handshake import (
    Certificate13,
    CertificateEntry,
    CertificateRequest13,
    CertificateVerify,
    ClientHello,
    CompressedCertificate,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    Message,
)
from handclasp.x509.verify import CertificateVerified


@dataclass(frozen=True, slots=True)
class ClientEarlyData:
    """0-RTT still in play at ServerHello: the ticket it rode on, and whether the server chose it."""

    session: Session
    selected_first: bool  # the server selected identity 0, the ticket (RFC 8446 §4.2.10)


@dataclass(frozen=True, slots=True)
class HandshakeKeys:
    secret: HandshakeSecret
    client: bytes
    server: bytes
    psk: PskAccepted | None = None
    early_data: ClientEarlyData | None = None  # set: our write key is still the early one


@dataclass(frozen=True, slots=True)
class ExpectEncryptedExtensions:
    expects: ClassVar[tuple[type, ...]] = (EncryptedExtensions,)
    config: ClientConfig
    hello: ClientHello
    keys: HandshakeKeys

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, EncryptedExtensions)
        offered = types_of(self.hello.extensions)
        for ext in msg.extensions:
            # RFC 8446 §4.2: only extensions the client offered may appear in a response.
            if ext.extension_type not in offered:
                raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, ext.extension_type.name)
        alpn = find(msg.extensions, ApplicationLayerProtocolNegotiation)
        if alpn is not None:
            # RFC 7301 §3.1: exactly one protocol, one the client offered.
            if len(alpn.protocols) != 1 or alpn.protocols[0].decode("latin-1") not in self.config.alpn_protocols:
                raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_ALPN)
            ctx.alpn_protocol = alpn.protocols[0].decode("latin-1")
        size_limit = find(msg.extensions, RecordSizeLimit)
        fragment = find(msg.extensions, MaxFragmentLengthExt)
        if fragment is not None and size_limit is not None:
            # RFC 8449 §5: a client MUST treat receipt of both as fatal.
            raise PeerMisbehaved(Misbehaviour.BOTH_RECORD_SIZE_LIMIT_AND_MAX_FRAGMENT_LENGTH)
        if fragment is not None and self.config.max_fragment_length != 1 << (8 + fragment.code):
            # RFC 6066 §4: the server must echo the requested value.
            raise PeerMisbehaved(Misbehaviour.MAX_FRAGMENT_LENGTH_MISMATCH)
        if size_limit is not None:
            # RFC 8449 §4: in TLS 1.3 the limit counts the inner content type byte.
            out.set_write_record_limit(min(2**14, size_limit.limit - 1))
        elif fragment is not None:
            out.set_write_record_limit(1 << (8 + fragment.code))
        if self.keys.early_data is not None:
            _check_early_data_answer(ctx, self.keys.early_data, find(msg.extensions, EarlyDataIndication), out)
        _transcript(ctx).update(raw)
        if self.keys.psk is not None:
            # RFC 8446 §4.3.2, §2.2: a PSK handshake has no CertificateRequest, Certificate or CertificateVerify.
            return ExpectFinished(config=self.config, keys=self.keys, request=None, certificate=None, signature=None)
        return ExpectCertificateOrCertificateRequest(config=self.config, hello=self.hello, keys=self.keys)


@dataclass(frozen=True, slots=True)
class ExpectCertificateOrCertificateRequest:
    expects: ClassVar[tuple[type, ...]] = (Certificate13, CompressedCertificate, CertificateRequest13)
    config: ClientConfig
    hello: ClientHello
    keys: HandshakeKeys

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        if isinstance(msg, CertificateRequest13):
            # RFC 8446 §4.3.2: in the handshake the context is empty; signature_algorithms is required.
            if msg.certificate_request_context:
                raise PeerMisbehaved(Misbehaviour.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT)
            if find(msg.extensions, SignatureAlgorithms) is None:
                raise PeerMisbehaved(Misbehaviour.MISSING_SIGNATURE_ALGORITHMS)
            ctx.client_certificate_requested = True
            _transcript(ctx).update(raw)
            return ExpectCertificate(config=self.config, hello=self.hello, keys=self.keys, request=msg)
        return ExpectCertificate(config=self.config, hello=self.hello, keys=self.keys, request=None).handle(
            ctx, msg, raw, out
        )


@dataclass(frozen=True, slots=True)
class ExpectCertificate:
    expects: ClassVar[tuple[type, ...]] = (Certificate13, CompressedCertificate)
    config: ClientConfig
    hello: ClientHello
    keys: HandshakeKeys
    request: CertificateRequest13 | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Certificate13 | CompressedCertificate)
        # RFC 8879 §4: a CompressedCertificate is checked as the Certificate it carries; raw stays as sent.
        algorithms = offered_algorithms(self.hello.extensions)
        msg, ctx.certificate_compression = received_certificate(msg, algorithms, self.config.max_handshake_message_size)
        # RFC 8446 §4.4.2: the server's context is empty and its list is never empty (decode_error).
        if msg.certificate_request_context:
            raise PeerMisbehaved(Misbehaviour.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT)
        if not msg.certificate_list:
            raise PeerMisbehaved(Misbehaviour.NO_CERTIFICATE_FROM_SERVER)
        offered = types_of(self.hello.extensions)
        for entry in msg.certificate_list:
            for ext in entry.extensions:
                if ext.extension_type not in offered:
                    raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, ext.extension_type.name)
        chain = [entry.cert_data for entry in msg.certificate_list]
        verified = self.config.server_verifier.verify_server(chain, ctx.server_name, ctx.provider.now())
        ctx.peer_certificates = verified.chain
        # RFC 8446 §4.4.2.1: the leaf's OCSP staple (and SCTs); other entries' status is ignored.
        check_server_status(ctx, self.config, verified, msg.certificate_list[0].extensions)
        _transcript(ctx).update(raw)
        return ExpectCertificateVerify(
            config=self.config, keys=self.keys, request=self.request, certificate=verified
        )


@dataclass(frozen=True, slots=True)
class ExpectCertificateVerify:
    expects: ClassVar[tuple[type, ...]] = (CertificateVerify,)
    config: ClientConfig
    keys: HandshakeKeys
    request: CertificateRequest13 | None
    certificate: CertificateVerified

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, CertificateVerify)
        # RFC 8446 §4.4.3: the scheme must be one we offered in signature_algorithms.
        if msg.algorithm not in self.config.signature_schemes:
            raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, msg.algorithm.name)
        transcript = _transcript(ctx)
        content = certificate_verify_content(True, transcript.digest())
        signature = verify(msg.algorithm, self.certificate.chain[0].public_key(), content, msg.signature)
        ctx.signature_scheme = msg.algorithm
        transcript.update(raw)
        return ExpectFinished(
            config=self.config, keys=self.keys, request=self.request, certificate=self.certificate, signature=signature
        )


@dataclass(frozen=True, slots=True)
class ExpectFinished:
    expects: ClassVar[tuple[type, ...]] = (Finished,)
    config: ClientConfig
    keys: HandshakeKeys
    request: CertificateRequest13 | None
    certificate: CertificateVerified | None
    signature: SignatureVerified | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Finished)
        params = ctx.suite()
        transcript = _transcript(ctx)
        expected = finished_verify_data(params, self.keys.server, transcript.digest())
        # RFC 8446 §4.4.4: a wrong verify_data is decrypt_error.
        if not hmac.compare_digest(expected, msg.verify_data):
            raise PeerMisbehaved(Misbehaviour.BAD_FINISHED)
        finished = FinishedVerified._issue()
        transcript.update(raw)
        server_finished_hash = transcript.digest()
        master = self.keys.secret.master()
        client_app = master.client_application_traffic_secret_0(server_finished_hash)
        server_app = master.server_application_traffic_secret_0(server_finished_hash)
        ctx.exporter_master_secret = master.exporter_master_secret(server_finished_hash)
        log_application_secrets(out, client_app, server_app, ctx.exporter_master_secret)
        out.set_read_key(params, server_app)
        if self.keys.early_data is not None:
            if ctx.early_data_accepted:
                # RFC 8446 §4.5: after the server's Finished, EndOfEarlyData under the early key.
                transcript.update(out.send(EndOfEarlyData()))
            out.set_write_key(params, self.keys.client)
            ctx.early_data_limit = 0

        if self.request is not None:
            self._send_client_certificate(ctx, self.request, out)
        verify_data = finished_verify_data(params, self.keys.client, transcript.digest())
        transcript.update(out.send(Finished(verify_data=verify_data)))
        out.set_write_key(params, client_app)
        ctx.master = master
        resumption = master.resumption_master_secret(transcript.digest())
        out.emit(HandshakeComplete(_negotiated(ctx)))
        return Traffic.for_client(
            params=params,
            read_secret=server_app,
            write_secret=client_app,
            resumption_master_secret=resumption,
            certificate=self.certificate,
            signature=self.signature,
            finished=finished,
            psk=self.keys.psk,
        )

    def _send_client_certificate(self, ctx: HandshakeContext, request: CertificateRequest13, out: Output) -> None:
        """RFC 8446 §4.4.2: send our chain if a scheme fits the request, else an empty Certificate."""
        transcript = _transcript(ctx)
        certified, scheme = _choose_client_certificate(self.config, request)
        entries: tuple[CertificateEntry, ...] = ()
        if certified is not None and scheme is not None:
            entries = tuple(CertificateEntry(cert_data=der) for der in certified.chain_der)
        certificate = Certificate13(certificate_request_context=request.certificate_request_context, certificate_list=entries)
        offer = offered_algorithms(request.extensions)
        transcript.update(send_certificate(out, certificate, self.config.certificate_compression, offer))
        if certified is None or scheme is None:
            return
        content = certificate_verify_content(False, transcript.digest())
        signature = sign(scheme, certified.private_key, content)
        transcript.update(out.send(CertificateVerify(algorithm=scheme, signature=signature)))


def _choose_client_certificate(
    config: ClientConfig, request: CertificateRequest13
) -> tuple[CertifiedKey | None, SignatureScheme | None]:
    """RFC 8446 §4.4.2.3: the first certificate whose key can sign with a requested scheme."""
    algorithms = find(request.extensions, SignatureAlgorithms)
    offered = algorithms.schemes if algorithms is not None else ()
    for certified in config.client_certificates:
        for scheme in schemes_for_key(certified.private_key):
            if scheme in offered and scheme in config.signature_schemes:
                return certified, scheme
    return None, None


def _negotiated(ctx: HandshakeContext) -> Negotiated:
    return Negotiated(
        version=ProtocolVersion.TLS1_3,
        cipher_suite=ctx.suite().suite,
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


def _check_early_data_answer(
    ctx: HandshakeContext, early: ClientEarlyData, answer: EarlyDataIndication | None, out: Output
) -> None:
    """RFC 8446 §4.2.10: EncryptedExtensions says whether our 0-RTT data was accepted."""
    if answer is None:
        ctx.early_data_offered = False
        ctx.early_data_limit = 0
        out.emit(EarlyDataRejected())
        return
    # RFC 8446 §4.2.10: accepted 0-RTT needs identity 0 (else illegal_parameter), and was sent
    # under the ticket's suite and ALPN protocol, so the server must have kept both.
    if not early.selected_first:
        raise PeerMisbehaved(Misbehaviour.EARLY_DATA_ACCEPTED_FOR_OTHER_PSK)
    if ctx.suite().suite != early.session.cipher_suite:
        raise PeerMisbehaved(Misbehaviour.EARLY_DATA_PARAMETERS_CHANGED, "cipher suite")
    if ctx.alpn_protocol != early.session.alpn_protocol:
        raise PeerMisbehaved(Misbehaviour.EARLY_DATA_PARAMETERS_CHANGED, "ALPN protocol")
    ctx.early_data_accepted = True


def _transcript(ctx: HandshakeContext) -> Transcript:
    assert ctx.transcript is not None
    return ctx.transcript
