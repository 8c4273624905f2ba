"""report/errata.md, as the guide's author would merge it: one entry per cause, the line that is wrong
(the example's line for a rule its example breaks), "wrong at the guide's versions" apart from "true
then, changed since R", and an error never makes an erratum."""

from __future__ import annotations

import re
from pathlib import Path

from fixtures import FASTAPI_RELEASES, HOSTILE, PlantedReleases, cell, t
from subscriptions_fixture import GUIDE_GROUP, guide_cell, literal_tests, planted_run, write_planted_cases

from known_issues import guide
from known_issues.catalog import load_cases
from known_issues.matrix import Cell
from known_issues.reporting import errata
from known_issues.reporting.build import build
from known_issues.reporting.model import Model
from known_issues.results import CellResult, RunResult


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {p.split("\n", 1)[0]: p for p in parts}


def _entries(section: str) -> list[str]:
    return re.split(r"^### \d+\. ", section, flags=re.MULTILINE)[1:]


def _built(tmp_path: Path) -> str:
    out = tmp_path / "report"
    build(
        planted_run(), load_cases(write_planted_cases(tmp_path)), out, guide_groups=(GUIDE_GROUP,),
        releases=FASTAPI_RELEASES,
    )  # fmt: skip
    return (out / "errata.md").read_text()


def test_wrong_at_the_guides_versions_apart_from_true_then_and_changed_since(tmp_path: Path) -> None:
    text = _built(tmp_path)
    sections = _sections(text)
    wrong = sections["Wrong at the guide's versions (2)"]
    changed = sections["True at the guide's versions, changed since a later release (1)"]
    # The bug reproduces at the guide's 0.114.0, as it says; FastAPI 0.116.0 fixed it: true then, changed since.
    (bug,) = _entries(changed)
    assert bug.startswith("\u201cStarting in FastAPI 0.114.0") and "\n*Known Issues, Issue #3*\n" in bug
    assert "**observed**: **fixed** on the newest release (0.116.0)" in bug
    assert (
        "Since fastapi 0.116.0 (last reproduces: 0.115.0), along fastapi releases (pydantic any, python 3.11): "
        "state the claim for `fastapi>=0.114.0,<0.116.0`." in bug
    )
    # The guide's fix is broken at its own version (and holds later): wrong at the guide's versions.
    omit, late = _entries(wrong)
    assert omit.startswith("\u201cOmit instead of None\u201d\n") and "**broken** on document (0.114.0)" in omit
    assert "running `Omit instead of None` gave `TypeError: boom (raised in app.py:3)`" in omit
    assert "As claimed along fastapi releases (pydantic any, python 3.11): 0.113.0\u20130.116.0: not on the" in omit
    assert (
        "**observed**: **broken** on every release (fastapi 0.113.0\u20130.116.0), "
        "the guide's versions included: document\n"
    ) in late
    # What the case declares answers the claim, where it holds: the other workaround; nothing undeclared.
    assert "Use instead: ours: str \\| None = None" in omit and "(`test_other_way`, holds there)" in omit
    assert "Use instead" not in late and "Use instead" not in bug
    # Nothing unescaped, nothing from this machine; relative links said once.
    outside_code = re.sub(r"(`+).+?\1", "", text)  # a code span shows its text verbatim, never as markup
    assert HOSTILE not in outside_code and "<script>" not in outside_code
    assert str(tmp_path) not in text
    assert text.count("relative to this file's folder") == 1


PASSLIB = "[setup] ValueError: password cannot be longer than 72 bytes (raised in service.py:10)"
DIRECT = PASSLIB.removeprefix("[setup] ")


