"""Client hello phase: build ClientHello, handle HelloRetryRequest and ServerHello.

Theory of operation (RFC 8446 §2, §4.1):

    ExpectStart --start()--> ClientHello ---------------------> ExpectServerHello
    ExpectServerHello + HelloRetryRequest --> [CCS] ClientHello2 --> ExpectServerHello (retried)
    ExpectServerHello + ServerHello --> handshake keys --> client.tls13.ExpectEncryptedExtensions
    0-RTT (RFC 8446 §2.3): ClientHello(+early_data) [CCS] --> write key := client_early_traffic_secret,
      kept until EndOfEarlyData (or the refusal); an HRR refuses it and the retried hello is plaintext.

Rules: the ClientHello bytes are kept raw; the transcript starts only once the
ServerHello (or HRR) fixes the hash.  A TLS 1.3 ticket or external PSK goes in
pre_shared_key, last, its binders computed over the truncated hello (and again
after an HRR, over the new transcript).  This file never touches the record layer
except through ``Output``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from cryptography import x509

from handclasp.client.tls12 import start_tls12
from handclasp.client.tls13 import ClientEarlyData, ExpectEncryptedExtensions, HandshakeKeys
from handclasp.common.context import HandshakeContext, Output, State
from handclasp.common.stapling import client_status_extensions
from handclasp.common.traffic import PskAccepted
from handclasp.config import ClientConfig
from handclasp.crypto.groups import KeyExchange, default_key_share_groups, generate_key_exchange
from handclasp.crypto.schedule13 import EarlySecret
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.crypto.suites12 import TLS12_SUITES, KeyExchangeAlgorithm
from handclasp.crypto.transcript import Transcript
from handclasp.errors import ApiMisuse, Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.events import EarlyDataRejected
from handclasp.sessions.cache import ClientSession
from handclasp.sessions.psk import PskOffer, bind_offers, external_offer, resumption_offer
from handclasp.wire.enums import (
    CipherSuite,
    ECPointFormat,
    MaxFragmentLength,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
)
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    CertificateCompressionAlgorithms,
    Cookie,
    EarlyDataIndication,
    ECPointFormats,
    EncryptThenMac,
    ExtendedMasterSecret,
    Extension,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    MaxFragmentLengthExt,
    OfferedPsks,
    OpaqueExtension,
    PostHandshakeAuth,
    PskKeyExchangeModes,
    RecordSizeLimit,
    RenegotiationInfo,
    SelectedPsk,
    ServerNameList,
    SessionTicketExt,
    SignatureAlgorithms,
    SignatureAlgorithmsCert,
    SupportedGroups,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
    find,
)
from handclasp.wire.handshake import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    ClientHello,
    HelloRetryRequest,
    Message,
    ServerHello,
)
from handclasp.x509.names import normalise_server_name, sni_for

if TYPE_CHECKING:
    from handclasp.crypto.suites import SuiteParams

CLIENT_HANDSHAKE_TRAFFIC_SECRET = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE_TRAFFIC_SECRET = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_EARLY_TRAFFIC_SECRET = "CLIENT_EARLY_TRAFFIC_SECRET"
EARLY_EXPORTER_MASTER_SECRET = "EARLY_EXPORTER_MASTER_SECRET"


@dataclass(frozen=True, slots=True)
class ExpectStart:
    """Before start_handshake(): nothing is expected from the peer yet."""

    expects: ClassVar[tuple[type, ...]] = ()
    config: ClientConfig
    server_name: str | None
    session: ClientSession | None = None

    def start(self, ctx: HandshakeContext, out: Output) -> ExpectServerHello:
        config = self.config
        name = normalise_server_name(self.server_name) if self.server_name else None
        ctx.server_name = name
        ctx.client_random = config.provider.random(32)
        versions = config.allowed_versions
        offers13 = ProtocolVersion.TLS1_3 in versions
        legacy_version = min(versions[0], ProtocolVersion.TLS1_2)
        ctx.max_offered_version = legacy_version
        offered = self.session if self.session is not None and self.session.session.version in versions else None
        psks = _psk_offers(config, offered) if offers13 else ()
        early_params = _early_data_params(config, psks)
        if offered is not None and offered.session.version == ProtocolVersion.TLS1_3:
            offered = None  # a TLS 1.3 session travels in pre_shared_key, not in the TLS 1.2 fields
        # RFC 8446 §D.4: middlebox compatibility mode uses a non-empty legacy_session_id;
        # RFC 5077 §3.4: a ticket goes with a fresh session id, so its echo says "resumed".
        if offered is not None and offered.ticket is None:
            session_id = offered.session_id
        elif config.middlebox_compat or offered is not None:
            session_id = config.provider.random(32)
        else:
            session_id = b""
        if offered is not None:
            offered = dataclasses.replace(offered, session_id=session_id)
        shares = (
            {group: generate_key_exchange(group, config.provider) for group in config.key_share_groups or default_key_share_groups(config.groups)}
            if offers13
            else {}
        )
        suites = _offered_suites(config, versions)
        if not [suite for suite in suites if suite != CipherSuite.TLS_FALLBACK_SCSV]:
            raise ApiMisuse("no configured cipher suite can be offered with these versions and options")
        hello = ClientHello(
            legacy_version=legacy_version,
            random=ctx.client_random,
            legacy_session_id=session_id,
            cipher_suites=suites,
            extensions=_client_extensions(config, name, shares, versions, offered),
        )
        if early_params is not None:
            # RFC 8446 §4.2.10, §4.2.11: early_data, then pre_shared_key last.
            hello = dataclasses.replace(hello, extensions=hello.extensions + (EarlyDataIndication(),))
        if psks:
            hello = bind_offers(hello, psks, prefix=None)
        ctx.client_config = config
        ctx.post_handshake_auth = offers13 and config.post_handshake_auth and bool(config.client_certificates)
        raw = out.send(hello)
        if early_params is not None:
            _start_early_data(ctx, config, psks[0], early_params, raw, out)
        return ExpectServerHello(
            config=config, hello=hello, hello_raw=raw, shares=shares, retry_suite=None, offered=offered, psks=psks
        )

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        raise ApiMisuse("start_handshake() was not called")


@dataclass(frozen=True, slots=True)
class ExpectServerHello:
    expects: ClassVar[tuple[type, ...]] = (ServerHello, HelloRetryRequest)
    config: ClientConfig
    hello: ClientHello
    hello_raw: bytes
    shares: dict[NamedGroup, KeyExchange]
    retry_suite: CipherSuite | None
    offered: ClientSession | None = None
    psks: tuple[PskOffer, ...] = ()

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        if isinstance(msg, HelloRetryRequest):
            return self._handle_retry(ctx, msg, raw, out)
        assert isinstance(msg, ServerHello)
        if find(msg.extensions, SupportedVersionsServerHello) is None and self.retry_suite is None:
            version = self._check_legacy_version(msg)
            if ctx.early_data_offered:
                # RFC 8446 §4.2.10: a client that sent 0-RTT data fails on a TLS 1.2 (or older) ServerHello.
                out.set_write_plaintext()  # so that the server can read our alert
                raise PeerIncompatible(Incompatibility.EARLY_DATA_WITH_OLD_VERSION, version.name)
            ctx.version = version
            return start_tls12(ctx, self.config, self.hello, self.hello_raw, msg, raw, out, self.offered)
        self._check_version(msg.random, msg.extensions)
        ctx.version = ProtocolVersion.TLS1_3
        self._check_echoes(msg.legacy_session_id_echo, msg.cipher_suite, msg.legacy_compression_method)
        if self.retry_suite is not None and msg.cipher_suite != self.retry_suite:
            # RFC 8446 §4.1.4: the ServerHello suite must match the HelloRetryRequest's.
            raise PeerMisbehaved(Misbehaviour.HRR_SUITE_CHANGED)
        psk = self._selected_psk(msg)
        key_share = find(msg.extensions, KeyShareServerHello)
        shared: bytes | None = None
        if key_share is None:
            # RFC 8446 §4.2.9: only psk_ke, when we offered it, goes without (EC)DHE.
            if psk is None or PskKeyExchangeMode.PSK_KE not in self.config.psk_modes:
                raise PeerMisbehaved(Misbehaviour.MISSING_KEY_SHARE)
            ctx.group = None
        else:
            exchange = self.shares.get(key_share.server_share.group)
            if exchange is None:
                # RFC 8446 §4.2.8: the server's share must be for a group we sent a share for.
                raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_GROUP, key_share.server_share.group.name)
            shared = exchange.exchange(key_share.server_share.key_exchange)
            ctx.group = exchange.group

        params = TLS13_SUITES[msg.cipher_suite]
        ctx.params = params
        if ctx.transcript is None:
            ctx.transcript = Transcript(params.hash_name, self.hello_raw)
        ctx.transcript.update(raw)
        handshake_secret = EarlySecret(params, psk.key if psk is not None else None).handshake(shared)
        th = ctx.transcript.digest()
        client_secret = handshake_secret.client_handshake_traffic_secret(th)
        server_secret = handshake_secret.server_handshake_traffic_secret(th)
        out.log_secret(CLIENT_HANDSHAKE_TRAFFIC_SECRET, client_secret)
        out.log_secret(SERVER_HANDSHAKE_TRAFFIC_SECRET, server_secret)
        out.set_read_key(params, server_secret)
        if self.config.middlebox_compat and not ctx.sent_dummy_ccs:
            out.send_dummy_change_cipher_spec()
            ctx.sent_dummy_ccs = True
        early: ClientEarlyData | None = None
        if ctx.early_data_offered and self.psks and self.psks[0].session is not None:
            # RFC 8446 §2.3: 0-RTT data may still go out under the early key until EndOfEarlyData.
            early = ClientEarlyData(session=self.psks[0].session.session, selected_first=psk is self.psks[0])
        else:
            out.set_write_key(params, client_secret)
        keys = HandshakeKeys(
            secret=handshake_secret,
            client=client_secret,
            server=server_secret,
            psk=PskAccepted._issue() if psk is not None else None,
            early_data=early,
        )
        if psk is not None and psk.session is not None:
            ctx.resumed = True
            ctx.peer_certificates = tuple(x509.load_der_x509_certificate(der) for der in psk.session.session.peer_certificates)
        return ExpectEncryptedExtensions(config=self.config, hello=self.hello, keys=keys)

    def _selected_psk(self, msg: ServerHello) -> PskOffer | None:
        selected = find(msg.extensions, SelectedPsk)
        if selected is None:
            return None
        if not self.psks:
            # RFC 8446 §4.2: we offered no PSK, so pre_shared_key is unsolicited.
            raise PeerMisbehaved(Misbehaviour.UNSOLICITED_EXTENSION, "pre_shared_key")
        # RFC 8446 §4.2.11: the index must be one we offered, its hash the suite's (illegal_parameter).
        if selected.selected_identity >= len(self.psks):
            raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_PSK)
        psk = self.psks[selected.selected_identity]
        if TLS13_SUITES[msg.cipher_suite].hash_name != psk.params.hash_name:
            raise PeerMisbehaved(Misbehaviour.PSK_HASH_MISMATCH)
        return psk

    def _handle_retry(self, ctx: HandshakeContext, msg: HelloRetryRequest, raw: bytes, out: Output) -> State:
        if self.retry_suite is not None:
            # RFC 8446 §4.1.4: a second HelloRetryRequest is unexpected_message.
            raise PeerMisbehaved(Misbehaviour.HRR_TWICE)
        self._check_version(None, msg.extensions)
        self._check_echoes(msg.legacy_session_id_echo, msg.cipher_suite, msg.legacy_compression_method)
        selected = find(msg.extensions, KeyShareHelloRetryRequest)
        cookie = find(msg.extensions, Cookie)
        shares = self.shares
        if selected is not None:
            group = selected.selected_group
            # RFC 8446 §4.2.8: the group must be offered, and not one we already sent a share for.
            if group not in self.config.groups:
                raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_GROUP, group.name)
            if group in self.shares:
                raise PeerMisbehaved(Misbehaviour.HRR_GROUP_ALREADY_SHARED, group.name)
            shares = {group: generate_key_exchange(group, self.config.provider)}
        elif cookie is None:
            # RFC 8446 §4.1.4: an HRR that would not change the ClientHello is illegal_parameter.
            raise PeerMisbehaved(Misbehaviour.HRR_NO_CHANGE)

        params = TLS13_SUITES[msg.cipher_suite]
        ctx.hello_retry = True
        if ctx.early_data_offered:
            # RFC 8446 §4.1.2: the retried hello drops early_data and goes unprotected; 0-RTT is lost.
            ctx.early_data_offered = False
            ctx.early_data_limit = 0
            out.set_write_plaintext()
            out.emit(EarlyDataRejected())
        transcript = Transcript.after_hello_retry(params.hash_name, self.hello_raw)
        transcript.update(raw)
        hello = _retry_hello(self.hello, shares, cookie)
        # RFC 8446 §4.1.4: keep only PSKs with the HRR suite's hash; the binders cover the new transcript.
        psks = tuple(p for p in self.psks if p.params.hash_name == params.hash_name)
        if psks:
            hello = bind_offers(hello, psks, prefix=transcript)
        if self.config.middlebox_compat and not ctx.sent_dummy_ccs:
            out.send_dummy_change_cipher_spec()
            ctx.sent_dummy_ccs = True
        hello_raw = out.send(hello)
        transcript.update(hello_raw)
        ctx.transcript = transcript
        return ExpectServerHello(
            config=self.config,
            hello=hello,
            hello_raw=hello_raw,
            shares=shares,
            retry_suite=msg.cipher_suite,
            psks=psks,
        )

    def _check_legacy_version(self, hello: ServerHello) -> ProtocolVersion:
        """A ServerHello without supported_versions chose TLS 1.2 or older (RFC 8446 §4.1.3)."""
        version = hello.legacy_version
        allowed = self.config.allowed_versions
        if ProtocolVersion.TLS1_3 in allowed and hello.random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
            # RFC 8446 §4.1.3: a TLS 1.3 client MUST check the sentinels and abort with illegal_parameter.
            raise PeerMisbehaved(Misbehaviour.DOWNGRADE_DETECTED)
        if version not in allowed or version == ProtocolVersion.TLS1_3:
            raise PeerIncompatible(Incompatibility.NO_SHARED_VERSION, f"server chose {version.name}")
        return version

    def _check_version(self, random: bytes | None, extensions: tuple[Extension | OpaqueExtension, ...]) -> None:
        versions = find(extensions, SupportedVersionsServerHello)
        if versions is None:
            # RFC 8446 §4.1.3: a 1.3 client that gets a 1.2-or-older answer checks the sentinels.
            if random is not None and random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
                raise PeerMisbehaved(Misbehaviour.DOWNGRADE_DETECTED)
            raise PeerIncompatible(Incompatibility.NO_SHARED_VERSION, "server does not speak TLS 1.3")
        if versions.selected_version != ProtocolVersion.TLS1_3:
            # RFC 8446 §4.2.1: a version the client did not offer is illegal_parameter.
            raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_VERSION, versions.selected_version.name)

    def _check_echoes(self, session_id: bytes, suite: CipherSuite, compression: int) -> None:
        # RFC 8446 §4.1.3: the session id must echo ours; suite offered; compression null.
        if session_id != self.hello.legacy_session_id:
            raise PeerMisbehaved(Misbehaviour.WRONG_SESSION_ID_ECHO)
        if suite not in self.config.cipher_suites or suite not in TLS13_SUITES:
            raise PeerMisbehaved(Misbehaviour.SERVER_SELECTED_UNOFFERED_SUITE, suite.name)
        if compression != 0:
            raise PeerMisbehaved(Misbehaviour.NONZERO_COMPRESSION)


def _offered_suites(config: ClientConfig, versions: tuple[ProtocolVersion, ...]) -> tuple[CipherSuite, ...]:
    """TLS 1.3 suites when 1.3 is offered; TLS 1.2 suites that the older versions can use."""
    best12 = next((v for v in versions if v <= ProtocolVersion.TLS1_2), None)
    suites: list[CipherSuite] = []
    for suite in config.cipher_suites:
        if suite in TLS13_SUITES:
            if ProtocolVersion.TLS1_3 in versions:
                suites.append(suite)
            continue
        params = TLS12_SUITES[suite]
        if best12 is None or params.min_version > best12:
            continue
        if params.kx is KeyExchangeAlgorithm.RSA and not config.legacy_rsa_key_exchange:
            continue
        if params.is_cbc and not (config.encrypt_then_mac or config.legacy_versions):
            continue
        suites.append(suite)
    if config.fallback_scsv:
        suites.append(CipherSuite.TLS_FALLBACK_SCSV)  # RFC 7507 §4: a deliberate fallback connection
    return tuple(suites)


def _client_extensions(
    config: ClientConfig,
    server_name: str | None,
    shares: dict[NamedGroup, KeyExchange],
    versions: tuple[ProtocolVersion, ...] = (ProtocolVersion.TLS1_3,),
    offered: ClientSession | None = None,
) -> tuple[Extension | OpaqueExtension, ...]:
    offers13 = ProtocolVersion.TLS1_3 in versions
    offers12 = any(v <= ProtocolVersion.TLS1_2 for v in versions)
    exts: list[Extension | OpaqueExtension] = []
    sni = sni_for(server_name) if server_name else None
    if sni is not None:
        exts.append(ServerNameList(host_name=sni))
    exts.append(SupportedGroups(groups=config.groups))
    exts.append(SignatureAlgorithms(schemes=config.tls12_signature_schemes if offers12 else config.signature_schemes))
    if offers12:
        # RFC 5746 §3.4, RFC 7627 §5.1, RFC 8422 §5.1.2, RFC 5077 §3.2, RFC 7366 §2.
        exts.append(RenegotiationInfo(renegotiated_connection=b""))
        if config.offer_extended_master_secret:
            exts.append(ExtendedMasterSecret())
        exts.append(ECPointFormats(formats=(ECPointFormat.UNCOMPRESSED,)))
        if config.session_tickets:
            exts.append(SessionTicketExt(ticket=offered.ticket if offered is not None and offered.ticket else b""))
        if config.encrypt_then_mac:
            exts.append(EncryptThenMac())
    if config.signature_schemes_cert != config.signature_schemes:
        exts.append(SignatureAlgorithmsCert(schemes=config.signature_schemes_cert))
    if config.alpn_protocols:
        exts.append(ApplicationLayerProtocolNegotiation(protocols=tuple(p.encode() for p in config.alpn_protocols)))
    if config.record_size_limit is not None:
        exts.append(RecordSizeLimit(limit=config.record_size_limit))
    if config.max_fragment_length is not None:
        exts.append(MaxFragmentLengthExt(code=MaxFragmentLength(config.max_fragment_length.bit_length() - 9)))
    exts.extend(client_status_extensions(config))  # status_request, signed_certificate_timestamp
    if offers13:
        # psk_dhe_ke lets servers send NewSessionTicket (RFC 8446 §4.2.9).
        exts.append(PskKeyExchangeModes(modes=config.psk_modes))
        if config.post_handshake_auth and config.client_certificates:
            exts.append(PostHandshakeAuth())  # RFC 8446 §4.2.6
        if config.certificate_compression:
            # RFC 8879 §3: TLS 1.3 only; a TLS 1.2 server ignores it.
            exts.append(CertificateCompressionAlgorithms(algorithms=config.certificate_compression))
        exts.append(SupportedVersionsClientHello(versions=versions))
        exts.append(_key_share(shares))
    return tuple(exts)


def _key_share(shares: dict[NamedGroup, KeyExchange]) -> KeyShareClientHello:
    return KeyShareClientHello(
        client_shares=tuple(KeyShareEntry(group=g, key_exchange=kx.public_bytes) for g, kx in shares.items())
    )


def _retry_hello(hello: ClientHello, shares: dict[NamedGroup, KeyExchange], cookie: Cookie | None) -> ClientHello:
    """RFC 8446 §4.1.2: the second ClientHello changes only key_share and adds the cookie."""
    exts: list[Extension | OpaqueExtension] = []
    for ext in hello.extensions:
        if isinstance(ext, KeyShareClientHello):
            ext = _key_share(shares)
        elif isinstance(ext, (Cookie, OfferedPsks, EarlyDataIndication)):
            continue
        exts.append(ext)
    if cookie is not None:
        exts.append(cookie)
    return dataclasses.replace(hello, extensions=tuple(exts))


def _psk_offers(config: ClientConfig, session: ClientSession | None) -> tuple[PskOffer, ...]:
    """RFC 8446 §4.2.11: a cached ticket (first), then the external PSK, each for a suite we offer."""
    offers: list[PskOffer] = []
    now = config.provider.now()
    if session is not None and session.session.version == ProtocolVersion.TLS1_3:
        params = TLS13_SUITES.get(session.session.cipher_suite)
        same_hash = _suite_with_hash(config, params.hash_name) if params is not None else None
        offer = resumption_offer(session, same_hash, now) if same_hash is not None else None
        if offer is not None:
            offers.append(offer)
    if config.external_psk is not None:
        params = _suite_with_hash(config, config.external_psk.hash_name)
        if params is not None:
            offers.append(external_offer(config.external_psk, params))
    return tuple(offers)


def _early_data_params(config: ClientConfig, psks: tuple[PskOffer, ...]) -> SuiteParams | None:
    """The ticket's suite if 0-RTT can be offered with it (RFC 8446 §4.2.10), else None.

    Opt-in (``enable_early_data``); only on the first PSK offered, a ticket that allows early
    data, whose suite we still offer and whose ALPN protocol (if any) we still offer.
    """
    if not config.enable_early_data or not psks or psks[0].session is None:
        return None
    session = psks[0].session.session
    params = TLS13_SUITES.get(session.cipher_suite)
    if params is None or session.max_early_data_size == 0 or session.cipher_suite not in config.cipher_suites:
        return None
    if session.alpn_protocol is not None and session.alpn_protocol not in config.alpn_protocols:
        return None
    return params


def _start_early_data(
    ctx: HandshakeContext, config: ClientConfig, psk: PskOffer, params: SuiteParams, hello_raw: bytes, out: Output
) -> None:
    """RFC 8446 §2.3, §7.1: after the ClientHello, write under client_early_traffic_secret."""
    assert psk.session is not None
    early = EarlySecret(params, psk.key)
    hello_hash = Transcript(params.hash_name, hello_raw).digest()
    secret = early.client_early_traffic_secret(hello_hash)
    out.log_secret(CLIENT_EARLY_TRAFFIC_SECRET, secret)
    out.log_secret(EARLY_EXPORTER_MASTER_SECRET, early.early_exporter_master_secret(hello_hash))
    if config.middlebox_compat:
        # RFC 8446 §D.4: with early data the dummy CCS may follow the ClientHello at once.
        out.send_dummy_change_cipher_spec()
        ctx.sent_dummy_ccs = True
    out.set_write_key(params, secret)
    ctx.early_data_offered = True
    ctx.early_data_limit = psk.session.session.max_early_data_size


def _suite_with_hash(config: ClientConfig, hash_name: str) -> SuiteParams | None:
    for suite in config.cipher_suites:
        params = TLS13_SUITES.get(suite)
        if params is not None and params.hash_name == hash_name:
            return params
    return None
