"""What every handshake state shares: the context, the output port and the State protocol.

States hold only what the *rest of the handshake* needs; everything else that many
states read (config, randoms, transcript, suite) lives in one small
``HandshakeContext``.  States talk to the outside world only through ``Output``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from cryptography import x509

from handclasp.crypto.provider import CryptoProvider
from handclasp.crypto.suites import SuiteParams
from handclasp.crypto.transcript import Transcript
from handclasp.events import Event
from handclasp.keylog import KeyLogWriter
from handclasp.wire.enums import NamedGroup, SignatureScheme
from handclasp.wire.handshake import Message

if TYPE_CHECKING:
    from handclasp.crypto.schedule13 import MasterSecret


class Output(Protocol):
    """The only way a state acts: send messages, change keys, emit events."""

    def send(self, msg: Message) -> bytes:
        """Queue a handshake message; returns its raw bytes (for the transcript)."""
        ...

    def send_dummy_change_cipher_spec(self) -> None: ...

    def set_read_key(self, params: SuiteParams, secret: bytes) -> None: ...

    def set_write_key(self, params: SuiteParams, secret: bytes) -> None: ...

    def set_write_record_limit(self, limit: int) -> None: ...

    def emit(self, event: Event) -> None: ...

    def log_secret(self, label: str, secret: bytes) -> None: ...

    @property
    def is_write_closed(self) -> bool:
        """We sent close_notify: nothing more may be written (RFC 8446 §6.1)."""
        ...


@dataclass(slots=True)
class HandshakeContext:
    is_client: bool
    provider: CryptoProvider
    keylog: KeyLogWriter | None
    client_random: bytes = b""
    transcript: Transcript | None = None
    params: SuiteParams | None = None
    group: NamedGroup | None = None
    signature_scheme: SignatureScheme | None = None
    alpn_protocol: str | None = None
    server_name: str | None = None
    peer_certificates: tuple[x509.Certificate, ...] = ()
    client_certificate_requested: bool = False
    hello_retry: bool = False
    sent_dummy_ccs: bool = False
    master: MasterSecret | None = field(default=None)
    exporter_master_secret: bytes = b""

    def transcript_hash(self) -> bytes:
        assert self.transcript is not None
        return self.transcript.digest()

    def suite(self) -> SuiteParams:
        assert self.params is not None
        return self.params


class State(Protocol):
    """One handshake position. ``expects`` lists the message classes it accepts."""

    expects: ClassVar[tuple[type, ...]]

    def handle(self, ctx: HandshakeContext, msg: Message, raw: bytes, out: Output) -> State: ...
