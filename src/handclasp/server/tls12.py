"""Server side of TLS 1.2 (RFC 5246 §7.3), entered once version negotiation chose TLS 1.2 or older.

Theory of operation:

    full:        ClientHello -> ServerHello Certificate [ServerKeyExchange] [CertificateRequest]
                 ServerHelloDone -> [ExpectClientCertificate12] -> ExpectClientKeyExchange
                 -> [ExpectClientCertificateVerify12] -> ExpectClientChangeCipherSpec
                 -> ExpectClientFinished12 -> [NewSessionTicket] CCS Finished -> Traffic12
    abbreviated: ClientHello (known session id or ticket) -> ServerHello [NewSessionTicket] CCS Finished
                 -> ExpectClientChangeCipherSpec -> ExpectClientFinished12 -> Traffic12

The choices (suite, certificate, scheme, group, session) are made in
``server/select12.py``; this file builds the flights and checks the client's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.tls12 import CLIENT_RANDOM, Handshake12
from handclasp.common.traffic12 import FullHandshake, ResumedSession, Traffic12
from handclasp.config import ServerConfig
from handclasp.crypto.groups import KeyExchange
from handclasp.crypto.signatures import sign, verify
from handclasp.crypto.suites12 import KeyExchangeAlgorithm
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.events import HandshakeComplete
from handclasp.negotiated import Negotiated
from handclasp.record.protection12 import Protection12
from handclasp.server.select12 import Choice12, Resumption, choose_tls12, find_session
from handclasp.sessions.store import Session
from handclasp.wire.enums import ClientCertificateType, ECPointFormat, ProtocolVersion
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    ECPointFormats,
    EncryptThenMac,
    ExtendedMasterSecret,
    Extension,
    MaxFragmentLengthExt,
    OpaqueExtension,
    RecordSizeLimit,
    RenegotiationInfo,
    ServerNameAck,
    ServerNameList,
    SessionTicketExt,
    find,
)
from handclasp.wire.handshake import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    ClientHello,
    Finished,
    Message,
    ServerHello,
)
from handclasp.wire.handshake12 import (
    Certificate12,
    CertificateRequest10,
    CertificateRequest12,
    CertificateVerify10,
    CertificateVerify12,
    ChangeCipherSpec,
    ClientKeyExchange,
    NewSessionTicket12,
    ServerHelloDone,
    ServerKeyExchange,
    decode_client_key_exchange,
    encode_server_key_exchange,
)
from handclasp.x509.verify import CertificateVerified


def start_tls12_server(
    ctx: HandshakeContext, config: ServerConfig, hello: ClientHello, raw: bytes, version: ProtocolVersion, out: Output
) -> State:
    ctx.version = version
    ctx.client_random = hello.random
    info = find(hello.extensions, RenegotiationInfo)
    # RFC 5746 §3.6: on an initial handshake renegotiated_connection must be empty.
    if info is not None and info.renegotiated_connection:
        raise PeerMisbehaved(Misbehaviour.BAD_RENEGOTIATION_INFO)
    sni = find(hello.extensions, ServerNameList)
    ctx.server_name = sni.host_name.lower() if sni is not None else None
    resumption = find_session(ctx, config, hello, version)
    if resumption is not None:
        return _resume(ctx, config, hello, raw, version, resumption, out)
    choice = choose_tls12(ctx, config, hello, version)
    return _full(ctx, config, hello, raw, version, choice, out)


def _server_random(ctx: HandshakeContext, config: ServerConfig, version: ProtocolVersion) -> bytes:
    random = ctx.provider.random(32)
    # RFC 8446 §4.1.3: a TLS 1.3-capable server marks a lower version in ServerHello.random,
    # and a TLS 1.2 server SHOULD mark TLS 1.1 or below.
    if ProtocolVersion.TLS1_3 in config.allowed_versions:
        sentinel = DOWNGRADE_TLS12 if version == ProtocolVersion.TLS1_2 else DOWNGRADE_TLS11
        random = random[:24] + sentinel
    elif version < ProtocolVersion.TLS1_2 and ProtocolVersion.TLS1_2 in config.allowed_versions:
        random = random[:24] + DOWNGRADE_TLS11
    return random


def _enter_version(version: ProtocolVersion, out: Output) -> None:
    """RFC 2246 §6.2.1 / RFC 4346 §6.2.1: from ServerHello on, our records carry the chosen version."""
    if version < ProtocolVersion.TLS1_2:  # TLS 1.2's 0x0303 is the record layer's default
        from handclasp.legacy.framing10 import NullProtection10

        out.set_write_protection12(NullProtection10(), version)


def _server_hello_extensions(
    ctx: HandshakeContext,
    config: ServerConfig,
    hello: ClientHello,
    *,
    ems: bool,
    etm: bool,
    ticket: bool,
    ecc: bool,
    out: Output,
) -> tuple[Extension | OpaqueExtension, ...]:
    exts: list[Extension | OpaqueExtension] = [RenegotiationInfo(renegotiated_connection=b"")]
    if ems:
        exts.append(ExtendedMasterSecret())
    if etm:
        exts.append(EncryptThenMac())
    if ticket:
        exts.append(SessionTicketExt(ticket=b""))
    if ecc and find(hello.extensions, ECPointFormats) is not None:
        exts.append(ECPointFormats(formats=(ECPointFormat.UNCOMPRESSED,)))
    if ctx.server_name is not None:
        exts.append(ServerNameAck())
    if ctx.alpn_protocol is not None:
        exts.append(ApplicationLayerProtocolNegotiation(protocols=(ctx.alpn_protocol.encode("latin-1"),)))
    size_limit = find(hello.extensions, RecordSizeLimit)
    fragment = find(hello.extensions, MaxFragmentLengthExt)
    if size_limit is not None:
        out.set_write_record_limit(min(2**14, size_limit.limit))  # RFC 8449 §4: plaintext bytes in TLS 1.2
        exts.append(RecordSizeLimit(limit=2**14))
    elif fragment is not None:
        out.set_write_record_limit(1 << (8 + fragment.code))
        exts.append(MaxFragmentLengthExt(code=fragment.code))
    return tuple(exts)


def _full(
    ctx: HandshakeContext,
    config: ServerConfig,
    hello: ClientHello,
    raw: bytes,
    version: ProtocolVersion,
    choice: Choice12,
    out: Output,
) -> State:
    suite = choice.suite
    session_id = ctx.provider.random(32) if config.session_store is not None else b""
    ticket = choice.issue_ticket
    hs = Handshake12(
        version=version,
        suite=suite,
        client_random=hello.random,
        server_random=_server_random(ctx, config, version),
        extended_master_secret=choice.extended_master_secret,
        encrypt_then_mac=choice.encrypt_then_mac,
        session_id=session_id,
    )
    hs.add(raw)
    _enter_version(version, out)
    server_hello = ServerHello(
        legacy_version=version,
        random=hs.server_random,
        legacy_session_id_echo=session_id,
        cipher_suite=suite.suite,
        extensions=_server_hello_extensions(
            ctx, config, hello, ems=choice.extended_master_secret, etm=choice.encrypt_then_mac, ticket=ticket,
            ecc=choice.group is not None and suite.kx is KeyExchangeAlgorithm.ECDHE, out=out,
        ),
    )
    hs.add(out.send(server_hello))
    hs.add(out.send(Certificate12(certificate_list=tuple(choice.certified.chain_der))))
    exchange: KeyExchange | None = None
    if suite.kx is not KeyExchangeAlgorithm.RSA:
        assert choice.key_exchange is not None
        exchange = choice.key_exchange
        ctx.group = exchange.group
        ctx.signature_scheme = choice.scheme
        body = encode_server_key_exchange(
            suite.kx, exchange, choice.scheme, _params_signer(hs, choice), version  # type: ignore[arg-type]
        )
        hs.add(out.send(ServerKeyExchange(body=body)))
    if config.client_auth != "none":
        ctx.client_certificate_requested = True
        hs.add(out.send(_certificate_request(config, version)))
    hs.add(out.send(ServerHelloDone()))
    flight = Flight12(config=config, hs=hs, choice=choice, exchange=exchange, client_version=hello.legacy_version)
    if config.client_auth != "none":
        return ExpectClientCertificate12(flight=flight)
    return ExpectClientKeyExchange(flight=flight, client_certificate=None)


def _resume(
    ctx: HandshakeContext,
    config: ServerConfig,
    hello: ClientHello,
    raw: bytes,
    version: ProtocolVersion,
    resumption: Resumption,
    out: Output,
) -> State:
    session = resumption.session
    from handclasp.crypto.suites12 import TLS12_SUITES

    suite = TLS12_SUITES[session.cipher_suite]
    hs = Handshake12(
        version=version,
        suite=suite,
        client_random=hello.random,
        server_random=_server_random(ctx, config, version),
        extended_master_secret=session.extended_master_secret,
        encrypt_then_mac=session.encrypt_then_mac,
        session_id=hello.legacy_session_id,
        master_secret=session.master_secret,
    )
    hs.add(raw)
    _enter_version(version, out)
    ctx.resumed = True
    ctx.alpn_protocol = resumption.alpn_protocol
    ctx.peer_certificates = resumption.peer_certificates
    server_hello = ServerHello(
        legacy_version=version,
        random=hs.server_random,
        legacy_session_id_echo=hello.legacy_session_id,
        cipher_suite=suite.suite,
        extensions=_server_hello_extensions(
            ctx, config, hello, ems=session.extended_master_secret, etm=session.encrypt_then_mac,
            ticket=resumption.renew_ticket, ecc=False, out=out,
        ),
    )
    hs.add(out.send(server_hello))
    out.log_secret(CLIENT_RANDOM, hs.master_secret)
    if resumption.renew_ticket:
        hs.add(out.send(_new_ticket(ctx, config, session)))
    client_write, server_write = hs.protections(ctx.provider)
    out.send_change_cipher_spec()
    out.set_write_protection12(server_write, version)
    hs.add(out.send(Finished(verify_data=hs.finished(is_client=False))))
    return ExpectClientChangeCipherSpec(
        config=config, hs=hs, client_write=client_write, server_write=None, session=None, issue_ticket=False,
        proof=ResumedSession._issue(),
    )


def _params_signer(hs: Handshake12, choice: Choice12) -> Callable[[bytes], bytes]:
    """How ServerKeyExchange signs client_random + server_random + params (RFC 5246 §7.4.3)."""
    key = choice.certified.private_key
    if hs.version < ProtocolVersion.TLS1_2:
        from handclasp.legacy.signatures10 import sign10

        # RFC 2246 §7.4.3 / RFC 4492 §5.4: MD5+SHA-1 for RSA, SHA-1 for ECDSA; no algorithm field.
        return lambda params: sign10(key, hs.signed_params(params))
    scheme = choice.scheme
    assert scheme is not None
    return lambda params: sign(scheme, key, hs.signed_params(params), tls12=True)


def _certificate_request(config: ServerConfig, version: ProtocolVersion) -> CertificateRequest12 | CertificateRequest10:
    types = (ClientCertificateType.RSA_SIGN, ClientCertificateType.ECDSA_SIGN)  # RFC 8422 §5.5
    if version < ProtocolVersion.TLS1_2:
        # RFC 2246 / RFC 4346 §7.4.4: no supported_signature_algorithms before TLS 1.2.
        return CertificateRequest10(certificate_types=types, certificate_authorities=())
    return CertificateRequest12(
        certificate_types=types, supported_signature_algorithms=config.tls12_signature_schemes, certificate_authorities=()
    )


@dataclass(frozen=True, slots=True)
class Flight12:
    """What the server's full-handshake flight decided, for the client's answers."""

    config: ServerConfig
    hs: Handshake12
    choice: Choice12
    exchange: KeyExchange | None
    client_version: ProtocolVersion


@dataclass(frozen=True, slots=True)
class ExpectClientCertificate12:
    expects: ClassVar[tuple[type, ...]] = (Certificate12,)
    flight: Flight12

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Certificate12)
        config = self.flight.config
        if not msg.certificate_list:
            # RFC 5246 §7.4.6: no certificate when one is required ends the handshake.
            if config.client_auth == "require":
                # RFC 5246 §7.4.6: handshake_failure (certificate_required exists only in TLS 1.3).
                raise PeerIncompatible(Incompatibility.NO_CLIENT_CERTIFICATE)
            self.flight.hs.add(raw)
            return ExpectClientKeyExchange(flight=self.flight, client_certificate=None)
        verifier = config.resolved_client_verifier
        assert verifier is not None
        verified = verifier.verify_client(msg.certificate_list, ctx.provider.now())
        ctx.peer_certificates = verified.chain
        self.flight.hs.add(raw)
        return ExpectClientKeyExchange(flight=self.flight, client_certificate=verified)


@dataclass(frozen=True, slots=True)
class ExpectClientKeyExchange:
    expects: ClassVar[tuple[type, ...]] = (ClientKeyExchange,)
    flight: Flight12
    client_certificate: CertificateVerified | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, ClientKeyExchange)
        flight = self.flight
        hs = flight.hs
        value = decode_client_key_exchange(msg.body, hs.suite.kx)
        if flight.exchange is not None:
            pre_master_secret = flight.exchange.exchange(value)
        else:
            from handclasp.legacy.rsa_kx import decrypt_premaster

            # RFC 5246 §7.4.7.1: never fail here; a bad ciphertext yields a random premaster.
            pre_master_secret = decrypt_premaster(
                flight.choice.certified.private_key,  # type: ignore[arg-type]
                value,
                flight.client_version,
                ctx.provider,
            )
        hs.add(raw)
        hs.derive_master_secret(pre_master_secret)
        out.log_secret(CLIENT_RANDOM, hs.master_secret)
        if self.client_certificate is not None:
            return ExpectClientCertificateVerify12(flight=flight, client_certificate=self.client_certificate)
        return _expect_ccs(ctx, flight, proof=None)


@dataclass(frozen=True, slots=True)
class ExpectClientCertificateVerify12:
    expects: ClassVar[tuple[type, ...]] = (CertificateVerify12, CertificateVerify10)
    flight: Flight12
    client_certificate: CertificateVerified

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        hs = self.flight.hs
        if isinstance(msg, CertificateVerify10):
            from handclasp.legacy.signatures10 import verify10

            # RFC 2246 §7.4.8: the signature over all handshake messages so far, the key's legacy form.
            public_key = self.client_certificate.chain[0].public_key()
            legacy_signature = verify10(public_key, bytes(hs.messages), msg.signature)
            hs.add(raw)
            return _expect_ccs(ctx, self.flight, proof=FullHandshake._issue(self.client_certificate, legacy_signature))
        assert isinstance(msg, CertificateVerify12)
        # RFC 5246 §7.4.8: a scheme from our CertificateRequest, over all messages so far.
        if msg.algorithm not in self.flight.config.tls12_signature_schemes:
            raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, str(msg.algorithm))
        signature = verify(
            msg.algorithm, self.client_certificate.chain[0].public_key(), bytes(hs.messages), msg.signature, tls12=True
        )
        hs.add(raw)
        return _expect_ccs(ctx, self.flight, proof=FullHandshake._issue(self.client_certificate, signature))


def _expect_ccs(ctx: HandshakeContext, flight: Flight12, proof: FullHandshake | None) -> State:
    client_write, server_write = flight.hs.protections(ctx.provider)
    session = _session(ctx, flight)
    return ExpectClientChangeCipherSpec(
        config=flight.config, hs=flight.hs, client_write=client_write, server_write=server_write, session=session,
        issue_ticket=flight.choice.issue_ticket, proof=proof,
    )


@dataclass(frozen=True, slots=True)
class ExpectClientChangeCipherSpec:
    expects: ClassVar[tuple[type, ...]] = (ChangeCipherSpec,)
    config: ServerConfig
    hs: Handshake12
    client_write: Protection12
    server_write: Protection12 | None  # None: already installed (abbreviated handshake)
    session: Session | None  # a new session to store or seal (full handshake)
    issue_ticket: bool
    proof: FullHandshake | ResumedSession | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        out.set_read_protection12(self.client_write, self.hs.version)
        return ExpectClientFinished12(
            config=self.config, hs=self.hs, server_write=self.server_write, session=self.session,
            issue_ticket=self.issue_ticket, proof=self.proof,
        )


@dataclass(frozen=True, slots=True)
class ExpectClientFinished12:
    expects: ClassVar[tuple[type, ...]] = (Finished,)
    config: ServerConfig
    hs: Handshake12
    server_write: Protection12 | None
    session: Session | None
    issue_ticket: bool
    proof: FullHandshake | ResumedSession | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Finished)
        hs = self.hs
        finished = hs.check_finished(msg.verify_data, from_client=True)
        hs.add(raw)
        if self.server_write is not None:
            session = self.session
            assert session is not None
            if hs.session_id and self.config.session_store is not None:
                self.config.session_store.put(hs.session_id, session)
            if self.issue_ticket:
                hs.add(out.send(_new_ticket(ctx, self.config, session)))
            out.send_change_cipher_spec()
            out.set_write_protection12(self.server_write, hs.version)
            hs.add(out.send(Finished(verify_data=hs.finished(is_client=False))))
        ctx.exporter12 = (hs.prf_hash, hs.master_secret, hs.client_random + hs.server_random)
        out.emit(HandshakeComplete(_negotiated(ctx, hs)))
        client_proof = self.proof if self.proof is not None else None
        return Traffic12.for_server(client_proof=client_proof, finished=finished)


def _new_ticket(ctx: HandshakeContext, config: ServerConfig, session: Session) -> NewSessionTicket12:
    assert config.ticket_keys is not None
    ticket = config.ticket_keys.seal(session, ctx.provider.now())
    return NewSessionTicket12(ticket_lifetime_hint=session.lifetime, ticket=ticket)


def _session(ctx: HandshakeContext, flight: Flight12) -> Session:
    from cryptography.hazmat.primitives.serialization import Encoding

    hs = flight.hs
    return Session(
        version=hs.version,
        cipher_suite=hs.suite.suite,
        master_secret=hs.master_secret,
        extended_master_secret=hs.extended_master_secret,
        server_name=ctx.server_name,
        alpn_protocol=ctx.alpn_protocol,
        peer_certificates=tuple(c.public_bytes(Encoding.DER) for c in ctx.peer_certificates),
        created_at=ctx.provider.now(),
        lifetime=flight.config.session_lifetime,
        encrypt_then_mac=hs.encrypt_then_mac,
    )


def _negotiated(ctx: HandshakeContext, hs: Handshake12) -> Negotiated:
    return Negotiated(
        version=hs.version,
        cipher_suite=hs.suite.suite,
        group=ctx.group,
        signature_scheme=ctx.signature_scheme,
        alpn_protocol=ctx.alpn_protocol,
        server_name=ctx.server_name,
        peer_certificates=ctx.peer_certificates,
        client_certificate_requested=ctx.client_certificate_requested,
        resumed=ctx.resumed,
        extended_master_secret=hs.extended_master_secret,
    )
