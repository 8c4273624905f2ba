"""Settings are built once and checked before anything runs: every typo of a flag and every bad value
in the environment is a usage error (exit 2) that names the valid choices, and no environment, lock or
index copy is made first."""

from __future__ import annotations

from pathlib import Path

import pytest

from known_issues import cli
from known_issues.catalog import case_names

ROOT = Path(__file__).resolve().parent.parent
CELL = "fastapi-minors-py3.11-fastapi0.128.8-pydantic2.11.7"


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    command, rest = argv[0], list(argv[1:])
    envs, out = tmp_path / "envs", tmp_path / "out"
    code = cli.main([command, "--envs", str(envs), "--out", str(out), *rest])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not envs.exists() and not out.exists(), "something was made before the usage error"
    return err


@pytest.fixture(autouse=True)
def _project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for name in ("KNOWN_ISSUES_ROOT", "KNOWN_ISSUES_LOCK_TTL", "KNOWN_ISSUES_GUIDE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "argv",
    [
        ("matrix", "--cases", "json_form_feild"),
        ("latest", "--cases", "json_form_feild"),
        ("cell", CELL, "--cases", "json_form_feild"),
    ],
)
def test_an_unknown_case_names_every_case(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple) -> None:
    err = _run(tmp_path, capsys, *argv)
    assert "--cases: no such name: json_form_feild" in err
    assert all(slug in err for slug in case_names(ROOT / "cases"))


@pytest.mark.parametrize("command", ["matrix", "latest", "cell"])
def test_an_unknown_rerun_name_names_all_groups_and_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = [command, CELL] if command == "cell" else [command]
    err = _run(tmp_path, capsys, *argv, "--rerun", "all,fastapi-minor")
    assert "--rerun: no such name: fastapi-minor (valid: all, fastapi-minors, pydantic-minors" in err
    assert "json_form_field" in err


def test_an_unknown_group_names_the_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _run(tmp_path, capsys, "matrix", "--group", "document", "--group", "servres")
    assert "--group: no such name: servres (valid: fastapi-minors, pydantic-minors, document" in err


def test_jobs_below_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--jobs: expected at least 1, got 0" in _run(tmp_path, capsys, "matrix", "-j", "0")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("KNOWN_ISSUES_LOCK_TTL", "six hours", "KNOWN_ISSUES_LOCK_TTL='six hours': expected a number of seconds >= 0"),
        ("KNOWN_ISSUES_LOCK_TTL", "-5", "KNOWN_ISSUES_LOCK_TTL='-5': expected a number of seconds >= 0"),
        ("KNOWN_ISSUES_LOCK_TTL", "nan", "KNOWN_ISSUES_LOCK_TTL='nan': expected a number of seconds >= 0"),
        ("KNOWN_ISSUES_GUIDE", "/no/such/guide.md", "KNOWN_ISSUES_GUIDE: no readable file at /no/such/guide.md"),
        ("KNOWN_ISSUES_ROOT", "/", "KNOWN_ISSUES_ROOT='/' is not the project: it has no cases/ folder"),
    ],
)
@pytest.mark.parametrize("command", ["matrix", "latest", "report"])
def test_a_bad_environment_value_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str, name: str,
    value: str, expected: str,
) -> None:  # fmt: skip
    monkeypatch.setenv(name, value)
    assert expected in _run(tmp_path, capsys, command, "--matrix", str(ROOT / "matrix.toml"))


def test_good_values_build_the_settings_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("# guide\n")
    env = {"KNOWN_ISSUES_LOCK_TTL": "0", "KNOWN_ISSUES_GUIDE": str(guide), "KNOWN_ISSUES_ROOT": str(ROOT)}
    env["UV_INDEX_URL"] = "http://127.0.0.1:9/simple"  # chosen, never asked here
    args = cli.parser().parse_args(["matrix", "--cases", "json_form_field", "--rerun", "document"])
    settings = cli.settings_from(args, env)
    assert (settings.lock_ttl, settings.guide, settings.root) == (0.0, guide, ROOT)
    assert settings.only_cases == ("json_form_field",) and settings.rerun == ("document",)
