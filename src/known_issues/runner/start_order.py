"""Which waiting cell starts next: the longest first, so that no long cell starts last and runs alone
while the other workers wait.

A cell's length is how long it took when last observed (the manifest keeps it). A cell never observed
(every cell of a first run) is guessed from the cells finished so far in this run: what each of its
cases took there, plus what a cell takes besides its tests (resolving, its environment, pytest's
start). A cell with a case not seen yet counts as the longest: the cases that run in few groups (the
servers, the guide's project) are the slow ones, and their cells should not be left for the end.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from known_issues.matrix import Cell
from known_issues.results import CellResult


class LongestFirst:
    def __init__(self, expected: Mapping[str, float], cases_of: Callable[[Cell], Sequence[str]]) -> None:
        self.expected = expected
        self.cases_of = cases_of
        self.case_seconds: dict[str, list[float]] = defaultdict(list)
        self.besides_tests: list[float] = []

    def learn(self, result: CellResult) -> None:
        """Take in what a finished cell's fresh cases took (reused ones cost nothing this run)."""
        if not result.cases_run:
            return
        seconds: dict[str, float] = defaultdict(float)
        for test in result.tests:
            if not test.reused and test.case in result.cases_run:
                seconds[test.case] += test.duration
        for case in result.cases_run:
            self.case_seconds[case].append(seconds.get(case, 0.0))
        total = result.timings.get("total")
        if total is not None:
            self.besides_tests.append(max(0.0, total - sum(seconds.values())))

    def guess(self, cell: Cell) -> float:
        if cell.id in self.expected:
            return self.expected[cell.id]
        cases = self.cases_of(cell)
        if not cases or any(case not in self.case_seconds for case in cases):
            return math.inf
        tests = sum(_mean(self.case_seconds[case]) for case in cases)
        return tests + (_mean(self.besides_tests) if self.besides_tests else 0.0)

    def take(self, pending: list[Cell]) -> Cell:
        """Remove and return the longest waiting cell (the first of equals, in matrix order)."""
        best = max(range(len(pending)), key=lambda i: (self.guess(pending[i]), -i))
        return pending.pop(best)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)
