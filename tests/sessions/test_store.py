"""Session codec and MemorySessionStore."""

from __future__ import annotations

import struct
import threading

import pytest
from hypothesis import given, settings, strategies as st

from handclasp.errors import HandclaspError
from handclasp.sessions import MemorySessionStore, Session, SessionFormatError, SessionStore
from handclasp.wire.enums import CipherSuite, ProtocolVersion

MASTER = bytes(range(48))


def make_session(**changes: object) -> Session:
    fields: dict[str, object] = {
        "version": ProtocolVersion.TLS1_2,
        "cipher_suite": CipherSuite(0xC02F),
        "master_secret": MASTER,
        "extended_master_secret": True,
        "server_name": "example.com",
        "alpn_protocol": "h2",
        "peer_certificates": (b"\x30\x03\x02\x01\x01", b"\x30\x00"),
        "created_at": 1_000_000.5,
        "lifetime": 3600,
    }
    fields.update(changes)
    return Session(**fields)  # type: ignore[arg-type]


uint32 = st.integers(min_value=0, max_value=0xFFFFFFFF)
sessions = st.builds(
    Session,
    version=st.integers(0, 0xFFFF).map(ProtocolVersion),
    cipher_suite=st.integers(0, 0xFFFF).map(CipherSuite),
    master_secret=st.binary(max_size=255),
    extended_master_secret=st.booleans(),
    server_name=st.none() | st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    alpn_protocol=st.none() | st.text(st.characters(max_codepoint=255), max_size=40),
    peer_certificates=st.lists(st.binary(max_size=300), max_size=4).map(tuple),
    created_at=st.floats(allow_nan=False, allow_infinity=False),
    lifetime=uint32,
    ticket_age_add=uint32,
    max_early_data_size=uint32,
    encrypt_then_mac=st.booleans(),
)


@given(sessions)
def test_session_round_trips(session: Session) -> None:
    data = session.to_bytes()
    assert data[0] == 1  # format version first
    decoded = Session.from_bytes(data)
    assert decoded == session
    assert decoded.to_bytes() == data
    assert type(decoded.version) is ProtocolVersion
    assert type(decoded.cipher_suite) is CipherSuite


def test_session_encoding_is_stable() -> None:
    """The stored format is a contract (tickets outlive processes): pin it byte for byte."""
    data = make_session(ticket_age_add=7, max_early_data_size=0x10000, encrypt_then_mac=True).to_bytes()
    expected = (
        b"\x01"  # format version
        + b"\x03\x03"  # TLS 1.2
        + b"\xc0\x2f"
        + b"\x0f"  # ems | etm | server_name | alpn
        + b"\x30"
        + MASTER
        + b"\x00\x0bexample.com"
        + b"\x02h2"
        + b"\x00\x00\x0d"
        + b"\x00\x00\x05\x30\x03\x02\x01\x01"
        + b"\x00\x00\x02\x30\x00"
        + struct.pack(">d", 1_000_000.5)
        + b"\x00\x00\x0e\x10"
        + b"\x00\x00\x00\x07"
        + b"\x00\x01\x00\x00"
    )
    assert data == expected


def test_absent_and_empty_optional_strings_differ() -> None:
    none = make_session(server_name=None, alpn_protocol=None)
    empty = make_session(server_name="", alpn_protocol="")
    assert none.to_bytes() != empty.to_bytes()
    assert Session.from_bytes(none.to_bytes()).server_name is None
    assert Session.from_bytes(empty.to_bytes()).alpn_protocol == ""


def test_every_strict_prefix_is_rejected() -> None:
    data = make_session().to_bytes()
    for n in range(len(data)):
        with pytest.raises(SessionFormatError):
            Session.from_bytes(data[:n])


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(SessionFormatError):
        Session.from_bytes(make_session().to_bytes() + b"\x00")


def test_unknown_format_version_is_rejected() -> None:
    data = make_session().to_bytes()
    for version in (0, 2, 255):
        with pytest.raises(SessionFormatError):
            Session.from_bytes(bytes([version]) + data[1:])


def test_unknown_flag_bits_are_rejected() -> None:
    data = bytearray(make_session().to_bytes())
    data[5] |= 0x80
    with pytest.raises(SessionFormatError):
        Session.from_bytes(bytes(data))


def test_invalid_utf8_server_name_is_a_format_error() -> None:
    data = make_session(server_name="ab", alpn_protocol=None).to_bytes()
    bad = data.replace(b"\x00\x02ab", b"\x00\x02\xff\xfe")
    assert bad != data
    with pytest.raises(SessionFormatError):
        Session.from_bytes(bad)


def test_non_finite_created_at_is_a_format_error() -> None:
    data = make_session().to_bytes()
    good = struct.pack(">d", 1_000_000.5)
    bad = data.replace(good, struct.pack(">d", float("nan")))
    with pytest.raises(SessionFormatError):
        Session.from_bytes(bad)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_raises_only_session_format_error(data: bytes) -> None:
    try:
        session = Session.from_bytes(data)
    except SessionFormatError as exc:
        assert isinstance(exc, HandclaspError)
        assert isinstance(exc, ValueError)
    else:
        assert session.to_bytes() == data


