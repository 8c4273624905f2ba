"""Claims, flips, attribution, diff, summary and the HTML page built from synthetic typed results."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixtures import HOSTILE, cell, run_with_every_verdict, t, write_cases
from today_sized import CASES, today_sized_run

from known_issues import results, run_files
from known_issues.catalog import Expectation, load_cases
from known_issues.cell.verdicts import Verdict
from known_issues.errors import CaseError
from known_issues.lines import lines_of
from known_issues.outcomes import Change
from known_issues.reporting import analysis, history
from known_issues.reporting.build import build
from known_issues.reporting.diff import diff_runs, needs_attention, to_markdown
from known_issues.reporting.highlight import highlight, style_css
from known_issues.reporting.view_model import CSS, SYMBOLS
from known_issues.results import BisectAnswer, CellResult, RunResult

GOLD = Path(__file__).parent / "data" / "report-gold.html"


def test_claims_confirmed_contradicted_unverifiable(tmp_path: Path) -> None:
    run = run_with_every_verdict()
    cases = load_cases(write_cases(tmp_path))
    cells = results.ordered_cells(run.cells)
    rows = analysis.grid(cells)
    checks = analysis.check_claims(cases["literal_form"], rows, cells)
    by = {(c.test, c.expected): c for c in checks}
    assert by[("test_bug", Verdict.REPRODUCES)].status == "confirmed"
    assert by[("test_bug", Verdict.REPRODUCES)].agree == [
        "fastapi-minors-py3.11-fastapi0.114.0-pydanticany",
        "fastapi-minors-py3.11-fastapi0.115.0-pydanticany",
    ]
    assert by[("test_bug", Verdict.FIXED)].status == "confirmed"
    # The workaround crashed in 0.115.0 (broken): the claim "holds" is contradicted there and only there.
    assert by[("test_omit_field", Verdict.HOLDS)].status == "contradicted"
    assert by[("test_omit_field", Verdict.HOLDS)].differ == [
        ("fastapi-minors-py3.11-fastapi0.115.0-pydanticany", Verdict.BROKEN)
    ]
    assert analysis.case_claim_status(checks) == "contradicted"
    assert analysis.case_claim_status(analysis.check_claims(cases["crud"], rows, cells)) == "no claim"
    # A suite error or a flaky verdict says nothing about a claim (the suite did not observe the
    # behaviour: never an erratum), nor do cells that never ran.
    crud = dataclasses.replace(
        cases["crud"],
        expectations=(Expectation("test_flaky_import", Verdict.WORKS), Expectation("test_create", Verdict.WORKS)),
    )
    errored, flaky = analysis.check_claims(crud, rows, cells)
    assert (errored.status, errored.differ, errored.agree) == ("unverifiable", [], [])
    assert {cid for cid, _ in errored.silent} == {c.id for c in cells}
    assert (
        flaky.status == "confirmed"
        and ("fastapi-minors-py3.11-fastapi0.114.0-pydanticany", Verdict.FLAKY) in flaky.silent
    )


def test_grid_marks_cells_that_did_not_run_and_keeps_error_reasons() -> None:
    rows = analysis.grid(run_with_every_verdict().cells)
    row = rows[("literal_form", "test_bug")]
    assert row.verdict("fastapi-minors-py3.11-fastapi9.9.9-pydanticany") == Verdict.NOT_INSTALLABLE
    assert row.verdict("fastapi-minors-py3.11-fastapi0.100.0-pydanticany") == Verdict.INCOMPATIBLE
    assert row.verdict("fastapi-minors-py3.11-fastapi0.101.0-pydanticany") == Verdict.ERROR
    assert row.verdict("fastapi-minors-py3.11-fastapi0.113.0-pydanticany") == Verdict.FIXED
    errored = rows[("crud", "test_flaky_import")]
    assert errored.seen("fastapi-minors-py3.11-fastapi0.113.0-pydanticany").reason == "timeout"
    flaky = rows[("crud", "test_create")].seen("fastapi-minors-py3.11-fastapi0.114.0-pydanticany")
    assert flaky.observations == ("works", "broken", "works")


def _histories(cells: list[CellResult], bisected: list[BisectAnswer] | None = None) -> dict:
    cells = results.ordered_cells(cells)
    found = history.histories(lines_of(cells), analysis.grid(cells), cells={c.id: c for c in cells})
    history.attribute(found.values(), bisected or [])
    by: dict = {}
    for (key, _), h in found.items():
        by.setdefault(key, []).append(h)
    return by


def test_a_history_names_the_release_and_every_package_that_moved() -> None:
    (found,) = _histories(run_with_every_verdict().cells)[("literal_form", "test_bug")]
    assert found.text() == "fixed at 0.113.0, reproduces since 0.114.0"
    (boundary,) = found.boundaries
    assert (boundary.before, boundary.after, boundary.last_before, boundary.first_after) == (
        "fixed", "reproduces", "0.113.0", "0.114.0"
    )  # fmt: skip
    assert [(c.package, c.old, c.new) for c in boundary.changed] == [("fastapi", "0.113.0", "0.114.0")]
    # Without the index nothing says the two releases are adjacent: not exact.
    assert not boundary.exact


def test_intervals_show_a_bug_that_came_back_and_since_is_the_last_change() -> None:
    cells = []
    for version, outcome in (("0.100.1", "passed"), ("0.105.1", "passed"), ("0.106.0", "failed"),
                             ("0.118.2", "failed"), ("0.118.3", "passed"), ("0.165.0", "passed")):  # fmt: skip
        cells.append(cell(version, "2.11.7", tests=[t("yield", "test_bug", "bug", outcome)]))
    (found,) = _histories(cells)[("yield", "test_bug")]
    assert found.text() == "reproduces 0.100.1\u20130.105.1, fixed 0.106.0\u20130.118.2, reproduces again since 0.118.3"
    assert found.since().first_after == "0.118.3" and found.since().last_before == "0.118.2"
    assert (found.at("0.110.0"), found.at("0.120.0"), found.at("0.99.0")) == ("fixed", "reproduces", None)


def test_attribution_uses_a_line_that_changed_one_package_only() -> None:
    """A change where two packages moved together is attributed to the one another line isolated."""

    def verdict_cell(group: str, fastapi: str, starlette: str, outcome: str) -> CellResult:
        return cell(
            fastapi, "2.11.7", group=group, extra={"starlette": starlette}, tests=[t("cors", "test_x", "bug", outcome)]
        )

    minors = [
        verdict_cell("fastapi-minors", "0.132.0", "0.49.0", "passed"),
        verdict_cell("fastapi-minors", "0.133.0", "1.0.0", "failed"),
    ]
    held = [
        verdict_cell("starlette", "0.135.0", "0.49.0", "passed"),
        verdict_cell("starlette", "0.135.0", "1.0.0", "failed"),
    ]
    for c in held:
        c.cell = dataclasses.replace(c.cell, requested=(("fastapi", "0.135.0"), ("starlette", c.resolved["starlette"])))
    by_line = {h.package: h for h in _histories([*minors, *held])[("cors", "test_x")]}
    (in_minors,) = by_line["fastapi"].boundaries
    assert {c.package for c in in_minors.changed} == {"fastapi", "starlette"}
    assert [c.package for c in in_minors.responsible] == ["starlette"]
    assert [i.by for i in in_minors.isolated] == [
        "line starlette releases (fastapi 0.135.0, python 3.11) (only starlette changed)"
    ]


def test_attribution_uses_a_bisect_answer_read_back_from_disk(tmp_path: Path) -> None:
    """Two packages changed together; a bisect over one of them, recorded and read back, names it."""
    minors = [
        cell("0.132.0", "2.11.7", extra={"starlette": "0.49.0"}, tests=[t("cors", "test_x", "bug", "passed")]),
        cell("0.133.0", "2.11.7", extra={"starlette": "1.0.0"}, tests=[t("cors", "test_x", "bug", "failed")]),
    ]
    answer = BisectAnswer("cors", "test_x", "starlette", "0.52.1", "1.0.0", "reproduces", "fixed", "fastapi 0.133.0")
    run_files.record_bisect_answer(tmp_path, answer)
    run_files.record_bisect_answer(tmp_path, answer)  # the same question again replaces its answer
    assert run_files.read_bisect_answers(tmp_path) == [answer]
    (found,) = _histories(minors, run_files.read_bisect_answers(tmp_path))[("cors", "test_x")]
    (boundary,) = found.boundaries
    assert [c.package for c in boundary.responsible] == ["starlette"]
    assert [i.by for i in boundary.isolated] == ["bisect over starlette releases"]


def test_diff_kinds_and_markdown() -> None:
    old = run_with_every_verdict()
    new = copy.deepcopy(old)
    tests = new.cells[1].tests
    tests[0] = t("literal_form", "test_bug", "bug", "failed")
    tests[3] = t("crud", "test_create", "pattern", "error")
    changes = diff_runs(old, new)
    # No version moved in that cell: the changes are the suite's (or did not repeat), not a release's.
    assert changes.releases == []
    assert {(c.test, c.kind) for _, c in changes.unexplained} == {
        ("test_bug", Change.BUG_FIXED), ("test_create", Change.FLAKY)
    }  # fmt: skip
    assert len(needs_attention(changes)) == 1  # flaky -> error is no alarm
    md = to_markdown(changes)
    assert "### No release moved (the case's files or the harness changed)" in md
    cell_id = "fastapi-minors-py3.11-fastapi0.114.0-pydanticany"
    assert f"| bug fixed | literal_form | test_bug | reproduces | fixed | {cell_id} |" in md
    assert to_markdown(diff_runs(old, old)).endswith("No verdict changed.\n")
    # A test that did not run before (a new case, a case the cell did not select) is no regression.
    added = copy.deepcopy(new)
    added.cells[1].tests.append(t("literal_form", "test_new", "bug", "passed"))
    assert [c for _, c in diff_runs(new, added).all() if c.test == "test_new"] == []


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, str]] = []  # (type, text)
        self.attrs: list[tuple[str, str | None]] = []
        self.links: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += attrs
        if tag == "script":
            self._in_script = True
            self.scripts.append((dict(attrs).get("type"), ""))
        if tag in ("a", "link", "img", "script") and dict(attrs).get("href" if tag in ("a", "link") else "src"):
            self.links.append(str(dict(attrs).get("href") or dict(attrs).get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)


def _page(tmp_path: Path, run: RunResult | None = None) -> str:
    out = tmp_path / "report"
    index = build(run or run_with_every_verdict(), load_cases(write_cases(tmp_path)), out)
    return index.read_text()


def test_page_escapes_and_is_self_contained(tmp_path: Path) -> None:
    page = _page(tmp_path)
    parser = _Collector()
    parser.feed(page)
    # One script runs; the other is data, read with JSON.parse, where no <, > or & can end or open anything.
    assert [kind for kind, _ in parser.scripts] == ["application/json", None]
    code, data = parser.scripts[1][1], parser.scripts[0][1]
    assert "__pwned" not in code and not set("<>&") & set(data)
    assert any(HOSTILE in m for m in json.loads(data)["messages"])  # the same text, once parsed
    assert not any(name.startswith("on") for name, _ in parser.attrs)
    assert HOSTILE not in page and "&lt;script&gt;window.__pwned" in page
    # Links stay on the page, go to an https:// source, or to the outputs published beside it.
    siblings = {"errata.md", "status.json", "changes.atom"}
    assert all(link.startswith(("#", "https://")) or link in siblings for link in parser.links), parser.links
    assert siblings <= set(parser.links) and all((tmp_path / "report" / name).is_file() for name in siblings)
    assert str(tmp_path) not in page and "/work/" not in page  # no absolute local path
    # Details on demand: no tooltip anywhere in the grid, each verdict a symbol with a short class.
    assert page.count(" title=") == 1 and '<link rel="alternate" type="application/atom+xml" title=' in page
    for verdict in set(SYMBOLS) - {Verdict.NOT_RUN}:
        symbol, label = SYMBOLS[verdict]
        assert re.search(f"<td class={CSS[verdict]}>{re.escape(symbol)}[<\n]", page), verdict
        assert json.loads(data)["verdicts"][CSS[verdict]] == [str(verdict), label, symbol]
    # An error names its reason, in the cell's details (the reason is in the page's data).
    reasons = {r for row in json.loads(data)["rows"] for r in row.get("r", {}).values()}
    assert {"timeout", "environment"} <= reasons


def test_page_data_has_each_cells_details_and_files(tmp_path: Path) -> None:
    out = tmp_path / "report"
    cell_id = "fastapi-minors-py3.11-fastapi0.114.0-pydanticany"
    stem = run_files.safe(cell_id)
    (out / "logs").mkdir(parents=True)
    for name in (f"{stem}.log", f"{stem}.confirm2.log", f"{stem}.confirm1.log", f"{stem}.confirmx.log"):
        (out / "logs" / name).write_text("pytest output")
    build(run_with_every_verdict(), load_cases(write_cases(tmp_path)), out)
    data = _data((out / "index.html").read_text())
    cells = {c["id"]: c for c in data["cells"]}
    assert cells[cell_id]["logs"] == [f"logs/{stem}.log", f"logs/{stem}.confirm1.log", f"logs/{stem}.confirm2.log"]
    assert cells["fastapi-minors-py3.11-fastapi0.113.0-pydanticany"]["logs"] == []  # none was left for it
    assert all((out / c["junit"]).is_file() for c in data["cells"])
    assert ["extra pins", "httpx<0.28 (old TestClient)"] in cells[cell_id]["d"]
    not_installable = cells["fastapi-minors-py3.11-fastapi9.9.9-pydanticany"]
    assert data["messages"][not_installable["m"]] == f"No solution found {HOSTILE}"
    # A row's message in a cell, when it was observed, and the outcomes of a flip that was re-run.
    columns = [c["id"] for c in data["cells"]]
    row = next(r for r in data["rows"] if (r["c"], r["t"]) == ("literal_form", "test_bug"))
    fixed = str(columns.index("fastapi-minors-py3.11-fastapi0.113.0-pydanticany"))
    assert data["messages"][row["m"][fixed]] == f"AssertionError: 200 != 422 {HOSTILE}"
    observed = row.get("w", {}).get(fixed) or data["observed"][row["o"]][int(fixed)]
    assert data["when"][observed - 1] == ["2026-11-25T00:00:00Z", 0]
    flaky = next(r for r in data["rows"] if (r["c"], r["t"]) == ("crud", "test_create"))
    assert flaky["x"] == {str(columns.index(cell_id)): ["works", "broken", "works"]}


def test_page_data_compares_releases_as_nox_compare_does(tmp_path: Path) -> None:
    """The intervals the compare form reads are compare.page_data's, each test named by its row."""
    out = tmp_path / "report"
    run = run_with_every_verdict()
    build(run, load_cases(write_cases(tmp_path)), out)
    data = _data((out / "index.html").read_text())
    fastapi = data["compare"]["fastapi"]
    assert fastapi["order"] == ["0.113.0", "0.114.0", "0.115.0"]
    by_row = {(data["rows"][n]["c"], data["rows"][n]["t"]): intervals for n, intervals in fastapi["tests"]}
    assert by_row[("literal_form", "test_bug")] == [
        ["fixed", "0.113.0", "0.113.0"],
        ["reproduces", "0.114.0", "0.115.0"],
    ]


