"""The TLS 1.2 server's decisions: suite, certificate, signature scheme, group, and session reuse.

Each choice is an RFC-visible decision, so each has its own function; the flight
builder in ``server/tls12.py`` only acts on the result.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from handclasp.common.context import HandshakeContext
from handclasp.config import ServerConfig
from handclasp.crypto.groups import DheKeyExchange, KeyExchange, generate_key_exchange
from handclasp.crypto.signatures import schemes_for_key12
from handclasp.crypto.suites12 import TLS12_SUITES, AuthAlgorithm, KeyExchangeAlgorithm, Suite12
from handclasp.errors import Incompatibility, PeerIncompatible
from handclasp.sessions.store import Session
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import NamedGroup, ProtocolVersion, SignatureScheme
from handclasp.wire.extensions import (
    ApplicationLayerProtocolNegotiation,
    EncryptThenMac,
    ExtendedMasterSecret,
    SessionTicketExt,
    SignatureAlgorithms,
    SupportedGroups,
    find,
)
from handclasp.wire.handshake import ClientHello

_EC_GROUPS = frozenset(
    {NamedGroup.X25519, NamedGroup.X448, NamedGroup.SECP256R1, NamedGroup.SECP384R1, NamedGroup.SECP521R1}
)
_CURVE_GROUPS = {"secp256r1": NamedGroup.SECP256R1, "secp384r1": NamedGroup.SECP384R1, "secp521r1": NamedGroup.SECP521R1}


@dataclass(frozen=True, slots=True)
class Choice12:
    suite: Suite12
    certified: CertifiedKey
    scheme: SignatureScheme | None  # None for RSA key transport and for TLS 1.0/1.1 (no algorithm field)
    key_exchange: KeyExchange | None
    group: NamedGroup | None
    extended_master_secret: bool
    encrypt_then_mac: bool
    issue_ticket: bool


@dataclass(frozen=True, slots=True)
class Resumption:
    session: Session
    renew_ticket: bool
    alpn_protocol: str | None
    peer_certificates: tuple[x509.Certificate, ...]


def choose_tls12(ctx: HandshakeContext, config: ServerConfig, hello: ClientHello, version: ProtocolVersion) -> Choice12:
    ems = find(hello.extensions, ExtendedMasterSecret) is not None
    # RFC 7627 §5.2: a server MAY refuse clients without the extended master secret.
    if not ems and config.require_extended_master_secret:
        raise PeerIncompatible(Incompatibility.NO_EXTENDED_MASTER_SECRET)
    etm_offered = find(hello.extensions, EncryptThenMac) is not None
    groups_ext = find(hello.extensions, SupportedGroups)
    client_groups = groups_ext.groups if groups_ext is not None else None
    algorithms = find(hello.extensions, SignatureAlgorithms)
    client_schemes = algorithms.schemes if algorithms is not None else ()
    ctx.alpn_protocol = _select_alpn(config, find(hello.extensions, ApplicationLayerProtocolNegotiation))
    for suite_id in config.cipher_suites:
        suite = TLS12_SUITES.get(suite_id)
        if suite is None or suite_id not in hello.cipher_suites or version < suite.min_version:
            continue
        # RFC 7366 §3: CBC only with encrypt-then-MAC, unless legacy mode allows MAC-then-encrypt.
        if suite.is_cbc and not etm_offered and not config.legacy_versions:
            continue
        if suite.kx is KeyExchangeAlgorithm.RSA and not config.legacy_rsa_key_exchange:
            continue
        group = _select_group(config, suite, client_groups)
        if suite.kx is not KeyExchangeAlgorithm.RSA and group is None:
            continue
        picked = _select_certificate(config, suite, ctx.server_name, client_groups, client_schemes, version)
        if picked is None:
            continue
        certified, scheme = picked
        exchange: KeyExchange | None = None
        if suite.kx is KeyExchangeAlgorithm.ECDHE:
            assert group is not None
            exchange = generate_key_exchange(group, ctx.provider)
        elif suite.kx is KeyExchangeAlgorithm.DHE:
            assert group is not None
            exchange = DheKeyExchange.for_group(group, ctx.provider)
        ticket_ext = find(hello.extensions, SessionTicketExt)
        return Choice12(
            suite=suite,
            certified=certified,
            scheme=scheme,
            key_exchange=exchange,
            group=group,
            extended_master_secret=ems,
            encrypt_then_mac=etm_offered and suite.is_cbc,
            issue_ticket=ticket_ext is not None and config.ticket_keys is not None,
        )
    raise PeerIncompatible(Incompatibility.NO_SHARED_CIPHER_SUITE, "no TLS 1.2 suite fits")


def _select_group(config: ServerConfig, suite: Suite12, client_groups: tuple[NamedGroup, ...] | None) -> NamedGroup | None:
    if suite.kx is KeyExchangeAlgorithm.ECDHE:
        for group in config.groups:
            # RFC 8422 §4: without supported_groups any curve will do.
            if group in _EC_GROUPS and (client_groups is None or group in client_groups):
                return group
        return None
    if suite.kx is KeyExchangeAlgorithm.DHE:
        offered_ffdhe = [g for g in client_groups or () if 0x0100 <= g <= 0x01FF]
        if not offered_ffdhe:
            return NamedGroup.FFDHE2048  # RFC 7919 §4: a client that names no FFDHE group gets a safe default
        for group in config.groups:
            if group in offered_ffdhe:
                return group
        return None  # RFC 7919 §4: named FFDHE groups, none acceptable: no DHE suite
    return None


def _select_certificate(
    config: ServerConfig,
    suite: Suite12,
    server_name: str | None,
    client_groups: tuple[NamedGroup, ...] | None,
    client_schemes: tuple[SignatureScheme, ...],
    version: ProtocolVersion,
) -> tuple[CertifiedKey, SignatureScheme | None] | None:
    from handclasp.x509.names import name_matches

    named = [c for c in config.certificates if server_name and name_matches(c.names(), server_name)]
    candidates = named + [c for c in config.certificates if all(c is not n for n in named)]
    for certified in candidates:
        key = certified.private_key
        if suite.auth is AuthAlgorithm.ECDSA:
            if isinstance(key, ec.EllipticCurvePrivateKey):
                # RFC 8422 §5.1: an ECDSA certificate's curve must be one the client supports.
                curve = _CURVE_GROUPS.get(key.curve.name)
                if client_groups is not None and curve not in client_groups:
                    continue
            elif not isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
                continue
        elif not isinstance(key, rsa.RSAPrivateKey):
            continue
        if suite.kx is KeyExchangeAlgorithm.RSA:
            return certified, None
        if version < ProtocolVersion.TLS1_2:
            from handclasp.legacy.signatures10 import can_sign10

            # RFC 2246 §7.4.3, RFC 4492 §5.4: no negotiation, the key's one legacy signature (scheme None).
            if can_sign10(key):
                return certified, None
            continue
        for scheme in schemes_for_key12(key):
            if scheme in client_schemes and scheme in config.tls12_signature_schemes:
                return certified, scheme
    return None


def _select_alpn(config: ServerConfig, offer: ApplicationLayerProtocolNegotiation | None) -> str | None:
    if offer is None or not config.alpn_protocols:
        return None
    offered = {p.decode("latin-1") for p in offer.protocols}
    for proto in config.alpn_protocols:
        if proto in offered:
            return proto
    raise PeerIncompatible(Incompatibility.NO_APPLICATION_PROTOCOL)


def find_session(
    ctx: HandshakeContext, config: ServerConfig, hello: ClientHello, version: ProtocolVersion
) -> Resumption | None:
    """A session the client may resume (RFC 5077 §3.4 ticket first, then RFC 5246 session id)."""
    now = ctx.provider.now()
    session: Session | None = None
    renew = False
    ticket_ext = find(hello.extensions, SessionTicketExt)
    if ticket_ext is not None and ticket_ext.ticket and config.ticket_keys is not None and hello.legacy_session_id:
        opened = config.ticket_keys.open(ticket_ext.ticket, now)
        if opened is not None:
            session, renew = opened
    if session is None and hello.legacy_session_id and config.session_store is not None:
        session = config.session_store.get(hello.legacy_session_id, now)
    if session is None:
        return None
    ems_offered = find(hello.extensions, ExtendedMasterSecret) is not None
    if session.extended_master_secret and not ems_offered:
        # RFC 7627 §5.3: a session with EMS may not be resumed without it.
        raise PeerIncompatible(Incompatibility.NO_EXTENDED_MASTER_SECRET, "resumption without extended_master_secret")
    usable = (
        session.version == version
        and session.cipher_suite in hello.cipher_suites
        and session.cipher_suite in config.cipher_suites
        and session.extended_master_secret == ems_offered  # RFC 7627 §5.3: else a full handshake
        and (session.server_name or None) == (ctx.server_name or None)
    )
    if not usable:
        return None
    alpn = _select_alpn(config, find(hello.extensions, ApplicationLayerProtocolNegotiation))
    certificates = tuple(x509.load_der_x509_certificate(der) for der in session.peer_certificates)
    return Resumption(session=session, renew_ticket=renew and ticket_ext is not None, alpn_protocol=alpn, peer_certificates=certificates)
