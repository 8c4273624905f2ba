"""Narrowing a change to its exact release: the search on synthetic verdicts, the positions of a planted run,
the whole narrowing on a planted index (its releases and each release's verdicts), and a real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fixtures import cell, t

from known_issues import narrowing
from known_issues.cell.verdicts import Verdict
from known_issues.matrix import Cell
from known_issues.matrix import load as load_matrix
from known_issues.observe import Observed
from known_issues.outcomes import CellStatus
from known_issues.reporting.model import Model
from known_issues.results import CellResult, RunResult, changed_along_a_line
from known_issues.runner import locks
from known_issues.runner.all_cells import More, RunSummary
from known_issues.runner.index_config import IndexChoice
from known_issues.runner.result_store import ResultStore
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
R, F, NA, ERR = Verdict.REPRODUCES, Verdict.FIXED, Verdict.NA, Verdict.ERROR
BROKEN, HOLDS = Verdict.BROKEN, Verdict.HOLDS
BUG = ("case_a", "test_bug")
OTHER = ("case_b", "test_other")


def _versions(n: int) -> list[str]:
    return [f"1.{i}.0" for i in range(n)]


def _drive(search: narrowing.Search, verdict_at: dict[tuple[str, str], object], width: int = 1) -> int:
    """Run a search to its end with a synthetic verdict per (test, index); return the probes it cost."""
    while not search.done():
        for index in search.next_probes(width):
            got = {}
            for key in search.tests:
                rule = verdict_at[key]
                got[key] = rule(index) if callable(rule) else rule
            search.record(index, got)
    return len(search.probed)


@pytest.mark.parametrize("first", range(1, 17))
def test_the_first_release_of_the_new_verdict_is_found_within_the_budget(first: int) -> None:
    versions = _versions(17)  # the two observed ends and 15 releases between
    search = narrowing.Search(versions, {BUG: R})
    cost = _drive(search, {BUG: lambda i: R if i < first else F})
    assert search.answer(BUG) == (versions[first - 1], versions[first], [], True)
    assert cost <= narrowing.budget_for(15)


# The last patch of 0.161, every patch of 0.162: the first of a new series is probed first.
SERIES = ["0.161.1", *(f"0.162.{n}" for n in range(8))]


def test_a_change_at_the_first_release_of_a_series_is_placed_with_one_probe() -> None:
    search = narrowing.Search(SERIES, {BUG: R})
    cost = _drive(search, {BUG: lambda i: R if i < 1 else F})
    assert search.answer(BUG) == ("0.161.1", "0.162.0", [], True)
    assert cost == 1


@pytest.mark.parametrize("first", range(2, 8))
def test_a_change_later_in_the_series_is_still_placed_exactly(first: int) -> None:
    search = narrowing.Search(SERIES, {BUG: R})
    cost = _drive(search, {BUG: lambda i: R if i < first else F})
    assert search.answer(BUG) == (SERIES[first - 1], SERIES[first], [], True)
    assert 1 < cost <= narrowing.budget_for(len(SERIES) - 2)


@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_two_tests_that_change_at_different_releases_are_both_placed(width: int) -> None:
    versions = _versions(12)
    search = narrowing.Search(versions, {BUG: R, OTHER: NA})
    _drive(search, {BUG: lambda i: R if i < 3 else F, OTHER: lambda i: NA if i < 9 else Verdict.WORKS}, width)
    assert search.answer(BUG)[:2] == ("1.2.0", "1.3.0")
    assert search.answer(OTHER)[:2] == ("1.8.0", "1.9.0")


def test_releases_that_cannot_tell_are_stepped_over_and_named() -> None:
    versions = _versions(8)
    search = narrowing.Search(versions, {BUG: R})
    # 1.4 and 1.5 cannot tell (not installable, an error): the change is between 1.3 and 1.6.
    _drive(search, {BUG: lambda i: ERR if i in (4, 5) else (R if i < 5 else F)})
    assert search.answer(BUG) == ("1.3.0", "1.6.0", ["1.4.0", "1.5.0"], True)


def test_a_spent_budget_says_the_change_is_not_placed() -> None:
    versions = _versions(40)
    search = narrowing.Search(versions, {BUG: R}, budget=2)
    _drive(search, {BUG: lambda i: R if i < 30 else F})
    last, first, between, exact = search.answer(BUG)
    assert not exact and between and last != first


def test_a_third_verdict_on_the_way_is_a_change_of_its_own_and_is_placed_too() -> None:
    # n/a until 1.3 (the feature is new), broken 1.3-1.8, holds from 1.9: the far end holds.
    versions = _versions(12)
    search = narrowing.Search(versions, {BUG: NA}, after={BUG: HOLDS})
    _drive(search, {BUG: lambda i: NA if i < 3 else (BROKEN if i < 9 else HOLDS)})
    assert search.segments(BUG) == [
        (NA, ("1.2.0", "1.3.0", [], True)),
        (BROKEN, ("1.8.0", "1.9.0", [], True)),
    ]
    assert search.answer(BUG) == ("1.2.0", "1.3.0", [], True)


def _run(verdicts: dict[str, Verdict], errors: tuple[str, ...] = ()) -> RunResult:
    cells = []
    for version, verdict in verdicts.items():
        outcome = {R: "passed", F: "failed", ERR: "error"}[ERR if version in errors else verdict]
        cells.append(cell(version, "2.11.7", tests=[t("case_a", "test_bug", "bug", outcome)]))
    return RunResult(cells=cells)


RELEASES = [f"0.{m}.{p}" for m in (113, 114, 115) for p in range(4)]


def _between(package: str, python: str, low: str, high: str) -> list[str]:
    assert (package, python) == ("fastapi", "3.11")
    return [v for v in RELEASES if RELEASES.index(low) < RELEASES.index(v) < RELEASES.index(high)]


def test_between_two_pythons_lie_the_minors_not_run() -> None:
    def no_index(package: str, python: str) -> list[str]:
        raise AssertionError("Pythons are not asked of the package index")

    between = narrowing.releases_between(no_index)
    assert between("python", "", "3.9.18", "3.10.13") == []  # adjacent minors: the change is exact
    assert between("python", "", "3.10.13", "3.12.1") == ["3.11"]


def test_positions_are_the_changes_with_releases_between_them_and_an_error_is_a_hole() -> None:
    run = _run({"0.113.0": R, "0.113.1": R, "0.114.0": ERR, "0.115.3": F}, errors=("0.114.0",))
    (position,) = narrowing.positions_of(run, _between)
    assert (position.low.version, position.high.version) == ("0.113.1", "0.115.3")
    assert position.between == [v for v in RELEASES if "0.113.1" < v < "0.115.3"]
    assert position.changes == {BUG: (R, F)}
    # Adjacent releases: nothing to narrow.
    assert narrowing.positions_of(_run({"0.113.0": R, "0.113.1": F}), _between) == []


@dataclass
class PlantedIndex:
    """Each release's verdict, as a planted index would give: the narrowing runs its probe cells here."""

    first_fixed: str
    probed: list[str]

    def observe(self, ctx: RunContext, cells: list, more: More | None = None, **_: object) -> Observed:
        def probe(c: Cell) -> CellResult:
            version = dict(c.requested)["fastapi"]
            self.probed.append(version)
            fixed = RELEASES.index(version) >= RELEASES.index(self.first_fixed)
            result = cell(version, "2.11.7", tests=[t("case_a", "test_bug", "bug", "failed" if fixed else "passed")])
            return CellResult(c, CellStatus.RAN, tests=result.tests, resolved=result.resolved)

        return _as_run_cells_does(cells, probe, more)