def _data(page: str) -> dict:
    start = page.index('<script type="application/json" id="data">') + len('<script type="application/json" id="data">')
    return json.loads(page[start : page.index("</script>", start)])


def test_the_page_of_a_run_of_todays_size_is_at_most_2_mb(tmp_path: Path) -> None:
    """137 cells, 330 tests over the project's cases, messages of a few hundred characters: the grid is
    symbols, the rest is said once (the browser test measures it there too, with the DOM's size)."""
    index = build(today_sized_run(), load_cases(CASES), tmp_path / "report")
    assert index.stat().st_size <= 2_000_000


def test_cards_count_suite_errors_apart_from_broken_code(tmp_path: Path) -> None:
    page = _page(tmp_path)
    # One case has a broken workaround (its bug reproduces there too); one documented issue reproduces.
    assert '<div class="n" data-testid="broken-on-newest">1</div>' in page
    assert '<div class="n" data-testid="issues-reproducing">1</div>' in page
    assert '<div class="n" data-testid="suite-errors-on-newest">1</div>' in page
    assert "could not observe: 1 timeout" in page
    assert '<div class="n" data-testid="flaky">1</div>' in page
    assert (
        "<td>crud</td><td>test_create</td><td>fastapi-minors-py3.11-fastapi0.114.0-pydanticany</td>"
        "<td>works, broken, works</td>" in page
    )


