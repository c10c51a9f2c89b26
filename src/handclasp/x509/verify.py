"""Peer certificate verification: the ``CertificateVerified`` proof token and its makers.

Theory of operation
-------------------
Path building and Web PKI policy are cryptography's (``x509.verification``:
``Store``, ``PolicyBuilder``); nothing here builds paths by hand. This module
adds what the TLS layer needs around it:

1. Reasons, not sentences. Before handing the chain to cryptography the leaf is
   examined for the problems a user most often meets (DER that does not parse,
   expiry, a name that does not match, a wrong purpose), so each gets its own
   ``CertificateProblem`` and alert. Whatever cryptography still refuses is
   classified from its message by ``_VERIFICATION_MESSAGES``; a chain that
   leads to no trusted root is ``UNKNOWN_ISSUER``.
2. Proof tokens. ``CertificateVerified`` can only be made here (a private seal
   is checked at construction), so the handshake cannot reach ``Traffic`` with
   a chain nobody looked at.
3. Time comes from the caller (``now``, unix seconds), never from the clock.
4. Key types are cryptography's: with cryptography 50 that includes ML-DSA-44/65/87
   (RFC 9881) keys and certificate signatures, anywhere in the chain.

A verify call happens once per full handshake. The ``Store`` and the
``PolicyBuilder`` are built once per verifier object, and successful results
are kept in a small cache keyed by the exact DER bytes and name, valid while
``now`` stays inside every certificate's validity period on the verified path.
"""

from __future__ import annotations

import datetime
import ipaddress
import threading
from collections.abc import Sequence
from typing import Protocol

from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from handclasp.errors import CertificateProblem, CertificateVerifyError
from handclasp.tools.certs import certificate_names
from handclasp.x509.names import is_ip_address, name_matches, normalise_server_name

__all__ = [
    "CertificateVerified",
    "ClientCertVerifier",
    "NoServerVerification",
    "ServerCertVerifier",
    "WebPkiClientVerifier",
    "WebPkiServerVerifier",
]


class CertificateVerified:
    """Proof that a peer's chain was verified (or deliberately not checked).

    ``chain`` is the chain as the peer sent it, parsed (leaf first); ``path``
    is the verified path from the leaf to the trust anchor (empty when
    verification was skipped). Only this module constructs it.
    """

    __slots__ = ("chain", "path")

    def __init__(
        self,
        chain: tuple[x509.Certificate, ...],
        path: tuple[x509.Certificate, ...],
        *,
        _seal: object = None,
    ) -> None:
        if _seal is not _SEAL:
            raise TypeError("CertificateVerified is only constructed by handclasp.x509.verify")
        self.chain = chain
        self.path = path

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def __repr__(self) -> str:
        subject = self.chain[0].subject.rfc4514_string() if self.chain else "-"
        return f"CertificateVerified(leaf={subject!r}, path_length={len(self.path)})"


class ServerCertVerifier(Protocol):
    def verify_server(
        self, chain: Sequence[bytes], server_name: str | None, now: float
    ) -> CertificateVerified:
        """Verify a server's chain (DER, leaf first) for ``server_name`` at ``now``."""
        ...


class ClientCertVerifier(Protocol):
    def verify_client(self, chain: Sequence[bytes], now: float) -> CertificateVerified:
        """Verify a client's chain (DER, leaf first) at ``now``."""
        ...


class WebPkiServerVerifier:
    """Web PKI verification of server certificates against ``roots``.

    ``server_name`` is a DNS name (matched against DNS SANs, wildcards
    included) or an IP literal (matched against IP SANs only). With
    ``server_name=None`` the chain and its serverAuth purpose are checked but
    no name is: use that only when the caller has no name to check.
    """

    def __init__(
        self, roots: list[x509.Certificate], *, cache_size: int = 64, max_chain_depth: int | None = None
    ) -> None:
        self._core = _Core(roots, ExtendedKeyUsageOID.SERVER_AUTH, cache_size, max_chain_depth)
        # server_name=None: a client-profile verifier whose EKU checks ask for serverAuth.
        self._nameless = self._core.builder.extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca().may_be_present(
                x509.ExtendedKeyUsage, verification.Criticality.NON_CRITICAL, _ca_server_auth
            ),
            ee_policy=verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(
                x509.ExtendedKeyUsage, verification.Criticality.NON_CRITICAL, _ee_server_auth
            ),
        )

    def verify_server(
        self, chain: Sequence[bytes], server_name: str | None, now: float
    ) -> CertificateVerified:
        cached = self._core.cached(chain, server_name, now)
        if cached is not None:
            return cached
        certs = _parse_chain(chain)
        name = _normalise_name(server_name) if server_name is not None else None
        when = _to_datetime(now)
        description = f"certificate for {name}" if name is not None else _describe(certs[0])
        self._core.precheck(certs[0], when, description, name)
        try:
            if name is None:
                verified = self._nameless.time(when).build_client_verifier().verify(certs[0], list(certs[1:]))
                path = tuple(verified.chain)
            else:
                verifier = self._core.builder.time(when).build_server_verifier(_subject(name))
                path = tuple(verifier.verify(certs[0], list(certs[1:])))
        except verification.VerificationError as exc:
            raise self._core.classify(exc, certs, when, description) from None
        return self._core.remember(chain, server_name, certs, path)


