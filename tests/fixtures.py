"""Synthetic results covering every verdict and cell status, for report, diff and browser tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


def cell(
    cell_id: str,
    fastapi: str,
    pydantic: str,
    status: str = "ran",
    tests: list[dict[str, Any]] | None = None,
    group: str = "fastapi-minors",
    reason: str = "",
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "schema": 1,
        "cell": {
            "id": cell_id,
            "group": group,
            "python": "3.11",
            "requested": {"fastapi": fastapi, "pydantic": "any"},
            "cases": [],
        },
        "status": status,
        "reason": reason,
        "requirements": [],
        "rules_applied": rules or [],
        "resolved": {"fastapi": fastapi, "pydantic": pydantic, "starlette": "0.40.0"},
        "distributions": {"fastapi": fastapi, "pydantic": pydantic, "starlette": "0.40.0"} if status == "ran" else {},
        "python": "3.11.7" if status == "ran" else "",
        "env": {},
        "timings": {"total": 1.0},
        "tests": tests or [],
        "collect_errors": [],
    }


def t(case: str, test: str, role: str, outcome: str, verdict: str, message: str = "") -> dict[str, Any]:
    return {
        "nodeid": f"cases/{case}/test_{case}.py::{test}",
        "case": case,
        "test": test,
        "role": role,
        "note": "",
        "outcome": outcome,
        "verdict": verdict,
        "message": message,
        "duration": 0.01,
    }


def run_with_every_verdict() -> dict[str, Any]:
    """Three ran cells along fastapi, plus one cell of each non-ran status."""

    def tests(fixed: bool, broken: bool) -> list[dict[str, Any]]:
        return [
            t(
                "literal_form",
                "test_bug",
                "bug",
                "failed" if fixed else "passed",
                "fixed" if fixed else "reproduces",
                f"AssertionError: 200 != 422 {HOSTILE}" if fixed else "",
            ),
            t(
                "literal_form",
                "test_omit_field",
                "workaround",
                "failed" if broken else "passed",
                "broken" if broken else "holds",
                "AssertionError: broken" if broken else "",
            ),
            t("literal_form", "test_form_model", "pattern", "skipped", "n/a", "feature absent: Form models"),
            t("crud", "test_create", "pattern", "passed", "works"),
            t("crud", "test_flaky_import", "pattern", "error", "error", f"RuntimeError: boom {HOSTILE}"),
        ]

    return {
        "schema": 1,
        "generated": "2026-11-25T00:00:00Z",
        "matrix": "matrix.toml",
        "index": {},
        "cells": [
            cell("c-0.113.0", "0.113.0", "2.11.7", tests=tests(fixed=True, broken=False)),
            cell(
                "c-0.114.0",
                "0.114.0",
                "2.11.7",
                tests=tests(fixed=False, broken=False),
                rules=[{"when": {"starlette": "<0.37.2"}, "pins": ["httpx<0.28"], "why": "old TestClient"}],
            ),
            cell("c-0.115.0", "0.115.0", "2.12.0", tests=tests(fixed=False, broken=True)),
            cell("c-ni", "9.9.9", "2.0", status="not installable", reason=f"No solution found {HOSTILE}"),
            cell(
                "c-ic",
                "0.100.0",
                "2.12.0",
                status="incompatible",
                reason="TypeError: Client.__init__() got an unexpected keyword argument 'app'",
            ),
            cell("c-err", "0.101.0", "2.12.0", status="error", reason="environment: uv failed"),
        ],
        "missing": [],
    }


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
[[sources]]
title = "bad link"
url = "javascript:alert(1)"
[claim]
section = "Issue #3"
text = "Reproduces from 0.114.0"
[[claim.expect]]
test = "test_bug"
verdict = "reproduces"
where = ["fastapi>=0.114.0"]
[[claim.expect]]
test = "test_bug"
verdict = "fixed"
where = ["fastapi==0.113.0"]
[[claim.expect]]
test = "test_omit_field"
verdict = "holds"
"""
    )
    (cases / "literal_form" / "app.py").write_text(f"# {HOSTILE}\nfrom fastapi import FastAPI\napp = FastAPI()\n")
    (cases / "crud").mkdir()
    (cases / "crud" / "case.toml").write_text(
        'id = "crud"\ntitle = "CRUD"\nkind = "pattern"\n[claim]\ntext = "works"\n'
    )
    return cases
