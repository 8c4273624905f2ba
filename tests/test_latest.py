"""`latest`: the newest FastAPI + Pydantic cell, compared with a baseline; exit 1 only for what needs a human."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fixtures import cell

from known_issues.latest import _baseline_cell
from known_issues.outcomes import CellStatus
from known_issues.results import RunResult
from known_issues.runner.index_config import choose_index
from known_issues.runner.pypi import PackageIndex

ROOT = Path(__file__).resolve().parent.parent
BUG = "test_json_form_field_rejects_valid_json_list"


def test_the_baseline_cell_is_the_newest_of_the_first_group_on_the_python() -> None:
    cells = [
        cell("0.128.0", "2.12.0"),
        cell("0.129.0", "2.11.7"),
        cell("0.130.0", "2.12.5", status=CellStatus.NOT_INSTALLABLE),
        cell("0.131.0", "2.12.5", python="3.9"),
    ]
    newest = _baseline_cell(RunResult(cells), "3.11")
    assert newest is not None and newest.version_of("fastapi") == "0.129.0"
    assert _baseline_cell(RunResult([]), "3.11") is None


def test_help_states_the_exit_policy(root: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "known_issues", "latest", "--help"], cwd=root,
                          capture_output=True, text=True, check=True)  # fmt: skip
    text = " ".join(proc.stdout.split())
    assert "Exit status: 0 when no verdict changed in a way a maintainer must see" in text
    assert "1 when one did: a bug fixed, a bug back, a workaround or pattern broken, or a new error" in text


# --------------------------------------------------------------------------------------------
# real runs of the newest cell (one case, to stay quick)


def _latest(root: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "known_issues", "latest", "--cases", "json_form_field", "--out", str(out), *extra],
        cwd=root, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(root)},
    )  # fmt: skip


def _older(run: dict[str, Any], fastapi: str, verdicts: dict[str, str]) -> dict[str, Any]:
    """A copy of the run's cell as if it had run on an older FastAPI, with some verdicts changed."""
    old = copy.deepcopy(run["cells"][0])
    old["cell"]["requested"]["fastapi"] = fastapi
    old["cell"]["id"] = old["cell"]["id"].replace(f"fastapi{old['distributions']['fastapi']}", f"fastapi{fastapi}")
    old["distributions"]["fastapi"] = old["resolved"]["fastapi"] = fastapi
    for test in old["tests"]:
        test["verdict"] = verdicts.get(test["test"], test["verdict"])
    return old


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("latest") / "report"
    proc = _latest(ROOT, out)
    return {"out": out, "proc": proc}