class WebPkiClientVerifier:
    """Web PKI verification of client certificates (extendedKeyUsage clientAuth) against ``roots``."""

    def __init__(
        self, roots: list[x509.Certificate], *, cache_size: int = 64, max_chain_depth: int | None = None
    ) -> None:
        self._core = _Core(roots, ExtendedKeyUsageOID.CLIENT_AUTH, cache_size, max_chain_depth)

    def verify_client(self, chain: Sequence[bytes], now: float) -> CertificateVerified:
        cached = self._core.cached(chain, None, now)
        if cached is not None:
            return cached
        certs = _parse_chain(chain)
        when = _to_datetime(now)
        description = f"client {_describe(certs[0])}"
        self._core.precheck(certs[0], when, description, None)
        try:
            verified = self._core.builder.time(when).build_client_verifier().verify(certs[0], list(certs[1:]))
        except verification.VerificationError as exc:
            raise self._core.classify(exc, certs, when, description) from None
        return self._core.remember(chain, None, certs, tuple(verified.chain))


class NoServerVerification:
    """Dangerous: accepts any server chain. The leaf is still parsed (its key checks CertificateVerify)."""

    def verify_server(
        self, chain: Sequence[bytes], server_name: str | None, now: float
    ) -> CertificateVerified:
        return CertificateVerified(_parse_chain(chain), (), _seal=_SEAL)


class _Core:
    """What the server and client verifiers share: trust store, policy builder, checks, result cache."""

    def __init__(
        self,
        roots: list[x509.Certificate],
        purpose: x509.ObjectIdentifier,
        cache_size: int,
        max_chain_depth: int | None,
    ) -> None:
        if not roots:
            raise ValueError("no trust anchors: give at least one root certificate")
        self.roots = tuple(roots)
        self.purpose = purpose
        self.builder = verification.PolicyBuilder().store(verification.Store(list(roots)))
        if max_chain_depth is not None:
            self.builder = self.builder.max_chain_depth(max_chain_depth)
        self._cache: dict[tuple[tuple[bytes, ...], str | None], _CacheEntry] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def precheck(
        self, leaf: x509.Certificate, when: datetime.datetime, description: str, name: str | None
    ) -> None:
        """The leaf checks that get a precise reason before cryptography's path validation runs."""
        problem = _validity_problem(leaf, when)
        if problem is not None:
            raise CertificateVerifyError(problem, _validity_detail(problem, leaf, description))
        if name is not None:
            _check_name(leaf, name)
        _check_leaf_usage(leaf, self.purpose, description)

    def classify(
        self,
        exc: verification.VerificationError,
        certs: tuple[x509.Certificate, ...],
        when: datetime.datetime,
        description: str,
    ) -> CertificateVerifyError:
        message = str(exc).split(" (encountered processing", 1)[0]
        problem = next((p for text, p in _VERIFICATION_MESSAGES if text in message), None)
        if problem is CertificateProblem.EXPIRED:  # some certificate above the leaf is out of its validity
            return self._chain_validity_error(certs, when, description, message)
        if problem is None:
            issuer = certs[-1].issuer.rfc4514_string()
            detail = f"{description} is not issued by a trusted CA (issuer: {issuer})"
            if _NO_PATH not in message:
                detail += f": {message}"
            return CertificateVerifyError(CertificateProblem.UNKNOWN_ISSUER, detail)
        return CertificateVerifyError(problem, f"{description} refused: {message}")

    def _chain_validity_error(
        self, certs: tuple[x509.Certificate, ...], when: datetime.datetime, description: str, message: str
    ) -> CertificateVerifyError:
        issuers = {cert.issuer for cert in certs}
        candidates = [*certs[1:], *(root for root in self.roots if root.subject in issuers)]
        for cert in candidates:
            problem = _validity_problem(cert, when)
            if problem is not None:
                what = f"{description}: issuing certificate {cert.subject.rfc4514_string()}"
                return CertificateVerifyError(problem, _validity_detail(problem, cert, what))
        return CertificateVerifyError(CertificateProblem.EXPIRED, f"{description} refused: {message}")

    def cached(self, chain: Sequence[bytes], name: str | None, now: float) -> CertificateVerified | None:
        """An earlier result for exactly these bytes and name, if ``now`` is inside the path's validity."""
        if not self._cache_size:
            return None
        entry = self._cache.get((_cache_key(chain), name))
        if entry is None or not entry.not_before <= now <= entry.not_after:
            return None
        return CertificateVerified(entry.chain, entry.path, _seal=_SEAL)

    def remember(
        self,
        chain: Sequence[bytes],
        name: str | None,
        certs: tuple[x509.Certificate, ...],
        path: tuple[x509.Certificate, ...],
    ) -> CertificateVerified:
        """Keep a successful result (bounded, oldest dropped first) and return its token."""
        if self._cache_size:
            entry = _CacheEntry(
                certs,
                path,
                max(cert.not_valid_before_utc.timestamp() for cert in path),
                min(cert.not_valid_after_utc.timestamp() for cert in path),
            )
            with self._lock:
                if len(self._cache) >= self._cache_size:
                    self._cache.pop(next(iter(self._cache)), None)
                self._cache[(_cache_key(chain), name)] = entry
        return CertificateVerified(certs, path, _seal=_SEAL)


