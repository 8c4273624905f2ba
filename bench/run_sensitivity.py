"""Sensitivity: a release that changes one behaviour flips the verdicts about that behaviour, and only
those. Not a test (each patch runs every case in a real cell): it prints a table.

For each planted source of tests/planted_sources.py (a small patch of the newest release that fixes one
documented bug or breaks one workaround or pattern), `candidate` runs every case with it against the
newest release's cell, and the flips it reports (each confirmed by re-running) are held against the
flips the patch says it must make: exactly those, no more. Run from the repository root with a Python
that has the harness and the dev tools:

    .nox/tests/bin/python bench/run_sensitivity.py [--patch NAME] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
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

from planted_sources import PATCHES, Patch, planted_tree, repacked  # noqa: E402 - after the path


def flips_of(patch: Patch, work: Path, jobs: int) -> tuple[dict[str, tuple[str, str]], float, float, int]:
    tree = planted_tree(patch, work)
    source = tree if patch.package != "fastapi" else repacked(tree, work / f"{patch.name}.tar.gz")
    out = work / "report"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "candidate", f"{patch.package}={source}", "--out", str(out),
         "-j", str(jobs)],
        cwd=ROOT, capture_output=True, text=True, check=False, env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"{patch.name}: candidate failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    (found,) = list((out / "candidate").glob(f"{patch.package}-*/candidate.json"))
    document = json.loads(found.read_text())
    # Out of the next patch's way (a patch of the same package writes the same folder name's kind).
    kept = out / "patches" / patch.name
    kept.parent.mkdir(parents=True, exist_ok=True)
    found.parent.rename(kept)
    flips = {f"{c['case']}::{c['test']}": (c["old"], c["new"]) for c in document["changes"]}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return flips, wall, cpu, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patch", action="append", default=[], help="only these patches (by name)")
    parser.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--keep", type=Path, default=None, help="keep the planted sources and reports here")
    args = parser.parse_args()
    chosen = [p for p in PATCHES if not args.patch or p.name in args.patch]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="sensitivity-") as scratch:
        work = args.keep or Path(scratch)
        rows = []
        for patch in chosen:
            flips, wall, cpu, code = flips_of(patch, work, args.jobs)
            missing = {k: v for k, v in patch.flips.items() if flips.get(k) != v}
            extra = {k: v for k, v in flips.items() if k not in patch.flips}
            ok = not missing and not extra and (code == 1) == bool(flips)
            failed += not ok
            rows.append((patch, flips, wall, cpu, ok))
            verdict = "as expected" if ok else "NOT as expected"
            print(f"{patch.name}: {len(flips)} flip(s) in {wall:.0f} s ({cpu:.0f} CPU-s): {verdict}")
            for key, (old, new) in sorted(flips.items()):
                mark = " " if key in patch.flips else "+"
                print(f"  {mark} {key}: {old} -> {new}")
            for key, (old, new) in sorted(missing.items()):
                print(f"  - {key}: expected {old} -> {new}, got {flips.get(key, 'no change')}")
    print(f"\n{len(rows)} patch(es), {failed} not as expected; every case, {os.cpu_count()} cores, {args.jobs} jobs")
    print(f"{'patch':<52}{'flips':>6}{'wall s':>8}{'CPU s':>8}  result")
    for patch, flips, wall, cpu, ok in rows:
        print(f"{patch.name:<52}{len(flips):>6}{wall:>8.0f}{cpu:>8.0f}  {'as expected' if ok else 'NOT as expected'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
