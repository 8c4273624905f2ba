"""The exact release of every change: a test whose verdict differs between two adjacent releases of a
line (``lines.py``) with untested releases between them is narrowed to the first release with the new
verdict and the last one with the old, by probing the releases between (a binary search, for the
cases that change there only). Every position's probes run in one run of cells through the one
observe pipeline, each position's next ones asked for as soon as its last ones are in; each answer is
kept in the result store under everything it depends on (the line, the two observed environments, the
case's files, the harness), so no later run repeats it.

``Search`` is the search itself, over any verdicts (tested on synthetic ones); ``narrow`` runs it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import InvalidVersion, Version

from known_issues import run_files
from known_issues.cell.atomic import write_json
from known_issues.cell.serial import dump
from known_issues.cell.verdicts import Verdict
from known_issues.errors import PackageIndexError, SchemaError
from known_issues.lines import PLACED, PYTHON, Line, LineKey, Point, lines_of, transitions
from known_issues.matrix import Cell
from known_issues.observe import observe
from known_issues.records import check_schema, load
from known_issues.results import CellResult, PackageChange, RunResult, changed_along_a_line
from known_issues.runner.all_cells import say
from known_issues.runner.run_context import RunContext

SCHEMA = 3  # 2: a test's record holds every change between the two observed ends; 3: no package a probe lacks
GROUP = "narrow"
ANSWERS = "narrowed.json"
Key = tuple[str, str]  # (case, test)


@dataclass(frozen=True)
class Probe:
    version: str
    verdict: Verdict
    cell: str


@dataclass
class Narrowed:
    """Where one test's verdict changes along one line, down to the release."""

    package: str
    line: str  # the line, in words (LineKey.describe)
    case: str
    test: str
    before: Verdict
    after: Verdict  # the verdict at first_after
    low: str  # the two observed releases it was narrowed between
    high: str
    last_before: str  # the newest release with ``before``
    first_after: str  # the oldest release after it with another verdict
    skipped: list[str] = field(default_factory=list)  # releases between them that could not tell
    probes: list[Probe] = field(default_factory=list)
    exact: bool = True  # False: the probe budget ran out first, the change is somewhere in between
    # Every package whose version differs between the cells at last_before and first_after.
    changed: list[PackageChange] = field(default_factory=list)
    schema: int = SCHEMA

    @property
    def key(self) -> Key:
        return (self.case, self.test)


@dataclass
class NarrowedRun:
    """The answers that place the transitions of one run (``report/narrowed.json``)."""

    answers: list[Narrowed] = field(default_factory=list)
    schema: int = SCHEMA


def read_answers(out: Path) -> list[Narrowed]:
    try:
        data = check_schema(json.loads((out / ANSWERS).read_text(encoding="utf-8")), SCHEMA, ANSWERS)
        return load(NarrowedRun, data).answers
    except (OSError, ValueError, KeyError, TypeError, SchemaError):
        return []


def answers_current(out: Path) -> bool:
    """The run's answers were written by this narrowing (a run that changed nothing keeps them)."""
    try:
        return bool(json.loads((out / ANSWERS).read_text(encoding="utf-8")).get("schema") == SCHEMA)
    except (OSError, ValueError, AttributeError):
        return False


def write_answers(out: Path, answers: Sequence[Narrowed]) -> None:
    write_json(out / ANSWERS, dump(NarrowedRun(list(answers))))


# --------------------------------------------------------------------------------------------
# the search


def budget_for(n: int) -> int:
    """Probes one position may cost for n releases between its ends: a binary search and a margin for
    releases that cannot tell and for tests that change at different releases."""
    return 2 * (math.ceil(math.log2(n + 1)) + 2)


@dataclass
class _Open:
    before: Verdict
    lo: int
    hi: int
    holes: set[int] = field(default_factory=set)


