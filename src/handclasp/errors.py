"""The exception hierarchy and the tables that tie every reason to its alert.

Raise sites name a *reason* (an enum member), never a sentence; the tables at
the bottom of this module map each reason to the alert that goes on the wire
(RFC 8446 §6.2).  Only ``Connection`` sends fatal alerts.
"""

from __future__ import annotations

import enum

from handclasp.wire.enums import AlertDescription, ContentType, HandshakeType


class HandclaspError(Exception):
    """Base class of everything handclasp raises."""


class ApiMisuse(HandclaspError):
    """The caller used the API wrongly; the connection state is untouched."""


class TLSError(HandclaspError):
    """The connection is dead. ``alert`` is what we sent (or None)."""

    alert: AlertDescription | None = AlertDescription.INTERNAL_ERROR

    def __init__(self, *args: object) -> None:
        super().__init__(*args)


class DecodeError(TLSError):
    """A message or record could not be parsed (RFC 8446 §6.2 decode_error)."""

    alert = AlertDescription.DECODE_ERROR

    def __init__(self, what: str = "") -> None:
        super().__init__(what or "decode error")
        self.what = what


class UnexpectedMessage(TLSError):
    alert = AlertDescription.UNEXPECTED_MESSAGE

    def __init__(self, expected: tuple[str, ...], got: str) -> None:
        super().__init__(f"expected {' or '.join(expected)}, got {got}")
        self.expected = expected
        self.got = got


