"""OCSP stapling (status_request) and SCT pass-through in TLS 1.3, over in-memory pairs."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

import pytest

import handclasp.server.tls13 as server_tls13
import pki
from handclasp import ClientConfig, ClientConnection, ServerConfig, ServerConnection
from handclasp.common.stapling import server_certificate_entries
from handclasp.errors import (
    AlertReceived,
    CertificateProblem,
    CertificateVerifyError,
    Misbehaviour,
    PeerMisbehaved,
    UnexpectedMessage,
)
from handclasp.events import HandshakeMessage
from handclasp.tools.certs import CertifiedKey
from handclasp.tools.ocsp import ocsp_response_for
from handclasp.wire.enums import (
    AlertDescription,
    CertificateStatusType,
    ContentType,
    HandshakeType,
    ProtocolVersion,
)
from handclasp.wire.extensions import (
    CertificateStatus,
    CertificateStatusRequest,
    SignedCertificateTimestampList,
    SignedCertificateTimestampRequest,
    find,
)
from handclasp.wire.handshake import Certificate13, CertificateEntry, ClientHello, encode_message
from handclasp.wire.handshake12 import CertificateStatus as CertificateStatus12
from helpers import ConnectionPair

A = AlertDescription
P = CertificateProblem
SCT_LIST = SignedCertificateTimestampList(sct_list=(b"\x00sct-one", b"\x00sct-two")).to_bytes()


@pytest.fixture(scope="module")
def must_staple(test_pki: pki.PKI) -> CertifiedKey:
    return test_pki.ca.issue(pki.SERVER_NAMES, must_staple=True)


@pytest.fixture
def client(client_config: ClientConfig) -> ClientConfig:
    # Plain Certificate messages, so the tests can read the entries the client received.
    return dataclasses.replace(client_config, certificate_compression=())


def server_with(certified: CertifiedKey, **kwargs: object) -> ServerConfig:
    return ServerConfig(certificates=(certified,), keylog_filename=None, **kwargs)  # type: ignore[arg-type]


def stapled(test_pki: pki.PKI, certified: CertifiedKey | None = None, **kwargs: object) -> CertifiedKey:
    certified = certified or test_pki.server()
    return certified.with_ocsp_response(ocsp_response_for(test_pki.ca, certified.leaf, **kwargs))  # type: ignore[arg-type]


def connect(client: ClientConfig, server: ServerConfig, **kwargs: object) -> ConnectionPair:
    pair = ConnectionPair(ClientConnection(client, "localhost", **kwargs), ServerConnection(server))  # type: ignore[arg-type]
    pair.client.start_handshake()
    pair.handshake()
    return pair


def sent_hello(pair: ConnectionPair) -> ClientHello:
    for event in pair.server_events:
        if isinstance(event, HandshakeMessage) and isinstance(event.message, ClientHello):
            return event.message
    raise AssertionError("no ClientHello")


def received_entries(pair: ConnectionPair) -> Sequence[CertificateEntry]:
    for event in pair.client_events:
        if isinstance(event, HandshakeMessage) and isinstance(event.message, Certificate13):
            return event.message.certificate_list
    raise AssertionError("no Certificate")


def client_refuses(pair: ConnectionPair, problem: CertificateProblem, alert: AlertDescription) -> None:
    """The client refuses the server's flight with (problem, alert), and the server hears that alert."""
    pair.client_to_server()
    with pytest.raises(CertificateVerifyError) as info:
        pair.server_to_client()
    assert (type(info.value), info.value.problem, info.value.alert) == (CertificateVerifyError, problem, alert)
    with pytest.raises(AlertReceived) as heard:
        pair.client_to_server()
    assert heard.value.description is alert


# --- the staple is delivered and checked ----------------------------------------------------------


def test_staple_is_delivered_and_checked(test_pki: pki.PKI, client: ClientConfig) -> None:
    """RFC 8446 §4.4.2.1: the status_request answer rides in the leaf's CertificateEntry."""
    certified = stapled(test_pki)
    pair = connect(client, server_with(certified))
    request = find(sent_hello(pair).extensions, CertificateStatusRequest)
    assert request is not None and request.responder_id_list == () and request.request_extensions == b""
    entries = received_entries(pair)
    assert find(entries[0].extensions, CertificateStatus) == CertificateStatus(ocsp_response=certified.ocsp_response or b"")
    c, s = pair.completions()
    assert c.negotiated.ocsp_response == certified.ocsp_response == s.negotiated.ocsp_response
    pair.transfer(b"stapled")


