"""The error hierarchy and the reason → alert tables (STYLE.md §3)."""

from __future__ import annotations

import pytest

import handclasp.errors as errors
from handclasp.errors import (
    CERTIFICATE_ALERTS,
    INCOMPATIBILITY_ALERTS,
    MISBEHAVIOUR_ALERTS,
    AlertReceived,
    ApiMisuse,
    CertificateProblem,
    CertificateVerifyError,
    HandclaspError,
    Incompatibility,
    Misbehaviour,
    PeerIncompatible,
    PeerMisbehaved,
    TLSError,
)
from handclasp.wire.enums import AlertDescription

TABLES = [
    (Misbehaviour, MISBEHAVIOUR_ALERTS, PeerMisbehaved),
    (Incompatibility, INCOMPATIBILITY_ALERTS, PeerIncompatible),
    (CertificateProblem, CERTIFICATE_ALERTS, CertificateVerifyError),
]


def _all_subclasses(cls: type) -> list[type]:
    out: list[type] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


@pytest.mark.parametrize(("reasons", "table", "_exc"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_reason_is_in_its_alert_table(reasons: type, table: dict, _exc: type) -> None:  # type: ignore[type-arg]
    """RFC 8446 §6.2: every abort names an alert; a reason without one is a KeyError at the raise site."""
    missing = [m for m in reasons if m not in table]
    assert missing == []
    assert set(table) == set(reasons)


@pytest.mark.parametrize(("reasons", "table", "_exc"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_tables_map_to_real_fatal_alerts(reasons: type, table: dict, _exc: type) -> None:  # type: ignore[type-arg]
    """RFC 8446 §6.2: error alerts are registered descriptions, never close_notify or user_canceled."""
    for reason, alert in table.items():
        assert isinstance(alert, AlertDescription), reason
        assert alert.is_known, reason
        assert alert not in (AlertDescription.CLOSE_NOTIFY, AlertDescription.USER_CANCELED), reason


@pytest.mark.parametrize(("reasons", "table", "exc"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_reason_builds_an_error_with_its_alert(reasons: type, table: dict, exc: type) -> None:  # type: ignore[type-arg]
    for reason in reasons:
        error = exc(reason, "detail")
        assert error.alert is table[reason]
        assert isinstance(error, TLSError)


def test_reason_values_are_unique() -> None:
    for reasons, _, _ in TABLES:
        values = [m.value for m in reasons]
        assert len(values) == len(set(values)), reasons


def test_every_tls_error_has_an_alert_or_none() -> None:
    subclasses = _all_subclasses(TLSError)
    assert len(subclasses) >= 10
    for cls in [TLSError, *subclasses]:
        assert hasattr(cls, "alert"), cls
        alert = cls.alert
        # PeerMisbehaved & co. set it per instance from the reason; the class default must still be valid.
        assert alert is None or isinstance(alert, AlertDescription), cls


def test_error_classes_carry_the_alert_table_entries() -> None:
    expected = {
        errors.DecodeError: AlertDescription.DECODE_ERROR,
        errors.UnexpectedMessage: AlertDescription.UNEXPECTED_MESSAGE,
        errors.BadRecordMac: AlertDescription.BAD_RECORD_MAC,
        errors.RecordOverflow: AlertDescription.RECORD_OVERFLOW,
        errors.InternalError: AlertDescription.INTERNAL_ERROR,
        errors.AlertReceived: None,
        errors.ConnectionClosed: None,
    }
    for cls, alert in expected.items():
        assert cls.alert == alert, cls
    assert errors.DecodeError("x").alert is AlertDescription.DECODE_ERROR
    assert errors.UnexpectedMessage(("A",), "B").alert is AlertDescription.UNEXPECTED_MESSAGE
    assert errors.BadRecordMac().alert is AlertDescription.BAD_RECORD_MAC
    assert errors.RecordOverflow(2**14 + 1, 2**14).alert is AlertDescription.RECORD_OVERFLOW


def test_alert_received_sends_nothing_back_and_keeps_the_description() -> None:
    """RFC 8446 §6.2: on receiving a fatal alert the connection closes without answering."""
    error = AlertReceived(AlertDescription.HANDSHAKE_FAILURE)
    assert error.alert is None
    assert error.description is AlertDescription.HANDSHAKE_FAILURE
    assert AlertReceived(AlertDescription(0xEE)).description.name == "UNKNOWN_0x00ee"


def test_api_misuse_is_not_a_tls_error() -> None:
    assert issubclass(ApiMisuse, HandclaspError)
    assert not issubclass(ApiMisuse, TLSError)
    assert issubclass(TLSError, HandclaspError)
