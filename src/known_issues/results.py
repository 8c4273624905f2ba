"""Typed results of cells and runs, with their JSON form (the files under report/).

Every module that reads results uses these records; none reads a results file by string keys.
Reading checks the schema version, so a file from another version of the harness is refused with
a message that says what to do, instead of being misread.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from packaging.version import InvalidVersion, Version

from known_issues.cell.observations import CollectError, TestResult
from known_issues.cell.verdicts import Reason, Verdict
from known_issues.errors import SchemaError
from known_issues.matrix import Cell
from known_issues.outcomes import CELL_VERDICT, CellStatus
from known_issues.records import check_schema, load

SCHEMA = 2
BISECT_SCHEMA = 1

__all__ = [
    "SCHEMA",
    "AppliedRule",
    "BisectAnswer",
    "BisectAnswers",
    "CellResult",
    "CompatFinding",
    "PackageChange",
    "RunResult",
    "SchemaError",
    "changed_packages",
]


@dataclass
class AppliedRule:
    """A test-dependency rule of matrix.toml that matched this cell's resolved versions."""

    when: dict[str, str]
    pins: list[str]
    why: str = ""


@dataclass
class CompatFinding:
    """A combination that installed but failed the smoke check (declared compatible, broken together)."""

    versions: dict[str, str]
    error: str


@dataclass
class CellResult:
    """One cell: how its environment was made and what every test in it gave."""

    cell: Cell
    status: CellStatus = CellStatus.ERROR
    reason: str = ""
    error_reason: Reason | None = None  # why a cell is "error": environment, timeout, harness...
    requirements: list[str] = field(default_factory=list)
    run_pins: dict[str, str] = field(default_factory=dict)  # test tools pinned for the whole run
    # A newest cell's runtime packages as a fresh install of its runtime requirements gives them (its
    # axes, pins and cases' dependencies, without the test tools); empty for every other cell.
    runtime: dict[str, str] = field(default_factory=dict)
    rules_applied: list[AppliedRule] = field(default_factory=list)
    fallback_pins: list[str] = field(default_factory=list)
    lock_sources: list[str] = field(default_factory=list)
    compat_findings: list[CompatFinding] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)
    python: str = ""
    env_key: str = ""
    env_reused: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    tests: list[TestResult] = field(default_factory=list)
    collect_errors: list[CollectError] = field(default_factory=list)
    cases_run: list[str] = field(default_factory=list)  # cases observed in this invocation
    cases_reused: list[str] = field(default_factory=list)  # cases served from the result store
    # Cases left out because their own dependencies cannot install with this cell's versions.
    cases_not_installable: dict[str, str] = field(default_factory=dict)
    stray_processes: list[str] = field(default_factory=list)
    finished: str = ""
    # Everything the cell's file was made from (its lock, its cases' stored results...): a later run that
    # arrives at the same inputs leaves the file as it is.
    inputs: str = ""
    schema: int = SCHEMA
    # Not kept in the file: this run found the cell's inputs as they were and left its file alone.
    unchanged: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.cell.id

    @property
    def ran(self) -> bool:
        return self.status == CellStatus.RAN

    @property
    def cell_verdict(self) -> Verdict | None:
        """The verdict every test gets when the cell did not run its tests."""
        return None if self.ran else CELL_VERDICT[self.status]

    def versions(self) -> dict[str, str]:
        """Resolved versions: installed distributions, else the resolver's pins; plus ``python``."""
        versions = dict(self.resolved)
        versions.update(self.distributions)
        if self.python:
            versions["python"] = self.python
        return versions

    def version_of(self, name: str) -> str:
        """The resolved version of an axis (or python), else what was requested."""
        if name == "python":
            return self.python or self.cell.python
        # As versions() has it, without building that dict: ordering the cells asks this thousands of times.
        found = self.distributions[name] if name in self.distributions else self.resolved.get(name)
        return found or dict(self.cell.requested).get(name, "?")

    @classmethod
    def read(cls, path: Path) -> CellResult:
        return read(cls, path)


@dataclass(frozen=True)
class BisectAnswer:
    """What a bisect found for one test: its verdict flipped between two releases of one package.

    The report uses it to name the package responsible for a flip where several changed at once."""

    case: str
    test: str
    package: str
    last_old: str  # the newest release with the old verdict
    first_new: str  # the oldest release with the new one
    old_verdict: str
    new_verdict: str
    held: str  # what every other axis was held at, in words