class Misbehaviour(enum.Enum):
    """Ways a peer breaks the protocol. Each maps to one alert (table below)."""

    # framing and records
    RECORD_OVERFLOW = "record_overflow"
    BAD_RECORD_VERSION = "bad_record_version"
    EMPTY_HANDSHAKE_RECORD = "empty_handshake_record"
    EMPTY_ALERT_RECORD = "empty_alert_record"
    ALERT_WRONG_LENGTH = "alert_wrong_length"
    INTERLEAVED_HANDSHAKE = "handshake_interleaved_with_other_record"
    HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE = "handshake_not_aligned_with_key_change"
    INVALID_CCS = "invalid_change_cipher_spec"
    UNEXPECTED_CCS = "unexpected_change_cipher_spec"
    TOO_MANY_CCS = "too_many_change_cipher_spec"
    TOO_MANY_EMPTY_RECORDS = "too_many_empty_records"
    TOO_MANY_WARNING_ALERTS = "too_many_warning_alerts"
    TOO_MANY_KEY_UPDATES = "too_many_key_updates"
    TOO_MANY_POST_HANDSHAKE_MESSAGES = "too_many_post_handshake_messages"
    HANDSHAKE_MESSAGE_TOO_LARGE = "handshake_message_too_large"
    APPLICATION_DATA_BEFORE_HANDSHAKE = "application_data_before_handshake"
    UNKNOWN_CONTENT_TYPE = "unknown_content_type"
    UNPROTECTED_RECORD = "unprotected_record_after_key_change"
    NO_CONTENT_TYPE_IN_INNER_PLAINTEXT = "no_content_type_in_inner_plaintext"
    WARNING_ALERT_IN_TLS13 = "warning_alert_in_tls13"
    TRUNCATED_AT_EOF = "truncated_at_eof"
    DATA_AFTER_CLOSE_NOTIFY = "data_after_close_notify"
    # extensions
    DUPLICATE_EXTENSION = "duplicate_extension"
    EXTENSION_NOT_ALLOWED = "extension_not_allowed_in_message"
    UNSOLICITED_EXTENSION = "unsolicited_extension"
    PRE_SHARED_KEY_NOT_LAST = "pre_shared_key_not_last"
    MISSING_PSK_KEY_EXCHANGE_MODES = "pre_shared_key_without_psk_key_exchange_modes"
    BAD_RENEGOTIATION_INFO = "bad_renegotiation_info"
    RESUMPTION_PARAMETERS_CHANGED = "resumption_parameters_changed"
    BOTH_RECORD_SIZE_LIMIT_AND_MAX_FRAGMENT_LENGTH = "both_record_size_limit_and_max_fragment_length"
    DUPLICATE_KEY_SHARE = "duplicate_key_share"
    PSK_BINDERS_MISMATCH = "psk_binders_do_not_match_identities"
    # hello negotiation
    SERVER_SELECTED_UNOFFERED_VERSION = "server_selected_unoffered_version"
    SERVER_SELECTED_UNOFFERED_SUITE = "server_selected_unoffered_cipher_suite"
    SERVER_SELECTED_UNOFFERED_GROUP = "server_selected_unoffered_group"
    SERVER_SELECTED_UNOFFERED_ALPN = "server_selected_unoffered_alpn"
    WRONG_SESSION_ID_ECHO = "wrong_legacy_session_id_echo"
    NONZERO_COMPRESSION = "nonzero_compression_method"
    MISSING_NULL_COMPRESSION = "missing_null_compression"
    DOWNGRADE_DETECTED = "downgrade_sentinel_detected"
    HRR_NO_CHANGE = "hello_retry_request_changes_nothing"
    HRR_GROUP_ALREADY_SHARED = "hello_retry_request_group_already_in_key_share"
    HRR_TWICE = "second_hello_retry_request"
    HRR_SUITE_CHANGED = "cipher_suite_changed_after_hello_retry_request"
    SECOND_CLIENT_HELLO_MISMATCH = "second_client_hello_does_not_match"
    KEY_SHARE_GROUP_NOT_IN_SUPPORTED_GROUPS = "key_share_group_not_in_supported_groups"
    KEY_SHARE_NOT_FOR_HRR_GROUP = "key_share_not_for_hello_retry_request_group"
    BAD_KEY_SHARE = "invalid_key_share"
    MISSING_KEY_SHARE = "missing_key_share"
    MISSING_SUPPORTED_GROUPS = "missing_supported_groups"
    MISSING_SIGNATURE_ALGORITHMS = "missing_signature_algorithms"
    MISSING_SUPPORTED_VERSIONS = "missing_supported_versions"
    ILLEGAL_LEGACY_VERSION = "illegal_legacy_version"
    BAD_SERVER_NAME = "bad_server_name"
    BAD_COOKIE = "bad_cookie"
    EMPTY_ALPN = "empty_alpn_protocol"
    BAD_RECORD_SIZE_LIMIT = "bad_record_size_limit"
    BAD_MAX_FRAGMENT_LENGTH = "bad_max_fragment_length"
    MAX_FRAGMENT_LENGTH_MISMATCH = "max_fragment_length_mismatch"
    # authentication
    NO_CERTIFICATE_FROM_SERVER = "server_sent_empty_certificate"
    UNOFFERED_SIGNATURE_SCHEME = "signature_scheme_not_offered"
    SIGNATURE_SCHEME_KEY_MISMATCH = "signature_scheme_does_not_fit_key"
    BAD_SIGNATURE = "bad_certificate_verify_signature"
    BAD_FINISHED = "bad_finished"
    NONEMPTY_CERTIFICATE_REQUEST_CONTEXT = "nonempty_certificate_request_context"
    # certificate compression (RFC 8879 §4)
    UNOFFERED_CERTIFICATE_COMPRESSION = "certificate_compression_algorithm_not_offered"
    COMPRESSED_CERTIFICATE_TOO_LARGE = "compressed_certificate_uncompressed_length_too_large"
    CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH = "certificate_uncompressed_length_mismatch"
    CERTIFICATE_DECOMPRESSION_FAILED = "certificate_decompression_failed"
    # post-handshake
    BAD_KEY_UPDATE = "bad_key_update_request"
    UNEXPECTED_POST_HANDSHAKE_MESSAGE = "unexpected_post_handshake_message"
    INVALID_TICKET_LIFETIME = "ticket_lifetime_over_seven_days"
    # pre-shared keys and post-handshake authentication
    BAD_PSK_BINDER = "bad_psk_binder"
    SERVER_SELECTED_UNOFFERED_PSK = "server_selected_unoffered_psk"
    PSK_HASH_MISMATCH = "psk_hash_does_not_match_cipher_suite"
    EMPTY_POST_HANDSHAKE_CERTIFICATE_REQUEST_CONTEXT = "empty_post_handshake_certificate_request_context"
    # 0-RTT early data (RFC 8446 §4.2.10)
    EARLY_DATA_AFTER_HELLO_RETRY = "early_data_in_second_client_hello"
    TOO_MUCH_EARLY_DATA = "early_data_over_max_early_data_size"
    EARLY_DATA_ACCEPTED_FOR_OTHER_PSK = "early_data_accepted_without_first_psk"
    EARLY_DATA_PARAMETERS_CHANGED = "early_data_accepted_with_other_suite_or_alpn"


