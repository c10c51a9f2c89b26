"""TLS 1.3 pre-shared keys: external PSKs and the PSK binder (RFC 8446 §4.2.11).

A binder is ``finished_verify_data(binder_key, Transcript-Hash(Truncate(ClientHello)))``
where the truncated ClientHello ends just before the binders list of its
pre_shared_key extension (the last extension, so the binders end the message).
The hash covers whatever came before in the transcript (after a
HelloRetryRequest: the ``message_hash`` of ClientHello1 and the HRR itself).

Rules: PSK bytes never appear in ``repr``; binders are compared with
``hmac.compare_digest``.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from handclasp.crypto.schedule13 import EarlySecret, finished_verify_data
from handclasp.crypto.suites import SuiteParams
from handclasp.crypto.transcript import Transcript
from handclasp.sessions.cache import ClientSession
from handclasp.wire.extensions import OfferedPsks, PskIdentity
from handclasp.wire.handshake import ClientHello, encode_message


@dataclass(frozen=True, slots=True)
class ExternalPsk:
    """A PSK agreed out of band: ``identity`` names it on the wire, ``hash_name`` fixes its suites."""

    identity: bytes
    key: bytes = field(repr=False)
    hash_name: str = "sha256"

    def __post_init__(self) -> None:
        if not 1 <= len(self.identity) <= 0xFFFF:
            raise ValueError("a PSK identity is 1..65535 bytes")
        if not self.key:
            raise ValueError("a PSK key must not be empty")
        if self.hash_name not in ("sha256", "sha384"):
            raise ValueError("hash_name must be 'sha256' or 'sha384'")


def binders_length(offer: OfferedPsks) -> int:
    """Bytes the ``PskBinderEntry binders<33..2^16-1>`` vector takes at the end of the ClientHello."""
    return 2 + sum(1 + len(binder) for binder in offer.binders)


def truncated_hello(hello_raw: bytes, offer: OfferedPsks) -> bytes:
    """RFC 8446 §4.2.11.2: the ClientHello (header included) up to, not including, the binders list."""
    return hello_raw[: len(hello_raw) - binders_length(offer)]


def compute_binder(
    params: SuiteParams, psk: bytes, external: bool, prefix: Transcript | None, truncated: bytes
) -> bytes:
    """The binder for one PSK; ``prefix`` is the transcript before this ClientHello (after an HRR)."""
    transcript = fork_transcript(prefix) if prefix is not None else Transcript(params.hash_name)
    transcript.update(truncated)
    return finished_verify_data(params, EarlySecret(params, psk).binder_key(external), transcript.digest())


def binder_matches(
    params: SuiteParams, psk: bytes, external: bool, prefix: Transcript | None, truncated: bytes, binder: bytes
) -> bool:
    expected = compute_binder(params, psk, external, prefix, truncated)
    return hmac.compare_digest(expected, binder)


def fork_transcript(transcript: Transcript) -> Transcript:
    """An independent copy of a running transcript (binders, post-handshake authentication)."""
    return transcript.copy()


@dataclass(frozen=True, slots=True)
class PskOffer:
    """One identity a client offers: a resumption ticket (``session`` set) or an external PSK."""

    identity: bytes
    key: bytes = field(repr=False)
    params: SuiteParams  # a TLS 1.3 suite with the PSK's hash (the binder's hash)
    obfuscated_ticket_age: int
    session: ClientSession | None

    @property
    def is_external(self) -> bool:
        return self.session is None


def resumption_offer(session: ClientSession, params: SuiteParams, now: float) -> PskOffer | None:
    """RFC 8446 §4.2.11.1: the ticket identity with its obfuscated age, or None if unusable."""
    stored = session.session
    if session.ticket is None or stored.is_expired(now) or stored.lifetime > MAX_TICKET_LIFETIME:
        return None
    age_ms = max(0, int((now - stored.created_at) * 1000))
    return PskOffer(
        identity=session.ticket,
        key=stored.master_secret,
        params=params,
        obfuscated_ticket_age=(age_ms + stored.ticket_age_add) % 2**32,
        session=session,
    )


def external_offer(psk: ExternalPsk, params: SuiteParams) -> PskOffer:
    # RFC 8446 §4.2.11: for identities established externally the obfuscated age SHOULD be 0.
    return PskOffer(identity=psk.identity, key=psk.key, params=params, obfuscated_ticket_age=0, session=None)


def bind_offers(hello: ClientHello, offers: Sequence[PskOffer], prefix: Transcript | None) -> ClientHello:
    """``hello`` with pre_shared_key appended last and every binder computed (RFC 8446 §4.2.11.2)."""
    identities = tuple(PskIdentity(identity=o.identity, obfuscated_ticket_age=o.obfuscated_ticket_age) for o in offers)
    placeholder = OfferedPsks(identities=identities, binders=tuple(bytes(o.params.hash_len) for o in offers))
    draft = dataclasses.replace(hello, extensions=hello.extensions + (placeholder,))
    truncated = truncated_hello(encode_message(draft), placeholder)
    binders = tuple(compute_binder(o.params, o.key, o.is_external, prefix, truncated) for o in offers)
    final = OfferedPsks(identities=identities, binders=binders)
    return dataclasses.replace(hello, extensions=hello.extensions + (final,))


# RFC 8446 §4.6.1: seven days.
MAX_TICKET_LIFETIME = 604800
