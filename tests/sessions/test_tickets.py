"""TicketKeys: sealing, tamper and garbage rejection, rotation, lifetime, shared state."""

from __future__ import annotations

import dataclasses
import math
import os
import random
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings, strategies as st

from handclasp.sessions import Session, SessionFormatError, TicketKeys
from handclasp.sessions.tickets import KEY_NAME_LENGTH, MAX_TICKET_LENGTH, NONCE_LENGTH
from handclasp.wire.enums import CipherSuite, ProtocolVersion

T0 = 1_700_000_000.0
HOUR = 3600.0


class SteppingProvider:
    """Seeded randomness and a clock the test sets."""

    def __init__(self, seed: int = 7, now: float = T0) -> None:
        self._rng = random.Random(seed)
        self.clock = now
        self.random_calls = 0

    def random(self, n: int) -> bytes:
        self.random_calls += 1
        return self._rng.randbytes(n)

    def now(self) -> float:
        return self.clock


class OsProvider:
    def random(self, n: int) -> bytes:
        return os.urandom(n)

    def now(self) -> float:
        return T0


def make_session(created_at: float = T0, lifetime: int = 7 * 24 * 3600) -> Session:
    return Session(
        version=ProtocolVersion.TLS1_2,
        cipher_suite=CipherSuite(0xC02B),
        master_secret=b"\x11" * 48,
        extended_master_secret=True,
        server_name="localhost",
        alpn_protocol="http/1.1",
        peer_certificates=(),
        created_at=created_at,
        lifetime=lifetime,
    )


def make_keys(**kwargs: object) -> tuple[TicketKeys, SteppingProvider]:
    provider = SteppingProvider()
    return TicketKeys(provider=provider, **kwargs), provider  # type: ignore[arg-type]


def exported_keys(keys: TicketKeys) -> list[tuple[bytes, bytes]]:
    """(key_name, key) pairs from export_state (format: version, count, name || key || created_at)."""
    state = keys.export_state()
    assert state[0] == 1
    out = []
    for i in range(state[1]):
        at = 2 + i * (16 + 32 + 8)
        out.append((state[at : at + 16], state[at + 16 : at + 48]))
    assert len(state) == 2 + state[1] * 56
    return out


def test_seal_then_open_round_trips() -> None:
    keys, _ = make_keys()
    session = make_session()
    ticket = keys.seal(session, T0)
    assert keys.open(ticket, T0 + 1) == (session, False)


def test_ticket_layout_is_key_name_nonce_aes256gcm_with_key_name_as_aad() -> None:
    keys, _ = make_keys()
    session = make_session()
    ticket = keys.seal(session, T0)
    ((key_name, key),) = exported_keys(keys)
    assert len(key) == 32
    assert ticket[:KEY_NAME_LENGTH] == key_name
    nonce = ticket[KEY_NAME_LENGTH : KEY_NAME_LENGTH + NONCE_LENGTH]
    plaintext = AESGCM(key).decrypt(nonce, ticket[KEY_NAME_LENGTH + NONCE_LENGTH :], key_name)
    assert plaintext == session.to_bytes()
    assert len(ticket) == 16 + 12 + len(plaintext) + 16


def test_each_ticket_has_a_fresh_nonce() -> None:
    keys, _ = make_keys()
    tickets = {keys.seal(make_session(), T0) for _ in range(20)}
    assert len(tickets) == 20
    assert len({t[16:28] for t in tickets}) == 20


@settings(max_examples=200)
@given(st.data())
def test_any_flipped_bit_is_rejected(data: st.DataObject) -> None:
    keys, _ = make_keys()
    ticket = bytearray(keys.seal(make_session(), T0))
    index = data.draw(st.integers(0, len(ticket) - 1))
    ticket[index] ^= 1 << data.draw(st.integers(0, 7))
    assert keys.open(bytes(ticket), T0) is None


def test_truncated_and_extended_tickets_are_rejected() -> None:
    keys, _ = make_keys()
    ticket = keys.seal(make_session(), T0)
    for n in range(len(ticket)):
        assert keys.open(ticket[:n], T0) is None
    assert keys.open(ticket + b"\x00", T0) is None


@given(st.binary(max_size=300))
def test_garbage_is_rejected(garbage: bytes) -> None:
    keys, _ = make_keys()
    assert keys.open(garbage, T0) is None


def test_garbage_with_a_known_key_name_is_rejected() -> None:
    keys, _ = make_keys()
    ((key_name, _key),) = exported_keys(keys)
    assert keys.open(key_name + bytes(100), T0) is None


