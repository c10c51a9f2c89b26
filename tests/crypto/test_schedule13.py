"""RFC 8446 §7.1 key schedule against RFC 8448 (sections 3, 4, 5) and RFC 5869."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given, strategies as st

import rfc8448 as v
from handclasp.crypto import schedule13
from handclasp.crypto.schedule13 import (
    EarlySecret,
    derive_secret,
    export_keying_material,
    finished_verify_data,
    hkdf_expand_label,
    hkdf_extract,
    next_traffic_secret,
    resumption_psk,
    traffic_key_iv,
)
from handclasp.crypto.suites import TLS13_SUITES
from handclasp.crypto.transcript import Transcript
from handclasp.wire.enums import CipherSuite

AES128 = TLS13_SUITES[CipherSuite.TLS_AES_128_GCM_SHA256]
AES256 = TLS13_SUITES[CipherSuite.TLS_AES_256_GCM_SHA384]


def test_rfc8448_simple_handshake_secrets() -> None:
    early = EarlySecret(AES128)
    assert early.secret == v.EARLY_SECRET
    assert (
        derive_secret("sha256", early.secret, b"derived", hashlib.sha256().digest()) == v.DERIVED_FROM_EARLY
    )

    hello = Transcript("sha256", v.CLIENT_HELLO)
    hello.update(v.SERVER_HELLO)
    assert hello.digest() == v.HELLO_HASH

    handshake = early.handshake(v.ECDHE_SHARED)
    assert handshake.secret == v.HANDSHAKE_SECRET
    assert handshake.client_handshake_traffic_secret(v.HELLO_HASH) == v.CLIENT_HANDSHAKE_TRAFFIC
    assert handshake.server_handshake_traffic_secret(v.HELLO_HASH) == v.SERVER_HANDSHAKE_TRAFFIC

    master = handshake.master()
    assert master.secret == v.MASTER_SECRET
    assert master.client_application_traffic_secret_0(v.SERVER_FINISHED_HASH) == v.CLIENT_APPLICATION_TRAFFIC
    assert master.server_application_traffic_secret_0(v.SERVER_FINISHED_HASH) == v.SERVER_APPLICATION_TRAFFIC
    assert master.exporter_master_secret(v.SERVER_FINISHED_HASH) == v.EXPORTER_MASTER
    assert master.resumption_master_secret(v.CLIENT_FINISHED_HASH) == v.RESUMPTION_MASTER


def test_rfc8448_derived_salt_for_master() -> None:
    derived = derive_secret("sha256", v.HANDSHAKE_SECRET, b"derived", hashlib.sha256().digest())
    assert derived == v.DERIVED_FROM_HANDSHAKE
    assert hkdf_extract("sha256", derived, bytes(32)) == v.MASTER_SECRET


def test_rfc8448_traffic_keys_and_ivs() -> None:
    assert traffic_key_iv(AES128, v.SERVER_HANDSHAKE_TRAFFIC) == (
        v.SERVER_HANDSHAKE_KEY,
        v.SERVER_HANDSHAKE_IV,
    )
    assert traffic_key_iv(AES128, v.CLIENT_HANDSHAKE_TRAFFIC) == (
        v.CLIENT_HANDSHAKE_KEY,
        v.CLIENT_HANDSHAKE_IV,
    )
    assert traffic_key_iv(AES128, v.SERVER_APPLICATION_TRAFFIC) == (
        v.SERVER_APPLICATION_KEY,
        v.SERVER_APPLICATION_IV,
    )


def test_rfc8448_finished() -> None:
    assert (
        hkdf_expand_label("sha256", v.SERVER_HANDSHAKE_TRAFFIC, b"finished", b"", 32) == v.SERVER_FINISHED_KEY
    )
    assert (
        hkdf_expand_label("sha256", v.CLIENT_HANDSHAKE_TRAFFIC, b"finished", b"", 32) == v.CLIENT_FINISHED_KEY
    )
    # The server Finished covers CH..CertificateVerify; its hash is not printed in the RFC, so the
    # record test derives it from the decrypted flight. The client Finished covers CH..server Finished.
    assert (
        finished_verify_data(AES128, v.CLIENT_HANDSHAKE_TRAFFIC, v.SERVER_FINISHED_HASH)
        == v.CLIENT_FINISHED_VERIFY_DATA
    )


def test_rfc8448_resumption_psk_binder_key() -> None:
    # Section 3's NewSessionTicket carries ticket_nonce 00 00 (checked in tests/record).
    assert resumption_psk(AES128, v.RESUMPTION_MASTER, b"\x00\x00") == v.RESUMPTION_PSK
    early = EarlySecret(AES128, v.RESUMPTION_PSK)
    assert early.secret == v.RESUMPTION_EARLY_SECRET
    assert early.binder_key(external=False) == v.RESUMPTION_BINDER_KEY
    assert early.binder_key(external=True) != v.RESUMPTION_BINDER_KEY


def test_rfc8448_hello_retry_request_schedule() -> None:
    transcript = Transcript.after_hello_retry("sha256", v.HRR_CLIENT_HELLO_1)
    for message in (v.HELLO_RETRY_REQUEST, v.HRR_CLIENT_HELLO_2, v.HRR_SERVER_HELLO):
        transcript.update(message)
    assert transcript.digest() == v.HRR_HELLO_HASH

    handshake = EarlySecret(AES128).handshake(v.HRR_ECDHE_SHARED)
    assert handshake.secret == v.HRR_HANDSHAKE_SECRET
    assert handshake.client_handshake_traffic_secret(v.HRR_HELLO_HASH) == v.HRR_CLIENT_HANDSHAKE_TRAFFIC
    assert handshake.server_handshake_traffic_secret(v.HRR_HELLO_HASH) == v.HRR_SERVER_HANDSHAKE_TRAFFIC


def test_hkdf_expand_label_info_layout() -> None:
    """RFC 8448 §3 prints the HkdfLabel for "c hs traffic": 00 20 12 "tls13 c hs traffic" 20 <hash>."""
    info = bytes.fromhex("002012") + b"tls13 c hs traffic" + b"\x20" + v.HELLO_HASH
    h = HKDFExpand(hashes.SHA256(), 32, info)
    assert h.derive(v.HANDSHAKE_SECRET) == v.CLIENT_HANDSHAKE_TRAFFIC


RFC5869_CASES = [
    # (IKM, salt, info, L, PRK, OKM), Appendix A.1-A.3, SHA-256
    (
        "0b" * 22,
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        42,
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ),
    (
        bytes(range(0x00, 0x50)).hex(),
        bytes(range(0x60, 0xB0)).hex(),
        bytes(range(0xB0, 0x100)).hex(),
        82,
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
        "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (
        "0b" * 22,
        "",
        "",
        42,
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ),
]


def test_rfc5869_vectors() -> None:
    for ikm, salt, info, length, prk, okm in RFC5869_CASES:
        got_prk = hkdf_extract("sha256", bytes.fromhex(salt), bytes.fromhex(ikm))
        assert got_prk.hex() == prk
        expanded = schedule13._Prk("sha256", got_prk)._expand(bytes.fromhex(info), length)
        assert expanded.hex() == okm


@given(
    secret=st.binary(min_size=32, max_size=48),
    label=st.binary(max_size=40),
    context=st.binary(max_size=64),
    length=st.integers(min_value=1, max_value=400),
    hash_name=st.sampled_from(["sha256", "sha384"]),
)
def test_expand_label_matches_cryptography_hkdf(
    secret: bytes, label: bytes, context: bytes, length: int, hash_name: str
) -> None:
    algorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA384()
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    expected = HKDFExpand(algorithm, length, info).derive(secret)
    assert hkdf_expand_label(hash_name, secret, label, context, length) == expected


def test_next_traffic_secret_is_traffic_upd() -> None:
    """RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length)."""
    info = bytes.fromhex("0030") + bytes([len(b"tls13 traffic upd")]) + b"tls13 traffic upd" + b"\x00"
    expected = HKDFExpand(hashes.SHA384(), 48, info).derive(b"\x07" * 48)
    assert next_traffic_secret(AES256, b"\x07" * 48) == expected
    assert next_traffic_secret(AES128, v.SERVER_APPLICATION_TRAFFIC) != v.SERVER_APPLICATION_TRAFFIC


def test_exporter_follows_rfc8446_7_5() -> None:
    label, context = b"EXPERIMENTAL test", b"some context"
    empty_hash = hashlib.sha256(b"").digest()
    per_label = hkdf_expand_label("sha256", v.EXPORTER_MASTER, label, empty_hash, 32)
    expected = hkdf_expand_label("sha256", per_label, b"exporter", hashlib.sha256(context).digest(), 40)
    assert export_keying_material(AES128, v.EXPORTER_MASTER, label, context, 40) == expected
    assert export_keying_material(AES128, v.EXPORTER_MASTER, label, b"", 40) != expected


def test_sha384_schedule_uses_48_byte_secrets() -> None:
    early = EarlySecret(AES256)
    assert early.secret == hkdf_extract("sha384", b"", bytes(48))
    handshake = early.handshake(b"\x01" * 32)
    th = hashlib.sha384(b"x").digest()
    assert len(handshake.client_handshake_traffic_secret(th)) == 48
    master = handshake.master()
    key, iv = traffic_key_iv(AES256, master.server_application_traffic_secret_0(th))
    assert (len(key), len(iv)) == (32, 12)
    assert len(finished_verify_data(AES256, b"\x02" * 48, th)) == 48


def test_psk_only_mode_uses_zero_ikm() -> None:
    early = EarlySecret(AES128, b"\x05" * 32)
    assert early.handshake(None).secret == early.handshake(bytes(32)).secret


def test_repr_hides_secrets() -> None:
    early = EarlySecret(AES128)
    for stage in (early, early.handshake(v.ECDHE_SHARED), early.handshake(v.ECDHE_SHARED).master()):
        assert stage.secret.hex() not in repr(stage)
        assert "TLS_AES_128_GCM_SHA256" in repr(stage)


def test_labels_are_the_rfc_strings() -> None:
    assert schedule13.LABEL_CLIENT_HANDSHAKE_TRAFFIC == b"c hs traffic"
    assert schedule13.LABEL_SERVER_APPLICATION_TRAFFIC == b"s ap traffic"
    assert schedule13.LABEL_RESUMPTION_MASTER == b"res master"
    assert schedule13.LABEL_EXPORTER_MASTER == b"exp master"
    assert schedule13.LABEL_TRAFFIC_UPDATE == b"traffic upd"
