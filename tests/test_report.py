"""Claims, flips, diff, summary and the HTML page built from synthetic results."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from fixtures import HOSTILE, run_with_every_verdict, write_cases

from known_issues import analysis
from known_issues.diff import diff_runs, needs_attention, to_markdown
from known_issues.report import SYMBOLS, build


def test_claims_confirmed_contradicted_unverifiable(tmp_path: Path) -> None:
    run = run_with_every_verdict()
    cases = analysis.load_cases(write_cases(tmp_path))
    cells = analysis.ordered_cells(run)
    rows = analysis.grid({"cells": cells})
    checks = analysis.check_claims(cases["literal_form"], rows, cells)
    by = {(c.test, c.expected): c for c in checks}
    assert by[("test_bug", "reproduces")].status == "confirmed"
    assert by[("test_bug", "reproduces")].agree == ["c-0.114.0", "c-0.115.0"]
    assert by[("test_bug", "fixed")].status == "confirmed"
    # The workaround broke in 0.115.0: the claim "holds" is contradicted there and only there.
    assert by[("test_omit_field", "holds")].status == "contradicted"
    assert by[("test_omit_field", "holds")].differ == [("c-0.115.0", "broken")]
    assert analysis.case_claim_status(checks) == "contradicted"
    assert analysis.case_claim_status(analysis.check_claims(cases["crud"], rows, cells)) == "unverifiable"
    # A documented pattern that crashes in a cell that ran contradicts "works"; a cell that never
    # ran its tests (c-err, c-ic, c-ni) says nothing.
    crashing = {**cases["crud"].claim, "expect": [{"test": "test_flaky_import", "verdict": "works"}]}
    cases["crud"].claim = crashing
    (check,) = analysis.check_claims(cases["crud"], rows, cells)
    assert check.status == "contradicted"
    assert check.differ == [("c-0.113.0", "error"), ("c-0.114.0", "error"), ("c-0.115.0", "error")]
    assert {cid for cid, _ in check.silent} == {"c-ic", "c-err", "c-ni"}


def test_grid_marks_cells_that_did_not_run() -> None:
    rows = analysis.grid(run_with_every_verdict())
    row = rows[("literal_form", "test_bug")]
    assert row.verdicts["c-ni"] == "not installable"
    assert row.verdicts["c-ic"] == "incompatible"
    assert row.verdicts["c-err"] == "error"
    assert row.verdicts["c-0.113.0"] == "fixed"


def test_first_flip_along_fastapi() -> None:
    run = run_with_every_verdict()
    cells = [c for c in analysis.ordered_cells(run) if c["status"] == "ran"]
    row = analysis.grid(run)[("literal_form", "test_bug")]
    assert analysis.first_flips(row, cells, "fastapi") == [
        "fixed → reproduces at fastapi 0.114.0 (last fixed: 0.113.0)"
    ]


def test_diff_kinds_and_markdown() -> None:
    old = run_with_every_verdict()
    new = json.loads(json.dumps(old))
    tests = new["cells"][1]["tests"]
    tests[0].update(outcome="failed", verdict="fixed")
    tests[3].update(outcome="error", verdict="error")
    changes = diff_runs(old, new)
    assert {(c.test, c.kind) for c in changes} == {("test_bug", "bug fixed"), ("test_create", "new error")}
    assert len(needs_attention(changes)) == 2
    md = to_markdown(changes)
    assert "| bug fixed | literal_form | test_bug | c-0.114.0 | reproduces | fixed |" in md
    assert to_markdown([]).endswith("No verdict changed.\n")
    # A test that did not run before (a new case, a case the cell did not select) is no regression.
    added = json.loads(json.dumps(new))
    added["cells"][1]["tests"].append({**tests[0], "test": "test_new", "verdict": "reproduces"})
    appeared = [c for c in diff_runs(new, added) if c.test == "test_new"]
    (new_test,) = [c for c in appeared if c.cell == "c-0.114.0"]
    assert (new_test.old, new_test.new, new_test.kind) == ("not run", "reproduces", "new test")
    assert {c.kind for c in appeared} == {"new test"}
    assert needs_attention(appeared) == []


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.links: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += attrs
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag in ("a", "link", "img", "script") and dict(attrs).get("href" if tag in ("a", "link") else "src"):
            self.links.append(str(dict(attrs).get("href") or dict(attrs).get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def test_page_escapes_and_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report"
    index = build(run_with_every_verdict(), write_cases(tmp_path), out)
    page = index.read_text()
    parser = _Collector()
    parser.feed(page)
    assert len(parser.scripts) == 1 and "__pwned" not in parser.scripts[0]
    assert not any(name.startswith("on") for name, _ in parser.attrs)
    assert HOSTILE not in page and "&lt;script&gt;window.__pwned" in page
    assert all(link.startswith(("#", "https://github.com/")) for link in parser.links), parser.links
    # Every verdict of the fixture appears in the matrix as a cell with its symbol and its label.
    labels = {label for name, label in parser.attrs if name == "aria-label"}
    for verdict in (
        "reproduces",
        "fixed",
        "holds",
        "works",
        "broken",
        "error",
        "n/a",
        "not installable",
        "incompatible",
    ):
        symbol, label = SYMBOLS[verdict]
        assert label in labels, verdict
        assert f'aria-label="{label}">{symbol}</td>' in page, verdict


def test_summary_markdown_and_junit(tmp_path: Path) -> None:
    out = tmp_path / "report"
    build(run_with_every_verdict(), write_cases(tmp_path), out)
    summary = (out / "summary.md").read_text()
    assert "- cases: 2; cells: 6 (1 error, 1 incompatible, 1 not installable, 3 ran)" in summary
    assert (
        "- newest (fastapi 0.115.0, pydantic 2.12.0): 1 bug(s) reproduce, 1 workaround(s)/pattern(s) broken, 1 error(s)"
        in summary
    )
    assert "| literal_form | test_omit_field | holds | broken in 1 cell(s) |" in summary
    suite = ET.parse(out / "junit" / "c-0.115.0.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    ni = ET.parse(out / "junit" / "c-ni.xml").getroot()
    assert ni.find("testcase/error").get("message") == "not installable"  # type: ignore[union-attr]


def test_claim_on_a_parametrized_test_covers_every_parameter(tmp_path: Path) -> None:
    run = run_with_every_verdict()
    for cell in run["cells"]:
        for t in cell["tests"]:
            if t["test"] == "test_create":
                t["test"] = "test_create[edge]"
                cell["tests"].append({**t, "test": "test_create[past-edge]", "outcome": "failed", "verdict": "broken"})
                break
    cases = analysis.load_cases(write_cases(tmp_path))
    cases["crud"].claim = {"expect": [{"test": "test_create", "verdict": "works"}]}
    cells = analysis.ordered_cells(run)
    (check,) = analysis.check_claims(cases["crud"], analysis.grid({"cells": cells}), cells)
    assert check.status == "contradicted"
    assert check.agree == ["c-0.113.0 [edge]", "c-0.114.0 [edge]", "c-0.115.0 [edge]"]
    assert [cid for cid, _ in check.differ] == [
        "c-0.113.0 [past-edge]",
        "c-0.114.0 [past-edge]",
        "c-0.115.0 [past-edge]",
    ]