class PeerMisbehaved(TLSError):
    def __init__(self, reason: Misbehaviour, detail: str = "") -> None:
        super().__init__(f"{reason.value}" + (f": {detail}" if detail else ""))
        self.reason = reason
        self.alert = MISBEHAVIOUR_ALERTS[reason]


class Incompatibility(enum.Enum):
    NO_SHARED_VERSION = "no_shared_version"
    NO_SHARED_CIPHER_SUITE = "no_shared_cipher_suite"
    NO_SHARED_GROUP = "no_shared_group"
    NO_SHARED_SIGNATURE_SCHEME = "no_shared_signature_scheme"
    NO_APPLICATION_PROTOCOL = "no_application_protocol"
    NO_CERTIFICATE_FOR_NAME = "no_certificate_for_server_name"
    UNRECOGNIZED_NAME = "unrecognized_server_name"
    NO_PSK_DHE_MODE = "no_psk_dhe_key_exchange_mode"
    LEGACY_VERSION_OFFERED_ONLY = "peer_offers_only_legacy_versions"
    SSL2_CLIENT_HELLO = "sslv2_client_hello"
    UNSUPPORTED_CERTIFICATE = "unsupported_certificate"
    WEAK_DH_GROUP = "weak_dh_group"
    NO_EXTENDED_MASTER_SECRET = "no_extended_master_secret"
    NO_SECURE_RENEGOTIATION = "no_secure_renegotiation"
    NO_ENCRYPT_THEN_MAC = "cbc_without_encrypt_then_mac"
    INAPPROPRIATE_FALLBACK = "inappropriate_fallback"
    NO_CLIENT_CERTIFICATE = "client_sent_no_certificate"
    EARLY_DATA_WITH_OLD_VERSION = "early_data_offered_but_server_chose_tls12_or_older"


class PeerIncompatible(TLSError):
    def __init__(self, reason: Incompatibility, detail: str = "") -> None:
        super().__init__(f"{reason.value}" + (f": {detail}" if detail else ""))
        self.reason = reason
        self.alert = INCOMPATIBILITY_ALERTS[reason]


class CertificateProblem(enum.Enum):
    UNKNOWN_ISSUER = "unknown_issuer"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NAME_MISMATCH = "name_mismatch"
    BAD_SIGNATURE = "bad_signature"
    BAD_KEY_USAGE = "bad_key_usage"
    BAD_ENCODING = "bad_encoding"
    UNSUPPORTED_KEY = "unsupported_key"
    REVOKED = "revoked"
    REQUIRED = "certificate_required"
    OTHER = "other"
    # A stapled OCSP response that does not prove the leaf good (RFC 6960; RFC 8446 §4.4.2.1, §6.2).
    OCSP_MALFORMED = "ocsp_response_malformed"
    OCSP_UNSUCCESSFUL = "ocsp_response_status_not_successful"
    OCSP_WRONG_CERTIFICATE = "ocsp_response_for_another_certificate"
    OCSP_BAD_SIGNATURE = "ocsp_response_signature_invalid"
    OCSP_NOT_YET_VALID = "ocsp_response_not_yet_valid"
    OCSP_EXPIRED = "ocsp_response_expired"
    OCSP_STATUS_UNKNOWN = "ocsp_certificate_status_unknown"
    OCSP_MISSING = "ocsp_response_missing"  # must-staple (RFC 7633) or ocsp_stapling="require"


class CertificateVerifyError(TLSError):
    """The peer's certificate chain was refused; ``problem`` says why."""

    def __init__(self, problem: CertificateProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}" + (f": {detail}" if detail else ""))
        self.problem = problem
        self.detail = detail
        self.alert = CERTIFICATE_ALERTS[problem]


# Kept for the names in STYLE.md; the two are one class.
CertificateError = CertificateVerifyError


class BadRecordMac(TLSError):
    alert = AlertDescription.BAD_RECORD_MAC

    def __init__(self) -> None:
        super().__init__("record authentication failed")


