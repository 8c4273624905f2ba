"""bench/run_cost.py: a run's CPU by group, case and test, and the budget a target allows."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run_cost() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_cost", ROOT / "bench" / "run_cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


run_cost = _run_cost()


def _cell(cell_id: str, group: str, pytest_cpu: float, tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cell": {"id": cell_id, "group": group}, "timings": {"tests_cpu": pytest_cpu}, "tests": tests}


def _test(case: str, name: str, cpu: float, reused: bool = False) -> dict[str, Any]:
    return {"case": case, "test": name, "cpu": cpu, "reused": reused}


RESULTS = {
    "cells": [
        _cell("a-1", "a", 10.0, [_test("server", "test_dev", 6.0), _test("cheap", "test_x", 1.0)]),
        _cell("a-2", "a", 9.0, [_test("server", "test_dev", 5.0), _test("cheap", "test_x", 1.0)]),
        _cell("b-1", "b", 3.0, [_test("cheap", "test_x", 1.0), _test("cheap", "test_y", 0.5, reused=True)]),
        _cell("b-2", "b", 0.0, [_test("cheap", "test_x", 0.7, reused=True)]),  # every result reused
    ]
}


def test_cost_is_summed_by_group_case_and_test_with_reused_results_left_out() -> None:
    run = run_cost.cost_of(RESULTS)
    assert (run.cells, run.fresh, run.reused) == (3, 5, 2)
    assert run.pytest_cpu == pytest.approx(22.0)
    assert run.tests_cpu == pytest.approx(14.0)
    assert run.startup_cpu == pytest.approx(8.0)
    assert {g: (c.cpu, len(c.cells)) for g, c in run.groups.items()} == {"a": (19.0, 2), "b": (3.0, 1)}
    assert run.cases["server"].per_cell() == pytest.approx(5.5)
    assert run.cases["cheap"].cpu == pytest.approx(3.0)
    assert run.tests[("server", "test_dev")].cells == {"a-1", "a-2"}


def test_groups_and_cases_can_be_left_out() -> None:
    run = run_cost.cost_of(RESULTS, groups={"a"}, without={"server"})
    assert run.cells == 2
    assert run.pytest_cpu == pytest.approx(8.0)  # 19 minus the server tests' 11
    assert set(run.cases) == {"cheap"}
    assert run.startup_cpu == pytest.approx(6.0)


def test_budget_line_compares_the_cpu_with_cores_times_minutes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RESULTS), encoding="utf-8")
    assert run_cost.main([str(path), "--cores", "2", "--target-minutes", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "2 cores x 0.1 min = 12 CPU-s" in out
    assert "used 22 CPU-s (1.8x the budget)" in out
    assert "at least 0.2 min" in out  # 22 CPU-s / 2 cores = 11 s


def test_a_run_that_reused_everything_or_is_missing_says_so(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"cells": [RESULTS["cells"][3]]}), encoding="utf-8")
    assert run_cost.main([str(path)]) == 1
    assert run_cost.main([str(tmp_path / "absent.json")]) == 2
