"""Server side of TLS 1.3 0-RTT: whether to accept early data, and reading it (RFC 8446 §4.2.10).

Theory of operation (RFC 8446 §2.3):

    ClientHello(+early_data, +pre_shared_key) (Application Data*)
        -> accept_early_data: every condition of RFC 8446 §4.2.10 and §8 holds?
           no  -> the early records are skipped (Output.skip_early_data); the PSK may still resume
           yes -> EncryptedExtensions carries early_data; after the server flight
                  ExpectEndOfEarlyData reads application_data as EarlyData events
                  + EndOfEarlyData -> read key := client_handshake_traffic_secret -> (next state)

Rules: acceptance is decided once, after the PSK, suite and ALPN are chosen; anti-replay
is consulted last, so only a ClientHello whose 0-RTT is accepted gets recorded. This file
never touches the record layer except through ``Output``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from handclasp.common.context import HandshakeContext, Output, State
from handclasp.crypto.suites import SuiteParams
from handclasp.errors import Misbehaviour, PeerMisbehaved
from handclasp.events import EarlyData
from handclasp.wire.enums import CipherSuite
from handclasp.wire.extensions import OfferedPsks
from handclasp.wire.handshake import EndOfEarlyData, Message

if TYPE_CHECKING:
    from handclasp.config import ServerConfig
    from handclasp.server.tls13 import ServerPsk


def accept_early_data(
    ctx: HandshakeContext, config: ServerConfig, offer: OfferedPsks, psk: ServerPsk | None, suite: CipherSuite
) -> bool:
    """RFC 8446 §4.2.10, §8: may this handshake (whose ClientHello offered early_data) accept 0-RTT?"""
    if config.max_early_data_size == 0 or psk is None or ctx.hello_retry:
        return False
    session = psk.session
    # RFC 8446 §4.2.10: only the first identity, and only a resumption ticket that allows 0-RTT.
    if psk.index != 0 or session is None or session.max_early_data_size == 0:
        return False
    # RFC 8446 §4.2.10: the cipher suite and ALPN protocol must be those of the ticket.
    if suite != session.cipher_suite or ctx.alpn_protocol != session.alpn_protocol:
        return False
    now = ctx.provider.now()
    identity = offer.identities[0]
    # RFC 8446 §8.3: the ClientHello must be fresh: both views of the ticket age agree closely.
    client_age = ((identity.obfuscated_ticket_age - session.ticket_age_add) % 2**32) / 1000
    window = config.max_early_data_age_skew
    if abs(client_age - (now - session.created_at)) > window:
        return False
    if config.tls13_ticket_mode == "stateful":
        return True  # RFC 8446 §8.1: the ticket was taken from the store, so it cannot be used again
    guard = config.early_data_anti_replay
    # RFC 8446 §8.2: record the ClientHello (by its binder) for as long as §8.3 would let a copy
    # pass the freshness check (the age difference may drift from -window to +window).
    return guard is not None and guard.first_use(offer.binders[0], now + 2 * window, now)


@dataclass(frozen=True, slots=True)
class ExpectEndOfEarlyData:
    """Reading accepted 0-RTT data under client_early_traffic_secret until EndOfEarlyData."""

    expects: ClassVar[tuple[type, ...]] = (EndOfEarlyData,)
    params: SuiteParams
    client_handshake_secret: bytes
    max_early_data_size: int
    after: State  # the state that reads the rest of the client's flight
    received: int = 0

    def handle_early_data(self, ctx: HandshakeContext, data: bytes, out: Output) -> State:
        received = self.received + len(data)
        if received > self.max_early_data_size:
            # RFC 8446 §4.2.10: more than max_early_data_size is an unexpected_message.
            raise PeerMisbehaved(Misbehaviour.TOO_MUCH_EARLY_DATA)
        if data:
            out.emit(EarlyData(data))
        return replace(self, received=received)

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State:
        assert isinstance(msg, EndOfEarlyData)
        assert ctx.transcript is not None
        ctx.transcript.update(raw)
        # RFC 8446 §4.5: what follows is under the handshake key; §5.1: EndOfEarlyData ends its record.
        out.set_read_key(self.params, self.client_handshake_secret)
        return self.after
