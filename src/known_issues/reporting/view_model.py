"""The report's view model: everything the page and summary.md show, computed from typed results.

No markup here: the template renders these records (with autoescape on). Nothing knows a package
or a group by name; the axes are whatever the groups declare.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from known_issues import results
from known_issues.catalog import KINDS
from known_issues.cell.verdicts import Reason, Role, Verdict
from known_issues.outcomes import FROM_CELL, NO_CHANGE_SIGNAL, WITH_FAILURE_MESSAGE
from known_issues.reporting import analysis, embedded
from known_issues.reporting.analysis import ClaimCheck, TestRow
from known_issues.reporting.diff import needs_attention
from known_issues.reporting.first_findings import FirstFinding, first_findings, issues_note
from known_issues.reporting.history import Boundary
from known_issues.reporting.model import ROLE_ORDER, Link, Model, column_anchor, row_anchor, versions_text
from known_issues.reporting.releases import Changes
from known_issues.reporting.status import reproducing_issues
from known_issues.results import CellResult

SYMBOLS: dict[Verdict, tuple[str, str]] = {
    Verdict.REPRODUCES: ("R", "bug reproduces"),
    Verdict.FIXED: ("F", "bug fixed (behaviour gone)"),
    Verdict.HOLDS: ("H", "workaround holds"),
    Verdict.WORKS: ("W", "pattern works"),
    Verdict.BROKEN: ("B", "broken (the documented code fails or raises)"),
    Verdict.FLAKY: ("~", "flaky: did not repeat when re-run"),
    Verdict.ERROR: ("E", "error: the suite could not observe"),
    Verdict.NA: ("–", "n/a: feature absent in this version"),
    Verdict.NOT_INSTALLABLE: ("NI", "not installable"),
    Verdict.INCOMPATIBLE: ("IC", "incompatible: framework fails its smoke check"),
    Verdict.NOT_RUN: ("", "not run in this cell"),
}
NO_CHANGE = FROM_CELL | NO_CHANGE_SIGNAL


class Releases(Protocol):
    """Release dates and pages, from the package index (None when unknown)."""

    def released(self, name: str, version: str) -> str | None: ...

    def project_page(self, name: str, version: str) -> str | None: ...


# One short class per verdict: the grid has some 45,000 cells, each written as ``<td class=r>R``.
CSS: dict[Verdict, str] = {
    Verdict.REPRODUCES: "r",
    Verdict.FIXED: "f",
    Verdict.HOLDS: "h",
    Verdict.WORKS: "w",
    Verdict.BROKEN: "b",
    Verdict.FLAKY: "k",
    Verdict.ERROR: "e",
    Verdict.NA: "a",
    Verdict.NOT_INSTALLABLE: "ni",
    Verdict.INCOMPATIBLE: "ic",
    Verdict.NOT_RUN: "",
}


def css_class(verdict: Verdict) -> str:
    return CSS[verdict]


@dataclass(frozen=True)
class Card:
    ident: str
    title: str
    number: str
    note: str


@dataclass(frozen=True)
class Mark:
    """One verdict as the grid shows it: a text symbol and a colour (from the verdict). What it means and
    the details of the cell are in the page's data, shown on demand."""

    verdict: Verdict

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.verdict][0]

    @property
    def css(self) -> str:
        return css_class(self.verdict)


@dataclass(frozen=True)
class Column:
    cell_id: str
    group: str
    short: str
    detail: list[tuple[str, str]]  # what the details panel lists, (what, value)
    markers: str
    anchor: str  # the header's id: a link can bring the column into view


@dataclass
class GridRow:
    anchor: str
    case: str
    kind: str
    claim: str
    role: Role
    test: str
    verdicts: str  # "|"-joined, for the filter
    changing: bool
    marks: list[Mark]


@dataclass
class CaseRows:
    slug: str
    title: str
    kind: str
    claim: str
    rows: list[GridRow]


@dataclass
class FlipView:
    text: str
    responsible: str
    links: list[Link]


@dataclass
class GroupView:
    group: str
    spans: str
    flips: list[FlipView]


@dataclass
class Message:
    index: int  # in the page data's table of messages (the page shows it when opened)
    cells: list[str]


@dataclass
class TestDetail:
    role: Role
    test: str
    note: str
    groups: list[GroupView]
    messages: list[Message]


