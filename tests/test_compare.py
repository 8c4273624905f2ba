"""`compare`: the verdicts that differ between two releases of a package, by case, read from each test's
history along the line (any two releases, tested or not), on planted runs and through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fixtures import PlantedReleases, cell, t, write_cases

from known_issues import narrowing, run_files
from known_issues.catalog import load_cases
from known_issues.cell.serial import dump
from known_issues.cell.verdicts import Verdict
from known_issues.reporting import compare
from known_issues.reporting.model import Model
from known_issues.results import RunResult

ROOT = Path(__file__).resolve().parent.parent
RELEASES = [f"0.{m}.{p}" for m in range(126, 131) for p in range(3)]


def _run() -> RunResult:
    """Latest patch of each minor observed; the bug is fixed at 0.128.2 (narrowed), the workaround breaks
    at 0.130.0, the pattern never changes."""
    cells = []
    for version, bug, workaround in (("0.126.2", "passed", "passed"), ("0.127.2", "passed", "passed"),
                                     ("0.128.2", "failed", "passed"), ("0.129.2", "failed", "passed"),
                                     ("0.130.2", "failed", "failed")):  # fmt: skip
        cells.append(cell(version, "2.11.7", tests=[
            t("literal_form", "test_bug", "bug", bug),
            t("literal_form", "test_omit_field", "workaround", workaround),
            t("crud", "test_create", "pattern", "passed"),
        ]))  # fmt: skip
    return RunResult(cells, generated="2026-12-01T00:00:00Z", matrix="matrix.toml")


def _narrowed() -> list[narrowing.Narrowed]:
    line = "fastapi releases (pydantic any, python 3.11)"
    return [
        narrowing.Narrowed("fastapi", line, "literal_form", "test_bug", Verdict.REPRODUCES, Verdict.FIXED,
                           "0.127.2", "0.128.2", "0.128.0", "0.128.1"),
        narrowing.Narrowed("fastapi", line, "literal_form", "test_omit_field", Verdict.HOLDS, Verdict.BROKEN,
                           "0.129.2", "0.130.2", "0.129.2", "0.130.0"),
    ]  # fmt: skip


def _model(tmp_path: Path) -> Model:
    between = PlantedReleases({"fastapi": RELEASES}).between
    return Model.of(_run(), load_cases(write_cases(tmp_path)), narrowed=_narrowed(), between=between)


def test_two_untested_releases_are_compared_through_the_narrowed_history(tmp_path: Path) -> None:
    model = _model(tmp_path)
    # Neither 0.127.0 nor 0.130.1 was a cell of the run: each test's history says what they give.
    found = compare.compare(model, "fastapi", "0.127.0", "0.130.1")
    assert found.same == 1 and found.unknown == []
    by = {d.test: d for d in found.differences}
    assert (by["test_bug"].old, by["test_bug"].new, str(by["test_bug"].kind)) == ("reproduces", "fixed", "bug fixed")
    assert [b.first_after for b in by["test_bug"].changes] == ["0.128.1"]
    assert (by["test_omit_field"].old, by["test_omit_field"].new) == ("holds", "broken")
    md = compare.to_markdown(found, model)
    assert "# fastapi 0.127.0 → 0.130.1" in md and "2 test verdict(s) differ in 1 case(s); 1 the same." in md
    assert "| test_bug | bug | reproduces | fixed | bug fixed | fastapi 0.128.1 (last reproduces: 0.128.0) |" in md
    data = json.loads(compare.to_json(found))
    assert data["differences"][0]["changes"] == [
        {"release": "0.128.1", "last_before": "0.128.0", "before": "reproduces", "after": "fixed", "exact": True}
    ]


def test_releases_on_the_same_side_of_every_change_differ_in_nothing(tmp_path: Path) -> None:
    model = _model(tmp_path)
    # Both after the fix and before the workaround broke: nothing differs, in either order.
    for low, high in (("0.128.1", "0.129.2"), ("0.129.2", "0.128.1")):
        found = compare.compare(model, "fastapi", low, high)
        assert (found.differences, found.unknown, found.same) == ([], [], 3)


def test_a_release_outside_the_observed_range_is_unknown_not_guessed(tmp_path: Path) -> None:
    found = compare.compare(_model(tmp_path), "fastapi", "0.120.0", "0.130.2")
    assert found.differences == [] and len(found.unknown) == 3
    assert {d.old for d in found.unknown} == {None}


def test_the_command_reads_the_last_run(tmp_path: Path) -> None:
    out = tmp_path / "report"
    (out).mkdir()
    (out / "results.json").write_text(json.dumps(dump(_run())))
    narrowing.write_answers(out, _narrowed())
    run_files.write_manifest(out, run_files.Manifest([]))
    env = {**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT), "UV_INDEX_URL": "http://127.0.0.1:9/simple"}
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "compare", "fastapi", "0.127.0", "0.130.1", "--json",
         "--out", str(out), "--envs", str(tmp_path / "envs"), "--offline"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    # The run's cases are the fixture's, not the project's: what the command prints comes from results.json.
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {d["test"] for d in data["differences"]} == {"test_bug", "test_omit_field"}
    bad = subprocess.run(
        [sys.executable, "-m", "known_issues", "compare", "fastapi", "0.126", "latest", "--out", str(out),
         "--envs", str(tmp_path / "envs"), "--offline"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip
    assert bad.returncode == 2 and "not a version: 'latest'" in bad.stderr