class Search:
    """Binary search, for several tests at once, over ``versions`` (the two observed ends first and last):
    for each test, the first version whose verdict differs from ``before``. A probe runs every test whose
    interval holds it; a version that cannot tell for a test (not installable, an error...) is a hole
    for it, and its nearest untried neighbour is probed instead. Where the verdict found there is not
    the one observed at the far end (``after``), the test changes again on the way, and that change is
    searched for too: one segment per change."""

    def __init__(
        self,
        versions: Sequence[str],
        before: Mapping[Key, Verdict],
        budget: int | None = None,
        after: Mapping[Key, Verdict] | None = None,
    ) -> None:
        self.versions = list(versions)
        self.tests = {k: _Open(v, 0, len(self.versions) - 1) for k, v in before.items()}
        self.after = dict(after or {})
        self.placed: dict[Key, list[_Open]] = {k: [] for k in before}  # the segments found before the current one
        self.probed: dict[int, dict[Key, Verdict]] = {}
        self.budget = budget if budget is not None else budget_for(len(self.versions) - 2)
        self.starts = _series_starts(self.versions)

    def _candidates(self, t: _Open) -> list[int]:
        mid = (t.lo + t.hi) // 2
        order = [mid] + [i for d in range(1, t.hi - t.lo) for i in (mid + d, mid - d)]
        return [i for i in order if t.lo < i < t.hi and i not in t.holes and i not in self.probed]

    def _settle(self) -> None:
        """A placed change whose new verdict is not the far end's: open the next segment from there."""
        last = len(self.versions) - 1
        for key, t in list(self.tests.items()):
            while t.hi < last and not self._candidates(t) and key in self.after:
                found = self.probed.get(t.hi, {}).get(key)
                if found is None or found not in PLACED or found == self.after[key]:
                    break
                self.placed[key].append(t)
                t = _Open(found, t.hi, last)
                for index in sorted(i for i in self.probed if t.lo < i < t.hi):
                    self._apply(t, index, self.probed[index].get(key, Verdict.NOT_RUN))
                self.tests[key] = t

    def next_probes(self, width: int = 1) -> list[int]:
        """Up to ``width`` releases to probe together: they split the widest open interval evenly (one
        is its midpoint), each replaced by its nearest untried neighbour where it cannot be probed."""
        self._settle()
        left = self.budget - len(self.probed)
        open_ = [t for t in self.tests.values() if self._candidates(t)]
        if left <= 0 or not open_:
            return []
        t = max(open_, key=lambda t: t.hi - t.lo)
        span = t.hi - t.lo
        count = max(1, min(width, left, span - 1))
        candidates = self._candidates(t)
        # Most changes come with the first release of a new series (0.162.0, 2.7.0): probed first, such a
        # release settles the place at once; where it does not, the search goes on as a binary one.
        starts = [i for i in candidates if i in self.starts]
        mid = (t.lo + t.hi) / 2
        chosen: list[int] = [min(starts, key=lambda i: (abs(i - mid), i))] if starts else []
        for n in range(1, count + 1):
            if len(chosen) >= count:
                break
            target = t.lo + round(n * span / (count + 1))
            ordered = sorted(candidates, key=lambda i: (abs(i - target), i))
            pick = next((i for i in ordered if i not in chosen), None)
            if pick is not None:
                chosen.append(pick)
        return sorted(chosen)

    def next_probe(self) -> int | None:
        found = self.next_probes(1)
        return found[0] if found else None

    def record(self, index: int, verdicts: Mapping[Key, Verdict]) -> None:
        self.probed[index] = dict(verdicts)
        for key, t in self.tests.items():
            self._apply(t, index, verdicts.get(key, Verdict.NOT_RUN))

    @staticmethod
    def _apply(t: _Open, index: int, verdict: Verdict) -> None:
        if not t.lo < index < t.hi:
            return
        if verdict not in PLACED:
            t.holes.add(index)
        elif verdict == t.before:
            t.lo = index
        else:
            t.hi = index

    def done(self) -> bool:
        return self.next_probe() is None

    def answer(self, key: Key) -> tuple[str, str, list[str], bool]:
        """(last release with the old verdict, first with another, the releases between that could not
        tell, narrowed to them alone), for the first change."""
        return self._placed(([*self.placed[key], self.tests[key]])[0])

    def segments(self, key: Key) -> list[tuple[Verdict, tuple[str, str, list[str], bool]]]:
        """Every change found, in order: the verdict before it and its answer."""
        return [(t.before, self._placed(t)) for t in [*self.placed[key], self.tests[key]]]

    def _placed(self, t: _Open) -> tuple[str, str, list[str], bool]:
        between = list(range(t.lo + 1, t.hi))
        return (
            self.versions[t.lo],
            self.versions[t.hi],
            [self.versions[i] for i in between],
            all(i in t.holes for i in between),
        )


def _series_starts(versions: Sequence[str]) -> set[int]:
    """The indexes of the releases that open a new series (major.minor) after the one before them."""
    starts: set[int] = set()
    for i in range(1, len(versions) - 1):
        try:
            if Version(versions[i]).release[:2] != Version(versions[i - 1]).release[:2]:
                starts.add(i)
        except InvalidVersion:
            continue
    return starts


# --------------------------------------------------------------------------------------------
# positions of one run


