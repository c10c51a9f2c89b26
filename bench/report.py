"""Render the results: a side-by-side table (rich if installed, else plain text) and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from bench.runner import CellResult, Metric, Scenario

Results = list[tuple[Scenario, dict[str, CellResult]]]
RATIOS = (("handclasp", "ssl"), ("tlslite", "handclasp"))


def rows(results: Results, stack_names: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """Table rows; a stack without a cell (not importable) shows "n/a"."""
    ratios = [(a, b) for a, b in RATIOS if a in stack_names and b in stack_names]
    header = ["benchmark", "unit", *stack_names, *(f"{a}/{b}" for a, b in ratios)]
    body: list[list[str]] = []
    for scenario, cells in results:
        for index, metric in enumerate(scenario.metrics):
            values = {name: cells[name].median(metric) if name in cells else None for name in stack_names}
            row = [scenario.label if index == 0 else "", metric.unit]
            row += [_cell(values[name], cells.get(name)) for name in stack_names]
            row += [_ratio(values[a], values[b]) for a, b in ratios]
            body.append(row)
    return header, body


def print_table(results: Results, stack_names: Sequence[str], title: str, footnotes: Sequence[str]) -> None:
    header, body = rows(results, stack_names)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _print_plain(header, body, title, footnotes)
        return
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index < 2 else "right", no_wrap=index >= 1)
    for row in body:
        table.add_row(*row)
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    for line in footnotes:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def _print_plain(header: list[str], body: list[list[str]], title: str, footnotes: Sequence[str]) -> None:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells)

    print(title)
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for row in body:
        print(line(row))
    for note in footnotes:
        print(note)


def to_json(results: Results, meta: dict[str, Any]) -> dict[str, Any]:
    cells_out: list[dict[str, Any]] = []
    for scenario, cells in results:
        for name, cell in cells.items():
            entry: dict[str, Any] = {"stack": name, "scenario": scenario.key, "label": scenario.label}
            if cell.error:
                entry["error"] = cell.error
            elif cell.unsupported:
                entry["unsupported"] = cell.unsupported
            else:
                entry["iterations"] = [r.iterations for r in cell.rounds]
                entry["metrics"] = {m.key.rsplit(".", 1)[-1]: _metric_json(m, cell) for m in scenario.metrics}
                entry["process_cpu_us_per_iteration"] = [
                    round(r.process_us_per_iteration(), 2) for r in cell.rounds
                ]
            cells_out.append(entry)
    return {"meta": meta, "results": cells_out}


def write_json(path: str, data: dict[str, Any]) -> None:
    with open(path, "w") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")


def _metric_json(metric: Metric, cell: CellResult) -> dict[str, Any]:
    values = [metric.value(r) for r in cell.rounds]
    return {
        "unit": metric.unit,
        "median": cell.median(metric),
        "rounds": [round(v, 3) for v in values],
        "higher_is_better": metric.higher_is_better,
    }


def _cell(value: float | None, cell: CellResult | None) -> str:
    if cell is None or cell.unsupported:
        return "n/a"
    if cell.error:
        return "error"
    return "—" if value is None else _number(value)


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    ratio = a / b
    return f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"
