"""`check`: every case valid in seconds; each planted problem named by file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from known_issues.checks import check_cases
from known_issues.scaffold import new_case

ROOT = Path(__file__).resolve().parent.parent


def test_every_case_of_the_repository_passes() -> None:
    assert check_cases(ROOT) == []


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project files check reads, with two cases."""
    for name in ("pyproject.toml", "matrix.toml", "tools.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    for slug in ("background_tasks_overwritten", "annotated_forward_ref"):
        shutil.copytree(ROOT / "cases" / slug, tmp_path / "cases" / slug)
    return tmp_path


def test_planted_problems_are_named_by_file_and_key(project: Path) -> None:
    cases = project / "cases"
    test = cases / "background_tasks_overwritten" / "test_background_tasks_overwritten.py"
    test.write_text(test.read_text().replace('@pytest.mark.workaround("use only the Response\'s background")\n', ""))
    toml = cases / "annotated_forward_ref" / "case.toml"
    toml.write_text(toml.read_text() + '\n[[claim.expect]]\ntest = "test_that_does_not_exist"\nverdict = "holds"\n')
    problems = check_cases(project)
    assert f"{test}::test_only_response_background_runs: needs exactly one role marker " in "\n".join(problems)
    assert any(
        p.startswith(f"{toml}: claim.expect[") and "no test named 'test_that_does_not_exist'" in p for p in problems
    ), problems
    toml.write_text('colour = "red"\n' + toml.read_text())
    assert f"{toml}: colour: unknown key" in "\n".join(check_cases(project))


def test_a_bug_test_behind_a_lenient_client_must_assert_the_exception(project: Path) -> None:
    test = project / "cases" / "background_tasks_overwritten" / "test_background_tasks_overwritten.py"
    test.write_text(
        test.read_text().replace(
            "with TestClient(app) as c:", "with TestClient(app, raise_server_exceptions=False) as c:"
        )
    )
    problems = check_cases(project)
    assert problems == [
        f"{test}::test_injected_tasks_are_dropped_by_response_background: a bug test beside a lenient client "
        "(raise_server_exceptions=False) must assert the server's exact exception (casekit.Observed.assert_raised)"
    ]


def test_an_undeclared_import_is_named(project: Path) -> None:
    app = project / "cases" / "background_tasks_overwritten" / "app.py"
    app.write_text("import sqlalchemy\n" + app.read_text())
    (problem,) = check_cases(project)
    assert problem.startswith(f"{app}:1: imports 'sqlalchemy'") and "add it to dependencies in" in problem


def test_a_new_case_passes_the_checks_as_made(project: Path) -> None:
    folder = new_case(project / "cases", "my_new_case")
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "app.py", "case.toml", "test_my_new_case.py"]
    assert check_cases(project) == []
    with pytest.raises(ValueError, match="exists already"):
        new_case(project / "cases", "my_new_case")
    with pytest.raises(ValueError, match="lowercase letters"):
        new_case(project / "cases", "My-Case")