def _as_run_cells_does(cells: list[Cell], probe: Callable[[Cell], CellResult], more: More | None) -> Observed:
    """The probe cells, one at a time; each finished one may bring the next (runner/all_cells.py)."""
    waiting, results = list(cells), []
    while waiting:
        result = probe(waiting.pop(0))
        results.append(result)
        waiting += more(result) if more is not None else []
    return Observed(RunResult(cells=results), RunSummary(results))


def _ctx(tmp_path: Path) -> RunContext:
    no_index = IndexChoice("http://127.0.0.1:9/simple", "tests: the probes here never ask an index")
    settings = Settings(ROOT, load_matrix(ROOT / "matrix.toml"), tmp_path / "out", tmp_path / "envs", no_index, jobs=1)
    store = ResultStore(tmp_path / "store")
    return RunContext(settings, None, {}, "", "harness", {"case_a": "d1"}, store, locks.Locks(tmp_path / "l"))


@pytest.mark.parametrize("first_fixed", ["0.113.2", "0.114.0", "0.114.3", "0.115.2"])
def test_a_change_on_a_planted_index_is_narrowed_to_its_release_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_fixed: str
) -> None:
    planted = PlantedIndex(first_fixed, [])
    monkeypatch.setattr(narrowing, "observe", planted.observe)
    run = _run({"0.113.1": R, "0.115.3": F})
    ctx = _ctx(tmp_path)
    (answer,) = narrowing.narrow(ctx, run, _between)
    before_it = RELEASES[RELEASES.index(first_fixed) - 1]
    assert (answer.first_after, answer.last_before, answer.exact) == (first_fixed, before_it, True)
    assert (answer.before, answer.after) == (R, F)
    # The release before it was observed with the old verdict (unless it is the observed low end).
    by_version = {p.version: p.verdict for p in answer.probes}
    assert by_version.get(before_it, R) == R and by_version.get(first_fixed, F) == F
    assert before_it in by_version or before_it == "0.113.1"
    # Kept: the same run again probes nothing.
    planted.probed.clear()
    assert narrowing.narrow(ctx, run, _between) == [answer]
    assert planted.probed == []
    # A change to the case's files is a new question.
    assert narrowing.narrow(replace(ctx, digests={"case_a": "d2"}), run, _between) == [answer]
    assert planted.probed


