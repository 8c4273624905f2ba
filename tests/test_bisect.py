"""Bisect: the search on synthetic verdicts (holes included), then a real flip found with real cells."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures import cell, t

from known_issues import run_files
from known_issues.bisect import Target, budget_for, plan_for, search, target_verdict
from known_issues.cell.observations import CollectError
from known_issues.matrix import load as load_matrix
from known_issues.outcomes import CellStatus
from known_issues.results import CellResult

RELEASES = [f"0.{minor}.{patch}" for minor in range(100, 130) for patch in range(3)]  # 90 releases


def flips_at(first_new: str, holes: dict[str, str] | None = None) -> tuple[Callable[[str], str], list[str]]:
    """A verdict function: reproduces before first_new, fixed from it on; holes give their own status."""
    calls: list[str] = []
    index = RELEASES.index(first_new)

    def evaluate(version: str) -> str:
        calls.append(version)
        if holes and version in holes:
            return holes[version]
        return "reproduces" if RELEASES.index(version) < index else "fixed"

    return evaluate, calls


@pytest.mark.parametrize("n, bound", [(1, 1), (2, 3), (3, 4), (12, 6), (90, 9), (256, 10), (257, 11)])
def test_budget_is_both_ends_plus_log2(n: int, bound: int) -> None:
    assert budget_for(n) == bound


@pytest.mark.parametrize("first_new", [RELEASES[1], RELEASES[17], RELEASES[45], RELEASES[88], RELEASES[-1]])
def test_finds_every_flip_within_the_bound(first_new: str) -> None:
    evaluate, calls = flips_at(first_new)
    outcome = search(RELEASES, evaluate)
    assert outcome.found
    assert (outcome.old, outcome.new, outcome.first_new) == ("reproduces", "fixed", first_new)
    assert outcome.last_old == RELEASES[RELEASES.index(first_new) - 1]
    assert len(calls) == len(outcome.steps) <= budget_for(len(RELEASES)) == 9
    assert len(set(calls)) == len(calls), "a release was evaluated twice"


def test_steps_are_reported_in_order_with_their_verdicts() -> None:
    evaluate, calls = flips_at("0.110.1")
    seen: list[tuple[str, str]] = []
    outcome = search(RELEASES, evaluate, on_step=lambda step: seen.append((step.version, step.verdict)))
    assert [v for v, _ in seen] == calls
    assert seen[:2] == [(RELEASES[0], "reproduces"), (RELEASES[-1], "fixed")]
    assert all(step.seconds >= 0 for step in outcome.steps)


def test_unusable_midpoint_is_replaced_by_its_neighbour() -> None:
    # The first midpoint of 90 releases is index 44: make it and its lower neighbour not installable.
    holes = {RELEASES[44]: "not installable", RELEASES[45]: "incompatible"}
    evaluate, calls = flips_at(RELEASES[60], holes)
    outcome = search(RELEASES, evaluate, max_cells=budget_for(len(RELEASES)) + 2)
    assert outcome.found and outcome.first_new == RELEASES[60]
    assert calls[2:4] == [RELEASES[44], RELEASES[45]] and calls[4] == RELEASES[43]
    assert "not installable" not in {outcome.old, outcome.new}


def test_unusable_releases_at_the_flip_are_named() -> None:
    # 0.110.0..0.110.2 cannot be installed; the fix is in one of them or in 0.111.0: say so.
    holes = {v: "not installable" for v in ("0.110.0", "0.110.1", "0.110.2")}
    evaluate, _ = flips_at("0.110.1", holes)
    outcome = search(RELEASES, evaluate, max_cells=20)
    assert outcome.found
    assert (outcome.last_old, outcome.first_new) == ("0.109.2", "0.111.0")
    assert outcome.skipped == ["0.110.0", "0.110.1", "0.110.2"]
    assert "0.110.0, 0.110.1, 0.110.2" in outcome.answer()


def test_unusable_low_end_moves_to_the_nearest_installable_release() -> None:
    holes = {RELEASES[0]: "not installable", RELEASES[1]: "n/a", RELEASES[-1]: "incompatible"}
    evaluate, calls = flips_at(RELEASES[30], holes)
    outcome = search(RELEASES, evaluate, max_cells=20)
    assert calls[:5] == [RELEASES[0], RELEASES[1], RELEASES[2], RELEASES[-1], RELEASES[-2]]
    assert outcome.found and outcome.first_new == RELEASES[30] and outcome.old == "reproduces"


def test_budget_is_never_exceeded_and_the_range_is_reported() -> None:
    holes = {v: "not installable" for v in RELEASES[30:60]}
    evaluate, calls = flips_at(RELEASES[50], holes)
    outcome = search(RELEASES, evaluate)
    assert len(calls) == budget_for(len(RELEASES))
    assert outcome.exhausted and not outcome.found
    assert "not narrowed down within 9 cells" in outcome.answer()


def test_same_verdict_at_both_ends_is_no_flip() -> None:
    outcome = search(RELEASES, lambda v: "reproduces")
    assert not outcome.found and outcome.first_new is None
    assert len(outcome.steps) == 2
    assert outcome.answer().startswith("no flip: reproduces at both ends")


def test_nothing_installable_is_said_plainly() -> None:
    outcome = search(RELEASES[:4], lambda v: "not installable")
    assert not outcome.found and len(outcome.steps) == 4
    assert outcome.answer().startswith("no release in the range can run the test")


def test_a_third_verdict_counts_as_the_flip() -> None:
    # An error appearing is a change too: the search finds where the old verdict stops.
    outcome = search(RELEASES, lambda v: "holds" if RELEASES.index(v) < 20 else "error")
    assert (outcome.old, outcome.new, outcome.first_new) == ("holds", "error", RELEASES[20])


def test_target_verdict_reads_one_test_or_a_whole_case() -> None:
    def result(status: CellStatus, tests: list[tuple[str, str]]) -> CellResult:
        made = cell("0.1.0", "2.0", status=status, tests=[t("c", name, "bug", outcome) for name, outcome in tests])
        return made

    ran = result(CellStatus.RAN, [("test_b", "failed"), ("test_a", "passed")])
    assert target_verdict(ran, Target.parse("c::test_b")) == "fixed"
    assert target_verdict(ran, Target.parse("c")) == "test_a=reproduces, test_b=fixed"
    assert target_verdict(ran, Target.parse("c::test_zz")) == "not run"
    assert target_verdict(result(CellStatus.NOT_INSTALLABLE, []), Target.parse("c::test_b")) == "not installable"
    assert target_verdict(result(CellStatus.RAN, [("test_a", "skipped")]), Target.parse("c")) == "n/a"
    broken = result(CellStatus.RAN, [])
    broken.collect_errors.append(CollectError("cases/c/test_c.py", "c", "ImportError"))
    assert target_verdict(broken, Target.parse("c::test_b")) == "error"


def test_plan_holds_the_first_groups_axes_and_searches_the_named_package(root: Path) -> None:
    matrix = load_matrix(root / "matrix.toml")
    plan = plan_for(matrix, "starlette", ["fastapi=0.135.0"], "3.11")
    assert plan.package == "starlette"
    assert plan.cell("0.52.1", "cors_middleware").requested == (
        ("fastapi", "0.135.0"),
        ("pydantic", "any"),
        ("starlette", "0.52.1"),
    )
    assert plan_for(matrix, None, [], "3.11").package == matrix.groups[0].axes[0][0]
    with pytest.raises(ValueError, match="expected NAME=VERSION"):
        plan_for(matrix, None, ["fastapi"], "3.11")


def test_unknown_case_or_test_is_refused(root: Path) -> None:
    assert "no such case" in (Target.parse("nope::test_x").problem(root / "cases") or "")
    missing = Target.parse("json_form_field::test_nope").problem(root / "cases") or ""
    assert "no test 'test_nope'" in missing
    assert Target.parse("json_form_field::test_json_form_field_rejects_valid_json_list").problem(root / "cases") is None


# --------------------------------------------------------------------------------------------
# a real flip, with real cells


@pytest.mark.e2e
def test_bisect_finds_the_json_list_form_fix_in_0_128_2(root: Path, tmp_path: Path) -> None:
    # Release note of 0.128.2: "Fix using Json[list[str]] type (issue #10997). PR #14616".
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "bisect",
         "json_form_field::test_json_form_field_rejects_valid_json_list",
         "--from", "0.127.0", "--to", "0.129.0", "--hold", "pydantic=2.11.7",
         "--out", str(tmp_path / "report")],
        cwd=root, capture_output=True, text=True, timeout=1500, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(root)},
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    # 0.127.0 .. 0.129.0 are 12 releases: at most ceil(log2 12) + 2 = 6 cells.
    assert "over 12 fastapi releases, holding pydantic 2.11.7, python 3.11: 0.127.0..0.129.0" in out
    assert "at most 6 cells" in out
    steps = re.findall(r"^\[(\d+)\] fastapi (\S+): (\S+) \((\d+\.\d)s\)$", out, flags=re.MULTILINE)
    assert 2 < len(steps) <= 6
    assert steps[0][1:3] == ("0.127.0", "reproduces") and steps[1][1:3] == ("0.129.0", "fixed")
    evaluated = re.search(r"^evaluated (\d+) of at most 6 cells \(12 releases\)$", out, flags=re.MULTILINE)
    assert evaluated and int(evaluated.group(1)) == len(steps)
    assert "answer: reproduces -> fixed first at 0.128.2 (last reproduces: 0.128.1)" in out
    # Every step is a real cell result on disk, with the version it claims.
    cells = sorted((tmp_path / "report" / "bisect" / "cells").glob("*.json"))
    assert len(cells) == len(steps)
    assert any("pydantic2.11.7-fastapi0.128.2" in p.name for p in cells)
    # The answer is kept for the report's attribution of flips.
    (answer,) = run_files.read_bisect_answers(tmp_path / "report")
    assert (answer.package, answer.last_old, answer.first_new) == ("fastapi", "0.128.1", "0.128.2")
    assert (answer.old_verdict, answer.new_verdict) == ("reproduces", "fixed")
