"""Flips are confirmed before they are reported (the model is Rust's Crater, which re-runs a
regression before calling it one).

A test's verdict is a suspect when it differs from the baseline's verdict for the same cell, or,
where the baseline has no verdict for it, from every neighbouring cell of its group that observed
the test (the nearest one on each side; an end cell has one). A verdict equal to the baseline's is
not: where it differs from its neighbours (a release where a bug was fixed), it was confirmed when
it first appeared, and the run that reports it again does not re-run it.

Each suspect is run again, ``confirm_runs`` times, in the same environment, never from the result
store. If every re-run gives the same verdict, it stands (and the observations are recorded); if
not, the verdict is ``flaky``: shown with every outcome observed, never counted as fixed, broken or
reproduces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from known_issues import run_files
from known_issues.cell.observations import TestResult
from known_issues.cell.verdicts import Verdict
from known_issues.outcomes import CONFIRMABLE
from known_issues.results import CellResult, RunResult, by_group, ordered_cells
from known_issues.runner import environments as envs
from known_issues.runner.pytest_process import run_pytest
from known_issues.runner.result_store import Inputs
from known_issues.runner.run_context import RunContext

Key = tuple[str, str]  # (case, test)


@dataclass(frozen=True)
class Suspect:
    cell: str
    test: TestResult
    why: str  # "baseline: holds" or "neighbours: reproduces"


def suspects(
    run: RunResult,
    baseline: RunResult | None,
    cells: Sequence[str] | None = None,
    pairs: Mapping[str, str] | None = None,
) -> list[Suspect]:
    """The verdicts of ``cells`` (default: all) that must be re-run before they are reported.

    Each cell is compared with the baseline's cell of the same id, or the one ``pairs`` names.
    """
    wanted = set(cells) if cells is not None else None
    ordered = ordered_cells(run.cells)
    groups = by_group(ordered)
    found: list[Suspect] = []
    table = {cell.id: _verdicts(cell) for cell in ordered if cell.ran}
    for cell in ordered:
        if not cell.ran or (wanted is not None and cell.id not in wanted):
            continue
        group = groups[cell.cell.group]
        old = baseline.cell((pairs or {}).get(cell.id, cell.id)) if baseline is not None else None
        old_verdicts = _verdicts(old) if old is not None and old.ran else {}
        for test in cell.tests:
            if test.verdict not in CONFIRMABLE or test.observations:
                continue  # nothing observed to confirm, or confirmed already
            before = old_verdicts.get(test.key)
            if before == test.verdict:
                continue  # as in the baseline: a verdict that differs from its neighbours was confirmed then
            if before is not None and before != Verdict.NOT_RUN:
                found.append(Suspect(cell.id, test, f"baseline: {before}"))
                continue
            around = _neighbours(group, cell, test.key, table)
            if around and all(v != test.verdict for v in around):
                found.append(Suspect(cell.id, test, "neighbours: " + ", ".join(str(v) for v in around)))
    return found


def _verdicts(cell: CellResult) -> dict[Key, Verdict]:
    return {t.key: t.verdict for t in cell.tests}


def _neighbours(
    group: Sequence[CellResult], cell: CellResult, key: Key, table: Mapping[str, Mapping[Key, Verdict]]
) -> list[Verdict]:
    """The nearest verdict of this test on each side of ``cell`` within its group (observed ones
    only); ``table`` holds each cell's verdicts by test."""
    index = next(i for i, c in enumerate(group) if c.id == cell.id)
    found = []
    for side in (range(index - 1, -1, -1), range(index + 1, len(group))):
        for i in side:
            verdict = table.get(group[i].id, {}).get(key)
            if verdict in CONFIRMABLE:
                found.append(verdict)
                break
    return found


Rerun = Callable[[CellResult, list[str], int], dict[str, Verdict] | None]
"""One re-run (the attempt's number) of a cell's node ids: each node id's verdict, or None when the
cell cannot be re-run."""