class _CacheEntry:
    __slots__ = ("chain", "not_after", "not_before", "path")

    def __init__(
        self,
        chain: tuple[x509.Certificate, ...],
        path: tuple[x509.Certificate, ...],
        not_before: float,
        not_after: float,
    ) -> None:
        self.chain = chain
        self.path = path
        self.not_before = not_before
        self.not_after = not_after


def _cache_key(chain: Sequence[bytes]) -> tuple[bytes, ...]:
    return tuple(bytes(der) for der in chain)


def _parse_chain(chain: Sequence[bytes]) -> tuple[x509.Certificate, ...]:
    # RFC 8446 §4.4.2.4: an empty Certificate from the client is certificate_required
    # (from the server, the state machine refuses it before calling here).
    if not chain:
        raise CertificateVerifyError(CertificateProblem.REQUIRED, "the peer sent no certificate")
    certs = []
    for index, der in enumerate(chain):
        try:
            certs.append(x509.load_der_x509_certificate(bytes(der)))
        except ValueError as exc:
            position = "leaf certificate" if index == 0 else f"certificate #{index} in the chain"
            raise CertificateVerifyError(
                CertificateProblem.BAD_ENCODING, f"{position} is not valid DER X.509: {exc}"
            ) from None
    return tuple(certs)


def _normalise_name(server_name: str) -> str:
    try:
        return normalise_server_name(server_name)
    except ValueError as exc:
        raise CertificateVerifyError(CertificateProblem.NAME_MISMATCH, str(exc)) from None


