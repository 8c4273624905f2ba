"""The report page in a real headless Chromium: numbers, filters, escaping, no network, links that bring a
row and a column into view, a cell's details on a tap, a phone's width, the compare form, and the page's
weight for a run of today's size (printed, and written beside that page as measurements.json)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from fixtures import HOSTILE, run_with_every_verdict, write_cases
from today_sized import CASES, today_sized_run

from known_issues.catalog import load_cases
from known_issues.reporting import compare
from known_issues.reporting.build import build
from known_issues.reporting.model import Model, column_anchor, row_anchor
from known_issues.run_files import safe

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev dependency group")

MAX_BYTES = 2_000_000
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
FIXED_CELL = "fastapi-minors-py3.11-fastapi0.113.0-pydanticany"  # literal_form's bug is fixed there
LOG = "collected 5 items\ncases/literal_form/test_literal_form.py F....\n"


def chromium_path() -> str:
    found = os.environ.get("KNOWN_ISSUES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is required for the report test: apt-get install chromium (nox -s tests does it as root)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    out = folder / "report"
    # A cell's pytest output, as a run leaves it: the details of that cell link it.
    (out / "logs").mkdir(parents=True)
    (out / "logs" / f"{safe(FIXED_CELL)}.log").write_text(LOG)
    return build(run_with_every_verdict(), load_cases(write_cases(folder)), out)


@pytest.fixture(scope="module")
def page_and_requests(browser: Any, fixture_report: Path) -> Iterator[tuple[Any, list[str]]]:
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("request", lambda r: requests.append(r.url))
    page.goto(fixture_report.as_uri())
    page.wait_for_load_state("load")
    yield page, requests
    # Beside the page it shows (pytest keeps the last runs' folders), never in the project's report/.
    page.screenshot(path=str(fixture_report.parent / "browser-test.png"), full_page=False)
    page.close()


@pytest.fixture(scope="module")
def today(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Model]:
    """The page of a run of today's size, and the analysis it was built from."""
    run = today_sized_run()
    cases = load_cases(CASES)
    index = build(run, cases, tmp_path_factory.mktemp("today") / "report")
    return index, Model.of(run, cases)


@pytest.fixture(scope="module")
def measured(today: tuple[Path, Model], pytestconfig: pytest.Config) -> Iterator[dict[str, Any]]:
    """What the browser tests measure on the today-sized page: written beside it and printed at the end
    (past pytest's capture, so that a plain run shows them)."""
    found: dict[str, Any] = {}
    yield found
    path = today[0].parent / "measurements.json"
    path.write_text(json.dumps(found, indent=2))
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print(f"\nreport page measurements, today-sized run ({path}):\n{json.dumps(found, indent=2)}")


def by_id(ident: str) -> str:
    """A selector for an id (a column's has dots, which a plain #id selector reads as classes)."""
    return f'[id="{ident}"]'


def _cell(page: Any, case: str, test: str, cell_id: str) -> Any:
    """The grid cell of a test in a cell's column (the row's first child is its header)."""
    column = page.evaluate(f"document.getElementById('{column_anchor(cell_id)}').cellIndex")
    return page.locator(f"{by_id(row_anchor(case, test))} > :nth-child({column + 1})")


# ---- the fixture run -------------------------------------------------------------------------


