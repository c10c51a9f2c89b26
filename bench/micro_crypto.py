"""Micro-benchmark of the crypto hot spots (not a test).

    .venv/bin/python bench/micro_crypto.py [--quick]

Prints CPU microseconds per operation (best of five runs):
- the TLS 1.3 key schedule of one full (EC)DHE handshake, as a server derives it
  (early → handshake → master secrets, four traffic secrets, their keys/IVs,
  both Finished values, exporter, resumption master and one ticket PSK), plus the
  same with the four RecordLayer key installs (AEAD objects);
- X25519 / P-256 server key exchange;
- encode + decode of one 16 KiB application_data record per suite.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable

from handclasp.crypto.groups import generate_key_exchange, server_key_exchange
from handclasp.crypto.provider import DEFAULT_PROVIDER
from handclasp.crypto.schedule13 import EarlySecret, finished_verify_data, resumption_psk, traffic_key_iv
from handclasp.crypto.suites import TLS13_SUITES, SuiteParams
from handclasp.record.layer import RecordLayer
from handclasp.wire.enums import CipherSuite, ContentType, NamedGroup


def timed(name: str, fn: Callable[[], object], iterations: int) -> float:
    for _ in range(max(1, iterations // 20)):  # warm up
        fn()
    best = float("inf")
    for _ in range(5):  # best of five runs
        start = time.process_time()  # CPU time: the machine is shared, wall time is noisy
        for _ in range(iterations):
            fn()
        best = min(best, (time.process_time() - start) / iterations)
    print(f"{name:<58} {best * 1e6:9.1f} us/op")
    return best


def key_schedule(params: SuiteParams) -> Callable[[], object]:
    shared = b"\x11" * 32
    th1 = hashlib.new(params.hash_name, b"hello").digest()
    th2 = hashlib.new(params.hash_name, b"server finished").digest()
    th3 = hashlib.new(params.hash_name, b"client finished").digest()

    def run() -> object:
        handshake = EarlySecret(params).handshake(shared)
        client_hs = handshake.client_handshake_traffic_secret(th1)
        server_hs = handshake.server_handshake_traffic_secret(th1)
        traffic_key_iv(params, client_hs)
        traffic_key_iv(params, server_hs)
        finished_verify_data(params, server_hs, th1)
        finished_verify_data(params, client_hs, th2)
        master = handshake.master()
        client_ap = master.client_application_traffic_secret_0(th2)
        server_ap = master.server_application_traffic_secret_0(th2)
        master.exporter_master_secret(th2)
        traffic_key_iv(params, client_ap)
        traffic_key_iv(params, server_ap)
        rms = master.resumption_master_secret(th3)
        return resumption_psk(params, rms, b"\x00")

    return run


def key_schedule_with_record_keys(params: SuiteParams) -> Callable[[], object]:
    shared = b"\x11" * 32
    th1 = hashlib.new(params.hash_name, b"hello").digest()
    th2 = hashlib.new(params.hash_name, b"server finished").digest()

    def run() -> object:
        layer = RecordLayer(is_client=False)
        handshake = EarlySecret(params).handshake(shared)
        client_hs = handshake.client_handshake_traffic_secret(th1)
        server_hs = handshake.server_handshake_traffic_secret(th1)
        layer.set_write_key(params, server_hs)
        layer.set_read_key(params, client_hs)
        finished_verify_data(params, server_hs, th1)
        finished_verify_data(params, client_hs, th2)
        master = handshake.master()
        layer.set_write_key(params, master.server_application_traffic_secret_0(th2))
        layer.set_read_key(params, master.client_application_traffic_secret_0(th2))
        return master.resumption_master_secret(th2)

    return run


def record_round_trip(params: SuiteParams) -> Callable[[], object]:
    secret = bytes(params.hash_len)
    writer, reader = RecordLayer(is_client=True), RecordLayer(is_client=False)
    writer.set_write_key(params, secret)
    reader.set_read_key(params, secret)
    payload = bytes(2**14)

    def run() -> object:
        reader.feed(writer.encode(ContentType.APPLICATION_DATA, payload))
        return reader.next_record()

    return run


def record_encode(params: SuiteParams) -> Callable[[], object]:
    writer = RecordLayer(is_client=True)
    writer.set_write_key(params, bytes(params.hash_len))
    payload = bytes(2**14)
    return lambda: writer.encode(ContentType.APPLICATION_DATA, payload)


def main() -> None:
    scale = 0.1 if "--quick" in sys.argv else 1.0
    aes128 = TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]
    aes256 = TLS13_SUITES[CipherSuite.TLS_AES_256_GCM_SHA384]
    timed("key schedule, one handshake (AES128/SHA256)", key_schedule(aes128), int(2000 * scale))
    timed("key schedule, one handshake (AES256/SHA384)", key_schedule(aes256), int(2000 * scale))
    timed(
        "key schedule + 4 RecordLayer key installs (AES128)",
        key_schedule_with_record_keys(aes128),
        int(2000 * scale),
    )
    for group in (NamedGroup.X25519, NamedGroup.SECP256R1):
        client_share = generate_key_exchange(group, DEFAULT_PROVIDER).public_bytes
        timed(
            f"server_key_exchange {group.name}",
            lambda g=group, c=client_share: server_key_exchange(g, c, DEFAULT_PROVIDER),  # type: ignore[misc]
            int(500 * scale),
        )
    for params in TLS13_SUITES.values():
        timed(f"16 KiB record encode ({params.suite.name})", record_encode(params), int(5000 * scale))
        timed(
            f"16 KiB record encode+decode ({params.suite.name})", record_round_trip(params), int(5000 * scale)
        )


if __name__ == "__main__":
    main()