class RecordOverflow(TLSError):
    alert = AlertDescription.RECORD_OVERFLOW

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"record of {length} bytes exceeds {limit}")
        self.length = length
        self.limit = limit


class AlertReceived(TLSError):
    """The peer sent a fatal alert; nothing is sent back."""

    alert = None

    def __init__(self, description: AlertDescription) -> None:
        super().__init__(f"peer sent alert {description.name.lower()} ({int(description)})")
        self.description = description


class HandshakeTimeout(TLSError):
    """The handshake did not complete in time (raised by the I/O adapters)."""

    alert = AlertDescription.USER_CANCELED

    def __init__(self, seconds: float) -> None:
        super().__init__(f"handshake did not complete within {seconds:g} s")
        self.seconds = seconds


class ConnectionClosed(TLSError):
    """The transport ended (EOF) before a close_notify.

    ``truncated`` is True when it happened after the handshake: the data so far
    may be cut short (a truncation attack, or a peer that skips close_notify).
    Protocols that frame their own data (HTTP with Content-Length) may treat that
    as a normal end, as Python's ``suppress_ragged_eofs`` does.
    """

    alert = None

    def __init__(self, detail: str = "connection closed", *, truncated: bool = False) -> None:
        super().__init__(detail)
        self.truncated = truncated


class InternalError(TLSError):
    """An unexpected Python exception inside handclasp: that's a bug."""

    alert = AlertDescription.INTERNAL_ERROR


_A = AlertDescription