def _auth_cell(group: str, versions: dict[str, str], broken: bool) -> CellResult:
    """A cell of the guide's auth case: with bcrypt 5 the module fixture (registering a user) raises."""
    outcome, message = ("error", PASSLIB) if broken else ("passed", "")
    tests = [
        # The happy path registers in its own call: the exception is raised there, yet bcrypt 5 brings it.
        t("auth", "test_register_login", "pattern", "crashed" if broken else "passed", DIRECT if broken else ""),
        t("auth", "test_duplicate_is_400", "pattern", "crashed" if broken else "passed", PASSLIB if broken else ""),
        t("auth", "test_status_rule", "pattern", "failed", "AssertionError: POST /auth/register answers 200"),
        t("auth", "test_error_claim", "pattern", "error", "RuntimeError: port clash"),
    ]
    del outcome, message
    made = cell(versions["fastapi"], "2.11.7", group=group, tests=tests, extra={"bcrypt": versions["bcrypt"]})
    requested = (("fastapi", versions["fastapi"]), ("pydantic", "2.11.7"))
    if group == "bcrypt":
        requested = (*requested, ("bcrypt", versions["bcrypt"]))
    made.cell = Cell(group, "3.11", requested)
    return made


def _auth_run() -> RunResult:
    return RunResult(
        generated="2026-12-07T00:00:00Z",
        matrix="matrix.toml",
        cells=[
            _auth_cell("fastapi-minors", {"fastapi": "0.165.0", "bcrypt": "5.0.0"}, broken=True),
            _auth_cell(GUIDE_GROUP, {"fastapi": "0.128.0", "bcrypt": "5.0.0"}, broken=True),
            _auth_cell("bcrypt", {"fastapi": "0.165.0", "bcrypt": "4.3.0"}, broken=False),
            _auth_cell("bcrypt", {"fastapi": "0.165.0", "bcrypt": "5.0.0"}, broken=True),
        ],
    )


def _auth_case(folder: Path) -> Path:
    (folder / "cases" / "auth").mkdir(parents=True)
    (folder / "cases" / "auth" / "case.toml").write_text(
        """id = "auth"
title = "The guide's JWT auth"
kind = "pattern"
[claim]
section = "JWT Authentication"
[[claim.expect]]
test = "test_register_login"
verdict = "works"
quote = "return {'access_token': token}"
[[claim.expect]]
test = "test_duplicate_is_400"
verdict = "works"
quote = 'detail="Email already registered"'
[[claim.expect]]
test = "test_status_rule"
verdict = "works"
quote = "201 for create, 204 for delete"
example = '@router.post("/register", response_model=UserResponse)'
[[claim.expect]]
test = "test_error_claim"
verdict = "works"
quote = "a claim the suite could not observe"
"""
    )
    return folder / "cases"


def _auth_errata(tmp_path: Path) -> str:
    out = tmp_path / "report"
    releases = PlantedReleases({"bcrypt": ["4.3.0", "5.0.0"], "fastapi": ["0.128.0", "0.165.0"]})
    build(_auth_run(), load_cases(_auth_case(tmp_path)), out, guide_groups=(GUIDE_GROUP,), releases=releases)
    return (out / "errata.md").read_text()


def test_a_shared_setup_failure_is_one_entry_that_names_its_cause_and_the_release_that_brings_it(
    tmp_path: Path,
) -> None:
    text = _auth_errata(tmp_path)
    entries = _entries(_sections(text)["Wrong at the guide's versions (2)"])
    (cause,) = [e for e in entries if e.startswith("One cause")]
    assert cause.startswith("One cause, 2 claims: `ValueError: password cannot be longer than 72 bytes")
    assert "brought by **bcrypt 5.0.0** (last works: 4.3.0)" in cause
    assert "\u201creturn {'access\\_token': token}\u201d" in cause and "Email already registered" in cause
    # Neither claim has an entry of its own that would blame the line it quotes.
    assert sum("Email already registered" in e for e in entries) == 1
    # No two entries give the same evidence.
    evidence = [line for e in entries for line in e.splitlines() if "**Evidence**" in line or "**Cause**" in line]
    assert len(evidence) == len(set(evidence)) == 2


