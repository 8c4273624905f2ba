"""Benchmark: what a candidate run costs (``nox -s candidate``), every case, on this machine.

Not a test: it prints a table. Run it from the repository root with a Python that has the harness and the
dev tools (e.g. `.nox/tests/bin/python bench/run_candidate.py`). Three runs of the real command, side by
side, with the newest FastAPI's sdist carrying the planted fix of tests/planted_sources.py:

- cold: an empty environments folder (no lock, environment or stored result) and an empty uv cache:
  the newest released cell and the candidate's are both resolved, built and observed;
- warm: the same folders after a run of another candidate: the released cell comes from the result
  store, the candidate's is new (what a day with a new commit on FastAPI's branch costs);
- again: the same candidate a second time: nothing is observed.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from planted_sources import PATCHES, planted_tree, released, repacked, sdist  # noqa: E402 - after the path


def run(envs: Path, out: Path, spec: str, cache: Path, jobs: int) -> tuple[float, float, int, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    command = [sys.executable, "-m", "known_issues", "candidate", spec, "--envs", str(envs), "--out", str(out)]
    proc = subprocess.run(
        [*command, "-j", str(jobs)],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT), "UV_CACHE_DIR": str(cache)},
    )  # fmt: skip
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    observed = proc.stdout.count("env new") + proc.stdout.count("env reused")
    if proc.returncode not in (0, 1):
        sys.exit(f"candidate failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, cpu, observed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="candidate-bench-") as scratch:
        work = Path(scratch)
        fix = PATCHES[0]
        plain = sdist(fix.package, released(fix.package), work / "sdists")
        fixed = repacked(planted_tree(fix, work), work / "fixed.tar.gz")
        envs, cache = work / "envs", work / "uv-cache"
        rows = []
        for label, spec in (
            ("cold (empty environments and uv cache)", f"fastapi={plain}"),
            ("warm (a new candidate)", f"fastapi={fixed}"),
            ("again (the same candidate)", f"fastapi={fixed}"),
        ):
            wall, cpu, cells, _ = run(envs, work / "report", spec, cache, args.jobs)
            rows.append((label, cells, wall, cpu))
            print(f"{label}: {wall:.0f} s wall, {cpu:.0f} CPU-s, {cells} cell(s) observed", flush=True)
    print(f"\ncandidate runs, every case, {os.cpu_count()} cores, {args.jobs} jobs")
    print(f"{'run':<42}{'cells observed':>15}{'wall s':>9}{'CPU s':>9}")
    for label, cells, wall, cpu in rows:
        print(f"{label:<42}{cells:>15}{wall:>9.0f}{cpu:>9.0f}")


if __name__ == "__main__":
    main()
