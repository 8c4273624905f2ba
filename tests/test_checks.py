"""`check`: every case valid in seconds; each planted problem named by file and key."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from known_issues import guide as guide_mod
from known_issues import settings as settings_mod
from known_issues.checks import check_cases
from known_issues.guide import Guide
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
    test.write_text(
        re.sub(r"@pytest.mark.workaround\(.*\)\n(def test_only_response_background_runs)", r"\1", test.read_text())
    )
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


def test_an_expectation_a_role_cannot_give_is_refused(project: Path) -> None:
    toml = project / "cases" / "background_tasks_overwritten" / "case.toml"
    # test_only_response_background_runs is a workaround: holds or broken, never "works".
    text = toml.read_text()
    at = text.index('test = "test_only_response_background_runs"')
    toml.write_text(text[:at] + text[at:].replace('verdict = "holds"', 'verdict = "works"', 1))
    problems = check_cases(project)
    assert any(
        p.startswith(f"{toml}: claim.expect[")
        and p.endswith(
            ".verdict: test_only_response_background_runs is a workaround test, which reads broken or "
            "holds, never works"
        )
        for p in problems
    ), problems


def test_a_skip_other_than_requires_is_refused(project: Path) -> None:
    test = project / "cases" / "background_tasks_overwritten" / "test_background_tasks_overwritten.py"
    test.write_text(test.read_text() + "\n\npytestmark = pytest.mark.skipif(True, reason='too old')\n")
    (problem,) = check_cases(project)
    assert (
        problem.startswith(f"{test}:") and "pytest.mark.skipif: a case test skips only with casekit.requires" in problem
    )


def test_an_undeclared_import_is_named(project: Path) -> None:
    app = project / "cases" / "background_tasks_overwritten" / "app.py"
    app.write_text("import sqlalchemy\n" + app.read_text())
    (problem,) = check_cases(project)
    assert problem.startswith(f"{app}:1: imports 'sqlalchemy'") and "add it to dependencies in" in problem


@pytest.mark.parametrize(
    ("title", "found"),
    [
        ("Json[list[str]] as a Form() field refuses a valid JSON list (fixed in 0.128.2)", "fixed in 0.128.2"),
        ("Optional[Literal] form field: None gets a literal_error in 0.114.0-0.123.1", "0.114.0-0.123.1"),
        ("a failed commit is answered 201 on FastAPI <0.106 and >=0.118", "<0.106"),
        ("`str | None` annotations on every Python it claims: they crash on 3.9", "crash on 3.9"),
        ("Tasks are dropped (seen at FastAPI 0.123.10)", "seen at FastAPI 0.123.10"),
    ],
)
def test_an_observed_range_in_a_title_is_refused(project: Path, title: str, found: str) -> None:
    toml = _retitled(project, title)
    assert check_cases(project) == [
        f"{toml}: title: states an observed version range ({found!r}); the report computes them from the "
        "results (the case's history): describe the behaviour, or quote the source's words"
    ]


@pytest.mark.parametrize(
    "title",
    [
        "Requires-Python vs 'Python 3.9+, 3.8 dropped in 0.125.0'",  # the guide's claim, quoted
        'What the guide calls "broken in 0.114.0+"',
        "datetime.utcnow(): deprecated by Python 3.12, and SQLite drops tzinfo",  # a source's fact, no range
        "The guide's `str | None` (Python 3.10+) on Pydantic v2",
    ],
)
def test_a_title_without_an_observed_range_passes(project: Path, title: str) -> None:
    _retitled(project, title)
    assert check_cases(project) == []


def _retitled(project: Path, title: str) -> Path:
    """background_tasks_overwritten's case.toml in the copied project, with another title."""
    toml = project / "cases" / "background_tasks_overwritten" / "case.toml"
    text = toml.read_text()
    old = re.search(r'^title = ".*"$', text, re.M)
    assert old is not None
    toml.write_text(text.replace(old.group(0), f"title = {title!r}", 1))
    return toml


def test_a_new_case_passes_the_checks_as_made(project: Path) -> None:
    folder = new_case(project / "cases", "my_new_case")
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "app.py", "case.toml", "test_my_new_case.py"]
    assert check_cases(project) == []
    with pytest.raises(ValueError, match="exists already"):
        new_case(project / "cases", "my_new_case")
    with pytest.raises(ValueError, match="lowercase letters"):
        new_case(project / "cases", "My-Case")


# A stand-in for the guide (the real one is another author's document, not in this repository).
GUIDE = """# A guide

## Settings

Values come from `.env`, and the   secret
has a default.

```python
# src/config.py
class Settings:
    SECRET_KEY: str = "change-me"
    DEBUG: bool = False
```
"""


@pytest.fixture
def guided(project: Path) -> tuple[Path, Guide, Path]:
    """A new case in the copied project that quotes the stand-in guide and prints its block."""
    folder = new_case(project / "cases", "printed_case")
    (project / "guide.md").write_text(GUIDE)
    store = project / "cases" / "guide_code" / "printed"
    store.mkdir(parents=True)
    (store / "config.py").write_text(
        '# src/config.py\nclass Settings:\n    SECRET_KEY: str = "change-me"\n    DEBUG: bool = False\n'
    )
    toml = folder / "case.toml"
    toml.write_text(
        toml.read_text().replace(
            "TODO: the guide's own words this expectation judges, verbatim", "Values come from `.env`, and the secret"
        )
        + f'\n[[printed]]\nfile = "{PRINTED}"\nsection = "Settings"\n'
    )
    return folder, guide_mod.load(project / "guide.md"), toml


