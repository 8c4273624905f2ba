"""From a run's cell results to the verdict grid (one row per test, one record per cell) and the
document's claims checked against it.

Where each verdict changes, and since which release, is ``history.py`` (along the version lines);
what a new release changed is ``releases.py``. Nothing here knows a package or a group by name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from known_issues.catalog import Case
from known_issues.cell.verdicts import Outcome, Reason, Role, Verdict, verdict
from known_issues.matrix import EVERY_CASE
from known_issues.outcomes import SILENT_FOR_CLAIMS
from known_issues.results import CellResult

Key = tuple[str, str]  # (case, test)


@dataclass(frozen=True)
class Seen:
    """One test in one cell: its verdict and what came with it."""

    verdict: Verdict
    message: str = ""
    reason: Reason | None = None  # why it is an error
    observed: str = ""  # when (UTC)
    reused: bool = False  # served from the result store
    observations: tuple[Verdict, ...] = ()  # every outcome of a re-run flip, the first run first
    observation: str = ""  # what the test recorded it observed (also when it passed)


NOT_RUN = Seen(Verdict.NOT_RUN)


@dataclass
class TestRow:
    case: str
    test: str
    role: Role
    note: str
    cells: dict[str, Seen] = field(default_factory=dict)  # cell id -> what the test gave there

    @property
    def key(self) -> Key:
        return (self.case, self.test)

    def seen(self, cell_id: str) -> Seen:
        return self.cells.get(cell_id, NOT_RUN)

    def verdict(self, cell_id: str) -> Verdict:
        return self.seen(cell_id).verdict

    def message(self, cell_id: str) -> str:
        return self.seen(cell_id).message

    def verdicts(self) -> dict[str, Verdict]:
        return {cid: s.verdict for cid, s in self.cells.items()}


def grid(cells: Sequence[CellResult]) -> dict[Key, TestRow]:
    """(case, test) -> row, with a record for every cell."""
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
            row.cells[cid] = NOT_RUN  # the group does not run this case
        elif cell.cell_verdict is not None:
            row.cells[cid] = Seen(cell.cell_verdict, cell.reason, cell.error_reason)
        elif key[0] in cell.cases_not_installable:
            row.cells[cid] = Seen(Verdict.NOT_INSTALLABLE, cell.cases_not_installable[key[0]])
        elif key in by_key:
            t = by_key[key]
            row.cells[cid] = Seen(
                t.verdict, t.message, t.reason, t.observed, t.reused, tuple(t.observations), t.observation
            )
        elif key in test_errors or key[0] in case_errors:
            error = test_errors.get(key) or case_errors[key[0]]
            found = verdict(row.role, error.outcome)
            reason = None
            if found == Verdict.ERROR:
                reason = Reason.CRASH if error.outcome == Outcome.CRASHED else error.reason
            row.cells[cid] = Seen(found, error.message, reason)
        else:
            row.cells[cid] = NOT_RUN  # the case was not selected or did not exist then


# --------------------------------------------------------------------------------------------
# claims


class ClaimStatus(StrEnum):
    CONFIRMED = "confirmed"
    CONTRADICTED = "contradicted"
    UNVERIFIABLE = "unverifiable"
    NO_CLAIM = "no claim"  # a case the guide makes no checkable claim about (e.g. a comparison)


@dataclass
class ClaimCheck:
    test: str
    expected: Verdict
    where: tuple[str, ...]
    status: ClaimStatus
    agree: list[str]
    differ: list[tuple[str, Verdict]]  # (cell id [+ parameters], observed)
    silent: list[tuple[str, Verdict]]  # an error, n/a, flaky...: says nothing about the claim
    quote: str = ""  # the guide's words the expectation judges
    workarounds: tuple[str, ...] = ()  # the case's workaround tests that answer this claim, in order


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
                # An error is the suite not observing: it never confirms nor contradicts a claim.
                if observed in SILENT_FOR_CLAIMS:
                    silent.append((label, observed))
                elif observed == exp.verdict:
                    agree.append(label)
                else:
                    differ.append((label, observed))
        status = ClaimStatus.CONTRADICTED if differ else ClaimStatus.CONFIRMED if agree else ClaimStatus.UNVERIFIABLE
        workarounds = exp.workarounds
        checks.append(
            ClaimCheck(exp.test, exp.verdict, exp.where, status, agree, differ, silent, exp.quote, workarounds)
        )
    return checks


def case_claim_status(checks: Sequence[ClaimCheck]) -> ClaimStatus:
    if not checks:
        return ClaimStatus.NO_CLAIM
    for status in (ClaimStatus.CONTRADICTED, ClaimStatus.CONFIRMED):
        if any(c.status == status for c in checks):
            return status
    return ClaimStatus.UNVERIFIABLE


def cell_statuses(cells: Iterable[CellResult]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for cell in cells:
        counts[str(cell.status)] += 1
    return dict(counts)


__all__ = ["ClaimCheck", "ClaimStatus", "Key", "Seen", "TestRow", "check_claims", "grid"]
