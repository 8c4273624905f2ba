"""The real pipeline: resolve, build environments with uv, run real cases, write results and report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent

CASES = "background_tasks_overwritten,optional_literal_form"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = ROOT
    out = tmp_path_factory.mktemp("e2e") / "report"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "known_issues",
            "matrix",
            "--matrix",
            "tests/data/e2e-matrix.toml",
            "--out",
            str(out),
            "--cases",
            CASES,
            "--jobs",
            "2",
            "--rerun",
            "all",  # observed here, not served from an earlier run's store
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(root)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    return {
        "out": out,
        "stdout": proc.stdout,
        "results": results,
        "cells": {c["cell"]["id"]: c for c in results["cells"]},
    }


def test_every_cell_has_a_status(run: dict) -> None:
    statuses = {cid: c["status"] for cid, c in run["cells"].items()}
    assert statuses == {
        "e2e-py3.11-fastapi0.113.0-pydantic2.11.7": "ran",
        "e2e-py3.11-fastapi0.114.0-pydantic2.11.7": "ran",
        "refused-py3.11-fastapi0.128.0-pydantic1.10.19": "not installable",
        "missing-py3.11-fastapi9.9.9-pydanticany": "not installable",
    }
    refused = run["cells"]["refused-py3.11-fastapi0.128.0-pydantic1.10.19"]["reason"]
    assert "No solution found" in refused and "pydantic" in refused
    missing = run["cells"]["missing-py3.11-fastapi9.9.9-pydanticany"]["reason"]
    assert missing == "fastapi 9.9.9 does not exist on the package index"


def test_resolved_versions_are_recorded(run: dict) -> None:
    for version in ("0.113.0", "0.114.0"):
        cell = run["cells"][f"e2e-py3.11-fastapi{version}-pydantic2.11.7"]
        assert cell["distributions"]["fastapi"] == version
        assert cell["distributions"]["pydantic"] == "2.11.7"
        assert cell["resolved"]["fastapi"] == version
        assert {"starlette", "pydantic-core", "httpx", "pytest"} <= set(cell["distributions"])
        assert cell["python"].startswith("3.11.")
        assert cell["timings"]["tests"] > 0


def _verdicts(cell: dict) -> dict[str, str]:
    return {f"{t['case']}::{t['test']}": t["verdict"] for t in cell["tests"]}


def test_verdicts_in_two_fastapi_versions(run: dict) -> None:
    old = _verdicts(run["cells"]["e2e-py3.11-fastapi0.113.0-pydantic2.11.7"])
    new = _verdicts(run["cells"]["e2e-py3.11-fastapi0.114.0-pydantic2.11.7"])
    bg = "background_tasks_overwritten::test_injected_tasks_are_dropped_by_response_background"
    assert old[bg] == new[bg] == "reproduces"
    # Issue #12245: the 422 for a None form value appeared in 0.114.0.
    literal = "optional_literal_form::test_none_value_gets_literal_error"
    assert (old[literal], new[literal]) == ("fixed", "reproduces")


def test_report_and_progress(run: dict) -> None:
    page = (run["out"] / "index.html").read_text()
    assert "e2e-py3.11-fastapi0.113.0-pydantic2.11.7" in page
    assert (run["out"] / "summary.md").exists()
    assert "[  4/4]" in run["stdout"] or "[4/4]" in run["stdout"].replace(" ", "")


def test_a_second_run_with_nothing_changed_leaves_every_file_as_it_was(run: dict) -> None:
    """The same matrix again: every cell's inputs are as they were, so no cell file, results.json or report
    file is read back, rewritten or rebuilt, and the run says so."""
    out = run["out"]
    files = [*sorted((out / "cells").glob("*.json")), out / "results.json", out / "index.html", out / "status.json"]
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "matrix", "--matrix", "tests/data/e2e-matrix.toml", "--out", str(out),
         "--cases", CASES, "--jobs", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(", unchanged: its file is as stored") == 4, proc.stdout  # refusals too
    assert "(unchanged: made from the same results, cases and code)" in proc.stdout
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before


def test_a_partial_run_keeps_the_rest_of_the_cell(run: dict) -> None:
    """`cell <id> --cases one` observes that case again and keeps every other case of the cell: in the
    cell's file, in results.json and in the report, with the verdicts and observation times it had."""
    cell_id = "e2e-py3.11-fastapi0.114.0-pydantic2.11.7"
    out = run["out"]
    before = json.loads((out / "cells" / f"{cell_id}.json").read_text())
    kept_before = {
        t["test"]: (t["verdict"], t["observed"]) for t in before["tests"] if t["case"] != "background_tasks_overwritten"
    }
    assert {t.split("::")[0] for t in _verdicts(before)} >= {"optional_literal_form", "background_tasks_overwritten"}

    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "cell", cell_id, "--matrix", "tests/data/e2e-matrix.toml",
         "--out", str(out), "--cases", "background_tasks_overwritten", "--rerun", "background_tasks_overwritten"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr

    after = json.loads((out / "cells" / f"{cell_id}.json").read_text())
    assert after["cases_run"] == ["background_tasks_overwritten"]
    kept_after = {
        t["test"]: (t["verdict"], t["observed"]) for t in after["tests"] if t["case"] != "background_tasks_overwritten"
    }
    assert kept_after == kept_before and kept_after
    assert all(t["reused"] for t in after["tests"] if t["case"] != "background_tasks_overwritten")
    merged = {c["cell"]["id"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    assert set(merged) == set(run["cells"])  # no cell left the run either
    assert _verdicts(merged[cell_id]) == _verdicts(after)
    page = (out / "index.html").read_text()
    for test in ("test_none_value_gets_literal_error", "test_omitting_the_field_is_accepted"):
        row = re.search(
            rf'<tr[^>]*data-case="optional_literal_form"[^>]*data-verdicts="([^"]*)"[^>]*>(?:(?!<tr).)*?{test}<', page
        )
        assert row is not None and "not run" not in row.group(1).split("|"), test
