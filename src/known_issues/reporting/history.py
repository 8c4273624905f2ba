"""A test's history along a version line, as intervals of one verdict with exact ends: "reproduces
0.100.1-0.105.1, fixed 0.106.0-0.118.2, reproduces again since 0.118.3".

Each change between two observed releases is a boundary: exact where no release lies between them or
the narrowing (``narrowing.py``) probed the ones that do, with the packages that moved there; where
several packages moved at once, another line that changed only one of them (or a bisect) names the
one responsible. Every "since" the outputs print comes from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from known_issues.cell.verdicts import Verdict
from known_issues.errors import PackageIndexError
from known_issues.lines import PLACED, Line, transitions
from known_issues.narrowing import Narrowed
from known_issues.reporting.analysis import Key, TestRow
from known_issues.results import BisectAnswer, CellResult, PackageChange, changed_along_a_line, version_key

Between = Callable[[str, str, str, str], list[str]]  # (package, python, low, high) -> releases between


@dataclass(frozen=True)
class Isolation:
    package: str
    by: str  # "line <description> (only <package> changed)" or "bisect over <package> releases"


@dataclass
class Boundary:
    """Where a verdict changes along a line: the last release with the old verdict, the first with the new."""

    package: str
    before: Verdict
    after: Verdict
    last_before: str
    first_after: str
    exact: bool  # nothing untested between them (or only releases that cannot tell, named in ``unknown``)
    unknown: tuple[str, ...] = ()  # releases between them whose verdict is not known
    changed: tuple[PackageChange, ...] = ()  # every package that moved between the two cells
    cells: tuple[str, str] = ("", "")  # the observed cells on each side (of the run, or of the narrowing)
    narrowed: bool = False  # placed by probing the releases between
    isolated: list[Isolation] = field(default_factory=list)
    line: str = ""  # the line it lies on, in words

    @property
    def responsible(self) -> list[PackageChange]:
        """The packages the change is attributed to: the one another line or a bisect isolated, else the
        line's own package when only it moved, else every package that moved."""
        named = {i.package for i in self.isolated}
        isolated = [c for c in self.changed if c.package in named]
        return isolated or list(self.changed)

    def since_text(self) -> str:
        """ "fastapi 0.128.2 (last reproduces: 0.128.1)", or the range when it is not exact."""
        if self.exact:
            return f"{self.package} {self.first_after} (last {self.before}: {self.last_before})"
        return f"{self.package} {self.first_after} or earlier (last {self.before} seen: {self.last_before})"


@dataclass(frozen=True)
class Interval:
    verdict: Verdict
    first: str
    last: str


@dataclass
class History:
    line: Line
    case: str
    test: str
    intervals: list[Interval]
    boundaries: list[Boundary]

    @property
    def package(self) -> str:
        return self.line.package

    @property
    def key(self) -> Key:
        return (self.case, self.test)

    def since(self) -> Boundary | None:
        """The change into the verdict of the newest observed release (None: it never changed)."""
        return self.boundaries[-1] if self.boundaries else None

    def now(self) -> Verdict | None:
        return self.intervals[-1].verdict if self.intervals else None

    def at(self, version: str) -> Verdict | None:
        """The verdict at any release of the line's range: known inside an interval, unknown (None)
        between the ends of a boundary that is not exact, before the first or after the last observed."""
        v = version_key(version)
        for interval in self.intervals:
            if version_key(interval.first) <= v <= version_key(interval.last):
                return interval.verdict
        return None

    def text(self) -> str:
        """ "reproduces 0.100.1-0.105.1, fixed 0.106.0-0.118.2, reproduces again since 0.118.3"."""
        parts = []
        seen: set[Verdict] = set()
        for n, interval in enumerate(self.intervals):
            again = " again" if interval.verdict in seen else ""
            seen.add(interval.verdict)
            if n == len(self.intervals) - 1 and n > 0:
                parts.append(f"{interval.verdict}{again} since {interval.first}")
            elif interval.first == interval.last:
                parts.append(f"{interval.verdict}{again} at {interval.first}")
            else:
                parts.append(f"{interval.verdict}{again} {interval.first}\u2013{interval.last}")
        return ", ".join(parts)


