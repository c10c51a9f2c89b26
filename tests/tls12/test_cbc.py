"""AES-CBC + HMAC record protection: MtE (RFC 5246 §6.2.3.2), EtM (RFC 7366), TLS 1.0 implicit IVs."""

from __future__ import annotations

import contextlib
import hmac
import itertools
import random
import selectors
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings, strategies as st

from handclasp.errors import BadRecordMac, InternalError
from handclasp.legacy.cbc import CbcProtection
from handclasp.legacy.prf10 import p_hash, prf10
from handclasp.wire.enums import AlertDescription, ContentType, ProtocolVersion

VERSIONS = (ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_1, ProtocolVersion.TLS1_2)
MAC_LENGTHS = {"sha1": 20, "sha256": 32, "sha384": 48}
APP = ContentType.APPLICATION_DATA


class SeededProvider:
    def __init__(self, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self.drawn: list[bytes] = []

    def random(self, n: int) -> bytes:
        out = self._rng.randbytes(n)
        self.drawn.append(out)
        return out

    def now(self) -> float:
        return 0.0


def make_pair(
    version: ProtocolVersion,
    *,
    etm: bool,
    mac: str = "sha256",
    key_len: int = 16,
    seed: int = 1,
) -> tuple[CbcProtection, CbcProtection, dict[str, Any]]:
    rng = random.Random(seed)
    keys: dict[str, Any] = {
        "cipher_key": rng.randbytes(key_len),
        "mac_key": rng.randbytes(MAC_LENGTHS[mac]),
        "mac_hash_name": mac,
        "iv": rng.randbytes(16) if version == ProtocolVersion.TLS1_0 else b"",
        "version": version,
        "encrypt_then_mac": etm,
        "is_tls10_implicit_iv": version == ProtocolVersion.TLS1_0,
    }
    writer = CbcProtection(**keys, provider=SeededProvider(seed))
    reader = CbcProtection(**keys, provider=SeededProvider(seed + 1))
    return writer, reader, keys


def assert_bad_record_mac(excinfo: pytest.ExceptionInfo[BadRecordMac]) -> None:
    assert type(excinfo.value) is BadRecordMac
    assert excinfo.value.alert is AlertDescription.BAD_RECORD_MAC


MODES = [
    pytest.param(version, etm, id=f"{version.name}-{'etm' if etm else 'mte'}")
    for version, etm in itertools.product(VERSIONS, (False, True))
]


# --- round trips


@pytest.mark.parametrize(("version", "etm"), MODES)
@pytest.mark.parametrize("mac", sorted(MAC_LENGTHS))
@pytest.mark.parametrize("key_len", [16, 32])
def test_round_trip_over_many_records(version: ProtocolVersion, etm: bool, mac: str, key_len: int) -> None:
    writer, reader, _ = make_pair(version, etm=etm, mac=mac, key_len=key_len)
    for length in (0, 1, 15, 16, 17, 31, 32, 100, 1000, 2**14):
        payload = bytes((length + i) % 251 for i in range(length))
        body = writer.seal(APP, version, payload)
        assert len(body) % 16 == 0 or etm
        assert len(body) - len(payload) <= writer.max_overhead
        assert reader.open(APP, version, body) == payload


@settings(max_examples=40, deadline=None)
@given(
    mode=st.sampled_from([(v, e) for v in VERSIONS for e in (False, True)]),
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
)
def test_round_trip_any_payloads(mode: tuple[ProtocolVersion, bool], payloads: list[bytes]) -> None:
    version, etm = mode
    writer, reader, _ = make_pair(version, etm=etm, mac="sha1")
    for payload in payloads:
        assert (
            reader.open(ContentType.HANDSHAKE, version, writer.seal(ContentType.HANDSHAKE, version, payload))
            == payload
        )


def test_accepts_memoryview_payload_and_body() -> None:
    writer, reader, _ = make_pair(ProtocolVersion.TLS1_2, etm=False)
    body = writer.seal(APP, 0x0303, memoryview(b"hello world"))
    assert reader.open(APP, 0x0303, memoryview(body)) == b"hello world"


# --- wire format against an independent construction


def _mac(
    mac_key: bytes, mac_name: str, seq: int, ctype: int, version: int, data: bytes, length: int
) -> bytes:
    header = seq.to_bytes(8, "big") + bytes((ctype,)) + version.to_bytes(2, "big") + length.to_bytes(2, "big")
    return hmac.new(mac_key, header + data, mac_name).digest()


def _cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def test_tls12_mac_then_encrypt_record_format() -> None:
    """RFC 5246 §6.2.3.2: IV || CBC(content || HMAC(seq||type||version||length||content) || padding)."""
    writer, _, k = make_pair(ProtocolVersion.TLS1_2, etm=False, mac="sha1")
    expected_ivs = SeededProvider(1)
    content = b"GET / HTTP/1.1\r\n\r\n"
    for seq in range(3):
        body = writer.seal(APP, 0x0303, content)
        iv = expected_ivs.random(16)
        mac = _mac(k["mac_key"], "sha1", seq, 23, 0x0303, content, len(content))
        pad = 15 - (len(content) + 20) % 16
        assert body == iv + _cbc(k["cipher_key"], iv, content + mac + bytes((pad,)) * (pad + 1))


def test_tls12_encrypt_then_mac_record_format() -> None:
    """RFC 7366 §3: IV || CBC(content || padding) || HMAC(seq||type||version||len(IV||C)||IV||C)."""
    writer, _, k = make_pair(ProtocolVersion.TLS1_2, etm=True, mac="sha256")
    expected_ivs = SeededProvider(1)
    content = b"x" * 40
    for seq in range(3):
        body = writer.seal(ContentType.ALERT, 0x0303, content)
        iv = expected_ivs.random(16)
        encrypted = iv + _cbc(k["cipher_key"], iv, content + bytes((7,)) * 8)
        mac = _mac(k["mac_key"], "sha256", seq, 21, 0x0303, encrypted, len(encrypted))
        assert body == encrypted + mac


@pytest.mark.parametrize("etm", [False, True])
def test_tls10_iv_chains_from_the_previous_record(etm: bool) -> None:
    """RFC 2246 §6.2.3.2: no explicit IV; each record's IV is the last ciphertext block before it."""
    writer, _, k = make_pair(ProtocolVersion.TLS1_0, etm=etm, mac="sha1")
    iv = k["iv"]
    for seq, content in enumerate((b"first", b"second record, longer" * 3, b"")):
        body = writer.seal(APP, 0x0301, content)
        if etm:
            pad = 15 - len(content) % 16
            ciphertext = _cbc(k["cipher_key"], iv, content + bytes((pad,)) * (pad + 1))
            mac = _mac(k["mac_key"], "sha1", seq, 23, 0x0301, ciphertext, len(ciphertext))
            assert body == ciphertext + mac
        else:
            mac = _mac(k["mac_key"], "sha1", seq, 23, 0x0301, content, len(content))
            pad = 15 - (len(content) + 20) % 16
            ciphertext = _cbc(k["cipher_key"], iv, content + mac + bytes((pad,)) * (pad + 1))
            assert body == ciphertext
        iv = ciphertext[-16:]


# --- tampering: every failure is the same BadRecordMac


def _record_builder(version: ProtocolVersion, etm: bool) -> tuple[CbcProtection, Callable[..., bytes]]:
    """A reader and a function that builds records under its keys with chosen padding and MAC."""
    _, reader, k = make_pair(version, etm=etm, mac="sha1")
    explicit = version != ProtocolVersion.TLS1_0
    iv0 = k["iv"] if not explicit else b"\x42" * 16

    def build(content: bytes, padding: bytes, *, seq: int = 0, mac_ok: bool = True) -> bytes:
        if etm:
            ciphertext = _cbc(k["cipher_key"], iv0, content + padding)
            encrypted = (iv0 if explicit else b"") + ciphertext
            mac = _mac(k["mac_key"], "sha1", seq, 23, int(version), encrypted, len(encrypted))
            return encrypted + (mac if mac_ok else bytes(20))
        mac = _mac(k["mac_key"], "sha1", seq, 23, int(version), content, len(content))
        ciphertext = _cbc(k["cipher_key"], iv0, content + (mac if mac_ok else bytes(20)) + padding)
        return (iv0 if explicit else b"") + ciphertext

    return reader, build


@pytest.mark.parametrize(("version", "etm"), MODES)
def test_long_valid_padding_is_accepted(version: ProtocolVersion, etm: bool) -> None:
    """RFC 5246 §6.2.3.2: padding may be up to 255 bytes; any length making a block multiple is valid."""
    reader, build = _record_builder(version, etm)
    content = b"abc"
    pad = 255 - ((len(content) + (0 if etm else 20) + 256) % 16)
    assert (len(content) + (0 if etm else 20) + pad + 1) % 16 == 0
    assert reader.open(APP, int(version), build(content, bytes((pad,)) * (pad + 1))) == content


def _bad_paddings(data_len: int) -> list[bytes]:
    """Block-aligned paddings (same length as the minimal one) that are nevertheless invalid."""
    pad = 15 - data_len % 16
    bad = [
        bytes((pad + 16,)) * (pad + 1),  # claims 16 more padding bytes than there are
        bytes((255,)) * (pad + 1),  # claims more padding than the record holds
        bytes((pad + 1,)) * (pad + 1),  # claims one byte more: that byte is content or MAC
    ]
    if pad:
        bad.append(bytes((pad ^ 0x80,)) + bytes((pad,)) * pad)  # first padding byte wrong
        bad.append(bytes((pad,)) * pad + bytes((pad - 1,)))  # length byte disagrees with the bytes
    return bad


@pytest.mark.parametrize(("version", "etm"), MODES)
def test_bad_padding_with_good_mac_is_bad_record_mac(version: ProtocolVersion, etm: bool) -> None:
    """RFC 5246 §6.2.3.2 / RFC 7366 §3: a padding error is reported exactly like a MAC error."""
    for content in (b"", b"abc", b"x" * 27, b"y" * 100):
        data_len = len(content) + (0 if etm else 20)
        for padding in _bad_paddings(data_len):
            assert (data_len + len(padding)) % 16 == 0
            reader, build = _record_builder(version, etm)
            with pytest.raises(BadRecordMac) as excinfo:
                reader.open(APP, int(version), build(content, padding))
            assert_bad_record_mac(excinfo)


@pytest.mark.parametrize(("version", "etm"), MODES)
def test_bad_mac_with_good_padding_is_bad_record_mac(version: ProtocolVersion, etm: bool) -> None:
    reader, build = _record_builder(version, etm)
    content = b"hello"
    pad = 15 - (len(content) + (0 if etm else 20)) % 16
    with pytest.raises(BadRecordMac) as excinfo:
        reader.open(APP, int(version), build(content, bytes((pad,)) * (pad + 1), mac_ok=False))
    assert_bad_record_mac(excinfo)


@pytest.mark.parametrize(("version", "etm"), MODES)
def test_every_single_bit_flip_is_bad_record_mac(version: ProtocolVersion, etm: bool) -> None:
    writer, _, _ = make_pair(version, etm=etm, mac="sha1")
    body = writer.seal(APP, int(version), b"attack at dawn, bring snacks")
    for position in range(len(body)):
        _, reader, _ = make_pair(version, etm=etm, mac="sha1")
        tampered = bytearray(body)
        tampered[position] ^= 0x01
        with pytest.raises(BadRecordMac) as excinfo:
            reader.open(APP, int(version), bytes(tampered))
        assert_bad_record_mac(excinfo)


@pytest.mark.parametrize(("version", "etm"), MODES)
def test_wrong_length_truncated_or_extended_is_bad_record_mac(version: ProtocolVersion, etm: bool) -> None:
    writer, _, _ = make_pair(version, etm=etm, mac="sha1")
    body = writer.seal(APP, int(version), b"z" * 50)
    variants = [b"", body[:1], body[:15], body[:16], body[:-1], body[:-16], body[:-20], body[16:], body + b"\x00",
                body + bytes(16), bytes(len(body))]  # fmt: skip
    for variant in variants:
        _, reader, _ = make_pair(version, etm=etm, mac="sha1")
        with pytest.raises(BadRecordMac) as excinfo:
            reader.open(APP, int(version), variant)
        assert_bad_record_mac(excinfo)


@pytest.mark.parametrize(("version", "etm"), MODES)
def test_header_and_sequence_are_authenticated(version: ProtocolVersion, etm: bool) -> None:
    """The MAC covers seq, type and version (RFC 5246 §6.2.3.1): replay, reorder, retyping fail."""
    writer, _, _ = make_pair(version, etm=etm)
    first = writer.seal(APP, int(version), b"one")
    second = writer.seal(APP, int(version), b"two")
    cases: list[list[tuple[ContentType, int, bytes]]] = [
        [(ContentType.HANDSHAKE, int(version), first)],
        [(APP, 0x0303 if version != ProtocolVersion.TLS1_2 else 0x0302, first)],
        [(APP, int(version), second)],  # skipped record
    ]
    if version != ProtocolVersion.TLS1_0:  # with chained IVs the replayed record fails anyway
        cases.append([(APP, int(version), first), (APP, int(version), first)])  # replay
    for steps in cases:
        _, reader, _ = make_pair(version, etm=etm)
        *good, (ctype, record_version, body) = steps
        for good_type, good_version, good_body in good:
            reader.open(good_type, good_version, good_body)
        with pytest.raises(BadRecordMac) as excinfo:
            reader.open(ctype, record_version, body)
        assert_bad_record_mac(excinfo)


# --- Lucky Thirteen: the MAC is computed over the same amount of data whatever the padding


class CountingMac:
    """Wraps the keyed HMAC and counts the bytes each copy absorbs."""

    def __init__(self, inner: Any, log: list[int]) -> None:
        self._inner = inner
        self._log = log
        self._count = 0

    def copy(self) -> CountingMac:
        return CountingMac(self._inner.copy(), self._log)

    def update(self, data: bytes) -> None:
        self._count += len(data)
        self._inner.update(data)

    def digest(self) -> bytes:
        self._log.append(self._count)
        return bytes(self._inner.digest())


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_mte_hashes_the_same_byte_count_for_good_and_bad_padding(version: ProtocolVersion) -> None:
    """RFC 5246 §6.2.3.2 note: compute the MAC even when the padding is bad, over a same-length input."""
    totals = []
    cases = [(b"a" * 43, bytes((0,))), (b"a" * 28, bytes((15,)) * 16), (b"a" * 12, bytes((31,)) * 32),
             (b"a" * 43, bytes((9,))), (b"a" * 12, bytes((31,)) * 31 + b"\x30")]  # fmt: skip
    for content, padding in cases:
        reader, build = _record_builder(version, etm=False)
        log: list[int] = []
        reader._mac = CountingMac(reader._mac, log)  # type: ignore[assignment]
        record = build(content, padding)
        assert len(record) == (64 if version == ProtocolVersion.TLS1_0 else 80)
        try:
            reader.open(APP, int(version), record)
        except BadRecordMac:
            pass
        assert len(log) == 2  # the real MAC and the dummy pass, always both
        totals.append(sum(log))
    # 13 header bytes + (64 - 1 - 20) plaintext bytes, whatever the padding was
    assert totals == [13 + 64 - 1 - 20] * len(cases)


# --- limits and construction


def test_sequence_number_must_not_wrap() -> None:
    """RFC 5246 §6.1: sequence numbers never wrap; the connection must stop first."""
    writer, _, _ = make_pair(ProtocolVersion.TLS1_2, etm=True)
    writer._seq = 2**64 - 1
    writer.seal(APP, 0x0303, b"last")
    with pytest.raises(InternalError):
        writer.seal(APP, 0x0303, b"one too many")


def test_constructor_rejects_inconsistent_parameters() -> None:
    _, _, k = make_pair(ProtocolVersion.TLS1_2, etm=False)
    provider = SeededProvider()
    with pytest.raises(ValueError):
        CbcProtection(**{**k, "is_tls10_implicit_iv": True}, provider=provider)
    with pytest.raises(ValueError):
        CbcProtection(**{**k, "cipher_key": bytes(24)}, provider=provider)
    with pytest.raises(ValueError):
        CbcProtection(**{**k, "mac_key": bytes(19)}, provider=provider)
    with pytest.raises(ValueError):
        CbcProtection(**{**k, "mac_hash_name": "md5", "mac_key": bytes(16)}, provider=provider)
    with pytest.raises(ValueError):
        CbcProtection(
            **{**k, "version": ProtocolVersion.TLS1_0, "is_tls10_implicit_iv": True}, provider=provider
        )


def test_explicit_ivs_come_from_the_provider() -> None:
    """TLS 1.1+ (RFC 4346 §6.2.3.2): a fresh random IV per record, from the injected provider."""
    provider = SeededProvider(99)
    _, _, k = make_pair(ProtocolVersion.TLS1_1, etm=False)
    writer = CbcProtection(**k, provider=provider)
    bodies = [writer.seal(APP, 0x0302, b"same") for _ in range(3)]
    assert [body[:16] for body in bodies] == provider.drawn
    assert len(set(bodies)) == 3


# --- cross-check against real OpenSSL: decrypt what openssl s_client sends through a loopback relay

OPENSSL = shutil.which("openssl")

INTEROP_CASES = [
    pytest.param("-tls1_2", "AES128-SHA256", True, id="tls12-aes128-sha256-etm"),
    pytest.param("-tls1_2", "AES128-SHA256", False, id="tls12-aes128-sha256-mte"),
    pytest.param("-tls1_2", "AES256-SHA", False, id="tls12-aes256-sha-mte"),
    pytest.param("-tls1", "AES128-SHA", True, id="tls10-aes128-sha-etm"),
    pytest.param("-tls1", "AES128-SHA", False, id="tls10-aes128-sha-mte"),
]
_INTEROP_SUITES = {  # cipher name -> (mac name, mac length, key length)
    "AES128-SHA256": ("sha256", 32, 16),
    "AES128-SHA": ("sha1", 20, 16),
    "AES256-SHA": ("sha1", 20, 32),
}


def _records(stream: bytes) -> list[tuple[int, int, bytes]]:
    records, offset = [], 0
    while offset + 5 <= len(stream):  # bounded by the stream length
        ctype, version, length = struct.unpack_from(">BHH", stream, offset)
        records.append((ctype, version, stream[offset + 5 : offset + 5 + length]))
        offset += 5 + length
    return records


def _relay_once(listener: socket.socket, upstream_port: int, captured: dict[str, bytes]) -> None:
    """Forward one connection to upstream_port and keep both directions' bytes (bounded in time)."""
    deadline = time.monotonic() + 20
    listener.settimeout(20)
    down, _ = listener.accept()
    up = socket.create_connection(("127.0.0.1", upstream_port), timeout=20)
    flows = {down: (up, "c2s"), up: (down, "s2c")}
    data = {"c2s": bytearray(), "s2c": bytearray()}
    with selectors.DefaultSelector() as selector:
        for endpoint in flows:
            selector.register(endpoint, selectors.EVENT_READ)
        while flows and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.5):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                other, name = flows[sock]
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    selector.unregister(sock)
                    del flows[sock]
                    with contextlib.suppress(OSError):
                        other.shutdown(socket.SHUT_WR)
                    continue
                data[name] += chunk
                with contextlib.suppress(OSError):
                    other.sendall(chunk)
    down.close()
    up.close()
    captured.update({name: bytes(value) for name, value in data.items()})


