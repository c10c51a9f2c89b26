"""Run one server+client scenario inside a private network namespace.

Executed by the harness as ``unshare -n [-r] python netns_run.py`` with a JSON spec on stdin::

    {"server": [argv...], "client": [argv...], "port": 14421,
     "ready": "connect" | "<regex on server output>", "client_input": "text",
     "ready_timeout": 10, "client_timeout": 20, "cwd": "/path" | null}

It brings ``lo`` up (so 127.0.0.1 works and nothing is visible outside the namespace), starts the server,
waits until it is ready (a TCP connect to 127.0.0.1:port succeeds, or a line of its output matches the
regex), runs the client to completion with a timeout, stops the server, and prints one JSON object:
``{"ready": bool, "error": str | null, "server_output": str, "server_returncode": int | null,
"client": {"returncode": int | null, "stdout": str, "stderr": str}}``. Every wait here is bounded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any


def _ip_binary() -> str:
    for candidate in (shutil.which("ip"), "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise FileNotFoundError("ip (iproute2) not found")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def main() -> int:
    spec: dict[str, Any] = json.loads(sys.stdin.read())
    result: dict[str, Any] = {
        "ready": False,
        "error": None,
        "server_output": "",
        "server_returncode": None,
        "client": {"returncode": None, "stdout": "", "stderr": ""},
    }
    subprocess.run([_ip_binary(), "link", "set", "lo", "up"], check=True, timeout=10)
    cwd = spec.get("cwd")
    server = subprocess.Popen(
        spec["server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        start_new_session=True,
    )
    chunks: list[bytes] = []
    lock = threading.Lock()

    def pump() -> None:
        assert server.stdout is not None
        for line in iter(server.stdout.readline, b""):
            with lock:
                chunks.append(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def output() -> str:
        with lock:
            return b"".join(chunks).decode("utf-8", "replace")

    try:
        ready = spec.get("ready", "connect")
        port = int(spec["port"])
        deadline = time.monotonic() + float(spec.get("ready_timeout", 10))
        pattern = None if ready == "connect" else re.compile(ready, re.MULTILINE)
        while time.monotonic() < deadline and server.poll() is None:
            if pattern is not None:
                if pattern.search(output()):
                    result["ready"] = True
                    break
            else:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        result["ready"] = True
                        break
                except OSError:
                    pass
            time.sleep(0.05)
        if not result["ready"]:
            result["error"] = "server did not become ready" + (
                f" (exited with {server.returncode})" if server.poll() is not None else ""
            )
        else:
            try:
                done = subprocess.run(
                    spec["client"],
                    input=spec.get("client_input", "").encode(),
                    capture_output=True,
                    cwd=cwd,
                    timeout=float(spec.get("client_timeout", 20)),
                    start_new_session=True,
                )
                result["client"] = {
                    "returncode": done.returncode,
                    "stdout": done.stdout.decode("utf-8", "replace"),
                    "stderr": done.stderr.decode("utf-8", "replace"),
                }
            except subprocess.TimeoutExpired as exc:
                result["error"] = f"client timed out after {exc.timeout} s"
                result["client"] = {
                    "returncode": None,
                    "stdout": (exc.stdout or b"").decode("utf-8", "replace"),
                    "stderr": (exc.stderr or b"").decode("utf-8", "replace"),
                }
            # give the server a moment to print what it saw about the connection
            time.sleep(float(spec.get("server_grace", 0.3)))
    finally:
        _stop(server)
        reader.join(2)
        result["server_output"] = output()
        result["server_returncode"] = server.returncode
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
