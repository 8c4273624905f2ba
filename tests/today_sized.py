"""A synthetic run the size of today's matrix, for the page's size and layout: 137 cells in the groups of
matrix.toml (FastAPI's minors first, so the newest cell is the 66th column), about 330 tests over the
project's own cases (their titles, claims and code, as the page shows them), verdicts that change along
the versions, failure messages of a few hundred characters (a few distinct ones per test), when each was
observed (to the second, some reused), a few errors, flips re-run and cells that did not install.

The verdicts are made up; only their shape is today's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from known_issues.catalog import load_cases
from known_issues.cell.observations import TestResult
from known_issues.cell.verdicts import Outcome, Reason, Role, Verdict
from known_issues.matrix import Cell
from known_issues.outcomes import CellStatus
from known_issues.results import AppliedRule, CellResult, RunResult

CASES = Path(__file__).resolve().parent.parent / "cases"
TESTS = 330
SERVERS = ["deployment_commands", "guide_app_assembled", "guide_minimal_example"]
PROJECT = ["guide_project_setup", "guide_dockerfile"]
WORDS = [
    "form",
    "field",
    "model",
    "optional",
    "literal",
    "default",
    "required",
    "body",
    "query",
    "path",
    "union",
    "json",
    "schema",
    "response",
    "status",
    "dependency",
    "yield",
    "commit",
    "header",
    "cookie",
    "client",
    "async",
    "validator",
    "error",
    "message",
    "detail",
    "openapi",
    "route",
]


def _versions(prefix: str, first: int, count: int, rnd: random.Random) -> list[str]:
    return [f"{prefix}{first + n}.{rnd.randint(0, 9)}" for n in range(count)]


def _groups(slugs: Sequence[str], rnd: random.Random) -> list[tuple[str, str, list[str], list[str]]]:
    """(group, the axis it varies, its versions of that axis, the cases it runs)."""
    only_named = [s for s in [*SERVERS, *PROJECT] if s in slugs] or list(slugs[-4:])
    every = [s for s in slugs if s not in only_named]
    some = every[::7]
    fastapi = [*_versions("0.", 100, 65, rnd), "0.165.0"]
    return [
        ("fastapi-minors", "fastapi", fastapi, every),
        ("starlette", "starlette", [*_versions("0.", 30, 16, rnd), *_versions("1.", 0, 8, rnd)], some),
        ("pydantic-minors", "pydantic", _versions("2.", 0, 15, rnd), every),
        ("guide-project", "fastapi", fastapi[-7:], [s for s in PROJECT if s in slugs] or only_named[-1:]),
        ("servers", "fastapi", fastapi[::10], [s for s in SERVERS if s in slugs] or only_named[:3]),
        ("pydantic-v1", "fastapi", fastapi[:5], every[1::7]),
        ("document", "fastapi", ["0.113.0", "0.114.0", "0.125.0", "0.128.0"], list(slugs)),
        ("pythons", "python", ["3.9", "3.10", "3.12", "3.13"], every[2::5]),
        ("bcrypt", "bcrypt", ["4.0.1", "4.2.1", "4.3.0", "5.0.0"], every[3::12]),
        ("document-stack", "fastapi", ["0.128.0"], list(slugs)),
    ]


def _tests(slugs: Sequence[str], rnd: random.Random) -> list[tuple[str, str, Role]]:
    out = []
    for n in range(TESTS):
        case = slugs[n % len(slugs)]
        role = [Role.BUG, Role.WORKAROUND, Role.PATTERN][rnd.randrange(3)]
        name = "test_" + "_".join(rnd.sample(WORDS, rnd.randint(3, 7))) + f"_{n}"
        out.append((case, name, role))
    return out


def _message(case: str, test: str, verdict: Verdict, bucket: int) -> str:
    """What a failing test says: one of a few per test (which one depends on where along the versions)."""
    code = [422, 500, 200][bucket]
    if verdict == Verdict.BROKEN and bucket == 2:
        return (
            f"TypeError: {test}() got an unexpected keyword argument 'model_fields_set' "
            f'(raised in app.py:{12 + bucket})\n  File "cases/{case}/app.py", line {12 + bucket}, in create_item\n'
            "    return Item.model_validate(payload, context={'strict': True})\n"
            '  File "pydantic/main.py", line 627, in model_validate\n'
            "    return cls.__pydantic_validator__.validate_python(obj, strict=strict, from_attributes=from_attributes)"
        )
    return (
        f"AssertionError: POST /{case}/items answered {code}, expected {[200, 422, 201][bucket]}\n"
        '  body: {"detail":[{"type":"missing","loc":["body","name"],"msg":"Field required","input":null,'
        f'"url":"https://errors.pydantic.dev/2.{bucket + 9}/v/missing"}}]}}\n'
        f"  assert {code} == {[200, 422, 201][bucket]}\n"
        f"   +  where {code} = <Response [{code}]>.status_code (cases/{case}/test_{case}.py:{40 + bucket * 7})"
    )


def _outcome(role: Role, flip: float, back: float, at: float) -> Outcome:
    """Along FastAPI's minors (``at`` from 0 to 1): the behaviour of ``role`` changes at ``flip`` (never,
    for some), and for some it changes back at ``back``."""
    changed = flip <= at < back
    if role == Role.BUG:
        return Outcome.FAILED if changed else Outcome.PASSED
    return Outcome.CRASHED if changed else Outcome.PASSED


def today_sized_run(seed: int = 31) -> RunResult:
    rnd = random.Random(seed)
    slugs = sorted(load_cases(CASES))
    tests = _tests(slugs, rnd)
    shape = {key: (rnd.random() * 1.6, rnd.choice([2.0, 2.0, 2.0, 0.8])) for key in [(c, t) for c, t, _ in tests]}
    cells: list[CellResult] = []
    for group, axis, versions, runs in _groups(slugs, rnd):
        for n, version in enumerate(versions):
            python = version if axis == "python" else "3.11"
            if axis == "python":
                requested = [("fastapi", "0.165.0"), ("pydantic", "any")]
            else:
                requested = [(axis, version), ("pydantic" if axis == "fastapi" else "fastapi", "any")]
            made = CellResult(
                cell=Cell(group, python, tuple(requested)),
                status=CellStatus.RAN,
                resolved={"fastapi": "0.165.0", "pydantic": "2.11.7", "starlette": "0.47.2", "bcrypt": "4.3.0"},
                python=f"{python}.7",
                timings={"total": 20.0},
                finished=f"2026-12-07T04:{len(cells) % 60:02d}:{n % 60:02d}Z",
            )
            made.resolved.update({k: v for k, v in requested if v != "any" and k != "python"})
            made.distributions = dict(made.resolved)
            # Most behaviour follows FastAPI: where along its minors (0 to 1) this cell's FastAPI is.
            at = min(1.0, (int(made.resolved["fastapi"].split(".")[1]) - 100) / 65)
            if group == "starlette" and n < 6:
                made.rules_applied = [AppliedRule({"starlette": "<0.37.2"}, ["httpx<0.28"], "old TestClient")]
            if group == "pydantic-v1" and n >= 2:
                made.status, made.python, made.distributions = CellStatus.NOT_INSTALLABLE, "", {}
                made.reason = (
                    f"No solution found when resolving dependencies:\n  Because fastapi=={version} depends on "
                    "pydantic>=1.7.4,!=1.8,!=1.8.1,!=2.0.0,!=2.0.1,!=2.1.0,<3.0.0 and you require pydantic<2, "
                    "we can conclude that your requirements are unsatisfiable."
                )
            else:
                made.tests = _cell_tests(tests, shape, runs, at, len(cells), rnd)
                made.cases_reused = sorted({t.case for t in made.tests if t.reused})
            cells.append(made)
    groups = {g: f"{g} cells" for g, *_ in _groups(slugs, rnd)}
    return RunResult(cells, generated="2026-12-07T04:34:43Z", matrix="matrix.toml", groups=groups)


def _cell_tests(
    tests: Sequence[tuple[str, str, Role]],
    shape: dict[tuple[str, str], tuple[float, float]],
    runs: Sequence[str],
    at: float,
    column: int,
    rnd: random.Random,
) -> list[TestResult]:
    out = []
    reused = {case: rnd.random() < 0.5 for case in runs}
    for second, (case, test, role) in enumerate(sorted(t for t in tests if t[0] in runs)):
        flip, back = shape[(case, test)]
        outcome = _outcome(role, flip, back, at)
        reason = None
        if rnd.random() < 0.004:
            outcome, reason = Outcome.ERROR, Reason.TIMEOUT
        elif at < 0.1 and role == Role.PATTERN and flip > 1.4:
            outcome = Outcome.SKIPPED
        result = TestResult(
            nodeid=f"cases/{case}/test_{case}.py::{test}",
            case=case,
            test=test,
            role=role,
            outcome=outcome,
            reason=reason,
            duration=0.05,
            observed=f"2026-12-07T04:{column % 60:02d}:{second // 60:02d}Z",  # a cell runs in a few seconds
            reused=reused[case],
        )
        result.settle()
        if result.verdict in (Verdict.FIXED, Verdict.BROKEN):
            result.message = _message(case, test, result.verdict, min(2, int(at * 3)))
        elif result.verdict == Verdict.ERROR:
            result.message = f"Timeout (60.0s) in the call of {test}: the server did not answer"
        elif result.verdict == Verdict.NA:
            result.message = f"feature absent: {case} needs a newer FastAPI"
        if rnd.random() < 0.001:
            result.observations = [result.verdict, Verdict.BROKEN, result.verdict]
            result.verdict = Verdict.FLAKY
        out.append(result)
    return out