PRINTED = "../guide_code/printed/config.py"  # where the planted case's printed block is stored


def _own(problems: list[str], folder: Path) -> list[str]:
    return [p for p in problems if str(folder) in p]


def test_a_quote_must_be_there_and_in_the_guide(project: Path, guided: tuple[Path, Guide, Path]) -> None:
    folder, guide, toml = guided
    assert _own(check_cases(project, guide), folder) == []  # whitespace and line breaks do not count

    toml.write_text(toml.read_text().replace("and the secret", "and the key"))
    assert _own(check_cases(project, guide), folder) == [
        f"{toml}: claim.expect[0].quote: not in the guide ({project / 'guide.md'}): "
        "'Values come from `.env`, and the key'"
    ]
    assert _own(check_cases(project), folder) == []  # without the guide: the form only

    toml.write_text(toml.read_text().replace('quote = "Values come from `.env`, and the key"\n', ""))
    (problem,) = _own(check_cases(project), folder)
    assert problem.startswith(f"{toml}: claim.expect[0].quote: missing: quote the guide's own words")


def test_a_printed_file_differs_only_where_declared(project: Path, guided: tuple[Path, Guide, Path]) -> None:
    folder, guide, toml = guided
    config = folder / PRINTED
    config.write_text(config.read_text().replace('"change-me"', '"from-the-case"'))
    (problem,) = _own(check_cases(project, guide), folder)
    assert problem == (
        f"{toml}: printed[0] ({PRINTED}:3): an undeclared difference from the guide's block under 'Settings': "
        "the guide has '    SECRET_KEY: str = \"change-me\"', the file has '    SECRET_KEY: str = \"from-the-case\"'; "
        "print it as the guide does, or declare it in [[deviations]] (file, guide, ours, why)"
    )
    assert _own(check_cases(project), folder) == []  # nothing to compare with

    declared = (
        f'\n[[deviations]]\nfile = "{PRINTED}"\nguide = \'SECRET_KEY: str = "change-me"\'\n'
        'ours = \'SECRET_KEY: str = "from-the-case"\'\nwhy = "a key of our own"\n'
    )
    toml.write_text(toml.read_text() + declared)
    assert _own(check_cases(project, guide), folder) == []

    config.write_text(config.read_text().replace('"from-the-case"', '"change-me"'))
    (stale,) = _own(check_cases(project, guide), folder)
    assert stale.startswith(f"{toml}: deviations[0]: {PRINTED} has no such difference from the guide")


def test_a_printed_file_is_stored_in_the_one_printed_folder(project: Path, guided: tuple[Path, Guide, Path]) -> None:
    folder, guide, toml = guided
    (folder / "config.py").write_text((folder / PRINTED).read_text())
    toml.write_text(toml.read_text().replace(f'file = "{PRINTED}"', 'file = "config.py"'))
    (problem,) = _own(check_cases(project, guide), folder)
    assert problem == (
        f"{toml}: printed[0].file: 'config.py' is not in cases/guide_code/printed/: every printed block is stored "
        "there once (name it as ../guide_code/printed/...), and that folder alone is left out of ruff"
    )


def test_an_expectations_workarounds_are_workaround_tests_of_the_case(project: Path) -> None:
    toml = project / "cases" / "background_tasks_overwritten" / "case.toml"
    text = toml.read_text()
    listed = 'workarounds = ["test_only_injected_background_tasks_run_all", "test_only_response_background_runs"]'
    assert listed in text
    planted = (
        'workarounds = ["test_only_injected_background_tasks_run_all", "test_gone", '
        '"test_injected_tasks_are_dropped_by_response_background", "test_only_injected_background_tasks_run_all"]'
    )
    toml.write_text(text.replace(listed, planted))
    key = f"{toml}: claim.expect[0].workarounds"
    assert check_cases(project) == [
        f"{key}[1]: no test named 'test_gone' in {toml.parent}/test_*.py",
        f"{key}[2]: test_injected_tasks_are_dropped_by_response_background is a bug test, not a workaround",
        f"{key}[3]: 'test_only_injected_background_tasks_run_all' is named twice",
    ]


def test_an_as_printed_case_names_its_printed_files(project: Path, guided: tuple[Path, Guide, Path]) -> None:
    folder, guide, toml = guided
    toml.write_text(toml.read_text().replace('section = "Settings"', 'section = "Setings"'))
    (problem,) = _own(check_cases(project, guide), folder)
    assert problem == (
        f"{toml}: printed[0].section: the guide has 0 code block(s) under the heading 'Setings', not a block number 1"
    )
    text = toml.read_text()
    toml.write_text(text[: text.index("[[printed]]")].replace("TODO: what happens", "The guide's code as printed"))
    (problem,) = _own(check_cases(project, guide), folder)
    assert problem.startswith(f"{toml}: printed: the case says it runs the guide's code as printed but names no")


def test_the_cases_quotes_and_printed_files_match_the_guide_when_it_is_at_hand() -> None:
    raw = os.environ.get(settings_mod.GUIDE_ENV, "")
    path = Path(raw) if raw else None
    if path is None or not path.exists():
        pytest.skip(f"the guide's text is not at hand (set {settings_mod.GUIDE_ENV}; .ci/run does)")
    assert check_cases(ROOT, guide_mod.load(path)) == []
