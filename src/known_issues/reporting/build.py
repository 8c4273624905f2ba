"""The static report: ``index.html`` (one self-contained offline file, everything escaped by the
template engine), ``summary.md`` and JUnit XML per cell, built from a merged run.

The page is the view model (``report_model``) rendered by a Jinja2 template with autoescape on;
its CSS and JavaScript are real files beside the template, inlined at build time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2
from markupsafe import Markup

from known_issues import PROJECT
from known_issues.catalog import Case
from known_issues.cell.atomic import write_text
from known_issues.reporting.diff import markdown_cell, to_markdown
from known_issues.reporting.junit import write_junit
from known_issues.reporting.view_model import Model, Page, Releases, build_page
from known_issues.results import BisectAnswer, RunResult

TEMPLATES = Path(__file__).with_name("templates")


def build(
    run: RunResult,
    cases: Mapping[str, Case],
    out: Path,
    baseline: RunResult | None = None,
    releases: Releases | None = None,
    bisected: Sequence[BisectAnswer] = (),
) -> Path:
    model = Model.of(run, cases, baseline, bisected)
    page = build_page(model, releases)
    index = out / "index.html"
    write_text(index, render_html(page))
    write_text(out / "summary.md", render_summary(page))
    write_junit(out / "junit", model.cells)
    return index


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["highlight"] = _highlight
    return env


def render_html(page: Page) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        page=page,
        project=PROJECT,
        # Our own files, not data: inlined as they are so the page works offline from file://.
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        js=Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
        pygments_css=Markup(_pygments_css()),
    )


def render_summary(page: Page) -> str:
    lines = [f"# {PROJECT}: summary", "", *page.summary_lines]
    if page.contradicted:
        lines += [
            "",
            "## Contradicted claims",
            "",
            "| case | the guide says | test | claimed | observed |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {case} | {markdown_cell(quote)} | {test} | {claimed} | {observed} |"
            for case, quote, test, claimed, observed in page.contradicted
        ]
    if page.flaky:
        lines += ["", "## Flaky verdicts", "", "| case | test | cell | observed |", "|---|---|---|---|"]
        lines += [f"| {f.case} | {f.test} | {f.cell} | {f.observations} |" for f in page.flaky]
    if page.changes is not None:
        lines += ["", to_markdown(page.changes, "Changes since the baseline")]
    return "\n".join(lines) + "\n"


def _highlight(code: str) -> Markup:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    # Pygments escapes the code it formats.
    return Markup(highlight(code, PythonLexer(), HtmlFormatter(cssclass="hl")))


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="friendly").get_style_defs(".hl"))