MISBEHAVIOUR_ALERTS: dict[Misbehaviour, AlertDescription] = {
    Misbehaviour.RECORD_OVERFLOW: _A.RECORD_OVERFLOW,
    Misbehaviour.BAD_RECORD_VERSION: _A.PROTOCOL_VERSION,
    Misbehaviour.EMPTY_HANDSHAKE_RECORD: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.EMPTY_ALERT_RECORD: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.ALERT_WRONG_LENGTH: _A.DECODE_ERROR,
    Misbehaviour.INTERLEAVED_HANDSHAKE: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.HANDSHAKE_NOT_ALIGNED_WITH_KEY_CHANGE: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.INVALID_CCS: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.UNEXPECTED_CCS: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.TOO_MANY_CCS: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.TOO_MANY_EMPTY_RECORDS: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.TOO_MANY_WARNING_ALERTS: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.TOO_MANY_KEY_UPDATES: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.TOO_MANY_POST_HANDSHAKE_MESSAGES: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.HANDSHAKE_MESSAGE_TOO_LARGE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.APPLICATION_DATA_BEFORE_HANDSHAKE: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.UNKNOWN_CONTENT_TYPE: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.UNPROTECTED_RECORD: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.NO_CONTENT_TYPE_IN_INNER_PLAINTEXT: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.WARNING_ALERT_IN_TLS13: _A.DECODE_ERROR,
    Misbehaviour.TRUNCATED_AT_EOF: _A.DECODE_ERROR,
    Misbehaviour.DATA_AFTER_CLOSE_NOTIFY: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.DUPLICATE_EXTENSION: _A.ILLEGAL_PARAMETER,
    Misbehaviour.EXTENSION_NOT_ALLOWED: _A.ILLEGAL_PARAMETER,
    Misbehaviour.UNSOLICITED_EXTENSION: _A.UNSUPPORTED_EXTENSION,
    Misbehaviour.PRE_SHARED_KEY_NOT_LAST: _A.ILLEGAL_PARAMETER,
    Misbehaviour.MISSING_PSK_KEY_EXCHANGE_MODES: _A.MISSING_EXTENSION,
    Misbehaviour.BAD_RENEGOTIATION_INFO: _A.HANDSHAKE_FAILURE,
    Misbehaviour.RESUMPTION_PARAMETERS_CHANGED: _A.ILLEGAL_PARAMETER,
    Misbehaviour.BOTH_RECORD_SIZE_LIMIT_AND_MAX_FRAGMENT_LENGTH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.DUPLICATE_KEY_SHARE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.PSK_BINDERS_MISMATCH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.SERVER_SELECTED_UNOFFERED_VERSION: _A.ILLEGAL_PARAMETER,
    Misbehaviour.SERVER_SELECTED_UNOFFERED_SUITE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.SERVER_SELECTED_UNOFFERED_GROUP: _A.ILLEGAL_PARAMETER,
    Misbehaviour.SERVER_SELECTED_UNOFFERED_ALPN: _A.ILLEGAL_PARAMETER,
    Misbehaviour.WRONG_SESSION_ID_ECHO: _A.ILLEGAL_PARAMETER,
    Misbehaviour.NONZERO_COMPRESSION: _A.ILLEGAL_PARAMETER,
    Misbehaviour.MISSING_NULL_COMPRESSION: _A.ILLEGAL_PARAMETER,
    Misbehaviour.DOWNGRADE_DETECTED: _A.ILLEGAL_PARAMETER,
    Misbehaviour.HRR_NO_CHANGE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.HRR_GROUP_ALREADY_SHARED: _A.ILLEGAL_PARAMETER,
    Misbehaviour.HRR_TWICE: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.HRR_SUITE_CHANGED: _A.ILLEGAL_PARAMETER,
    Misbehaviour.SECOND_CLIENT_HELLO_MISMATCH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.KEY_SHARE_GROUP_NOT_IN_SUPPORTED_GROUPS: _A.ILLEGAL_PARAMETER,
    Misbehaviour.KEY_SHARE_NOT_FOR_HRR_GROUP: _A.ILLEGAL_PARAMETER,
    Misbehaviour.BAD_KEY_SHARE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.MISSING_KEY_SHARE: _A.MISSING_EXTENSION,
    Misbehaviour.MISSING_SUPPORTED_GROUPS: _A.MISSING_EXTENSION,
    Misbehaviour.MISSING_SIGNATURE_ALGORITHMS: _A.MISSING_EXTENSION,
    Misbehaviour.MISSING_SUPPORTED_VERSIONS: _A.MISSING_EXTENSION,
    Misbehaviour.ILLEGAL_LEGACY_VERSION: _A.ILLEGAL_PARAMETER,
    Misbehaviour.BAD_SERVER_NAME: _A.DECODE_ERROR,
    Misbehaviour.BAD_COOKIE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.EMPTY_ALPN: _A.DECODE_ERROR,
    Misbehaviour.BAD_RECORD_SIZE_LIMIT: _A.ILLEGAL_PARAMETER,
    Misbehaviour.BAD_MAX_FRAGMENT_LENGTH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.MAX_FRAGMENT_LENGTH_MISMATCH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.NO_CERTIFICATE_FROM_SERVER: _A.DECODE_ERROR,
    Misbehaviour.UNOFFERED_SIGNATURE_SCHEME: _A.ILLEGAL_PARAMETER,
    Misbehaviour.SIGNATURE_SCHEME_KEY_MISMATCH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.BAD_SIGNATURE: _A.DECRYPT_ERROR,
    Misbehaviour.BAD_FINISHED: _A.DECRYPT_ERROR,
    Misbehaviour.NONEMPTY_CERTIFICATE_REQUEST_CONTEXT: _A.ILLEGAL_PARAMETER,
    Misbehaviour.UNOFFERED_CERTIFICATE_COMPRESSION: _A.ILLEGAL_PARAMETER,
    Misbehaviour.COMPRESSED_CERTIFICATE_TOO_LARGE: _A.BAD_CERTIFICATE,
    Misbehaviour.CERTIFICATE_UNCOMPRESSED_LENGTH_MISMATCH: _A.BAD_CERTIFICATE,
    Misbehaviour.CERTIFICATE_DECOMPRESSION_FAILED: _A.BAD_CERTIFICATE,
    Misbehaviour.BAD_KEY_UPDATE: _A.ILLEGAL_PARAMETER,
    Misbehaviour.UNEXPECTED_POST_HANDSHAKE_MESSAGE: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.INVALID_TICKET_LIFETIME: _A.ILLEGAL_PARAMETER,
    Misbehaviour.BAD_PSK_BINDER: _A.DECRYPT_ERROR,
    Misbehaviour.SERVER_SELECTED_UNOFFERED_PSK: _A.ILLEGAL_PARAMETER,
    Misbehaviour.PSK_HASH_MISMATCH: _A.ILLEGAL_PARAMETER,
    Misbehaviour.EMPTY_POST_HANDSHAKE_CERTIFICATE_REQUEST_CONTEXT: _A.ILLEGAL_PARAMETER,
    Misbehaviour.EARLY_DATA_AFTER_HELLO_RETRY: _A.ILLEGAL_PARAMETER,
    Misbehaviour.TOO_MUCH_EARLY_DATA: _A.UNEXPECTED_MESSAGE,
    Misbehaviour.EARLY_DATA_ACCEPTED_FOR_OTHER_PSK: _A.ILLEGAL_PARAMETER,
    Misbehaviour.EARLY_DATA_PARAMETERS_CHANGED: _A.ILLEGAL_PARAMETER,
}

