"""``python -m bench``: handclasp vs Python ``ssl`` vs tlslite-ng, side by side.

See bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import ssl
import sys
import tempfile
import time
from typing import Any

from bench.common import Stack
from bench.harness import FULL, QUICK, Budget
from bench.pki import BenchPKI, build_pki
from bench.report import print_table, to_json, write_json
from bench.runner import describe_all, run_matrix

STACK_NAMES = ("handclasp", "ssl", "tlslite")
ALIASES = {"tlslite-ng": "tlslite", "openssl": "ssl"}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    wanted = _wanted(args.only)
    budget = QUICK if args.quick else FULL
    if args.rounds or args.seconds:
        budget = Budget(
            rounds=args.rounds or budget.rounds,
            round_seconds=args.seconds / (args.rounds or budget.rounds)
            if args.seconds
            else budget.round_seconds,
            max_iterations=budget.max_iterations,
            warmup_iterations=budget.warmup_iterations,
            warmup_seconds=budget.warmup_seconds,
        )
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="handclasp-bench-") as directory:
        pki = build_pki(directory)
        stacks, unavailable = _load_stacks(wanted, pki)
        if not stacks:
            for name, reason in unavailable.items():
                print(f"{name}: {reason}", file=sys.stderr)
            return 1
        negotiated = describe_all(stacks, pki)
        results = run_matrix(stacks, budget, _progress, show_traceback=args.traceback)
    names = wanted  # unavailable stacks keep their column (shown as n/a)
    footnotes = _footnotes(stacks, unavailable, negotiated, budget, pki, results, time.time() - started)
    rounds = f"{budget.rounds} round" + ("s" if budget.rounds != 1 else "")
    title = f"handclasp bench — medians of {rounds} (≤{budget.round_seconds:g} s each)"
    print_table(results, names, title, footnotes)
    if args.json:
        meta: dict[str, Any] = {
            "python": sys.version.split()[0],
            "openssl": ssl.OPENSSL_VERSION,
            "platform": platform.platform(),
            "budget": dataclasses.asdict(budget),
            "pki": pki.source,
            "negotiated": negotiated,
            "unavailable": unavailable,
            "notes": [n for s in stacks for n in s.notes()],
            "started": started,
            "seconds": round(time.time() - started, 1),
        }
        write_json(args.json, to_json(results, meta))
        print(f"wrote {args.json}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument(
        "--quick", action="store_true", help="short run: 3 rounds of ≤0.15 s per cell (default: 5 of ≤0.5 s)"
    )
    parser.add_argument("--only", default="", help="comma-separated stacks: handclasp,ssl,tlslite")
    parser.add_argument("--json", metavar="PATH", help="also write all rounds as JSON")
    parser.add_argument("--rounds", type=int, default=0, help="rounds per cell (default 5, --quick 3)")
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="wall-time budget per cell, split over rounds"
    )
    parser.add_argument("--traceback", action="store_true", help="print tracebacks of failing cells")
    return parser.parse_args(argv)


def _wanted(only: str) -> list[str]:
    if not only:
        return list(STACK_NAMES)
    names = [ALIASES.get(n.strip().lower(), n.strip().lower()) for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in STACK_NAMES]
    if unknown:
        raise SystemExit(f"unknown stack(s) {unknown}; choose from {', '.join(STACK_NAMES)}")
    return [n for n in STACK_NAMES if n in names]


def _load_stacks(wanted: list[str], pki: BenchPKI) -> tuple[list[Stack], dict[str, str]]:
    stacks: list[Stack] = []
    unavailable: dict[str, str] = {}
    for name in wanted:
        try:
            stacks.append(_make_stack(name, pki))
        except Exception as exc:
            unavailable[name] = f"{type(exc).__name__}: {exc}"
    return stacks, unavailable


def _make_stack(name: str, pki: BenchPKI) -> Stack:
    if name == "handclasp":
        from bench.stack_handclasp import HandclaspStack

        return HandclaspStack(pki)
    if name == "ssl":
        from bench.stack_ssl import SslStack

        return SslStack(pki)
    from bench.stack_tlslite import TlsliteStack

    return TlsliteStack(pki)


def _progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def _footnotes(
    stacks: list[Stack],
    unavailable: dict[str, str],
    negotiated: dict[str, dict[str, str]],
    budget: Budget,
    pki: BenchPKI,
    results: Any,
    seconds: float,
) -> list[str]:
    notes = [
        "Ratios divide medians (rates: >1 means the numerator is faster; µs: >1 means it uses more CPU).",
        "In-memory: both ends stepped in one thread over memory; server CPU = thread_time_ns around server calls only;",
        "  total CPU = process_time_ns, both sides (and, on loopback, both threads): steadier than wall-clock rates "
        "on a busy machine.",
        "Loopback: 127.0.0.1, TCP_NODELAY, sequential server thread; one connection = handshake + 1-byte "
        "request/reply + close.",
        f"TLS 1.3 rows, all stacks: TLS 1.3 only, X25519, TLS_AES_128_GCM_SHA256, no session tickets "
        f"(but in the resumed rows); PKI: {pki.source}.",
        "TLS 1.3 resumed rows: the server issues 1 stateless ticket per handshake and each handshake offers the "
        "newest ticket (from the previous one); every handshake is checked resumed on both ends;",
        "  psk_ke: both ends offer/accept psk_ke only (no X25519); 0-RTT: psk_dhe_ke plus 35 bytes of early data, "
        "checked accepted and delivered by the server (handclasp only).",
        "TLS 1.2 rows, all stacks: TLS 1.2 only, ECDHE-ECDSA-AES128-GCM-SHA256, X25519 (P-256 also offered, "
        "for the P-256 certificate), extended master secret;",
        "  full: server with no tickets and a session-ID cache; resumed: the client offers one session from an "
        "untimed full handshake, every time;",
        "  ticket: server with RFC 5077 tickets (no session-ID cache where it can be turned off); session ID: "
        "no tickets, session-ID cache; every resumed handshake is checked on both ends.",
        f"Python {sys.version.split()[0]} on {platform.machine()}; total {seconds:.0f} s.",
    ]
    for stack in stacks:
        notes += [f"  {n}" for n in stack.notes()]
        notes += [f"  {stack.name} negotiated [{k}]: {v}" for k, v in negotiated[stack.name].items()]
    for name, reason in unavailable.items():
        notes.append(f"  {name}: not run — {reason}")
    for _, cells in results:
        for cell in cells.values():
            if cell.error:
                notes.append(f"  error {cell.stack} {cell.scenario}: {cell.error}")
            elif cell.unsupported:
                notes.append(f"  n/a {cell.stack} {cell.scenario}: {cell.unsupported}")
    return notes


if __name__ == "__main__":
    raise SystemExit(main())
