"""The pool of cells: one cell's harness fault stays that cell's error; progress output."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from known_issues.cell.observations import TestResult
from known_issues.cell.verdicts import Reason, Role
from known_issues.matrix import Cell
from known_issues.matrix import load as load_matrix
from known_issues.outcomes import CellStatus
from known_issues.results import CellResult
from known_issues.runner import locks, one_cell
from known_issues.runner.all_cells import Progress, run_cells
from known_issues.runner.index_config import IndexChoice
from known_issues.runner.result_store import ResultStore
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NO_INDEX = IndexChoice("http://127.0.0.1:9/simple", "tests: the cells here never ask an index")


def test_an_unexpected_exception_in_one_cell_is_that_cells_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(ctx: RunContext, cell: Cell, result: CellResult) -> None:
        if cell.group == "bad":
            raise KeyError("a bug of the harness")
        result.status = CellStatus.RAN

    monkeypatch.setattr(one_cell, "_run", run)
    settings = Settings(ROOT, load_matrix(ROOT / "matrix.toml"), tmp_path / "out", tmp_path / "envs", NO_INDEX, jobs=2)
    ctx = RunContext(settings, None, {}, "", "h", {}, ResultStore(tmp_path / "r"), locks.Locks(tmp_path / "l"))
    cells = [Cell(group, "3.11", (("fastapi", "0.1.0"),)) for group in ("before", "bad", "after")]
    summary = run_cells(ctx, cells)
    by_group = {r.cell.group: r for r in summary.results}
    assert by_group["before"].status == by_group["after"].status == CellStatus.RAN
    bad = by_group["bad"]
    assert (bad.status, bad.error_reason) == (CellStatus.ERROR, Reason.HARNESS)
    assert bad.reason.startswith("the harness failed on this cell: KeyError: 'a bug of the harness'")
    log = (tmp_path / "out" / "logs" / f"{cells[1].id}.log").read_text()
    assert "Traceback" in log and "KeyError: 'a bug of the harness'" in log
    assert not summary.all_observed  # the exit status says a cell produced no verdicts


def test_progress_is_plain_lines_when_not_a_terminal() -> None:
    clock = iter([0.0, 30.0, 60.0, 60.0, 90.0, 90.0]).__next__
    stream = io.StringIO()
    progress = Progress(3, stream=stream, clock=clock)
    progress.started()
    progress.started()
    progress.ended()
    progress.started()  # the freed worker takes the third cell before the line is printed
    progress.finished("cell-a: ran")
    progress.ended()
    progress.finished("cell-b: ran")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[  1/3] cell-a: ran  (1 done, 2 running, 0 waiting; 30s elapsed, about 1m00s left)",
        "[  2/3] cell-b: ran  (2 done, 1 running, 0 waiting; 1m00s elapsed, about 30s left)",
    ]
    assert "\r" not in stream.getvalue()


def test_the_longest_cells_start_first_and_a_cell_never_observed_before_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def run(ctx: RunContext, cell: Cell, result: CellResult) -> None:
        started.append(cell.group)
        result.status = CellStatus.RAN

    monkeypatch.setattr(one_cell, "_run", run)
    settings = Settings(ROOT, load_matrix(ROOT / "matrix.toml"), tmp_path / "out", tmp_path / "envs", NO_INDEX, jobs=1)
    ctx = RunContext(settings, None, {}, "", "h", {}, ResultStore(tmp_path / "r"), locks.Locks(tmp_path / "l"))
    cells = [Cell(group, "3.11", (("fastapi", "0.1.0"),)) for group in ("short", "long", "new", "middle")]
    seconds = {cells[0].id: 3.0, cells[1].id: 40.0, cells[3].id: 12.0}
    run_cells(ctx, cells, expected=seconds)
    assert started == ["new", "long", "middle", "short"]


def test_a_first_run_starts_next_the_cells_whose_cases_took_longest_and_those_with_a_case_not_seen_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seconds = {"x": 1.0, "y": 10.0, "z": 5.0}
    started: list[str] = []

    def run(ctx: RunContext, cell: Cell, result: CellResult) -> None:
        started.append(cell.group)
        result.status = CellStatus.RAN
        result.cases_run = list(cell.cases)
        result.tests = [
            TestResult(f"cases/{c}/test_{c}.py::t", c, "t", Role.BUG, duration=seconds[c]) for c in cell.cases
        ]
        result.timings = {"total": sum(seconds[c] for c in cell.cases) + 2.0}

    monkeypatch.setattr(one_cell, "_run", run)
    monkeypatch.setattr(RunContext, "selected", lambda self, cell: list(cell.cases))
    settings = Settings(ROOT, load_matrix(ROOT / "matrix.toml"), tmp_path / "out", tmp_path / "envs", NO_INDEX, jobs=1)
    ctx = RunContext(settings, None, {}, "", "h", {}, ResultStore(tmp_path / "r"), locks.Locks(tmp_path / "l"))
    cases = {"a": ("x", "y"), "b": ("x",), "c": ("x", "y", "z"), "d": ("y",)}
    cells = [Cell(group, "3.11", (("fastapi", "0.1.0"),), cases=c) for group, c in cases.items()]
    run_cells(ctx, cells)
    # a: nothing known yet, matrix order. c: z not seen yet. d (y: 10 s) before b (x: 1 s).
    assert started == ["a", "c", "d", "b"]


def test_the_cells_a_finished_cell_brings_start_while_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "slow" runs until "next" (which only "quick" brings) has started: it ends only if "next" starts
    # while it is still running, which a round that waits for all its cells would never do.
    next_started = threading.Event()
    order: list[str] = []

    def run(ctx: RunContext, cell: Cell, result: CellResult) -> None:
        if cell.group == "slow":
            assert next_started.wait(timeout=30), "the cell that quick brought did not start beside slow"
        if cell.group == "next":
            next_started.set()
        order.append(cell.group)
        result.status = CellStatus.RAN

    def more(result: CellResult) -> list[Cell]:
        return [Cell("next", "3.11", (("fastapi", "0.2.0"),))] if result.cell.group == "quick" else []

    monkeypatch.setattr(one_cell, "_run", run)
    settings = Settings(ROOT, load_matrix(ROOT / "matrix.toml"), tmp_path / "out", tmp_path / "envs", NO_INDEX, jobs=2)
    ctx = RunContext(settings, None, {}, "", "h", {}, ResultStore(tmp_path / "r"), locks.Locks(tmp_path / "l"))
    cells = [Cell(group, "3.11", (("fastapi", "0.1.0"),)) for group in ("slow", "quick")]
    summary = run_cells(ctx, cells, more=more)
    assert order == ["quick", "next", "slow"]
    assert [r.status for r in summary.results] == [CellStatus.RAN] * 3