@dataclass
class CheckView:
    test: str
    where: str
    expected: str
    observed: str
    differ: str
    status: str
    quote: str = ""


@dataclass(frozen=True)
class DeviationView:
    where: str  # the printed file, or "" for a deviation of the case as a whole
    guide: str
    ours: str
    why: str


@dataclass
class CaseDetail:
    slug: str
    title: str
    kind: str
    claim_status: str
    summary: str
    sources: list[Link]
    claim_section: str
    claim_text: str
    checks: list[CheckView]
    tests: list[TestDetail]
    files: dict[str, str]
    known: bool = True
    printed: list[str] = field(default_factory=list)  # "file: the guide's block under <section>"
    runs_in: list[str] = field(default_factory=list)  # "servers (7 cells): what the group is for"
    deviations: list[DeviationView] = field(default_factory=list)


@dataclass
class FindingView:
    symbol: str
    css: str
    title: str
    text: str
    detail: str = ""


@dataclass
class FlakyView:
    cell: str
    case: str
    test: str
    observations: str


@dataclass
class Page:
    generated: str
    matrix: str
    cards: list[Card]
    legend: list[tuple[Mark, str]]
    kinds: list[str]
    verdict_options: list[str]
    groups: list[tuple[str, int]]
    columns: list[Column]
    cases_rows: list[CaseRows]
    first: list[FirstFinding]
    findings: list[FindingView]
    flaky: list[FlakyView]
    changes: Changes | None
    details: list[CaseDetail]
    newest: str
    summary_lines: list[str] = field(default_factory=list)
    contradicted: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # case, quote, test, ...
    data: dict[str, Any] = field(default_factory=dict)  # what the page's script reads (embedded.py)


def build_page(model: Model, releases: Releases | None = None, logs: Mapping[str, Sequence[str]] | None = None) -> Page:
    """``logs``: each cell's log files, relative to the page (the details of a cell link them)."""
    verdicts, reasons = model.on_newest()
    newest = model.newest()
    columns = _columns(model.cells)
    cases_rows = [_case_rows(model, slug) for slug in model.case_order()]
    keys = [(row.case, row.test) for block in cases_rows for row in block.rows]
    data = embedded.page_data(model, keys, columns, logs or {}, SYMBOLS, CSS)
    messages = embedded.message_index(data)
    return Page(
        generated=model.run.generated,
        matrix=model.run.matrix,
        cards=_cards(model, verdicts, reasons),
        legend=[(Mark(v), label) for v, (_, label) in SYMBOLS.items() if v != Verdict.NOT_RUN],
        kinds=list(KINDS),
        verdict_options=[v.value for v in SYMBOLS if v != Verdict.NOT_RUN],
        groups=_groups(model.cells),
        columns=columns,
        cases_rows=cases_rows,
        first=first_findings(model),
        findings=_findings(model.cells),
        flaky=_flaky(model),
        changes=model.changes,
        details=[_detail(model, slug, releases, messages) for slug in model.case_order()],
        newest=versions_text(newest) if newest else "",
        summary_lines=_summary_lines(model, verdicts, reasons),
        contradicted=_contradicted(model),
        data=data,
    )


def _reasons_text(reasons: Counter[Reason]) -> str:
    return ", ".join(f"{n} {r}" for r, n in reasons.most_common()) or "none"


def _cards(model: Model, verdicts: Counter[Verdict], reasons: Counter[Reason]) -> list[Card]:
    statuses = analysis.cell_statuses(model.cells)
    cards = [
        Card("cases", "Cases", str(len(model.cases)), "documented issues and patterns"),
        Card("cells", "Cells", str(len(model.cells)), ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))),
    ]
    issues = reproducing_issues(model)
    counts = Counter({t: len(slugs) for t, slugs in issues.items()})
    cards.append(
        Card(
            "issues-reproducing",
            "Documented issues reproducing",
            str(sum(counts.values())),
            f"{issues_note(counts)}; each at the newest release that runs it",
        )
    )
    broken = sum(1 for slug in model.case_order() if model.broken(slug)[1])
    cards.append(
        Card("broken-on-newest", "Cases broken", str(broken), "a documented workaround or pattern fails or raises")
    )
    newest = model.newest()
    if newest is not None:
        cards.append(
            Card(
                "suite-errors-on-newest",
                "Suite errors on newest",
                str(verdicts[Verdict.ERROR]),
                f"could not observe: {_reasons_text(reasons)}",
            )
        )
    flaky = sum(1 for row in model.rows.values() for s_ in row.cells.values() if s_.verdict == Verdict.FLAKY)
    cards.append(Card("flaky", "Flaky", str(flaky), "verdicts that did not repeat when re-run (all cells)"))
    claims = Counter(str(model.claim_of(slug)) for slug in model.cases)
    cards.append(
        Card(
            "claims-contradicted",
            "Claims contradicted",
            str(claims["contradicted"]),
            f"{claims['confirmed']} confirmed, {claims['unverifiable']} unverifiable, "
            f"{claims['no claim']} without a claim (per case)",
        )
    )
    if model.changes is not None:
        attention = len(needs_attention(model.changes))
        cards.append(
            Card(
                "changed-since-baseline",
                "Changed since baseline",
                str(model.changes.count()),
                f"{attention} need attention; one per release and test",
            )
        )
    else:
        cards.append(Card("changed-since-baseline", "Changed since baseline", "–", "no baseline given"))
    return cards


