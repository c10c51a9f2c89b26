"""curl_cffi (BoringSSL, browser ClientHellos) HTTPS GET for handclasp's interop tests.

Usage: python curl_cffi_get.py URL [--impersonate chrome] [--cafile ca.pem] [--insecure] [--timeout 10]
           [--resolve localhost:PORT:127.0.0.1]
Prints one JSON line: {"ok", "status", "http_version", "body", "headers", "error", "impersonate"}.
SSLKEYLOGFILE is honoured by curl-impersonate. curl_cffi does not expose the negotiated TLS parameters:
ask the server side for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _http_version(value: Any, enum: Any) -> str:
    """curl's CURL_HTTP_VERSION_* number as "1.0", "1.1", "2", "3"."""
    names = {"V1_0": "1.0", "V1_1": "1.1", "V2_0": "2", "V2TLS": "2", "V3": "3", "V3ONLY": "3"}
    try:
        return names.get(enum(value).name, str(value))
    except ValueError:
        return str(value)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--impersonate", default="chrome")
    parser.add_argument("--cafile", default=None)
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--resolve", action="append", default=[])
    args = parser.parse_args()

    from curl_cffi import CurlHttpVersion, CurlOpt, requests

    report: dict[str, Any] = {"ok": False, "impersonate": args.impersonate, "url": args.url}
    verify: bool | str = False if args.insecure else (args.cafile or True)
    try:
        curl_options = {CurlOpt.RESOLVE: args.resolve} if args.resolve else None
        with requests.Session(curl_options=curl_options) as session:
            response = session.get(
                args.url, impersonate=args.impersonate, verify=verify, timeout=args.timeout
            )
        report.update(
            ok=True,
            status=response.status_code,
            http_version=_http_version(response.http_version, CurlHttpVersion),
            headers=dict(response.headers),
            body=response.text[:65536],
        )
    except Exception as exc:  # report any failure as data: the test decides
        report["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
