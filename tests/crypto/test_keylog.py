"""NSS key log writer."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from handclasp import keylog
from handclasp.keylog import KeyLogWriter, key_log_from_env


def test_lines_are_nss_format_and_appended(tmp_path: Path) -> None:
    path = tmp_path / "keys.log"
    path.write_text("# existing\n")
    writer = KeyLogWriter(str(path))
    writer.log(keylog.CLIENT_HANDSHAKE_TRAFFIC_SECRET, bytes(range(32)), b"\xab" * 32)
    # Flushed at once: readable before close.
    lines = path.read_text().splitlines()
    assert lines == ["# existing", f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {bytes(range(32)).hex()} {'ab' * 32}"]
    writer.log("SERVER_TRAFFIC_SECRET_0", b"\x01" * 32, b"\x02" * 48)
    writer.close()
    assert path.read_text().splitlines()[-1] == f"SERVER_TRAFFIC_SECRET_0 {'01' * 32} {'02' * 48}"


def test_new_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new.log"
    KeyLogWriter(str(path)).close()
    assert (os.stat(path).st_mode & 0o777) == 0o600


def test_bad_label_or_random_is_refused(tmp_path: Path) -> None:
    writer = KeyLogWriter(str(tmp_path / "k.log"))
    with pytest.raises(ValueError):
        writer.log("BAD LABEL\nCLIENT_RANDOM", bytes(32), b"x")
    with pytest.raises(ValueError):
        writer.log("CLIENT_RANDOM", bytes(31), b"x")
    writer.close()
    assert (tmp_path / "k.log").read_text() == ""


def test_threads_do_not_interleave(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    writer = KeyLogWriter(str(path))

    def work(n: int) -> None:
        for _ in range(200):
            writer.log("CLIENT_TRAFFIC_SECRET_0", bytes([n]) * 32, bytes([n]) * 48)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    writer.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 800
    for line in lines:
        label, random_hex, secret_hex = line.split(" ")
        assert label == "CLIENT_TRAFFIC_SECRET_0"
        assert len(random_hex) == 64 and len(secret_hex) == 96 and random_hex[:2] == secret_hex[:2]


def test_key_log_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)
    assert key_log_from_env() is None
    monkeypatch.setenv("SSLKEYLOGFILE", "")
    assert key_log_from_env() is None
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "env.log"))
    writer = key_log_from_env()
    assert writer is not None and writer.path == str(tmp_path / "env.log")
    writer.close()
