"""What both TLS 1.2 sides share: the handshake record of messages, keys from the master secret.

TLS 1.2 signs and hashes the *concatenated* handshake messages (RFC 5246 §7.4.8,
§7.4.9), and the extended master secret hashes them up to ClientKeyExchange
(RFC 7627 §3), so ``Handshake12`` keeps the raw bytes rather than a running hash.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from handclasp.common.traffic import FinishedVerified
from handclasp.crypto import prf12
from handclasp.crypto.provider import CryptoProvider
from handclasp.crypto.suites12 import Suite12, prf_hash_for
from handclasp.errors import DecodeError, Misbehaviour, PeerMisbehaved
from handclasp.record.protection12 import Protection12, make_protection12
from handclasp.wire.enums import ProtocolVersion

CLIENT_RANDOM = "CLIENT_RANDOM"


@dataclass(slots=True)
class Handshake12:
    """The TLS 1.2 handshake's shared, growing facts (one per connection)."""

    version: ProtocolVersion
    suite: Suite12
    client_random: bytes
    server_random: bytes
    extended_master_secret: bool
    encrypt_then_mac: bool
    session_id: bytes = b""
    messages: bytearray = field(default_factory=bytearray)
    master_secret: bytes = b""

    def add(self, raw: bytes) -> None:
        self.messages += raw

    def handshake_hash(self) -> bytes:
        """Hash(handshake_messages) with the PRF hash (RFC 5246 §7.4.9); MD5||SHA-1 before TLS 1.2."""
        if self.version < ProtocolVersion.TLS1_2:
            data = bytes(self.messages)
            return hashlib.md5(data).digest() + hashlib.sha1(data).digest()
        return hashlib.new(self.suite.prf_hash, self.messages).digest()

    @property
    def prf_hash(self) -> str:
        return prf_hash_for(self.suite, self.version)

    def derive_master_secret(self, pre_master_secret: bytes) -> None:
        """RFC 7627 §4 when extended_master_secret, else RFC 5246 §8.1; call right after ClientKeyExchange."""
        if self.extended_master_secret:
            self.master_secret = prf12.extended_master_secret(self.prf_hash, pre_master_secret, self.handshake_hash())
        else:
            self.master_secret = prf12.master_secret(
                self.prf_hash, pre_master_secret, self.client_random, self.server_random
            )

    def protections(self, provider: CryptoProvider) -> tuple[Protection12, Protection12]:
        """(client write, server write) record protections from the key block (RFC 5246 §6.3)."""
        block = prf12.key_block(self.suite, self.master_secret, self.client_random, self.server_random, version=self.version)
        client = make_protection12(
            self.suite, self.version, block.client_key, block.client_iv, block.client_mac_key,
            encrypt_then_mac=self.encrypt_then_mac, provider=provider,
        )
        server = make_protection12(
            self.suite, self.version, block.server_key, block.server_iv, block.server_mac_key,
            encrypt_then_mac=self.encrypt_then_mac, provider=provider,
        )
        return client, server

    def finished(self, is_client: bool) -> bytes:
        """verify_data over the messages so far (RFC 5246 §7.4.9)."""
        return prf12.finished_verify_data(self.prf_hash, self.master_secret, is_client, self.handshake_hash())

    def check_finished(self, verify_data: bytes, *, from_client: bool) -> FinishedVerified:
        """The peer's Finished against the messages so far (RFC 5246 §7.4.9): a wrong length is
        decode_error, a wrong value decrypt_error. Call before adding the Finished itself."""
        expected = self.finished(is_client=from_client)
        if len(verify_data) != len(expected):
            raise DecodeError("Finished.verify_data has the wrong length")
        if not hmac.compare_digest(expected, verify_data):
            raise PeerMisbehaved(Misbehaviour.BAD_FINISHED)
        return FinishedVerified._issue()

    def signed_params(self, params: bytes) -> bytes:
        """RFC 5246 §7.4.3 / RFC 8422 §5.4: ServerKeyExchange signs both randoms and the params."""
        return self.client_random + self.server_random + params
