"""``handclasp cert ocsp`` -> ``handclasp serve --ocsp-file`` -> ``handclasp connect --status``
(subprocesses on 127.0.0.1, bounded by test_cli.TIMEOUT)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_cli import handclasp, local_ca_path, serving


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """As test_cli's: a private data dir (the local CA lands in tmp_path), no colours, no key log."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SSLKEYLOGFILE", "FORCE_COLOR")}
    environ.update(XDG_DATA_HOME=str(tmp_path / "data"), NO_COLOR="1")
    return environ


def _leaf(env: dict[str, str], tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    result = handclasp("cert", "issue", "localhost", "--must-staple", "--out-cert", str(cert), "--out-key", str(key),
                       env=env)
    assert result.returncode == 0, result.stderr
    return cert, key


def _response(env: dict[str, str], cert: Path, out: Path, status: str) -> None:
    result = handclasp("cert", "ocsp", str(cert), "--out", str(out), "--status", status, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Cert Status: {status}" in result.stdout


def _connect(port: int, env: dict[str, str]) -> tuple[int, str]:
    result = handclasp("connect", f"localhost:{port}", "--cafile", local_ca_path(env), "--status", env=env,
                       stdin="ping\n")
    return result.returncode, result.stdout + result.stderr


def test_stapled_good_response_is_checked_and_printed(env: dict[str, str], tmp_path: Path) -> None:
    cert, key = _leaf(env, tmp_path)
    response = tmp_path / "good.der"
    _response(env, cert, response, "good")
    with serving("--cert", str(cert), "--key", str(key), "--ocsp-file", str(response), "--echo",
                 "--max-connections", "1", env=env) as (port, _):
        status, output = _connect(port, env)
    assert status == 0, output
    assert f"OCSP response: {response.stat().st_size} bytes, Cert Status: good" in output
    assert re.search(rf"OCSP staple\s+{response.stat().st_size} bytes", output)  # the Negotiated summary
    assert "ping" in output


def test_revoked_staple_fails_the_handshake(env: dict[str, str], tmp_path: Path) -> None:
    cert, key = _leaf(env, tmp_path)
    response = tmp_path / "revoked.der"
    _response(env, cert, response, "revoked")
    with serving("--cert", str(cert), "--key", str(key), "--ocsp-file", str(response), "--echo",
                 "--max-connections", "1", env=env) as (port, lines):
        status, output = _connect(port, env)
    assert status == 1
    assert "certificate verify failed: revoked: OCSP" in output
    assert any("peer sent alert certificate_revoked" in line for line in lines), lines  # RFC 8446 §6.2


def test_must_staple_certificate_without_a_staple_fails(env: dict[str, str], tmp_path: Path) -> None:
    cert, key = _leaf(env, tmp_path)
    with serving("--cert", str(cert), "--key", str(key), "--echo", "--max-connections", "1", env=env) as (port, lines):
        status, output = _connect(port, env)
    assert status == 1
    assert "certificate verify failed: ocsp_response_missing" in output  # RFC 7633 must-staple
    assert any("peer sent alert bad_certificate_status_response" in line for line in lines), lines


def test_ocsp_file_for_another_certificate_is_a_usage_error(env: dict[str, str], tmp_path: Path) -> None:
    cert, key = _leaf(env, tmp_path)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other, _ = _leaf(env, other_dir)
    response = tmp_path / "other.der"
    _response(env, other, response, "good")
    result = handclasp("serve", "--port", "0", "--cert", str(cert), "--key", str(key), "--ocsp-file", str(response),
                       env=env)
    assert result.returncode == 2
    assert "--ocsp-file" in result.stderr
