"""What each release changed since a baseline (the previous published run): one entry per release and
test, with the cells as evidence.

A release is new when some cell of this run installed it and no cell of the baseline did. Its cells
are compared with the cells of the release before it on the same line (``lines.py``: same other axes,
same Python), taking the baseline's cell where this run no longer has that release; and a cell that
both runs have but that re-resolved (an "any" axis, a runtime dependency that had a release) is
compared with itself. A verdict that changed in a cell whose versions did not move is not a release's:
it is listed apart (the case or the harness changed, or it did not repeat).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from known_issues.cell.verdicts import Role, Verdict
from known_issues.lines import PLACED, Line, lines_of
from known_issues.outcomes import ATTENTION, Change, change_kind
from known_issues.reporting.analysis import Key, TestRow, grid
from known_issues.results import CellResult, RunResult, changed_packages, version_key

# A test that appears or disappears (a new case, a new cell) is not a change of behaviour.
NOT_A_CHANGE = frozenset({Change.NEW_TEST, Change.GONE})


@dataclass(frozen=True)
class Evidence:
    cell: str  # the cell of this run
    compared: str  # the cell it was compared with
    how: str  # "along <line>" or "the same cell, re-resolved"
    before_in_baseline: bool  # the compared cell is the baseline's


@dataclass
class ReleaseChange:
    """One test whose verdict a release changed."""

    case: str
    test: str
    role: Role
    old: Verdict
    new: Verdict
    kind: Change
    evidence: list[Evidence] = field(default_factory=list)
    message: str = ""  # what the test said in the first evidence cell
    observed: str = ""  # when the new verdict was observed

    @property
    def needs_attention(self) -> bool:
        return self.kind in ATTENTION


@dataclass
class Release:
    """A release new since the baseline, the release it is compared with, and what it changed."""

    package: str  # several packages that moved together: "fastapi + starlette"
    version: str
    previous: str  # the release of the same package it was compared with ("" when none)
    changes: list[ReleaseChange] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)  # the cells of this run that installed it

    @property
    def name(self) -> str:
        return f"{self.package} {self.version}"


@dataclass
class Changes:
    # Every new release of a package some line varies or that a re-resolved cell took, with what it changed.
    releases: list[Release]
    unexplained: list[tuple[str, ReleaseChange]]  # (cell, change) where no version moved

    def all(self) -> list[tuple[Release | None, ReleaseChange]]:
        return [(r, c) for r in self.releases for c in r.changes] + [(None, c) for _, c in self.unexplained]

    def count(self) -> int:
        return sum(len(r.changes) for r in self.releases) + len(self.unexplained)


def _installed(cells: Sequence[CellResult]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for cell in cells:
        if cell.ran:
            for name, version in cell.versions().items():
                found[name].add(version)
    return found


def release_changes(
    baseline: RunResult,
    run: RunResult,
    pairs: Mapping[str, str] | None = None,
    is_new: Callable[[str, str], bool] = lambda package, version: True,
) -> Changes:
    """What the releases new since ``baseline`` changed in ``run``. ``pairs``: new cell id -> the
    baseline cell to compare it with (default: the cell with the same id). ``is_new``: whether a
    release the baseline did not install came out since (a group added to the matrix brings old
    releases that are not news); by default every one is."""
    old_rows, new_rows = grid(baseline.cells), grid(run.cells)
    before, now = _installed(baseline.cells), _installed(run.cells)
    new_releases = {
        (name, v) for name, versions in now.items() for v in versions - before.get(name, set()) if is_new(name, v)
    }
    releases: dict[tuple[str, str], Release] = {}
    varied = {line.package for line in lines_of(run.cells)}

    def release(package: str, version: str, previous: str) -> Release:
        found = releases.setdefault((package, version), Release(package, version, previous))
        found.previous = found.previous or previous
        return found

    for name, version in sorted(new_releases, key=lambda nv: (nv[0], version_key(nv[1]))):
        if name in varied:
            release(name, version, "")
    for cell in run.cells:
        for name, version in cell.versions().items():
            if (name, version) in releases and cell.ran:
                releases[name, version].cells.append(cell.id)

    # Along each line: every cell at a new release against the release before it.
    baseline_lines = {line.key: line for line in lines_of(baseline.cells)}
    for line in lines_of(run.cells):
        for point in line.points:
            if (line.package, point.version) not in new_releases:
                continue
            for cell in point.cells:
                for key, row in new_rows.items():
                    if row.verdict(cell.id) not in PLACED:
                        continue
                    prev = _previous(line, baseline_lines.get(line.key), point.version, key, new_rows, old_rows)
                    if prev is None:
                        continue
                    prev_cell, prev_verdict, in_baseline = prev
                    kind = change_kind(row.role, prev_verdict, row.verdict(cell.id))
                    if kind is None or kind in NOT_A_CHANGE:
                        continue
                    r = release(line.package, point.version, prev_cell.version_of(line.package))
                    how = f"along {line.key.describe()}"
                    _add(r, row, prev_verdict, kind, Evidence(cell.id, prev_cell.id, how, in_baseline), cell.id)

    # The same cell in both runs, re-resolved.
    unexplained: list[tuple[str, ReleaseChange]] = []
    for cell in run.cells:
        old_cell = baseline.cell((pairs or {}).get(cell.id, cell.id))
        if old_cell is None or not cell.ran or not old_cell.ran:
            continue
        moved = changed_packages(old_cell, cell)
        # Every new release a re-resolved cell took is listed, with its changes or as changing none.
        for c in moved:
            if (c.package, c.new) in new_releases:
                taken = release(c.package, c.new, c.old)
                if cell.id not in taken.cells:
                    taken.cells.append(cell.id)
        for key, row in new_rows.items():
            old_row = old_rows.get(key)
            if old_row is None:
                continue
            old_v, new_v = old_row.verdict(old_cell.id), row.verdict(cell.id)
            kind = change_kind(row.role, old_v, new_v)
            if kind is None or kind in NOT_A_CHANGE:
                continue
            evidence = Evidence(cell.id, old_cell.id, "the same cell, re-resolved", True)
            new_ones = [c for c in moved if (c.package, c.new) in new_releases]
            if not moved:
                change = ReleaseChange(key[0], key[1], row.role, old_v, new_v, kind, [evidence])
                change.message, change.observed = row.message(cell.id), row.seen(cell.id).observed
                unexplained.append((cell.id, change))
                continue
            # Already found along a line for one of the releases that moved here: more evidence of it.
            known = [
                found
                for c in new_ones
                if (found := releases.get((c.package, c.new))) is not None and _has(found, row, old_v, new_v)
            ]
            if known:
                _add(known[0], row, old_v, kind, evidence, cell.id)
                continue
            chosen = new_ones or moved
            package = " + ".join(c.package for c in chosen)
            version = " + ".join(c.new for c in chosen)
            previous = " + ".join(c.old for c in chosen)
            _add(release(package, version, previous), row, old_v, kind, evidence, cell.id)
    ordered = sorted(releases.values(), key=lambda r: (not r.changes, r.package, version_key(r.version.split(" ")[0])))
    return Changes(ordered, unexplained)


def _previous(
    line: Line,
    baseline_line: Line | None,
    version: str,
    key: Key,
    rows: Mapping[Key, TestRow],
    old_rows: Mapping[Key, TestRow],
) -> tuple[CellResult, Verdict, bool] | None:
    """The nearest lower release of the line that observed the test: this run's cell, else the
    baseline's (a release this run no longer has, like the newest release of the day before)."""
    found: list[tuple[str, CellResult, Verdict, bool]] = []
    row, old_row = rows.get(key), old_rows.get(key)
    for p in line.points:
        if version_key(p.version) < version_key(version) and row is not None:
            v = p.verdict(row.verdicts())
            if v in PLACED:
                found.append((p.version, p.cell_for(row.verdicts()), v, False))
    mine = {version for version, *_ in found}  # releases this run observed the test at
    if baseline_line is not None and old_row is not None:
        for p in baseline_line.points:
            if p.version in mine or version_key(p.version) >= version_key(version):
                continue
            v = p.verdict(old_row.verdicts())
            if v in PLACED:
                found.append((p.version, p.cell_for(old_row.verdicts()), v, True))
    if not found:
        return None
    _, cell, verdict, in_baseline = max(found, key=lambda f: version_key(f[0]))
    return cell, verdict, in_baseline


def _has(r: Release, row: TestRow, old: Verdict, new: Verdict) -> bool:
    return any((c.case, c.test, c.old, c.new) == (row.case, row.test, old, new) for c in r.changes)


def _add(r: Release, row: TestRow, old: Verdict, kind: Change, evidence: Evidence, cell_id: str) -> None:
    new = row.verdict(cell_id)
    for change in r.changes:
        if (change.case, change.test, change.old, change.new) == (row.case, row.test, old, new):
            if evidence not in change.evidence:
                change.evidence.append(evidence)
            return
    change = ReleaseChange(row.case, row.test, row.role, old, new, kind, [evidence])
    change.message, change.observed = row.message(cell_id), row.seen(cell_id).observed
    r.changes.append(change)