@pytest.mark.e2e
def test_first_run_uses_the_newest_releases_and_has_no_baseline(first: dict[str, Any], tmp_path: Path) -> None:
    proc, out = first["proc"], first["out"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    index = PackageIndex(tmp_path / "index", choose_index(os.environ, ROOT).url)
    newest = {name: index.releases(name)[-1].version for name in ("fastapi", "pydantic", "starlette")}
    run = json.loads((out / "latest" / "results.json").read_text())
    (result,) = run["cells"]
    assert result["cell"]["id"] == f"latest-py3.11-fastapi{newest['fastapi']}-pydantic{newest['pydantic']}"
    assert result["status"] == "ran"
    assert result["distributions"]["fastapi"] == newest["fastapi"]
    # FastAPI 0.128.2 fixed Json[list[str]] form fields: the newest release has the fix.
    assert {t["test"]: t["verdict"] for t in result["tests"]}[BUG] == "fixed"
    summary = (out / "latest" / "summary.md").read_text()
    assert f"| starlette | {newest['starlette']} |" in summary
    assert "No baseline: this run is the baseline for the next one." in summary
    assert not (out / "summary.md").exists(), "the matrix report's summary must not be overwritten"


@pytest.mark.e2e
def test_second_run_compares_with_the_first_and_exits_0(root: Path, first: dict[str, Any]) -> None:
    out = first["out"]
    before = json.loads((out / "latest" / "results.json").read_text())
    proc = _latest(root, out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((out / "latest" / "previous.json").read_text())["cells"] == before["cells"]
    summary = (out / "latest" / "summary.md").read_text()
    assert f"Compared with the baseline cell `{before['cells'][0]['cell']['id']}`" in summary
    assert "No verdict changed." in summary


@pytest.mark.e2e
def test_bug_fixed_since_the_baseline_exits_1(root: Path, first: dict[str, Any], tmp_path: Path) -> None:
    run = json.loads((first["out"] / "latest" / "results.json").read_text())
    baseline = {**run, "cells": [
        # The newest cell of the baseline is the one compared (the older one would add broken workarounds).
        _older(run, "0.100.0", {"test_str_then_model_rejects_invalid_json_as_client_error": "broken"}),
        _older(run, "0.128.0", {BUG: "reproduces"}),
    ]}  # fmt: skip
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    proc = _latest(root, tmp_path / "report", "--baseline", str(tmp_path / "baseline.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = (tmp_path / "report" / "latest" / "summary.md").read_text()
    assert "Compared with the baseline cell `latest-py3.11-fastapi0.128.0-" in summary
    # The change is the release's that moved in the cell since the baseline, the newest FastAPI.
    assert "### fastapi 0.165.0 (compared with fastapi 0.128.0)" in summary
    assert f"| bug fixed | json_form_field | {BUG} | reproduces | fixed |" in summary
    assert "1 verdict change(s) need a maintainer: exit 1" in proc.stderr


@pytest.mark.e2e
def test_a_change_that_needs_no_human_exits_0_but_is_listed(root: Path, first: dict[str, Any], tmp_path: Path) -> None:
    run = json.loads((first["out"] / "latest" / "results.json").read_text())
    workaround = next(t["test"] for t in run["cells"][0]["tests"] if t["role"] == "workaround")
    baseline = {**run, "cells": [_older(run, "0.128.0", {workaround: "n/a"})]}
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    proc = _latest(root, tmp_path / "report", "--baseline", str(tmp_path / "baseline.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = (tmp_path / "report" / "latest" / "summary.md").read_text()
    assert f"| changed | json_form_field | {workaround} | n/a | holds |" in summary
    assert "need a maintainer" not in summary


# --------------------------------------------------------------------------------------------
# what a fresh install gives: the newest cell's runtime packages, the test tools at tools.lock's pins

RUNTIME_CASE = "jwt_auth_documented"  # its own dependencies: python-jose, passlib[bcrypt], SQLAlchemy...


def _fresh_install(requirements: list[str], python: str) -> dict[str, str]:
    """What uv resolves for these requirements alone, with no preference, from the harness's index."""
    from known_issues.runner import environments as envs

    url = choose_index(os.environ, ROOT).url
    proc = subprocess.run(
        [envs.uv(), "pip", "compile", "-", "--python", str(envs.find_python(python)), "--no-header", "--no-annotate",
         "--quiet", "--default-index", url],
        input="\n".join(requirements) + "\n", capture_output=True, text=True, timeout=600, check=True,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
    )  # fmt: skip
    return envs.parse_pins(proc.stdout)


@pytest.mark.e2e
def test_the_newest_cell_installs_what_a_fresh_install_gives_and_the_tools_at_their_pins(tmp_path: Path) -> None:
    from known_issues.catalog import load_cases
    from known_issues.runner import locks

    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "latest", "--cases", RUNTIME_CASE, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (result,) = json.loads((out / "latest" / "results.json").read_text())["cells"]
    assert result["status"] == "ran", result["reason"]
    installed = result["distributions"]
    # The guide's packages as a person installs them today: fastapi[standard] and the case's own dependencies.
    fresh = _fresh_install(["fastapi[standard]", *load_cases(ROOT / "cases")[RUNTIME_CASE].dependencies], "3.11")
    assert {"fastapi", "starlette", "uvicorn", "bcrypt", "sqlalchemy", "pydantic-settings"} <= set(fresh)
    assert {name: installed.get(name) for name in fresh} == fresh
    assert result["runtime"] == fresh
    # Everything else installed is a test tool, where tools.lock pins it.
    pins = locks.pins_for_python((ROOT / "tools.lock").read_text(), result["python"])
    tools = {name: version for name, version in installed.items() if name not in fresh}
    assert {"pytest", "hypothesis", "dirty-equals", "pytest-asyncio"} <= set(tools)
    assert tools == {name: pins.get(name, version) for name, version in tools.items()}
    assert result["run_pins"] == {name: pins[name] for name in result["run_pins"]}
    assert not set(result["run_pins"]) & set(fresh), "a runtime package is preferred at a pin"
    # The table lists every runtime package, with the version a fresh install gives.
    summary = (out / "latest" / "summary.md").read_text()
    for name, version in fresh.items():
        assert re.search(rf"^\| {re.escape(name)} \| [^|]+ \| {re.escape(version)} \|", summary, re.MULTILINE), name
