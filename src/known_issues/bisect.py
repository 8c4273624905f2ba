"""Bisect: the first release of one package where a test's verdict flips, by binary search over its
releases, with every other axis held where the user pinned it.

The search itself (``search``) knows nothing about environments: it takes the ordered releases and
a function that gives the verdict at one release, so it can be tested on a synthetic function. The
glue below (``bisect_releases``) evaluates a release by running one real cell with the runner.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from known_issues import run_files
from known_issues.catalog import test_functions
from known_issues.cell.verdicts import Verdict
from known_issues.errors import UsageError
from known_issues.matrix import ANY, Cell, Matrix
from known_issues.observe import holding, observe
from known_issues.outcomes import UNUSABLE_FOR_BISECT
from known_issues.results import BisectAnswer, CellResult
from known_issues.runner.all_cells import say
from known_issues.runner.pypi import PackageIndex
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

# Verdicts that say nothing about where the flip is: the release cannot run the test at all.
UNUSABLE = frozenset(str(v) for v in UNUSABLE_FOR_BISECT)


@dataclass(frozen=True)
class Step:
    version: str
    verdict: str
    seconds: float


@dataclass(frozen=True)
class BisectRequest:
    """What `bisect` was asked: ``target`` is ``case`` or ``case::test``; ``holds`` are NAME=VERSION."""

    target: str
    package: str | None = None
    low: str | None = None
    high: str | None = None
    holds: Sequence[str] = ()
    python: str = "3.11"
    max_cells: int | None = None


@dataclass
class BisectResult:
    versions: tuple[str, ...]
    budget: int
    steps: list[Step] = field(default_factory=list)
    old: str | None = None  # verdict at the low end
    new: str | None = None  # verdict at the first release that differs from it
    last_old: str | None = None  # newest evaluated release with the old verdict
    first_new: str | None = None  # oldest evaluated release with a different verdict
    skipped: list[str] = field(default_factory=list)  # unusable releases between last_old and first_new
    exhausted: bool = False  # the budget ran out before the range narrowed to one step

    @property
    def found(self) -> bool:
        return self.first_new is not None and not self.exhausted

    def answer(self) -> str:
        if self.old is None:
            return "no release in the range can run the test (every one is not installable, incompatible or n/a)"
        if self.first_new is None:
            return f"no flip: {self.old} at both ends ({self.last_old} and {self.versions[-1]} or nearest usable)"
        if self.exhausted:
            return (
                f"not narrowed down within {self.budget} cells: {self.old} at {self.last_old}, "
                f"{self.new} at {self.first_new}; the flip is in between"
            )
        holes = f" (in between, unusable: {', '.join(self.skipped)})" if self.skipped else ""
        return f"{self.old} -> {self.new} first at {self.first_new} (last {self.old}: {self.last_old}){holes}"


def budget_for(n: int) -> int:
    """Cells a bisection of n releases may evaluate: both ends plus ceil(log2 n) midpoints."""
    return 1 if n <= 1 else math.ceil(math.log2(n)) + 2


class _Exhausted(Exception):
    pass


def search(
    versions: Sequence[str],
    evaluate: Callable[[str], str],
    max_cells: int | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> BisectResult:
    """Binary search for the first release whose verdict differs from the oldest usable release's.

    Assumes one flip in the range (the question is "since which release"). An unusable release
    (not installable, incompatible, n/a) is replaced by its nearest untried neighbour inside the
    current interval, so a hole costs one extra cell rather than derailing the search.
    """
    outcome = BisectResult(tuple(versions), max_cells if max_cells is not None else budget_for(len(versions)))
    known: dict[int, str] = {}

    def probe(i: int) -> str:
        if i in known:
            return known[i]
        if len(outcome.steps) >= outcome.budget:
            raise _Exhausted
        started = time.monotonic()
        verdict = evaluate(versions[i])
        step = Step(versions[i], verdict, round(time.monotonic() - started, 1))
        outcome.steps.append(step)
        if on_step is not None:
            on_step(step)
        known[i] = verdict
        return verdict

    def first_usable(candidates: Sequence[int]) -> int | None:
        for i in candidates:
            if probe(i) not in UNUSABLE:
                return i
        return None

    try:
        lo = first_usable(range(len(versions)))
        if lo is None:
            return outcome
        outcome.old, outcome.last_old = known[lo], versions[lo]
        hi = first_usable(range(len(versions) - 1, lo, -1))
        if hi is None or known[hi] == known[lo]:
            return outcome
        outcome.new, outcome.first_new = known[hi], versions[hi]
        while hi - lo > 1:
            m = first_usable(_nearest_first(lo, hi, known))
            if m is None:
                break  # everything strictly between is unusable: hi is the first usable release after lo
            if known[m] == known[lo]:
                lo = m
                outcome.last_old = versions[lo]
            else:
                hi = m
                outcome.new, outcome.first_new = known[hi], versions[hi]
    except _Exhausted:
        outcome.exhausted = True
        return outcome
    outcome.skipped = [versions[i] for i in range(lo + 1, hi)]
    return outcome


def _nearest_first(lo: int, hi: int, known: dict[int, str]) -> list[int]:
    """Indexes strictly between lo and hi, the midpoint first, then outward; known-unusable ones left out."""
    mid = (lo + hi) // 2
    order = [mid]
    for d in range(1, hi - lo):
        order += [mid + d, mid - d]
    return [i for i in order if lo < i < hi and known.get(i) not in UNUSABLE]


# --------------------------------------------------------------------------------------------
# evaluating a release with the real runner


@dataclass(frozen=True)
class Target:
    case: str
    test: str | None  # None: the whole case (its verdicts together)

    @classmethod
    def parse(cls, text: str) -> Target:
        case, _, test = text.partition("::")
        return cls(case.strip(), test.strip() or None)

    def __str__(self) -> str:
        return f"{self.case}::{self.test}" if self.test else self.case

    def problem(self, cases_dir: Path) -> str | None:
        """Why this target cannot be bisected (unknown case or test), else None."""
        folder = cases_dir / self.case
        if not self.case or not (folder / "case.toml").exists():
            return f"no such case: {self.case!r} (folders in {cases_dir})"
        if self.test and self.test.split("[", 1)[0] not in test_functions(folder):
            return f"no test {self.test!r} in case {self.case}"
        return None


def target_verdict(result: CellResult, target: Target) -> str:
    """The target's verdict in one cell result; a cell that did not run gives its status."""
    if result.cell_verdict is not None:
        return str(result.cell_verdict)
    tests = [t for t in result.tests if t.case == target.case and target.test in (None, t.test)]
    if not tests:
        if any(e.case == target.case for e in result.collect_errors):
            return str(Verdict.ERROR)
        return str(Verdict.NOT_RUN)
    if target.test is not None:
        return str(tests[0].verdict)
    if all(t.verdict == Verdict.NA for t in tests):
        return str(Verdict.NA)
    return ", ".join(f"{t.test}={t.verdict}" for t in sorted(tests, key=lambda t: t.test))


