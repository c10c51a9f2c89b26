"""pyOpenSSL on the OpenSSL 4.0 bundled in cryptography 50: a post-quantum TLS 1.3 peer for interop tests.

Server: python pyossl_peer.py server --cert server.pem --key server.key [--port 0] [--n 1] [--timeout 10]
Client: python pyossl_peer.py client --port PORT --cafile ca.pem [--servername localhost] [--send TEXT]

pyOpenSSL has no set_groups, so the groups (and, for a client, the key shares) come from OPENSSL_CONF
(``[system_default_sect] Groups = X25519MLKEM768:X25519``), which the harness writes. Output: one JSON line
per event, like gotls.go: {"event":"listening","port":N} first for a server, then per connection
{"event":"connection","role","ok","version","suite","group","received","implementation"}; ``group`` is
OpenSSL's own name for the negotiated group (Connection.get_group_name()). 127.0.0.1 only; blocking sockets
with timeouts; the server exits after --n connections.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
from typing import Any

from OpenSSL import SSL

IMPLEMENTATION = f"pyOpenSSL ({SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode()})"
HOST = "127.0.0.1"


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def describe(conn: SSL.Connection, role: str) -> dict[str, Any]:
    group = conn.get_group_name()
    return {
        "event": "connection",
        "role": role,
        "ok": True,
        "version": conn.get_protocol_version_name(),
        "suite": conn.get_cipher_name(),
        "group": group.decode() if isinstance(group, bytes) else group,
        "implementation": IMPLEMENTATION,
    }


def _blocking_with_timeout(sock: socket.socket, seconds: float) -> None:
    """OpenSSL needs a blocking fd (Python's settimeout makes it non-blocking): bound reads and writes
    with SO_RCVTIMEO / SO_SNDTIMEO instead."""
    sock.settimeout(None)
    whole = int(seconds)
    timeval = struct.pack("ll", whole, int((seconds - whole) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def _read_some(conn: SSL.Connection, limit: int = 65536) -> bytes:
    try:
        return conn.recv(limit)
    except (SSL.ZeroReturnError, SSL.SysCallError):
        return b""


def server(args: argparse.Namespace) -> int:
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.use_certificate_chain_file(args.cert)
    ctx.use_privatekey_file(args.key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, args.port))
    listener.listen(4)
    listener.settimeout(args.lifetime)
    emit({"event": "listening", "port": listener.getsockname()[1], "implementation": IMPLEMENTATION})
    for index in range(1, args.n + 1):
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            return 3
        _blocking_with_timeout(sock, args.timeout)
        conn = SSL.Connection(ctx, sock)
        conn.set_accept_state()
        try:
            conn.do_handshake()
            report = describe(conn, "server") | {"index": index}
            data = _read_some(conn)
            if data:
                conn.sendall(data)
            report["received"] = data.decode("utf-8", "replace")
            try:
                conn.shutdown()
            except SSL.Error:
                pass
        except (SSL.Error, OSError) as exc:
            report = {"event": "connection", "role": "server", "ok": False, "index": index,
                      "error": f"{type(exc).__name__}: {exc}", "implementation": IMPLEMENTATION}
        finally:
            sock.close()
        emit(report)
    return 0


def client(args: argparse.Namespace) -> int:
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.load_verify_locations(args.cafile)
    ctx.set_verify(SSL.VERIFY_PEER, lambda *a: bool(a[-1]))
    sock = socket.create_connection((HOST, args.port), timeout=args.timeout)
    _blocking_with_timeout(sock, args.timeout)
    conn = SSL.Connection(ctx, sock)
    conn.set_tlsext_host_name(args.servername.encode())
    conn.set_connect_state()
    report: dict[str, Any]
    try:
        conn.do_handshake()
        report = describe(conn, "client")
        conn.sendall(args.send.encode())
        received = b""
        while len(received) < len(args.send.encode()):
            chunk = _read_some(conn)
            if not chunk:
                break
            received += chunk
        report["received"] = received.decode("utf-8", "replace")
        try:
            conn.shutdown()
        except SSL.Error:
            pass
    except (SSL.Error, OSError) as exc:
        report = {"event": "connection", "role": "client", "ok": False,
                  "error": f"{type(exc).__name__}: {exc}", "implementation": IMPLEMENTATION}
    finally:
        sock.close()
    emit(report)
    return 0 if report["ok"] else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["server", "client"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--cafile")
    parser.add_argument("--servername", default="localhost")
    parser.add_argument("--send", default="hello from pyOpenSSL")
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()
    return server(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