def test_summary_numbers(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    assert page.inner_text('[data-testid="cases"]') == "2"
    assert page.inner_text('[data-testid="cells"]') == "6"
    assert page.inner_text('[data-testid="issues-reproducing"]') == "1"
    assert page.inner_text('[data-testid="broken-on-newest"]') == "1"
    assert page.inner_text('[data-testid="claims-contradicted"]') == "1"


def test_verdict_symbols_are_text_and_a_click_gives_their_label(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    assert page.locator("td[title], th[title]").count() == 0  # details on demand, not tooltips
    expected = [
        ("fastapi-minors-py3.11-fastapi0.114.0-pydanticany", "R", "bug reproduces"),
        (FIXED_CELL, "F", "bug fixed (behaviour gone)"),
        ("fastapi-minors-py3.11-fastapi9.9.9-pydanticany", "NI", "not installable"),
        ("fastapi-minors-py3.11-fastapi0.101.0-pydanticany", "E", "error (environment): the suite could not observe"),
    ]
    try:
        for cell_id, symbol, label in expected:
            cell = _cell(page, "literal_form", "test_bug", cell_id)
            assert cell.inner_text() == symbol
            cell.click()
            assert page.locator("#panel").is_visible()
            assert page.inner_text("#panel-title") == label
            assert cell_id in page.inner_text("#panel-body")
            assert cell.get_attribute("aria-label") == f"{label} — {cell_id}"  # for a screen reader, on focus
    finally:
        page.click("#panel-close")
    assert page.locator("#panel").is_hidden()


def test_the_keyboard_moves_in_the_grid_and_enter_opens_the_details(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    start = _cell(page, "literal_form", "test_bug", FIXED_CELL)
    start.click()
    page.keyboard.press("Escape")
    assert page.locator("#panel").is_hidden()
    start.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    try:
        assert page.inner_text("#panel-title") == "bug reproduces"
        assert "fastapi-minors-py3.11-fastapi0.114.0-pydanticany" in page.inner_text("#panel-body")
    finally:
        page.keyboard.press("Escape")


def test_a_tap_on_a_cell_shows_its_message_and_links_its_log_and_junit_file(browser: Any, fixture_report: Path) -> None:
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(fixture_report.as_uri())
        _cell(page, "literal_form", "test_bug", FIXED_CELL).tap()
        panel = page.locator("#panel")
        assert panel.is_visible()
        body = page.inner_text("#panel-body")
        assert f"AssertionError: 200 != 422 {HOSTILE}" in body  # the message, as text
        assert page.evaluate("window.__pwned === undefined")
        assert "2026-11-25T00:00:00Z" in body and "python" in body and "requested" in body
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        stem = safe(FIXED_CELL)
        log = panel.get_by_role("link", name="pytest log")
        junit = panel.get_by_role("link", name="JUnit XML")
        assert (log.get_attribute("href"), junit.get_attribute("href")) == (f"logs/{stem}.log", f"junit/{stem}.xml")
        # Relative to the page, and there: the log as the run left it, the JUnit file with this test in it.
        assert Path(unquote(urlparse(log.evaluate("a => a.href")).path)).read_text() == LOG
        suite = ET.parse(unquote(urlparse(junit.evaluate("a => a.href")).path)).getroot()
        assert suite.get("name") == FIXED_CELL and suite.find("testcase[@name='test_bug']") is not None
        assert all(url.startswith("file://") for url in requests), requests
    finally:
        context.close()


def test_a_column_header_gives_the_cells_details(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    page.click(by_id(column_anchor("fastapi-minors-py3.11-fastapi0.114.0-pydanticany")))
    try:
        assert page.inner_text("#panel-title") == "cell fastapi-minors-py3.11-fastapi0.114.0-pydanticany"
        body = page.inner_text("#panel-body")
        assert "extra pins" in body and "httpx<0.28 (old TestClient)" in body and "JUnit XML" in body
        assert "no log in logs/" in body  # nothing was left there for this cell
    finally:
        page.click("#panel-close")


def test_filters_hide_rows(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    visible = page.locator("tr.test:visible")
    assert visible.count() == 5
    page.check("#f-contradicted")
    assert visible.count() == 3  # the literal_form case has the contradicted claim
    page.uncheck("#f-contradicted")
    page.check("#f-changing")
    assert sorted(visible.locator("th").all_inner_texts()) == ["bug test_bug", "workaround test_omit_field"]
    page.uncheck("#f-changing")
    page.uncheck('.f-kind[value="pattern"]')
    assert visible.count() == 3
    page.check('.f-kind[value="pattern"]')
    page.select_option("#f-verdict", "error")
    assert (
        visible.count() == 5
    )  # every row has an error cell (the fastapi-minors-py3.11-fastapi0.101.0-pydanticany column)
    page.select_option("#f-verdict", "")


def test_hostile_content_is_text(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("img[src=x]").count() == 0
    page.locator("#case-literal_form > summary").click()
    assert HOSTILE in page.inner_text("#case-literal_form")
    # A test's message in its case's details, from the page's data when opened: text too.
    message = page.locator("#case-literal_form details.msg", has_text=FIXED_CELL)
    message.locator("summary").click()
    assert HOSTILE in message.locator("pre").inner_text()
    assert page.evaluate("window.__pwned === undefined") and page.locator("img[src=x]").count() == 0
    page.evaluate("document.getElementById('case-literal_form').open = false")


def test_no_request_leaves_the_page(page_and_requests: tuple) -> None:
    _, requests = page_and_requests
    assert requests and all(url.startswith("file://") for url in requests), requests


FIRST = ["issues-reproducing", "broken-on-newest", "claims-contradicted", "changed-since-baseline"]


def test_the_findings_list_is_above_the_matrix_and_repeats_the_cards(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    first, matrix = page.locator("#first").bounding_box(), page.locator("#matrix").bounding_box()
    assert first["y"] + first["height"] <= matrix["y"]
    for ident in FIRST:
        card = page.inner_text(f'[data-testid="{ident}"]')
        assert page.inner_text(f'[data-testid="first-{ident}"]') == card, ident
    # The fixture's newest cell: one bug reproduces, one workaround is broken, one case's claim is contradicted.
    bugs = page.locator("#first-issues-reproducing li")
    assert bugs.count() == 1 and "test_bug" in bugs.inner_text()
    assert bugs.locator('a[href="https://github.com/fastapi/fastapi/issues/12245"]').count() == 1  # its upstream issue
    # Since when: the change into "reproduces" along the line (not exact: no index in this fixture).
    assert "since fastapi 0.114.0 or earlier (last fixed seen: 0.113.0)" in bugs.inner_text()
    assert "TypeError: boom" in page.inner_text("#first-broken-on-newest")


def test_each_finding_links_to_its_row_its_column_and_its_case(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    link = page.locator('#first-broken-on-newest a[href^="#row-"]').first
    target = link.get_attribute("href")
    row_id, column_id = target[1:].split("&")
    assert column_id == column_anchor("fastapi-minors-py3.11-fastapi0.115.0-pydanticany")  # the newest cell
    row = page.locator(f"tr.test#{row_id}")
    assert row.count() == 1 and "test_omit_field" in row.locator("th").inner_text()
    link.click()
    _highlighted(page, row_id)
    assert page.evaluate("location.hash") == target
    assert "hl" in row.get_attribute("class") and "hlc" in page.locator(by_id(column_id)).get_attribute("class")
    case = page.locator('#first-broken-on-newest a[href="#case-literal_form"]')
    case.click()
    assert page.evaluate("document.getElementById('case-literal_form').open")
    page.evaluate("document.getElementById('case-literal_form').open = false")  # as the other tests found it


def test_the_case_column_stays_in_view_while_scrolling_sideways(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    scroll = page.locator("#matrix .scroll")
    # Narrow the matrix so that it scrolls sideways, then scroll to its right end.
    page.evaluate("document.querySelector('#matrix .scroll').style.width = '420px'")
    page.evaluate("document.querySelector('#matrix .scroll').scrollLeft = 10000")
    try:
        assert page.evaluate("document.querySelector('#matrix .scroll').scrollLeft") > 0
        left = scroll.bounding_box()["x"]
        for header in (page.locator("tr.test th.rowhead").first, page.locator("tr.case th.rowhead").first):
            assert abs(header.bounding_box()["x"] - left) <= 2
    finally:
        page.evaluate("var s = document.querySelector('#matrix .scroll'); s.scrollLeft = 0; s.style.width = ''")


# ---- a run of today's size -------------------------------------------------------------------

IN_VIEW = """([rowId, columnId]) => {
  const scroller = document.querySelector('#matrix .scroll'), box = scroller.getBoundingClientRect();
  const top = document.querySelector('table.grid thead').getBoundingClientRect().bottom;
  const left = document.querySelector('tr.cols th.rowhead').getBoundingClientRect().right;
  const bottom = box.top + scroller.clientTop + scroller.clientHeight;
  const right = box.left + scroller.clientLeft + scroller.clientWidth;
  const out = {};
  if (rowId) {
    const row = document.getElementById(rowId), r = row.getBoundingClientRect();
    out.row = {top: r.top, bottom: r.bottom, headerBottom: top, boxBottom: bottom,
      highlighted: row.classList.contains('hl'),
      inView: r.top >= top - 1 && r.bottom <= bottom + 1 && r.top >= 0 && r.bottom <= innerHeight};
  }
  if (columnId) {
    const th = document.getElementById(columnId), c = th.getBoundingClientRect();
    out.column = {left: c.left, right: c.right, stickyRight: left, boxRight: right,
      highlighted: th.classList.contains('hlc'), index: th.cellIndex, of: th.parentNode.cells.length - 1,
      inView: c.left >= left - 1 && c.right <= right + 1 && c.left >= 0 && c.right <= innerWidth};
  }
  if (rowId && columnId) {
    const cell = document.getElementById(rowId).cells[document.getElementById(columnId).cellIndex];
    out.cellHighlighted = cell.classList.contains('hlc');
  }
  return out;
}"""


def _highlighted(page: Any, row_id: str) -> None:
    """Wait (on a loaded machine) until the page has followed the link to that row."""
    page.wait_for_function("id => document.getElementById(id).classList.contains('hl')", arg=row_id, timeout=10_000)


def _in_view(page: Any, row_id: str, column_id: str | None) -> dict[str, Any]:
    """Where the row and the column are once the page has settled: a load with a fragment in the address
    has a second pass after the browser's own jump to it, so wait a while for both to be in view (the
    caller asserts what is found then)."""
    settled = f"args => {{ const r = ({IN_VIEW})(args); return r.row.inView && (!r.column || r.column.inView); }}"
    with contextlib.suppress(playwright.TimeoutError):
        page.wait_for_function(settled, arg=[row_id, column_id], timeout=3_000)
    return page.evaluate(IN_VIEW, [row_id, column_id])


def _first_finding(page: Any) -> tuple[str, str]:
    href = page.locator('#first-issues-reproducing a[href*="&col-"]').first.get_attribute("href")
    row_id, column_id = href[1:].split("&")
    return row_id, column_id


def test_a_finding_brings_its_row_and_the_newest_column_into_view(
    browser: Any, today: tuple[Path, Model], measured: dict[str, Any]
) -> None:
    index, model = today
    newest = model.newest()
    assert newest is not None
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(index.as_uri())
        row_id, column_id = _first_finding(page)
        assert column_id == column_anchor(newest.id)
        before = page.evaluate(IN_VIEW, [row_id, column_id])
        assert before["column"]["index"] == 66 and before["column"]["of"] == 137  # in the middle of the matrix
        assert not before["row"]["inView"] and not before["column"]["inView"]
        page.locator(f'#first a[href="#{row_id}&{column_id}"]').first.click()
        _highlighted(page, row_id)
        after = page.evaluate(IN_VIEW, [row_id, column_id])
        measured["after a click on the first finding (1280x800)"] = after
        assert after["row"]["inView"] and after["column"]["inView"], after
        assert after["row"]["highlighted"] and after["column"]["highlighted"] and after["cellHighlighted"]
        # A second click on the same link, after scrolling away, brings them back (no hashchange then).
        page.evaluate("window.scrollTo(0, 0); document.querySelector('#matrix .scroll').scrollLeft = 0")
        page.evaluate("document.querySelectorAll('.hl').forEach(e => e.classList.remove('hl'))")
        page.locator(f'#first a[href="#{row_id}&{column_id}"]').first.click()
        _highlighted(page, row_id)
        again = page.evaluate(IN_VIEW, [row_id, column_id])
        assert again["row"]["inView"] and again["column"]["inView"], again
    finally:
        page.close()


def test_a_shared_link_opens_with_its_row_and_column_in_view(
    browser: Any, today: tuple[Path, Model], measured: dict[str, Any]
) -> None:
    index, model = today
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(index.as_uri())
        row_id, column_id = _first_finding(page)
        page.goto(f"{index.as_uri()}#{row_id}&{column_id}")
        page.reload()  # a fresh load with the fragment in the address
        _highlighted(page, row_id)
        found = _in_view(page, row_id, column_id)
        measured["loaded with #row&col (1280x800)"] = found
        assert found["row"]["inView"] and found["column"]["inView"] and found["cellHighlighted"], found
        # A plain row link still works: the row below the sticky header, highlighted.
        other = row_anchor(*sorted(model.rows)[-1])
        page.goto(f"{index.as_uri()}#{other}")
        page.reload()
        _highlighted(page, other)
        plain = _in_view(page, other, None)
        assert plain["row"]["inView"] and plain["row"]["highlighted"], plain
        assert page.locator(".hlc").count() == 0
    finally:
        page.close()


def test_on_a_phone_nothing_overflows_and_the_first_finding_is_near_the_top(
    browser: Any, today: tuple[Path, Model], measured: dict[str, Any]
) -> None:
    index, _ = today
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(index.as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        first = page.locator("#first .first li").first.bounding_box()
        measured["390x844"] = {"document scrollWidth": width, "first finding y": first["y"]}
        assert width <= 390
        assert first["y"] + first["height"] <= 844  # on the first screen, above the summary cards
        # Open what can be opened (every case, its messages, a cell's details): still no overflow.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        row_id, column_id = _first_finding(page)
        page.locator(f'#first a[href="#{row_id}&{column_id}"]').first.tap()
        _highlighted(page, row_id)
        found = page.evaluate(IN_VIEW, [row_id, column_id])
        measured["390x844"]["after a tap on the first finding"] = found
        assert found["row"]["inView"] and found["column"]["inView"], found
        page.locator(f"{by_id(row_id)} > :nth-child({found['column']['index'] + 1})").tap()
        assert page.locator("#panel").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        measured["390x844"]["document scrollWidth with everything open"] = width
        assert width <= 390
    finally:
        context.close()


WEIGH = """() => ({
  bytes: performance.getEntriesByType('navigation')[0].encodedBodySize,
  elements: document.getElementsByTagName('*').length,
  nodes: (() => {
    let n = 0;
    const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
    while (walker.nextNode()) n++;
    return n;
  })(),
  cells: document.querySelectorAll('table.grid td').length,
  rows: document.querySelectorAll('tr.test').length,
  columns: document.querySelectorAll('th.cellhead').length,
})"""


def _weigh(browser: Any, index: Path) -> dict[str, Any]:
    """The page's bytes as the browser loaded them, and the size of the DOM it made of them."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(index.as_uri())
        return dict(page.evaluate(WEIGH))
    finally:
        page.close()


def test_the_page_of_todays_size_weighs_at_most_2_mb(
    browser: Any, today: tuple[Path, Model], fixture_report: Path, measured: dict[str, Any]
) -> None:
    index, _ = today
    found = _weigh(browser, index)
    measured["page"] = found
    measured["the fixture run's page"] = _weigh(browser, fixture_report)
    assert found["bytes"] == index.stat().st_size
    assert (found["rows"], found["columns"]) == (330, 137)
    assert found["bytes"] <= MAX_BYTES


COMPARED = [("fastapi", None, None), ("fastapi", "0.128.", "0.165.0"), ("pydantic", None, None)]


@pytest.mark.parametrize(("package", "low", "high"), COMPARED)
def test_the_compare_form_gives_what_nox_compare_prints(
    browser: Any, today: tuple[Path, Model], package: str, low: str | None, high: str | None
) -> None:
    index, model = today
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(index.as_uri())
        page.select_option("#cmp-package", package)
        releases = page.eval_on_selector_all("#cmp-from option", "os => os.map(o => o.value)")
        low = next(r for r in releases if r.startswith(low)) if low else releases[0]
        high = high or releases[-1]
        page.select_option("#cmp-from", low)
        page.select_option("#cmp-to", high)
        shown = page.eval_on_selector_all(
            "#cmp-out tr",
            "rows => rows.filter(r => r.querySelector('td'))"
            ".map(r => [r.querySelector('a').getAttribute('href'), r.cells[1].dataset.v, r.cells[2].dataset.v])",
        )
        summary = page.inner_text("#cmp-out p")
    finally:
        page.close()
    expected = compare.compare(model, package, low, high)
    listed = expected.differences + expected.unknown
    assert sorted(shown) == sorted(
        [f"#{row_anchor(d.case, d.test)}", str(d.old or "unknown"), str(d.new or "unknown")] for d in listed
    )
    assert f"{len(expected.differences)} test verdict(s) differ" in summary
    assert f"; {expected.same} the same" in summary
    assert listed, "the comparison should find something to compare in this run"