def test_a_rule_broken_by_the_guides_example_quotes_the_example(tmp_path: Path) -> None:
    text = _auth_errata(tmp_path)
    (rule,) = [e for e in _entries(text) if "201 for create" in e]
    assert rule.startswith("\u201c201 for create, 204 for delete\u201d\n")
    assert "The rule is right; the guide's own example does not follow it:" in rule
    assert '> @router.post("/register", response\\_model=UserResponse)' in rule
    assert 'running `@router.post("/register", response_model=UserResponse)` gave `AssertionError' in rule


def test_an_error_makes_no_entry_and_is_listed_as_could_not_check(tmp_path: Path) -> None:
    text = _auth_errata(tmp_path)
    sections = _sections(text)
    entries = [e for name, body in sections.items() if name != "Could not check" for e in _entries(body)]
    assert entries and "a claim the suite could not observe" not in "".join(entries)
    unchecked = _sections(text)["Could not check"]
    assert (
        "\u201ca claim the suite could not observe\u201d (`auth::test_error_claim`): harness in 2 cell(s)" in unchecked
    )


def test_with_the_guide_entries_follow_where_each_quote_is_in_it(tmp_path: Path) -> None:
    cases = load_cases(write_planted_cases(tmp_path))
    text = f"""# A guide
## Issue #10
Some text: the late claim.
## Issue #3
Omit instead of
None (a line break does not matter).
Starting in FastAPI 0.114.0 `__future__` {HOSTILE}
"""
    (tmp_path / "guide.md").write_text(text)
    model = Model.of(planted_run(), cases, between=FASTAPI_RELEASES.between)
    found = errata.collect(model, (GUIDE_GROUP,), guide.load(tmp_path / "guide.md"))
    assert found.in_guide_order
    # Wrong at the guide's versions first (in the guide's order), then what changed since.
    assert [e.claims[0].test for e in found.entries] == ["test_late", "test_omit_field", "test_bug"]
    rendered = errata.render(found, model, "https://example.org/report/")
    assert "The guide's text was not at hand" not in rendered and "relative" not in rendered
    assert "(https://example.org/report/index.html#row-literal_form--test_omit_field)" in rendered
    assert text not in rendered  # the guide is never embedded


def test_no_contradiction_no_entry(tmp_path: Path) -> None:
    run = planted_run()
    cases = load_cases(write_planted_cases(tmp_path))
    for c in run.cells:
        c.tests = [x for x in c.tests if x.case == "literal_form" and x.test == "test_other_way"]
    model = Model.of(run, cases)
    found = errata.collect(model, (GUIDE_GROUP,))
    assert found.entries == []
    assert errata.render(found, model).count("None.") == 2


UNION = "TypeError: unsupported operand type(s) for |: 'type' and 'NoneType'"


def _pyver_run() -> RunResult:
    """The guide's `X | None` code on Python 3.9: its own modules raise TypeError when a test builds
    them; the app a server starts and the project's CMD fail of the same exception in another process."""

    def tests(py39: bool) -> list:
        if not py39:
            return [
                t("pyver", name, "pattern", "passed")
                for name in ("test_schemas", "test_routes", "test_app", "test_cmd")
            ]
        return [
            t("pyver", "test_schemas", "pattern", "crashed", f"{UNION} (raised in schemas.py:20)"),
            t("pyver", "test_routes", "pattern", "crashed", f"{UNION} (raised in app.py:17)"),
            t(
                "pyver",
                "test_app",
                "pattern",
                "crashed",
                f"known_issues.cell.classify.CodeRaised: the app did not start: {UNION}",
            ),
            t(
                "pyver",
                "test_cmd",
                "pattern",
                "crashed",
                f"[setup] known_issues.cell.classify.CodeRaised: the CMD exited before answering: {UNION}",
            ),
        ]

    return RunResult(
        generated="2026-12-07T00:00:00Z",
        matrix="matrix.toml",
        cells=[
            cell("0.165.0", "2.11.7", tests=tests(False)),
            cell("0.128.0", "2.11.7", group=GUIDE_GROUP, tests=tests(False)),
            cell("0.128.0", "2.11.7", group=GUIDE_GROUP, tests=tests(True), python="3.9"),
        ],
    )