def releases_between(index: PackageIndex, package: str, python: str, low: str | None, high: str | None) -> list[str]:
    """Final releases of ``package`` (no pre-releases, none yanked) for this Python, low <= v <= high."""
    out = []
    for v in index.versions(package, python):
        parsed = Version(v)
        if (low is None or parsed >= Version(low)) and (high is None or parsed <= Version(high)):
            out.append(v)
    return out


def valid_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


@dataclass(frozen=True)
class Plan:
    """Which package is searched, and what every other axis is held at ("any": the resolver's choice)."""

    package: str
    held: tuple[tuple[str, str], ...]
    python: str

    def cell(self, version: str, case: str) -> Cell:
        requested = (*((n, v) for n, v in self.held if n != self.package), (self.package, version))
        return Cell("bisect", self.python, requested, (case,))

    def describe(self) -> str:
        held = ", ".join(f"{n} {v}" for n, v in self.held if n != self.package) or "nothing"
        return f"{self.package} releases, holding {held}, python {self.python}"


def plan_for(matrix: Matrix, package: str | None, hold: Sequence[str], python: str) -> Plan:
    """The first group's axes at "any" unless held (``NAME=VERSION``); the package searched defaults
    to the first group's first axis."""
    axes = [name for name, _ in matrix.groups[0].axes]
    held = dict.fromkeys(axes, ANY)
    for item in hold:
        name, sep, version = item.partition("=")
        if not sep or not name.strip() or not (version.strip() == ANY or valid_version(version.strip())):
            raise ValueError(f"--hold {item!r}: expected NAME=VERSION (or NAME=any)")
        held[canonicalize_name(name.strip())] = version.strip()
    chosen = canonicalize_name(package) if package else axes[0]
    return Plan(chosen, tuple(held.items()), python)