def test_authentic_but_undecodable_plaintext_is_rejected() -> None:
    """A ticket whose AEAD verifies but whose plaintext is not a Session opens to None, not an exception."""
    keys, _ = make_keys()
    ((key_name, key),) = exported_keys(keys)
    nonce = bytes(12)
    for plaintext in (b"", b"\x02" + make_session().to_bytes()[1:], b"\x01garbage"):
        ticket = key_name + nonce + AESGCM(key).encrypt(nonce, plaintext, key_name)
        assert keys.open(ticket, T0) is None


def test_key_name_is_bound_as_aad() -> None:
    keys, _ = make_keys()
    ((key_name, key),) = exported_keys(keys)
    nonce = bytes(12)
    ticket = key_name + nonce + AESGCM(key).encrypt(nonce, make_session().to_bytes(), None)
    assert keys.open(ticket, T0) is None


def test_unknown_key_is_rejected() -> None:
    keys_a, _ = make_keys()
    keys_b = TicketKeys(provider=SteppingProvider(seed=99))
    assert keys_b.open(keys_a.seal(make_session(), T0), T0) is None


def test_previous_key_is_accepted_with_renewal_and_older_rejected() -> None:
    """RFC 5077 §5.5: keys rotate; the previous key still opens, so the server can renew the ticket."""
    keys, _ = make_keys()
    session = make_session()
    first = keys.seal(session, T0)
    keys.rotate(T0 + 1)
    second = keys.seal(session, T0 + 1)
    assert keys.open(first, T0 + 2) == (session, True)
    assert keys.open(second, T0 + 2) == (session, False)
    keys.rotate(T0 + 3)
    assert keys.open(first, T0 + 4) is None
    assert keys.open(second, T0 + 4) == (session, True)


def test_automatic_rotation_after_rotate_after() -> None:
    keys, _ = make_keys(rotate_after=12 * HOUR)
    session = make_session()
    ticket = keys.seal(session, T0)
    assert keys.open(ticket, T0 + 12 * HOUR - 1) == (session, False)
    assert keys.open(ticket, T0 + 12 * HOUR) == (session, True)  # rotated just now
    newer = keys.seal(session, T0 + 12 * HOUR)
    assert newer[:16] != ticket[:16]
    assert keys.open(newer, T0 + 12 * HOUR + 1) == (session, False)


def test_automatic_rotation_on_seal() -> None:
    keys, _ = make_keys(rotate_after=100, lifetime=10_000)
    session = make_session()
    first = keys.seal(session, T0)
    second = keys.seal(session, T0 + 100)  # seal rotates first
    assert first[:16] != second[:16]
    assert keys.open(first, T0 + 100) == (session, True)
    keys.seal(session, T0 + 200)  # second rotation: first's key is gone
    assert keys.open(first, T0 + 200) is None


def test_old_ticket_rejected_even_if_key_is_known() -> None:
    """RFC 5077 §5.6: tickets are accepted only within their lifetime."""
    keys, _ = make_keys(rotate_after=math.inf, lifetime=3600)
    session = make_session(created_at=T0)
    ticket = keys.seal(session, T0)
    assert keys.open(ticket, T0 + 3599) == (session, False)
    assert keys.open(ticket, T0 + 3600) is None


def test_ticket_for_expired_session_is_rejected() -> None:
    keys, _ = make_keys(lifetime=24 * 3600)
    session = make_session(created_at=T0, lifetime=60)
    ticket = keys.seal(session, T0)
    assert keys.open(ticket, T0 + 59) is not None
    assert keys.open(ticket, T0 + 60) is None


def test_lifetime_counts_from_session_creation_not_sealing() -> None:
    keys, _ = make_keys(rotate_after=math.inf, lifetime=3600)
    session = make_session(created_at=T0)
    renewed = keys.seal(session, T0 + 3000)
    assert keys.open(renewed, T0 + 3600) is None


def test_keys_come_from_the_provider() -> None:
    keys_a, _ = make_keys()
    keys_b, _ = make_keys()  # same seed
    assert keys_a.export_state() == keys_b.export_state()
    provider = SteppingProvider()
    TicketKeys(provider=provider)
    assert provider.random_calls == 2  # key name and key


def test_explicit_key_is_shared_between_nodes() -> None:
    key = bytes(range(32))
    node_a = TicketKeys(provider=SteppingProvider(seed=1), key=key, rotate_after=math.inf)
    node_b = TicketKeys(provider=SteppingProvider(seed=2), key=key, rotate_after=math.inf)
    session = make_session()
    assert node_b.open(node_a.seal(session, T0), T0) == (session, False)
    ((key_name, exported),) = exported_keys(node_a)
    assert exported == key and key_name != key[:16]


