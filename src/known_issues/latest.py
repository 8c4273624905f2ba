"""The newest FastAPI with the newest Pydantic: run every case in that one cell and compare.

The cell comes from the matrix machinery (a one-group matrix with ``latest`` on both axes, the
matrix file's extras and rules), so it is built and recorded exactly like a matrix cell. Its id
embeds the versions, so the comparison pairs the newest cell of the baseline with the new cell.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from known_issues import matrix as matrix_mod
from known_issues import store
from known_issues.analysis import cell_versions, version_key
from known_issues.diff import Change, diff_runs, needs_attention, to_markdown
from known_issues.matrix import LATEST, Cell, Group, Matrix, Selector
from known_issues.pypi import PackageIndex
from known_issues.runner import Settings, describe, run_cells

GROUP = "latest"
RECORDED = ("fastapi", "pydantic", "starlette")  # newest on the index, recorded with the run

EXIT_POLICY = (
    "Exit status: 0 when no verdict changed in a way a maintainer must see (including the first run, "
    "which has no baseline); 1 when one did: a bug fixed, a bug back, a workaround or pattern broken, "
    "or a new error; 2 for a usage error or an unreadable index or baseline; 130 when interrupted."
)


def newest_cell(matrix: Matrix, index: PackageIndex, python: str, cases: Sequence[str] = ()) -> Cell:
    """fastapi=latest, pydantic=latest on one Python, expanded by the matrix machinery."""
    group = Group(
        name=GROUP,
        description="The newest FastAPI with the newest Pydantic",
        pythons=(python,),
        axes=(("fastapi", Selector(LATEST)), ("pydantic", Selector(LATEST))),
        cases=tuple(cases),
        exclude=(),
    )
    cells = matrix_mod.expand(dataclasses.replace(matrix, groups=(group,)), index.versions)
    if len(cells) != 1:
        raise RuntimeError(f"expected one newest cell, the index gave {len(cells)}")
    return cells[0]


def newest_of(run: Mapping[str, Any], python: str = "3.11") -> dict[str, Any] | None:
    """The baseline cell to compare with: the newest FastAPI, then Pydantic, that ran (prefer this Python)."""
    cells: list[dict[str, Any]] = list(run.get("cells", []))
    if not cells:
        return None

    def key(cell: Mapping[str, Any]) -> tuple[Any, ...]:
        v = cell_versions(cell)
        return (
            cell.get("status") == "ran",
            cell["cell"].get("python") == python,
            version_key(v.get("fastapi", "")),
            version_key(v.get("pydantic", "")),
        )

    return max(cells, key=key)


def _say(message: str) -> None:
    # Flushed: under nox stdout is a pipe, and each step should show as it finishes.
    print(message, flush=True)


@dataclass
class LatestResult:
    cell: dict[str, Any]
    baseline_cell: str | None
    changes: list[Change]
    summary: Path

    @property
    def attention(self) -> list[Change]:
        return needs_attention(self.changes)


def summary_markdown(
    result: Mapping[str, Any], newest: Mapping[str, str], baseline_id: str | None, changes: list[Change]
) -> str:
    versions = cell_versions(result)
    lines = [
        "# Newest releases",
        "",
        "| package | newest on the index | installed in the cell |",
        "|---|---|---|",
    ]
    for name in RECORDED:
        lines.append(f"| {name} | {newest.get(name, '?')} | {versions.get(name, '-')} |")
    lines += ["", f"Cell {describe(dict(result))}", ""]
    if baseline_id is None:
        lines += ["No baseline: this run is the baseline for the next one.", ""]
        return "\n".join(lines)
    lines += [f"Compared with the baseline cell `{baseline_id}`.", ""]
    attention = needs_attention(changes)
    if attention:
        lines += [
            f"**{len(attention)} change(s) need a maintainer** (bug fixed or back, something broken, new error).",
            "",
        ]
    return "\n".join(lines) + "\n" + to_markdown(changes, title="Verdict changes against the baseline")


def run_latest(
    settings: Settings,
    index: PackageIndex,
    python: str,
    baseline: Path | None,
    echo: Callable[[str], None] = _say,
) -> LatestResult | None:
    """Run the newest cell into settings.out (report/latest/); None when interrupted.

    Without an explicit baseline the previous run kept in settings.out is the baseline; it is
    copied to previous.json first, because this run's merge replaces results.json.
    """
    out = settings.out
    kept = out / "results.json"
    if baseline is None and kept.exists():
        baseline = out / "previous.json"
        shutil.copyfile(kept, baseline)
    old_run = store.load_run(baseline) if baseline is not None else None

    cell = newest_cell(settings.matrix, index, python, settings.only_cases)
    newest = {name: index.releases(name)[-1].version for name in RECORDED}
    echo(f"newest on the index: {', '.join(f'{n} {v}' for n, v in newest.items())}")
    store.write_manifest(
        out,
        {
            "matrix": settings.matrix.source,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "index": dict(index.sources),
            "newest": newest,
            "cells": [cell.as_dict()],
        },
    )
    summary = run_cells(settings, [cell], index)
    if summary.interrupted:
        return None
    run = store.merge(out)
    result = run["cells"][0]

    old_cell = newest_of(old_run, python) if old_run is not None else None
    baseline_id = old_cell["cell"]["id"] if old_cell is not None else None
    changes = diff_runs(old_run, run, pair=(baseline_id, cell.id)) if old_run and baseline_id else []
    path = out / "summary.md"
    path.write_text(summary_markdown(result, newest, baseline_id, changes), encoding="utf-8")
    return LatestResult(result, baseline_id, changes, path)
