"""Benchmark: what a resolution saves when uv keeps the index pages it fetched (runner/environments.py,
_index_args: ten minutes for a page, for good for a file), against asking the index again about every
page and file, as it did before for every resolution (the registry these runs use gives no lifetime).

Not a test: it prints a table. Run it from the repository root after a full matrix run, with the uv
cache that run used (UV_CACHE_DIR, if it set one): it needs the run's report/results.json.

    python bench/run_lock_resolution.py                  # a FastAPI-minor cell, 5 rounds
    python bench/run_lock_resolution.py --cell servers-py3.11-fastapi0.165.0-pydantic2.11.7

Each round resolves the cell's requirements as the runner does (uv pip compile, the tool pins of
tools.lock as preferences), online, one after the other: once with every page and file asked about
again, then twice with the pages kept (the first keeps again what the first resolution asked about;
the second is measured). The table gives the CPU-seconds and
wall seconds of each (uv and what it started) and checks that both give the same lock.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from observed_cell import children_cpu, observed_cell, print_side_by_side  # noqa: E402

from known_issues.runner import environments as envs  # noqa: E402
from known_issues.runner import locks  # noqa: E402
from known_issues.runner.index_config import choose_index  # noqa: E402

# The index the runner would name to uv (a cache entry belongs to the index it came from).
INDEX = choose_index(os.environ, ROOT).url


def resolve(cell: dict[str, Any], preferences: str, kept: bool) -> tuple[float, float, str]:
    """(CPU-seconds, wall seconds, lock) of one resolution of the cell's requirements."""
    python = envs.find_python(cell["cell"]["python"])
    with tempfile.TemporaryDirectory(prefix="ki-bench-") as tmp:
        output = Path(tmp) / "lock.txt"
        output.write_text(preferences, encoding="utf-8")
        cmd = [
            envs.uv(),
            "pip",
            "compile",
            "-",
            "--no-header",
            "--quiet",
            "--no-annotate",
            "--output-file",
            str(output),
        ]
        cmd += ["--python-version", cell["cell"]["python"], "--python", str(python)]
        cmd += envs._index_args(INDEX, Path(tmp)) if kept else ["--default-index", INDEX, "--refresh"]
        before = os.times()
        subprocess.run(cmd, input="\n".join(cell["requirements"]) + "\n", text=True, check=True)
        after = os.times()
        lock = output.read_text(encoding="utf-8")
    return children_cpu(before, after), after.elapsed - before.elapsed, lock


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
    resolve(cell, preferences, kept=True)  # the pages kept from here on
    for _ in range(args.rounds):
        # A page asked about again comes without a lifetime: the resolution after it keeps it again,
        # and the one after that is the one measured.
        for kept, measured in ((False, True), (True, False), (True, True)):
            c, w, lock = resolve(cell, preferences, kept=kept)
            got[kept].add(lock)
            if measured:
                cpu[kept].append(c)
                wall[kept].append(w)
    same = len(got[True] | got[False]) == 1
    print(f"{args.cell}: {len(cell['requirements'])} requirements, {args.rounds} round(s), side by side")
    ratio = print_side_by_side(
        "resolution", [("every page asked again", cpu[False], wall[False]), ("pages kept", cpu[True], wall[True])]
    )
    print(f"CPU ratio kept / asked again: {ratio:.2f}; {'the same lock' if same else 'DIFFERENT locks'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
