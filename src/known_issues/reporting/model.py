"""The analysis of one run that every output draws on (the page, summary.md, the errata, the status
files, the feed, compare): the verdict grid, the claims, the version lines and each test's history
along them with exact releases, what each new release changed since the baseline, and each case's
status at the newest cell that runs it.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from packaging.version import InvalidVersion, Version

from known_issues import results
from known_issues.catalog import KINDS, Case, Source
from known_issues.cell.verdicts import Reason, Role, Verdict
from known_issues.lines import Line, lines_of
from known_issues.narrowing import Narrowed
from known_issues.reporting import analysis
from known_issues.reporting.analysis import ClaimCheck, ClaimStatus, Key, TestRow
from known_issues.reporting.history import Between, Boundary, History, attribute, histories
from known_issues.reporting.releases import Changes, release_changes
from known_issues.results import BisectAnswer, CellResult, RunResult

ROLE_ORDER = [Role.BUG, Role.WORKAROUND, Role.PATTERN]


@dataclass(frozen=True)
class Link:
    label: str
    url: str


class Tracker(StrEnum):
    """Where a documented issue is tracked: FastAPI's own tracker apart from every other."""

    FASTAPI = "FastAPI's tracker"
    OTHER = "another project's tracker"
    NONE = "no upstream issue (the guide's own claim)"


FASTAPI_REPOSITORIES = ("https://github.com/fastapi/fastapi/", "https://github.com/tiangolo/fastapi/")


def upstream(sources: Sequence[Source]) -> tuple[Tracker, Link | None]:
    """A case's upstream issue (or discussion, or pull request): the first source that is one."""
    for source in sources:
        url = source.url
        if url.startswith("https://github.com/") and any(p in url for p in ("/issues/", "/discussions/", "/pull/")):
            tracker = Tracker.FASTAPI if url.startswith(FASTAPI_REPOSITORIES) else Tracker.OTHER
            return tracker, Link(source.title.split(":", 1)[0].strip() or url, url)
    return Tracker.NONE, None


class State(StrEnum):
    """What a person says of a case at the newest release that runs it."""

    REPRODUCES = "reproduces"
    FIXED = "fixed"
    BROKEN = "broken"
    HOLDS = "holds"
    WORKS = "works"
    NOT_APPLICABLE = "n/a"
    COULD_NOT_OBSERVE = "could not observe"
    NOT_RUN = "not run"


@dataclass
class CaseStatus:
    """A case at the newest cell that runs it, in a person's words."""

    slug: str
    title: str
    cell: CellResult | None
    state: State
    since: Boundary | None = None  # the exact release of the change into this state, when it changed
    tests: list[TestRow] = field(default_factory=list)  # the tests the state is read from

    @property
    def on(self) -> str:
        """ "fastapi 0.165.0": the first axis of the cell the status is read at."""
        if self.cell is None:
            return ""
        axis = self.cell.cell.axes[0]
        return f"{axis} {self.cell.version_of(axis)}"

    def message(self) -> str:
        if self.state == State.REPRODUCES:
            return f"reproduces on {self.on}"
        if self.state == State.FIXED:
            return f"fixed since {self.since.package} {self.since.first_after}" if self.since else f"fixed on {self.on}"
        if self.state == State.BROKEN:
            since = f" since {self.since.package} {self.since.first_after}" if self.since else f" on {self.on}"
            return f"broken{since}"
        if self.state == State.COULD_NOT_OBSERVE:
            return f"could not observe on {self.on}"
        return str(self.state)