@dataclass
class BisectAnswers:
    answers: list[BisectAnswer] = field(default_factory=list)
    schema: int = BISECT_SCHEMA

    def with_answer(self, answer: BisectAnswer) -> BisectAnswers:
        """The answers with ``answer`` replacing any earlier one for the same test and package."""
        same = (answer.case, answer.test, answer.package)
        kept = [a for a in self.answers if (a.case, a.test, a.package) != same]
        return BisectAnswers([*kept, answer])


@dataclass
class RunResult:
    """A merged run: the cells of one matrix (in matrix order) and the ones that produced nothing."""

    cells: list[CellResult]
    generated: str = ""
    matrix: str = ""  # the matrix file's name, relative to the project (never an absolute path)
    index: dict[str, Any] = field(default_factory=dict)
    missing: list[Cell] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # group name -> its description (what it is for)
    schema: int = SCHEMA

    def cell(self, cell_id: str) -> CellResult | None:
        return next((c for c in self.cells if c.id == cell_id), None)

    @classmethod
    def read(cls, path: Path) -> RunResult:
        return read(cls, path)


R = TypeVar("R", "CellResult", "RunResult", "BisectAnswers")


def read(kind: type[R], path: Path, schema: int = SCHEMA) -> R:
    """A results file of the current schema, or SchemaError saying why not."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SchemaError(f"{path}: not JSON: {exc}") from exc
    check_schema(data, schema, str(path))
    try:
        return load(kind, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{path}: not a {kind.__name__} record: {exc}") from exc


# --------------------------------------------------------------------------------------------
# cell order: the runner's neighbours and the report's columns are the same order


@functools.lru_cache(maxsize=4096)
def version_key(text: str) -> tuple[int, Any]:
    try:
        return (0, Version(text))
    except (InvalidVersion, TypeError):
        return (1, str(text))


def ordered_cells(cells: Sequence[CellResult]) -> list[CellResult]:
    """Groups in order of first appearance; within a group, by each declared axis's resolved
    version in declaration order, then by Python."""
    groups: dict[str, int] = {}
    for cell in cells:
        groups.setdefault(cell.cell.group, len(groups))

    def key(cell: CellResult) -> tuple[Any, ...]:
        axes = tuple(version_key(cell.version_of(axis)) for axis in cell.cell.axes)
        return (groups[cell.cell.group], axes, version_key(cell.cell.python), cell.id)

    return sorted(cells, key=key)


def by_group(cells: Sequence[CellResult]) -> dict[str, list[CellResult]]:
    out: dict[str, list[CellResult]] = defaultdict(list)
    for cell in ordered_cells(cells):
        out[cell.cell.group].append(cell)
    return dict(out)


@dataclass(frozen=True)
class PackageChange:
    package: str
    old: str  # "-" when the package was not installed
    new: str


def changed_packages(a: CellResult, b: CellResult) -> list[PackageChange]:
    """Every installed package (and the Python) whose version differs between two cells, axes first."""
    va, vb = a.versions(), b.versions()
    axes = [*b.cell.axes, "python"]
    names = sorted(set(va) | set(vb), key=lambda n: (n not in axes, axes.index(n) if n in axes else 0, n))
    return [PackageChange(n, va.get(n, "-"), vb.get(n, "-")) for n in names if va.get(n) != vb.get(n)]


def changed_along_a_line(a: CellResult, b: CellResult) -> list[PackageChange]:
    """What differs between two neighbouring cells of a line, which may run different cases (a group of
    a few cases beside one of all, a probe of the cases that flip): a package that only the cell with
    more cases installs comes with those cases, not with a release. (No cases named: every case.)"""
    a_cases, b_cases = set(a.cell.cases), set(b.cell.cases)
    b_fewer = bool(b_cases) and (not a_cases or not a_cases <= b_cases)
    a_fewer = bool(a_cases) and (not b_cases or not b_cases <= a_cases)
    return [c for c in changed_packages(a, b) if not (c.new == "-" and b_fewer) and not (c.old == "-" and a_fewer)]


def newest_cell(cells: Sequence[CellResult]) -> CellResult | None:
    """The headline cell: the last cell that ran in the first group (newest versions of its axes)."""
    groups = by_group(cells)
    for group_cells in groups.values():
        ran = [c for c in group_cells if c.ran]
        return ran[-1] if ran else None
    return None