def _check_name(leaf: x509.Certificate, name: str) -> None:
    """Check the normalised ``name`` against the leaf's SANs (RFC 6125 §6; no CN fallback)."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = x509.SubjectAlternativeName([])
    except ValueError as exc:
        raise CertificateVerifyError(
            CertificateProblem.BAD_ENCODING, f"certificate for {name} has a malformed extension: {exc}"
        ) from None
    if is_ip_address(name):  # RFC 6125 §6.2.1: an IP reference identity matches iPAddress SANs only
        matched = ipaddress.ip_address(name) in san.get_values_for_type(x509.IPAddress)
    else:
        matched = name_matches(san.get_values_for_type(x509.DNSName), name)
    if not matched:
        sans = certificate_names(leaf)
        valid_for = ", ".join(sans) if sans else "no names (no subjectAltName)"
        raise CertificateVerifyError(
            CertificateProblem.NAME_MISMATCH,
            f"certificate is not valid for {name}; it is valid for {valid_for}",
        )


def _check_leaf_usage(leaf: x509.Certificate, purpose: x509.ObjectIdentifier, description: str) -> None:
    try:
        extended = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        extended = None
    except ValueError as exc:
        raise CertificateVerifyError(CertificateProblem.BAD_ENCODING, f"{description}: {exc}") from None
    # CA/B BR 7.1.2.7.10 (as cryptography applies it): if present, the EKU must name the purpose.
    if extended is not None and purpose not in extended:
        have = ", ".join(_PURPOSE_NAMES.get(oid, oid.dotted_string) for oid in extended) or "nothing"
        raise CertificateVerifyError(
            CertificateProblem.BAD_KEY_USAGE,
            f"{description} is not for {_PURPOSE_NAMES.get(purpose, purpose.dotted_string)} "
            f"(extendedKeyUsage: {have})",
        )
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    # RFC 8446 §4.4.2.2: digitalSignature MUST be set if the Key Usage extension is present.
    if not usage.digital_signature:
        raise CertificateVerifyError(
            CertificateProblem.BAD_KEY_USAGE, f"{description} has keyUsage without digitalSignature"
        )


def _validity_problem(cert: x509.Certificate, when: datetime.datetime) -> CertificateProblem | None:
    if when < cert.not_valid_before_utc:
        return CertificateProblem.NOT_YET_VALID
    if when > cert.not_valid_after_utc:
        return CertificateProblem.EXPIRED
    return None


def _validity_detail(problem: CertificateProblem, cert: x509.Certificate, description: str) -> str:
    if problem is CertificateProblem.EXPIRED:
        return f"{description} expired at {_iso(cert.not_valid_after_utc)}"
    return f"{description} is not valid before {_iso(cert.not_valid_before_utc)}"


def _describe(cert: x509.Certificate) -> str:
    try:
        names = certificate_names(cert)
    except ValueError:
        names = ()
    return f"certificate for {names[0]}" if names else f"certificate {cert.subject.rfc4514_string()!r}"


def _subject(name: str) -> verification.Subject:
    if is_ip_address(name):
        return x509.IPAddress(ipaddress.ip_address(name))
    return x509.DNSName(name)


def _to_datetime(now: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(now, datetime.UTC)


def _iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ee_server_auth(
    policy: verification.Policy, cert: x509.Certificate, extension: x509.ExtendedKeyUsage | None
) -> None:
    if extension is not None and ExtendedKeyUsageOID.SERVER_AUTH not in extension:
        raise ValueError("required EKU not found")


def _ca_server_auth(
    policy: verification.Policy, cert: x509.Certificate, extension: x509.ExtendedKeyUsage | None
) -> None:
    allowed = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE)
    if extension is not None and not any(oid in extension for oid in allowed):
        raise ValueError("required EKU not found")


_SEAL = object()
_NO_PATH = "all candidates exhausted with no interior errors"

_PURPOSE_NAMES: dict[x509.ObjectIdentifier, str] = {
    ExtendedKeyUsageOID.SERVER_AUTH: "server authentication",
    ExtendedKeyUsageOID.CLIENT_AUTH: "client authentication",
    ExtendedKeyUsageOID.CODE_SIGNING: "code signing",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "email protection",
    ExtendedKeyUsageOID.TIME_STAMPING: "time stamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP signing",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "any purpose",
}

# cryptography VerificationError text → problem, first match wins; no match means UNKNOWN_ISSUER.
_VERIFICATION_MESSAGES: tuple[tuple[str, CertificateProblem], ...] = (
    ("not valid at validation time", CertificateProblem.EXPIRED),
    ("subjectAltName", CertificateProblem.NAME_MISMATCH),
    ("EKU", CertificateProblem.BAD_KEY_USAGE),
    ("keyUsage", CertificateProblem.BAD_KEY_USAGE),
    ("signature does not match", CertificateProblem.BAD_SIGNATURE),
    ("Forbidden public key algorithm", CertificateProblem.UNSUPPORTED_KEY),
    ("Forbidden signature algorithm", CertificateProblem.UNSUPPORTED_KEY),
    ("RSA key is too weak", CertificateProblem.UNSUPPORTED_KEY),
    ("malformed public key", CertificateProblem.UNSUPPORTED_KEY),
    ("ASN.1", CertificateProblem.BAD_ENCODING),
    ("duplicate extension", CertificateProblem.BAD_ENCODING),
    ("path length constraint", CertificateProblem.OTHER),
    ("name constraint", CertificateProblem.OTHER),
    ("basicConstraints", CertificateProblem.OTHER),
    ("max depth", CertificateProblem.OTHER),
    ("X509v3", CertificateProblem.OTHER),
    ("serial", CertificateProblem.OTHER),
)
