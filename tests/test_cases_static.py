"""Every case folder is complete and honest before any cell runs it."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted(p.parent for p in (ROOT / "cases").glob("*/case.toml"))
ROLES = {"bug", "workaround", "pattern"}
KINDS = {"known-issue", "common-error", "pattern", "requirement"}
VERDICTS = {"reproduces", "fixed", "holds", "works", "broken", "error", "n/a"}
# Import name -> distribution, for the modules cases use that are not named like their package.
DISTRIBUTION_OF = {
    "jose": "python-jose",
    "jwt": "pyjwt",
    "pydantic_settings": "pydantic-settings",
    "asgi_lifespan": "asgi-lifespan",
    "uvicorn_worker": "uvicorn-worker",
    "dirty_equals": "dirty-equals",
    "pytest_asyncio": "pytest-asyncio",
    "inline_snapshot": "inline-snapshot",
    "multipart": "python-multipart",
    "email_validator": "email-validator",
}
# Always there: the axes, what they bring, the harness on PYTHONPATH, and pytest's own dependencies.
ALWAYS = {
    "fastapi",
    "pydantic",
    "starlette",
    "known-issues",
    "packaging",
    "pydantic-core",
    "typing-extensions",
    "anyio",
    "cases",
}


def _common() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {canonicalize_name(Requirement(r).name) for r in data["dependency-groups"]["cell"]}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case_toml_is_complete(case: Path) -> None:
    data = tomllib.loads((case / "case.toml").read_text())
    assert data["id"] == case.name
    assert data["kind"] in KINDS
    assert data["title"].strip()
    assert data["sources"], "cite at least the issue, discussion or docs page"
    for source in data["sources"]:
        assert source["url"].startswith("https://"), source
    claim = data["claim"]
    assert claim["text"].strip() and claim.get("section")
    tests = _tests_and_roles(case)
    for exp in claim.get("expect", []):
        assert exp["test"] in tests, f"claim.expect names a test that does not exist: {exp['test']}"
        assert exp["verdict"] in VERDICTS
        for where in exp.get("where", []):
            Requirement(where)
    for dep in data.get("dependencies", []):
        Requirement(dep)
    assert (case / "__init__.py").exists() and (case / "app.py").exists()
    assert (case / f"test_{case.name}.py").exists()


def _role_decorators(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    found = []
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if (
            isinstance(target, ast.Attribute)
            and target.attr in ROLES
            and ast.unparse(target).startswith("pytest.mark.")
        ):
            found.append(target.attr)
        if isinstance(target, ast.Attribute) and target.attr == "xfail":
            found.append("xfail")
    return found


def _tests_and_roles(case: Path) -> dict[str, list[str]]:
    out = {}
    for path in case.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                out[node.name] = _role_decorators(node)
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_test_has_exactly_one_role(case: Path) -> None:
    tests = _tests_and_roles(case)
    assert tests
    bad = {name: roles for name, roles in tests.items() if len(roles) != 1 or "xfail" in roles}
    assert bad == {}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_imports_are_declared(case: Path) -> None:
    data = tomllib.loads((case / "case.toml").read_text())
    declared = _common() | ALWAYS | {canonicalize_name(Requirement(r).name) for r in data.get("dependencies", [])}
    missing = set()
    for path in case.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "__future__":
                    continue
                dist = canonicalize_name(DISTRIBUTION_OF.get(top, top))
                if dist not in declared:
                    missing.add(f"{path.relative_to(ROOT)}: {top} ({dist})")
    assert not missing, "add these to the case's `dependencies` in case.toml: " + "; ".join(sorted(missing))
