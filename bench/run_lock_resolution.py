"""Benchmark: what resolving a cell's lock from uv's cache saves once the run has read its packages from
the index (runner/locks.py: `uv pip compile --offline` first, online when a package of the answer was
not read in this run).

Not a test: it prints a table. Run it from the repository root after a full matrix run, with the uv
cache that run used (UV_CACHE_DIR, if it set one): it needs the run's report/results.json.

    python bench/run_lock_resolution.py                  # a FastAPI-minor cell, 5 rounds
    python bench/run_lock_resolution.py --cell servers-py3.11-fastapi0.165.0-pydantic2.11.7

Each round resolves the cell's requirements twice, as the runner does (the tool pins of tools.lock as
preferences): once online, once from the cache alone, in alternating order, side by side. The table
gives the CPU-seconds and wall seconds of each (uv and what it started) and checks that both give the
same lock.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from observed_cell import observed_cell  # noqa: E402

from known_issues.runner import environments as envs  # noqa: E402
from known_issues.runner import locks  # noqa: E402
from known_issues.runner.index_config import choose_index  # noqa: E402

# The index the runner would name to uv (a cache entry belongs to the index it came from).
INDEX = choose_index(os.environ, ROOT).url


def resolve(cell: dict[str, Any], preferences: str, offline: bool) -> tuple[float, float, str]:
    """(CPU-seconds, wall seconds, lock) of one resolution of the cell's requirements."""
    python = envs.find_python(cell["cell"]["python"])
    before = os.times()
    lock = envs.compile_lock(
        cell["requirements"],
        python,
        cell["cell"]["python"],
        offline=offline,
        preferences=preferences,
        index_url=INDEX,
    )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, after.elapsed - before.elapsed, lock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="fastapi-minors-py3.11-fastapi0.128.8-pydantic2.11.7")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cell, _ = observed_cell(args.cell)
    tools_lock = (ROOT / locks.TOOLS_LOCK).read_text(encoding="utf-8")
    preferences = locks.tool_preferences(tools_lock, cell["cell"]["axes"])
    cpu: dict[bool, list[float]] = {True: [], False: []}
    wall: dict[bool, list[float]] = {True: [], False: []}
    got: dict[bool, set[str]] = {True: set(), False: set()}
    for n in range(args.rounds):
        for offline in (True, False) if n % 2 == 0 else (False, True):
            c, w, lock = resolve(cell, preferences, offline)
            cpu[offline].append(c)
            wall[offline].append(w)
            got[offline].add(lock)
    same = len(got[True] | got[False]) == 1
    print(f"{args.cell}: {len(cell['requirements'])} requirements, {args.rounds} round(s), side by side")
    print(f"{'resolution':<12}{'CPU-s (median)':>16}{'wall s (median)':>17}")
    for offline, label in ((False, "online"), (True, "from cache")):
        print(f"{label:<12}{statistics.median(cpu[offline]):>16.2f}{statistics.median(wall[offline]):>17.2f}")
    ratio = statistics.median(cpu[True]) / statistics.median(cpu[False])
    print(f"CPU ratio cache/online: {ratio:.2f}; {'the same lock' if same else 'DIFFERENT locks'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
