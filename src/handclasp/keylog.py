"""NSS key log lines (the SSLKEYLOGFILE format read by Wireshark).

One line per secret: ``LABEL <client_random hex> <secret hex>``. The file is
opened in append mode (created 0600), each line is written under a lock and
flushed at once, so several connections and threads can share one writer and
a crash loses nothing. This is the one place where secrets leave the process,
and only when the user asked for it.
"""

from __future__ import annotations

import os
import re
import threading
from typing import TextIO


class KeyLogWriter:
    """Appends NSS key log lines to ``path``; thread-safe."""

    __slots__ = ("path", "_file", "_lock")

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._file: TextIO = os.fdopen(fd, "a", encoding="ascii", newline="\n")

    def log(self, label: str, client_random: bytes, secret: bytes) -> None:
        if not _LABEL.fullmatch(label):
            raise ValueError(f"bad key log label {label!r}")
        if len(client_random) != 32:
            raise ValueError("client_random must be 32 bytes")
        line = f"{label} {client_random.hex()} {secret.hex()}\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __repr__(self) -> str:
        return f"KeyLogWriter({self.path!r})"


def key_log_from_env() -> KeyLogWriter | None:
    """A writer for ``$SSLKEYLOGFILE``, or None when it is unset or empty."""
    path = os.environ.get("SSLKEYLOGFILE")
    return KeyLogWriter(path) if path else None


_LABEL = re.compile(r"[A-Z0-9_]{1,64}")

# The labels NSS, OpenSSL and Wireshark use.
CLIENT_RANDOM = "CLIENT_RANDOM"  # TLS 1.2 master secret
CLIENT_EARLY_TRAFFIC_SECRET = "CLIENT_EARLY_TRAFFIC_SECRET"
CLIENT_HANDSHAKE_TRAFFIC_SECRET = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
SERVER_HANDSHAKE_TRAFFIC_SECRET = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
CLIENT_TRAFFIC_SECRET_0 = "CLIENT_TRAFFIC_SECRET_0"
SERVER_TRAFFIC_SECRET_0 = "SERVER_TRAFFIC_SECRET_0"
EARLY_EXPORTER_SECRET = "EARLY_EXPORTER_SECRET"
EXPORTER_SECRET = "EXPORTER_SECRET"
