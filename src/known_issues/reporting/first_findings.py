"""What a FastAPI maintainer asks first, answered above the matrix: the documented issues that still
reproduce (per issue, FastAPI's own tracker apart from the others), the workarounds and patterns that
are broken (since the exact release), the guide's claims that are contradicted, and what each release
changed since the previous published run.

Each answer repeats the number of its summary card (the same count of the same things); each test is
linked to its row of the matrix and the column of the cell it was read at, each case to its detail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from known_issues.reporting.analysis import ClaimStatus, TestRow
from known_issues.reporting.model import Link, Model, State, Tracker, column_anchor, row_anchor, upstream

MAX_LINES = 12  # lines per answer; the rest are one click away in the matrix and the sections below
NOTE_CHARS = 160


@dataclass(frozen=True)
class TestRef:
    """A test named in the list: a link to its row and to the column it was read at, and what to know."""

    test: str
    anchor: str
    column: str = ""
    note: str = ""


@dataclass
class FindingLine:
    case: str  # the case's slug: the line links to its detail (#case-<slug>)
    title: str
    tests: list[TestRef]
    links: list[Link] = field(default_factory=list)  # the upstream issue
    note: str = ""  # what the line says (the case's state and since when), or what its tests share
    group: str = ""  # a heading the line sits under (the tracker, the release)


@dataclass
class FirstFinding:
    """One question answered. ``ident`` is the summary card whose number this repeats."""

    ident: str
    title: str
    count: str
    lines: list[FindingLine]
    empty: str
    more: int = 0  # lines left out to keep the list short
    more_link: str = ""  # where the rest is


def first_findings(model: Model) -> list[FirstFinding]:
    return [_reproducing(model), _broken(model), _contradicted(model), _changed(model)]


def _finding(ident: str, title: str, count: int | str, lines: list[FindingLine], empty: str, more: str) -> FirstFinding:
    return FirstFinding(ident, title, str(count), lines[:MAX_LINES], empty, max(0, len(lines) - MAX_LINES), more)


def _refs(rows: Sequence[TestRow], column: str, note: dict[str, str] | None = None) -> list[TestRef]:
    return [TestRef(r.test, row_anchor(r.case, r.test), column, (note or {}).get(r.test, "")) for r in rows]


def issues_note(counts: Counter[Tracker]) -> str:
    parts = [f"{counts[Tracker.FASTAPI]} in FastAPI's tracker", f"{counts[Tracker.OTHER]} in other projects' trackers"]
    if counts[Tracker.NONE]:
        parts.append(f"{counts[Tracker.NONE]} the guide's own")
    return ", ".join(parts)


def _reproducing(model: Model) -> FirstFinding:
    lines = []
    counts: Counter[Tracker] = Counter()
    for tracker in Tracker:
        for slug in model.case_order():
            case = model.cases.get(slug)
            if case is None or upstream(case.sources)[0] != tracker:
                continue
            status = model.status(slug)
            if status.state != State.REPRODUCES or status.cell is None:
                continue
            counts[tracker] += 1
            _, issue = upstream(case.sources)
            since = f"; since {status.since.since_text()}" if status.since else ", on every release observed"
            history = [h.text() for r in status.tests if (h := model.history_at(r.key, status.cell)) is not None]
            note = f"reproduces on {status.on}{since}" + (f" ({history[0]})" if len(set(history)) == 1 else "")
            lines.append(
                FindingLine(slug, case.title, _refs(status.tests, column_anchor(status.cell.id)),
                            [issue] if issue else [], note, str(tracker))
            )  # fmt: skip
    return _finding(
        "issues-reproducing",
        f"documented issue(s) still reproduce ({issues_note(counts)})",
        sum(counts.values()),
        lines,
        "No documented issue reproduces on the newest release that runs it.",
        "#matrix",
    )


def _broken(model: Model) -> FirstFinding:
    lines = []
    for slug in model.case_order():
        cell, rows = model.broken(slug)
        if cell is None or not rows:
            continue
        notes = {}
        for row in rows:
            message = row.message(cell.id).strip()
            first = message.splitlines()[0] if message else "no message"
            notes[row.test] = first if len(first) <= NOTE_CHARS else first[: NOTE_CHARS - 1] + "…"
        since = model.earliest_since(rows, cell)
        axis = cell.cell.axes[0]
        on = f"{axis} {cell.version_of(axis)}"
        note = f"broken since {since.since_text()}" if since else f"broken on {on} and on every release observed"
        title = model.cases[slug].title if slug in model.cases else slug
        lines.append(FindingLine(slug, title, _refs(rows, column_anchor(cell.id), notes), [], note))
    return _finding(
        "broken-on-newest",
        "case(s) with a documented workaround or pattern broken",
        len(lines),
        lines,
        "Every documented workaround and pattern holds on the newest release that runs it.",
        "#matrix",
    )


def _contradicted(model: Model) -> FirstFinding:
    lines: list[FindingLine] = []
    newest = model.newest()
    for slug in model.case_order():
        if slug not in model.cases or model.claim_of(slug) != ClaimStatus.CONTRADICTED:
            continue
        tests = []
        for chk in model.checks[slug]:
            if chk.status != ClaimStatus.CONTRADICTED:
                continue
            seen = Counter(str(v) for _, v in chk.differ)
            observed = ", ".join(f"{v} in {n} cell(s)" for v, n in seen.items())
            on_newest = newest is not None and any(label.split(" ", 1)[0] == newest.id for label, _ in chk.differ)
            note = f"\u201c{chk.quote}\u201d: claimed {chk.expected}; observed {observed}"
            note += ", the newest release among them" if on_newest else ""
            column = column_anchor(chk.differ[0][0].split(" ", 1)[0]) if chk.differ else ""
            tests.append(TestRef(chk.test, row_anchor(slug, _row_of(model, slug, chk.test)), column, note))
        lines.append(FindingLine(slug, model.cases[slug].title, tests))
    return _finding(
        "claims-contradicted",
        "case(s) with a claim of the guide contradicted",
        len(lines),
        lines,
        "No claim of the guide is contradicted.",
        "#cases",
    )


def _row_of(model: Model, slug: str, test: str) -> str:
    """The row a claim's test is shown in: itself, else its first parametrized row."""
    names = sorted(t for c, t in model.rows if c == slug and t.split("[", 1)[0] == test)
    return test if test in names or not names else names[0]


def _changed(model: Model) -> FirstFinding:
    if model.changes is None:
        return FirstFinding("changed-since-baseline", "verdict change(s) since the previous run", "–", [],
                            "No baseline given.")  # fmt: skip
    lines = []
    for release, change in model.changes.all():
        heading = release.name if release else "no release moved (the case's files or the harness changed)"
        if release is not None and release.previous:
            heading += f" (against {release.package} {release.previous})"
        cell = change.evidence[0].cell if change.evidence else ""
        note = f"{change.kind}: {change.old} \u2192 {change.new} in {len(change.evidence)} cell(s)"
        title = model.cases[change.case].title if change.case in model.cases else change.case
        ref = TestRef(change.test, row_anchor(change.case, change.test), column_anchor(cell), note)
        lines.append(FindingLine(change.case, title, [ref], group=heading))
    by_attention = sorted(lines, key=lambda line: "attention" not in line.note)
    quiet = [r.name for r in model.changes.releases if not r.changes]
    empty = "No verdict changed." + (f" New releases that changed none: {', '.join(quiet)}." if quiet else "")
    return _finding(
        "changed-since-baseline",
        "verdict change(s) since the previous run, by the release that brought them",
        model.changes.count(),
        by_attention,
        empty,
        "#changes",
    )