def _groups(cells: Sequence[CellResult]) -> list[tuple[str, int]]:
    groups: list[tuple[str, int]] = []
    for cell in cells:
        if groups and groups[-1][0] == cell.cell.group:
            groups[-1] = (cell.cell.group, groups[-1][1] + 1)
        else:
            groups.append((cell.cell.group, 1))
    return groups


def _columns(cells: Sequence[CellResult]) -> list[Column]:
    """A header per cell naming what varies in its group (the resolved versions), the rest in its details."""
    groups = results.by_group(cells)
    varying: dict[str, list[str]] = {}
    for name, group_cells in groups.items():
        declared = [*group_cells[0].cell.axes, "python"]
        ran = [c for c in group_cells if c.ran] or group_cells
        varying[name] = [a for a in declared if len({c.version_of(a) for c in ran}) > 1] or declared[:1]
    return [_column(c, varying[c.cell.group]) for c in cells]


def _column(cell: CellResult, axes: Sequence[str]) -> Column:
    short = " · ".join(f"{a} {cell.version_of(a)}" for a in axes)
    status = str(cell.status) + (f" ({cell.error_reason})" if cell.error_reason else "")
    detail = [("status", status), ("python", cell.version_of("python"))]
    detail += [(a, cell.version_of(a)) for a in cell.cell.axes]
    detail.append(("requested", ", ".join(f"{k}={v}" for k, v in cell.cell.requested)))
    for rule in cell.rules_applied:
        detail.append(("extra pins", f"{', '.join(rule.pins)} ({rule.why})"))
    for finding in cell.compat_findings:
        detail.append(("incompatible, stepped down", ", ".join(f"{k} {v}" for k, v in finding.versions.items())))
    if cell.fallback_pins:
        detail.append(("fallback pins", ", ".join(cell.fallback_pins)))
    off_pin = sorted(n for n, v in cell.run_pins.items() if cell.resolved.get(n, v) != v)
    if off_pin:
        detail.append(("tools not at the run's pins (the axes exclude them)", ", ".join(off_pin)))
    if cell.ran:
        reused = len(cell.cases_reused)
        detail.append(("observed", cell.finished + (f"; {reused} case(s) reused from earlier runs" if reused else "")))
    markers = (" +" if cell.rules_applied else "") + (" ↓" if cell.fallback_pins else "")
    return Column(cell.id, cell.cell.group, short, detail, markers, column_anchor(cell.id))


def mark(row: TestRow, cell_id: str) -> Mark:
    return Mark(row.verdict(cell_id))


def _case_rows(model: Model, slug: str) -> CaseRows:
    case = model.cases.get(slug)
    rows = sorted(
        (r for (c, _), r in model.rows.items() if c == slug), key=lambda r: (ROLE_ORDER.index(r.role), r.test)
    )
    out = []
    for row in rows:
        values = [row.verdict(c.id) for c in model.cells]
        # Cell-level statuses (not installable, incompatible, cell error) are not a test changing, and
        # neither is a flip that did not repeat.
        meaningful = {v for c, v in zip(model.cells, values, strict=True) if c.ran and v not in NO_CHANGE}
        out.append(
            GridRow(
                anchor=row_anchor(slug, row.test),
                case=slug,
                kind=model.kind_of(slug),
                claim=model.claim_of(slug),
                role=row.role,
                test=row.test,
                verdicts="|".join(sorted({v.value for v in values})),
                changing=len(meaningful) > 1,
                marks=[mark(row, c.id) for c in model.cells],
            )
        )
    return CaseRows(slug, case.title if case else slug, model.kind_of(slug), model.claim_of(slug), out)


