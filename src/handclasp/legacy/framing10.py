"""The TLS 1.0/1.1 record version before ChangeCipherSpec (legacy; opt-in with legacy_versions).

RFC 2246 §6.1 / RFC 4346 §6.1: every connection starts in the null cipher state
(TLS_NULL_WITH_NULL_NULL), and after ServerHello the records carry the negotiated
version (RFC 2246 §6.2.1, App. E: "the version of the protocol being employed").
TLS 1.2's plaintext records already carry 0x0303, the record layer's default; for
1.0/1.1 the handshake installs this identity protection as the write state right
after the version is known, so that the record layer frames every later plaintext
record (handshake, alert, change_cipher_spec) under that version until the real keys
replace it. Real peers check: OpenSSL refuses a record whose version differs from the
negotiated one (SSL_R_WRONG_VERSION_NUMBER).
"""

from __future__ import annotations

from handclasp.wire.enums import ContentType


class NullProtection10:
    """The null cipher state as a Protection12: body = plaintext, nothing to check."""

    __slots__ = ()
    max_overhead = 0

    def seal(self, content_type: ContentType, version: int, payload: bytes | memoryview) -> bytes:
        return bytes(payload)

    def open(self, content_type: ContentType, version: int, body: bytes | memoryview) -> bytes:
        return bytes(body)