def test_explicit_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        TicketKeys(provider=SteppingProvider(), key=bytes(16))


@pytest.mark.parametrize("kwargs", [{"rotate_after": 0}, {"rotate_after": -1.0}, {"lifetime": 0}])
def test_bad_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TicketKeys(provider=SteppingProvider(), **kwargs)  # type: ignore[arg-type]


def test_export_import_shares_current_and_previous_keys() -> None:
    leader, _ = make_keys()
    session = make_session()
    old = leader.seal(session, T0)
    leader.rotate(T0 + 1)
    new = leader.seal(session, T0 + 1)
    follower = TicketKeys(provider=SteppingProvider(seed=3), rotate_after=math.inf)
    assert follower.open(new, T0 + 2) is None
    follower.import_state(leader.export_state())
    assert follower.export_state() == leader.export_state()
    assert follower.open(new, T0 + 2) == (session, False)
    assert follower.open(old, T0 + 2) == (session, True)
    assert leader.open(follower.seal(session, T0 + 2), T0 + 2) == (session, False)


def test_import_state_keeps_key_ages() -> None:
    leader, _ = make_keys(rotate_after=100)
    follower = TicketKeys(provider=SteppingProvider(seed=3), rotate_after=100)
    follower.import_state(leader.export_state())
    ticket = leader.seal(make_session(), T0)
    assert follower.open(ticket, T0 + 100) == (make_session(), True)  # the imported key was due


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: b"",
        lambda s: s[:-1],
        lambda s: s + b"\x00",
        lambda s: b"\x02" + s[1:],
        lambda s: s[:1] + b"\x00" + s[2:],
        lambda s: s[:1] + b"\x03" + s[2:],
    ],
)
def test_import_state_rejects_malformed(mangle: object) -> None:
    leader, _ = make_keys()
    leader.rotate(T0)
    state = leader.export_state()
    follower = TicketKeys(provider=SteppingProvider(seed=3))
    before = follower.export_state()
    with pytest.raises(SessionFormatError):
        follower.import_state(mangle(state))  # type: ignore[operator]
    assert follower.export_state() == before


def test_import_state_rejects_duplicate_key_names() -> None:
    leader, _ = make_keys()
    state = leader.export_state()
    doubled = b"\x01\x02" + state[2:] + state[2:]
    with pytest.raises(SessionFormatError):
        TicketKeys(provider=SteppingProvider(seed=3)).import_state(doubled)


def test_repr_hides_keys() -> None:
    keys, _ = make_keys()
    keys.rotate(T0)
    text = repr(keys) + str(keys)
    for _key_name, key in exported_keys(keys):
        assert key.hex() not in text
        assert repr(key)[2:-1] not in text
    assert "keys=2" in text


def test_oversized_ticket_is_refused() -> None:
    keys, _ = make_keys()
    big = dataclasses.replace(make_session(), peer_certificates=(bytes(70_000),))
    with pytest.raises(ValueError):
        keys.seal(big, T0)
    assert len(keys.seal(make_session(), T0)) < MAX_TICKET_LENGTH


@given(st.floats(0, 20 * 24 * HOUR), st.integers(0, 3))
def test_open_outcome_matches_the_rules(elapsed: float, rotations: int) -> None:
    """Whatever the clock and rotations: accepted iff within lifetime and key is current or previous."""
    keys, _ = make_keys(rotate_after=math.inf, lifetime=24 * 3600)
    session = make_session(created_at=T0)
    ticket = keys.seal(session, T0)
    for i in range(rotations):
        keys.rotate(T0 + i)
    result = keys.open(ticket, T0 + elapsed)
    if elapsed >= 24 * 3600 or rotations >= 2:
        assert result is None
    else:
        assert result == (session, rotations == 1)


def test_thread_safety_under_rotation() -> None:
    keys = TicketKeys(provider=OsProvider(), rotate_after=math.inf)
    session = make_session()
    failures: list[object] = []
    tickets: list[bytes] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            for _ in range(200):
                ticket = keys.seal(session, T0)
                result = keys.open(ticket, T0)
                if result is None or result[0] != session:
                    failures.append(result)
                with lock:
                    tickets.append(ticket)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    keys.rotate(T0)  # one rotation while they run: every ticket stays current or previous
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert len(tickets) == 800
    assert len(set(tickets)) == 800
