"""Server name normalisation, IP literals, SNI and SAN matching."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from handclasp.x509.names import is_ip_address, name_matches, normalise_server_name, sni_for


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("localhost", "localhost"),
        ("Example.COM.", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("_acme.example", "_acme.example"),
        ("127.0.0.1", "127.0.0.1"),
        ("0:0::1", "::1"),
    ],
)
def test_normalise_server_name(name: str, expected: str) -> None:
    assert normalise_server_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "a..b",
        ".example.com",
        "example..",
        "a" * 64 + ".example",
        ".".join(["a" * 63] * 4),  # 255 characters
        "-lead.example",
        "trail-.example",
        "sp ace.example",
        "*.example.com",
        "example.com:443",
        "1.2.3.999",
        "[::1]",
    ],
)
def test_normalise_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError):
        normalise_server_name(name)


def test_253_characters_is_the_limit() -> None:
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert len(name) == 253
    assert normalise_server_name(name) == name
    with pytest.raises(ValueError):
        normalise_server_name(name + "d")


def test_ip_literals_have_no_sni() -> None:
    """RFC 6066 §3: literal IPv4 and IPv6 addresses are not permitted in HostName."""
    assert sni_for("127.0.0.1") is None
    assert sni_for("::1") is None
    assert sni_for("LocalHost.") == "localhost"
    assert is_ip_address("192.0.2.1") and is_ip_address("2001:db8::1")
    assert not is_ip_address("localhost") and not is_ip_address("1.2.3")


@pytest.mark.parametrize(
    ("patterns", "name", "expected"),
    [
        (["localhost"], "LOCALHOST", True),
        (["*.example.com"], "www.example.com", True),
        (["*.example.com"], "example.com", False),
        (["*.example.com"], "a.b.example.com", False),
        (["w*.example.com"], "www.example.com", False),
        (["127.0.0.1"], "127.0.0.1", True),
        (["localhost"], "127.0.0.1", False),
        (["::1"], "0::1", True),
        (["*.0.0.1"], "127.0.0.1", False),
        (["other.localhost", "localhost"], "localhost", True),
        (["bücher.example"], "xn--bcher-kva.example", True),
        ([], "localhost", False),
        (["localhost"], "not a name", False),
    ],
)
def test_name_matches(patterns: list[str], name: str, expected: bool) -> None:
    assert name_matches(patterns, name) is expected


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(st.lists(_label, min_size=1, max_size=5).filter(lambda labels: not labels[-1].isdigit()))
def test_normalisation_is_idempotent_and_self_matching(labels: list[str]) -> None:
    name = ".".join(labels)
    normal = normalise_server_name(name.upper() + ".")
    assert normal == name
    assert normalise_server_name(normal) == normal
    assert name_matches([name], normal)
    if len(labels) > 1:
        assert name_matches(["*." + ".".join(labels[1:])], name)


@given(st.text(max_size=80))
def test_random_text_is_normalised_or_refused(text: str) -> None:
    try:
        normal = normalise_server_name(text)
    except ValueError:
        return
    assert normal == normalise_server_name(normal)
    assert len(normal) <= 253 or is_ip_address(normal)
