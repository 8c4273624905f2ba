"""The report page in a real headless Chromium: numbers, filters, escaping, no network."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from fixtures import HOSTILE, run_with_every_verdict, write_cases

from known_issues.catalog import load_cases
from known_issues.reporting.build import build

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev dependency group")


def chromium_path() -> str:
    found = os.environ.get("KNOWN_ISSUES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is required for the report test: apt-get install chromium (nox -s tests does it as root)")
    return found


@pytest.fixture(scope="module")
def page_and_requests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, list[str]]]:
    folder = tmp_path_factory.mktemp("browser")
    index = build(run_with_every_verdict(), load_cases(write_cases(folder)), folder / "report")
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
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
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(index.as_uri())
            page.wait_for_load_state("load")
            yield page, requests
            # Beside the page it shows (pytest keeps the last runs' folders), never in the project's report/.
            page.screenshot(path=str(folder / "report" / "browser-test.png"), full_page=False)
        finally:
            browser.close()


def test_summary_numbers(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    assert page.inner_text('[data-testid="cases"]') == "2"
    assert page.inner_text('[data-testid="cells"]') == "6"
    assert page.inner_text('[data-testid="issues-reproducing"]') == "1"
    assert page.inner_text('[data-testid="broken-on-newest"]') == "1"
    assert page.inner_text('[data-testid="claims-contradicted"]') == "1"


def test_verdict_symbols_are_text_with_labels(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    row = page.locator('tr.test[data-case="literal_form"]').first
    reproduces = row.locator('td[title*="fastapi-minors-py3.11-fastapi0.114.0-pydanticany"]')
    assert (reproduces.inner_text(), reproduces.get_attribute("aria-label")) == ("R", "bug reproduces")
    fixed = row.locator('td[title*="fastapi-minors-py3.11-fastapi0.113.0-pydanticany"]')
    assert (fixed.inner_text(), fixed.get_attribute("aria-label")) == ("F", "bug fixed (behaviour gone)")
    cell_status = row.locator('td[title*="fastapi-minors-py3.11-fastapi9.9.9-pydanticany"]')
    assert (cell_status.inner_text(), cell_status.get_attribute("aria-label")) == ("NI", "not installable")


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


def test_each_finding_links_to_its_row_and_its_case(page_and_requests: tuple) -> None:
    page, _ = page_and_requests
    link = page.locator('#first-broken-on-newest a[href^="#row-"]').first
    target = link.get_attribute("href")
    row = page.locator(f"tr.test{target}")
    assert row.count() == 1 and "test_omit_field" in row.locator("th").inner_text()
    link.click()
    assert page.evaluate("location.hash") == target
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
