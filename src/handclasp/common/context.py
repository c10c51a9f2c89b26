"""What every handshake state shares: the context, the output port and the State protocol.

States hold only what the *rest of the handshake* needs; everything else that many
states read (config, randoms, transcript, suite) lives in one small
``HandshakeContext``.  States talk to the outside world only through ``Output``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from cryptography import x509

from handclasp.crypto.provider import CryptoProvider
from handclasp.crypto.suites import SuiteParams
from handclasp.crypto.transcript import Transcript
from handclasp.events import Event
from handclasp.keylog import KeyLogWriter
from handclasp.wire.enums import (
    AlertDescription,
    CertificateCompressionAlgorithm,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from handclasp.wire.handshake import Message
from handclasp.wire.handshake12 import Message12

if TYPE_CHECKING:
    from handclasp.config import ClientConfig
    from handclasp.crypto.schedule13 import MasterSecret
    from handclasp.record.protection12 import Protection12
    from handclasp.sessions.cache import ClientSession


class Output(Protocol):
    """The only way a state acts: send messages, change keys, emit events."""

    def send(self, msg: Message | Message12) -> bytes:
        """Queue a handshake message; returns its raw bytes (for the transcript)."""
        ...

    def send_dummy_change_cipher_spec(self) -> None: ...

    def set_read_key(self, params: SuiteParams, secret: bytes) -> None: ...

    def set_write_key(self, params: SuiteParams, secret: bytes) -> None: ...

    def set_write_record_limit(self, limit: int) -> None: ...

    def skip_early_data(self, max_early_data_size: int = 0) -> None:
        """RFC 8446 §4.2.10: we refuse 0-RTT, so the client's early records are to be skipped
        (at least ``max_early_data_size`` bytes' worth, what the ticket allowed)."""
        ...

    def set_write_plaintext(self) -> None:
        """Client, after a HelloRetryRequest that refused 0-RTT: the second ClientHello goes
        unprotected (RFC 8446 §4.1.2), not under the early traffic key."""
        ...

    def emit(self, event: Event) -> None: ...

    def log_secret(self, label: str, secret: bytes) -> None: ...

    # --- TLS 1.2 only
    def send_change_cipher_spec(self) -> None:
        """The real ChangeCipherSpec (RFC 5246 §7.1), under the current write state."""
        ...

    def set_read_protection12(self, protection: Protection12, version: ProtocolVersion) -> None: ...

    def set_write_protection12(self, protection: Protection12, version: ProtocolVersion) -> None: ...

    def send_warning_alert(self, description: AlertDescription) -> None: ...

    def remember_session(self, session: ClientSession) -> None:
        """A resumable session the client now holds (client cache, ``ClientConnection.session``)."""
        ...

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
    certificate_compression: CertificateCompressionAlgorithm | None = None  # RFC 8879: the peer's Certificate
    resumed: bool = False
    version: ProtocolVersion | None = None  # fixed by ServerHello
    max_offered_version: ProtocolVersion = ProtocolVersion.TLS1_2  # ClientHello.client_version, for RSA premaster
    sent_dummy_ccs: bool = False
    offered_session: object = None  # TLS 1.2: the ClientSession a client resumed
    master: MasterSecret | None = field(default=None)
    exporter_master_secret: bytes = b""
    # TLS 1.3 after the handshake: the client's psk_key_exchange_modes (tickets only if offered,
    # RFC 8446 §4.2.9); post_handshake_auth offered (RFC 8446 §4.2.6); the client's config for it.
    peer_psk_modes: tuple[int, ...] = ()
    post_handshake_auth: bool = False
    client_config: ClientConfig | None = None
    # TLS 1.3 0-RTT (RFC 8446 §4.2.10). Client: early data is offered in the current ClientHello
    # and not refused yet, and how many more bytes may be sent; both sides: the server accepted it.
    early_data_offered: bool = False
    early_data_limit: int = 0
    early_data_accepted: bool = False
    # TLS 1.2 (RFC 5705): the PRF hash, master secret and client_random + server_random.
    exporter12: tuple[str, bytes, bytes] | None = None
    # The leaf's stapled OCSP response and SCT list, as sent or received (common/stapling.py).
    ocsp_response: bytes | None = None
    signed_certificate_timestamps: bytes | None = None

    def transcript_hash(self) -> bytes:
        assert self.transcript is not None
        return self.transcript.digest()

    def suite(self) -> SuiteParams:
        assert self.params is not None
        return self.params


@runtime_checkable
class ReadsEarlyData(Protocol):
    """A state that takes 0-RTT application_data records (the server reading early data)."""

    def handle_early_data(self, ctx: HandshakeContext, data: bytes, out: Output) -> State: ...


class State(Protocol):
    """One handshake position. ``expects`` lists the message classes it accepts."""

    expects: ClassVar[tuple[type, ...]]

    # ``msg`` is one of ``expects`` (the dispatcher checks); each state narrows it with an assert.
    def handle(self, ctx: HandshakeContext, msg: Any, raw: bytes, out: Output) -> State: ...
