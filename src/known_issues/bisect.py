"""Bisect: the first FastAPI release where a test's verdict flips, by binary search over releases.

The search itself (``search``) knows nothing about environments: it takes the ordered releases and
a function that gives the verdict at one release, so it can be tested on a synthetic function. The
glue below (``bisect_releases``) evaluates a release by running one real cell with the runner.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from known_issues import store
from known_issues.analysis import NOT_RUN
from known_issues.matrix import ANY, Cell
from known_issues.pypi import PackageIndex
from known_issues.runner import Settings, run_cell

# Verdicts that say nothing about where the flip is: the release cannot run the test at all.
UNUSABLE = frozenset({"not installable", "incompatible", "n/a", NOT_RUN})


def _say(message: str) -> None:
    # Flushed: under nox stdout is a pipe, and each step should show as it finishes.
    print(message, flush=True)


@dataclass(frozen=True)
class Step:
    version: str
    verdict: str
    seconds: float


@dataclass
class Outcome:
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
) -> Outcome:
    """Binary search for the first release whose verdict differs from the oldest usable release's.

    Assumes one flip in the range (the question is "since which release"). An unusable release
    (not installable, incompatible, n/a) is replaced by its nearest untried neighbour inside the
    current interval, so a hole costs one extra cell rather than derailing the search.
    """
    outcome = Outcome(tuple(versions), max_cells if max_cells is not None else budget_for(len(versions)))
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
        if self.test:
            source = "\n".join(p.read_text(encoding="utf-8") for p in folder.glob("test_*.py"))
            if f"def {self.test}(" not in source:
                return f"no test {self.test!r} in case {self.case}"
        return None


def target_verdict(result: dict[str, Any], target: Target) -> str:
    """The target's verdict in one cell result; a cell that did not run gives its status."""
    if result["status"] != "ran":
        return str(result["status"])
    tests = [t for t in result["tests"] if t["case"] == target.case and target.test in (None, t["test"])]
    if not tests:
        if any(e.get("case") == target.case for e in result.get("collect_errors", [])):
            return "error"
        return NOT_RUN
    if target.test is not None:
        return str(tests[0]["verdict"])
    if all(t["verdict"] == "n/a" for t in tests):
        return "n/a"
    return ", ".join(f"{t['test']}={t['verdict']}" for t in sorted(tests, key=lambda t: t["test"]))


def releases_between(index: PackageIndex, python: str, low: str | None, high: str | None) -> list[str]:
    """Final FastAPI releases (no pre-releases, none yanked) for this Python, low <= v <= high."""
    out = []
    for v in index.versions("fastapi", python):
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


def bisect_releases(
    settings: Settings,
    index: PackageIndex,
    target: Target,
    versions: Sequence[str],
    pydantic: str = ANY,
    python: str = "3.11",
    max_cells: int | None = None,
    echo: Callable[[str], None] = _say,
) -> Outcome:
    """Run the search, evaluating each release as one real cell (environments are reused)."""

    def evaluate(version: str) -> str:
        cell = Cell("bisect", python, (("fastapi", version), ("pydantic", pydantic)), (target.case,))
        result = run_cell(settings, cell, index)
        store.write_cell(settings.out, result)
        return target_verdict(result, target)

    def show(step: Step) -> None:
        echo(f"[{len(outcome_steps) + 1}] fastapi {step.version}: {step.verdict} ({step.seconds:.1f}s)")
        outcome_steps.append(step)

    outcome_steps: list[Step] = []
    return search(versions, evaluate, max_cells=max_cells, on_step=show)