INCOMPATIBILITY_ALERTS: dict[Incompatibility, AlertDescription] = {
    Incompatibility.NO_SHARED_VERSION: _A.PROTOCOL_VERSION,
    Incompatibility.NO_SHARED_CIPHER_SUITE: _A.HANDSHAKE_FAILURE,
    Incompatibility.NO_SHARED_GROUP: _A.HANDSHAKE_FAILURE,
    Incompatibility.NO_SHARED_SIGNATURE_SCHEME: _A.HANDSHAKE_FAILURE,
    Incompatibility.NO_APPLICATION_PROTOCOL: _A.NO_APPLICATION_PROTOCOL,
    Incompatibility.NO_CERTIFICATE_FOR_NAME: _A.HANDSHAKE_FAILURE,
    Incompatibility.UNRECOGNIZED_NAME: _A.UNRECOGNIZED_NAME,
    Incompatibility.NO_PSK_DHE_MODE: _A.HANDSHAKE_FAILURE,
    Incompatibility.LEGACY_VERSION_OFFERED_ONLY: _A.PROTOCOL_VERSION,
    Incompatibility.SSL2_CLIENT_HELLO: _A.PROTOCOL_VERSION,
    Incompatibility.UNSUPPORTED_CERTIFICATE: _A.UNSUPPORTED_CERTIFICATE,
    Incompatibility.WEAK_DH_GROUP: _A.INSUFFICIENT_SECURITY,
    Incompatibility.NO_EXTENDED_MASTER_SECRET: _A.HANDSHAKE_FAILURE,
    Incompatibility.NO_SECURE_RENEGOTIATION: _A.HANDSHAKE_FAILURE,
    Incompatibility.NO_ENCRYPT_THEN_MAC: _A.HANDSHAKE_FAILURE,
    Incompatibility.INAPPROPRIATE_FALLBACK: _A.INAPPROPRIATE_FALLBACK,
    Incompatibility.NO_CLIENT_CERTIFICATE: _A.HANDSHAKE_FAILURE,
    Incompatibility.EARLY_DATA_WITH_OLD_VERSION: _A.PROTOCOL_VERSION,
}

CERTIFICATE_ALERTS: dict[CertificateProblem, AlertDescription] = {
    CertificateProblem.UNKNOWN_ISSUER: _A.UNKNOWN_CA,
    CertificateProblem.EXPIRED: _A.CERTIFICATE_EXPIRED,
    CertificateProblem.NOT_YET_VALID: _A.CERTIFICATE_EXPIRED,
    CertificateProblem.NAME_MISMATCH: _A.BAD_CERTIFICATE,
    CertificateProblem.BAD_SIGNATURE: _A.BAD_CERTIFICATE,
    CertificateProblem.BAD_KEY_USAGE: _A.UNSUPPORTED_CERTIFICATE,
    CertificateProblem.BAD_ENCODING: _A.BAD_CERTIFICATE,
    CertificateProblem.UNSUPPORTED_KEY: _A.UNSUPPORTED_CERTIFICATE,
    CertificateProblem.REVOKED: _A.CERTIFICATE_REVOKED,
    CertificateProblem.REQUIRED: _A.CERTIFICATE_REQUIRED,
    CertificateProblem.OTHER: _A.BAD_CERTIFICATE,
    CertificateProblem.OCSP_MALFORMED: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_UNSUCCESSFUL: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_WRONG_CERTIFICATE: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_BAD_SIGNATURE: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_NOT_YET_VALID: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_EXPIRED: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_STATUS_UNKNOWN: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
    CertificateProblem.OCSP_MISSING: _A.BAD_CERTIFICATE_STATUS_RESPONSE,
}


def describe_message(msg_type: HandshakeType | ContentType) -> str:
    return msg_type.name