def _findings(cells: Sequence[CellResult]) -> list[FindingView]:
    out = []
    for c in cells:
        if not c.ran:
            verdict = c.cell_verdict or Verdict.ERROR
            why = f" ({c.error_reason})" if c.error_reason else ""
            out.append(FindingView(SYMBOLS[verdict][0], css_class(verdict), c.id, f"{c.status}{why}", c.reason))
        for case, why in c.cases_not_installable.items():
            out.append(
                FindingView(
                    SYMBOLS[Verdict.NOT_INSTALLABLE][0],
                    css_class(Verdict.NOT_INSTALLABLE),
                    c.id,
                    f"case {case} left out: its own dependencies do not install with this cell's versions",
                    _first_lines(why),
                )
            )
        if c.stray_processes:
            out.append(
                FindingView(
                    "!",
                    css_class(Verdict.ERROR),
                    c.id,
                    "a case left processes running after its tests; the harness killed them",
                    "\n".join(c.stray_processes),
                )
            )
        for finding in c.compat_findings if c.ran else []:
            versions = ", ".join(f"{k} {v}" for k, v in finding.versions.items())
            out.append(
                FindingView(
                    SYMBOLS[Verdict.INCOMPATIBLE][0],
                    css_class(Verdict.INCOMPATIBLE),
                    versions,
                    f"installs but fails the smoke check; cell {c.id} ran with {', '.join(c.fallback_pins)} instead",
                    _first_lines(finding.error),
                )
            )
    return out


def _first_lines(text: str, n: int = 12) -> str:
    lines = str(text).splitlines()
    return "\n".join(lines[:n]) + ("\n…" if len(lines) > n else "")


def _flaky(model: Model) -> list[FlakyView]:
    out = []
    for row in model.rows.values():
        for cell_id, found in row.cells.items():
            if found.verdict == Verdict.FLAKY:
                seen = ", ".join(str(v) for v in found.observations)
                out.append(FlakyView(cell_id, row.case, row.test, seen))
    return sorted(out, key=lambda f: (f.case, f.test, f.cell))


def _detail(model: Model, slug: str, releases: Releases | None, messages: Mapping[str, int]) -> CaseDetail:
    case = model.cases.get(slug)
    checks = model.checks.get(slug, [])
    status = model.claim_of(slug)
    if case is None:
        return CaseDetail(slug, slug, "", status, "", [], "", "", [], [], {}, known=False)
    return CaseDetail(
        slug=slug,
        title=case.title,
        kind=case.kind,
        claim_status=status,
        summary=case.summary,
        sources=[Link(s.title, s.url) for s in case.sources],
        claim_section=case.claim_section,
        claim_text=case.claim_text,
        checks=[_check_view(c) for c in checks],
        tests=[_test_detail(model, row, releases, messages) for (c, _), row in sorted(model.rows.items()) if c == slug],
        files=dict(case.files),
        printed=[f"{p.file} (the guide's code block {p.block} under \u201c{p.section}\u201d)" for p in case.printed],
        deviations=[DeviationView(d.file, d.guide, d.ours, d.why) for d in case.deviations],
        runs_in=_runs_in(model, slug),
    )


def _runs_in(model: Model, slug: str) -> list[str]:
    """The groups whose cells observed the case, each with how many cells and what the group is for."""
    rows = [row for (case, _), row in model.rows.items() if case == slug]
    out = []
    for group, cells in results.by_group(model.cells).items():
        seen = [c for c in cells if any(row.verdict(c.id) != Verdict.NOT_RUN for row in rows)]
        if seen:
            why = model.run.groups.get(group, "")
            out.append(f"{group} ({len(seen)} cell{'s' if len(seen) != 1 else ''})" + (f": {why}" if why else ""))
    return out


def _check_view(chk: ClaimCheck) -> CheckView:
    observed = Counter([chk.expected] * len(chk.agree) + [v for _, v in chk.differ] + [v for _, v in chk.silent])
    obs = ", ".join(f"{v} ×{n}" for v, n in observed.most_common()) or "no cell"
    differ = ""
    if chk.differ:
        differ = ", ".join(f"{cid} ({v})" for cid, v in chk.differ[:12]) + (" …" if len(chk.differ) > 12 else "")
    return CheckView(
        chk.test, ", ".join(chk.where) or "every cell", str(chk.expected), obs, differ, chk.status, chk.quote
    )


