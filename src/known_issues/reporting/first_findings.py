"""What a FastAPI maintainer asks first about the newest release, answered above the matrix: the
documented bugs that still reproduce, the workarounds and patterns that are broken, the guide's
claims that are contradicted, and what changed since the previous published run.

Each answer repeats the number of its summary card (the same count of the same things) and lists
them per case, each test linked to its row in the matrix and each case to its detail.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from known_issues import results
from known_issues.catalog import Source
from known_issues.cell.verdicts import Verdict
from known_issues.reporting.analysis import TestRow
from known_issues.reporting.diff import VerdictChange, needs_attention
from known_issues.reporting.model import Link, Model, row_anchor
from known_issues.results import CellResult

MAX_LINES = 12  # cases per answer; the rest are one click away in the matrix and the sections below
NOTE_CHARS = 160


@dataclass(frozen=True)
class TestRef:
    """A test named in the list: a link to its row in the matrix, and what to know about it."""

    test: str
    anchor: str
    note: str = ""


@dataclass
class FindingLine:
    case: str  # the case's slug: the line links to its detail (#case-<slug>)
    title: str
    tests: list[TestRef]
    links: list[Link] = field(default_factory=list)  # the upstream issue
    note: str = ""  # what every test of the line shares (then the tests carry none)


@dataclass
class FirstFinding:
    """One question answered. ``ident`` is the summary card whose number this repeats."""

    ident: str
    title: str
    count: str
    lines: list[FindingLine]
    empty: str
    more: int = 0  # cases left out to keep the list short
    more_link: str = ""  # where the rest is


def first_findings(model: Model) -> list[FirstFinding]:
    out = []
    newest = model.newest()
    if newest is not None:
        out.append(_reproducing(model, newest))
        out.append(_broken(model, newest))
    out.append(_contradicted(model, newest))
    out.append(_changed(model))
    return out


def _per_case(
    model: Model, rows: Sequence[TestRow], note: Callable[[TestRow], str], with_issues: bool = False
) -> list[FindingLine]:
    by_case: dict[str, list[TestRow]] = defaultdict(list)
    for row in rows:
        by_case[row.case].append(row)
    lines = []
    for slug in [s for s in model.case_order() if s in by_case]:
        case = model.cases.get(slug)
        tests = [
            TestRef(r.test, row_anchor(slug, r.test), note(r)) for r in sorted(by_case[slug], key=lambda r: r.test)
        ]
        issue = _upstream(case.sources) if case and with_issues else None
        lines.append(_shared_note(FindingLine(slug, case.title if case else slug, tests, [issue] if issue else [])))
    return lines


def _shared_note(line: FindingLine) -> FindingLine:
    """Say once what every test of the line has in common."""
    notes = {t.note for t in line.tests}
    if len(notes) == 1 and len(line.tests) > 1:
        line.note = notes.pop()
        line.tests = [TestRef(t.test, t.anchor) for t in line.tests]
    return line


def _upstream(sources: Sequence[Source]) -> Link | None:
    """The case's upstream issue (or discussion): the first source that is one, named short."""
    for source in sources:
        if source.url.startswith("https://github.com/") and any(p in source.url for p in ("/issues/", "/discussions/")):
            return Link(source.title.split(":", 1)[0].strip() or source.url, source.url)
    return None


def _finding(ident: str, title: str, count: int | str, lines: list[FindingLine], empty: str, more: str) -> FirstFinding:
    return FirstFinding(ident, title, str(count), lines[:MAX_LINES], empty, max(0, len(lines) - MAX_LINES), more)


def _reproducing(model: Model, newest: CellResult) -> FirstFinding:
    rows = [r for r in model.rows.values() if r.verdict(newest.id) == Verdict.REPRODUCES]
    group = results.by_group(model.cells)[newest.cell.group]

    def first_seen(row: TestRow) -> str:
        seen = [c for c in group if c.ran and row.verdict(c.id) == Verdict.REPRODUCES]
        if not seen:
            return ""
        axis = seen[0].cell.axes[0]
        oldest = ", the oldest tested" if seen[0] is next(c for c in group if c.ran) else ""
        return f"seen since {axis} {seen[0].version_of(axis)}{oldest}"

    return _finding(
        "bugs-reproducing-on-newest",
        "documented bug test(s) still reproduce",
        len(rows),
        _per_case(model, rows, first_seen, with_issues=True),
        "No documented bug reproduces on the newest release.",
        "#matrix",
    )


def _broken(model: Model, newest: CellResult) -> FirstFinding:
    rows = [r for r in model.rows.values() if r.verdict(newest.id) == Verdict.BROKEN]

    def why(row: TestRow) -> str:
        message = row.messages.get(newest.id, "").strip()
        first = message.splitlines()[0] if message else "no message"
        return first if len(first) <= NOTE_CHARS else first[: NOTE_CHARS - 1] + "…"

    return _finding(
        "broken-on-newest",
        "workaround or pattern test(s) broken",
        len(rows),
        _per_case(model, rows, why),
        "Every documented workaround and pattern holds on the newest release.",
        "#matrix",
    )


def _contradicted(model: Model, newest: CellResult | None) -> FirstFinding:
    lines: list[FindingLine] = []
    for slug in model.case_order():
        if slug not in model.cases or model.claim_of(slug) != "contradicted":
            continue
        tests = []
        for chk in model.checks[slug]:
            if chk.status != "contradicted":
                continue
            on_newest = newest is not None and any(label.split(" ", 1)[0] == newest.id for label, _ in chk.differ)
            seen = Counter(str(v) for _, v in chk.differ)
            observed = ", ".join(f"{v} in {n} cell(s)" for v, n in seen.items())
            newest_too = ", the newest release among them" if on_newest else ""
            note = f"\u201c{chk.quote}\u201d: claimed {chk.expected}; observed {observed}{newest_too}"
            tests.append(TestRef(chk.test, row_anchor(slug, _row_of(model, slug, chk.test)), note))
        lines.append(_shared_note(FindingLine(slug, model.cases[slug].title, tests)))
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
        return FirstFinding(
            "changed-since-baseline", "verdict(s) changed since the previous run", "–", [], "No baseline given."
        )
    # What needs a maintainer first, then the rest.
    ordered = needs_attention(model.changes) + [c for c in model.changes if not c.needs_attention]
    by_test: dict[tuple[str, str], list[VerdictChange]] = defaultdict(list)
    for change in ordered:
        by_test[(change.case, change.test)].append(change)
    by_case: dict[str, list[TestRef]] = defaultdict(list)
    for (slug, test), changes in by_test.items():
        kinds = Counter(f"{c.kind}: {c.old} → {c.new}" for c in changes)
        note = "; ".join(f"{k} in {n} cell(s)" for k, n in kinds.items())
        by_case[slug].append(TestRef(test, row_anchor(slug, test), note))
    lines = [
        _shared_note(FindingLine(slug, model.cases[slug].title if slug in model.cases else slug, tests))
        for slug, tests in by_case.items()
    ]
    return _finding(
        "changed-since-baseline",
        "verdict(s) changed since the previous run",
        len(model.changes),
        lines,
        "No verdict changed.",
        "#changes",
    )
