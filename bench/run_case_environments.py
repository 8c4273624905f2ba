"""Benchmark: what sharing the cells' bytecode with the environments a case makes saves (the guide's
`uv add` project of guide_project_setup, the Dockerfile's `uv sync` of guide_dockerfile).

Not a test: it prints a table. Run it from the repository root after a full matrix run, with the
uv cache that run used (UV_CACHE_DIR, if it set one): it needs the run's report/results.json and .envs/.

    python bench/run_case_environments.py                  # the document group's 0.128.0 cell
    python bench/run_case_environments.py --cell pythons-py3.12-fastapi0.128.0-pydantic2.11.7 --rounds 5

Each round runs the cases twice in the cell's own environment, as the runner does (pytest with the
harness's plugin): once with the bytecode store named (what `nox -s matrix` does) and once without
(every environment the cases make compiles what it imports, as before), in alternating order, side by
side. The table gives the CPU-seconds of each run (pytest and every child it waited for: uv, the
project's interpreters, the servers), their ratio, and checks that both runs gave the same verdicts.
The store is a hard-linked copy of `.envs/bytecode/`, so the runs leave the real one as it was; what
the first run with the store compiles is kept in the copy, as a later cell of a full run finds it.
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

from observed_cell import keep_if_same, observed_cell  # noqa: E402

from known_issues.runner.pytest_process import child_env  # noqa: E402

CASES = ("guide_project_setup", "guide_dockerfile")


def run_once(env: Path, store: Path | None, scratch: Path) -> tuple[float, float, dict[str, str]]:
    """One pytest run of the cases: (its CPU-seconds, wall seconds, verdict of each test)."""
    results = scratch / "tests.json"
    cmd = [str(env / "bin" / "python"), "-m", "pytest", *(f"cases/{c}" for c in CASES)]
    cmd += ["-p", "known_issues.cell.plugin", "--ki-results", str(results), "-p", "no:cacheprovider", "-q"]
    cmd += ["-o", "asyncio_default_fixture_loop_scope=function", "--basetemp", str(scratch / "pytest")]
    before = os.times()
    subprocess.run(cmd, cwd=ROOT, env=child_env(store), capture_output=True, check=False)
    after = os.times()
    data = json.loads(results.read_text(encoding="utf-8"))
    verdicts = {t["nodeid"]: t["verdict"] for t in data["tests"]}
    return data["cpu_seconds"], after.elapsed - before.elapsed, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="document-py3.11-fastapi0.128.0-pydantic2.11.7")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = observed_cell(args.cell)[1]
    cpu: dict[str, list[float]] = {"shared": [], "own": []}
    wall: dict[str, list[float]] = {"shared": [], "own": []}
    seen: dict[str, dict[str, str]] = {}
    # The store beside the real one (hard links need the same file system); the runs outside the
    # repository, as the runner's are (`uv init` inside a project would join it as a workspace member).
    with (
        tempfile.TemporaryDirectory(prefix="ki-bench-", dir=ROOT / ".envs") as kept,
        tempfile.TemporaryDirectory(prefix="ki-bench-") as tmp,
    ):
        store = Path(kept) / "bytecode"
        if (ROOT / ".envs" / "bytecode").is_dir():
            shutil.copytree(ROOT / ".envs" / "bytecode", store, copy_function=os.link)
        else:
            store.mkdir()
        for n in range(args.rounds):
            order = ("shared", "own") if n % 2 == 0 else ("own", "shared")
            for how in order:
                scratch = Path(tmp) / f"{how}{n}"
                scratch.mkdir()
                c, w, verdicts = run_once(env, store if how == "shared" else None, scratch)
                cpu[how].append(c)
                wall[how].append(w)
                keep_if_same(how, seen, how, verdicts)
                shutil.rmtree(scratch, ignore_errors=True)
    same = seen["shared"] == seen["own"]
    print(f"{args.cell}: {', '.join(CASES)}, {args.rounds} round(s), side by side")
    print(f"{'run':<28}{'CPU-s (median)':>16}{'wall s (median)':>17}")
    for how, label in (("own", "each environment compiles"), ("shared", "bytecode shared")):
        print(f"{label:<28}{statistics.median(cpu[how]):>16.2f}{statistics.median(wall[how]):>17.2f}")
    ratio = statistics.median(cpu["shared"]) / statistics.median(cpu["own"])
    counts = Counter(seen["shared"].values())
    said = "the same" if same else "DIFFER"
    print(f"CPU ratio shared/own: {ratio:.2f}; verdicts {said}: {dict(sorted(counts.items()))}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
