"""Extensions about the certificate on the wire: compression (RFC 8879), OCSP status (RFC 6066 §8,
RFC 8446 §4.4.2.1) and signed certificate timestamps (RFC 6962 §3.3); registered in ``wire.extensions``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import (
    CertificateCompressionAlgorithm,
    CertificateStatusType,
    ExtensionType,
    to_enums,
)
from handclasp.wire.extbase import Typed


@dataclass(frozen=True, slots=True)
class CertificateCompressionAlgorithms(Typed):
    """RFC 8879 §3: ``CertificateCompressionAlgorithm algorithms<2..2^8-2>``; unknown values are kept (and ignored)."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.COMPRESS_CERTIFICATE
    algorithms: tuple[CertificateCompressionAlgorithm, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(algorithms=to_enums(CertificateCompressionAlgorithm, r.uint16_list(1, min_len=2)))

    def encode_body(self, w: Writer) -> None:
        w.uint16_list(1, self.algorithms)


# --- status_request (RFC 6066 §8) and signed_certificate_timestamp (RFC 6962 §3.3) -------------


@dataclass(frozen=True, slots=True)
class CertificateStatusRequest(Typed):
    """ClientHello: ``status_type`` and, for ocsp, an OCSPStatusRequest.

    ``responder_id_list`` holds DER ResponderIDs and ``request_extensions`` the DER Extensions;
    the body of a status type other than ocsp is kept raw in ``other`` (servers ignore it).
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.STATUS_REQUEST
    status_type: CertificateStatusType = CertificateStatusType.OCSP
    responder_id_list: tuple[bytes, ...] = ()
    request_extensions: bytes = b""
    other: bytes = b""

    @classmethod
    def decode(cls, r: Reader) -> Self:
        status_type = CertificateStatusType(r.uint8())
        if status_type != CertificateStatusType.OCSP:
            return cls(status_type=status_type, other=r.rest())
        ids: list[bytes] = []
        # RFC 6066 §8: ResponderID responder_id_list<0..2^16-1>; opaque ResponderID<1..2^16-1>.
        with r.block(2) as body:
            while not body.is_empty():
                ids.append(body.vector(2, min_len=1))
        return cls(status_type=status_type, responder_id_list=tuple(ids), request_extensions=r.vector(2))

    def encode_body(self, w: Writer) -> None:
        w.uint8(self.status_type)
        if self.status_type != CertificateStatusType.OCSP:
            w.bytes(self.other)
            return
        with w.block(2):
            for responder_id in self.responder_id_list:
                w.vector(2, responder_id)
        w.vector(2, self.request_extensions)


@dataclass(frozen=True, slots=True)
class CertificateStatus(Typed):
    """A CertificateEntry's status_request (RFC 8446 §4.4.2.1): RFC 6066 §8 CertificateStatus."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.STATUS_REQUEST
    ocsp_response: bytes
    status_type: CertificateStatusType = CertificateStatusType.OCSP

    @classmethod
    def decode(cls, r: Reader) -> Self:
        status_type = CertificateStatusType(r.uint8())
        # RFC 6066 §8: opaque OCSPResponse<1..2^24-1>.
        return cls(status_type=status_type, ocsp_response=r.vector(3, min_len=1))

    def encode_body(self, w: Writer) -> None:
        w.uint8(self.status_type)
        w.vector(3, self.ocsp_response)


@dataclass(frozen=True, slots=True)
class SignedCertificateTimestampRequest(Typed):
    """RFC 6962 §3.3.1: empty in ClientHello."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode_body(self, w: Writer) -> None:
        pass


@dataclass(frozen=True, slots=True)
class SignedCertificateTimestampList(Typed):
    """RFC 6962 §3.3: ``SerializedSCT sct_list<1..2^16-1>``, each ``opaque SerializedSCT<1..2^16-1>``.

    The SCTs are carried, never verified.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.SIGNED_CERTIFICATE_TIMESTAMP
    sct_list: tuple[bytes, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        scts: list[bytes] = []
        with r.block(2, min_len=1) as body:
            while not body.is_empty():
                scts.append(body.vector(2, min_len=1))
        return cls(sct_list=tuple(scts))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Parse an encoded list (with its length prefix); DecodeError on any slack."""
        r = Reader(data)
        decoded = cls.decode(r)
        r.expect_end()
        return decoded

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode_body(w)
        return w.getvalue()

    def encode_body(self, w: Writer) -> None:
        with w.block(2):
            for sct in self.sct_list:
                w.vector(2, sct)