def test_staple_from_a_delegated_responder_is_accepted(test_pki: pki.PKI, client: ClientConfig) -> None:
    """RFC 6960 §4.2.2.2: a delegated responder certified by the issuer may sign the staple."""
    certified = stapled(test_pki, responder="delegated")
    c, _ = connect(client, server_with(certified)).completions()
    assert c.negotiated.ocsp_response == certified.ocsp_response


def test_staple_under_an_intermediate_is_checked_against_it(test_pki: pki.PKI, client: ClientConfig) -> None:
    certified = test_pki.intermediate
    der = ocsp_response_for(test_pki.intermediate_ca, certified.leaf)
    c, _ = connect(client, server_with(certified.with_ocsp_response(der))).completions()
    assert c.negotiated.ocsp_response == der


def test_revoked_staple_is_certificate_revoked(test_pki: pki.PKI, client: ClientConfig) -> None:
    """RFC 8446 §6.2: a revoked certificate is certificate_revoked."""
    pair = ConnectionPair.make(client, server_with(stapled(test_pki, status="revoked")))
    client_refuses(pair, P.REVOKED, A.CERTIFICATE_REVOKED)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"status": "unknown"}, P.OCSP_STATUS_UNKNOWN),
        ({"responder": "delegated", "responder_ocsp_signing": False}, P.OCSP_BAD_SIGNATURE),
        (
            {
                "this_update": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
                "next_update": datetime.datetime(2020, 1, 8, tzinfo=datetime.UTC),
            },
            P.OCSP_EXPIRED,
        ),
    ],
    ids=["unknown", "delegate-without-eku", "expired"],
)
def test_bad_staple_is_bad_certificate_status_response(
    test_pki: pki.PKI, client: ClientConfig, kwargs: dict[str, object], problem: CertificateProblem
) -> None:
    """RFC 8446 §6.2 / RFC 6066 §8: a staple that does not prove the leaf good."""
    pair = ConnectionPair.make(client, server_with(stapled(test_pki, **kwargs)))
    client_refuses(pair, problem, A.BAD_CERTIFICATE_STATUS_RESPONSE)


def test_staple_is_checked_with_the_providers_clock(test_pki: pki.PKI, client: ClientConfig) -> None:
    """The client's clock is ctx.provider.now(): a year on, the week-long staple has expired."""
    from helpers import DeterministicProvider

    certified = stapled(test_pki)
    later = DeterministicProvider(now=certified.leaf.not_valid_after_utc.timestamp() - 3600)
    pair = ConnectionPair.make(dataclasses.replace(client, provider=later), server_with(certified))
    client_refuses(pair, P.OCSP_EXPIRED, A.BAD_CERTIFICATE_STATUS_RESPONSE)


# --- must-staple, "require" and "off" ------------------------------------------------------------


def test_must_staple_leaf_without_a_staple_fails(client: ClientConfig, must_staple: CertifiedKey) -> None:
    """RFC 7633 §4.2.3: a client MUST refuse a must-staple certificate that comes without status."""
    pair = ConnectionPair.make(client, server_with(must_staple))
    client_refuses(pair, P.OCSP_MISSING, A.BAD_CERTIFICATE_STATUS_RESPONSE)


def test_must_staple_leaf_with_its_staple_passes(test_pki: pki.PKI, client: ClientConfig, must_staple: CertifiedKey) -> None:
    certified = stapled(test_pki, must_staple)
    c, _ = connect(client, server_with(certified)).completions()
    assert c.negotiated.ocsp_response == certified.ocsp_response


def test_require_without_a_staple_fails(test_pki: pki.PKI, client: ClientConfig) -> None:
    """ocsp_stapling="require": a server that staples nothing is refused."""
    pair = ConnectionPair.make(dataclasses.replace(client, ocsp_stapling="require"), server_with(test_pki.server()))
    client_refuses(pair, P.OCSP_MISSING, A.BAD_CERTIFICATE_STATUS_RESPONSE)


def test_require_with_a_staple_passes(test_pki: pki.PKI, client: ClientConfig) -> None:
    certified = stapled(test_pki)
    c, _ = connect(dataclasses.replace(client, ocsp_stapling="require"), server_with(certified)).completions()
    assert c.negotiated.ocsp_response == certified.ocsp_response


def test_off_sends_nothing_and_checks_nothing(test_pki: pki.PKI, client: ClientConfig, must_staple: CertifiedKey) -> None:
    """ocsp_stapling="off": no status_request, so no staple, and must-staple is not enforced."""
    pair = connect(dataclasses.replace(client, ocsp_stapling="off"), server_with(stapled(test_pki, must_staple)))
    assert find(sent_hello(pair).extensions, CertificateStatusRequest) is None
    assert all(not entry.extensions for entry in received_entries(pair))
    c, s = pair.completions()
    assert c.negotiated.ocsp_response is None and s.negotiated.ocsp_response is None


