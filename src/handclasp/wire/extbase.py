"""What every extension class shares: the message kinds of the registry and the Extension protocol."""

from __future__ import annotations

import enum
from typing import ClassVar, Protocol

from handclasp.wire.codec import Writer
from handclasp.wire.enums import ExtensionType


class MessageKind(enum.Enum):
    CH = "ClientHello"
    SH = "ServerHello"
    SH12 = "ServerHello (TLS 1.2)"
    HRR = "HelloRetryRequest"
    EE = "EncryptedExtensions"
    CT = "Certificate"
    CR = "CertificateRequest"
    NST = "NewSessionTicket"


class Extension(Protocol):
    TYPE: ClassVar[ExtensionType]

    @property
    def extension_type(self) -> ExtensionType: ...

    def encode_body(self, w: Writer) -> None: ...


class Typed:
    """Mixin: ``extension_type`` from the class's TYPE."""

    TYPE: ClassVar[ExtensionType]
    __slots__ = ()

    @property
    def extension_type(self) -> ExtensionType:
        return self.TYPE
