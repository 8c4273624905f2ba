"""Version lines: the cells of a run that differ in one package only, ordered by its release.

A group that varies a package (``fastapi = { minors = ">=0.100" }``, a list of bcrypt releases, every
Python) makes a line along it, for each combination of what it holds (pydantic 2.11.7, Python 3.11).
Cells of other groups that hold the same values join it (the document's FastAPI releases on the guide's
Pydantic, the server cases' releases): a line has every release of the package the run observed with
everything else alike, whichever group asked for it. Along a line, a test's verdict changes between
two adjacent observed releases: that is a transition, and where releases lie untested between them,
the narrowing (``narrowing.py``) finds the exact one.

Nothing here knows a package or a group by name.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from known_issues.cell.verdicts import Verdict
from known_issues.matrix import ANY
from known_issues.outcomes import OBSERVED
from known_issues.results import CellResult, version_key

PYTHON = "python"
# Verdicts that place a behaviour on a line: what was observed, and "the feature does not exist yet".
PLACED: frozenset[Verdict] = OBSERVED | {Verdict.NA}


@dataclass(frozen=True)
class LineKey:
    """A package, and what every cell of the line holds: the other axes as requested, and the Python."""

    package: str
    held: tuple[tuple[str, str], ...]  # (name, requested) sorted, python included unless it is the package

    def describe(self) -> str:
        held = ", ".join(f"{n} {v}" for n, v in self.held)
        return f"{self.package} releases" + (f" ({held})" if held else "")

    @property
    def python(self) -> str:
        return dict(self.held).get(PYTHON, "")


def key_of(cell: CellResult, package: str) -> LineKey | None:
    """The line of ``cell`` along ``package``: None when the cell does not ask for one release of it."""
    requested = dict(cell.cell.requested)
    if package == PYTHON:
        held = tuple(sorted(requested.items()))
    else:
        if requested.get(package, ANY) == ANY:
            return None
        held = tuple(sorted([*((n, v) for n, v in requested.items() if n != package), (PYTHON, cell.cell.python)]))
    return LineKey(package, held)


@dataclass
class Point:
    """One release of the line's package, and the cells of the run that observed it."""

    version: str
    cells: list[CellResult] = field(default_factory=list)

    def verdict(self, verdicts: Mapping[str, Verdict]) -> Verdict:
        """The verdict of a test here: the first cell that observed it (``verdicts`` by cell id)."""
        for cell in self.cells:
            found = verdicts.get(cell.id, Verdict.NOT_RUN)
            if found != Verdict.NOT_RUN:
                return found
        return Verdict.NOT_RUN

    def cell_for(self, verdicts: Mapping[str, Verdict]) -> CellResult:
        return next((c for c in self.cells if verdicts.get(c.id, Verdict.NOT_RUN) != Verdict.NOT_RUN), self.cells[0])


@dataclass
class Line:
    key: LineKey
    points: list[Point]  # by release, oldest first

    @property
    def package(self) -> str:
        return self.key.package

    def point(self, version: str) -> Point | None:
        return next((p for p in self.points if p.version == version), None)


def lines_of(cells: Sequence[CellResult]) -> list[Line]:
    """Every line some group varies, with the cells of every group that hold the same values."""
    ran = [c for c in cells if c.ran]
    varied: dict[LineKey, None] = {}
    by_group: dict[str, list[CellResult]] = defaultdict(list)
    for cell in ran:
        by_group[cell.cell.group].append(cell)
    for group_cells in by_group.values():
        for package in [*group_cells[0].cell.axes, PYTHON]:
            versions: dict[LineKey, set[str]] = defaultdict(set)
            for cell in group_cells:
                key = key_of(cell, package)
                if key is not None:
                    versions[key].add(cell.version_of(package))
            varied.update((k, None) for k, seen in versions.items() if len(seen) > 1)
    out = []
    for key in varied:
        at: dict[str, Point] = {}
        for cell in ran:
            if key_of(cell, key.package) == key:
                version = cell.version_of(key.package)
                at.setdefault(version, Point(version)).cells.append(cell)
        out.append(Line(key, sorted(at.values(), key=lambda p: version_key(p.version))))
    return out


@dataclass(frozen=True)
class Transition:
    """A test's verdict changed between two adjacent releases of a line that observed it."""

    line: LineKey
    case: str
    test: str
    before: Verdict
    after: Verdict
    low: str  # the last observed release with ``before``
    high: str  # the first observed release with ``after``
    low_cell: str
    high_cell: str


def transitions(line: Line, case: str, test: str, verdicts: Mapping[str, Verdict]) -> list[Transition]:
    """The changes of one test's verdict along the line, between placed verdicts (an error, a flaky
    verdict or a cell that did not run the test is a hole, not a behaviour)."""
    placed = [(p, p.verdict(verdicts)) for p in line.points]
    placed = [(p, v) for p, v in placed if v in PLACED]
    out = []
    for (a, va), (b, vb) in itertools.pairwise(placed):
        if va != vb:
            out.append(
                Transition(line.key, case, test, va, vb, a.version, b.version,
                           a.cell_for(verdicts).id, b.cell_for(verdicts).id)
            )  # fmt: skip
    return out


def line_of_cell(lines: Iterable[Line], cell: CellResult) -> Line | None:
    """The line a cell's verdicts are read along: the one of its first axis that holds the cell."""
    for package in [*cell.cell.axes, PYTHON]:
        key = key_of(cell, package)
        for line in lines:
            if line.key == key:
                return line
    return None
