"""Benchmark: what a release day costs, for a new release of fastapi, of pydantic and of starlette.

Not a test: it prints a table. Run it from the repository root, with a Python that has the harness's
dependencies (e.g. `.nox/matrix/bin/python`), after a full matrix run (the warm state:
report/results.json and .envs/ of that run):

    python bench/run_release_day.py                       # fastapi, pydantic, starlette
    python bench/run_release_day.py --packages pydantic --jobs 4

For each package it takes the newest release on the package index as the one "just released", and
rebuilds the state of the day before on a scratch copy of the warm state (environments hard-linked):
every cell whose resolution that release changes (its axis asks for the newest, or names it, or the
package is a dependency that no tool pin holds and the cell resolved to it) loses its lock, its
environment, its stored results and its cell file, as if nothing had ever been resolved, built or
observed with the release. The matrix then runs on the copy as it would on the scheduled run of the
release day (the same command, `python -m known_issues matrix`), and the table shows the cells that
observed anything against the cells of the matrix, the cells predicted, and the wall and CPU time.
The other cells must come from the result store: a cell whose resolved versions did not change runs
no test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from known_issues.catalog import case_names  # noqa: E402 - after the path
from known_issues.matrix import ANY, LATEST  # noqa: E402
from known_issues.results import CellResult, RunResult  # noqa: E402
from known_issues.runner.pypi import PackageIndex  # noqa: E402
from known_issues.runner.result_store import Inputs, case_digests, harness_digest  # noqa: E402

PACKAGES = ("fastapi", "pydantic", "starlette")


def changed_by(cell: CellResult, package: str, newest: str) -> bool:
    """Would ``package`` ``newest``, released today, change this cell's resolution?"""
    requested = dict(cell.cell.requested)
    if package in requested:
        wanted = requested[package]
        return cell.resolved.get(package) == newest if wanted in (ANY, LATEST) else wanted == newest
    # A dependency: only where no tool pin holds it (the pins of tools.lock outlast a release).
    return cell.resolved.get(package) == newest and cell.run_pins.get(package) != newest


def day_before(envs: Path, out: Path, scratch: Path, cells: list[CellResult], timeout: float) -> None:
    """A copy of the warm state without anything resolved, built or observed for ``cells``."""
    (scratch / "envs").mkdir(parents=True)
    for part in ("results", "locks", "index"):
        if (envs / part).exists():
            shutil.copytree(envs / part, scratch / "envs" / part)
    if (envs / "cells").exists():  # hard links: seconds, no space; the copy's changes stay in the copy
        subprocess.run(["cp", "-al", str(envs / "cells"), str(scratch / "envs" / "cells")], check=True)
    shutil.copytree(out, scratch / "out", ignore=shutil.ignore_patterns("logs", "latest", "bisect"))
    harness = harness_digest(ROOT / "cases")
    digests = case_digests(ROOT / "cases", case_names(ROOT / "cases"))
    locks = scratch / "envs" / "locks"
    for cell in cells:
        (scratch / "out" / "cells" / f"{cell.id}.json").unlink(missing_ok=True)
        if not cell.env_key:
            continue
        env = scratch / "envs" / "cells" / cell.env_key
        lock = (env / "requirements.lock").read_text(encoding="utf-8") if env.exists() else None
        shutil.rmtree(env, ignore_errors=True)
        results = scratch / "envs" / "results"
        for digest in digests.values():
            (results / f"{Inputs(cell.env_key, harness, timeout).key(digest)}.json").unlink(missing_ok=True)
        (results / f"lock-{cell.env_key}.txt").unlink(missing_ok=True)
        for smoke in results.glob(f"smoke-{cell.env_key}-*.json"):
            smoke.unlink()
        for path in locks.glob("*.txt"):
            if lock is not None and path.read_text(encoding="utf-8") == lock:
                path.unlink()


def release_day(scratch: Path, jobs: int) -> tuple[float, float, int]:
    """(wall seconds, CPU-seconds, exit status) of the matrix run on the copy."""
    env = {**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT), "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "known_issues", "matrix", "--envs", str(scratch / "envs")]
    cmd += ["--out", str(scratch / "out"), "--jobs", str(jobs)]
    cpu0 = _children_cpu()
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
    (scratch / "matrix.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return wall, cpu, proc.returncode


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--packages", default=",".join(PACKAGES), help="comma-separated (default: %(default)s)")
    p.add_argument("--envs", type=Path, default=ROOT / ".envs", help="the warm state's environments and store")
    p.add_argument("--out", type=Path, default=ROOT / "report", help="the warm state's results")
    p.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1))
    p.add_argument("--keep", action="store_true", help="keep each scratch copy (its matrix.log, report)")
    args = p.parse_args()
    run = RunResult.read(args.out / "results.json")
    index = PackageIndex(cache_dir=args.envs / "index")
    timeout = _test_timeout()
    rows = []
    for package in [x.strip() for x in args.packages.split(",") if x.strip()]:
        newest = index.releases(package)[-1].version
        predicted = [c for c in run.cells if changed_by(c, package, newest)]
        scratch = Path(tempfile.mkdtemp(prefix=f"release-day-{package}-", dir=args.envs))
        print(f"{package} {newest}: {len(predicted)} of {len(run.cells)} cells resolve to it; day before in {scratch}")
        day_before(args.envs, args.out, scratch, predicted, timeout)
        wall, cpu, code = release_day(scratch, args.jobs)
        after = RunResult.read(scratch / "out" / "results.json")
        observed = [c for c in after.cells if c.cases_run]
        rows.append((package, newest, len(observed), len(after.cells), len(predicted), wall, cpu, code))
        print(f"  ran {len(observed)} cell(s) in {wall / 60:.1f} min ({cpu:.0f} CPU-s), exit {code}")
        unexpected = sorted({c.id for c in observed} - {c.id for c in predicted})
        if unexpected:
            print(f"  observed though not predicted: {', '.join(unexpected)}")
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print("| release | cells re-run / cells | predicted | wall | CPU-s | exit |")
    print("|---|---|---|---|---|---|")
    for package, newest, ran, total, predicted_n, wall, cpu, code in rows:
        print(f"| {package} {newest} | {ran} / {total} | {predicted_n} | {wall / 60:.1f} min | {cpu:.0f} | {code} |")
    return 0


def _test_timeout() -> float:
    from known_issues.matrix import load

    return load(ROOT / "matrix.toml").test_timeout


if __name__ == "__main__":
    raise SystemExit(main())
