"""The benchmark matrix: scenarios x stacks, run interleaved, each cell bounded."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from bench.common import (
    CHUNK,
    RESUME13_MODES,
    TLS12_MODES,
    LoopbackServer,
    Resume13Mode,
    Stack,
    Tls12Mode,
    Unsupported,
    loopback_op,
)
from bench.harness import Budget, Operation, Round, median, one_round, warm_up
from bench.pki import KEY_TYPES, BenchPKI

KEY_LABELS = {"ecdsa-p256": "ECDSA P-256", "rsa2048": "RSA-2048"}
_T = TypeVar("_T")
PQ_KEY_TYPE = "ecdsa-p256"  # the X25519MLKEM768 row: compare with the X25519 row of the same key type
TLS12_LABELS: dict[Tls12Mode, str] = {
    "full": "TLS 1.2 in-memory full handshake, ECDSA P-256",
    "ticket": "TLS 1.2 in-memory resumed, session ticket",
    "session-id": "TLS 1.2 in-memory resumed, session ID",
}
RESUME13_LABELS: dict[Resume13Mode, str] = {
    "psk_dhe_ke": "in-memory resumed, psk_dhe_ke (ticket)",
    "psk_ke": "in-memory resumed, psk_ke (ticket)",
    "0rtt": "in-memory 0-RTT resumed (psk_dhe_ke)",
}


@dataclass(frozen=True)
class Metric:
    key: str  # stable id for JSON, e.g. "inproc.handshake.ecdsa-p256.rate"
    label: str  # table row label
    unit: str
    higher_is_better: bool
    value: Callable[[Round], float]


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    metrics: tuple[Metric, ...]
    make: Callable[[Stack], tuple[Operation, Callable[[], None]]]  # (operation, cleanup)


@dataclass
class CellResult:
    stack: str
    scenario: str
    rounds: list[Round] = field(default_factory=list)
    error: str | None = None
    unsupported: str | None = None  # the stack cannot run this scenario at all (shown as n/a)

    def median(self, metric: Metric) -> float | None:
        if self.error or self.unsupported or not self.rounds:
            return None
        return median([metric.value(r) for r in self.rounds])


def scenarios() -> list[Scenario]:
    result: list[Scenario] = []
    for key_type in KEY_TYPES:
        label = f"in-memory handshake, {KEY_LABELS[key_type]}"
        result.append(
            Scenario(
                f"inproc.handshake.{key_type}",
                label,
                _handshake_metrics(f"inproc.handshake.{key_type}", label),
                _inproc_handshake(key_type),
            )
        )
    pq_key = f"inproc.handshake_x25519mlkem768.{PQ_KEY_TYPE}"
    pq_label = f"in-memory handshake X25519MLKEM768, {KEY_LABELS[PQ_KEY_TYPE]}"
    result.append(Scenario(pq_key, pq_label, _handshake_metrics(pq_key, pq_label), _pq_handshake(PQ_KEY_TYPE)))
    for resume_mode in RESUME13_MODES:
        key = f"inproc.resumed13.{resume_mode}"
        label = RESUME13_LABELS[resume_mode]
        result.append(Scenario(key, label, _handshake_metrics(key, label), _resume13(resume_mode)))
    for mode in TLS12_MODES:
        key = f"inproc.tls12.{mode}"
        result.append(
            Scenario(key, TLS12_LABELS[mode], _handshake_metrics(key, TLS12_LABELS[mode]), _tls12(mode))
        )
    for direction, arrow in (("c2s", "client→server"), ("s2c", "server→client")):
        label = f"bulk AES-128-GCM 16 KiB {arrow}"
        metrics = (
            Metric(f"inproc.bulk.{direction}.rate", label, "MB/s", True, lambda r: r.rate(CHUNK) / 1e6),
            Metric(f"inproc.bulk.{direction}.cpu_rate", label, "MB per CPU-second", True, _cpu_rate),
        )
        result.append(Scenario(f"inproc.bulk.{direction}", label, metrics, _bulk(direction)))
    for key_type in KEY_TYPES:
        label = f"loopback handshake, {KEY_LABELS[key_type]}"
        result.append(
            Scenario(
                f"loopback.handshake.{key_type}",
                label,
                _handshake_metrics(f"loopback.handshake.{key_type}", label),
                _loopback(key_type),
            )
        )
    return result


def run_matrix(
    stacks: Sequence[Stack], budget: Budget, progress: Callable[[str], None], *, show_traceback: bool = False
) -> list[tuple[Scenario, dict[str, CellResult]]]:
    """Run every scenario for every stack.

    Every cell is built and warmed up first; then the rounds go round-robin over all cells (round 1
    of every cell, then round 2...), so load that comes and goes on a shared machine falls on every
    row and every column alike, and ratios between rows (X25519MLKEM768 / X25519, resumed / full)
    are as steady as those between stacks."""
    table: list[tuple[Scenario, dict[str, CellResult]]] = []
    running: list[tuple[CellResult, Operation]] = []
    cleanups: list[Callable[[], None]] = []
    try:
        for scenario in scenarios():
            cells: dict[str, CellResult] = {}
            for stack in stacks:
                progress(f"{scenario.label} — {stack.name}")
                cell = cells[stack.name] = CellResult(stack.name, scenario.key)
                op = _guarded(cell, show_traceback, partial(_start, scenario, stack, budget, cleanups))
                if op is not None:
                    running.append((cell, op))
            table.append((scenario, cells))
        for index in range(budget.rounds):
            progress(f"round {index + 1} of {budget.rounds}, {len(running)} cells")
            for cell, op in running:
                if cell.error is None and cell.unsupported is None:
                    result = _guarded(cell, show_traceback, partial(one_round, op, budget))
                    if result is not None:
                        cell.rounds.append(result)
    finally:
        for cleanup in cleanups:
            cleanup()
    for _, cells in table:
        for cell in cells.values():
            if cell.error is not None:
                cell.rounds.clear()
    return table


def _start(scenario: Scenario, stack: Stack, budget: Budget, cleanups: list[Callable[[], None]]) -> Operation:
    """Build a cell's operation (its cleanup is registered) and warm it up."""
    op, cleanup = scenario.make(stack)
    cleanups.append(cleanup)
    warm_up(op, budget)
    return op