def test_what_a_probe_does_not_install_is_not_a_change_of_the_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A probe installs only the cases it runs; the matrix's cells hold every case's packages (bcrypt
    # here). Between the matrix's 0.113.1 and the probe at 0.113.2 only fastapi changed.
    planted = PlantedIndex("0.113.2", [])
    monkeypatch.setattr(narrowing, "observe", planted.observe)
    run = _run({"0.113.1": R, "0.115.3": F})
    for c in run.cells:
        c.distributions["bcrypt"] = "5.0.0"
    (answer,) = narrowing.narrow(_ctx(tmp_path), run, _between)
    assert (answer.last_before, answer.first_after) == ("0.113.1", "0.113.2")
    assert [(c.package, c.old, c.new) for c in answer.changed] == [("fastapi", "0.113.1", "0.113.2")]


@dataclass
class ThreeVerdicts:
    """A workaround that does not exist before 0.114.0 (n/a), is broken there and holds from 0.115.1."""

    probed: list[str]

    @staticmethod
    def outcome(version: str) -> str:
        n = RELEASES.index(version)
        return "skipped" if n < RELEASES.index("0.114.0") else ("failed" if n < RELEASES.index("0.115.1") else "passed")

    def observe(self, ctx: RunContext, cells: list, more: More | None = None, **_: object) -> Observed:
        def probe(c: Cell) -> CellResult:
            version = dict(c.requested)["fastapi"]
            self.probed.append(version)
            made = cell(version, "2.11.7", tests=[t("case_a", "test_bug", "workaround", self.outcome(version))])
            return CellResult(c, CellStatus.RAN, tests=made.tests, resolved=made.resolved)

        return _as_run_cells_does(cells, probe, more)


def test_both_changes_of_a_third_verdict_are_narrowed_and_the_history_is_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = ThreeVerdicts([])
    monkeypatch.setattr(narrowing, "observe", planted.observe)
    run = RunResult(
        cells=[
            cell(v, "2.11.7", tests=[t("case_a", "test_bug", "workaround", ThreeVerdicts.outcome(v))])
            for v in ("0.113.1", "0.115.3")
        ]
    )
    answers = narrowing.narrow(_ctx(tmp_path), run, _between)
    assert [(a.before, a.after, a.last_before, a.first_after, a.exact) for a in answers] == [
        (NA, BROKEN, "0.113.3", "0.114.0", True),
        (BROKEN, HOLDS, "0.115.0", "0.115.1", True),
    ]
    history = Model.of(run, {}, narrowed=answers).histories_of(BUG)[0]
    assert [(b.before, b.after, b.first_after, b.exact) for b in history.boundaries] == [
        (NA, BROKEN, "0.114.0", True),
        (BROKEN, HOLDS, "0.115.1", True),
    ]
    assert [(i.verdict, i.first, i.last) for i in history.intervals] == [
        (NA, "0.113.1", "0.113.3"),
        (BROKEN, "0.114.0", "0.115.0"),
        (HOLDS, "0.115.1", "0.115.3"),
    ]


def test_answers_are_written_for_the_report(tmp_path: Path) -> None:
    answer = narrowing.Narrowed("fastapi", "fastapi releases", "case_a", "test_bug", R, F, "0.1", "0.4", "0.2", "0.3")
    narrowing.write_answers(tmp_path, [answer])
    assert narrowing.read_answers(tmp_path) == [answer]
    assert json.loads((tmp_path / narrowing.ANSWERS).read_text())["schema"] == narrowing.SCHEMA
    # A run that changed no cell keeps them; answers of another narrowing are narrowed again.
    assert narrowing.answers_current(tmp_path)
    (tmp_path / narrowing.ANSWERS).write_text(json.dumps({"answers": [], "schema": 1}))
    assert not narrowing.answers_current(tmp_path)


@pytest.mark.e2e
def test_a_real_matrix_narrows_the_json_list_fix_to_0_128_2(tmp_path: Path) -> None:
    """Two FastAPI releases seven apart on the guide's Pydantic: the run names the exact fix, 0.128.2, and
    the release before it, 0.128.1, was observed reproducing."""
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        '[packages.fastapi]\nextras = ["standard"]\n[[groups]]\nname = "fastapi-minors"\n'
        'axes = { fastapi = ["0.128.0", "0.128.8"], pydantic = ["2.11.7"] }\ncases = ["json_form_field"]\n'
    )
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "matrix", "--matrix", str(matrix), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answers = {a.test: a for a in narrowing.read_answers(out)}
    answer = answers["test_json_form_field_rejects_valid_json_list"]
    assert (answer.last_before, answer.first_after, answer.before, answer.after) == ("0.128.1", "0.128.2", R, F)
    probes = {p.version: p.verdict for p in answer.probes}
    assert probes["0.128.1"] == R and probes["0.128.2"] == F
    # The case's badge says since which exact release the bug is gone, not the latest patch of the minor.
    badge = json.loads((out / "status" / "json_form_field.json").read_text())
    assert badge["message"] == "fixed since fastapi 0.128.2", badge
    status = json.loads((out / "status.json").read_text())["cases"]["json_form_field"]
    assert (status["since"]["release"], status["since"]["last_before"], status["since"]["exact"]) == (
        "0.128.2", "0.128.1", True
    )  # fmt: skip


