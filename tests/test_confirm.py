"""Which verdicts are re-run before they are reported, and what the re-runs make of them."""

from __future__ import annotations

import copy
import threading

from fixtures import cell, t

from known_issues.cell.verdicts import Verdict
from known_issues.results import CellResult, RunResult
from known_issues.runner.confirm import apply, suspects


def _run(*outcomes: str) -> RunResult:
    """One group along fastapi 0.1.0, 0.2.0, ...: one bug test with the given outcome in each cell."""
    return RunResult(
        [cell(f"0.{i + 1}.0", "2.11.7", tests=[t("c", "test_x", "bug", o)]) for i, o in enumerate(outcomes)]
    )


def _versions(found: list) -> list[str]:
    return [s.cell.split("-fastapi")[1].split("-")[0] for s in found]


def test_a_blip_between_two_neighbours_is_a_suspect_a_real_flip_is_not() -> None:
    run = _run("passed", "passed", "failed", "passed", "passed", "failed", "failed")
    # 0.3.0 differs from both neighbours; 0.6.0 and 0.7.0 agree with one of theirs: a flip, left alone.
    assert _versions(suspects(run, None)) == ["0.3.0"]


def test_an_end_cell_is_compared_with_its_only_neighbour() -> None:
    assert _versions(suspects(_run("passed", "passed", "failed"), None)) == ["0.3.0"]


def test_a_verdict_that_differs_from_the_baseline_is_a_suspect() -> None:
    baseline = _run("passed", "passed", "passed")
    run = _run("failed", "failed", "failed")
    (suspect,) = suspects(run, baseline, cells=[run.cells[1].id])
    assert suspect.why == "baseline: reproduces"


def test_a_verdict_the_baseline_had_in_the_same_cell_is_not_asked_again() -> None:
    """A release where a bug was fixed differs from its neighbour in every run: confirmed when it first
    appeared, it is not re-run each time the same verdict comes back."""
    boundary = _run("passed", "passed", "failed", "failed")
    assert _versions(suspects(boundary, None)) == []  # a real flip: agrees with one neighbour
    blip = _run("passed", "passed", "failed", "passed", "passed")
    assert _versions(suspects(blip, None)) == ["0.3.0"]
    assert suspects(copy.deepcopy(blip), blip) == []  # as in the baseline
    assert _versions(suspects(blip, _run(*["passed"] * 5))) == ["0.3.0"]  # unlike it


def test_unobserved_verdicts_and_settled_ones_are_never_suspects() -> None:
    run = _run("passed", "skipped", "passed")
    assert suspects(run, None) == []
    settled = _run("passed", "failed", "passed")
    settled.cells[1].tests[0].observations = [Verdict.FIXED] * 3
    # Its neighbours still differ from it (each has one neighbour here), the settled verdict is not asked again.
    assert _versions(suspects(settled, None)) == ["0.1.0", "0.3.0"]


def _rerun_giving(*verdicts: Verdict):  # type: ignore[no-untyped-def]
    def rerun(cell: CellResult, nodeids: list[str], attempt: int) -> dict[str, Verdict] | None:
        if attempt >= len(verdicts):
            return None
        return {nodeid: verdicts[attempt] for nodeid in nodeids}

    return rerun


def test_a_flip_that_does_not_repeat_is_flaky_and_one_that_does_stands() -> None:
    run = _run("passed", "failed", "passed")
    found = suspects(run, None)
    apply(run, found, _rerun_giving(Verdict.REPRODUCES, Verdict.REPRODUCES), confirm_runs=2)
    test = run.cells[1].tests[0]
    assert (test.verdict, test.observations) == (Verdict.FLAKY, ["fixed", "reproduces", "reproduces"])
    assert test.message.startswith("flaky: observed fixed, reproduces, reproduces")
    again = _run("passed", "failed", "passed")
    apply(again, suspects(again, None), _rerun_giving(Verdict.FIXED, Verdict.FIXED), confirm_runs=2)
    assert (again.cells[1].tests[0].verdict, again.cells[1].tests[0].observations) == ("fixed", ["fixed"] * 3)


def test_a_cell_that_cannot_be_re_run_stays_unconfirmed() -> None:
    run = _run("passed", "failed", "passed")
    before = copy.deepcopy(run.cells[1].tests[0])
    assert apply(run, suspects(run, None), _rerun_giving(), confirm_runs=2) == []
    assert run.cells[1].tests[0] == before


def test_the_re_runs_of_one_cell_run_side_by_side() -> None:
    # Both re-runs of the one suspect cell must be in flight together to pass the barrier: run one
    # after the other, the first waits alone and the barrier breaks.
    barrier = threading.Barrier(2, timeout=10)

    def rerun(cell: CellResult, nodeids: list[str], attempt: int) -> dict[str, Verdict] | None:
        barrier.wait()
        return dict.fromkeys(nodeids, first)

    run = _run("passed", "failed", "passed")
    first = run.cells[1].tests[0].verdict
    changed = apply(run, suspects(run, None, [run.cells[1].id]), rerun, confirm_runs=2, jobs=2)
    assert [c.id for c in changed] == [run.cells[1].id]
    assert run.cells[1].tests[0].observations == [first] * 3
