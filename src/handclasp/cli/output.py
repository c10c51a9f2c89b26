"""Shared CLI helpers: names in (group/suite aliases) and names out (printing).

Pretty with ``rich`` on a terminal; on a pipe the same calls print plain
ASCII lines with no escape codes, so tests and logs stay readable.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from rich.console import Console
from rich.markup import escape

from handclasp.errors import (
    AlertReceived,
    CertificateVerifyError,
    HandclaspError,
    TLSError,
)
from handclasp.tools.certs import CertifiedKey
from handclasp.wire.enums import CipherSuite, NamedGroup

_T = TypeVar("_T")


class Printer:
    """Thread-safe line printer: rich markup on a TTY, plain text otherwise."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._console = Console(file=self.stream, highlight=False, soft_wrap=True,
                                force_terminal=self.is_tty, no_color=not self.is_tty)
        self._lock = threading.Lock()
        self._is_broken = False

    def line(self, markup: str = "", plain: str | None = None) -> None:
        """Print ``markup`` (rich markup) on a TTY, or ``plain`` (default: markup stripped) on a pipe."""
        with self._lock:
            if self._is_broken:
                return
            try:
                if self.is_tty:
                    self._console.print(markup)
                else:
                    self.stream.write((plain if plain is not None else _strip_markup(markup)) + "\n")
                    self.stream.flush()
            except BrokenPipeError:  # the reader went away (``| head``): stop printing, quietly
                self._is_broken = True
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def text(self, plain: str) -> None:
        """Print ``plain`` as is (no markup interpretation) on a TTY and on a pipe."""
        self.line(escape(plain), plain)

    def arrow(self) -> str:
        return "→" if self.is_tty else "->"

    def section(self, title: str) -> None:
        self.line(f"\n[bold underline]{escape(title)}[/]", f"\n== {title} ==")

    def fields(self, rows: Iterable[tuple[str, str]], indent: str = "  ") -> None:
        rows = list(rows)
        width = max((len(name) for name, _ in rows), default=0)
        for name, value in rows:
            self.line(f"{indent}[cyan]{escape(name.ljust(width))}[/]  {escape(value)}",
                      f"{indent}{name.ljust(width)}  {value}")


# --- names out
def name(value: object) -> str:
    """IANA name of an enum member, '-' for None."""
    if value is None:
        return "-"
    return str(getattr(value, "name", value))


def version_name(version: object) -> str:
    raw = name(version)
    return _VERSION_NAMES.get(raw, raw)


def message_name(msg_type: object) -> str:
    """RFC 8446 presentation name: HandshakeType.CLIENT_HELLO → 'ClientHello'; None → the dummy CCS."""
    if msg_type is None:
        return "ChangeCipherSpec"
    return "".join(part.capitalize() for part in name(msg_type).split("_"))


def negotiated_rows(negotiated: Any) -> list[tuple[str, str]]:
    """(label, value) rows for a ``Negotiated``; only attribute reads, no TLS decisions."""
    def attr(field: str) -> Any:
        return getattr(negotiated, field, None)

    return [
        ("version", version_name(attr("version"))),
        ("cipher suite", name(attr("cipher_suite"))),
        ("group", name(attr("group"))),
        ("signature scheme", name(attr("signature_scheme"))),
        ("ALPN", attr("alpn_protocol") or "-"),
        ("server name", attr("server_name") or "-"),
        ("resumed", "yes" if attr("resumed") else "no"),
        ("hello retry", "yes" if attr("hello_retry") else "no"),
        ("early data", "accepted" if attr("early_data_accepted") else "-"),
        ("cert compression", name(attr("certificate_compression"))),
        ("OCSP staple", f"{len(attr('ocsp_response'))} bytes" if attr("ocsp_response") else "-"),
    ]