def test_a_package_only_the_cell_with_more_cases_installs_is_no_change_along_a_line() -> None:
    # The guide's cell of every case on 3.11 beside a group of a few cases on 3.12: gunicorn comes with
    # a server case the second does not run; only the Python moved.
    every = cell("0.128.0", "2.11.7", group="document", extra={"gunicorn": "27.0.1"})
    few = cell("0.128.0", "2.11.7", group="pythons", python="3.12")
    few.cell = replace(few.cell, cases=("datetime_utcnow",))
    assert [(c.package, c.old, c.new) for c in changed_along_a_line(every, few)] == [("python", "3.11.7", "3.12.7")]
    assert [(c.package, c.old, c.new) for c in changed_along_a_line(few, every)] == [("python", "3.12.7", "3.11.7")]
    # Between two cells of the same cases a package that comes or goes is a change of its own.
    newer = cell("0.128.0", "2.11.7", group="document", python="3.12")
    assert ("gunicorn", "27.0.1", "-") in [(c.package, c.old, c.new) for c in changed_along_a_line(every, newer)]


PASSED = (("0.113.1", "passed"), ("0.115.3", "failed"))  # then failed


def test_a_place_asks_for_its_next_probe_as_soon_as_its_own_are_in(tmp_path: Path) -> None:
    # Two places; the first one's probe comes back while the second one's is still out: its next probe
    # is asked for at once (it does not wait for a round to end), the other place's stays out.
    first = narrowing.positions_of(_run({"0.113.1": R, "0.115.3": F}), _between)[0]
    other_line = [cell(v, "2.11.7", tests=[t("case_a", "test_bug", "bug", o)], python="3.12") for v, o in PASSED]
    second = narrowing.positions_of(RunResult(cells=other_line), lambda p, _, lo, hi: _between(p, "3.11", lo, hi))[0]
    for position in (first, second):
        versions = [position.low.version, *position.between, position.high.version]
        position.search = narrowing.Search(versions, {BUG: R}, after={BUG: F})
    flight = narrowing._Flight(jobs=2, out=tmp_path)
    started = flight.start([first, second])
    assert len(started) == 2 and len(flight.waiting) == 2
    probe = next(c for c in started if flight.waiting[c.id][0] is first)
    version = dict(probe.requested)["fastapi"]
    verdict = "failed" if RELEASES.index(version) >= RELEASES.index("0.114.0") else "passed"
    made = cell(version, "2.11.7", tests=[t("case_a", "test_bug", "bug", verdict)])
    following = flight.finished(CellResult(probe, CellStatus.RAN, tests=made.tests, resolved=made.resolved))
    assert following and all(flight.waiting[c.id][0] is first for c in following)
    assert sum(1 for place, _ in flight.waiting.values() if place is second) == 1
    assert flight.steps[id(first)] == 2 and flight.steps[id(second)] == 1