def test_server_without_a_request_staples_nothing(test_pki: pki.PKI) -> None:
    """RFC 8446 §4.4.2.1: status goes in the entry only in answer to the client's status_request."""
    certified = stapled(test_pki).with_sct_list(SCT_LIST)
    bare = ClientHello(legacy_version=ProtocolVersion.TLS1_2, random=bytes(32), legacy_session_id=b"", cipher_suites=(), extensions=())
    ctx = ServerConnection(server_with(certified))._ctx
    entries = server_certificate_entries(certified, bare, ctx)
    assert [entry.extensions for entry in entries] == [()] * len(certified.chain)
    assert ctx.ocsp_response is None and ctx.signed_certificate_timestamps is None
    asking = dataclasses.replace(bare, extensions=(CertificateStatusRequest(), SignedCertificateTimestampRequest()))
    leaf, *rest = server_certificate_entries(certified, asking, ctx)
    assert leaf.extensions == (
        CertificateStatus(ocsp_response=certified.ocsp_response or b""),
        SignedCertificateTimestampList.from_bytes(SCT_LIST),
    )
    assert all(not entry.extensions for entry in rest)


def test_unsolicited_staple_is_unsupported_extension(
    test_pki: pki.PKI, client: ClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RFC 8446 §4.4.2: entry extensions must answer the ClientHello; others are unsupported_extension."""
    certified = stapled(test_pki)

    def always_staple(certified: CertifiedKey, hello: ClientHello, ctx: object) -> tuple[CertificateEntry, ...]:
        asked = dataclasses.replace(hello, extensions=(*hello.extensions, CertificateStatusRequest()))
        return server_certificate_entries(certified, asked, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(server_tls13, "server_certificate_entries", always_staple)
    pair = ConnectionPair.make(dataclasses.replace(client, ocsp_stapling="off"), server_with(certified))
    pair.client_to_server()
    with pytest.raises(PeerMisbehaved) as info:
        pair.server_to_client()
    assert (info.value.reason, info.value.alert) == (Misbehaviour.UNSOLICITED_EXTENSION, A.UNSUPPORTED_EXTENSION)
    with pytest.raises(AlertReceived) as heard:
        pair.client_to_server()
    assert heard.value.description is A.UNSUPPORTED_EXTENSION


def test_staple_on_an_intermediate_entry_is_ignored(
    test_pki: pki.PKI, client: ClientConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the leaf's status is read (no status_request_v2): junk status on the intermediate is ignored."""
    certified = test_pki.intermediate

    def staple_intermediate(certified: CertifiedKey, hello: ClientHello, ctx: object) -> tuple[CertificateEntry, ...]:
        leaf, intermediate = server_certificate_entries(certified, hello, ctx)  # type: ignore[arg-type]
        return leaf, dataclasses.replace(intermediate, extensions=(CertificateStatus(ocsp_response=b"junk"),))

    monkeypatch.setattr(server_tls13, "server_certificate_entries", staple_intermediate)
    pair = connect(client, server_with(certified))
    assert find(received_entries(pair)[1].extensions, CertificateStatus) is not None
    assert pair.completions()[0].negotiated.ocsp_response is None


def test_skip_verification_passes_the_staple_through_unchecked(test_pki: pki.PKI, client: ClientConfig) -> None:
    certified = stapled(test_pki, status="revoked")
    insecure = dataclasses.replace(client, dangerous_skip_verification=True)
    c, _ = connect(insecure, server_with(certified)).completions()
    assert c.negotiated.ocsp_response == certified.ocsp_response


# --- SCTs -----------------------------------------------------------------------------------------


def test_scts_are_passed_through(test_pki: pki.PKI, client: ClientConfig) -> None:
    """RFC 6962 §3.3: an empty request in the ClientHello, the list in the leaf's entry, unverified."""
    certified = test_pki.server().with_sct_list(SCT_LIST)
    pair = connect(dataclasses.replace(client, request_scts=True), server_with(certified))
    assert find(sent_hello(pair).extensions, SignedCertificateTimestampRequest) is not None
    assert find(received_entries(pair)[0].extensions, SignedCertificateTimestampList) is not None
    c, s = pair.completions()
    assert c.negotiated.signed_certificate_timestamps == SCT_LIST == s.negotiated.signed_certificate_timestamps


def test_scts_are_not_sent_unasked(test_pki: pki.PKI, client: ClientConfig) -> None:
    certified = test_pki.server().with_sct_list(SCT_LIST)
    pair = connect(client, server_with(certified))
    assert find(sent_hello(pair).extensions, SignedCertificateTimestampRequest) is None
    c, s = pair.completions()
    assert c.negotiated.signed_certificate_timestamps is None and s.negotiated.signed_certificate_timestamps is None


def test_scts_and_staple_together(test_pki: pki.PKI, client: ClientConfig) -> None:
    certified = stapled(test_pki).with_sct_list(SCT_LIST)
    c, _ = connect(dataclasses.replace(client, request_scts=True), server_with(certified)).completions()
    assert (c.negotiated.ocsp_response, c.negotiated.signed_certificate_timestamps) == (certified.ocsp_response, SCT_LIST)


# --- resumption and TLS 1.2 -----------------------------------------------------------------------


def test_resumption_has_no_certificate_to_check(client: ClientConfig, test_pki: pki.PKI, must_staple: CertifiedKey) -> None:
    """RFC 8446 §2.2: a PSK handshake has no Certificate, so neither staple nor must-staple applies."""
    server = server_with(stapled(test_pki, must_staple))
    strict = dataclasses.replace(client, ocsp_stapling="require")
    first = connect(strict, server)
    first.server_to_client()  # NewSessionTicket
    assert first.client.session is not None
    second = connect(strict, server, session=first.client.session)
    c, s = second.completions()
    assert c.negotiated.resumed and s.negotiated.resumed
    assert c.negotiated.ocsp_response is None and s.negotiated.ocsp_response is None


def test_tls12_must_staple_without_certificate_status_fails(client: ClientConfig, must_staple: CertifiedKey) -> None:
    """RFC 7633 §4.2.3 in TLS 1.2: no CertificateStatus (RFC 6066 §8) after Certificate is refused."""
    tls12 = dataclasses.replace(client, versions=(ProtocolVersion.TLS1_2,))
    pair = ConnectionPair.make(tls12, server_with(must_staple))
    pair.client_to_server()
    with pytest.raises(CertificateVerifyError) as info:
        pair.server_to_client()
    assert (info.value.problem, info.value.alert) == (P.OCSP_MISSING, A.BAD_CERTIFICATE_STATUS_RESPONSE)
    with pytest.raises(AlertReceived) as heard:
        pair.client_to_server()
    assert heard.value.description is A.BAD_CERTIFICATE_STATUS_RESPONSE


def _insert_after_certificate(flight: bytes, message: bytes) -> bytes:
    """A plaintext TLS 1.2 server flight with ``message`` right after its Certificate."""
    payload, pos = b"", 0
    while pos < len(flight):
        length = int.from_bytes(flight[pos + 3 : pos + 5], "big")
        assert flight[pos] == ContentType.HANDSHAKE
        payload += flight[pos + 5 : pos + 5 + length]
        pos += 5 + length
    out, pos = b"", 0
    while pos < len(payload):
        end = pos + 4 + int.from_bytes(payload[pos + 1 : pos + 4], "big")
        out += payload[pos:end] + (message if payload[pos] == HandshakeType.CERTIFICATE else b"")
        pos = end
    assert len(out) > len(payload)
    return bytes((ContentType.HANDSHAKE,)) + b"\x03\x03" + len(out).to_bytes(2, "big") + out


def test_tls12_certificate_status_without_server_hello_acknowledgement_is_unexpected(
    test_pki: pki.PKI, client: ClientConfig
) -> None:
    """RFC 6066 §8: a server that did not echo status_request in its ServerHello must not send CertificateStatus."""
    tls12 = dataclasses.replace(client, versions=(ProtocolVersion.TLS1_2,))
    certified = stapled(test_pki)
    assert certified.ocsp_response is not None
    pair = ConnectionPair.make(tls12, server_with(certified))  # our TLS 1.2 server never staples
    pair.client_to_server()
    status = encode_message(CertificateStatus12(status_type=CertificateStatusType.OCSP, ocsp_response=certified.ocsp_response))
    with pytest.raises(UnexpectedMessage) as info:
        pair.server_to_client(tamper=lambda flight: _insert_after_certificate(flight, status))
    assert info.value.alert is A.UNEXPECTED_MESSAGE


def test_tls12_without_stapling_still_completes(test_pki: pki.PKI, client: ClientConfig) -> None:
    """Our server never staples in TLS 1.2; the client's optional CertificateStatus step passes through."""
    tls12 = dataclasses.replace(client, versions=(ProtocolVersion.TLS1_2,))
    pair = connect(tls12, server_with(stapled(test_pki)))
    c, _ = pair.completions()
    assert c.negotiated.version is ProtocolVersion.TLS1_2 and c.negotiated.ocsp_response is None
    pair.transfer(b"tls 1.2")


def test_ocsp_stapling_mode_is_validated(client: ClientConfig) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(client, ocsp_stapling="sometimes")  # type: ignore[arg-type]
