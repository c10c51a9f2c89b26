"""Client side of TLS 1.2 (RFC 5246 §7.3), after a ServerHello without supported_versions.

Theory of operation:

    full:        ServerHello -> ExpectCertificate12 -> [ExpectServerKeyExchange]
                 -> ExpectCertificateRequestOrServerHelloDone [-> ExpectServerHelloDone]
                 -> send [Certificate] ClientKeyExchange [CertificateVerify] CCS Finished
                 -> [ExpectNewSessionTicket12] -> ExpectChangeCipherSpec12 -> ExpectServerFinished12 -> Traffic12
    abbreviated: ServerHello (our session id echoed) -> [ExpectNewSessionTicket12]
                 -> ExpectChangeCipherSpec12 -> ExpectServerFinished12 -> send CCS Finished -> Traffic12

Rules: every message goes into ``Handshake12.messages`` after the checks that need
the messages before it; the read protection changes only on the peer's
ChangeCipherSpec, the write protection only right after ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.stapling import expect_certificate_status12
from handclasp.common.tls12 import CLIENT_RANDOM, Handshake12
from handclasp.common.traffic12 import FullHandshake, ResumedSession, RsaKeyTransport, Traffic12
from handclasp.config import ClientConfig
from handclasp.crypto.groups import DheKeyExchange, KeyExchange, generate_key_exchange
from handclasp.crypto.signatures import SignatureVerified, schemes_for_key12, sign, verify
from handclasp.crypto.suites12 import TLS12_SUITES, AuthAlgorithm, KeyExchangeAlgorithm
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.events import HandshakeComplete
from handclasp.negotiated import Negotiated
from handclasp.record.protection12 import Protection12
from handclasp.sessions.cache import ClientSession
from handclasp.sessions.store import Session
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import ClientCertificateType, ExtensionType, NamedGroup, ProtocolVersion
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    EncryptThenMac,
    ExtendedMasterSecret,
    MaxFragmentLengthExt,
    RecordSizeLimit,
    RenegotiationInfo,
    SessionTicketExt,
    find,
    types_of,
)
from handclasp.wire.handshake import DOWNGRADE_TLS11, ClientHello, Finished, Message, ServerHello
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
    decode_server_key_exchange,
    encode_client_key_exchange,
)
from handclasp.x509.verify import CertificateVerified


def start_tls12(
    ctx: HandshakeContext,
    config: ClientConfig,
    hello: ClientHello,
    hello_raw: bytes,
    server_hello: ServerHello,
    raw: bytes,
    out: Output,
    offered: ClientSession | None,
) -> State:
    """Handle a TLS 1.2 ServerHello (the version is already checked and allowed)."""
    version = server_hello.legacy_version
    suite = TLS12_SUITES.get(server_hello.cipher_suite)
    # RFC 5246 §7.4.1.3: the suite must be one we offered, usable at this version.
    if suite is None or server_hello.cipher_suite not in hello.cipher_suites or version < suite.min_version:
        raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_SUITE, server_hello.cipher_suite.name)
    if server_hello.legacy_compression_method != 0:
        raise PeerMisbehaved(Misbehaviour.NONZERO_COMPRESSION)
    offered_types = types_of(hello.extensions)
    for ext in server_hello.extensions:
        # RFC 5246 §7.4.1.4: no extension the client did not offer.
        if ext.extension_type not in offered_types:
            raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, ext.extension_type.name)
    _check_renegotiation_info(server_hello)
    ems = find(server_hello.extensions, ExtendedMasterSecret) is not None
    etm = find(server_hello.extensions, EncryptThenMac) is not None
    if etm and not suite.is_cbc:
        # RFC 7366 §2: never with an AEAD suite.
        raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, "encrypt_then_mac with an AEAD suite")
    if suite.is_cbc and not etm and not config.legacy_versions:
        raise PeerIncompatible(Incompatibility.NO_ENCRYPT_THEN_MAC, server_hello.cipher_suite.name)
    _negotiate_record_limits(config, server_hello, out)
    ctx.alpn_protocol = _alpn(config, server_hello)
    ctx.version = version
    if version < ProtocolVersion.TLS1_2:
        _enter_legacy_version(config, server_hello, out)
    hs = Handshake12(
        version=version,
        suite=suite,
        client_random=hello.random,
        server_random=server_hello.random,
        extended_master_secret=ems,
        encrypt_then_mac=etm,
        session_id=server_hello.legacy_session_id_echo,
    )
    hs.add(hello_raw)
    hs.add(raw)
    expects_ticket = find(server_hello.extensions, SessionTicketExt) is not None
    # RFC 6066 §8: a CertificateStatus may follow only if the ServerHello acknowledged status_request.
    expects_status = ExtensionType.STATUS_REQUEST in types_of(server_hello.extensions)

    if offered is not None and server_hello.legacy_session_id_echo == offered.session_id and offered.session_id:
        ctx.resumed = True
        ctx.offered_session = offered
        return _resume(ctx, config, hs, offered.session, expects_ticket, out)
    # RFC 7627 §5.4: without EMS the handshake is open to the triple handshake attack.
    if not ems and config.require_extended_master_secret:
        raise PeerIncompatible(Incompatibility.NO_EXTENDED_MASTER_SECRET)
    return ExpectCertificate12(config=config, hs=hs, expects_ticket=expects_ticket, expects_status=expects_status)


@dataclass(frozen=True, slots=True)
class Keys12:
    """The record protections a TLS 1.2 handshake installs after the ChangeCipherSpecs."""

    client_write: Protection12
    server_write: Protection12


def _resume(
    ctx: HandshakeContext, config: ClientConfig, hs: Handshake12, session: Session, expects_ticket: bool, out: Output
) -> State:
    # RFC 5246 §7.4.1.3 / RFC 7627 §5.3: same suite, same version, same EMS choice as the session.
    if session.cipher_suite != hs.suite.suite or session.version != hs.version:
        raise PeerMisbehaved(Misbehaviour.RESUMPTION_PARAMETERS_CHANGED, "suite or version")
    if session.extended_master_secret != hs.extended_master_secret:
        raise PeerMisbehaved(Misbehaviour.RESUMPTION_PARAMETERS_CHANGED, "extended_master_secret")
    hs.master_secret = session.master_secret
    out.log_secret(CLIENT_RANDOM, hs.master_secret)
    ctx.peer_certificates = _certificates(session)
    client_write, server_write = hs.protections(ctx.provider)
    keys = Keys12(client_write=client_write, server_write=server_write)
    proof = ResumedSession._issue()
    if expects_ticket:
        return ExpectNewSessionTicket12(config=config, hs=hs, keys=keys, proof=proof)
    return ExpectChangeCipherSpec12(config=config, hs=hs, keys=keys, proof=proof, ticket=None)


@dataclass(frozen=True, slots=True)
class ExpectCertificate12:
    expects: ClassVar[tuple[type, ...]] = (Certificate12,)
    config: ClientConfig
    hs: Handshake12
    expects_ticket: bool
    expects_status: bool = False

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Certificate12)
        # RFC 5246 §7.4.2: a non-anonymous suite needs the server's certificate.
        if not msg.certificate_list:
            raise PeerMisbehaved(Misbehaviour.NO_CERTIFICATE_FROM_SERVER)
        verified = self.config.server_verifier.verify_server(msg.certificate_list, ctx.server_name, ctx.provider.now())
        ctx.peer_certificates = verified.chain
        _check_key_fits_suite(self.hs, verified)
        self.hs.add(raw)
        following: State
        if self.hs.suite.kx is KeyExchangeAlgorithm.RSA:
            following = ExpectCertificateRequestOrServerHelloDone(
                config=self.config, hs=self.hs, expects_ticket=self.expects_ticket, certificate=verified, exchange=None
            )
        else:
            following = ExpectServerKeyExchange(config=self.config, hs=self.hs, expects_ticket=self.expects_ticket, certificate=verified)
        # RFC 6066 §8: a CertificateStatus (OCSP staple) may come first.
        return expect_certificate_status12(ctx, self.config, self.hs, verified, following, acknowledged=self.expects_status)


@dataclass(frozen=True, slots=True)
class ExpectServerKeyExchange:
    expects: ClassVar[tuple[type, ...]] = (ServerKeyExchange,)
    config: ClientConfig
    hs: Handshake12
    expects_ticket: bool
    certificate: CertificateVerified

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, ServerKeyExchange)
        hs = self.hs
        params = decode_server_key_exchange(msg.body, hs.suite.kx, hs.version)
        scheme = params.signed.algorithm
        public_key = self.certificate.chain[0].public_key()
        if hs.version < ProtocolVersion.TLS1_2:
            from handclasp.legacy.signatures10 import verify10

            # RFC 2246 §7.4.3 / RFC 4492 §5.4: no algorithm on the wire, the certificate's key decides.
            signature = verify10(public_key, hs.signed_params(params.params_bytes), params.signed.signature)
        else:
            # RFC 5246 §7.4.1.4.1: the scheme must be one we offered.
            if scheme is None or scheme not in self.config.tls12_signature_schemes:
                raise PeerMisbehaved(Misbehaviour.UNOFFERED_SIGNATURE_SCHEME, str(scheme))
            signature = verify(
                scheme, public_key, hs.signed_params(params.params_bytes), params.signed.signature, tls12=True
            )
        ctx.signature_scheme = scheme
        kx: KeyExchange
        if hs.suite.kx is KeyExchangeAlgorithm.ECDHE:
            group = params.named_group
            # RFC 8422 §5.4: the curve must be one we offered.
            # RFC 8422 §5.4 / RFC 7919 §4: only an elliptic curve we offered (never an FFDHE group).
            if group is None or group not in self.config.groups or group not in _EC_GROUPS:
                raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_GROUP, str(group))
            kx = generate_key_exchange(group, ctx.provider)
        else:
            assert params.dh_p is not None and params.dh_g is not None
            kx = DheKeyExchange.from_params(params.dh_p, params.dh_g, ctx.provider)
        shared = kx.exchange(params.public)
        ctx.group = group if hs.suite.kx is KeyExchangeAlgorithm.ECDHE else getattr(kx, "named_group", None)
        hs.add(raw)
        return ExpectCertificateRequestOrServerHelloDone(
            config=self.config,
            hs=hs,
            expects_ticket=self.expects_ticket,
            certificate=self.certificate,
            exchange=(kx.public_bytes, shared),
            signature=signature,
        )


@dataclass(frozen=True, slots=True)
class ExpectCertificateRequestOrServerHelloDone:
    expects: ClassVar[tuple[type, ...]] = (CertificateRequest12, CertificateRequest10, ServerHelloDone)
    config: ClientConfig
    hs: Handshake12
    expects_ticket: bool
    certificate: CertificateVerified
    exchange: tuple[bytes, bytes] | None  # (our public value, pre_master_secret); None for RSA
    signature: SignatureVerified | None = None
    request: CertificateRequest12 | CertificateRequest10 | None = None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        self.hs.add(raw)
        if isinstance(msg, CertificateRequest12 | CertificateRequest10):
            ctx.client_certificate_requested = True
            return ExpectServerHelloDone(
                config=self.config,
                hs=self.hs,
                expects_ticket=self.expects_ticket,
                certificate=self.certificate,
                exchange=self.exchange,
                signature=self.signature,
                request=msg,
            )
        assert isinstance(msg, ServerHelloDone)
        return _send_client_flight(ctx, self, out)


@dataclass(frozen=True, slots=True)
class ExpectServerHelloDone:
    expects: ClassVar[tuple[type, ...]] = (ServerHelloDone,)
    config: ClientConfig
    hs: Handshake12
    expects_ticket: bool
    certificate: CertificateVerified
    exchange: tuple[bytes, bytes] | None
    signature: SignatureVerified | None
    request: CertificateRequest12 | CertificateRequest10 | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, ServerHelloDone)
        self.hs.add(raw)
        return _send_client_flight(ctx, self, out)


def _send_client_flight(
    ctx: HandshakeContext, state: ExpectCertificateRequestOrServerHelloDone | ExpectServerHelloDone, out: Output
) -> State:
    """RFC 5246 §7.3: [Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished."""
    config, hs = state.config, state.hs
    certified, scheme = (None, None)
    if state.request is not None:
        certified, scheme = _choose_certificate(config, state.request)
        chain = certified.chain_der if certified is not None else ()
        hs.add(out.send(Certificate12(certificate_list=tuple(chain))))
    if state.exchange is not None:
        public, pre_master_secret = state.exchange
        body = encode_client_key_exchange(hs.suite.kx, public)
        server_proof: SignatureVerified | RsaKeyTransport = state.signature  # type: ignore[assignment]
    else:
        from handclasp.legacy.rsa_kx import encrypt_premaster

        public_key = state.certificate.chain[0].public_key()
        pre_master_secret, encrypted = encrypt_premaster(public_key, ctx.max_offered_version, ctx.provider)  # type: ignore[arg-type]
        body = encode_client_key_exchange(hs.suite.kx, encrypted)
        server_proof = RsaKeyTransport._issue()
    hs.add(out.send(ClientKeyExchange(body=body)))
    hs.derive_master_secret(pre_master_secret)
    out.log_secret(CLIENT_RANDOM, hs.master_secret)
    if certified is not None and scheme is not None:
        signature = sign(scheme, certified.private_key, bytes(hs.messages), tls12=True)
        hs.add(out.send(CertificateVerify12(algorithm=scheme, signature=signature)))
    elif certified is not None and hs.version < ProtocolVersion.TLS1_2:
        from handclasp.legacy.signatures10 import sign10

        # RFC 2246 §7.4.8: MD5+SHA-1 (RSA) or SHA-1 (ECDSA) of all handshake messages so far.
        hs.add(out.send(CertificateVerify10(signature=sign10(certified.private_key, bytes(hs.messages)))))
    client_write, server_write = hs.protections(ctx.provider)
    out.send_change_cipher_spec()
    out.set_write_protection12(client_write, hs.version)
    hs.add(out.send(Finished(verify_data=hs.finished(is_client=True))))
    keys = Keys12(client_write=client_write, server_write=server_write)
    proof = FullHandshake._issue(state.certificate, server_proof)
    if state.expects_ticket:
        return ExpectNewSessionTicket12(config=config, hs=hs, keys=keys, proof=proof)
    return ExpectChangeCipherSpec12(config=config, hs=hs, keys=keys, proof=proof, ticket=None)


@dataclass(frozen=True, slots=True)
class ExpectNewSessionTicket12:
    expects: ClassVar[tuple[type, ...]] = (NewSessionTicket12,)
    config: ClientConfig
    hs: Handshake12
    keys: Keys12
    proof: FullHandshake | ResumedSession

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, NewSessionTicket12)
        self.hs.add(raw)
        return ExpectChangeCipherSpec12(config=self.config, hs=self.hs, keys=self.keys, proof=self.proof, ticket=msg)


@dataclass(frozen=True, slots=True)
class ExpectChangeCipherSpec12:
    expects: ClassVar[tuple[type, ...]] = (ChangeCipherSpec,)
    config: ClientConfig
    hs: Handshake12
    keys: Keys12
    proof: FullHandshake | ResumedSession
    ticket: NewSessionTicket12 | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        out.set_read_protection12(self.keys.server_write, self.hs.version)
        return ExpectServerFinished12(
            config=self.config, hs=self.hs, keys=self.keys, proof=self.proof, ticket=self.ticket
        )


@dataclass(frozen=True, slots=True)
class ExpectServerFinished12:
    expects: ClassVar[tuple[type, ...]] = (Finished,)
    config: ClientConfig
    hs: Handshake12
    keys: Keys12
    proof: FullHandshake | ResumedSession
    ticket: NewSessionTicket12 | None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, Finished)
        hs = self.hs
        finished = hs.check_finished(msg.verify_data, from_client=False)
        hs.add(raw)
        resumed = isinstance(self.proof, ResumedSession)
        if resumed:
            # RFC 5246 §7.3: in the abbreviated handshake the client answers with CCS and Finished.
            out.send_change_cipher_spec()
            out.set_write_protection12(self.keys.client_write, hs.version)
            hs.add(out.send(Finished(verify_data=hs.finished(is_client=True))))
        offered = ctx.offered_session
        if resumed and self.ticket is None and isinstance(offered, ClientSession):
            # RFC 5077 §3.3: no new ticket, so the one we offered stays valid; keep the session as it was.
            out.remember_session(offered)
        else:
            ticket = self.ticket.ticket if self.ticket is not None and self.ticket.ticket else None
            out.remember_session(ClientSession(session=_session(ctx, hs, self.ticket), session_id=hs.session_id, ticket=ticket))
        ctx.exporter12 = (hs.prf_hash, hs.master_secret, hs.client_random + hs.server_random)
        out.emit(HandshakeComplete(_negotiated(ctx, hs, resumed)))
        return Traffic12.for_client(proof=self.proof, finished=finished)


def _session(ctx: HandshakeContext, hs: Handshake12, ticket: NewSessionTicket12 | None) -> Session:
    lifetime = ticket.ticket_lifetime_hint if ticket is not None and ticket.ticket_lifetime_hint else 7200
    return Session(
        version=hs.version,
        cipher_suite=hs.suite.suite,
        master_secret=hs.master_secret,
        extended_master_secret=hs.extended_master_secret,
        server_name=ctx.server_name,
        alpn_protocol=ctx.alpn_protocol,
        peer_certificates=tuple(c.public_bytes(Encoding.DER) for c in ctx.peer_certificates),
        created_at=ctx.provider.now(),
        lifetime=min(lifetime, 7 * 24 * 3600),
        encrypt_then_mac=hs.encrypt_then_mac,
    )


def _negotiated(ctx: HandshakeContext, hs: Handshake12, resumed: bool) -> Negotiated:
    return Negotiated(
        version=hs.version,
        cipher_suite=hs.suite.suite,
        group=ctx.group,
        signature_scheme=ctx.signature_scheme,
        alpn_protocol=ctx.alpn_protocol,
        server_name=ctx.server_name,
        peer_certificates=ctx.peer_certificates,
        client_certificate_requested=ctx.client_certificate_requested,
        resumed=resumed,
        extended_master_secret=hs.extended_master_secret,
        ocsp_response=ctx.ocsp_response,
    )


def _check_renegotiation_info(server_hello: ServerHello) -> None:
    info = find(server_hello.extensions, RenegotiationInfo)
    # RFC 5746 §3.4: the server must answer with an empty renegotiated_connection; a server
    # without it does not support secure renegotiation, which we refuse (as OpenSSL does).
    if info is None:
        raise PeerIncompatible(Incompatibility.NO_SECURE_RENEGOTIATION)
    if info.renegotiated_connection:
        raise PeerMisbehaved(Misbehaviour.BAD_RENEGOTIATION_INFO)


def _enter_legacy_version(config: ClientConfig, server_hello: ServerHello, out: Output) -> None:
    """TLS 1.0/1.1 chosen (legacy_versions is on, or the version check would have failed)."""
    # RFC 8446 §4.1.3: a TLS 1.2 client SHOULD check for the TLS 1.1-or-below sentinel too.
    if ProtocolVersion.TLS1_2 in config.allowed_versions and server_hello.random[-8:] == DOWNGRADE_TLS11:
        raise PeerMisbehaved(Misbehaviour.DOWNGRADE_DETECTED, server_hello.legacy_version.name)
    from handclasp.legacy.framing10 import NullProtection10

    # RFC 2246 §6.2.1 / RFC 4346 §6.2.1: our records carry the negotiated version from now on.
    out.set_write_protection12(NullProtection10(), server_hello.legacy_version)


def _negotiate_record_limits(config: ClientConfig, server_hello: ServerHello, out: Output) -> None:
    size_limit = find(server_hello.extensions, RecordSizeLimit)
    fragment = find(server_hello.extensions, MaxFragmentLengthExt)
    if fragment is not None and size_limit is not None:
        raise PeerMisbehaved(Misbehaviour.BOTH_RECORD_SIZE_LIMIT_AND_MAX_FRAGMENT_LENGTH)
    if fragment is not None and config.max_fragment_length != 1 << (8 + fragment.code):
        raise PeerMisbehaved(Misbehaviour.MAX_FRAGMENT_LENGTH_MISMATCH)
    if size_limit is not None:
        # RFC 8449 §4: in TLS 1.2 the limit is the plaintext size.
        out.set_write_record_limit(min(2**14, size_limit.limit))
    elif fragment is not None:
        out.set_write_record_limit(1 << (8 + fragment.code))


def _alpn(config: ClientConfig, server_hello: ServerHello) -> str | None:
    alpn = find(server_hello.extensions, ApplicationLayerProtocolNegotiation)
    if alpn is None:
        return None
    if len(alpn.protocols) != 1 or alpn.protocols[0].decode("latin-1") not in config.alpn_protocols:
        raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_ALPN)
    return alpn.protocols[0].decode("latin-1")


def _check_key_fits_suite(hs: Handshake12, verified: CertificateVerified) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    key = verified.chain[0].public_key()
    auth = hs.suite.auth
    if auth is AuthAlgorithm.ECDSA and hs.version < ProtocolVersion.TLS1_2:
        fits = isinstance(key, ec.EllipticCurvePublicKey)  # RFC 8422 §5.1.3: EdDSA only from TLS 1.2 on
    elif auth is AuthAlgorithm.ECDSA:
        fits = isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    else:
        fits = isinstance(key, rsa.RSAPublicKey)
    # RFC 5246 §7.4.2: the certificate's key must suit the negotiated suite.
    if not fits:
        raise PeerIncompatible(Incompatibility.UNSUPPORTED_CERTIFICATE, f"{type(key).__name__} for {hs.suite.suite.name}")


def _choose_certificate(config: ClientConfig, request: CertificateRequest12 | CertificateRequest10):  # type: ignore[no-untyped-def]
    if isinstance(request, CertificateRequest10):
        return _choose_certificate10(config, request), None
    offered = request.supported_signature_algorithms
    for certified in config.client_certificates:
        for scheme in schemes_for_key12(certified.private_key):
            if scheme in offered and scheme in config.tls12_signature_schemes:
                return certified, scheme
    return None, None


def _choose_certificate10(config: ClientConfig, request: CertificateRequest10) -> CertifiedKey | None:
    """RFC 2246 §7.4.4 / RFC 4492 §5.5: a certificate whose key type the server listed (no schemes)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from handclasp.legacy.signatures10 import can_sign10

    for certified in config.client_certificates:
        key = certified.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            wanted = ClientCertificateType.RSA_SIGN
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            wanted = ClientCertificateType.ECDSA_SIGN
        else:
            continue
        if wanted in request.certificate_types and can_sign10(key):
            return certified
    return None


_EC_GROUPS = frozenset(
    {NamedGroup.X25519, NamedGroup.X448, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.SECP521R1}
)


def _certificates(session: Session) -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_der_x509_certificate(der) for der in session.peer_certificates)