def _pyver_case(folder: Path) -> Path:
    (folder / "cases" / "pyver").mkdir(parents=True)
    expect = [
        ("test_schemas", "Python 3.9+"),
        ("test_routes", "Python 3.9+"),
        ("test_app", "# Include routers"),
        ("test_cmd", 'CMD ["uv", "run", "uvicorn", "src.main:app"]'),
    ]
    body = "".join(
        f'[[claim.expect]]\ntest = "{test}"\nverdict = "works"\nquote = \'{quote}\'\n' for test, quote in expect
    )
    (folder / "cases" / "pyver" / "case.toml").write_text(
        'id = "pyver"\ntitle = "The guide\'s code on its Pythons"\nkind = "pattern"\n'
        f'[claim]\nsection = "Requirements"\n{body}'
    )
    return folder / "cases"


GUIDE_TEXT = """# A guide
**Requirements**:
- Python 3.9+
## Main App
```python
# Include routers
```
## Deployment
### Docker
```dockerfile
CMD ["uv", "run", "uvicorn", "src.main:app"]
```
"""


def test_the_line_whose_own_code_raises_the_shared_exception_is_the_entry_and_takes_the_others_down(
    tmp_path: Path,
) -> None:
    cases = load_cases(_pyver_case(tmp_path))
    (tmp_path / "guide.md").write_text(GUIDE_TEXT)
    model = Model.of(_pyver_run(), cases)
    found = errata.collect(model, (GUIDE_GROUP,), guide.load(tmp_path / "guide.md"))
    # One entry, against "Python 3.9+": the server's and the CMD's exception is the same TypeError,
    # reported from another process, so their lines are not what is wrong.
    (entry,) = found.entries
    assert {c.test for c in entry.claims} == {"test_schemas", "test_routes"}
    assert {c.test for c in entry.takes_down} == {"test_app", "test_cmd"}
    text = errata.render(found, model)
    (only,) = _entries(text)
    assert only.startswith("\u201cPython 3.9+\u201d\n\n*Requirements*\n")
    assert "**broken** on document (0.128.0 on Python 3.9)" in only
    # One exception raised in two places is one line of evidence.
    (evidence,) = [line for line in only.splitlines() if "**Evidence**" in line]
    assert f"running `Python 3.9+` gave `{UNION} (raised in schemas.py:20, app.py:17)`" in evidence
    down = only.split("- **Takes down**", 1)[1]
    assert "\u201c\\# Include routers\u201d" in down and "CMD \\[" in down
    assert "One cause" not in text


def test_a_shared_exception_without_a_line_of_its_own_is_one_cause_named_without_the_suites_wrapper(
    tmp_path: Path,
) -> None:
    run = _pyver_run()
    for c in run.cells:
        c.tests = [x for x in c.tests if x.test in ("test_app", "test_cmd")]
    model = Model.of(run, load_cases(_pyver_case(tmp_path)))
    found = errata.collect(model, (GUIDE_GROUP,))
    (entry,) = found.entries
    assert entry.cause == UNION and {c.test for c in entry.claims} == {"test_app", "test_cmd"}
    rendered = errata.render(found, model)
    assert "CodeRaised" not in rendered
    # Alone, each of them says what the other process reported, without the suite's wrapper.
    run.cells = [c for c in run.cells if c.cell.python == "3.9"]
    for c in run.cells:
        c.tests = [x for x in c.tests if x.test == "test_cmd"]
    alone = Model.of(run, load_cases(tmp_path / "cases"))
    text = errata.render(errata.collect(alone, (GUIDE_GROUP,)), alone)
    assert f"gave `[setup] the CMD exited before answering: {UNION}`" in text and "CodeRaised" not in text


