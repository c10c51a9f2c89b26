"""curl and curl_cffi (BoringSSL, browser ClientHellos) as interop clients."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.interop.peers.process import (
    CURL_CFFI_SCRIPT,
    DEFAULT_TIMEOUT,
    HOST,
    PathLike,
    PeerError,
    keylog_env,
    require_binary,
    require_curl_cffi,
    run_peer,
)


def _localhost_resolve(url: str) -> list[str]:
    """``--resolve localhost:PORT:127.0.0.1`` for https://localhost:PORT URLs (never try ::1)."""
    match = re.match(r"https?://([^/:]+):(\d+)", url)
    if match and not re.fullmatch(r"[\d.]+", match.group(1)):
        return [f"{match.group(1)}:{match.group(2)}:{HOST}"]
    return []


def curl_get(
    url: str,
    cafile: PathLike | None = None,
    *,
    extra_args: Sequence[str] = (),
    keylog: PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """System curl (OpenSSL 3.0) GET. Returns {ok, returncode, status, body, version, suite, alpn,
    http_version, error, verbose}; the TLS details come from ``curl -v``."""
    curl = require_binary("curl")
    with tempfile.TemporaryDirectory(prefix="handclasp-curl-") as tmp:
        body_path = Path(tmp) / "body"
        argv = [curl, "-sS", "-v", "--max-time", str(timeout / 2), "-o", str(body_path), "-w", "%{json}"]
        for entry in _localhost_resolve(url):
            argv += ["--resolve", entry]
        if cafile is not None:
            argv += ["--cacert", str(cafile)]
        argv += [*extra_args, url]
        done = run_peer(argv, env=keylog_env(keylog), timeout=timeout)
        body = body_path.read_bytes().decode("utf-8", "replace") if body_path.exists() else ""
    info: dict[str, Any] = {}
    with contextlib.suppress(json.JSONDecodeError):
        info = json.loads(done.stdout) if done.stdout.strip() else {}
    verbose = done.stderr
    tls = re.search(r"SSL connection using (\S+) / (\S+)", verbose)
    alpn = re.search(r"ALPN[:,] server accepted (?:to use )?(\S+)", verbose)
    return {
        "ok": done.returncode == 0,
        "returncode": done.returncode,
        "status": info.get("http_code") or info.get("response_code"),
        "http_version": info.get("http_version"),
        "body": body,
        "version": tls.group(1) if tls else None,
        "suite": tls.group(2) if tls else None,
        "alpn": alpn.group(1) if alpn else None,
        "error": info.get("errormsg") or (None if done.returncode == 0 else verbose[-2000:]),
        "verbose": verbose,
    }


def curl_cffi_get(
    url: str,
    impersonate: str = "chrome",
    *,
    cafile: PathLike | None = None,
    insecure: bool = False,
    keylog: PathLike | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """curl_cffi (BoringSSL with a browser's ClientHello: GREASE, X25519MLKEM768, ECH GREASE, ...) GET.
    Returns {ok, status, http_version, headers, body, error, impersonate}. The negotiated TLS parameters
    are not visible from curl_cffi: check them on the server side."""
    require_curl_cffi()
    argv = [sys.executable, str(CURL_CFFI_SCRIPT), url, "--impersonate", impersonate]
    argv += ["--timeout", str(timeout / 2)]
    for entry in _localhost_resolve(url):
        argv += ["--resolve", entry]
    if cafile is not None:
        argv += ["--cafile", str(cafile)]
    if insecure:
        argv += ["--insecure"]
    done = run_peer(argv, env=keylog_env(keylog), timeout=timeout)
    lines = [line for line in done.stdout.split("\n") if line.startswith("{")]
    if not lines:
        raise PeerError(
            f"curl_cffi script printed no report (rc {done.returncode})\n{done.stdout}\n{done.stderr}"
        )
    report: dict[str, Any] = json.loads(lines[-1])
    report.setdefault("error", None)
    return report