def _test_detail(model: Model, row: TestRow, releases: Releases | None, messages: Mapping[str, int]) -> TestDetail:
    lines = []
    for history in model.histories_of(row.key):
        lines.append(
            GroupView(
                history.line.key.describe(), history.text(), [boundary_view(b, releases) for b in history.boundaries]
            )
        )
    cells: dict[int, list[str]] = defaultdict(list)
    for cell_id, seen in row.cells.items():
        if seen.verdict in WITH_FAILURE_MESSAGE and seen.message:
            cells[messages[embedded.clip(seen.message)]].append(cell_id)
    return TestDetail(row.role, row.test, row.note, lines, [Message(m, c) for m, c in list(cells.items())[:6]])


def boundary_view(b: Boundary, releases: Releases | None) -> FlipView:
    how = "narrowed by probing the releases between" if b.narrowed else "observed"
    exact = "" if b.exact else f" (not narrowed: {len(b.unknown) or 'some'} release(s) between are untested)"
    text = f"{b.before} → {b.after} at {b.package} {b.first_after} (last {b.before}: {b.last_before}; {how}){exact}"
    if b.unknown and b.exact:
        text += f"; could not tell at {', '.join(b.unknown)}"
    responsible = b.responsible
    parts = []
    links: list[Link] = []
    # Dated and linked: the line's own package and the one another line isolated (asking the index
    # about every package that moved along would cost a request each, for lines nobody reads).
    linked = {b.package, *(i.package for i in b.isolated)} - {"python"}
    for change in responsible[:6]:
        asked = releases is not None and change.new != "-" and change.package in linked
        date = releases.released(change.package, change.new) if asked and releases else None
        parts.append(f"{change.package} {change.old} → {change.new}" + (f" (released {date})" if date else ""))
        page = releases.project_page(change.package, change.new) if asked and releases else None
        if page and page.startswith("https://"):
            links.append(Link(f"{change.package} {change.new} release notes", page))
    if len(responsible) > 6:
        parts.append(f"and {len(responsible) - 6} more")
    named = "; ".join(parts)
    if b.isolated:
        told = f"caused by {named}, isolated by " + " and ".join(i.by for i in b.isolated)
        others = [f"{c.package} {c.old} → {c.new}" for c in b.changed if c not in responsible]
        if others:
            told += f"; also changed: {', '.join(others[:6])}" + (" …" if len(others) > 6 else "")
    elif len(responsible) == 1:
        told = f"caused by {named}"
    elif responsible:
        told = f"{len(responsible)} packages changed together (not isolated): {named}"
    else:
        told = "no installed package moved between the two cells"
    return FlipView(text, told, links)


def _summary_lines(model: Model, verdicts: Counter[Verdict], reasons: Counter[Reason]) -> list[str]:
    statuses = analysis.cell_statuses(model.cells)
    lines = [
        f"- cases: {len(model.cases)}; cells: {len(model.cells)} ("
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + ")"
    ]
    newest = model.newest()
    if newest is not None:
        lines.append(
            f"- newest ({versions_text(newest)}): {verdicts[Verdict.REPRODUCES]} bug(s) reproduce, "
            f"{verdicts[Verdict.BROKEN]} workaround(s)/pattern(s) broken, "
            f"{verdicts[Verdict.ERROR]} suite error(s) ({_reasons_text(reasons)}), {verdicts[Verdict.FLAKY]} flaky"
        )
    claims = Counter(str(model.claim_of(slug)) for slug in model.cases)
    lines.append(
        f"- the document's claims: {claims['confirmed']} confirmed, {claims['contradicted']} contradicted, "
        f"{claims['unverifiable']} unverifiable, {claims['no claim']} without a claim"
    )
    return lines


def _contradicted(model: Model) -> list[tuple[str, str, str, str, str]]:
    out = []
    for slug, checks in model.checks.items():
        for chk in checks:
            if chk.status == "contradicted":
                seen = Counter(str(v) for _, v in chk.differ)
                observed = ", ".join(f"{v} in {n} cell(s)" for v, n in seen.items())
                out.append((slug, chk.quote, chk.test, str(chk.expected), observed))
    return out