def test_page_matches_the_gold_file(tmp_path: Path) -> None:
    """The whole page for the fixture run, byte for byte (UPDATE_GOLD=1 rewrites it after a deliberate change)."""
    page = _page(tmp_path)
    import os

    if os.environ.get("UPDATE_GOLD"):
        GOLD.write_text(page, encoding="utf-8")
    assert page == GOLD.read_text(encoding="utf-8")


def test_summary_markdown_and_junit(tmp_path: Path) -> None:
    out = tmp_path / "report"
    build(run_with_every_verdict(), load_cases(write_cases(tmp_path)), out)
    summary = (out / "summary.md").read_text()
    assert "- cases: 2; cells: 6 (1 error, 1 incompatible, 1 not installable, 3 ran)" in summary
    assert (
        "- newest (fastapi 0.115.0, pydantic 2.12.0): 1 bug(s) reproduce, 1 workaround(s)/pattern(s) broken, "
        "1 suite error(s) (1 timeout), 0 flaky" in summary
    )
    assert "| literal_form | Omit instead of None | test_omit_field | holds | broken in 1 cell(s) |" in summary
    assert "| crud | test_create | fastapi-minors-py3.11-fastapi0.114.0-pydanticany | works, broken, works |" in summary
    suite = ET.parse(out / "junit" / "fastapi-minors-py3.11-fastapi0.115.0-pydanticany.xml").getroot()
    counts = (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped"))
    assert counts == ("5", "1", "1", "1")
    ni = ET.parse(out / "junit" / "fastapi-minors-py3.11-fastapi9.9.9-pydanticany.xml").getroot()
    assert ni.find("testcase/error").get("message") == "not installable"  # type: ignore[union-attr]


def test_claim_on_a_parametrized_test_covers_every_parameter(tmp_path: Path) -> None:
    run = run_with_every_verdict()
    for c in run.cells:
        for i, test in enumerate(list(c.tests)):
            if test.test == "test_create":
                c.tests[i] = t("crud", "test_create[edge]", "pattern", "passed")
                c.tests.append(t("crud", "test_create[past-edge]", "pattern", "failed"))
                break
    cases = load_cases(write_cases(tmp_path))
    crud = dataclasses.replace(cases["crud"], expectations=(Expectation("test_create", Verdict.WORKS),))
    cells = results.ordered_cells(run.cells)
    (check,) = analysis.check_claims(crud, analysis.grid(cells), cells)
    assert check.status == "contradicted"
    assert check.agree == [
        "fastapi-minors-py3.11-fastapi0.113.0-pydanticany [edge]",
        "fastapi-minors-py3.11-fastapi0.114.0-pydanticany [edge]",
        "fastapi-minors-py3.11-fastapi0.115.0-pydanticany [edge]",
    ]
    assert [cid for cid, _ in check.differ] == [
        "fastapi-minors-py3.11-fastapi0.113.0-pydanticany [past-edge]",
        "fastapi-minors-py3.11-fastapi0.114.0-pydanticany [past-edge]",
        "fastapi-minors-py3.11-fastapi0.115.0-pydanticany [past-edge]",
    ]


def test_a_case_toml_with_a_bad_link_is_refused(tmp_path: Path) -> None:
    cases = write_cases(tmp_path)
    (cases / "crud" / "case.toml").write_text(
        'id = "crud"\ntitle = "CRUD"\nkind = "pattern"\n[[sources]]\ntitle = "x"\nurl = "javascript:alert(1)"\n'
    )
    with pytest.raises(CaseError, match=r"crud/case.toml: sources\[0\].url: expected an https:// address"):
        load_cases(cases)


def test_a_new_axis_in_a_group_shows_its_flips_in_the_report(tmp_path: Path) -> None:
    """No package is known by name: a group varying httpx gets its spans and flips named by httpx."""
    cells = []
    for version, outcome in (("0.27.2", "passed"), ("0.28.0", "failed"), ("0.28.1", "failed")):
        made = cell("0.115.0", "2.11.7", group="httpx-axis", extra={"httpx": version})
        made.cell = dataclasses.replace(made.cell, requested=(("fastapi", "0.115.0"), ("httpx", version)))
        made.tests = [t("literal_form", "test_bug", "bug", outcome)]
        cells.append(made)
    page = _page(tmp_path, RunResult(cells, generated="2026-11-25T00:00:00Z", matrix="m.toml"))
    assert '<th colspan="3" class="group" scope="colgroup">httpx-axis</th>' in page
    assert "<i>httpx releases (fastapi 0.115.0, python 3.11)</i>: reproduces at 0.27.2, fixed since 0.28.0" in page
    flip = "reproduces → fixed at httpx 0.28.0 (last reproduces: 0.27.2; observed)"
    assert flip in page and "caused by httpx 0.27.2 → 0.28.0" in page


def test_each_claim_shows_the_guides_words_and_each_deviation_its_reason(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert '<td class="quote"><q>Worked in 0.113.0</q></td><td>test_bug</td><td>fastapi==0.113.0</td>' in page
    assert "<td>the case</td><td><pre>@app.post(&#34;/&#34;) &lt;script&gt;" in page
    assert "<td><pre>@app.post(&#34;/form&#34;)</pre></td><td>one app holds both routes &lt;script&gt;" in page


def test_each_case_says_where_it_runs_and_why(tmp_path: Path) -> None:
    page = _page(tmp_path)
    assert '<p class="runs-in">Runs in: fastapi-minors (6 cells): Every FastAPI minor &lt;script&gt;' in page


def test_code_is_coloured_in_less_markup_and_stays_escaped() -> None:
    from pygments import highlight as pygments_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = f'# {HOSTILE}\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/")\n'
    code += "def root() -> dict:\n    return {}\n"
    shown = str(highlight(code))
    parser = _Text()
    parser.feed(shown)
    assert parser.text == code and HOSTILE not in shown  # every character, as text
    # On the project's own cases, a little over half of what Pygments' formatter writes.
    files = [code for case in load_cases(CASES).values() for code in case.files.values()]
    ours = sum(len(highlight(code)) for code in files)
    assert ours < 0.6 * sum(
        len(pygments_highlight(code, PythonLexer(), HtmlFormatter(cssclass="hl"))) for code in files
    )
    # Only the classes the style colours, each with its rule in the page's CSS.
    classes = set(re.findall(r'<span class="([^"]+)">', shown))
    assert {"k", "kn", "nd", "s2", "c1"} <= classes
    assert all(f".hl .{c} " in style_css() for c in classes)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data
