"""The data the page's script reads, embedded once in the page as JSON: what a grid cell's or a column's
details panel shows, and what the "compare two releases" form compares.

The grid itself carries only each verdict's symbol and colour (some 45,000 cells); everything said about
a cell is here, once: messages in one table referenced by index, when each verdict was observed in
another (a case's tests share it), each cell's versions and files once per column.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Protocol

from known_issues.cell.verdicts import Verdict
from known_issues.reporting import compare
from known_issues.reporting.analysis import TestRow
from known_issues.reporting.model import Model, row_anchor
from known_issues.results import CellResult, version_key
from known_issues.run_files import safe

MAX_MESSAGE = 4000  # characters of one message; the cell's log has the rest


class _Table:
    """Distinct values, each stored once and referred to by its index."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}

    def add(self, value: Hashable | list[int]) -> int:
        key = tuple(value) if isinstance(value, list) else value
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(value)
        return self._index[key]


class Column(Protocol):
    """What the data takes from the view model's column of a cell."""

    @property
    def anchor(self) -> str: ...

    @property
    def short(self) -> str: ...

    @property
    def detail(self) -> list[tuple[str, str]]: ...


def page_data(
    model: Model,
    rows: Sequence[tuple[str, str]],
    columns: Sequence[Column],
    logs: Mapping[str, Sequence[str]],
    symbols: Mapping[Verdict, tuple[str, str]],
    css: Mapping[Verdict, str],
) -> dict[str, Any]:
    """``rows``: the (case, test) of each row of the grid, in the page's order; ``columns``: the view
    model's columns, in the page's order; ``logs``: each cell's log files, relative to the page;
    ``symbols`` and ``css``: each verdict's symbol and label, and its class in the grid."""
    messages, when, observed = _Table(), _Table(), _Table()
    out_rows, moments = [], []
    for key in rows:
        entry, found = _row(model.rows[key], model.cells, messages, when)
        out_rows.append(entry)
        moments.append(found)
    # A case's tests are observed together: each row refers to its case's usual moments, plus its own.
    for entry, mine, usual in zip(out_rows, moments, _usual([c for c, _ in rows], moments), strict=True):
        entry["o"] = observed.add(usual)
        own = {str(n): m for n, (m, u) in enumerate(zip(mine, usual, strict=True)) if m != u}
        if own:
            entry["w"] = own
    cells = zip(model.cells, columns, strict=True)
    return {
        "verdicts": {css[v] or "-": [str(v), label, symbol] for v, (symbol, label) in symbols.items()},
        "cells": [_cell(cell, column, logs.get(cell.id, ()), messages) for cell, column in cells],
        "rows": out_rows,
        "observed": observed.values,
        "when": when.values,
        "messages": messages.values,
        "cases": {slug: model.cases[slug].title if slug in model.cases else slug for slug in model.case_order()},
        "compare": compare_data(model, {key: n for n, key in enumerate(rows)}),
    }


def _row(row: TestRow, cells: Sequence[CellResult], messages: _Table, when: _Table) -> tuple[dict[str, Any], list[int]]:
    """A row's entry (by the index of each cell: its message, error reason and re-run outcomes), and when
    it was observed in each cell (an index into ``when`` plus one; 0 where it was not)."""
    entry: dict[str, Any] = {"a": row_anchor(row.case, row.test), "c": row.case, "t": row.test, "role": str(row.role)}
    found: dict[str, int] = {}
    reasons: dict[str, str] = {}
    reruns: dict[str, list[str]] = {}
    moments = []
    for n, cell in enumerate(cells):
        seen = row.seen(cell.id)
        moments.append(when.add((seen.observed, int(seen.reused))) + 1 if seen.observed else 0)
        if seen.message:
            found[str(n)] = messages.add(clip(seen.message))
        if seen.reason is not None:
            reasons[str(n)] = str(seen.reason)
        if seen.observations:
            reruns[str(n)] = [str(v) for v in seen.observations]
    for key, value in (("m", found), ("r", reasons), ("x", reruns)):
        if value:
            entry[key] = value
    return entry, moments


def _usual(cases: Sequence[str], moments: Sequence[list[int]]) -> list[list[int]]:
    """For each row (of ``cases[n]``), the moment most of its case's rows were observed, per cell."""
    by_case: dict[str, list[list[int]]] = {}
    for case, found in zip(cases, moments, strict=True):
        by_case.setdefault(case, []).append(found)
    usual = {
        case: [Counter(column).most_common(1)[0][0] for column in zip(*found, strict=True)]
        for case, found in by_case.items()
    }
    return [usual[case] for case in cases]


def clip(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def message_index(data: Mapping[str, Any]) -> dict[str, int]:
    """Where each (clipped) message is in the data's table."""
    return {text: n for n, text in enumerate(data["messages"])}


def _cell(cell: CellResult, column: Column, logs: Sequence[str], messages: _Table) -> dict[str, Any]:
    stem = safe(cell.id)
    found: dict[str, Any] = {
        "id": cell.id,
        "a": column.anchor,
        "s": column.short,
        "d": [list(pair) for pair in column.detail],
        "junit": f"junit/{stem}.xml",
        "logs": list(logs),
    }
    if not cell.ran and cell.reason:
        found["m"] = messages.add(clip(cell.reason))
    return found


def compare_data(model: Model, row_of: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    """``compare.page_data`` with each test named by its row of the grid, and per package every version
    it names in order (the releases observed and the exact ends of each interval), which the script
    compares by position: it knows no version scheme."""
    out: dict[str, Any] = {}
    for package, found in compare.page_data(model).items():
        tests = []
        named: set[str] = set(found["releases"])
        for key, intervals in found["tests"].items():
            case, test = key.split("::", 1)
            if (case, test) in row_of:
                tests.append([row_of[(case, test)], intervals])
                named |= {v for _, first, last in intervals for v in (first, last)}
        out[package] = {"order": sorted(named, key=version_key), "tests": tests}
    return out


def to_script(data: Mapping[str, Any]) -> str:
    """JSON that cannot end its <script> element or open a comment in it: every <, > and & escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
