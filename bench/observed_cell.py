"""A cell of the last full run, for the benchmarks that run it again: its record in report/results.json
and its environment in .envs/cells/, which must still be there."""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def observed_cell(cell_id: str) -> tuple[dict[str, Any], Path]:
    """(the cell's record, its environment); exits with a message when either is missing."""
    results = json.loads((ROOT / "report" / "results.json").read_text(encoding="utf-8"))
    for cell in results["cells"]:
        if cell["cell"]["id"] == cell_id:
            env = ROOT / ".envs" / "cells" / cell["env_key"]
            if not (env / "requirements.lock").exists():
                sys.exit(f"{cell_id}: its environment {env} is gone (run `nox -s matrix` first)")
            return cell, env
    sys.exit(f"{cell_id} is not in report/results.json")


def keep_if_same(kind: str, seen: dict[Any, dict[str, str]], key: Any, verdicts: dict[str, str]) -> None:
    """Keep a run's verdicts under ``key``; exit when an earlier run of the same kind disagrees (a flaky
    test voids a side-by-side comparison)."""
    before = seen.get(key)
    if before is not None and before != verdicts:
        differ = sorted(k for k in {*before, *verdicts} if before.get(k) != verdicts.get(k))
        sys.exit(f"the {kind} runs disagree with each other (a flaky test voids the comparison): {differ}")
    seen[key] = verdicts


def children_cpu(before: os.times_result, after: os.times_result) -> float:
    """CPU-seconds of the child processes waited for between two ``os.times()``."""
    return (after.children_user - before.children_user) + (after.children_system - before.children_system)


def print_side_by_side(what: str, rows: Sequence[tuple[str, list[float], list[float]]]) -> float:
    """The medians of each row's (label, CPU-seconds, wall seconds); returns the second row's CPU over
    the first's."""
    width = max(len(what), *(len(label) for label, _, _ in rows)) + 2
    print(f"{what:<{width}}{'CPU-s (median)':>16}{'wall s (median)':>17}")
    for label, cpu, wall in rows:
        print(f"{label:<{width}}{statistics.median(cpu):>16.2f}{statistics.median(wall):>17.2f}")
    return statistics.median(rows[1][1]) / statistics.median(rows[0][1])