def apply(run: RunResult, found: Sequence[Suspect], rerun: Rerun, confirm_runs: int, jobs: int = 1) -> list[CellResult]:
    """Re-run the suspects (every re-run of every cell in parallel); settle each one as confirmed or
    flaky. Returns the cells changed. A cell that could not be re-run keeps its verdicts unconfirmed."""
    by_cell: dict[str, list[Suspect]] = defaultdict(list)
    for suspect in found:
        by_cell[suspect.cell].append(suspect)
    cells = [(c, by_cell[c.id]) for c in run.cells if c.id in by_cell]
    # The re-runs of one cell are independent observations: run side by side, the cell with the most
    # suspects does not make the others wait for its second run.
    attempts = [(cell, items, n) for cell, items in cells for n in range(confirm_runs)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = list(pool.map(lambda item: rerun(item[0], [s.test.nodeid for s in item[1]], item[2]), attempts))
    outcomes: dict[str, list[dict[str, Verdict] | None]] = defaultdict(list)
    for (cell, _, _), got in zip(attempts, done, strict=True):
        outcomes[cell.id].append(got)
    changed = []
    for cell, items in cells:
        runs = outcomes[cell.id]
        if not runs or any(r is None for r in runs):
            continue
        reruns = [r for r in runs if r is not None]
        for suspect in items:
            test = suspect.test
            seen = [test.verdict] + [r.get(test.nodeid, Verdict.ERROR) for r in reruns]
            test.observations = seen
            if len(set(seen)) > 1:
                test.message = (
                    f"flaky: observed {', '.join(str(v) for v in seen)} (first run, then re-runs); "
                    f"the first run said: {test.message}"
                ).strip()
                test.verdict = Verdict.FLAKY
                test.reason = None
        changed.append(cell)
    return changed


def confirm(
    ctx: RunContext,
    run: RunResult,
    baseline: RunResult | None,
    cells: Sequence[str] | None,
    pairs: Mapping[str, str] | None = None,
) -> int:
    """Find and settle the suspects of a merged run; write back the cells and the result store."""
    found = suspects(run, baseline, cells, pairs)
    if not found:
        return 0
    print(
        f"confirming {len(found)} verdict(s) that flip, in {len({s.cell for s in found})} cell(s): "
        f"{ctx.settings.confirm_runs} re-run(s) each",
        flush=True,
    )

    def rerun(cell: CellResult, nodeids: list[str], attempt: int) -> dict[str, Verdict] | None:
        lock = ctx.store.lock(cell.env_key)
        if lock is None:
            return None
        python = envs.find_python(cell.cell.python)
        env = envs.ensure(ctx.settings.env_dir("cells"), python, lock, ctx.settings.index.url)
        run_ = run_pytest(
            env.python,
            nodeids,
            root=ctx.settings.root,
            log=ctx.log_path(cell.cell, f".confirm{attempt + 1}"),
            test_timeout=ctx.settings.matrix.test_timeout,
            cell_timeout=ctx.settings.matrix.cell_timeout,
        )
        return {t.nodeid: t.verdict for t in run_.results.tests} if run_.results else {}

    changed = apply(run, found, rerun, ctx.settings.confirm_runs, ctx.settings.jobs)
    for cell in changed:
        run_files.write_cell(ctx.settings.out, cell)
        _restore(ctx, cell, {s.test.case for s in found if s.cell == cell.id})
    flaky = sum(1 for s in found if s.test.verdict == Verdict.FLAKY)
    print(f"confirmed {len(found) - flaky}, flaky {flaky}", flush=True)
    return len(found)


def _restore(ctx: RunContext, cell: CellResult, cases: set[str]) -> None:
    """Keep the settled verdicts in the result store, so a reused result stays confirmed or flaky."""
    inputs = Inputs(cell.env_key, ctx.harness, ctx.settings.matrix.test_timeout)
    by_key: Mapping[Key, TestResult] = {t.key: t for t in cell.tests}
    for case in cases:
        key = inputs.key(ctx.digests[case])
        stored = ctx.store.get(key)
        if stored is None:
            continue
        stored.tests = [by_key.get(t.key, t) for t in stored.tests]
        ctx.store.put(key, stored)