@dataclass
class Model:
    """The analysis of one run that every part of the output draws on."""

    run: RunResult
    cases: Mapping[str, Case]
    cells: list[CellResult]
    rows: dict[Key, TestRow]
    checks: dict[str, list[ClaimCheck]]
    lines: list[Line]
    history: dict[tuple[Key, int], History]
    changes: Changes | None
    baseline: RunResult | None = None  # the previous published run, when given
    narrowed: list[Narrowed] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        run: RunResult,
        cases: Mapping[str, Case],
        baseline: RunResult | None = None,
        bisected: Sequence[BisectAnswer] = (),
        narrowed: Sequence[Narrowed] = (),
        between: Between | None = None,
        is_new: Callable[[str, str], bool] | None = None,
    ) -> Model:
        cells = results.ordered_cells(run.cells)
        rows = analysis.grid(cells)
        checks = {slug: analysis.check_claims(case, rows, cells) for slug, case in cases.items()}
        lines = lines_of(cells)
        found = histories(lines, rows, narrowed, between, {c.id: c for c in cells})
        attribute(found.values(), bisected)
        changes = None
        if baseline is not None:
            changes = release_changes(baseline, run, is_new=is_new) if is_new else release_changes(baseline, run)
        return cls(run, cases, cells, rows, checks, lines, found, changes, baseline, list(narrowed))

    def claim_of(self, slug: str) -> ClaimStatus:
        return analysis.case_claim_status(self.checks.get(slug, []))

    def kind_of(self, slug: str) -> str:
        return self.cases[slug].kind if slug in self.cases else "pattern"

    def case_order(self) -> list[str]:
        slugs = set(self.cases) | {case for case, _ in self.rows}
        return sorted(slugs, key=lambda s: (KINDS.index(self.kind_of(s)) if self.kind_of(s) in KINDS else 9, s))

    def case_rows(self, slug: str) -> list[TestRow]:
        return list(self._by_case.get(slug, []))

    @functools.cached_property
    def _by_case(self) -> dict[str, list[TestRow]]:
        found: dict[str, list[TestRow]] = {}
        for (case, _), row in sorted(self.rows.items()):
            found.setdefault(case, []).append(row)
        return found

    @functools.cached_property
    def groups(self) -> dict[str, list[CellResult]]:
        """The cells of each group, in order (the cells never change once the model is made)."""
        return results.by_group(self.cells)

    @functools.cached_property
    def _newest(self) -> CellResult | None:
        return results.newest_cell(self.cells)

    def newest(self) -> CellResult | None:
        return self._newest

    # -- along the lines ---------------------------------------------------------------------

    def histories_of(self, key: Key) -> list[History]:
        return [h for (k, _), h in self.history.items() if k == key]

    def history_at(self, key: Key, cell: CellResult) -> History | None:
        """The test's history along the line that holds ``cell`` (its first axis's line)."""
        for n, line in enumerate(self.lines):
            if any(c.id == cell.id for p in line.points for c in p.cells) and line.package == cell.cell.axes[0]:
                return self.history.get((key, n))
        for n, line in enumerate(self.lines):
            if any(c.id == cell.id for p in line.points for c in p.cells):
                return self.history.get((key, n))
        return None

    def since(self, row: TestRow, cell: CellResult) -> Boundary | None:
        """The exact release where the row's verdict in ``cell`` began, along the cell's line (None when
        it never changed there, or the cell is on no line)."""
        found = self.history_at(row.key, cell)
        if found is None or found.now() != row.verdict(cell.id):
            return None
        return found.since()

    # -- cases -------------------------------------------------------------------------------

    def newest_for(self, slug: str) -> CellResult | None:
        """The cell a case's status is read from: the run's newest cell when it runs the case, else, of
        the cells that do (a case only some groups name: the servers, the guide's project), the one with
        the newest release of the newest cell's package (FastAPI), on its Python where there is a choice,
        the first in matrix order of equals. Not the first group's newest: that was the guide's 0.128.0
        for a server case that the servers group runs at the newest FastAPI."""
        rows = self.case_rows(slug)
        newest = self.newest()
        if newest is not None and any(r.verdict(newest.id) != Verdict.NOT_RUN for r in rows):
            return newest
        ran = [c for c in self.cells if c.ran and any(r.verdict(c.id) != Verdict.NOT_RUN for r in rows)]
        if not ran:
            return None
        package = newest.cell.axes[0] if newest is not None and newest.cell.axes else "fastapi"
        python = newest.cell.python if newest is not None else ""

        def recency(n: int) -> tuple[Version, bool, int]:
            cell = ran[n]
            return (_version(cell.resolved.get(package, "")), cell.cell.python == python, -n)

        return ran[max(range(len(ran)), key=recency)]

    def status(self, slug: str) -> CaseStatus:
        if slug not in self._statuses:
            self._statuses[slug] = self._status(slug)
        return self._statuses[slug]

    @functools.cached_property
    def _statuses(self) -> dict[str, CaseStatus]:
        return {}

    def _status(self, slug: str) -> CaseStatus:
        """A documented bug: reproduces on R, or fixed since R; a workaround or pattern: holds or works,
        or broken since R; could not observe only when no test of the case was observed there."""
        case = self.cases.get(slug)
        title = case.title if case else slug
        cell = self.newest_for(slug)
        rows = self.case_rows(slug)
        if cell is None:
            return CaseStatus(slug, title, None, State.NOT_RUN)
        at = {r.test: r.verdict(cell.id) for r in rows}
        bugs = [r for r in rows if r.role == Role.BUG and at[r.test] in (Verdict.REPRODUCES, Verdict.FIXED)]
        others = [
            r for r in rows if r.role != Role.BUG and at[r.test] in (Verdict.BROKEN, Verdict.HOLDS, Verdict.WORKS)
        ]
        reproducing = [r for r in bugs if at[r.test] == Verdict.REPRODUCES]
        if reproducing:
            return CaseStatus(slug, title, cell, State.REPRODUCES, self._latest_since(reproducing, cell), reproducing)
        if bugs:
            return CaseStatus(slug, title, cell, State.FIXED, self._latest_since(bugs, cell), bugs)
        broken = [r for r in others if at[r.test] == Verdict.BROKEN]
        if broken:
            return CaseStatus(slug, title, cell, State.BROKEN, self._earliest_since(broken, cell), broken)
        if others:
            state = State.HOLDS if any(r.role == Role.WORKAROUND for r in others) else State.WORKS
            return CaseStatus(slug, title, cell, state, None, others)
        if any(v == Verdict.NA for v in at.values()):
            return CaseStatus(slug, title, cell, State.NOT_APPLICABLE, None, rows)
        return CaseStatus(slug, title, cell, State.COULD_NOT_OBSERVE, None, rows)

    def broken(self, slug: str) -> tuple[CellResult | None, list[TestRow]]:
        """The case's workaround and pattern tests that are broken at the newest cell that runs it
        (whatever its bug does: a broken workaround matters most while the bug reproduces)."""
        cell = self.newest_for(slug)
        if cell is None:
            return None, []
        return cell, [r for r in self.case_rows(slug) if r.role != Role.BUG and r.verdict(cell.id) == Verdict.BROKEN]

    def earliest_since(self, rows: Sequence[TestRow], cell: CellResult) -> Boundary | None:
        return self._earliest_since(rows, cell)

    def _latest_since(self, rows: Sequence[TestRow], cell: CellResult) -> Boundary | None:
        found = [b for r in rows if (b := self.since(r, cell)) is not None]
        return max(found, key=lambda b: results.version_key(b.first_after), default=None)

    def _earliest_since(self, rows: Sequence[TestRow], cell: CellResult) -> Boundary | None:
        found = [b for r in rows if (b := self.since(r, cell)) is not None]
        return min(found, key=lambda b: results.version_key(b.first_after), default=None)

    def on_newest(self) -> tuple[Counter[Verdict], Counter[Reason]]:
        verdicts: Counter[Verdict] = Counter()
        reasons: Counter[Reason] = Counter()
        newest = self.newest()
        if newest is None:
            return verdicts, reasons
        for row in self.rows.values():
            seen = row.seen(newest.id)
            if seen.verdict != Verdict.NOT_RUN:
                verdicts[seen.verdict] += 1
            if seen.verdict == Verdict.ERROR:
                reasons[seen.reason or Reason.HARNESS] += 1
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


def column_anchor(cell_id: str) -> str:
    return "col-" + "".join(ch if ch.isalnum() or ch in "_-." else "-" for ch in cell_id)


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")
