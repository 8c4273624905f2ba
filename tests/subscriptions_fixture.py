"""A run along FastAPI releases, with one cell of the guide's own versions, in which the guide's claims
are planted to be contradicted: on the newest release, on the guide's versions only, and on an old
release only (which no erratum may name). Shared by the errata, status and feed tests."""

from __future__ import annotations

from pathlib import Path

from fixtures import HOSTILE, cell, t

from known_issues.cell.observations import TestResult
from known_issues.matrix import Cell
from known_issues.results import CellResult, RunResult

GUIDE_GROUP = "document"
NEWEST = "fastapi-minors-py3.11-fastapi0.116.0-pydanticany"
GUIDE_CELL = "document-py3.11-fastapi0.114.0-pydanticany"
FIXED_MESSAGE = f"AssertionError: 200 != 422 {HOSTILE}"


def noted(result: TestResult, note: str) -> TestResult:
    result.note = note
    return result


def literal_tests(bug: str, omit: str, old_pattern: str = "passed") -> list[TestResult]:
    return [
        t("literal_form", "test_bug", "bug", bug, FIXED_MESSAGE if bug == "failed" else ""),
        noted(
            t("literal_form", "test_omit_field", "workaround", omit, "TypeError: boom (raised in app.py:3)"),
            "the guide's fix: omit the field",
        ),
        noted(t("literal_form", "test_other_way", "workaround", "passed"), f"ours: str | None = None {HOSTILE}"),
        t("literal_form", "test_old_pattern", "pattern", old_pattern, "AssertionError: 500 != 200"),
        t("late_case", "test_late", "pattern", "failed", "AssertionError: 404 != 200"),
    ]


def guide_cell(tests: list[TestResult]) -> CellResult:
    made = cell("0.114.0", "2.11.7", group=GUIDE_GROUP, tests=tests)
    made.cell = Cell(GUIDE_GROUP, "3.11", (("fastapi", "0.114.0"), ("pydantic", "any")))
    return made


def planted_run() -> RunResult:
    """Along fastapi (pydantic held at 2.11.7, so each flip is one package's): the bug reproduces from
    0.114.0 and is gone in 0.116.0 (the newest); the guide's workaround holds there but not in the
    guide's own cell; a pattern is broken only in 0.113.0, a version the errata do not judge."""
    return RunResult(
        generated="2026-11-25T00:00:00Z",
        matrix="matrix.toml",
        cells=[
            cell("0.113.0", "2.11.7", tests=literal_tests("failed", "passed", old_pattern="failed")),
            cell("0.114.0", "2.11.7", tests=literal_tests("passed", "passed")),
            cell("0.115.0", "2.11.7", tests=literal_tests("passed", "passed")),
            cell("0.116.0", "2.11.7", tests=literal_tests("failed", "passed")),
            guide_cell(literal_tests("passed", "crashed")),
        ],
    )


def write_planted_cases(folder: Path) -> Path:
    cases = folder / "cases"
    (cases / "literal_form").mkdir(parents=True)
    (cases / "literal_form" / "case.toml").write_text(
        f"""id = "literal_form"
title = 'Optional Literal form field {HOSTILE}'
kind = "known-issue"
[[sources]]
title = "fastapi/fastapi#12245: Optional Literal"
url = "https://github.com/fastapi/fastapi/issues/12245"
[claim]
section = "Known Issues, Issue #3"
text = "Reproduces from 0.114.0"
[[claim.expect]]
test = "test_bug"
verdict = "reproduces"
quote = 'Starting in FastAPI 0.114.0 `__future__` {HOSTILE}'
where = ["fastapi>=0.114.0"]
[[claim.expect]]
test = "test_omit_field"
verdict = "holds"
quote = "Omit instead of None"
workarounds = ["test_other_way"]
[[claim.expect]]
test = "test_old_pattern"
verdict = "works"
quote = "Old pattern works"
"""
    )
    (cases / "late_case").mkdir()
    (cases / "late_case" / "case.toml").write_text(
        """id = "late_case"
title = "A case from a later section"
kind = "pattern"
[claim]
section = "Known Issues, Issue #10"
[[claim.expect]]
test = "test_late"
verdict = "works"
quote = "the late claim"
"""
    )
    return cases
