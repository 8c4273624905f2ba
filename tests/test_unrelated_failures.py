"""Nothing unrelated to a bug reads "fixed": each way a bug test used to turn an unrelated failure into a
verdict, planted in a real FastAPI app and run through the plugin. Each app answers three ways (the
documented bug, the fixed behaviour, something unrelated); only the first two may give reproduces / fixed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

APP = """
from fastapi import BackgroundTasks, FastAPI, HTTPException
from fastapi.responses import Response
from starlette.background import BackgroundTask

app = FastAPI()
ran = []
MODE = {"value": "bug"}


@app.post("/items", status_code=201)
def create(item: dict):
    if MODE["value"] == "unrelated":
        raise HTTPException(422, "the setup request itself is refused")
    return item


@app.get("/type/{value}")
def type_of(value: int | str):
    if MODE["value"] == "unrelated":
        raise HTTPException(422, "refused before the union was looked at")
    return str(type(int(value) if MODE["value"] == "fixed" else value))


@app.get("/boom")
def boom():
    raise ValueError("Value must be positive")


@app.get("/cors")
def cors():
    headers = {"bug": {"access-control-allow-origin": "*"}, "fixed": {"access-control-allow-origin": "http://a"}}
    return Response("ok", headers=headers.get(MODE["value"], {}))


@app.get("/tasks")
def tasks(injected: BackgroundTasks):
    mode = MODE["value"]
    if mode != "unrelated":
        injected.add_task(ran.append, "injected")
    background = None if mode == "unrelated" else BackgroundTask(ran.append, "response")
    if mode == "fixed":
        # what a fixed FastAPI would do: both run
        injected.add_task(ran.append, "response")
        background = None
    return Response("done", background=background)
"""

TESTS = """
import pytest
from fastapi.testclient import TestClient

from known_issues import casekit

from .app import MODE, app, ran

STR, INT = "<class 'str'>", "<class 'int'>"


@pytest.fixture(params=["bug", "fixed", "unrelated"])
def mode(request):
    MODE["value"] = request.param
    ran.clear()
    return request.param


@pytest.mark.bug
def test_precondition(mode):
    with TestClient(app) as client:
        casekit.answered(client.post("/items", json={"name": "x"}), 201)
        r = client.get("/type/123")
        casekit.bug_or_fixed(casekit.answer(r), bug={"status": 200, "body": STR}, fixed={"status": 200, "body": INT})


@pytest.mark.bug
def test_raised_twice(mode):
    observed = casekit.Observed(app)
    with TestClient(observed, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
        client.get("/boom")
    observed.assert_raised(ValueError, match="Value must be positive")


@pytest.mark.bug
def test_422_where_200_expected(mode):
    with TestClient(app) as client:
        r = client.get("/type/123")
    casekit.bug_or_fixed(casekit.answer(r), bug={"status": 200, "body": STR}, fixed={"status": 200, "body": INT})


@pytest.mark.bug
def test_missing_header(mode):
    with TestClient(app) as client:
        r = client.get("/cors")
    casekit.bug_or_fixed(r.headers.get("access-control-allow-origin"), bug="*", fixed="http://a")


@pytest.mark.bug
def test_two_tasks_lost(mode):
    with TestClient(app) as client:
        client.get("/tasks")
    casekit.bug_or_fixed(sorted(ran), bug=["response"], fixed=["injected", "response"])
"""


def _verdicts(pytester: pytest.Pytester) -> dict[str, dict[str, str]]:
    folder = pytester.path / "cases" / "planted"
    folder.mkdir(parents=True)
    (pytester.path / "cases" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / "app.py").write_text(APP)
    (folder / "test_planted.py").write_text(TESTS)
    out = pytester.path / "results.json"
    pytester.runpytest_subprocess("-p", "known_issues.cell.plugin", "--ki-results", str(out), "-p", "no:cacheprovider")
    tests = json.loads(Path(out).read_text())["tests"]
    return {t["test"]: t for t in tests}


def test_only_the_documented_and_the_fixed_outcome_give_a_bug_verdict(pytester: pytest.Pytester) -> None:
    got = _verdicts(pytester)
    verdict = {name: (t["verdict"], t["reason"]) for name, t in got.items()}

    for name in ("test_precondition", "test_422_where_200_expected", "test_missing_header", "test_two_tasks_lost"):
        assert verdict[f"{name}[bug]"] == ("reproduces", None), got[f"{name}[bug]"]["message"]
        assert verdict[f"{name}[fixed]"] == ("fixed", None), got[f"{name}[fixed]"]["message"]

    # The setup request refused: the suite could not observe the bug, and the body says why.
    assert verdict["test_precondition[unrelated]"] == ("error", "precondition")
    assert "answered 422, not 201" in got["test_precondition[unrelated]"]["message"]
    assert "the setup request itself is refused" in got["test_precondition[unrelated]"]["message"]
    # A 422 where the bug and its fix both answer 200.
    assert verdict["test_422_where_200_expected[unrelated]"] == ("error", "unexpected outcome")
    assert "'status': 422" in got["test_422_where_200_expected[unrelated]"]["message"]
    # No header at all: observed (None), neither the documented value nor the fixed one.
    assert verdict["test_missing_header[unrelated]"] == ("error", "unexpected outcome")
    assert got["test_missing_header[unrelated]"]["message"].startswith(
        "known_issues.cell.classify.SuiteFault: observed None"
    )
    # Both tasks lost is not "the injected task lost": not fixed either.
    assert verdict["test_two_tasks_lost[unrelated]"] == ("error", "unexpected outcome")
    assert "observed []" in got["test_two_tasks_lost[unrelated]"]["message"]
    # Two requests raised where the check expects one: the test's fault, whatever the app does.
    for mode in ("bug", "fixed", "unrelated"):
        assert verdict[f"test_raised_twice[{mode}]"] == ("error", "harness")
        assert "raised 2 times" in got[f"test_raised_twice[{mode}]"]["message"]

    assert not [n for n, (v, _) in verdict.items() if n.endswith("[unrelated]") and v in ("fixed", "broken")]
