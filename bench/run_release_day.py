"""Benchmark: what a release day costs, for a new release of fastapi, of pydantic, of starlette, or of a
runtime dependency such as uvicorn.

Not a test: it prints a table. Run it from the repository root, with a Python that has the harness's
dependencies (e.g. `.nox/matrix/bin/python`), after a full matrix run (the warm state:
report/results.json and .envs/ of that run):

    python bench/run_release_day.py                       # fastapi, pydantic, starlette
    python bench/run_release_day.py --packages pydantic --jobs 4
    python bench/run_release_day.py --packages uvicorn    # a runtime dependency of the newest cells

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

A package that is not an axis of a cell it changes (uvicorn, starlette in the newest cells: no pin of
tools.lock holds a newest cell's runtime packages) gets a real day before: every kept lock that has
the release is planted back to the release before it (and so is what was uploaded with it), dated an
hour before the release, and those cells are observed with it (`known_issues cell`, its cost printed
apart). The release day then runs with no lock lifetime left (``KNOWN_ISSUES_LOCK_TTL=0``, as the
first run of a day after a release), so the release reaches the cells through the lock lifetime
alone, and the verdicts that changed are attributed with `known_issues diff` against the day before.
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

from packaging.version import Version  # noqa: E402

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


def plant_day_before(locks: Path, package: str, newest: str, new: set[str], index: PackageIndex) -> int:
    """Every kept lock with the release, as it was the day before: each pin of ``new`` (the release, and
    what was uploaded with it) back to the release before it, the file dated an hour before the release.
    Returns how many locks were planted."""
    released = {r.version: r.uploaded for r in index.releases(package)}[newest]
    assert released is not None
    back: dict[str, str] = {}
    for pin in new:
        name, _, version = pin.partition("==")
        earlier = [r.version for r in index.releases(name) if Version(r.version) < Version(version)]
        if earlier:
            back[pin] = f"{name}=={earlier[-1]}"
    planted = 0
    for path in sorted(locks.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if f"{package}=={newest}" not in parse_lines(text):
            continue
        lines = [back.get(line.split(";", 1)[0].strip(), line.split(";", 1)[0].strip()) + _marker(line)
                 for line in text.splitlines()]  # fmt: skip
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # a copy's file (copytree): not the warm state's
        os.utime(path, (released - 3600, released - 3600))
        planted += 1
    return planted


def parse_lines(lock: str) -> set[str]:
    return {line.split(";", 1)[0].strip() for line in lock.splitlines()}


def _marker(line: str) -> str:
    return f" ;{line.split(';', 1)[1]}" if ";" in line else ""


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


def day_before(
    envs: Path, out: Path, scratch: Path, cells: list[CellResult], timeout: float, new: set[str], keep_locks: bool
) -> None:
    """A copy of the warm state without anything resolved (unless ``keep_locks``), built, compiled or
    observed for ``cells``."""
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
            if not keep_locks and lock is not None and path.read_text(encoding="utf-8") == lock:
                path.unlink()


def release_day(scratch: Path, jobs: int, lock_ttl: str | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU-seconds, exit status) of the matrix run on the copy."""
    return _harness(scratch, ["matrix", "--jobs", str(jobs)], "matrix.log", lock_ttl)


def observe_day_before(scratch: Path, ids: list[str], jobs: int) -> tuple[float, float, int]:
    """The planted cells observed with the release before (their locks reused as planted)."""
    return _harness(scratch, ["cell", *ids, "--jobs", str(jobs)], "day-before.log", str(10**9))


def _harness(scratch: Path, args: list[str], log: str, lock_ttl: str | None) -> tuple[float, float, int]:
    env = {**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT), "PYTHONPATH": str(ROOT / "src")}
    if lock_ttl is not None:
        env["KNOWN_ISSUES_LOCK_TTL"] = lock_ttl
    cmd = [sys.executable, "-m", "known_issues", *args, "--envs", str(scratch / "envs"), "--out", str(scratch / "out")]
    cpu0 = _children_cpu()
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
    (scratch / log).write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return wall, cpu, proc.returncode


def attributed(before: Path, after: Path) -> str:
    """What the release changed, as the report attributes it (``known_issues diff``)."""
    env = {**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT), "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "known_issues", "diff", str(before), str(after)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return proc.stdout + proc.stderr


def observed_before(
    index: PackageIndex, scratch: Path, package: str, newest: str, new: set[str], cells: list[CellResult], jobs: int
) -> None:
    """The day before a dependency's release: the kept locks with it planted a release back, and the
    cells it changes observed so (the baseline the release day is compared with: day-before.json)."""
    with_it = around_release(index, package, newest, new)
    planted = plant_day_before(scratch / "envs" / "locks", package, newest, with_it, index)
    wall, cpu, code = observe_day_before(scratch, [c.id for c in cells], jobs)
    print(f"  day before: {planted} lock(s) planted with {', '.join(sorted(with_it))} a release back")
    print(f"  day before: {len(cells)} cell(s) observed in {wall / 60:.1f} min ({cpu:.0f} CPU-s), exit {code}")
    shutil.copyfile(scratch / "out" / "results.json", scratch / "day-before.json")


def around_release(index: PackageIndex, package: str, newest: str, new: set[str]) -> set[str]:
    """The release, and what of ``new`` was uploaded within a day of it (published with it): the day
    before has those a release back. What came out later is left as it is on both days."""
    released = {r.version: r.uploaded for r in index.releases(package)}[newest]
    assert released is not None
    kept = {f"{package}=={newest}"}
    for pin in new:
        name, _, version = pin.partition("==")
        uploaded = {r.version: r.uploaded for r in index.releases(name)}.get(version)
        if uploaded is not None and abs(uploaded - released) <= 86400:
            kept.add(pin)
    return kept


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
            # A dependency of these cells, not their axis: the day before had the release before it.
            dependency = bool(predicted) and not any(package in dict(c.cell.requested) for c in predicted)
            day_before(args.envs, args.out, scratch, predicted, timeout, new, keep_locks=dependency)
            lock_ttl = None
            if dependency:
                observed_before(index, scratch, package, newest, new, predicted, args.jobs)
                lock_ttl = "0"  # the next day: every lock past its lifetime, as on the first run after a release
            started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            wall, cpu, code = release_day(scratch, args.jobs, lock_ttl)
            after = RunResult.read(scratch / "out" / "results.json")
            # A cell whose inputs did not change keeps its file, and with it the cases an earlier run observed.
            observed = [c for c in after.cells if c.cases_run and c.finished >= started]
            rows.append((package, newest, len(observed), len(after.cells), len(predicted), wall, cpu, code))
            print(f"  ran {len(observed)} cell(s) in {wall / 60:.1f} min ({cpu:.0f} CPU-s), exit {code}")
            unexpected = sorted({c.id for c in observed} - {c.id for c in predicted})
            if unexpected:
                print(f"  observed though not predicted: {', '.join(unexpected)}")
            missed = sorted({c.id for c in predicted} - {c.id for c in observed})
            if missed:
                print(f"  predicted but not observed: {', '.join(missed)}")
            if dependency:
                moved = sorted({c.resolved.get(package, "-") for c in after.cells if c.id in {p.id for p in predicted}})
                print(f"  {package} in those cells now: {', '.join(moved)}")
                print("  attributed (known_issues diff, the day before -> the release day):")
                diff = attributed(scratch / "day-before.json", scratch / "out" / "results.json")
                print("\n".join("    " + line for line in diff.splitlines()))
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
