"""Packet captures on loopback with tshark, decrypted with a key log."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.interop.peers.process import (
    DEFAULT_TIMEOUT,
    PathLike,
    PeerError,
    PeerProcess,
    can_capture,
    require,
    require_binary,
    run_peer,
)


@contextlib.contextmanager
def tshark_capture(
    port: int,
    *,
    directory: PathLike | None = None,
    interface: str = "lo",
    start_timeout: float = DEFAULT_TIMEOUT,
    settle: float = 0.3,
) -> Iterator[Path]:
    """Capture ``tcp port PORT`` on lo into a pcapng file while the block runs; yields its path (complete
    after the block). Needs root (or capture capabilities). Decode with ``tshark_read``."""
    tshark = require_binary("tshark")
    require("packet capture on lo", can_capture(), "needs root or dumpcap capabilities")
    own_dir = directory is None
    base = Path(tempfile.mkdtemp(prefix="handclasp-pcap-")) if directory is None else Path(directory)
    path = base / f"capture-{port}.pcapng"
    argv = [tshark, "-n", "-i", interface, "-f", f"tcp port {port}", "-w", str(path), "-a", "duration:300"]
    process = PeerProcess("tshark", argv)
    try:
        # "Capturing on 'Loopback: lo'" comes before dumpcap really captures; tshark 4 then logs
        # "Capture started." / 'File: "..."'.
        process.wait_for(r"Capture started|File: ", start_timeout, stream="stderr")
        time.sleep(0.2)
        yield path
        time.sleep(settle)  # let the last packets reach the capture
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.wait(5)
    finally:
        process.stop()
        if own_dir and not path.exists():
            with contextlib.suppress(OSError):
                base.rmdir()


def tshark_read(
    pcap: PathLike,
    *,
    keylog: PathLike | None = None,
    display_filter: str | None = None,
    fields: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    timeout: float = 60.0,
) -> str:
    """``tshark -r PCAP [-o tls.keylog_file:KEYLOG] [-Y FILTER] [-T fields -e F ...]`` → stdout."""
    argv = [require_binary("tshark"), "-n", "-r", str(pcap)]
    if keylog is not None:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    if display_filter:
        argv += ["-Y", display_filter]
    if fields:
        argv += ["-T", "fields"]
        for field in fields:
            argv += ["-e", field]
    argv += list(extra_args)
    done = run_peer(argv, timeout=timeout)
    if done.returncode != 0:
        raise PeerError(f"tshark -r failed (rc {done.returncode})\n{done.stderr}")
    return done.stdout


def tshark_handshake_types(pcap: PathLike, keylog: PathLike | None = None) -> list[int]:
    """Every TLS handshake message type in the capture, in order (decrypted ones too when ``keylog``)."""
    out = tshark_read(pcap, keylog=keylog, display_filter="tls.handshake.type", fields=["tls.handshake.type"])
    types: list[int] = []
    for line in out.split():
        types.extend(int(t) for t in line.split(",") if t)
    return types
