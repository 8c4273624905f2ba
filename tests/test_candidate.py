"""`candidate`: a FastAPI or Starlette that is not released yet, run against the newest release's cell.
The released sdist unchanged changes nothing; a planted fix is listed as exactly that fix, with the case
and its upstream issue; a planted break in a Starlette source tree is listed as broken; the same
candidate twice observes nothing the second time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from planted_sources import PATCHES, planted_tree, released, repacked, sdist

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
FIX, BREAK = PATCHES[0], PATCHES[1]


def _candidate(out: Path, *specs: str, cases: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "known_issues", "candidate", *specs, "--cases", ",".join(cases), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip


def _result(out: Path) -> dict:
    (found,) = list((out / "candidate").glob("*/candidate.json"))
    return json.loads(found.read_text())


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("candidate")


def test_the_released_sdist_unchanged_changes_no_verdict(work: Path) -> None:
    archive = sdist("fastapi", released("fastapi"), work / "sdists")
    proc = _candidate(work / "same", f"fastapi={archive}", cases=FIX.cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No verdict changed." in proc.stdout
    assert _result(work / "same")["changes"] == []


def test_a_planted_fix_is_listed_as_exactly_that_fix_with_its_case_and_upstream_issue(work: Path) -> None:
    archive = repacked(planted_tree(FIX, work), work / "fastapi-fixed.tar.gz")
    proc = _candidate(work / "fix", f"fastapi={archive}", cases=FIX.cases)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    changes = {f"{c['case']}::{c['test']}": (c["old"], c["new"]) for c in _result(work / "fix")["changes"]}
    assert changes == FIX.flips
    summary = proc.stdout
    assert "### What it fixes" in summary and "1 change(s) need a maintainer" in summary
    assert "Injected BackgroundTasks are dropped" in summary  # the case's title
    assert "(https://github.com/fastapi/fastapi/" in summary  # its upstream issue
    assert "`background_tasks_overwritten::test_injected_tasks_are_dropped_by_response_background`" in summary


def test_a_planted_break_in_a_starlette_source_tree_is_listed_as_broken(work: Path) -> None:
    tree = planted_tree(BREAK, work)
    proc = _candidate(work / "break", f"starlette={tree}", cases=BREAK.cases)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    changes = {f"{c['case']}::{c['test']}": (c["old"], c["new"]) for c in _result(work / "break")["changes"]}
    assert changes == BREAK.flips
    assert "### Patterns it breaks" in proc.stdout


def test_the_same_candidate_twice_observes_nothing_the_second_time(work: Path) -> None:
    archive = repacked(planted_tree(FIX, work / "again"), work / "fastapi-fixed-again.tar.gz")
    first = _candidate(work / "twice", f"fastapi={archive}", cases=FIX.cases)
    assert first.returncode == 1, first.stdout + first.stderr
    found = _result(work / "twice")["changes"]
    second = _candidate(work / "twice", f"fastapi={archive}", cases=FIX.cases)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "env new" not in second.stdout and "confirming" not in second.stdout
    # Both cells left as they were: nothing read again from the result store, nothing run.
    assert second.stdout.count(", unchanged: its file is as stored") == 2, second.stdout
    assert _result(work / "twice")["changes"] == found  # the same answer, from the result store