def certificate_rows(chain: Sequence[x509.Certificate]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for index, cert in enumerate(chain):
        rows += [
            (f"[{index}] subject", cert.subject.rfc4514_string() or "-"),
            ("    issuer", cert.issuer.rfc4514_string() or "-"),
            ("    key", key_description(cert.public_key())),
            ("    valid", f"{_utc(cert.not_valid_before_utc)} .. {_utc(cert.not_valid_after_utc)}"),
        ]
    return rows


def key_description(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {_CURVE_NAMES.get(key.curve.name, key.curve.name)}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    name = type(key).__name__  # e.g. MLDSA65PublicKey: ML-DSA keys have no common base class to test
    if name.upper().startswith("MLDSA"):
        return "ML-DSA-" + "".join(ch for ch in name if ch.isdigit())
    return name


def error_message(exc: BaseException) -> str:
    """One line for the user: what ended the connection, never a traceback."""
    if isinstance(exc, CertificateVerifyError):
        return f"certificate verify failed: {exc}"
    if isinstance(exc, AlertReceived):
        return str(exc)
    if isinstance(exc, TLSError) and exc.alert is not None:
        return f"{exc} (sent alert {exc.alert.name.lower()})"
    if isinstance(exc, HandclaspError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if not exc.filename else f"{exc.filename}: {exc.strerror.lower()}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def format_address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address)


# --- names in
class UsageError(Exception):
    """A bad command line; the CLI prints it and exits 2."""


class CommandError(Exception):
    """A failure worded for the user (e.g. "cannot connect to HOST:PORT: ..."); exit 1."""


def alpn_argument(text: str) -> tuple[str, ...]:
    return _argument(parse_alpn, text)


def groups_argument(text: str) -> tuple[NamedGroup, ...]:
    return _argument(parse_groups, text)


def cipher_suites_argument(text: str) -> tuple[CipherSuite, ...]:
    return _argument(parse_cipher_suites, text)


def load_certified_key(cert_path: str, key_path: str) -> CertifiedKey:
    """--cert/--key files; a missing or unparsable file is a CommandError (exit 1), not a traceback."""
    try:
        return CertifiedKey.load(cert_path, key_path)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot load certificate {cert_path} / key {key_path}: {error_message(exc)}") from None


def _argument(parse: Callable[[str], _T], text: str) -> _T:
    """Run a parser for argparse: ValueError becomes a clean usage error (exit 2)."""
    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_groups(text: str) -> tuple[NamedGroup, ...]:
    return tuple(_parse_one(NamedGroup, item, _GROUP_ALIASES) for item in _split(text))


def parse_cipher_suites(text: str) -> tuple[CipherSuite, ...]:
    return tuple(_parse_one(CipherSuite, item, _SUITE_ALIASES) for item in _split(text))


def parse_alpn(text: str) -> tuple[str, ...]:
    return tuple(_split(text))


def parse_host_port(text: str, default_port: int = 443) -> tuple[str, int]:
    """'host:port', '[v6]:port' or 'host' → (host, port); ValueError on junk."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    port = int(port_text) if port_text.isdigit() else (default_port if not port_text else -1)
    if not host or not 0 < port < 65536:
        raise ValueError(f"invalid address {text!r}, expected HOST:PORT")
    return host, port


def _parse_one(enum_type: Any, item: str, aliases: dict[str, Any]) -> Any:
    key = item.upper().replace("-", "").replace("_", "")
    if key in aliases:
        return aliases[key]
    for member in enum_type:
        if member.name.replace("_", "") == key:
            return member
    if key.startswith("0X"):
        return enum_type(int(key, 16))
    known = ", ".join(m.name for m in enum_type)
    raise ValueError(f"unknown name {item!r} (known: {known})")


def _split(text: str) -> list[str]:
    items = [item.strip() for item in text.replace(":", ",").split(",") if item.strip()]
    if not items:
        raise ValueError("empty list")
    return items


def _strip_markup(markup: str) -> str:
    from rich.text import Text

    return Text.from_markup(markup).plain


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


_VERSION_NAMES = {"TLS1_3": "TLSv1.3", "TLS1_2": "TLSv1.2", "TLS1_1": "TLSv1.1", "TLS1_0": "TLSv1.0",
                  "SSL3": "SSLv3"}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_GROUP_ALIASES: dict[str, NamedGroup] = {
    "P256": NamedGroup.SECP256R1, "PRIME256V1": NamedGroup.SECP256R1,
    "P384": NamedGroup.SECP384R1, "P521": NamedGroup.SECP521R1,
}
_SUITE_ALIASES: dict[str, CipherSuite] = {
    "AES128GCM": CipherSuite.TLS_AES_128_GCM_SHA256, "AES128GCMSHA256": CipherSuite.TLS_AES_128_GCM_SHA256,
    "AES256GCM": CipherSuite.TLS_AES_256_GCM_SHA384, "AES256GCMSHA384": CipherSuite.TLS_AES_256_GCM_SHA384,
    "CHACHA20": CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    "CHACHA20POLY1305": CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    "CHACHA20POLY1305SHA256": CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
}