def test_an_entry_says_where_its_line_is_in_the_guide(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text(GUIDE_TEXT)
    found = guide.load(tmp_path / "guide.md")
    assert found.heading_of("Python 3.9+") == "Requirements"
    assert found.heading_of("# Include routers") == "Main App"  # a comment in a code block is no heading
    assert found.heading_of('CMD ["uv", "run",') == "Deployment \u203a Docker"
    assert found.heading_of("not in the guide") == ""


MISSING = 'AssertionError: {"detail":[{"type":"missing","loc":["body","attribute"]}]}'


def test_lines_whose_tests_saw_the_same_thing_are_one_entry(tmp_path: Path) -> None:
    (tmp_path / "cases" / "form").mkdir(parents=True)
    (tmp_path / "cases" / "form" / "case.toml").write_text(
        'id = "form"\ntitle = "An optional form field"\nkind = "pattern"\n[claim]\nsection = "Issue #3"\n'
        '[[claim.expect]]\ntest = "test_none_sent"\nverdict = "works"\nquote = "Worked in 0.113.0"\n'
        '[[claim.expect]]\ntest = "test_omitted"\nverdict = "works"\nquote = "Omit instead of None"\n'
        '[[claim.expect]]\ntest = "test_other"\nverdict = "works"\nquote = "Another line"\n'
    )
    tests = [
        t("form", "test_none_sent", "pattern", "failed", MISSING),
        t("form", "test_omitted", "pattern", "failed", MISSING),
        t("form", "test_other", "pattern", "failed", "AssertionError: 500 != 200"),
    ]
    run = RunResult(
        generated="2026-12-07T00:00:00Z",
        matrix="matrix.toml",
        cells=[cell("0.128.0", "2.11.7", group=GUIDE_GROUP, tests=tests)],
    )
    model = Model.of(run, load_cases(tmp_path / "cases"))
    found = errata.collect(model, (GUIDE_GROUP,))
    assert [[c.test for c in e.claims] for e in found.entries] == [["test_none_sent"], ["test_other"]]
    text = errata.render(found, model)
    first = _entries(text)[0]
    assert (
        "- **The same observation also contradicts**:\n"
        "  - [form](index.html#case-form): \u201cOmit instead of None\u201d"
    ) in first
    assert text.count(MISSING) == 1


def test_a_line_whose_tests_change_at_different_releases_names_each_release(tmp_path: Path) -> None:
    # Two symptoms of one documented bug, under the same line: the first is gone in 0.116.0, the
    # second only in 0.117.0. Until 0.117.0 the line still describes what a user meets.
    cases = write_planted_cases(tmp_path)
    toml = cases / "literal_form" / "case.toml"
    toml.write_text(
        toml.read_text()
        + f"""[[claim.expect]]
test = "test_bug_second"
verdict = "reproduces"
quote = 'Starting in FastAPI 0.114.0 `__future__` {HOSTILE}'
where = ["fastapi>=0.114.0"]
"""
    )

    def tests(first: str, second: str) -> list:  # type: ignore[type-arg]
        return [*literal_tests(first, "passed"), t("literal_form", "test_bug_second", "bug", second, "")]

    run = RunResult(
        generated="2026-11-25T00:00:00Z",
        matrix="matrix.toml",
        cells=[
            cell("0.114.0", "2.11.7", tests=tests("passed", "passed")),
            cell("0.115.0", "2.11.7", tests=tests("passed", "passed")),
            cell("0.116.0", "2.11.7", tests=tests("failed", "passed")),
            cell("0.117.0", "2.11.7", tests=tests("failed", "failed")),
            guide_cell(tests("passed", "passed")),
        ],
    )
    out = tmp_path / "report"
    build(run, load_cases(cases), out, guide_groups=(GUIDE_GROUP,), releases=FASTAPI_RELEASES)
    changed = _sections((out / "errata.md").read_text())[
        "True at the guide's versions, changed since a later release (1)"
    ]
    (bug,) = _entries(changed)
    assert "Since fastapi 0.116.0 (last reproduces: 0.115.0)" in bug
    assert (
        "`test_bug_second` still reproduces until fastapi 0.117.0 (last reproduces: 0.116.0): "
        "for what it shows, state the claim for `fastapi>=0.114.0,<0.117.0`." in bug
    )