@given(st.binary(min_size=1, max_size=200))
def test_garbage_after_a_valid_version_byte_never_crashes(tail: bytes) -> None:
    try:
        Session.from_bytes(b"\x01" + tail)
    except SessionFormatError:
        pass


def test_repr_hides_master_secret() -> None:
    session = make_session(master_secret=b"\xab" * 48)
    assert " master_secret=" not in repr(session) and "(master_secret=" not in repr(session)
    assert "abab" not in repr(session) and "\\xab" not in repr(session)


@pytest.mark.parametrize(
    "changes",
    [
        {"master_secret": b"x" * 256},
        {"lifetime": -1},
        {"lifetime": 2**32},
        {"ticket_age_add": 2**32},
        {"max_early_data_size": -1},
        {"created_at": float("inf")},
        {"created_at": float("nan")},
        {"alpn_protocol": "\u0100"},
        {"alpn_protocol": "a" * 256},
        {"server_name": "\ud800"},
        {"version": ProtocolVersion(0x10000)},
    ],
)
def test_unencodable_sessions_cannot_be_built(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_session(**changes)


def test_is_expired_boundary() -> None:
    session = make_session(created_at=100.0, lifetime=10)
    assert not session.is_expired(100.0)
    assert not session.is_expired(109.999)
    assert session.is_expired(110.0)


# --- MemorySessionStore


def test_memory_store_satisfies_protocol() -> None:
    store: SessionStore = MemorySessionStore()
    store.put(b"id", make_session())
    assert store.get(b"id", 1_000_000.5) == make_session()


def test_store_get_returns_none_for_absent() -> None:
    assert MemorySessionStore().get(b"nope", 0.0) is None


def test_store_get_is_repeatable_and_take_is_single_use() -> None:
    store = MemorySessionStore()
    session = make_session(created_at=0.0, lifetime=100)
    store.put(b"a", session)
    assert store.get(b"a", 1.0) is session
    assert store.get(b"a", 1.0) is session
    assert store.take(b"a", 1.0) is session
    assert store.take(b"a", 1.0) is None
    assert store.get(b"a", 1.0) is None


def test_store_expiry_drops_entries() -> None:
    store = MemorySessionStore()
    store.put(b"a", make_session(created_at=0.0, lifetime=100))
    store.put(b"b", make_session(created_at=0.0, lifetime=100))
    assert store.get(b"a", 99.9) is not None
    assert store.get(b"a", 100.0) is None
    assert len(store) == 1  # the expired entry is gone, not just hidden
    assert store.take(b"b", 100.0) is None
    assert len(store) == 0


def test_store_purge_expired() -> None:
    store = MemorySessionStore()
    for i in range(10):
        store.put(bytes([i]), make_session(created_at=0.0, lifetime=i * 10))
    assert store.purge_expired(45.0) == 5
    assert len(store) == 5
    assert store.get(b"\x05", 45.0) is not None


def test_store_remove() -> None:
    store = MemorySessionStore()
    store.put(b"a", make_session())
    store.remove(b"a")
    store.remove(b"a")  # absent: no error
    assert store.get(b"a", 1_000_000.5) is None


def test_store_put_replaces() -> None:
    store = MemorySessionStore()
    store.put(b"a", make_session(server_name="one"))
    store.put(b"a", make_session(server_name="two"))
    assert len(store) == 1
    found = store.get(b"a", 1_000_000.5)
    assert found is not None and found.server_name == "two"


def test_store_is_bounded_lru() -> None:
    store = MemorySessionStore(max_entries=3)
    now = 1_000_000.5
    for key in (b"a", b"b", b"c"):
        store.put(key, make_session())
    assert store.get(b"a", now) is not None  # a is now most recently used
    store.put(b"d", make_session())  # evicts b, the least recently used
    assert len(store) == 3
    assert store.get(b"b", now) is None
    assert all(store.get(k, now) is not None for k in (b"a", b"c", b"d"))


@given(st.lists(st.integers(0, 20), max_size=200), st.integers(1, 8))
def test_store_never_exceeds_its_bound(keys: list[int], bound: int) -> None:
    store = MemorySessionStore(max_entries=bound)
    session = make_session()
    for key in keys:
        store.put(bytes([key]), session)
        assert len(store) <= bound
    if keys:  # the last put always survives
        assert store.get(bytes([keys[-1]]), 1_000_000.5) is session


def test_store_rejects_zero_bound() -> None:
    with pytest.raises(ValueError):
        MemorySessionStore(max_entries=0)


def test_store_default_bound() -> None:
    assert MemorySessionStore().max_entries == 10_000


def test_store_is_thread_safe() -> None:
    store = MemorySessionStore(max_entries=50)
    session = make_session(created_at=0.0, lifetime=1000)
    errors: list[BaseException] = []
    taken = [0] * 4

    def work(worker: int) -> None:
        try:
            for i in range(500):
                key = bytes([worker, i % 64])
                store.put(key, session)
                store.get(bytes([(worker + 1) % 4, i % 64]), 1.0)
                if store.take(key, 1.0) is not None:
                    taken[worker] += 1
                store.put(key, session)
                store.remove(bytes([worker, (i + 7) % 64]))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(store) <= 50
    assert sum(taken) > 0
