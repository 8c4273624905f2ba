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
from known_issues.runner import bytecode  # noqa: E402
from known_issues.runner.environments import BYTECODE  # noqa: E402
from known_issues.runner.index_config import choose_index  # noqa: E402
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


def released_today(index: PackageIndex, package: str, newest: str, run: RunResult, cells: list[CellResult]) -> set[str]:
    """The distributions (``name==version``) that did not exist the day before: the release itself, and
    what only the changed cells resolved to and was uploaded in the day before it (a pydantic-core
    published with its Pydantic)."""
    uploaded = {r.version: r.uploaded for r in index.releases(package)}
    newest_upload = uploaded.get(newest)
    if newest_upload is None:
        raise SystemExit(f"the package index gives no upload time for {package} {newest}: cannot tell the day before")
    since = newest_upload - 86400
    changed = {c.id for c in cells}
    elsewhere = {f"{n}=={v}" for c in run.cells if c.id not in changed for n, v in c.resolved.items()}
    new = {f"{package}=={newest}"}
    for cell in cells:
        for name, version in cell.resolved.items():
            pin = f"{name}=={version}"
            if pin in new or pin in elsewhere:
                continue
            times = {r.version: r.uploaded for r in index.releases(name)}
            uploaded_at = times.get(version)
            if uploaded_at is None or uploaded_at >= since:  # an unknown time may be that day's
                new.add(pin)
    return new


def forget_bytecode(env: Path, store: Path, new: set[str]) -> None:
    """Remove from the copy's shared bytecode what was compiled from the files of ``new``'s distributions
    in ``env``: the day before, nothing had compiled them."""
    for record in env.glob("lib/python3*/site-packages/*.dist-info/RECORD"):
        name, _, version = record.parent.name[: -len(".dist-info")].partition("-")
        if f"{name.lower().replace('_', '-')}=={version}" not in new:
            continue
        site = record.parent.parent
        for line in record.read_text(encoding="utf-8").splitlines():
            rel = line.split(",", 1)[0]
            if not rel.endswith(".py"):
                continue
            try:
                key = bytecode.key_of(site / rel)
            except OSError:
                continue
            for stored in store.glob(f"*/{key}.pyc"):
                stored.unlink()


def day_before(envs: Path, out: Path, scratch: Path, cells: list[CellResult], timeout: float, new: set[str]) -> None:
    """A copy of the warm state without anything resolved, built, compiled or observed for ``cells``."""
    (scratch / "envs").mkdir(parents=True)
    for part in ("results", "locks", "index"):
        if (envs / part).exists():
            shutil.copytree(envs / part, scratch / "envs" / part)
    # hard links: seconds, no space; the copy's changes stay in the copy
    for part in ("cells", BYTECODE):
        if (envs / part).exists():
            subprocess.run(["cp", "-al", str(envs / part), str(scratch / "envs" / part)], check=True)
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
        forget_bytecode(env, scratch / "envs" / BYTECODE, new)
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
    choice = choose_index(os.environ, Path.cwd())
    index = PackageIndex(args.envs / "index", choice.url, origin=choice.source)
    timeout = _test_timeout()
    rows = []
    for package in [x.strip() for x in args.packages.split(",") if x.strip()]:
        newest = index.releases(package)[-1].version
        predicted = [c for c in run.cells if changed_by(c, package, newest)]
        scratch = Path(tempfile.mkdtemp(prefix=f"release-day-{package}-", dir=args.envs))
        print(f"{package} {newest}: {len(predicted)} of {len(run.cells)} cells resolve to it; day before in {scratch}")
        try:
            new = released_today(index, package, newest, run, predicted)
            print(f"  new that day: {', '.join(sorted(new))}")
            day_before(args.envs, args.out, scratch, predicted, timeout, new)
            wall, cpu, code = release_day(scratch, args.jobs)
            after = RunResult.read(scratch / "out" / "results.json")
            observed = [c for c in after.cells if c.cases_run]
            rows.append((package, newest, len(observed), len(after.cells), len(predicted), wall, cpu, code))
            print(f"  ran {len(observed)} cell(s) in {wall / 60:.1f} min ({cpu:.0f} CPU-s), exit {code}")
            unexpected = sorted({c.id for c in observed} - {c.id for c in predicted})
            if unexpected:
                print(f"  observed though not predicted: {', '.join(unexpected)}")
        finally:
            # Also when interrupted: nothing else removes a copy (gc keeps what its hard links hold).
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
