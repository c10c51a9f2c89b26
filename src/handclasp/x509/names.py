"""Server names: normalisation (IDNA), IP literals, SNI and certificate name matching.

A server name is either a DNS name or an IP address literal. DNS names are
compared in their canonical form: lowercase IDNA A-labels without a trailing
dot. RFC 6066 §3 forbids IP literals in the server_name extension, so
``sni_for`` returns None for them.

Rules of this module: pure functions, no I/O, and every refusal is a
``ValueError`` naming the offending name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = ["is_ip_address", "name_matches", "normalise_server_name", "sni_for"]


def normalise_server_name(name: str) -> str:
    """Return the canonical form of ``name``; raise ValueError if it is not a usable name.

    DNS names are lowercased, converted to IDNA A-labels and lose one trailing
    dot. IP literals come back in their canonical text form (``::1``, not ``0::1``).
    """
    if is_ip_address(name):
        return str(ipaddress.ip_address(name))
    host = name[:-1] if name.endswith(".") else name
    if not host:
        raise ValueError(f"empty server name: {name!r}")
    if "" in host.split("."):
        raise ValueError(f"server name has an empty label: {name!r}")
    try:
        ascii_host = host.lower().encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValueError(f"invalid server name {name!r}: {exc}") from exc
    _check_dns_name(name, ascii_host)
    return ascii_host


def is_ip_address(name: str) -> bool:
    """True for an IPv4 or IPv6 address literal (no brackets, no port)."""
    if ":" not in name and not name.replace(".", "").isdigit():
        return False  # fast path: most names are DNS names
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def sni_for(name: str) -> str | None:
    """The host_name to send in server_name, or None for an IP literal (RFC 6066 §3)."""
    if is_ip_address(name):
        return None
    return normalise_server_name(name)


def name_matches(pattern_names: Iterable[str], name: str) -> bool:
    """True if ``name`` matches one of ``pattern_names`` (certificate SANs).

    A pattern is a DNS name, an IP literal, or a wildcard ``*.rest`` whose ``*``
    stands for exactly one whole leftmost label (RFC 6125 §6.4.3, as the Web
    PKI applies it: no partial-label wildcards, no match of ``rest`` itself).
    An IP name matches only an IP pattern, never a DNS one (RFC 6125 §6.2.1).
    """
    try:
        wanted = normalise_server_name(name)
    except ValueError:
        return False
    wanted_is_ip = is_ip_address(wanted)
    for pattern in pattern_names:
        if _pattern_matches(pattern, wanted, wanted_is_ip):
            return True
    return False


def _pattern_matches(pattern: str, wanted: str, wanted_is_ip: bool) -> bool:
    if is_ip_address(pattern):
        return wanted_is_ip and ipaddress.ip_address(pattern) == ipaddress.ip_address(wanted)
    if wanted_is_ip:
        return False
    if pattern.startswith("*."):
        rest = _loose_normalise(pattern[2:])
        head, dot, tail = wanted.partition(".")
        return bool(head) and bool(dot) and tail == rest
    return _loose_normalise(pattern) == wanted


def _loose_normalise(pattern: str) -> str | None:
    """Normalise a pattern for comparison with an already-valid name (None if it cannot match one).

    ASCII patterns (every certificate SAN) only need lowercasing: an invalid one
    cannot equal a valid normalised name, so the full check is not repeated.
    """
    if pattern.isascii():
        return pattern.lower().removesuffix(".")
    try:
        return normalise_server_name(pattern)
    except ValueError:
        return None


def _check_dns_name(original: str, host: str) -> None:
    # RFC 1035 §2.3.4: 255 octets on the wire, i.e. 253 characters in dotted text.
    if len(host) > MAX_NAME_LENGTH:
        raise ValueError(f"server name longer than {MAX_NAME_LENGTH} characters: {original!r}")
    labels = host.split(".")
    for label in labels:
        if not label:
            raise ValueError(f"server name has an empty label: {original!r}")
        if len(label) > MAX_LABEL_LENGTH:
            raise ValueError(f"server name label longer than {MAX_LABEL_LENGTH} characters: {original!r}")
        if not _LABEL.fullmatch(label):
            raise ValueError(f"server name label {label!r} is not letters, digits and hyphens: {original!r}")
    # A dotted name ending in an all-numeric label is neither a hostname nor an IP literal.
    if len(labels) > 1 and labels[-1].isdigit():
        raise ValueError(f"server name looks like a malformed IP address: {original!r}")


MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
# Letters, digits, hyphens (not first or last); underscores are tolerated as real-world DNS has them.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
