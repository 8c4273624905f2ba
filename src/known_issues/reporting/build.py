"""The static report: ``index.html`` (one self-contained offline file, everything escaped by the
template engine), ``summary.md``, JUnit XML per cell, and what people subscribe to: the guide's
errata (``errata.md``), a status file per case (``status/``, ``status.json``) and the feed of verdict
changes (``changes.atom``), built from a merged run.

The page is the view model (``report_model``) rendered by a Jinja2 template with autoescape on;
its CSS and JavaScript are real files beside the template, inlined at build time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from known_issues import PROJECT
from known_issues.catalog import Case
from known_issues.cell.atomic import write_text
from known_issues.guide import Guide
from known_issues.narrowing import Narrowed
from known_issues.reporting import embedded
from known_issues.reporting import errata as errata_mod
from known_issues.reporting import feed as feed_mod
from known_issues.reporting.diff import markdown_cell, to_markdown
from known_issues.reporting.highlight import highlight, style_css
from known_issues.reporting.junit import write_junit
from known_issues.reporting.markdown import text
from known_issues.reporting.model import Model, column_anchor, row_anchor
from known_issues.reporting.status import write_status
from known_issues.reporting.view_model import Page, Releases, build_page
from known_issues.results import BisectAnswer, CellResult, RunResult
from known_issues.run_files import safe

TEMPLATES = Path(__file__).with_name("templates")
ERRATA = "errata.md"
FEED_LINES = 30  # this run's feed entries listed in summary.md (and so in the scheduled issue)


@dataclass(frozen=True)
class Subscriptions:
    """What summary.md (the scheduled issue's body) links: the errata, the status and this run's feed entries."""

    errata: int
    entries: Sequence[feed_mod.FeedEntry]
    site_url: str = ""


def build(
    run: RunResult,
    cases: Mapping[str, Case],
    out: Path,
    baseline: RunResult | None = None,
    releases: Releases | None = None,
    bisected: Sequence[BisectAnswer] = (),
    narrowed: Sequence[Narrowed] = (),
    guide_groups: Sequence[str] = (),
    guide: Guide | None = None,
    site_url: str = "",
) -> Path:
    """Write every output into ``out``. ``guide_groups``: the groups of the versions the guide names
    (matrix.toml ``guide = true``); ``guide``: its text, to order the errata as the guide is;
    ``site_url``: where the report is published (absolute links in the feed, errata and summary)."""
    site_url = site_url.rstrip("/") + "/" if site_url else ""
    between = getattr(releases, "between", None)
    out_since = getattr(releases, "out_since", None)
    is_new = out_since(baseline) if out_since is not None and baseline is not None else None
    model = Model.of(run, cases, baseline, bisected, narrowed, between, is_new)
    page = build_page(model, releases, logs_of(out, model.cells))
    errata = errata_mod.collect(model, guide_groups, guide)
    write_text(out / ERRATA, errata_mod.render(errata, model, site_url))
    write_status(model, out)
    entries = feed_mod.write_feed(model, out, site_url)
    index = out / "index.html"
    write_text(index, render_html(page))
    write_text(out / "summary.md", render_summary(page, Subscriptions(len(errata.entries), entries, site_url)))
    write_junit(out / "junit", model.cells)
    return index


def logs_of(out: Path, cells: Sequence[CellResult]) -> dict[str, list[str]]:
    """Each cell's pytest output in ``out/logs/`` (its run, then its re-runs), relative to the page: a cell
    served whole from the result store may have none, and the page links only the files that exist."""
    folder = out / "logs"
    found: dict[str, list[str]] = {}
    for cell in cells:
        stem = safe(cell.id)
        names = [f"{stem}.log"] if (folder / f"{stem}.log").is_file() else []
        reruns = [p.name for p in folder.glob(f"{stem}.confirm*.log") if p.name[len(stem) + 8 : -4].isdigit()]
        names += sorted(reruns, key=lambda name: int(name[len(stem) + 8 : -4]))
        found[cell.id] = [f"logs/{name}" for name in names]
    return found


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["highlight"] = highlight
    return env


def render_html(page: Page) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(
        page=page,
        anchor=row_anchor,
        column=column_anchor,
        # Escaped for a <script> element (embedded.to_script): the script reads it with JSON.parse.
        data=Markup(embedded.to_script(page.data)),
        project=PROJECT,
        # Our own files, not data: inlined as they are so the page works offline from file://.
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        js=Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
        pygments_css=Markup(style_css()),
    )


def render_summary(page: Page, subscriptions: Subscriptions | None = None) -> str:
    lines = [f"# {PROJECT}: summary", "", *page.summary_lines]
    if subscriptions is not None:
        lines += ["", *_subscription_lines(subscriptions)]
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
        lines += ["", to_markdown(page.changes, "What each release changed since the baseline")]
    return "\n".join(lines) + "\n"


def _subscription_lines(s: Subscriptions) -> list[str]:
    site = s.site_url
    lines = [
        "## Errata, status and feed",
        "",
        f"- [Errata for the guide]({site}{ERRATA}): {s.errata} claim(s) contradicted on the newest release "
        "or on the guide's own versions",
        f"- [Status per case]({site}status.json), a shields.io endpoint badge per case in `status/`",
        f"- [Feed of verdict changes]({site}{feed_mod.FEED}): {len(s.entries)} "
        + ("entry" if len(s.entries) == 1 else "entries")
        + " from this run",
    ]
    for e in s.entries[:FEED_LINES]:
        lines.append(f"  - [{text(e.title)}]({site}{e.link}) (`{e.id}`)")
    if len(s.entries) > FEED_LINES:
        lines.append(f"  - and {len(s.entries) - FEED_LINES} more in the feed")
    return lines
