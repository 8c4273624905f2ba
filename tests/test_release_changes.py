"""What a new release changed: a baseline made the day before the newest FastAPI release and a run with it,
in which a bug is fixed at that release in the FastAPI minors, in a cell that re-resolved ("any") and in
the server cases' group. summary.md, changes.atom and the page list that release once, each bug once,
with the cells as evidence; nothing is attributed to a release that did not bring it."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import feedparser
from fixtures import cell, t

from known_issues.catalog import load_cases
from known_issues.matrix import Cell
from known_issues.reporting.build import build
from known_issues.reporting.releases import release_changes
from known_issues.results import CellResult, RunResult

SERVER_CASES = ("server_case",)


def _cell(group: str, fastapi: str, bugs: dict[str, str], requested: str | None = None) -> CellResult:
    tests = [t(case, "test_bug", "bug", outcome) for case, outcome in bugs.items()]
    tests.append(t("steady", "test_pattern", "pattern", "passed"))
    made = cell(fastapi, "2.11.7", group=group, tests=tests)
    if group == "pydantic-minors":
        made.cell = Cell(group, "3.11", (("pydantic", "2.14.4"), ("fastapi", "any")))
        made.resolved["pydantic"] = made.distributions["pydantic"] = "2.14.4"
    else:
        cases = SERVER_CASES if group == "servers" else ()
        made.cell = Cell(group, "3.11", (("fastapi", requested or fastapi), ("pydantic", "2.11.7")), cases)
    return made


def _runs() -> tuple[RunResult, RunResult]:
    """The baseline has 0.164.3 as its newest FastAPI; the run has 0.165.0, which fixes both bugs."""
    reproduces = {"json_form": "passed"}
    server = {"server_case": "passed"}
    baseline = RunResult(
        generated="2026-12-06T00:00:00Z",
        matrix="matrix.toml",
        cells=[
            _cell("fastapi-minors", "0.163.2", reproduces),
            _cell("fastapi-minors", "0.164.3", reproduces),
            _cell("pydantic-minors", "0.164.3", reproduces),
            _cell("servers", "0.133.1", server),
            _cell("servers", "0.164.3", server),
        ],
    )
    fixed = {"json_form": "failed"}
    run = copy.deepcopy(baseline)
    run.generated = "2026-12-07T00:00:00Z"
    run.cells = [
        _cell("fastapi-minors", "0.163.2", reproduces),
        _cell("fastapi-minors", "0.164.3", reproduces),
        _cell("fastapi-minors", "0.165.0", fixed),
        _cell("pydantic-minors", "0.165.0", fixed),  # the same cell, re-resolved to the new FastAPI
        _cell("servers", "0.133.1", server),
        _cell("servers", "0.165.0", {"server_case": "failed"}),  # "latest" is a new cell id each release
    ]
    return baseline, run


def _write_cases(folder: Path) -> Path:
    for slug in ("json_form", "server_case", "steady"):
        (folder / "cases" / slug).mkdir(parents=True)
        kind = "pattern" if slug == "steady" else "known-issue"
        (folder / "cases" / slug / "case.toml").write_text(
            f'id = "{slug}"\ntitle = "Title of {slug}"\nkind = "{kind}"\n'
        )
    return folder / "cases"


def test_the_new_release_and_each_bug_it_fixed_are_listed_once_with_the_cells_as_evidence() -> None:
    baseline, run = _runs()
    changes = release_changes(baseline, run)
    (fastapi,) = [r for r in changes.releases if r.package == "fastapi"]
    assert (fastapi.version, fastapi.previous) == ("0.165.0", "0.164.3")
    by_case = {c.case: c for c in fastapi.changes}
    assert set(by_case) == {"json_form", "server_case"} and len(fastapi.changes) == 2
    json_form = by_case["json_form"]
    assert (json_form.old, json_form.new, str(json_form.kind)) == ("reproduces", "fixed", "bug fixed")
    assert {(e.cell, e.compared) for e in json_form.evidence} == {
        ("fastapi-minors-py3.11-fastapi0.165.0-pydantic2.11.7", "fastapi-minors-py3.11-fastapi0.164.3-pydantic2.11.7"),
        ("pydantic-minors-py3.11-pydantic2.14.4-fastapiany", "pydantic-minors-py3.11-pydantic2.14.4-fastapiany"),
    }
    # The server case: compared with the baseline's cell of the release before it (no longer in this run).
    (server,) = by_case["server_case"].evidence
    assert (server.cell, server.compared, server.before_in_baseline) == (
        "servers-py3.11-fastapi0.165.0-pydantic2.11.7", "servers-py3.11-fastapi0.164.3-pydantic2.11.7", True
    )  # fmt: skip
    assert changes.unexplained == [] and changes.count() == 2


def test_summary_feed_and_page_list_the_release_and_each_bug_once(tmp_path: Path) -> None:
    baseline, run = _runs()
    cases = load_cases(_write_cases(tmp_path))
    out = tmp_path / "report"
    build(run, cases, out, baseline=baseline)
    summary = (out / "summary.md").read_text()
    assert summary.count("### fastapi 0.165.0 (compared with fastapi 0.164.3)") == 1
    assert len(re.findall(r"^\| bug fixed \| json_form \| test_bug \|", summary, re.MULTILINE)) == 1
    assert len(re.findall(r"^\| bug fixed \| server_case \| test_bug \|", summary, re.MULTILINE)) == 1
    feed = feedparser.parse((out / "changes.atom").read_bytes())
    assert sorted(e.title for e in feed.entries) == [
        "fastapi 0.165.0: json_form::test_bug reproduces → fixed (bug fixed)",
        "fastapi 0.165.0: server_case::test_bug reproduces → fixed (bug fixed)",
    ]
    page = (out / "index.html").read_text()
    section = page[
        page.index('<section id="changes">') : page.index("</section>", page.index('<section id="changes">'))
    ]
    assert section.count("fastapi 0.165.0") == 1
    assert section.count(">test_bug</a>") == 2
