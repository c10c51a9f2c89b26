"""Denial-of-service limits, all in one place (counters of things a peer may repeat)."""

from __future__ import annotations

from dataclasses import dataclass

from handclasp.errors import Misbehaviour, PeerMisbehaved

MAX_EMPTY_RECORDS = 32
MAX_CHANGE_CIPHER_SPEC = 2
MAX_WARNING_ALERTS = 4
MAX_KEY_UPDATES_IN_A_ROW = 32
MAX_POST_HANDSHAKE_MESSAGES_IN_A_ROW = 64


@dataclass(slots=True)
class TemperCounters:
    """Counts repeats of cheap-to-send, costly-to-handle inputs; resets on real progress."""

    empty_records: int = 0
    change_cipher_specs: int = 0
    warning_alerts: int = 0
    key_updates: int = 0
    post_handshake_messages: int = 0

    def empty_record(self) -> None:
        self.empty_records += 1
        if self.empty_records > MAX_EMPTY_RECORDS:
            raise PeerMisbehaved(Misbehaviour.TOO_MANY_EMPTY_RECORDS)

    def change_cipher_spec(self) -> None:
        self.change_cipher_specs += 1
        if self.change_cipher_specs > MAX_CHANGE_CIPHER_SPEC:
            raise PeerMisbehaved(Misbehaviour.TOO_MANY_CCS)

    def warning_alert(self) -> None:
        self.warning_alerts += 1
        if self.warning_alerts > MAX_WARNING_ALERTS:
            raise PeerMisbehaved(Misbehaviour.TOO_MANY_WARNING_ALERTS)

    def key_update(self) -> None:
        self.key_updates += 1
        if self.key_updates > MAX_KEY_UPDATES_IN_A_ROW:
            raise PeerMisbehaved(Misbehaviour.TOO_MANY_KEY_UPDATES)

    def post_handshake_message(self) -> None:
        self.post_handshake_messages += 1
        if self.post_handshake_messages > MAX_POST_HANDSHAKE_MESSAGES_IN_A_ROW:
            raise PeerMisbehaved(Misbehaviour.TOO_MANY_POST_HANDSHAKE_MESSAGES)

    def application_data(self) -> None:
        """Real progress: the peer sent data, so the repeat counters start again."""
        self.empty_records = 0
        self.warning_alerts = 0
        self.key_updates = 0
        self.post_handshake_messages = 0