def histories(
    lines: Sequence[Line],
    rows: Mapping[Key, TestRow],
    narrowed: Sequence[Narrowed] = (),
    between: Between | None = None,
    cells: Mapping[str, CellResult] | None = None,
) -> dict[tuple[Key, int], History]:
    """(test, index of the line) -> the test's history along every line that observed it."""
    answers = {(a.line, a.case, a.test, a.low, a.high): a for a in narrowed}
    cells = cells or {c.id: c for line in lines for p in line.points for c in p.cells}
    out: dict[tuple[Key, int], History] = {}
    for n, line in enumerate(lines):
        for key, row in rows.items():
            verdicts = row.verdicts()
            placed = [(p.version, p.verdict(verdicts)) for p in line.points]
            placed = [(v, verdict) for v, verdict in placed if verdict in PLACED]
            if not placed:
                continue
            boundaries = []
            for tr in transitions(line, key[0], key[1], verdicts):
                answer = answers.get((line.key.describe(), key[0], key[1], tr.low, tr.high))
                chain = [answer] if answer is not None else []
                while chain and chain[-1].after != tr.after:
                    found = answers.get((line.key.describe(), key[0], key[1], chain[-1].first_after, tr.high))
                    if found is None:
                        break
                    chain.append(found)
                boundaries += _boundaries(line, tr.before, tr.after, tr.low, tr.high, (tr.low_cell, tr.high_cell),
                                          chain, between, cells)  # fmt: skip
            out[(key, n)] = History(line, key[0], key[1], _intervals(placed, boundaries), boundaries)
    return out


def _boundaries(
    line: Line,
    before: Verdict,
    after: Verdict,
    low: str,
    high: str,
    ends: tuple[str, str],
    chain: Sequence[Narrowed],
    between: Between | None,
    cells: Mapping[str, CellResult],
) -> list[Boundary]:
    package, where = line.package, line.key.describe()
    if chain:
        # Each narrowed change in turn (a third verdict on the way is a change of its own).
        placed = [
            Boundary(
                package,
                a.before,
                a.after,
                a.last_before,
                a.first_after,
                a.exact,
                tuple(a.skipped),
                tuple(a.changed),
                ends,
                narrowed=True,
                line=where,
            )
            for a in chain
        ]
        last = chain[-1]
        if last.after == after:
            return placed
        # The way on to the observed verdict was not narrowed (an answer kept from before it was).
        rest = Boundary(package, last.after, after, last.first_after, high, False, (), (), ends, line=where)
        return [*placed, rest]
    unknown: tuple[str, ...] = ()
    exact = False
    if between is not None:
        try:
            unknown = tuple(between(package, line.key.python, low, high))
            exact = not unknown
        except PackageIndexError:
            exact = False
    a, b = cells.get(ends[0]), cells.get(ends[1])
    changed = tuple(changed_along_a_line(a, b)) if a is not None and b is not None else ()
    return [Boundary(package, before, after, low, high, exact, unknown, changed, ends, line=where)]


def _intervals(placed: Sequence[tuple[str, Verdict]], boundaries: Sequence[Boundary]) -> list[Interval]:
    if not placed:
        return []
    out = [Interval(placed[0][1], placed[0][0], placed[0][0])]
    for b in boundaries:
        out[-1] = Interval(out[-1].verdict, out[-1].first, b.last_before)
        out.append(Interval(b.after, b.first_after, b.first_after))
    out[-1] = Interval(out[-1].verdict, out[-1].first, placed[-1][0])
    return out


def attribute(all_histories: Iterable[History], bisected: Sequence[BisectAnswer] = ()) -> None:
    """Where several packages moved at a boundary, name the one that another line (which changed only
    that one) or a bisect showed to change the same verdict the same way."""
    by_test: dict[Key, list[History]] = {}
    for h in all_histories:
        by_test.setdefault(h.key, []).append(h)
    for key, found in by_test.items():
        every = [(h, b) for h in found for b in h.boundaries]
        for _, b in every:
            if len(b.changed) < 2:
                continue
            mine = {c.package: c for c in b.changed}
            for other_h, other in every:
                if other is b or len(other.changed) != 1 or (other.before, other.after) != (b.before, b.after):
                    continue
                (single,) = other.changed
                if single.package in mine and _within(single, mine[single.package]):
                    by = f"line {other_h.line.key.describe()} (only {single.package} changed)"
                    b.isolated.append(Isolation(single.package, by))
            for answer in bisected:
                if (answer.case, answer.test) != key or answer.package not in mine:
                    continue
                step = PackageChange(answer.package, answer.last_old, answer.first_new)
                if _within(step, mine[answer.package]):
                    b.isolated.append(Isolation(answer.package, f"bisect over {answer.package} releases"))


def _within(inner: PackageChange, outer: PackageChange) -> bool:
    """The inner step (last old version, first new one) lies inside the outer one."""
    return version_key(outer.old) <= version_key(inner.old) and version_key(inner.new) <= version_key(outer.new)
