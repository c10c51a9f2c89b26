"""``handclasp connect --sess-out/--sess-in/--early-data`` against ``handclasp serve --early-data --echo``
(subprocesses on 127.0.0.1, bounded by test_cli.TIMEOUT)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from test_cli import handclasp, local_ca_path, serving

EARLY = "early bytes, sent as 0-RTT\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """As test_cli's: a private data dir (the local CA lands in tmp_path), no colours, no key log."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SSLKEYLOGFILE", "FORCE_COLOR")}
    environ.update(XDG_DATA_HOME=str(tmp_path / "data"), NO_COLOR="1")
    return environ


def connect(port: int, env: dict[str, str], *args: str, stdin: str = "") -> tuple[str, str]:
    result = handclasp("connect", f"localhost:{port}", "--cafile", local_ca_path(env), *args, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def test_connect_sends_early_data_that_serve_accepts_and_echoes_first(env: dict[str, str], tmp_path: Path) -> None:
    session, early = tmp_path / "sess.pem", tmp_path / "early.txt"
    early.write_text(EARLY)
    with serving("--echo", "--early-data", "--max-connections", "2", env=env) as (port, lines):
        out1, _ = connect(port, env, "--sess-out", str(session), stdin="one\n")
        assert out1 == "one\n"
        assert stat.S_IMODE(session.stat().st_mode) == 0o600
        assert session.read_text().startswith("-----BEGIN HANDCLASP TLS SESSION-----")
        out2, err2 = connect(port, env, "--sess-in", str(session), "--early-data", str(early), stdin="two\n")
    assert out2 == EARLY + "two\n"  # the early bytes came back once, before the 1-RTT ones
    assert "Early data was accepted" in err2
    assert re.search(r"resumed\s+yes", err2)
    log = [line for line in lines if line.startswith("127.0.0.1:")]
    assert len(log) == 2 and "resumed=yes" in log[1]
    assert f"early_data={len(EARLY)}B" in log[1]  # the server counted them as early data
    assert "early_data=" not in log[0]


def test_server_without_early_data_gets_the_bytes_once_after_the_handshake(env: dict[str, str], tmp_path: Path) -> None:
    """A ticket without early_data: the client must not offer 0-RTT (RFC 8446 §4.2.10), and sends them later."""
    session, early = tmp_path / "sess.pem", tmp_path / "early.txt"
    early.write_text(EARLY)
    with serving("--echo", "--max-connections", "2", env=env) as (port, lines):
        connect(port, env, "--sess-out", str(session), stdin="one\n")
        out, err = connect(port, env, "--sess-in", str(session), "--early-data", str(early), stdin="two\n")
    assert out == EARLY + "two\n"
    assert "Early data was not sent" in err
    assert re.search(r"resumed\s+yes", err)
    assert "early_data=" not in lines[-1]


def test_rejected_early_data_is_resent(env: dict[str, str], tmp_path: Path) -> None:
    """Another server (other ticket keys) refuses the ticket, so the 0-RTT data is rejected and resent."""
    session, early = tmp_path / "sess.pem", tmp_path / "early.txt"
    early.write_text(EARLY)
    with serving("--echo", "--early-data", "--max-connections", "1", env=env) as (port, _):
        connect(port, env, "--sess-out", str(session), stdin="one\n")
    with serving("--echo", "--early-data", "--max-connections", "1", env=env) as (port, lines):
        out, err = connect(port, env, "--sess-in", str(session), "--early-data", str(early), stdin="two\n")
    assert out == EARLY + "two\n"
    assert "Early data was rejected" in err
    assert re.search(r"resumed\s+no", err)
    assert "early_data=" not in lines[-1]


def test_garbage_session_file_is_a_one_line_error(env: dict[str, str], tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN HANDCLASP TLS SESSION-----\nAAAA\n-----END HANDCLASP TLS SESSION-----\n")
    for path in (garbage, tmp_path / "missing.pem"):
        result = handclasp("connect", "127.0.0.1:1", "--sess-in", str(path), env=env)
        assert result.returncode == 1
        assert result.stderr.startswith(f"handclasp: error: cannot read session file {path}")
        assert len(result.stderr.splitlines()) == 1


def test_missing_early_data_file_is_a_one_line_error(env: dict[str, str], tmp_path: Path) -> None:
    result = handclasp("connect", "127.0.0.1:1", "--early-data", str(tmp_path / "nope"), env=env)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "cannot read --early-data" in result.stderr


def test_serve_rejects_a_bad_max_early_data(env: dict[str, str]) -> None:
    result = handclasp("serve", "--port", "0", "--early-data", "--max-early-data", "0", env=env)
    assert result.returncode == 2 and "--max-early-data" in result.stderr
