"""Bounded timing loops: warm-up, then rounds capped by iteration count and wall time.

An *operation* is a zero-argument callable doing one unit of work (one handshake, one
16 KiB transfer, one loopback connection). It returns the server-side CPU nanoseconds it
spent (measured by the caller with ``time.thread_time_ns`` around the server-side calls only),
or 0 where that is not measured.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

Operation = Callable[[], int]


@dataclass(frozen=True)
class Budget:
    rounds: int  # rounds per cell; the table shows the median
    round_seconds: float  # wall-time cap per round (a round always runs at least one iteration)
    max_iterations: int  # iteration cap per round
    warmup_iterations: int
    warmup_seconds: float  # warm-up stops at whichever limit comes first


FULL = Budget(rounds=5, round_seconds=0.5, max_iterations=5000, warmup_iterations=20, warmup_seconds=0.5)
QUICK = Budget(rounds=3, round_seconds=0.15, max_iterations=1000, warmup_iterations=3, warmup_seconds=0.1)


@dataclass(frozen=True)
class Round:
    iterations: int
    wall_ns: int
    process_cpu_ns: int
    server_cpu_ns: int

    def rate(self, units_per_iteration: float = 1.0) -> float:
        """Units per second of wall time."""
        return self.iterations * units_per_iteration / (self.wall_ns / 1e9)

    def server_us_per_iteration(self) -> float:
        return self.server_cpu_ns / self.iterations / 1e3

    def process_us_per_iteration(self) -> float:
        return self.process_cpu_ns / self.iterations / 1e3


def run_rounds(op: Operation, budget: Budget) -> list[Round]:
    """Warm up, then run ``budget.rounds`` bounded rounds of ``op``."""
    warm_up(op, budget)
    return [one_round(op, budget) for _ in range(budget.rounds)]


def warm_up(op: Operation, budget: Budget) -> None:
    deadline = time.perf_counter() + budget.warmup_seconds
    for _ in range(budget.warmup_iterations):
        op()
        if time.perf_counter() > deadline:
            break


def one_round(op: Operation, budget: Budget) -> Round:
    """One round: ``op`` until the iteration cap or the wall-time budget, whichever comes first."""
    server_ns = 0
    iterations = 0
    cap_ns = int(budget.round_seconds * 1e9)
    cpu0 = time.process_time_ns()
    t0 = time.perf_counter_ns()
    elapsed = 0
    while iterations < budget.max_iterations:
        server_ns += op()
        iterations += 1
        elapsed = time.perf_counter_ns() - t0
        if elapsed >= cap_ns:
            break
    return Round(iterations, elapsed, time.process_time_ns() - cpu0, server_ns)


def median(values: list[float]) -> float:
    return statistics.median(values)