def _run_openssl_pair(
    tmp_path: Path, version_flag: str, cipher: str, etm: bool
) -> tuple[dict[str, bytes], str]:
    assert OPENSSL is not None
    from handclasp.tools.certs import LocalCA

    cert, key, keylog = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "keylog.txt"
    LocalCA.create().issue(["localhost"], "rsa2048").write_pem(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        server_port = probe.getsockname()[1]
    cipher_spec = f"{cipher}:@SECLEVEL=0"
    etm_flags = [] if etm else ["-no_etm"]
    server = subprocess.Popen(
        [OPENSSL, "s_server", "-accept", f"127.0.0.1:{server_port}", "-cert", str(cert), "-key", str(key),
         version_flag, "-cipher", cipher_spec, "-naccept", "1", "-keylogfile", str(keylog), *etm_flags],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # stdin EOF stops it
    )  # fmt: skip
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # s_server prints ACCEPT once it listens
            line = server.stdout.readline()
            if not line or b"ACCEPT" in line:
                break
        listener = socket.create_server(("127.0.0.1", 0))
        captured: dict[str, bytes] = {}
        relay = threading.Thread(target=_relay_once, args=(listener, server_port, captured), daemon=True)
        relay.start()
        subprocess.run(
            [OPENSSL, "s_client", "-connect", f"127.0.0.1:{listener.getsockname()[1]}", version_flag,
             "-cipher", cipher_spec, "-no_ign_eof", *etm_flags],
            input=b"hello from openssl\n", capture_output=True, timeout=20, check=False,
        )  # fmt: skip
        relay.join(timeout=20)
        listener.close()
    finally:
        if server.poll() is None:
            server.terminate()
        server.communicate(timeout=10)
    return captured, keylog.read_text()


@pytest.mark.interop
@pytest.mark.skipif(OPENSSL is None, reason="openssl CLI not installed")
@pytest.mark.parametrize(("version_flag", "cipher", "etm"), INTEROP_CASES)
def test_opens_openssl_records(tmp_path: Path, version_flag: str, cipher: str, etm: bool) -> None:
    """OpenSSL's CBC records (RFC 5246 §6.2.3.2 / RFC 7366 / RFC 2246 chaining) open with our keys."""
    captured, keylog = _run_openssl_pair(tmp_path, version_flag, cipher, etm)
    c2s, s2c = _records(captured.get("c2s", b"")), _records(captured.get("s2c", b""))
    if not c2s or not s2c or "CLIENT_RANDOM" not in keylog:
        pytest.fail(f"openssl produced no {version_flag} {cipher} records to check", pytrace=False)
    client_random, server_random = c2s[0][2][6:38], s2c[0][2][6:38]
    master = next(
        bytes.fromhex(line.split()[2]) for line in keylog.splitlines() if line.startswith("CLIENT_RANDOM")
    )
    mac_name, mac_len, key_len = _INTEROP_SUITES[cipher]
    is_tls10 = version_flag == "-tls1"
    version = ProtocolVersion.TLS1_0 if is_tls10 else ProtocolVersion.TLS1_2
    seed = server_random + client_random
    if is_tls10:
        block = prf10(master, b"key expansion", seed, 2 * (mac_len + key_len + 16))
    else:
        block = p_hash("sha256", master, b"key expansion" + seed, 2 * (mac_len + key_len))
    client_mac, server_mac = block[:mac_len], block[mac_len : 2 * mac_len]
    keys_at = 2 * mac_len
    client_key, server_key = (
        block[keys_at : keys_at + key_len],
        block[keys_at + key_len : keys_at + 2 * key_len],
    )
    ivs = block[keys_at + 2 * key_len :]

    def protection(mac_key: bytes, cipher_key: bytes, iv: bytes, use_etm: bool) -> CbcProtection:
        return CbcProtection(cipher_key=cipher_key, mac_key=mac_key, mac_hash_name=mac_name,
                             iv=iv if is_tls10 else b"", version=version, encrypt_then_mac=use_etm,
                             is_tls10_implicit_iv=is_tls10, provider=SeededProvider())  # fmt: skip

    def protected(records: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
        ccs = next(i for i, record in enumerate(records) if record[0] == ContentType.CHANGE_CIPHER_SPEC)
        return records[ccs + 1 :]

    client_records, server_records = protected(c2s), protected(s2c)
    opened: list[list[bytes]] = []
    for records, mac_key, cipher_key, iv in (
        (client_records, client_mac, client_key, ivs[:16]),
        (server_records, server_mac, server_key, ivs[16:32]),
    ):
        reader = protection(mac_key, cipher_key, iv, etm)
        plaintexts = [reader.open(ContentType(t), v, body) for t, v, body in records]
        opened.append(plaintexts)
        assert plaintexts[0][:4] == b"\x14\x00\x00\x0c"  # Finished, 12 bytes of verify_data
        # The other mode must not open the same record: the format really differs.
        first_type, first_version, first_body = records[0]
        with pytest.raises(BadRecordMac):
            protection(mac_key, cipher_key, iv, not etm).open(
                ContentType(first_type), first_version, first_body
            )
        if is_tls10:  # deterministic chaining: our seal reproduces OpenSSL's bytes exactly
            writer = protection(mac_key, cipher_key, iv, etm)
            for (t, v, body), plain in zip(records, plaintexts, strict=True):
                assert writer.seal(ContentType(t), v, plain) == body
    client_data = b"".join(
        plain
        for (t, _, _), plain in zip(client_records, opened[0], strict=True)
        if t == ContentType.APPLICATION_DATA
    )
    assert client_data == b"hello from openssl\n"
