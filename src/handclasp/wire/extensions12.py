"""TLS 1.2 hello extensions (RFC 5746, RFC 7627, RFC 8422, RFC 5077, RFC 7366); registered in ``wire.extensions``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from handclasp.wire.codec import Reader, Writer
from handclasp.wire.enums import ECPointFormat, ExtensionType
from handclasp.wire.extbase import Typed

# --- TLS 1.2 hello extensions (RFC 5746, RFC 7627, RFC 8422, RFC 5077, RFC 7366) ----------------


@dataclass(frozen=True, slots=True)
class RenegotiationInfo(Typed):
    """RFC 5746 §3.2: empty on an initial handshake; the verify_data of the last one otherwise."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.RENEGOTIATION_INFO
    renegotiated_connection: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(renegotiated_connection=r.vector(1))

    def encode_body(self, w: Writer) -> None:
        w.vector(1, self.renegotiated_connection)


@dataclass(frozen=True, slots=True)
class ExtendedMasterSecret(Typed):
    """RFC 7627 §5.1: the extension_data field is empty."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.EXTENDED_MASTER_SECRET

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode_body(self, w: Writer) -> None:
        pass


@dataclass(frozen=True, slots=True)
class EncryptThenMac(Typed):
    """RFC 7366 §2: the extension_data field is empty."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.ENCRYPT_THEN_MAC

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls()

    def encode_body(self, w: Writer) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ECPointFormats(Typed):
    """RFC 8422 §5.1.2: ``ECPointFormat ec_point_format_list<1..2^8-1>`` (``formats``, as SupportedGroups.groups).

    Whether the list contains ``uncompressed`` (RFC 8422 §5.1.2, §5.2: MUST) is
    the hello states' check, not the codec's.
    """

    TYPE: ClassVar[ExtensionType] = ExtensionType.EC_POINT_FORMATS
    formats: tuple[ECPointFormat, ...]

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(formats=tuple(ECPointFormat(f) for f in r.vector(1, min_len=1)))

    def encode_body(self, w: Writer) -> None:
        w.vector(1, bytes(self.formats))


@dataclass(frozen=True, slots=True)
class SessionTicketExt(Typed):
    """RFC 5077 §3.2: the ticket is the whole extension_data; an empty one asks for a ticket (ClientHello)
    or promises a NewSessionTicket (ServerHello, where it MUST be empty: see ``_EMPTY_IN``)."""

    TYPE: ClassVar[ExtensionType] = ExtensionType.SESSION_TICKET
    ticket: bytes

    @classmethod
    def decode(cls, r: Reader) -> Self:
        return cls(ticket=r.rest())

    def encode_body(self, w: Writer) -> None:
        w.bytes(self.ticket)
