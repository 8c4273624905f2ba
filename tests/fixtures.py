"""Synthetic typed results covering every verdict and cell status, for report, diff and browser tests."""

from __future__ import annotations

from pathlib import Path

from known_issues.cell.observations import TestResult
from known_issues.cell.verdicts import Outcome, Reason, Role, Verdict
from known_issues.matrix import Cell
from known_issues.outcomes import CellStatus
from known_issues.results import AppliedRule, CellResult, RunResult

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


def cell(
    fastapi: str,
    pydantic: str,
    status: CellStatus = CellStatus.RAN,
    tests: list[TestResult] | None = None,
    group: str = "fastapi-minors",
    reason: str = "",
    rules: list[AppliedRule] | None = None,
    python: str = "3.11",
    extra: dict[str, str] | None = None,
) -> CellResult:
    versions = {"fastapi": fastapi, "pydantic": pydantic, "starlette": "0.40.0", **(extra or {})}
    ran = status == CellStatus.RAN
    return CellResult(
        cell=Cell(group, python, (("fastapi", fastapi), ("pydantic", "any"))),  # id: <group>-py<python>-fastapi<v>-...
        status=status,
        reason=reason,
        error_reason=Reason.ENVIRONMENT if status == CellStatus.ERROR else None,
        rules_applied=rules or [],
        resolved=dict(versions),
        distributions=dict(versions) if ran else {},
        python=f"{python}.7" if ran else "",
        timings={"total": 1.0},
        tests=tests or [],
        finished="2026-11-25T00:00:00Z",
    )


def t(
    case: str,
    test: str,
    role: str,
    outcome: str,
    message: str = "",
    reason: Reason | None = None,
    observations: list[Verdict] | None = None,
) -> TestResult:
    result = TestResult(
        nodeid=f"cases/{case}/test_{case}.py::{test}",
        case=case,
        test=test,
        role=Role(role),
        outcome=Outcome(outcome),
        reason=reason,
        message=message,
        duration=0.01,
        observed="2026-11-25T00:00:00Z",
    )
    result.settle()
    if observations:
        result.observations = list(observations)
        if len(set(observations)) > 1:
            result.verdict = Verdict.FLAKY
    return result


def run_with_every_verdict() -> RunResult:
    """Three ran cells along fastapi, plus one cell of each non-ran status."""

    def tests(fixed: bool, broken: bool, flaky: bool = False) -> list[TestResult]:
        return [
            t(
                "literal_form",
                "test_bug",
                "bug",
                "failed" if fixed else "passed",
                f"AssertionError: 200 != 422 {HOSTILE}" if fixed else "",
            ),
            t(
                "literal_form",
                "test_omit_field",
                "workaround",
                "crashed" if broken else "passed",
                "TypeError: boom (raised in app.py:3)" if broken else "",
            ),
            t("literal_form", "test_form_model", "pattern", "skipped", "feature absent: Form models"),
            t(
                "crud",
                "test_create",
                "pattern",
                "passed",
                observations=[Verdict.WORKS, Verdict.BROKEN, Verdict.WORKS] if flaky else None,
            ),
            t("crud", "test_flaky_import", "pattern", "error", f"RuntimeError: boom {HOSTILE}", Reason.TIMEOUT),
        ]

    return RunResult(
        generated="2026-11-25T00:00:00Z",
        matrix="matrix.toml",
        groups={"fastapi-minors": f"Every FastAPI minor {HOSTILE}"},
        cells=[
            cell("0.113.0", "2.11.7", tests=tests(fixed=True, broken=False)),
            cell(
                "0.114.0",
                "2.11.7",
                tests=tests(fixed=False, broken=False, flaky=True),
                rules=[AppliedRule({"starlette": "<0.37.2"}, ["httpx<0.28"], "old TestClient")],
            ),
            cell("0.115.0", "2.12.0", tests=tests(fixed=False, broken=True)),
            cell("9.9.9", "2.0", status=CellStatus.NOT_INSTALLABLE, reason=f"No solution found {HOSTILE}"),
            cell(
                "0.100.0",
                "2.12.0",
                status=CellStatus.INCOMPATIBLE,
                reason="TypeError: Client.__init__() got an unexpected keyword argument 'app'",
            ),
            cell("0.101.0", "2.12.0", status=CellStatus.ERROR, reason="environment: uv failed"),
        ],
    )


def write_cases(folder: Path) -> Path:
    cases = folder / "cases"
    (cases / "literal_form").mkdir(parents=True)
    (cases / "literal_form" / "case.toml").write_text(
        f"""id = "literal_form"
title = 'Optional Literal form field {HOSTILE}'
kind = "known-issue"
summary = 'Summary with {HOSTILE}'
[[sources]]
title = "fastapi#12245"
url = "https://github.com/fastapi/fastapi/issues/12245"
[claim]
section = "Issue #3"
text = "Reproduces from 0.114.0"
[[claim.expect]]
test = "test_bug"
verdict = "reproduces"
quote = 'Starting in FastAPI 0.114.0 {HOSTILE}'
where = ["fastapi>=0.114.0"]
[[claim.expect]]
test = "test_bug"
verdict = "fixed"
quote = "Worked in 0.113.0"
where = ["fastapi==0.113.0"]
[[claim.expect]]
test = "test_omit_field"
verdict = "holds"
quote = "Omit instead of None"
[[deviations]]
guide = '@app.post("/") {HOSTILE}'
ours = '@app.post("/form")'
why = 'one app holds both routes {HOSTILE}'
"""
    )
    (cases / "literal_form" / "app.py").write_text(f"# {HOSTILE}\nfrom fastapi import FastAPI\napp = FastAPI()\n")
    (cases / "crud").mkdir()
    (cases / "crud" / "case.toml").write_text(
        'id = "crud"\ntitle = "CRUD"\nkind = "pattern"\n[claim]\ntext = "works"\n'
    )
    return cases


class PlantedReleases:
    """What the report asks of the package index, planted: the releases of a package in order (so two
    adjacent releases have none between them), their dates, and no release pages."""

    def __init__(self, releases: dict[str, list[str]], dates: dict[tuple[str, str], str] | None = None) -> None:
        self.releases = releases
        self.dates = dates or {}

    def released(self, name: str, version: str) -> str | None:
        return self.dates.get((name, version))

    def project_page(self, name: str, version: str) -> str | None:
        return None

    def between(self, name: str, python: str, low: str, high: str) -> list[str]:
        from known_issues.errors import PackageIndexError

        known = self.releases.get(name)
        if known is None or low not in known or high not in known:
            raise PackageIndexError(f"{name}: not planted")
        return known[known.index(low) + 1 : known.index(high)]


FASTAPI_RELEASES = PlantedReleases({"fastapi": [f"0.{m}.0" for m in range(100, 120)]})