@dataclass
class Position:
    """Two adjacent observed releases of a line, the releases between, and the tests that change there."""

    line: Line
    low: Point
    high: Point
    between: list[str]
    endpoint_cells: tuple[CellResult, CellResult]
    changes: dict[Key, tuple[Verdict, Verdict]] = field(default_factory=dict)  # before, after
    keys: dict[Key, str] = field(default_factory=dict)  # the store key of each test's answer
    search: Search | None = None
    probe_cells: dict[int, CellResult] = field(default_factory=dict)  # index of a probed release -> its cell

    @property
    def cases(self) -> tuple[str, ...]:
        return tuple(sorted({case for case, _ in self.changes}))

    def probe_cell(self, version: str, cases: Sequence[str]) -> Cell:
        template = self.endpoint_cells[1].cell
        requested = tuple((n, version if n == self.line.package else v) for n, v in template.requested)
        return Cell(GROUP, template.python, requested, tuple(cases))


ReleasesBetween = Callable[[str, str, str, str], list[str]]  # (package, python, low, high) -> releases


def releases_between(index_versions: Callable[[str, str], Sequence[str]]) -> ReleasesBetween:
    def between(package: str, python: str, low: str, high: str) -> list[str]:
        lo, hi = Version(low), Version(high)
        if package == PYTHON:
            # A cell runs a Python minor (3.9), whichever patch is installed: the minors between are
            # what a line of Pythons leaves untested.
            return [f"{lo.major}.{m}" for m in range(lo.minor + 1, hi.minor)] if lo.major == hi.major else []
        return [v for v in index_versions(package, python) if lo < Version(v) < hi]

    return between


def positions_of(run: RunResult, between: ReleasesBetween) -> list[Position]:
    """Every pair of adjacent observed releases of a line where some test changes and releases lie
    untested between them."""
    lines = [line for line in lines_of(run.cells) if line.package != PYTHON]
    verdicts: dict[Key, dict[str, Verdict]] = defaultdict(dict)
    for cell in run.cells:
        for t in cell.tests:
            verdicts[t.key][cell.id] = t.verdict
    cells = {c.id: c for c in run.cells}
    found: dict[tuple[LineKey, str, str], Position] = {}
    for line in lines:
        for key, by_cell in verdicts.items():
            for tr in transitions(line, key[0], key[1], by_cell):
                where = (line.key, tr.low, tr.high)
                if where not in found:
                    try:
                        inside = between(line.package, line.key.python, tr.low, tr.high)
                    except PackageIndexError:
                        inside = []
                    low, high = line.point(tr.low), line.point(tr.high)
                    assert low is not None and high is not None
                    found[where] = Position(line, low, high, inside, (cells[tr.low_cell], cells[tr.high_cell]))
                found[where].changes[key] = (tr.before, tr.after)
    return [p for p in found.values() if p.between]


def answer_key(position: Position, key: Key, ctx: RunContext) -> str:
    """Everything an answer depends on: the line, the two observed environments and verdicts, the
    releases between, the case's files and the harness that runs in cells; the schema too, so that an
    older narrowing's record is asked again."""
    before, after = position.changes[key]
    low, high = position.endpoint_cells
    parts = [
        position.line.key.describe(),
        key[0],
        key[1],
        str(before),
        str(after),
        low.env_key,
        high.env_key,
        ",".join(position.between),
        ctx.digests.get(key[0], ""),
        ctx.harness,
    ]
    return f"narrowed{SCHEMA}-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


# --------------------------------------------------------------------------------------------
# running it


def narrow(ctx: RunContext, run: RunResult, between: ReleasesBetween) -> list[Narrowed]:
    """Narrow every transition of ``run``; answers already in the result store are reused. Probe cells
    are written under ``<out>/narrowing/``; returns every answer for the run."""
    positions = positions_of(run, between)
    answers: list[Narrowed] = []
    searching: list[Position] = []
    rerun = "all" in ctx.settings.rerun
    for position in positions:
        pending: dict[Key, Verdict] = {}
        for key in position.changes:
            position.keys[key] = answer_key(position, key, ctx)
            stored = None if rerun else ctx.store.get_record(position.keys[key], NarrowedRun, SCHEMA)
            if stored is not None:
                answers += stored.answers
            else:
                pending[key] = position.changes[key][0]
        if pending:
            versions = [position.low.version, *position.between, position.high.version]
            position.search = Search(versions, pending, after={k: position.changes[k][1] for k in pending})
            searching.append(position)
    if not searching:
        return answers
    probes = sum(budget_for(len(p.between)) for p in searching)
    say(f"narrowing {sum(len(p.search.tests) for p in searching if p.search)} change(s) at {len(searching)} "
        f"place(s) to their exact release (at most {probes} probe cells)")  # fmt: skip
    steps = replace(ctx, settings=replace(ctx.settings, out=ctx.settings.out / "narrowing", only_cases=()))
    flight = _Flight(ctx.settings.jobs, steps.settings.out)
    first = flight.start(searching)
    if first:
        observed = observe(steps, first, replace=False, confirm_flips=False, more=flight.finished)
        if observed.run is None:
            raise KeyboardInterrupt
    for position in searching:
        assert position.search is not None
        for key in position.search.tests:
            found = _answers(position, key)
            ctx.store.put_record(position.keys[key], NarrowedRun(found))
            answers += found
    say(f"narrowed with {flight.probes} probe cell(s), at most {flight.longest} one after another at a place")
    return answers


