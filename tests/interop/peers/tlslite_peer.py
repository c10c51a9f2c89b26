"""tlslite-ng (pure Python, ML-KEM from kyber-py): a post-quantum TLS 1.3 peer for interop tests.

Used only as a peer through its public API (it is LGPL: nothing is copied from it).

Server: python tlslite_peer.py server --cert server.pem --key server.key [--port 0] [--n 1] [--groups G,..]
Client: python tlslite_peer.py client --port PORT [--servername localhost] [--groups G,..] [--shares G,..]

Groups use tlslite's names (x25519mlkem768, secp256r1mlkem768, secp384r1mlkem1024, x25519, secp256r1).
Output: one JSON line per event, like gotls.go; ``group`` is tlslite's own name of the negotiated group
(GroupName.toStr(connection.ecdhCurve)). The tlslite client does not verify the server certificate.
127.0.0.1 only; socket timeouts; the server exits after --n connections.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Any

from tlslite.api import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
from tlslite.constants import GroupName

HOST = "127.0.0.1"
IMPLEMENTATION = "tlslite-ng"


def emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


def settings_for(groups: str | None, shares: str | None) -> HandshakeSettings:
    settings = HandshakeSettings()
    settings.minVersion = (3, 4)
    settings.maxVersion = (3, 4)
    if groups:
        names = groups.split(",")
        settings.eccCurves = names
        settings.keyShares = shares.split(",") if shares else names[:1]
    elif shares:
        settings.keyShares = shares.split(",")
    return settings


def describe(conn: TLSConnection, role: str) -> dict[str, Any]:
    group = GroupName.toStr(conn.ecdhCurve) if conn.ecdhCurve is not None else None
    return {
        "event": "connection",
        "role": role,
        "ok": True,
        "version": "TLSv1.3" if conn.version == (3, 4) else str(conn.version),
        "suite": conn.getCipherName(),
        "group": group,
        "implementation": IMPLEMENTATION,
    }


def server(args: argparse.Namespace) -> int:
    with open(args.cert) as f:
        chain = X509CertChain()
        chain.parsePemList(f.read())
    with open(args.key) as f:
        key = parsePEMKey(f.read(), private=True)
    settings = settings_for(args.groups, None)
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
        sock.settimeout(args.timeout)
        conn = TLSConnection(sock)
        try:
            conn.handshakeServer(certChain=chain, privateKey=key, settings=settings)
            report = describe(conn, "server") | {"index": index}
            data = conn.recv(65536)
            if data:
                conn.sendall(data)
            report["received"] = bytes(data).decode("utf-8", "replace")
            conn.close()
        except Exception as exc:  # reported as data: the test decides
            report = {"event": "connection", "role": "server", "ok": False, "index": index,
                      "error": f"{type(exc).__name__}: {exc}", "implementation": IMPLEMENTATION}
        finally:
            sock.close()
        emit(report)
    return 0


def client(args: argparse.Namespace) -> int:
    sock = socket.create_connection((HOST, args.port), timeout=args.timeout)
    conn = TLSConnection(sock)
    report: dict[str, Any]
    try:
        conn.handshakeClientCert(settings=settings_for(args.groups, args.shares), serverName=args.servername)
        report = describe(conn, "client")
        conn.sendall(args.send.encode())
        received = b""
        while len(received) < len(args.send.encode()):
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += bytes(chunk)
        report["received"] = received.decode("utf-8", "replace")
        conn.close()
    except Exception as exc:  # reported as data: the test decides
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
    parser.add_argument("--servername", default="localhost")
    parser.add_argument("--groups", default=None)
    parser.add_argument("--shares", default=None)
    parser.add_argument("--send", default="hello from tlslite-ng")
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()
    return server(args) if args.role == "server" else client(args)


if __name__ == "__main__":
    sys.exit(main())
