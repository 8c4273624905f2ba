"""From a run's cell results to what the report and the diff show: the verdict grid, the
document's claims checked against it, and where each test's verdict flips, with the packages
that changed at each flip.

Nothing here knows a package or a group by name: the axes are whatever each group declares, and
the versions are whatever each cell resolved.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from known_issues.catalog import Case
from known_issues.cell.verdicts import Outcome, Reason, Role, Verdict, verdict
from known_issues.matrix import EVERY_CASE
from known_issues.outcomes import CLAIMED_TO_WORK, CONFIRMABLE, SILENT_FOR_CLAIMS
from known_issues.results import BisectAnswer, CellResult, PackageChange, by_group, changed_packages, version_key

Key = tuple[str, str]  # (case, test)


@dataclass
class TestRow:
    case: str
    test: str
    role: Role
    note: str
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # cell id -> verdict
    messages: dict[str, str] = field(default_factory=dict)  # cell id -> failure message
    reasons: dict[str, Reason] = field(default_factory=dict)  # cell id -> why it is an error
    observed: dict[str, str] = field(default_factory=dict)  # cell id -> when
    reused: dict[str, bool] = field(default_factory=dict)  # cell id -> served from the result store
    observations: dict[str, list[Verdict]] = field(default_factory=dict)  # cell id -> re-run outcomes

    @property
    def key(self) -> Key:
        return (self.case, self.test)

    def verdict(self, cell_id: str) -> Verdict:
        return self.verdicts.get(cell_id, Verdict.NOT_RUN)


def grid(cells: Sequence[CellResult]) -> dict[Key, TestRow]:
    """(case, test) -> row, with a verdict for every cell."""
    rows: dict[Key, TestRow] = {}
    for cell in cells:
        for t in cell.tests:
            rows.setdefault(t.key, TestRow(t.case, t.test, t.role, t.note))
    for cell in cells:
        _fill(rows, cell)
    return rows


def _fill(rows: Mapping[Key, TestRow], cell: CellResult) -> None:
    cid = cell.id
    by_key = {t.key: t for t in cell.tests}
    # A module that did not import takes its whole case down; a refused test only itself.
    case_errors = {e.case: e for e in cell.collect_errors if e.case and "::" not in e.nodeid}
    test_errors = {(e.case, e.nodeid.split("::", 1)[1]): e for e in cell.collect_errors if e.case and "::" in e.nodeid}
    # A group that names its cases runs only those ("*" among them: every case too, and the cell's
    # tests say which: a case it did not run falls to the last branch).
    selected = set(cell.cell.cases) if EVERY_CASE not in cell.cell.cases else set()
    for key, row in rows.items():
        if selected and key[0] not in selected:
            row.verdicts[cid] = Verdict.NOT_RUN  # the group does not run this case
        elif cell.cell_verdict is not None:
            row.verdicts[cid] = cell.cell_verdict
            row.messages[cid] = cell.reason
            if cell.error_reason:
                row.reasons[cid] = cell.error_reason
        elif key[0] in cell.cases_not_installable:
            row.verdicts[cid] = Verdict.NOT_INSTALLABLE
            row.messages[cid] = cell.cases_not_installable[key[0]]
        elif key in by_key:
            t = by_key[key]
            row.verdicts[cid] = t.verdict
            row.observed[cid] = t.observed
            row.reused[cid] = t.reused
            if t.observations:
                row.observations[cid] = list(t.observations)
            if t.message:
                row.messages[cid] = t.message
            if t.reason:
                row.reasons[cid] = t.reason
        elif key in test_errors or key[0] in case_errors:
            error = test_errors.get(key) or case_errors[key[0]]
            row.verdicts[cid] = verdict(row.role, error.outcome)
            row.messages[cid] = error.message
            if row.verdicts[cid] == Verdict.ERROR:
                row.reasons[cid] = Reason.CRASH if error.outcome == Outcome.CRASHED else error.reason
        else:
            row.verdicts[cid] = Verdict.NOT_RUN  # the case was not selected or did not exist then


# --------------------------------------------------------------------------------------------
# claims


@dataclass
class ClaimCheck:
    test: str
    expected: Verdict
    where: tuple[str, ...]
    status: str  # confirmed | contradicted | unverifiable
    agree: list[str]
    differ: list[tuple[str, Verdict]]  # (cell id, observed)
    silent: list[tuple[str, Verdict]]
    quote: str = ""  # the guide's words the expectation judges


CLAIM_STATUSES = ("confirmed", "contradicted", "unverifiable", "no claim")


def check_claims(case: Case, rows: Mapping[Key, TestRow], cells: Iterable[CellResult]) -> list[ClaimCheck]:
    cells = list(cells)
    checks = []
    for exp in case.expectations:
        # A parametrized test ("test_x[case-1]") answers for its function's name ("test_x").
        matching = [r for (c, name), r in rows.items() if c == case.slug and name.split("[", 1)[0] == exp.test]
        agree: list[str] = []
        differ: list[tuple[str, Verdict]] = []
        silent: list[tuple[str, Verdict]] = []
        for cell in cells:
            if not exp.applies(cell.versions()):
                continue
            for row in matching:
                observed = row.verdict(cell.id)
                if observed == Verdict.NOT_RUN:
                    continue
                label = cell.id if row.test == exp.test else f"{cell.id} {row.test[len(exp.test) :]}"
                if observed == Verdict.ERROR and exp.verdict in CLAIMED_TO_WORK and cell.ran:
                    # A documented fix or pattern that the suite saw crash does not hold.
                    differ.append((label, observed))
                elif observed in SILENT_FOR_CLAIMS:
                    silent.append((label, observed))
                elif observed == exp.verdict:
                    agree.append(label)
                else:
                    differ.append((label, observed))
        status = "contradicted" if differ else "confirmed" if agree else "unverifiable"
        checks.append(ClaimCheck(exp.test, exp.verdict, exp.where, status, agree, differ, silent, exp.quote))
    return checks


def case_claim_status(checks: Sequence[ClaimCheck]) -> str:
    if not checks:
        return "no claim"  # a case the guide makes no checkable claim about (e.g. a comparison)
    for status in ("contradicted", "confirmed"):
        if any(c.status == status for c in checks):
            return status
    return "unverifiable"


# --------------------------------------------------------------------------------------------
# spans and flips along a group


def label_axes(cells: Sequence[CellResult]) -> list[str]:
    """The axes (and python) whose requested values vary across these cells, in declared order;
    the first declared axis when nothing varies."""
    if not cells:
        return []
    declared = [*cells[0].cell.axes, "python"]
    varying = [a for a in declared if len({_requested(c, a) for c in cells}) > 1]
    return varying or declared[:1]


def _requested(cell: CellResult, axis: str) -> str:
    return cell.cell.python if axis == "python" else dict(cell.cell.requested).get(axis, "")


def cell_label(cell: CellResult, axes: Sequence[str]) -> str:
    return ", ".join(f"{a} {cell.version_of(a)}" for a in axes)


@dataclass
class Span:
    verdict: Verdict
    first: str  # label of the first cell: its varying axes and their versions
    last: str


def spans(row: TestRow, cells: Sequence[CellResult], axes: Sequence[str]) -> list[Span]:
    """Consecutive runs of one verdict along the given cells (already in order)."""
    out: list[Span] = []
    for cell in cells:
        verdict = row.verdict(cell.id)
        if verdict == Verdict.NOT_RUN:
            continue
        label = cell_label(cell, axes)
        if out and out[-1].verdict == verdict:
            out[-1].last = label
        else:
            out.append(Span(verdict, label, label))
    return out


@dataclass(frozen=True)
class Isolation:
    package: str
    by: str  # "group <name> (only <package> changed)" or "bisect over <package> releases"


@dataclass
class Flip:
    """A verdict that differs between two adjacent cells of a group, and what changed between them."""

    group: str
    before: Verdict
    after: Verdict
    last_before: CellResult
    first_after: CellResult
    changed: list[PackageChange]  # every installed distribution whose version differs (axes first)
    axes: list[str]  # the group's axes (and python) that differ between the two cells
    isolated: list[Isolation] = field(default_factory=list)  # how the responsible package was pinned down

    @property
    def responsible(self) -> list[PackageChange]:
        """The changed packages the flip is attributed to: the one a held-fixed group or a bisect
        isolated, else the single changed package, else every changed package."""
        named = {i.package for i in self.isolated}
        isolated = [c for c in self.changed if c.package in named]
        return isolated or self.changed


def flips(row: TestRow, cells: Sequence[CellResult]) -> list[Flip]:
    """Every change of verdict between adjacent cells (of one group, in order) that observed the test."""
    observed = [c for c in cells if c.ran and (row.verdict(c.id) in CONFIRMABLE or row.verdict(c.id) == Verdict.NA)]
    out = []
    for a, b in itertools.pairwise(observed):
        before, after = row.verdict(a.id), row.verdict(b.id)
        if before == after:
            continue
        axes = [x for x in [*b.cell.axes, "python"] if a.version_of(x) != b.version_of(x)]
        out.append(Flip(b.cell.group, before, after, a, b, changed_packages(a, b), axes))
    return out


def attribute(all_flips: Mapping[Key, list[Flip]], bisected: Sequence[BisectAnswer] = ()) -> None:
    """Where a flip changed several packages, name the one that another group (which held the others
    fixed and changed only that one) or a bisect showed to flip the same verdicts."""
    for key, row_flips in all_flips.items():
        for flip in row_flips:
            if len(flip.changed) < 2:
                continue
            names = {c.package: c for c in flip.changed}
            for other in row_flips:
                if other is flip or len(other.changed) != 1 or (other.before, other.after) != (flip.before, flip.after):
                    continue
                (single,) = other.changed
                mine = names.get(single.package)
                if mine is not None and _within(single, mine):
                    flip.isolated.append(
                        Isolation(single.package, f"group {other.group} (only {single.package} changed)")
                    )
            for answer in bisected:
                if (answer.case, answer.test) != key:
                    continue
                mine = names.get(answer.package)
                if mine is not None and _within(PackageChange(mine.package, answer.last_old, answer.first_new), mine):
                    flip.isolated.append(Isolation(mine.package, f"bisect over {mine.package} releases"))


def _within(inner: PackageChange, outer: PackageChange) -> bool:
    """The inner step (last old version, first new one) lies inside the outer one."""
    return version_key(outer.old) <= version_key(inner.old) and version_key(inner.new) <= version_key(outer.new)


def row_flips(rows: Mapping[Key, TestRow], cells: Sequence[CellResult]) -> dict[Key, list[Flip]]:
    groups = by_group(cells)
    out = {key: [f for group_cells in groups.values() for f in flips(row, group_cells)] for key, row in rows.items()}
    return out


def cell_statuses(cells: Iterable[CellResult]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for cell in cells:
        counts[str(cell.status)] += 1
    return dict(counts)