def bisect_releases(
    ctx: RunContext,
    target: Target,
    plan: Plan,
    versions: Sequence[str],
    max_cells: int | None = None,
    echo: Callable[[str], None] = say,
) -> BisectResult:
    """Run the search, evaluating each release as one real cell (environments are reused)."""

    def evaluate(version: str) -> str:
        observed = observe(ctx, [plan.cell(version, target.case)], replace=False, confirm_flips=False)
        if observed.run is None:
            raise KeyboardInterrupt
        (result,) = [c for c in observed.run.cells if c.id == plan.cell(version, target.case).id]
        return target_verdict(result, target)

    def show(step: Step) -> None:
        echo(f"[{len(outcome_steps) + 1}] {plan.package} {step.version}: {step.verdict} ({step.seconds:.1f}s)")
        outcome_steps.append(step)

    outcome_steps: list[Step] = []
    return search(versions, evaluate, max_cells=max_cells, on_step=show)


def answer_of(target: Target, plan: Plan, outcome: BisectResult) -> BisectAnswer | None:
    """The answer kept for the report: only a flip found for one test."""
    if not outcome.found or target.test is None or outcome.first_new is None:
        return None
    return BisectAnswer(
        case=target.case,
        test=target.test,
        package=plan.package,
        last_old=str(outcome.last_old),
        first_new=outcome.first_new,
        old_verdict=str(outcome.old),
        new_verdict=str(outcome.new),
        held=plan.describe(),
    )


def run_bisect(settings: Settings, index: PackageIndex, request: BisectRequest) -> int:
    target = Target.parse(request.target)
    problem = target.problem(settings.cases_dir)
    bounds = [v for v in (request.low, request.high) if v is not None]
    problem = problem or next((f"not a version: {v!r}" for v in bounds if not valid_version(v)), None)
    if problem:
        raise UsageError(problem)
    try:
        plan = plan_for(settings.matrix, request.package, request.holds, request.python)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    versions = releases_between(index, plan.package, request.python, request.low, request.high)
    if len(versions) < 2:
        raise UsageError(f"{len(versions)} {plan.package} release(s) in that range: nothing to bisect")
    limit = request.max_cells or budget_for(len(versions))
    print(
        f"bisecting {target} over {len(versions)} {plan.describe()}: "
        f"{versions[0]}..{versions[-1]}, at most {limit} cells"
    )
    steps = replace(settings, out=settings.out / "bisect", jobs=1, only_cases=(target.case,))
    with holding(steps):
        ctx = RunContext.build(steps, index)
        outcome = bisect_releases(ctx, target, plan, versions, max_cells=limit)
        answer = answer_of(target, plan, outcome)
        if answer is not None:
            run_files.record_bisect_answer(settings.out, answer)
    print(f"evaluated {len(outcome.steps)} of at most {limit} cells ({len(versions)} releases)")
    print(f"answer: {outcome.answer()}")
    return 0 if outcome.found else 1
