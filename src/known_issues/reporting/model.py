"""The analysis of one run that every output draws on (the page, summary.md, the errata, the status
files and the feed), and the names they share for a cell's versions and a test's row.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from known_issues import results
from known_issues.catalog import KINDS, Case
from known_issues.cell.verdicts import Reason, Role, Verdict
from known_issues.reporting import analysis
from known_issues.reporting.analysis import ClaimCheck, Flip, Key, TestRow
from known_issues.reporting.diff import VerdictChange, diff_runs
from known_issues.results import BisectAnswer, CellResult, RunResult

ROLE_ORDER = [Role.BUG, Role.WORKAROUND, Role.PATTERN]


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class Model:
    """The analysis of one run that every part of the page draws on."""

    run: RunResult
    cases: Mapping[str, Case]
    cells: list[CellResult]
    rows: dict[Key, TestRow]
    checks: dict[str, list[ClaimCheck]]
    flips: dict[Key, list[Flip]]
    changes: list[VerdictChange] | None
    baseline: RunResult | None = None  # the previous published run, when given

    @classmethod
    def of(
        cls,
        run: RunResult,
        cases: Mapping[str, Case],
        baseline: RunResult | None = None,
        bisected: Sequence[BisectAnswer] = (),
    ) -> Model:
        cells = results.ordered_cells(run.cells)
        rows = analysis.grid(cells)
        checks = {slug: analysis.check_claims(case, rows, cells) for slug, case in cases.items()}
        flips = analysis.row_flips(rows, cells)
        analysis.attribute(flips, bisected)
        changes = diff_runs(baseline, run) if baseline is not None else None
        return cls(run, cases, cells, rows, checks, flips, changes, baseline)

    def claim_of(self, slug: str) -> str:
        return analysis.case_claim_status(self.checks.get(slug, []))

    def kind_of(self, slug: str) -> str:
        return self.cases[slug].kind if slug in self.cases else "pattern"

    def case_order(self) -> list[str]:
        slugs = set(self.cases) | {case for case, _ in self.rows}
        return sorted(slugs, key=lambda s: (KINDS.index(self.kind_of(s)) if self.kind_of(s) in KINDS else 9, s))

    def newest(self) -> CellResult | None:
        return results.newest_cell(self.cells)

    def on_newest(self) -> tuple[Counter[Verdict], Counter[Reason]]:
        verdicts: Counter[Verdict] = Counter()
        reasons: Counter[Reason] = Counter()
        newest = self.newest()
        if newest is None:
            return verdicts, reasons
        for row in self.rows.values():
            v = row.verdict(newest.id)
            if v != Verdict.NOT_RUN:
                verdicts[v] += 1
            if v == Verdict.ERROR:
                reasons[row.reasons.get(newest.id, Reason.HARNESS)] += 1
        return verdicts, reasons


def versions_text(cell: CellResult) -> str:
    """The cell's axes and their resolved versions: "fastapi 0.128.2, pydantic 2.11.7"."""
    return ", ".join(f"{a} {cell.version_of(a)}" for a in cell.cell.axes)


def row_anchor(case: str, test: str) -> str:
    """The id of a test's row in the matrix: safe in a URL fragment, and unique (a parameter's text,
    which may hold any character, is replaced, and then a hash of it tells two such rows apart)."""
    text = f"{case}--{test}"
    safe = "".join(ch if ch.isalnum() or ch in "_-" else "-" for ch in text)
    if safe != text:
        safe += "-" + hashlib.sha256(text.encode()).hexdigest()[:6]
    return "row-" + safe
