"""Benchmark: what a cell's own pytest process saves with ``--ki-own-process`` (what collection built
kept out of the garbage collector's walks; the process ended once the results are written).

Not a test: it prints a table. Run it from the repository root after a full matrix run (it needs the
run's report/results.json and .envs/):

    python bench/run_cell_process.py                     # a FastAPI-minor cell, 4 rounds
    python bench/run_cell_process.py --cell pythons-py3.12-fastapi0.128.0-pydantic2.11.7 --rounds 6

Each round runs every case of the cell twice in its own environment, as the runner does (pytest with
the harness's plugin), once with the flag and once without, in alternating order, side by side. The
table gives the CPU-seconds of each run, measured from outside (the pytest process and every child it
waited for, up to its exit: what a run of many cells pays), their ratio, and checks that both runs
gave the same verdicts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from observed_cell import children_cpu, keep_if_same, observed_cell  # noqa: E402

from known_issues.runner.environments import bytecode_store  # noqa: E402
from known_issues.runner.pytest_process import child_env  # noqa: E402


def run_once(env: Path, cases: list[str], own: bool, scratch: Path) -> tuple[float, dict[str, str]]:
    """One pytest run of the cases: (CPU-seconds up to its exit, verdict of each test)."""
    results = scratch / "tests.json"
    cmd = [str(env / "bin" / "python"), "-m", "pytest", *(f"cases/{c}" for c in cases)]
    cmd += ["-p", "known_issues.cell.plugin", "--ki-results", str(results), "-p", "no:cacheprovider", "-q"]
    cmd += ["-o", "asyncio_default_fixture_loop_scope=function", "--tb=native", "--basetemp", str(scratch / "pt")]
    cmd += ["--ki-own-process"] if own else []
    before = os.times()
    subprocess.run(cmd, cwd=ROOT, env=child_env(bytecode_store(env)), capture_output=True, check=False)
    after = os.times()
    cpu = children_cpu(before, after)
    data = json.loads(results.read_text(encoding="utf-8"))
    return cpu, {t["nodeid"]: t["verdict"] for t in data["tests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="fastapi-minors-py3.11-fastapi0.128.8-pydantic2.11.7")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    cell, env = observed_cell(args.cell)
    cases = sorted({t["case"] for t in cell["tests"]})
    cpu: dict[bool, list[float]] = {True: [], False: []}
    seen: dict[bool, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="ki-bench-") as tmp:
        for n in range(args.rounds):
            for own in (True, False) if n % 2 == 0 else (False, True):
                scratch = Path(tmp) / f"{own}{n}"
                scratch.mkdir()
                used, verdicts = run_once(env, cases, own, scratch)
                cpu[own].append(used)
                keep_if_same("--ki-own-process" if own else "plain", seen, own, verdicts)
                shutil.rmtree(scratch, ignore_errors=True)
    same = seen[True] == seen[False]
    print(f"{args.cell}: {len(cases)} case(s), {args.rounds} round(s), side by side")
    print(f"{'run':<34}{'CPU-s (median)':>16}   each round")
    for own, label in ((False, "pytest as it ends by itself"), (True, "--ki-own-process")):
        rounds = " ".join(f"{c:.2f}" for c in cpu[own])
        print(f"{label:<34}{statistics.median(cpu[own]):>16.2f}   {rounds}")
    ratio = statistics.median(cpu[True]) / statistics.median(cpu[False])
    counts = Counter(seen[True].values())
    print(
        f"CPU ratio own/plain: {ratio:.2f}; verdicts {'the same' if same else 'DIFFER'}: {dict(sorted(counts.items()))}"
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