def _guarded(cell: CellResult, show_traceback: bool, step: Callable[[], _T]) -> _T | None:
    """Run one step of a cell; a failure marks the cell (n/a when unsupported, else error) and returns None."""
    try:
        return step()
    except Unsupported as exc:
        cell.unsupported = str(exc)
    except Exception as exc:
        cell.error = f"{type(exc).__name__}: {exc}"
        if show_traceback:
            traceback.print_exc()
    return None


def _handshake_metrics(prefix: str, label: str) -> tuple[Metric, ...]:
    return (
        Metric(f"{prefix}.rate", label, "handshakes/s", True, lambda r: r.rate()),
        Metric(
            f"{prefix}.server_cpu",
            label,
            "server CPU µs/handshake",
            False,
            lambda r: r.server_us_per_iteration(),
        ),
        Metric(
            f"{prefix}.total_cpu",
            label,
            "total CPU µs/handshake",
            False,
            lambda r: r.process_us_per_iteration(),
        ),
    )


def _cpu_rate(r: Round) -> float:
    """Bulk MB per second of process CPU time: insensitive to other load on the machine."""
    return r.iterations * CHUNK / (r.process_cpu_ns / 1e9) / 1e6 if r.process_cpu_ns else 0.0


def _inproc_handshake(key_type: str) -> Callable[[Stack], tuple[Operation, Callable[[], None]]]:
    def make(stack: Stack) -> tuple[Operation, Callable[[], None]]:
        return stack.handshake_op(key_type), lambda: None

    return make


def _pq_handshake(key_type: str) -> Callable[[Stack], tuple[Operation, Callable[[], None]]]:
    def make(stack: Stack) -> tuple[Operation, Callable[[], None]]:
        return stack.pq_handshake_op(key_type), lambda: None

    return make


def _tls12(mode: Tls12Mode) -> Callable[[Stack], tuple[Operation, Callable[[], None]]]:
    def make(stack: Stack) -> tuple[Operation, Callable[[], None]]:
        return stack.tls12_op(mode), lambda: None

    return make


def _resume13(mode: Resume13Mode) -> Callable[[Stack], tuple[Operation, Callable[[], None]]]:
    def make(stack: Stack) -> tuple[Operation, Callable[[], None]]:
        return stack.resume13_op(mode), lambda: None

    return make


def _bulk(direction: str) -> Callable[[Stack], tuple[Operation, Callable[[], None]]]:
    def make(stack: Stack) -> tuple[Operation, Callable[[], None]]:
        pair = stack.bulk_pair()
        chunk = bytes(range(256)) * (CHUNK // 256)
        send = pair.client_to_server if direction == "c2s" else pair.server_to_client
        return (lambda: send(chunk)), lambda: None

    return make


def _loopback(key_type: str) -> Callable[[Stack], tuple[Operation, Callable[[], None]]]:
    def make(stack: Stack) -> tuple[Operation, Callable[[], None]]:
        server = LoopbackServer(stack.loopback_server(key_type)).__enter__()
        return loopback_op(server, stack.loopback_client()), lambda: server.__exit__(None, None, None)

    return make


def describe_all(stacks: Sequence[Stack], pki: BenchPKI) -> dict[str, dict[str, str]]:
    """One checked handshake per stack and key type: what each actually negotiates."""
    out: dict[str, dict[str, str]] = {}
    for stack in stacks:
        steps: list[tuple[str, Callable[[], str]]] = [
            (key_type, partial(stack.describe, key_type)) for key_type in pki.certs
        ]
        steps.append(("X25519MLKEM768", partial(stack.describe_pq, PQ_KEY_TYPE)))
        steps += [(f"resumed {mode}", partial(stack.describe_resume13, mode)) for mode in RESUME13_MODES]
        steps += [(f"tls12 {mode}", partial(stack.describe_tls12, mode)) for mode in TLS12_MODES]
        out[stack.name] = {name: _describe(step) for name, step in steps}
    return out


def _describe(step: Callable[[], str]) -> str:
    try:
        return step()
    except Unsupported as exc:
        return f"n/a: {exc}"
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"
