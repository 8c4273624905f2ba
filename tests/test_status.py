"""report/status/<case>.json and report/status.json: every file valid against the shields.io endpoint
schema and the project's own documented schema; badges that say what a team pinning FastAPI needs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from fixtures import FASTAPI_RELEASES, HOSTILE, cell, run_with_every_verdict, t, write_cases
from subscriptions_fixture import GUIDE_GROUP, guide_cell, literal_tests, planted_run, write_planted_cases

from known_issues.catalog import load_cases
from known_issues.reporting.build import build
from known_issues.reporting.status import SCHEMA_FILE

SHIELDS = json.loads((Path(__file__).parent / "data" / "shields-endpoint.schema.json").read_text())
OURS = json.loads(SCHEMA_FILE.read_text())


def _validator(schema: dict[str, object]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # the schemas themselves are valid JSON Schema
    return cls(schema)


def _built(tmp_path: Path, which: str) -> Path:
    out = tmp_path / "report"
    if which == "every verdict":
        build(run_with_every_verdict(), load_cases(write_cases(tmp_path)), out)
    else:
        build(
            planted_run(), load_cases(write_planted_cases(tmp_path)), out, guide_groups=(GUIDE_GROUP,),
            releases=FASTAPI_RELEASES,
        )  # fmt: skip
    return out


@pytest.mark.parametrize("which", ["every verdict", "planted"])
def test_every_status_file_validates_against_shields_and_our_schema(tmp_path: Path, which: str) -> None:
    out = _built(tmp_path, which)
    shields, ours = _validator(SHIELDS), _validator(OURS)
    document = json.loads((out / "status.json").read_text())
    ours.validate(document)
    badges = sorted((out / "status").glob("*.json"))
    assert [p.stem for p in badges] == sorted(document["cases"])
    for path in badges:
        badge = json.loads(path.read_text())
        shields.validate(badge)
        # The file is exactly the badge status.json gives for the case, and only shields' keys.
        assert badge == document["cases"][path.stem]["badge"]
        assert document["cases"][path.stem]["badge_file"] == f"status/{path.name}"


def test_the_schemas_refuse_what_shields_would(tmp_path: Path) -> None:
    """A passing validation means something: an unknown key or a missing message fails both."""
    shields, ours = _validator(SHIELDS), _validator(OURS)
    good = {"schemaVersion": 1, "label": "case", "message": "holds", "color": "blue"}
    shields.validate(good)
    for bad in ({**good, "link": "https://x"}, {**good, "message": ""}, {**good, "schemaVersion": 2}):
        assert not shields.is_valid(bad), bad
    document = json.loads((_built(tmp_path, "planted") / "status.json").read_text())
    document["cases"]["literal_form"]["badge"]["extra"] = 1
    assert not ours.is_valid(document)


def test_badges_and_totals_for_a_run_along_fastapi(tmp_path: Path) -> None:
    out = _built(tmp_path, "planted")
    document = json.loads((out / "status.json").read_text())
    assert document["newest"] == {
        "cell": "fastapi-minors-py3.11-fastapi0.116.0-pydanticany",
        "versions": {"fastapi": "0.116.0", "pydantic": "2.11.7", "python": "3.11.7"},
    }
    literal = document["cases"]["literal_form"]
    # The bug is gone in the newest release: the badge says since when.
    # The bug is gone in the newest release: the badge says since which exact release, labelled by the title.
    assert json.loads((out / "status" / "literal_form.json").read_text()) == {
        "schemaVersion": 1,
        "label": f"Optional Literal form field {HOSTILE}",
        "message": "fixed since fastapi 0.116.0",
        "color": "brightgreen",
    }
    assert (literal["state"], literal["claim"]) == ("fixed", "contradicted")
    since = {
        "package": "fastapi",
        "release": "0.116.0",
        "last_before": "0.115.0",
        "before": "reproduces",
        "exact": True,
        "changed": [{"package": "fastapi", "old": "0.115.0", "new": "0.116.0"}],
    }
    assert literal["since"] == since
    assert literal["upstream"] == {"tracker": "fastapi", "url": "https://github.com/fastapi/fastapi/issues/12245"}
    assert literal["roles"]["bug"] == {
        "verdict": "fixed",
        "tests": {
            "test_bug": {
                "verdict": "fixed",
                "since": since,
                "history": "fixed at 0.113.0, reproduces 0.114.0\u20130.115.0, fixed again since 0.116.0",
            }
        },
    }
    # A workaround that has held on every version has no "since".
    assert literal["roles"]["workaround"]["tests"]["test_other_way"] == {
        "verdict": "holds",
        "since": None,
        "history": "holds 0.113.0\u20130.116.0",
    }
    assert document["cases"]["late_case"]["badge"]["message"] == "broken on fastapi 0.116.0"
    assert document["totals"] == {
        "cases": 2,
        "cells": 5,
        "issues_reproducing": {"fastapi": 0, "other": 0, "none": 0},
        "tests_reproducing_on_newest": 0,
        "broken_on_newest": 1,
        "suite_errors_on_newest": 0,
        "claims_contradicted": 2,
        "changed_since_baseline": None,
    }


def test_a_reproducing_bug_names_the_newest_release_and_a_suite_error_is_no_verdict(tmp_path: Path) -> None:
    out = _built(tmp_path, "every verdict")
    literal = json.loads((out / "status" / "literal_form.json").read_text())
    assert (literal["message"], literal["color"]) == ("reproduces on fastapi 0.115.0", "red")
    # One test errs, the other was observed working: the case works (an error is no verdict).
    crud = json.loads((out / "status" / "crud.json").read_text())
    assert (crud["message"], crud["color"]) == ("works", "brightgreen")
    # Only when nothing of the case was observed on that cell does the badge say so.
    run = run_with_every_verdict()
    for c in run.cells:
        c.tests = [x for x in c.tests if x.test != "test_create"]
    build(run, load_cases(tmp_path / "cases"), tmp_path / "again")
    crud = json.loads((tmp_path / "again" / "status" / "crud.json").read_text())
    assert (crud["message"], crud["color"]) == ("could not observe on fastapi 0.115.0", "lightgrey")


def test_a_case_the_newest_cell_does_not_run_reads_the_newest_cell_that_does(tmp_path: Path) -> None:
    run = planted_run()
    for c in run.cells:
        if c.cell.group != GUIDE_GROUP:
            c.tests = [t for t in c.tests if t.case != "late_case"]
    out = tmp_path / "report"
    build(run, load_cases(write_planted_cases(tmp_path)), out, guide_groups=(GUIDE_GROUP,))
    late = json.loads((out / "status.json").read_text())["cases"]["late_case"]
    assert late["cell"] == "document-py3.11-fastapi0.114.0-pydanticany"
    assert late["badge"]["message"] == "broken on fastapi 0.114.0"


def test_a_case_only_some_groups_run_reads_the_cell_with_its_newest_release(tmp_path: Path) -> None:
    # A server case: the guide's group runs it at its 0.114.0, a later group at 0.116.0 (the newest
    # FastAPI) on the newest cell's Python, and another at 0.116.0 on 3.13. The status is read at the
    # newest release on the newest cell's Python, not at the first group's newest.
    run = planted_run()
    for c in run.cells:
        if c.cell.group != GUIDE_GROUP:
            c.tests = [t for t in c.tests if t.case != "late_case"]
    late = [t for t in guide_cell(literal_tests("passed", "passed")).tests if t.case == "late_case"]
    servers = cell("0.116.0", "2.11.7", tests=list(late), group="servers")
    passed = [t("late_case", "test_late", "pattern", "passed")]
    newer_python = cell("0.116.0", "2.14.4", tests=passed, group="newest-python", python="3.13")
    run.cells += [servers, newer_python]
    out = tmp_path / "report"
    build(run, load_cases(write_planted_cases(tmp_path)), out, guide_groups=(GUIDE_GROUP,))
    status = json.loads((out / "status.json").read_text())["cases"]["late_case"]
    assert status["cell"] == servers.id
    assert status["badge"]["message"] == "broken on fastapi 0.116.0"


def test_a_gone_case_leaves_no_badge(tmp_path: Path) -> None:
    out = _built(tmp_path, "planted")
    (out / "status" / "old_case.json").write_text("{}")
    build(planted_run(), load_cases(tmp_path / "cases"), out, guide_groups=(GUIDE_GROUP,))
    assert not (out / "status" / "old_case.json").exists()
