"""Server hello phase: read ClientHello, choose everything, or ask for a retry.

Theory of operation (RFC 8446 §4.1):

    ExpectClientHello + ClientHello --(no usable key share)--> HelloRetryRequest [CCS]
                                                              -> ExpectClientHello (retry)
    ExpectClientHello + ClientHello --> server.tls13.send_server_flight -> ExpectClient*

This file makes the RFC-visible decisions (version, suite, group, certificate and
signature scheme, ALPN, and the PSK: RFC 8446 §4.2.9-§4.2.11, the first identity that
opens, matches and is fresh, whose binder must then verify); the flight itself is
built in ``server/tls13.py``.  With psk_dhe_ke the group (and any HRR) is settled
before a ticket is looked up, so a single-use ticket survives the retry.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import ClassVar

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.config import ServerConfig
from handclasp.crypto.signatures import schemes_for_key
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.crypto.transcript import Transcript
from handclasp.errors import Incompatibility, Misbehaviour, PeerIncompatible, PeerMisbehaved
from handclasp.server.early import accept_early_data
from handclasp.server.tls12 import start_tls12_server
from handclasp.server.tls13 import FlightPlan, ServerPsk, send_server_flight
from handclasp.sessions.psk import binder_matches, truncated_hello
from handclasp.sessions.store import Session
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import CipherSuite, NamedGroup, ProtocolVersion, PskKeyExchangeMode, SignatureScheme
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    Cookie,
    EarlyDataIndication,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    OfferedPsks,
    PostHandshakeAuth,
    PskIdentity,
    PskKeyExchangeModes,
    ServerNameList,
    SignatureAlgorithms,
    SupportedGroups,
    SupportedVersionsClientHello,
    SupportedVersionsServerHello,
    find,
)
from handclasp.wire.handshake import ClientHello, HelloRetryRequest, Message
from handclasp.x509.names import name_matches


@dataclass(frozen=True, slots=True)
class Retry:
    """What the second ClientHello must match after our HelloRetryRequest."""

    group: NamedGroup
    suite: CipherSuite
    cookie: bytes


@dataclass(frozen=True, slots=True)
class ExpectClientHello:
    expects: ClassVar[tuple[type, ...]] = (ClientHello,)
    config: ServerConfig
    retry: Retry | None = None

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, ClientHello)
        hello = msg
        config = self.config
        early_offered = find(hello.extensions, EarlyDataIndication) is not None
        if self.retry is None:
            ctx.client_random = hello.random
            version = _negotiate_version(config, hello)
            if version != ProtocolVersion.TLS1_3:
                if early_offered:
                    out.skip_early_data()  # RFC 8446 §4.2.10: no 0-RTT below TLS 1.3
                return start_tls12_server(ctx, config, hello, raw, version, out)
        else:
            _check_version(hello)
            if early_offered:
                # RFC 8446 §4.1.2: the ClientHello after a HelloRetryRequest must drop early_data.
                raise PeerMisbehaved(Misbehaviour.EARLY_DATA_AFTER_HELLO_RETRY)
        ctx.version = ProtocolVersion.TLS1_3
        # RFC 8446 §4.1.2: for TLS 1.3, legacy_compression_methods is exactly one null byte.
        if hello.legacy_compression_methods != b"\x00":
            raise PeerMisbehaved(Misbehaviour.MISSING_NULL_COMPRESSION)
        suite = _select_suite(config, hello.cipher_suites)
        groups = find(hello.extensions, SupportedGroups)
        shares = find(hello.extensions, KeyShareClientHello)
        offer = find(hello.extensions, OfferedPsks)
        if groups is None and shares is None and offer is not None:
            # RFC 8446 §9.2: a psk_ke-only hello may leave out both; then only a PSK can succeed.
            groups, shares = SupportedGroups(groups=()), KeyShareClientHello(client_shares=())
        # RFC 8446 §9.2: without a PSK, key_share and supported_groups are mandatory (and go together).
        if groups is None:
            raise PeerMisbehaved(Misbehaviour.MISSING_SUPPORTED_GROUPS)
        if shares is None:
            raise PeerMisbehaved(Misbehaviour.MISSING_KEY_SHARE)
        algorithms = find(hello.extensions, SignatureAlgorithms)
        # RFC 8446 §9.2: signature_algorithms is required for certificate-based authentication.
        if algorithms is None and offer is None:
            raise PeerMisbehaved(Misbehaviour.MISSING_SIGNATURE_ALGORITHMS)
        for share in shares.client_shares:
            # RFC 8446 §4.2.8: each share's group must be in supported_groups.
            if share.group not in groups.groups:
                raise PeerMisbehaved(Misbehaviour.KEY_SHARE_GROUP_NOT_IN_SUPPORTED_GROUPS, share.group.name)
        if self.retry is not None:
            self._check_retry(hello, suite, shares)
        # RFC 8446 §4.2.9: a pre_shared_key offer without psk_key_exchange_modes is missing_extension.
        modes = find(hello.extensions, PskKeyExchangeModes)
        if offer is not None and modes is None:
            raise PeerMisbehaved(Misbehaviour.MISSING_PSK_KEY_EXCHANGE_MODES)
        ctx.peer_psk_modes = tuple(modes.modes) if modes is not None else ()
        ctx.post_handshake_auth = find(hello.extensions, PostHandshakeAuth) is not None
        sni = find(hello.extensions, ServerNameList)
        ctx.server_name = sni.host_name.lower() if sni is not None else None
        dhe_ok, ke_ok = (
            PskKeyExchangeMode.PSK_DHE_KE in ctx.peer_psk_modes and PskKeyExchangeMode.PSK_DHE_KE in config.psk_modes,
            PskKeyExchangeMode.PSK_KE in ctx.peer_psk_modes and PskKeyExchangeMode.PSK_KE in config.psk_modes,
        )
        psk: ServerPsk | None = None
        chosen: KeyShareEntry | None = None
        if offer is not None and ke_ok and not dhe_ok:
            psk = self._select_psk(ctx, hello, raw, offer, suite, dhe=False)
        if psk is None:
            group, chosen = _select_group(config, groups.groups, shares.client_shares)
            if chosen is None:
                if early_offered:
                    out.skip_early_data()  # RFC 8446 §4.2.10: a HelloRetryRequest refuses 0-RTT
                return self._send_retry(ctx, hello, raw, suite, group, out)
            if offer is not None and dhe_ok:
                psk = self._select_psk(ctx, hello, raw, offer, suite, dhe=True)

        certified: CertifiedKey | None = None
        scheme: SignatureScheme | None = None
        if psk is None:
            if algorithms is None:
                raise PeerMisbehaved(Misbehaviour.MISSING_SIGNATURE_ALGORITHMS)
            certified, scheme = _select_certificate(config, ctx.server_name, algorithms.schemes)
        ctx.alpn_protocol = _select_alpn(config, find(hello.extensions, ApplicationLayerProtocolNegotiation))
        suite = psk.suite if psk is not None else suite
        if early_offered:
            ctx.early_data_accepted = offer is not None and accept_early_data(ctx, config, offer, psk, suite)
            if not ctx.early_data_accepted:
                # RFC 8446 §4.2.10: refused 0-RTT records are skipped (the PSK may still resume).
                out.skip_early_data(psk.session.max_early_data_size if psk is not None and psk.session else 0)
        plan = FlightPlan(
            hello=hello,
            hello_raw=raw,
            suite=suite,
            share=chosen,
            certified=certified,
            scheme=scheme,
            psk=psk,
        )
        return send_server_flight(ctx, config, plan, out)

    def _select_psk(
        self, ctx: HandshakeContext, hello: ClientHello, raw: bytes, offer: OfferedPsks, suite: CipherSuite, *, dhe: bool
    ) -> ServerPsk | None:
        """RFC 8446 §4.2.11: the first acceptable identity; its binder must verify (else decrypt_error)."""
        config = self.config
        now = ctx.provider.now()
        for index, identity in enumerate(offer.identities):
            found = _find_psk(config, ctx.server_name, identity, now)
            if found is None:
                continue
            key, hash_name, session = found
            chosen = _suite_for_hash(config, hello.cipher_suites, suite, hash_name, fixed=self.retry is not None)
            if chosen is None:
                continue
            params = TLS13_SUITES[chosen]
            # RFC 8446 §4.2.11.2: the binder covers the ClientHello up to the binders (and any HRR before it).
            truncated = truncated_hello(raw, offer)
            if not binder_matches(params, key, session is None, ctx.transcript, truncated, offer.binders[index]):
                raise PeerMisbehaved(Misbehaviour.BAD_PSK_BINDER)
            return ServerPsk(index=index, key=key, suite=chosen, session=session, dhe=dhe)
        return None

    def _check_retry(self, hello: ClientHello, suite: CipherSuite, shares: KeyShareClientHello) -> None:
        retry = self.retry
        assert retry is not None
        cookie = find(hello.extensions, Cookie)
        # RFC 8446 §4.2.2: the cookie must come back unchanged.
        if cookie is None or not hmac.compare_digest(cookie.cookie, retry.cookie):
            raise PeerMisbehaved(Misbehaviour.BAD_COOKIE)
        # RFC 8446 §4.1.2: the retried hello carries one share, for the group we asked for.
        if len(shares.client_shares) != 1 or shares.client_shares[0].group != retry.group:
            raise PeerMisbehaved(Misbehaviour.KEY_SHARE_NOT_FOR_HRR_GROUP)
        if suite != retry.suite:
            raise PeerMisbehaved(Misbehaviour.SECOND_CLIENT_HELLO_MISMATCH, "cipher suite changed")

    def _send_retry(
        self, ctx: HandshakeContext, hello: ClientHello, raw: bytes, suite: CipherSuite, group: NamedGroup, out: Output
    ) -> State:
        if self.retry is not None:
            # Unreachable after _check_retry, kept as a guard: never send a second HRR.
            raise PeerMisbehaved(Misbehaviour.KEY_SHARE_NOT_FOR_HRR_GROUP)
        params = TLS13_SUITES[suite]
        transcript = Transcript.after_hello_retry(params.hash_name, raw)
        cookie = hmac.new(self.config.cookie_key, transcript.digest() + group.to_bytes(2, "big"), hashlib.sha256).digest()
        retry_request = HelloRetryRequest(
            legacy_session_id_echo=hello.legacy_session_id,
            cipher_suite=suite,
            extensions=(
                SupportedVersionsServerHello(selected_version=ProtocolVersion.TLS1_3),
                KeyShareHelloRetryRequest(selected_group=group),
                Cookie(cookie=cookie),
            ),
        )
        transcript.update(out.send(retry_request))
        # RFC 8446 §D.4: in compatibility mode the server's CCS follows its first handshake message.
        if hello.legacy_session_id:
            out.send_dummy_change_cipher_spec()
            ctx.sent_dummy_ccs = True
        ctx.transcript = transcript
        ctx.hello_retry = True
        return ExpectClientHello(config=self.config, retry=Retry(group=group, suite=suite, cookie=cookie))


def _negotiate_version(config: ServerConfig, hello: ClientHello) -> ProtocolVersion:
    """RFC 8446 §4.2.1 (supported_versions) or RFC 5246 §E.1 (legacy_version); RFC 7507 for the SCSV."""
    ours = config.allowed_versions
    versions = find(hello.extensions, SupportedVersionsClientHello)
    if versions is not None:
        offered = [v for v in versions.versions if v in ours]
        chosen = max(offered) if offered else None
        client_best = max((v for v in versions.versions if v.is_known), default=hello.legacy_version)
    else:
        client_best = hello.legacy_version
        chosen = max((v for v in ours if v <= hello.legacy_version and v != ProtocolVersion.TLS1_3), default=None)
    if chosen is None:
        if client_best < ProtocolVersion.TLS1_0:
            raise PeerIncompatible(Incompatibility.LEGACY_VERSION_OFFERED_ONLY, client_best.name)
        raise PeerIncompatible(Incompatibility.NO_SHARED_VERSION, f"client offers up to {client_best.name}")
    # RFC 7507 §3: a fallback below our best version means someone interfered.
    if CipherSuite.TLS_FALLBACK_SCSV in hello.cipher_suites and chosen < ours[0]:
        raise PeerIncompatible(Incompatibility.INAPPROPRIATE_FALLBACK, f"{chosen.name} < {ours[0].name}")
    return chosen


def _check_version(hello: ClientHello) -> None:
    versions = find(hello.extensions, SupportedVersionsClientHello)
    # RFC 8446 §4.2.1: TLS 1.3 is negotiated only through supported_versions.
    if versions is None or ProtocolVersion.TLS1_3 not in versions.versions:
        if hello.legacy_version < ProtocolVersion.TLS1_0 and versions is None:
            raise PeerIncompatible(Incompatibility.LEGACY_VERSION_OFFERED_ONLY, hello.legacy_version.name)
        raise PeerIncompatible(Incompatibility.NO_SHARED_VERSION, "client does not offer TLS 1.3")


def _select_suite(config: ServerConfig, offered: tuple[CipherSuite, ...]) -> CipherSuite:
    """Server preference, except that a client preferring ChaCha20 first gets it (no AES hardware)."""
    if offered and offered[0] == CipherSuite.TLS_CHACHA20_POLY1305_SHA256 and offered[0] in config.cipher_suites:
        return offered[0]
    for suite in config.cipher_suites:
        if suite in offered and suite in TLS13_SUITES:
            return suite
    raise PeerIncompatible(Incompatibility.NO_SHARED_CIPHER_SUITE)


def _select_group(
    config: ServerConfig, supported: tuple[NamedGroup, ...], shares: tuple[KeyShareEntry, ...]
) -> tuple[NamedGroup, KeyShareEntry | None]:
    """Prefer a group the client already sent a share for (no extra round trip)."""
    by_group = {share.group: share for share in shares}
    for group in config.groups:
        if group in by_group:
            return group, by_group[group]
    for group in config.groups:
        if group in supported:
            return group, None
    raise PeerIncompatible(Incompatibility.NO_SHARED_GROUP)


def _select_certificate(
    config: ServerConfig, server_name: str | None, offered: tuple[SignatureScheme, ...]
) -> tuple[CertifiedKey, SignatureScheme]:
    """Certificates for the SNI name first, then the rest; the first with a usable scheme wins."""
    named = [c for c in config.certificates if server_name and name_matches(c.names(), server_name)]
    candidates = named + [c for c in config.certificates if all(c is not n for n in named)]
    for certified in candidates:
        for scheme in schemes_for_key(certified.private_key):
            if scheme in offered and scheme in config.signature_schemes:
                return certified, scheme
    raise PeerIncompatible(Incompatibility.NO_SHARED_SIGNATURE_SCHEME)


def _select_alpn(config: ServerConfig, offer: ApplicationLayerProtocolNegotiation | None) -> str | None:
    if offer is None or not config.alpn_protocols:
        return None
    offered = {p.decode("latin-1") for p in offer.protocols}
    for proto in config.alpn_protocols:
        if proto in offered:
            return proto
    # RFC 7301 §3.2: no overlap is a fatal no_application_protocol.
    raise PeerIncompatible(Incompatibility.NO_APPLICATION_PROTOCOL)


def _find_psk(
    config: ServerConfig, server_name: str | None, identity: PskIdentity, now: float
) -> tuple[bytes, str, Session | None] | None:
    """``(key, hash_name, session)`` for an external identity or a usable ticket; None to skip it."""
    for external in config.external_psks:
        if external.identity == identity.identity:
            return external.key, external.hash_name, None
    session = _open_ticket(config, identity.identity, now)
    if session is None or session.version != ProtocolVersion.TLS1_3:
        return None
    params = TLS13_SUITES.get(session.cipher_suite)
    # RFC 8446 §4.2.11: the server name must match the original handshake's (and the suite's hash).
    if params is None or session.server_name != server_name:
        return None
    # A session without a client certificate cannot stand in for a handshake that requires one.
    if config.client_auth == "require" and not session.peer_certificates:
        return None
    # RFC 8446 §4.2.11.1, §8.3: the client's view of the ticket age must be close to ours.
    client_age = ((identity.obfuscated_ticket_age - session.ticket_age_add) % 2**32) / 1000
    if abs(client_age - (now - session.created_at)) > config.max_ticket_age_skew:
        return None
    return session.master_secret, params.hash_name, session


def _open_ticket(config: ServerConfig, ticket: bytes, now: float) -> Session | None:
    if config.tls13_ticket_mode == "stateful":
        # Single use: a stored ticket is taken out of the store (RFC 8446 §8.1).
        return config.session_store.take(ticket, now) if config.session_store is not None else None
    if config.ticket_keys is None:
        return None
    opened = config.ticket_keys.open(ticket, now)
    return opened[0] if opened is not None else None


def _suite_for_hash(
    config: ServerConfig, offered: tuple[CipherSuite, ...], suite: CipherSuite, hash_name: str, *, fixed: bool
) -> CipherSuite | None:
    """The selected suite if its hash fits the PSK, else (before any HRR) another offered one that does."""
    if TLS13_SUITES[suite].hash_name == hash_name:
        return suite
    if fixed:
        return None
    for candidate in config.cipher_suites:
        params = TLS13_SUITES.get(candidate)
        if params is not None and candidate in offered and params.hash_name == hash_name:
            return candidate
    return None
