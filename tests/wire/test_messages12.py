"""TLS 1.0-1.2 handshake messages: round trips, strict prefixes, random bytes, and real OpenSSL flights
(RFC 5246 §7.4, RFC 8422 §5.4/§5.7, RFC 5077 §3.3, RFC 6066 §8)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings, strategies as st

from handclasp.crypto.suites12 import KeyExchangeAlgorithm
from handclasp.errors import DecodeError, Misbehaviour, PeerMisbehaved, TLSError, UnexpectedMessage
from handclasp.wire import extensions as ext, handshake12 as hs12
from handclasp.wire.codec import Reader
from handclasp.wire.enums import (
    AlertDescription,
    CertificateStatusType,
    CipherSuite,
    ClientCertificateType,
    ContentType,
    ECCurveType,
    ECPointFormat,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from handclasp.wire.handshake import (
    ClientHello,
    Finished,
    HandshakeJoiner,
    HelloRetryRequest,
    ServerHello,
    encode_message,
)
from handclasp.wire.handshake12 import (
    Certificate12,
    CertificateRequest10,
    CertificateRequest12,
    CertificateStatus,
    CertificateVerify10,
    CertificateVerify12,
    ChangeCipherSpec,
    ClientKeyExchange,
    DigitallySigned,
    HelloRequest,
    NewSessionTicket12,
    ServerDHParams,
    ServerECDHParams,
    ServerHelloDone,
    ServerKeyExchange,
    ServerKeyExchangeParams,
    decode_client_key_exchange,
    decode_dhe_params,
    decode_ecdhe_params,
    decode_message12,
    decode_server_key_exchange,
    dhe_client_public,
    ecdhe_client_public,
    encode_client_key_exchange,
    encode_message12,
    encode_server_key_exchange,
    rsa_encrypted_premaster,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PER_CLASS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GREASE_VALUES = [0x0A0A + 0x1010 * i for i in range(16)]
VERSIONS = (ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_1, ProtocolVersion.TLS1_2)
LEGACY = (ProtocolVersion.TLS1_0, ProtocolVersion.TLS1_1)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
schemes = st.one_of(st.sampled_from(list(SignatureScheme)), st.sampled_from(GREASE_VALUES), u16).map(SignatureScheme)
groups = st.one_of(st.sampled_from(list(NamedGroup)), u16).map(NamedGroup)
cert_types = st.one_of(st.sampled_from(list(ClientCertificateType)), u8).map(ClientCertificateType)
names = st.lists(st.binary(min_size=1, max_size=30), max_size=3).map(tuple)

MESSAGE_STRATEGIES: dict[type, st.SearchStrategy] = {
    HelloRequest: st.just(HelloRequest()),
    ServerHelloDone: st.just(ServerHelloDone()),
    Certificate12: st.builds(Certificate12, certificate_list=st.lists(st.binary(min_size=1, max_size=60), max_size=3).map(tuple)),
    CertificateStatus: st.builds(
        CertificateStatus,
        status_type=st.one_of(st.just(CertificateStatusType.OCSP), u8.map(CertificateStatusType)),
        ocsp_response=st.binary(min_size=1, max_size=60),
    ),
    CertificateRequest12: st.builds(
        CertificateRequest12,
        certificate_types=st.lists(cert_types, min_size=1, max_size=5).map(tuple),
        supported_signature_algorithms=st.lists(schemes, min_size=1, max_size=8).map(tuple),
        certificate_authorities=names,
    ),
    CertificateRequest10: st.builds(
        CertificateRequest10, certificate_types=st.lists(cert_types, min_size=1, max_size=5).map(tuple), certificate_authorities=names
    ),
    CertificateVerify12: st.builds(CertificateVerify12, algorithm=schemes, signature=st.binary(max_size=80)),
    CertificateVerify10: st.builds(CertificateVerify10, signature=st.binary(max_size=80)),
    ServerKeyExchange: st.builds(ServerKeyExchange, body=st.binary(max_size=120)),
    ClientKeyExchange: st.builds(ClientKeyExchange, body=st.binary(max_size=120)),
    NewSessionTicket12: st.builds(NewSessionTicket12, ticket_lifetime_hint=u32, ticket=st.binary(max_size=120)),
}
# Which versions each class is decoded under (the rest decode the same under all three).
ONLY_UNDER = {CertificateRequest12: (ProtocolVersion.TLS1_2,), CertificateVerify12: (ProtocolVersion.TLS1_2,),
              CertificateRequest10: LEGACY, CertificateVerify10: LEGACY}
# Raw bodies (the key exchanges) and empty messages have no strict prefix to reject.
RAW = (ServerKeyExchange, ClientKeyExchange)
any_message = st.one_of(*MESSAGE_STRATEGIES.values())


def split(raw: bytes) -> tuple[HandshakeType, bytes]:
    assert int.from_bytes(raw[1:4], "big") == len(raw) - 4
    return HandshakeType(raw[0]), raw[4:]


def versions_for(msg: object) -> tuple[ProtocolVersion, ...]:
    return ONLY_UNDER.get(type(msg), VERSIONS)


# --- round trips -------------------------------------------------------------------------------------------


def test_message_strategies_cover_every_tls12_message_class() -> None:
    declared = {cls for cls in vars(hs12).values() if isinstance(cls, type) and hasattr(cls, "TYPE")}
    # ClientHello, ServerHello, HelloRetryRequest and Finished are handshake.py's (tested in test_messages.py).
    assert declared - {ClientHello, ServerHello, Finished, HelloRetryRequest} == set(MESSAGE_STRATEGIES)


@pytest.mark.parametrize("cls", list(MESSAGE_STRATEGIES), ids=lambda c: c.__name__)
def test_every_tls12_message_class_round_trips(cls: type) -> None:
    @PER_CLASS
    @given(MESSAGE_STRATEGIES[cls])
    def check(msg: object) -> None:
        raw = encode_message12(msg)  # type: ignore[arg-type]
        msg_type, body = split(raw)
        assert msg_type == msg.TYPE  # type: ignore[attr-defined]
        for version in versions_for(msg):
            decoded = decode_message12(msg_type, body, version)
            assert type(decoded) is cls
            assert decoded == msg
            assert encode_message12(decoded) == raw

    check()


def test_hellos_and_finished_decode_as_the_shared_classes() -> None:
    hello = ClientHello(random=bytes(32), legacy_session_id=b"", cipher_suites=(CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,),
                        extensions=(ext.ExtendedMasterSecret(),))
    server = ServerHello(random=b"\x01" * 32, legacy_session_id_echo=b"", cipher_suite=CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
                         extensions=(ext.ExtendedMasterSecret(),))
    finished = Finished(verify_data=bytes(12))
    for msg in (hello, server, finished):
        raw = encode_message(msg)
        for version in VERSIONS:
            assert decode_message12(*split(raw), version) == msg
            assert encode_message12(msg) == raw


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_version_picks_the_certificate_request_and_verify_format(version: ProtocolVersion) -> None:
    """RFC 5246 §7.4.4 / §7.4.8: TLS 1.2 adds signature algorithms to both; TLS 1.0/1.1 have neither."""
    cr = CertificateRequest12(certificate_types=(ClientCertificateType.ECDSA_SIGN,),
                              supported_signature_algorithms=(SignatureScheme.ECDSA_SECP256R1_SHA256,),
                              certificate_authorities=())
    cv = CertificateVerify12(algorithm=SignatureScheme.RSA_PKCS1_SHA256, signature=b"sig")
    if version == ProtocolVersion.TLS1_2:
        assert decode_message12(*split(encode_message12(cr)), version) == cr
        assert decode_message12(*split(encode_message12(cv)), version) == cv
    else:
        # The same bytes are not a valid 1.0/1.1 CertificateRequest: the schemes are read as the CA list.
        with pytest.raises(DecodeError):
            decode_message12(*split(encode_message12(cr)), version)
        # b"\x04\x01" + len 3 + "sig" read as opaque<0..2^16-1> is truncated.
        with pytest.raises(DecodeError):
            decode_message12(*split(encode_message12(cv)), version)
        cv10 = CertificateVerify10(signature=b"sig")
        assert type(decode_message12(*split(encode_message12(cv10)), version)) is CertificateVerify10


def test_certificate_verify12_is_the_tls13_wire_format() -> None:
    """RFC 5246 §7.4.8 and RFC 8446 §4.4.3: algorithm(2) + signature<0..2^16-1> in both."""
    from handclasp.wire.handshake import CertificateVerify

    assert CertificateVerify12 is CertificateVerify


# --- strict prefixes and trailing bytes ---------------------------------------------------------------------


@SETTINGS
@given(any_message)
def test_every_strict_prefix_is_rejected(msg: object) -> None:
    """RFC 5246 §7.4: a message shorter than its fields is decode_error (raw key exchange bodies excepted)."""
    msg_type, body = split(encode_message12(msg))  # type: ignore[arg-type]
    for version in versions_for(msg):
        for n in range(len(body)):
            if isinstance(msg, RAW):
                # The whole body is the field: every prefix is a (shorter) message of the same class.
                decoded = decode_message12(msg_type, body[:n], version)
                assert type(decoded) is type(msg) and encode_message12(decoded)[4:] == body[:n]
                continue
            with pytest.raises(DecodeError):
                decode_message12(msg_type, body[:n], version)


@SETTINGS
@given(any_message, st.binary(min_size=1, max_size=4))
def test_trailing_bytes_after_a_message_are_rejected(msg: object, extra: bytes) -> None:
    """RFC 5246 §7.4: bytes after the last field of a message are decode_error."""
    if isinstance(msg, RAW):
        return  # the key exchange parsers check their own ends (tests below)
    msg_type, body = split(encode_message12(msg))  # type: ignore[arg-type]
    for version in versions_for(msg):
        with pytest.raises(DecodeError):
            decode_message12(msg_type, body + extra, version)


# --- random input ------------------------------------------------------------------------------------------

_ALL_TYPES = [*HandshakeType, HandshakeType(3), HandshakeType(99), HandshakeType(0xFF)]


@SETTINGS
@given(st.sampled_from(_ALL_TYPES), st.binary(max_size=200), st.sampled_from(VERSIONS))
def test_random_bytes_raise_only_tls_errors(msg_type: HandshakeType, body: bytes, version: ProtocolVersion) -> None:
    """RFC 5246 §7.2.2: malformed input ends in an alert-carrying TLSError, never a Python crash."""
    try:
        decode_message12(msg_type, body, version)
    except TLSError as error:
        assert error.alert is not None and error.alert.is_known


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_in_key_exchange_parsers_raise_only_tls_errors(body: bytes) -> None:
    def ecdhe_ske() -> None:
        r = Reader(body)
        decode_ecdhe_params(r)
        DigitallySigned.decode(r)
        r.expect_end()

    def dhe_ske_tls10() -> None:
        r = Reader(body)
        decode_dhe_params(r)
        DigitallySigned.decode10(r)
        r.expect_end()

    parsers: list[Callable[[], object]] = [
        ecdhe_ske,
        dhe_ske_tls10,
        lambda: ecdhe_client_public(body),
        lambda: dhe_client_public(body),
        lambda: rsa_encrypted_premaster(body, ProtocolVersion.TLS1_2),
        lambda: ChangeCipherSpec.from_payload(body),
    ]
    for parse in parsers:
        try:
            parse()
        except TLSError as error:
            assert error.alert is not None and error.alert.is_known


@SETTINGS
@given(any_message, st.data())
def test_mutated_encodings_raise_only_tls_errors(msg: object, data: st.DataObject) -> None:
    msg_type, body = split(encode_message12(msg))  # type: ignore[arg-type]
    if not body:
        return
    mutated = bytearray(body)
    for _ in range(data.draw(st.integers(1, 3))):
        mutated[data.draw(st.integers(0, len(body) - 1))] = data.draw(u8)
    for version in VERSIONS:
        try:
            decode_message12(msg_type, bytes(mutated), version)
        except TLSError as error:
            assert error.alert is not None


@pytest.mark.parametrize(
    "msg_type",
    [HandshakeType.ENCRYPTED_EXTENSIONS, HandshakeType.END_OF_EARLY_DATA, HandshakeType.KEY_UPDATE,
     HandshakeType.COMPRESSED_CERTIFICATE, HandshakeType.MESSAGE_HASH, HandshakeType(3), HandshakeType(99)],
    ids=lambda t: t.name,
)
@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_tls13_only_or_unknown_type_is_unexpected_message(msg_type: HandshakeType, version: ProtocolVersion) -> None:
    """RFC 5246 §7.4: a handshake type TLS 1.2 does not define is unexpected_message."""
    with pytest.raises(UnexpectedMessage) as info:
        decode_message12(msg_type, b"", version)
    assert info.value.alert is AlertDescription.UNEXPECTED_MESSAGE


@pytest.mark.parametrize("version", [ProtocolVersion.SSL3, ProtocolVersion.TLS1_3, ProtocolVersion(0x0A0A)], ids=lambda v: v.name)
def test_decode_message12_refuses_versions_it_does_not_speak(version: ProtocolVersion) -> None:
    with pytest.raises(ValueError):
        decode_message12(HandshakeType.SERVER_HELLO_DONE, b"", version)


# --- ServerKeyExchange ----------------------------------------------------------------------------------

ecdh_params = st.builds(ServerECDHParams, named_curve=groups, public=st.binary(min_size=1, max_size=133))
dh_params = st.builds(ServerDHParams, dh_p=st.binary(min_size=1, max_size=80), dh_g=st.binary(min_size=1, max_size=4),
                      dh_ys=st.binary(min_size=1, max_size=80))
signed12 = st.builds(DigitallySigned, algorithm=schemes, signature=st.binary(max_size=80))
signed10 = st.builds(DigitallySigned, algorithm=st.none(), signature=st.binary(max_size=80))


@SETTINGS
@given(st.one_of(ecdh_params, dh_params), st.one_of(signed12, signed10))
def test_server_key_exchange_parts_round_trip(params: ServerECDHParams | ServerDHParams, signed: DigitallySigned) -> None:
    """RFC 8422 §5.4 / RFC 5246 §7.4.3: params || signed_params; the signed bytes are the params as sent."""
    ske = ServerKeyExchange.from_params(params, signed)
    body = decode_message12(*split(encode_message12(ske)), ProtocolVersion.TLS1_2)
    assert isinstance(body, ServerKeyExchange)
    r = Reader(body.body)
    decoded, params_bytes = (decode_ecdhe_params if isinstance(params, ServerECDHParams) else decode_dhe_params)(r)
    assert decoded == params
    assert body.body.startswith(params_bytes) and params_bytes == params.to_bytes()
    again = DigitallySigned.decode(r) if signed.algorithm is not None else DigitallySigned.decode10(r)
    r.expect_end()
    assert again == signed


@SETTINGS
@given(st.one_of(ecdh_params, dh_params), signed12)
def test_server_key_exchange_prefixes_are_rejected(params: ServerECDHParams | ServerDHParams, signed: DigitallySigned) -> None:
    body = params.to_bytes() + signed.to_bytes()
    decode = decode_ecdhe_params if isinstance(params, ServerECDHParams) else decode_dhe_params
    for n in range(len(body)):
        with pytest.raises(DecodeError):
            r = Reader(body[:n])
            decode(r)
            DigitallySigned.decode(r)
            r.expect_end()


@pytest.mark.parametrize("curve_type", [ECCurveType.EXPLICIT_PRIME, ECCurveType.EXPLICIT_CHAR2, ECCurveType(0), ECCurveType(0xFF)],
                         ids=lambda c: c.name)
def test_explicit_curve_in_server_key_exchange_is_illegal_parameter(curve_type: ECCurveType) -> None:
    """RFC 8422 §5.4: explicit curves are deprecated and never offered; a server choosing one is illegal_parameter."""
    body = bytes((curve_type,)) + b"\x00\x1d\x01\x04"
    with pytest.raises(PeerMisbehaved) as info:
        decode_ecdhe_params(Reader(body))
    assert info.value.reason is Misbehaviour.SERVER_SELECTED_UNOFFERED_GROUP
    assert info.value.alert is AlertDescription.ILLEGAL_PARAMETER


@pytest.mark.parametrize(
    "body",
    [b"\x03\x00\x1d\x00", b"\x00\x00\x00\x01\x02\x00\x01\x05", b"\x00\x01\x17\x00\x00\x00\x01\x05"],
    ids=["empty_point", "empty_dh_p", "empty_dh_g"],
)
def test_empty_key_exchange_values_are_decode_error(body: bytes) -> None:
    """RFC 8422 §5.4 point<1..2^8-1>; RFC 5246 §7.4.3 dh_p, dh_g, dh_Ys <1..2^16-1>."""
    decode = decode_ecdhe_params if body[0] == 3 else decode_dhe_params
    with pytest.raises(DecodeError):
        decode(Reader(body))


class FakeShare:
    """Stands in for crypto.groups.KeyExchange (ECDHE) / DheKeyExchange (DHE with p and g)."""

    def __init__(self, group: NamedGroup, public_bytes: bytes) -> None:
        self.group = group
        self.public_bytes = public_bytes


class FakeDhShare(FakeShare):
    def __init__(self, p: int, g: int, public_bytes: bytes) -> None:
        super().__init__(NamedGroup.FFDHE2048, public_bytes)
        self.p = p
        self.g = g


@SETTINGS
@given(
    st.one_of(
        st.builds(lambda g, pub: (KeyExchangeAlgorithm.ECDHE, FakeShare(g, pub)), groups, st.binary(min_size=1, max_size=97)),
        st.builds(lambda p, g, pub: (KeyExchangeAlgorithm.DHE, FakeDhShare(p, g, pub)),
                  st.integers(1, 2**2048), st.integers(0, 2**16), st.binary(min_size=1, max_size=256)),
    ),
    schemes,
    st.binary(max_size=100),
    st.sampled_from(VERSIONS),
)
def test_server_key_exchange_encode_then_decode(
    kx_share: tuple[KeyExchangeAlgorithm, FakeShare], scheme: SignatureScheme, signature: bytes, version: ProtocolVersion
) -> None:
    """RFC 5246 §7.4.3 / RFC 8422 §5.4: what the server signs is what the client gets as params_bytes."""
    kx, share = kx_share
    signed_inputs: list[bytes] = []

    def sign(params: bytes) -> bytes:
        signed_inputs.append(params)
        return signature

    body = encode_server_key_exchange(kx, share, scheme, sign, version)
    parsed = decode_server_key_exchange(body, kx, version)
    assert isinstance(parsed, ServerKeyExchangeParams)
    assert signed_inputs == [parsed.params_bytes] and body.startswith(parsed.params_bytes)
    assert parsed.signed == DigitallySigned(algorithm=scheme if version == ProtocolVersion.TLS1_2 else None, signature=signature)
    assert parsed.public == share.public_bytes
    if isinstance(share, FakeDhShare):
        assert (parsed.dh_p, parsed.dh_g, parsed.named_group) == (share.p, share.g, None)
        assert parsed.params == ServerDHParams(
            dh_p=share.p.to_bytes(max(1, (share.p.bit_length() + 7) // 8), "big"),
            dh_g=share.g.to_bytes(max(1, (share.g.bit_length() + 7) // 8), "big"),
            dh_ys=share.public_bytes,
        )
    else:
        assert (parsed.named_group, parsed.dh_p, parsed.dh_g) == (share.group, None, None)
    # The other version's digitally-signed form does not parse (two bytes more or fewer before the vector)
    # unless the bytes happen to line up; either way the result differs from what was sent.
    other = ProtocolVersion.TLS1_0 if version == ProtocolVersion.TLS1_2 else ProtocolVersion.TLS1_2
    try:
        assert decode_server_key_exchange(body, kx, other) != parsed
    except DecodeError:
        pass


def test_server_key_exchange_has_no_form_for_rsa_key_exchange() -> None:
    """RFC 5246 §7.4.3: RSA key exchange sends no ServerKeyExchange; asking for one is a caller bug."""
    with pytest.raises(ValueError):
        decode_server_key_exchange(b"", KeyExchangeAlgorithm.RSA, ProtocolVersion.TLS1_2)
    with pytest.raises(ValueError):
        encode_server_key_exchange(KeyExchangeAlgorithm.RSA, FakeShare(NamedGroup.X25519, b"x"),
                                   SignatureScheme.RSA_PKCS1_SHA256, lambda b: b, ProtocolVersion.TLS1_2)
    with pytest.raises(ValueError):  # DHE needs p and g
        encode_server_key_exchange(KeyExchangeAlgorithm.DHE, FakeShare(NamedGroup.FFDHE2048, b"x"),
                                   SignatureScheme.RSA_PKCS1_SHA256, lambda b: b, ProtocolVersion.TLS1_2)


@pytest.mark.parametrize("extra", [b"\x00", b"\x00\x00\x00"])
def test_bytes_after_the_server_key_exchange_signature_are_decode_error(extra: bytes) -> None:
    body = encode_server_key_exchange(KeyExchangeAlgorithm.ECDHE, FakeShare(NamedGroup.X25519, bytes(32)),
                                      SignatureScheme.ED25519, lambda b: b"s" * 64, ProtocolVersion.TLS1_2)
    assert decode_server_key_exchange(body, KeyExchangeAlgorithm.ECDHE, ProtocolVersion.TLS1_2).public == bytes(32)
    with pytest.raises(DecodeError):
        decode_server_key_exchange(body + extra, KeyExchangeAlgorithm.ECDHE, ProtocolVersion.TLS1_2)


# --- ClientKeyExchange -------------------------------------------------------------------------------------


@SETTINGS
@given(st.binary(min_size=1, max_size=255), st.binary(min_size=1, max_size=300), st.binary(max_size=300))
def test_client_key_exchange_forms_round_trip(point: bytes, dh_yc: bytes, encrypted: bytes) -> None:
    """RFC 8422 §5.7, RFC 5246 §7.4.7.1/§7.4.7.2: explicit public values and the encrypted premaster."""
    for kx, parse, value in (
        (KeyExchangeAlgorithm.ECDHE, ecdhe_client_public, point),
        (KeyExchangeAlgorithm.DHE, dhe_client_public, dh_yc),
        (KeyExchangeAlgorithm.RSA, rsa_encrypted_premaster, encrypted),
    ):
        cke = ClientKeyExchange(body=encode_client_key_exchange(kx, value))
        decoded = decode_message12(*split(encode_message12(cke)), ProtocolVersion.TLS1_2)
        assert decoded == cke
        assert isinstance(decoded, ClientKeyExchange)
        assert decode_client_key_exchange(decoded.body, kx) == value
        assert parse(decoded.body) == value
        for n in range(len(cke.body)):
            with pytest.raises(DecodeError):
                decode_client_key_exchange(cke.body[:n], kx)
        with pytest.raises(DecodeError):
            decode_client_key_exchange(cke.body + b"\x00", kx)


def test_client_key_exchange_public_values_may_not_be_empty() -> None:
    """RFC 8422 §5.7 point<1..2^8-1>; RFC 5246 §7.4.7.2 dh_Yc<1..2^16-1>."""
    with pytest.raises(DecodeError):
        ecdhe_client_public(b"\x00")
    with pytest.raises(DecodeError):
        dhe_client_public(b"\x00\x00")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_rsa_premaster_has_a_length_prefix_in_every_tls_version(version: ProtocolVersion) -> None:
    """RFC 2246 / RFC 4346 / RFC 5246 §7.4.7.1: EncryptedPreMasterSecret is opaque<0..2^16-1> (only SSL 3.0 lacked it)."""
    ciphertext = bytes(range(256))
    assert rsa_encrypted_premaster(b"\x01\x00" + ciphertext, version) == ciphertext
    with pytest.raises(DecodeError):
        rsa_encrypted_premaster(ciphertext, version)
    with pytest.raises(ValueError):
        rsa_encrypted_premaster(b"\x01\x00" + ciphertext, ProtocolVersion.SSL3)


# --- ChangeCipherSpec --------------------------------------------------------------------------------------


def test_change_cipher_spec_payload() -> None:
    assert ChangeCipherSpec.from_payload(b"\x01") == ChangeCipherSpec()
    assert ChangeCipherSpec().to_payload() == b"\x01"


@pytest.mark.parametrize("payload", [b"", b"\x00", b"\x02", b"\x01\x01", b"\x01\x00"], ids=lambda p: p.hex() or "empty")
def test_malformed_change_cipher_spec_is_unexpected_message(payload: bytes) -> None:
    """RFC 5246 §7.1: the record is the single byte 1; anything else is refused (unexpected_message, as 1.3's CCS)."""
    with pytest.raises(PeerMisbehaved) as info:
        ChangeCipherSpec.from_payload(payload)
    assert info.value.reason is Misbehaviour.INVALID_CCS
    assert info.value.alert is AlertDescription.UNEXPECTED_MESSAGE


# --- real flights from openssl s_server -tls1_2 -------------------------------------------------------------

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def pem_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pki

    directory = tmp_path_factory.mktemp("wire12-pki")
    pki.write_pki(directory)
    return directory


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _start_server(argv_tail: list[str]) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """openssl s_server on a port picked by binding to 0 first; one retry if someone took it meanwhile."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    for _attempt in range(2):
        port = _free_port()
        proc = subprocess.Popen(
            [openssl, "s_server", "-accept", f"{HOST}:{port}", "-naccept", "1", *argv_tail],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + IO_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                sock = socket.create_connection((HOST, port), timeout=1.0)
            except OSError:
                time.sleep(0.05)
                continue
            sock.settimeout(IO_TIMEOUT)
            return proc, sock
        _stop(proc)
    pytest.fail("openssl s_server did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdin is not None:
        proc.stdin.close()


@pytest.fixture
def openssl_tls12() -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(argv_tail: list[str]) -> socket.socket:
        proc, sock = _start_server(argv_tail)
        started.append(proc)
        return sock

    yield start
    for proc in started:
        _stop(proc)


def _client_hello(suite: CipherSuite, random: bytes, version: ProtocolVersion = ProtocolVersion.TLS1_2) -> ClientHello:
    return ClientHello(
        legacy_version=version,
        random=random,
        legacy_session_id=b"",
        cipher_suites=(suite, CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV),
        extensions=(
            ext.ServerNameList(host_name="localhost"),
            ext.SupportedGroups(groups=(NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.FFDHE2048)),
            ext.ECPointFormats(formats=(ECPointFormat.UNCOMPRESSED,)),
            ext.SessionTicketExt(ticket=b""),
            ext.ExtendedMasterSecret(),
            ext.RenegotiationInfo(renegotiated_connection=b""),
            ext.SignatureAlgorithms(schemes=(SignatureScheme.ECDSA_SECP256R1_SHA256, SignatureScheme.RSA_PSS_RSAE_SHA256,
                                             SignatureScheme.RSA_PKCS1_SHA256)),
        ),
    )


def _server_flight(sock: socket.socket, hello: ClientHello, record_version: bytes = b"\x03\x03") -> list[bytes]:
    """Send ``hello`` in a TLS 1.0-versioned record; collect raw handshake messages up to ServerHelloDone."""
    raw = encode_message(hello)
    sock.sendall(bytes((ContentType.HANDSHAKE,)) + b"\x03\x01" + len(raw).to_bytes(2, "big") + raw)
    joiner, buf = HandshakeJoiner(), b""
    messages: list[bytes] = []
    deadline = time.monotonic() + IO_TIMEOUT
    for _ in range(200):  # records; the flight is a handful
        if time.monotonic() > deadline:
            break
        while len(buf) < 5 or len(buf) < 5 + int.from_bytes(buf[3:5], "big"):
            chunk = sock.recv(65536)
            assert chunk, f"server closed early; messages so far {[m[0] for m in messages]}"
            buf += chunk
        length = int.from_bytes(buf[3:5], "big")
        content_type, version, payload, buf = buf[0], buf[1:3], buf[5 : 5 + length], buf[5 + length :]
        assert content_type == ContentType.HANDSHAKE, f"record type {content_type}: {payload.hex()}"
        assert version == record_version
        joiner.feed(payload)
        for _msg_type, _body, message in joiner.messages():
            messages.append(message)
        if messages and messages[-1][0] == HandshakeType.SERVER_HELLO_DONE:
            return messages
    pytest.fail("no ServerHelloDone in time")


def _verify_server_key_exchange(cert_der: bytes, signed_content: bytes, signed: DigitallySigned) -> None:
    """RFC 5246 §7.4.3: the signature covers client_random + server_random + params (checked with cryptography)."""
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert signed.algorithm is not None
    if isinstance(key, ec.EllipticCurvePublicKey):
        assert signed.algorithm == SignatureScheme.ECDSA_SECP256R1_SHA256
        key.verify(signed.signature, signed_content, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, rsa.RSAPublicKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        pad = {SignatureScheme.RSA_PSS_RSAE_SHA256: pss, SignatureScheme.RSA_PKCS1_SHA256: padding.PKCS1v15()}
        key.verify(signed.signature, signed_content, pad[signed.algorithm], hashes.SHA256())


@pytest.mark.parametrize(
    ("suite", "cipher", "stem", "kx"),
    [
        (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "server", "ecdhe"),
        (CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, "DHE-RSA-AES128-GCM-SHA256", "server-rsa2048", "dhe"),
    ],
    ids=["ecdhe_ecdsa", "dhe_rsa"],
)
def test_openssl_tls12_flight_decodes_and_re_encodes_byte_for_byte(
    openssl_tls12: object, pem_dir: Path, suite: CipherSuite, cipher: str, stem: str, kx: str
) -> None:
    """A real TLS 1.2 server flight (OpenSSL): every message decodes, re-encodes to the same bytes, and the
    ServerKeyExchange signature verifies over the params bytes we extracted."""
    sock = openssl_tls12([  # type: ignore[operator]
        "-cert", str(pem_dir / f"{stem}.pem"), "-key", str(pem_dir / f"{stem}.key"), "-tls1_2", "-cipher", cipher,
    ])
    client_random = os.urandom(32)
    with sock:
        messages = _server_flight(sock, _client_hello(suite, client_random))
    decoded = [decode_message12(*split(raw), ProtocolVersion.TLS1_2) for raw in messages]
    assert [type(m) for m in decoded] == [ServerHello, Certificate12, ServerKeyExchange, ServerHelloDone]
    assert [encode_message12(m) for m in decoded] == messages

    hello, certificate, ske, _done = decoded
    assert isinstance(hello, ServerHello) and isinstance(certificate, Certificate12) and isinstance(ske, ServerKeyExchange)
    assert hello.cipher_suite == suite and hello.legacy_version == ProtocolVersion.TLS1_2
    # RFC 5746 §3.6, RFC 7627 §5.1, RFC 5077 §3.2, RFC 8422 §5.2 answers, typed as the SH12 column decodes them.
    assert ext.find(hello.extensions, ext.RenegotiationInfo) == ext.RenegotiationInfo(renegotiated_connection=b"")
    assert ext.find(hello.extensions, ext.ExtendedMasterSecret) is not None
    assert ext.find(hello.extensions, ext.SessionTicketExt) == ext.SessionTicketExt(ticket=b"")
    assert ext.find(hello.extensions, ext.SupportedVersionsServerHello) is None
    if kx == "ecdhe":
        formats = ext.find(hello.extensions, ext.ECPointFormats)
        assert formats is not None and ECPointFormat.UNCOMPRESSED in formats.formats

    leaf = (pem_dir / f"{stem}.pem").read_bytes()
    expected_leaf = x509.load_pem_x509_certificates(leaf)[0].public_bytes(Encoding.DER)
    assert certificate.certificate_list[0] == expected_leaf

    r = Reader(ske.body)
    if kx == "ecdhe":
        params, params_bytes = decode_ecdhe_params(r)
        assert isinstance(params, ServerECDHParams)
        assert params.curve_type == ECCurveType.NAMED_CURVE and params.named_curve == NamedGroup.X25519
        assert len(params.public) == 32
    else:
        params, params_bytes = decode_dhe_params(r)  # type: ignore[assignment]
        assert isinstance(params, ServerDHParams)
        assert len(params.dh_p) * 8 >= 2048 and int.from_bytes(params.dh_p, "big").bit_length() >= 2048
        assert 1 < int.from_bytes(params.dh_ys, "big") < int.from_bytes(params.dh_p, "big") - 1
    signed = DigitallySigned.decode(r)
    r.expect_end()
    assert ske.body == params_bytes + signed.to_bytes()
    kx_algorithm = KeyExchangeAlgorithm.ECDHE if kx == "ecdhe" else KeyExchangeAlgorithm.DHE
    parsed = decode_server_key_exchange(ske.body, kx_algorithm, ProtocolVersion.TLS1_2)
    assert (parsed.params, parsed.params_bytes, parsed.signed) == (params, params_bytes, signed)
    _verify_server_key_exchange(certificate.certificate_list[0], client_random + hello.random + params_bytes, signed)
    # The check can fail: one flipped bit in the params breaks the signature.
    tampered = params_bytes[:-1] + bytes((params_bytes[-1] ^ 1,))
    with pytest.raises(InvalidSignature):
        _verify_server_key_exchange(certificate.certificate_list[0], client_random + hello.random + tampered, signed)



def test_openssl_tls10_flight_decodes_with_the_legacy_signature_format(openssl_tls12: object, pem_dir: Path) -> None:
    """RFC 2246 / RFC 4492 §5.4: a TLS 1.0 ServerKeyExchange signature has no algorithm field (ECDSA over SHA-1)."""
    sock = openssl_tls12([  # type: ignore[operator]
        "-cert", str(pem_dir / "server.pem"), "-key", str(pem_dir / "server.key"), "-tls1",
        "-cipher", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0",
    ])
    client_random = os.urandom(32)
    hello = _client_hello(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, client_random, ProtocolVersion.TLS1_0)
    with sock:
        messages = _server_flight(sock, hello, record_version=b"\x03\x01")
    decoded = [decode_message12(*split(raw), ProtocolVersion.TLS1_0) for raw in messages]
    assert [type(m) for m in decoded] == [ServerHello, Certificate12, ServerKeyExchange, ServerHelloDone]
    assert [encode_message12(m) for m in decoded] == messages
    server_hello, certificate, ske, _done = decoded
    assert isinstance(server_hello, ServerHello) and isinstance(certificate, Certificate12)
    assert isinstance(ske, ServerKeyExchange)
    assert server_hello.legacy_version == ProtocolVersion.TLS1_0
    r = Reader(ske.body)
    params, params_bytes = decode_ecdhe_params(r)
    signed = DigitallySigned.decode10(r)
    r.expect_end()
    assert signed.algorithm is None and params.named_curve == NamedGroup.X25519
    parsed = decode_server_key_exchange(ske.body, KeyExchangeAlgorithm.ECDHE, ProtocolVersion.TLS1_0)
    assert (parsed.params, parsed.params_bytes, parsed.signed) == (params, params_bytes, signed)
    key = x509.load_der_x509_certificate(certificate.certificate_list[0]).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signed.signature, client_random + server_hello.random + params_bytes, ec.ECDSA(hashes.SHA1()))
    # Read as TLS 1.2, the first two signature bytes would be taken for an algorithm: the lengths no longer fit.
    with pytest.raises(DecodeError):
        r12 = Reader(ske.body)
        decode_ecdhe_params(r12)
        DigitallySigned.decode(r12)
        r12.expect_end()
