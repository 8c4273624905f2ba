"""Where a matrix run's CPU went, and what that means for its wall time on a given number of cores.

Not a test: it prints tables from what a run recorded. Run it from the repository root after a run:

    python bench/run_cost.py                                  # report/results.json
    python bench/run_cost.py report/results.json --cores 2 --target-minutes 7
    python bench/run_cost.py --group fastapi-minors --group pydantic-minors   # those cells only
    python bench/run_cost.py --without deployment_commands                     # as if it had not run

The plugin records, for every test observed fresh, its CPU-seconds (the test process and every
child it waited for, such as the servers a case starts), and for every cell its pytest run's
CPU-seconds (`timings.tests_cpu`). From those:
  groups   CPU per group of the matrix, with its share and its cost per cell
  cases    CPU per case, the cells it ran in, and its cost per cell
  tests    the costliest tests
  budget   the pytest runs' CPU next to what the target allows on the cores: cores x minutes x 60.
           A run cannot take less wall than its CPU divided by the cores, so a run whose pytest
           processes alone need more than the budget cannot meet the target with that matrix.
Reused results cost nothing in this run and are left out; the header says how many there were.
The runner's own CPU (resolving, confirmation re-runs, the report) is not in results.json: measure
the whole run with `/usr/bin/time` to see it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cost:
    cpu: float = 0.0
    cells: set[str] = field(default_factory=set)

    def per_cell(self) -> float:
        return self.cpu / len(self.cells) if self.cells else 0.0


@dataclass
class RunCost:
    pytest_cpu: float = 0.0  # whole pytest runs: start-up, collection and tests
    tests_cpu: float = 0.0  # the tests alone, setup to teardown
    cells: int = 0
    fresh: int = 0
    reused: int = 0
    groups: dict[str, Cost] = field(default_factory=lambda: defaultdict(Cost))
    cases: dict[str, Cost] = field(default_factory=lambda: defaultdict(Cost))
    tests: dict[tuple[str, str], Cost] = field(default_factory=lambda: defaultdict(Cost))

    @property
    def startup_cpu(self) -> float:
        return self.pytest_cpu - self.tests_cpu


def cost_of(results: dict[str, Any], groups: set[str] | None = None, without: set[str] | None = None) -> RunCost:
    """The run's cost, or that of the cells of ``groups`` only; the tests of the cases ``without``
    are taken out of it as if they had not run (their modules' collection stays in the start-up)."""
    run = RunCost()
    without = without or set()
    for cell in results["cells"]:
        cell_id, group = cell["cell"]["id"], cell["cell"]["group"]
        if groups and group not in groups:
            continue
        fresh = [t for t in cell.get("tests", []) if not t.get("reused")]
        run.reused += len(cell.get("tests", [])) - len(fresh)
        pytest_cpu = float(cell.get("timings", {}).get("tests_cpu", 0.0))
        pytest_cpu -= sum(float(t.get("cpu") or 0.0) for t in fresh if t["case"] in without)
        fresh = [t for t in fresh if t["case"] not in without]
        if not fresh and not pytest_cpu:
            continue
        run.cells += 1
        run.fresh += len(fresh)
        run.pytest_cpu += pytest_cpu
        run.groups[group].cpu += pytest_cpu
        run.groups[group].cells.add(cell_id)
        for test in fresh:
            cpu = float(test.get("cpu") or 0.0)
            run.tests_cpu += cpu
            for cost in (run.cases[test["case"]], run.tests[(test["case"], test["test"])]):
                cost.cpu += cpu
                cost.cells.add(cell_id)
    return run


def print_report(run: RunCost, cores: int, target_minutes: float, top: int) -> None:
    print(f"{run.cells} cells with fresh observations: {run.fresh} tests observed, {run.reused} reused (no cost)")
    print(f"\n{'group':<28} {'cells':>6} {'CPU-s':>9} {'share':>7} {'per cell':>9}")
    for name, cost in sorted(run.groups.items(), key=lambda kv: -kv[1].cpu):
        share = cost.cpu / run.pytest_cpu if run.pytest_cpu else 0.0
        print(f"{name:<28} {len(cost.cells):>6} {cost.cpu:>9.0f} {share:>7.0%} {cost.per_cell():>9.2f}")
    print(f"\n{'case':<40} {'cells':>6} {'CPU-s':>9} {'share':>7} {'per cell':>9}")
    for name, cost in sorted(run.cases.items(), key=lambda kv: -kv[1].cpu):
        share = cost.cpu / run.pytest_cpu if run.pytest_cpu else 0.0
        print(f"{name:<40} {len(cost.cells):>6} {cost.cpu:>9.0f} {share:>7.0%} {cost.per_cell():>9.2f}")
    print(f"{'pytest start-up and collection':<40} {run.cells:>6} {run.startup_cpu:>9.0f}")
    print(f"\n{'test':<80} {'CPU-s':>7} {'per cell':>9}")
    for (case, test), cost in sorted(run.tests.items(), key=lambda kv: -kv[1].cpu)[:top]:
        print(f"{case + '::' + test:<80.80} {cost.cpu:>7.0f} {cost.per_cell():>9.2f}")
    budget = cores * target_minutes * 60
    least = run.pytest_cpu / cores / 60
    print(
        f"\nbudget: {cores} cores x {target_minutes:g} min = {budget:.0f} CPU-s; "
        f"the pytest runs counted above used {run.pytest_cpu:.0f} CPU-s ({run.pytest_cpu / budget:.1f}x the budget), "
        f"so its wall on {cores} cores is at least {least:.1f} min before the runner's own work"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("results", nargs="?", type=Path, default=ROOT / "report" / "results.json")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--target-minutes", type=float, default=7.0)
    p.add_argument("--top", type=int, default=15, help="how many of the costliest tests to list")
    p.add_argument("--group", action="append", default=[], help="only the cells of this group (repeatable)")
    p.add_argument(
        "--without", action="append", default=[], metavar="CASE", help="as if this case had not run (repeatable)"
    )
    args = p.parse_args(argv)
    if not args.results.is_file():
        print(f"no results at {args.results}: run the matrix first (python3 -m nox -s matrix)", file=sys.stderr)
        return 2
    run = cost_of(json.loads(args.results.read_text(encoding="utf-8")), set(args.group), set(args.without))
    if not run.cells:
        print(f"{args.results}: every result was reused, so this run cost no test CPU", file=sys.stderr)
        return 1
    print_report(run, args.cores, args.target_minutes, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
