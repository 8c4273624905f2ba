"""``new-case``: a case folder that passes ``check`` as made, with every place to edit marked TODO."""

from __future__ import annotations

from pathlib import Path

from known_issues.tomlfile import SLUG

CASE_TOML = '''id = "{slug}"
title = "TODO: one line a maintainer understands"
kind = "known-issue"  # known-issue | common-error | pattern | requirement
summary = """
TODO: what happens and why, in our words, and what the tests check (no observed version ranges:
the report computes them).
"""
# dependencies = ["sqlalchemy[asyncio]>=2.0"]  # beyond pyproject's `cell` group; then `nox -s lock-tools`

[[sources]]
title = "TODO: the GitHub issue, discussion or release note"
url = "https://github.com/fastapi/fastapi/discussions"

[claim]
section = "TODO: the guide's section"
text = """
TODO: what the guide claims (versions, symptom, status code, fix), in our words.
"""

[[claim.expect]]
test = "test_{slug}_documented_behaviour"
verdict = "reproduces"
quote = "TODO: the guide's own words this expectation judges, verbatim"
# where = ["fastapi>=0.114.0"]
# workarounds = ["test_..."]  # the workaround tests that answer this claim, the guide's own fix first

# Where the case runs one of the guide's code blocks as printed (see cases/README.md): each block is
# stored once in cases/guide_code/printed/ (load the project's modules with its support_printed.py)
# [[printed]]
# file = "../guide_code/printed/TODO.py"
# section = "TODO: the guide's heading above the block"
# [[deviations]]
# file = "../guide_code/printed/TODO.py"
# guide = "TODO: the guide's line"
# ours = "TODO: the line here"
# why = "TODO: why it differs"
'''

APP = '''"""TODO: the minimal app: the documented usage, and each workaround as its own route or module."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def root() -> dict[str, str]:
    return {{"status": "ok"}}
'''

TEST = '''"""TODO: what the tests observe. Rules: cases/README.md (roles, strict clients, exact assertions)."""

import pytest
from fastapi.testclient import TestClient

from known_issues import casekit

from .app import app


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


@pytest.mark.bug
def test_{slug}_documented_behaviour(client: TestClient) -> None:
    # TODO: the documented (wrong) outcome and the one the guide or the issue calls right, exactly:
    # the first reproduces, the second is fixed, anything else is an error (unexpected outcome).
    response = client.get("/")
    casekit.bug_or_fixed(
        casekit.answer(response),
        bug={{"status": 200, "body": {{"status": "ok"}}}},
        fixed={{"status": 200, "body": {{"status": "TODO: the corrected body"}}}},
    )
'''


def new_case(cases_dir: Path, slug: str) -> Path:
    if not SLUG.match(slug):
        raise ValueError(f"{slug!r}: a case slug is lowercase letters, digits and '_' (it is a Python package)")
    folder = cases_dir / slug
    if folder.exists():
        raise ValueError(f"{folder} exists already")
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("", encoding="utf-8")
    (folder / "case.toml").write_text(CASE_TOML.format(slug=slug), encoding="utf-8")
    (folder / "app.py").write_text(APP.format(), encoding="utf-8")
    (folder / f"test_{slug}.py").write_text(TEST.format(slug=slug), encoding="utf-8")
    return folder