@dataclass
class _Flight:
    """The probes of every place in one run of cells: a place's next probes are asked for as soon as its
    last ones are in, and join the waiting cells at once (runner/all_cells.py), so no place waits for
    another's slowest probe, as a round of probes did. Workers no place is using probe more releases
    of the place that asks next (a little more work, fewer steps)."""

    jobs: int
    out: Path  # where the probe cells' files are (an unchanged cell is read back from there)
    waiting: dict[str, tuple[Position, int]] = field(default_factory=dict)  # probe cell id -> place, index
    in_flight: dict[int, int] = field(default_factory=dict)  # id(place) -> its probes not in yet
    steps: dict[int, int] = field(default_factory=dict)  # id(place) -> times its probes were asked for
    probes: int = 0

    @property
    def longest(self) -> int:
        return max(self.steps.values(), default=0)

    def start(self, positions: Sequence[Position]) -> list[Cell]:
        width = max(1, self.jobs // max(1, len(positions)))
        return [cell for position in positions for cell in self._next(position, width)]

    def finished(self, result: CellResult) -> list[Cell]:
        found = self.waiting.pop(result.id, None)
        if found is None:
            return []
        position, index = found
        search = position.search
        assert search is not None
        got = run_files.read_cell(self.out, result.id) if result.unchanged else result
        search.record(index, _verdicts(got, search.tests) if got is not None else {})
        if got is not None:
            position.probe_cells[index] = got
        self.in_flight[id(position)] -= 1
        if self.in_flight[id(position)] > 0:
            return []
        return self._next(position, max(1, self.jobs - len(self.waiting)))

    def _next(self, position: Position, width: int) -> list[Cell]:
        search = position.search
        assert search is not None
        cells = []
        for index in search.next_probes(width):
            cases = sorted({case for (case, _), t in search.tests.items() if t.lo < index < t.hi})
            cell = position.probe_cell(search.versions[index], cases)
            self.waiting[cell.id] = (position, index)
            cells.append(cell)
        if cells:
            self.in_flight[id(position)] = len(cells)
            self.steps[id(position)] = self.steps.get(id(position), 0) + 1
            self.probes += len(cells)
        return cells


def _verdicts(result: CellResult, tests: Mapping[Key, object]) -> dict[Key, Verdict]:
    if result.cell_verdict is not None:
        return dict.fromkeys(tests, result.cell_verdict)
    found = {t.key: t.verdict for t in result.tests if t.key in tests}
    return {k: found.get(k, Verdict.NOT_RUN) for k in tests}


def _answers(position: Position, key: Key) -> list[Narrowed]:
    """One answer per change of the test between the two observed releases: the first from the low
    end, each next one from the release where the one before it was placed."""
    search = position.search
    assert search is not None
    at = {**dict(enumerate(position.endpoint_cells[:1])), len(search.versions) - 1: position.endpoint_cells[1]}
    at.update(position.probe_cells)
    probes = [
        Probe(search.versions[i], verdicts[key], position.probe_cells[i].id)
        for i, verdicts in sorted(search.probed.items())
        if key in verdicts and i in position.probe_cells
    ]
    far = position.changes[key][1]
    out = []
    low = position.low.version
    for before, (last_before, first_after, skipped, narrowed) in search.segments(key):
        lo, hi = search.versions.index(last_before), search.versions.index(first_after)
        out.append(
            Narrowed(
                package=position.line.package,
                line=position.line.key.describe(),
                case=key[0],
                test=key[1],
                before=before,
                after=search.probed.get(hi, {}).get(key, far),
                low=low,
                high=position.high.version,
                last_before=last_before,
                first_after=first_after,
                skipped=skipped,
                probes=probes,
                exact=narrowed,
                changed=changed_along_a_line(at[lo], at[hi]) if lo in at and hi in at else [],
            )
        )
        low = first_after
    return out
