"""Benchmark: the matrix runner against the plain way (virtualenv + pip + pytest), in one run.

Not a test: it prints a table. Run it from the repository root:

    python bench/run_bench.py                 # 6 cells of the default matrix, all cases, -j 2 x cores
    python bench/run_bench.py --versions 0.100.1,0.128.8 --jobs 2

On the same cells (fastapi-minors group, FastAPI at the chosen versions, Pydantic "any"), on a copy
of the project (so that a case can be edited without touching the checkout):
  cold    `python -m known_issues matrix` with a fresh environment folder and an empty result store
          (the uv package cache stays as it is: usually warm on a machine that ran the matrix before)
  warm    the same command with `--rerun all`: environments reused, every case observed again
  reused  the same command again with nothing changed: every result comes from the result store
  edited  one case's app.py edited (a comment appended): only that case runs again, in every cell
  plain   per cell, sequentially: `python -m virtualenv`, `pip install` of the requirements the cold
          run recorded for that cell, then pytest with the plugin (what nox + virtualenv + pip does)
  warm again, after plain: plain takes minutes and the machine's speed may drift meanwhile, so
          plain is compared with the mean of the warm runs on either side of it, in wall seconds and
          in CPU-seconds (every process each way started and waited for)
Then the cost of each case per cell, from the warm run: seconds and CPU-seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VERSIONS = "0.100.1,0.108.0,0.115.14,0.121.3,0.128.8,latest"
GROUP = "fastapi-minors"


def bench_matrix(versions: list[str]) -> str:
    """The default matrix's defaults, packages and rules with one group: the chosen FastAPI versions.

    The group keeps the default group's name, so the cell ids are those of the default matrix.
    """
    text = (ROOT / "matrix.toml").read_text(encoding="utf-8")
    head = text.split("\n[[groups]]", 1)[0] + "\n"
    listed = ", ".join(f'"{v}"' for v in versions)
    return head + f'[[groups]]\nname = "{GROUP}"\naxes = {{ fastapi = [{listed}], pydantic = "any" }}\n'


def children_cpu() -> float:
    """CPU-seconds of every process this one has waited for, and theirs, so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_matrix(root: Path, matrix: Path, out: Path, envs: Path, jobs: int, *extra: str) -> tuple[float, float]:
    """(wall seconds, CPU-seconds) of one matrix run."""
    cmd = [sys.executable, "-m", "known_issues", "matrix", "--matrix", str(matrix), "--out", str(out)]
    cmd += ["--envs", str(envs), "--jobs", str(jobs), *extra]
    started, cpu_before = time.monotonic(), children_cpu()
    proc = subprocess.run(cmd, cwd=root, env=_env(root), capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    cpu = children_cpu() - cpu_before
    if proc.returncode != 0:
        sys.exit(f"matrix run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    print(proc.stdout.strip().splitlines()[-1], file=sys.stderr)
    return wall, cpu


def _env(root: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["KNOWN_ISSUES_ROOT"] = str(root)
    return env


def cells(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "cells").glob("*.json"))]


def overhead(cell: dict[str, Any]) -> float:
    t = cell["timings"]
    return float(t.get("resolve", 0) + t.get("env", 0) + t.get("smoke", 0))


def run_plain(cell: dict[str, Any], work: Path) -> tuple[float, float, int]:
    """(environment seconds, test seconds, tests recorded) the plain way, for one cell."""
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    started = time.monotonic()
    python = shutil.which(f"python{cell['cell']['python']}") or sys.executable
    has_virtualenv = subprocess.run([python, "-c", "import virtualenv"], capture_output=True, check=False)
    tool = ["-m", "virtualenv", "--quiet"] if has_virtualenv.returncode == 0 else ["-m", "venv"]
    _check([python, *tool, str(venv)])
    reqs = work / "requirements.txt"
    reqs.write_text("\n".join(cell["requirements"]) + "\n", encoding="utf-8")
    _check([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(reqs)])
    env_seconds = time.monotonic() - started
    started = time.monotonic()
    results = work / "tests.json"
    results.unlink(missing_ok=True)
    cmd = [str(venv / "bin" / "python"), "-m", "pytest", "cases", "-p", "known_issues.cell.plugin"]
    cmd += ["--ki-results", str(results), "-p", "no:cacheprovider", "-q", "--color=no"]
    cmd += ["-o", "asyncio_default_fixture_loop_scope=function"]
    subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    test_seconds = time.monotonic() - started
    count = len(json.loads(results.read_text(encoding="utf-8"))["tests"]) if results.exists() else 0
    return env_seconds, test_seconds, count


def _check(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_env())
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} ... failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--versions", default=DEFAULT_VERSIONS, help="FastAPI versions (comma-separated)")
    p.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1), help="matrix jobs (default: as the matrix)")
    p.add_argument("--keep", type=Path, default=None, help="keep the work folder here")
    p.add_argument("--edit", default="background_tasks_overwritten", help="the case whose app.py is edited")
    args = p.parse_args()
    versions = [v for v in args.versions.split(",") if v]
    work = args.keep or Path(tempfile.mkdtemp(prefix="ki-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    root = work / "root"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(ROOT / "cases", root / "cases", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "tools.lock"):
        shutil.copy(ROOT / name, root / name)
    matrix = root / "matrix.toml"
    matrix.write_text(bench_matrix(versions), encoding="utf-8")
    envs = work / "envs"
    shutil.rmtree(envs, ignore_errors=True)
    # The index listing is the same in all three ways: share the cached copy, not the environments.
    shutil.copytree(ROOT / ".envs" / "index", envs / "index", dirs_exist_ok=True)

    print(f"cold: {len(versions)} cells, fresh environments and result store in {envs}", file=sys.stderr)
    cold_wall, _ = run_matrix(root, matrix, work / "cold", envs, args.jobs)
    print("warm: the same cells, environments reused, every case observed again", file=sys.stderr)
    warm_wall, warm_cpu = run_matrix(root, matrix, work / "warm", envs, args.jobs, "--rerun", "all")
    print("reused: nothing changed", file=sys.stderr)
    reused_wall, _ = run_matrix(root, matrix, work / "reused", envs, args.jobs)
    reused = cells(work / "reused")
    edited_case = args.edit
    with (root / "cases" / edited_case / "app.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# edited by the benchmark\n")
    print(f"edited: {edited_case}/app.py changed", file=sys.stderr)
    edited_wall, _ = run_matrix(root, matrix, work / "edited", envs, args.jobs)
    edited = cells(work / "edited")
    cold, warm = cells(work / "cold"), cells(work / "warm")

    print("plain: virtualenv + pip install + pytest, one cell after the other", file=sys.stderr)
    plain: dict[str, tuple[float, float, int]] = {}
    plain_started, plain_cpu = time.monotonic(), children_cpu()
    for cell in cold:
        if cell["status"] == "ran":
            plain[cell["cell"]["id"]] = run_plain(cell, work / "plain")
            print(f"  {cell['cell']['id']}: {plain[cell['cell']['id']]}", file=sys.stderr)
    plain_wall = time.monotonic() - plain_started
    plain_cpu = children_cpu() - plain_cpu
    # The plain way takes minutes and this machine's speed may drift meanwhile: warm is measured on
    # both sides of it, and the ratio is taken against the mean of the two.
    print("warm again, after plain", file=sys.stderr)
    warm_after, warm_after_cpu = run_matrix(root, matrix, work / "warm-after", envs, args.jobs, "--rerun", "all")
    print(f"warm before plain {warm_wall:.1f}s, after plain {warm_after:.1f}s", file=sys.stderr)

    print_table(cold, warm, plain, cold_wall, (warm_wall, warm_after), plain_wall, args.jobs)
    print_cpu(plain_cpu, (warm_cpu, warm_after_cpu))
    print_incremental(reused, edited, reused_wall, edited_wall, warm_wall, edited_case)
    print_case_costs(warm)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def print_table(
    cold: list[dict[str, Any]],
    warm: list[dict[str, Any]],
    plain: dict[str, tuple[float, float, int]],
    cold_wall: float,
    warm_walls: tuple[float, float],
    plain_wall: float,
    jobs: int,
) -> None:
    warm_wall = sum(warm_walls) / 2
    warm_by_id = {c["cell"]["id"]: c for c in warm}
    header = f"{'cell':<52} {'tests':>5} | {'cold env':>8} {'warm ovh':>8} {'warm tests':>10} | "
    header += f"{'plain env':>9} {'plain tests':>11}"
    print(header)
    print("-" * len(header))
    for c in cold:
        cid = c["cell"]["id"]
        w = warm_by_id.get(cid, {"timings": {}, "tests": []})
        pe, pt, _ = plain.get(cid, (0.0, 0.0, 0))
        print(
            f"{cid:<52} {len(w['tests']):>5} | {c['timings'].get('env', 0):>8.1f} {overhead(w):>8.1f} "
            f"{w['timings'].get('tests', 0):>10.1f} | {pe:>9.1f} {pt:>11.1f}"
        )
    print()
    warm_total = sum(c["timings"]["total"] for c in warm)
    warm_overhead = sum(overhead(c) for c in warm)
    per_cell = [overhead(c) / c["timings"]["total"] for c in warm if c["timings"].get("total")]
    print(
        f"wall time: plain {plain_wall:.1f}s | matrix cold {cold_wall:.1f}s | "
        f"matrix warm {warm_wall:.1f}s, the mean of two (-j {jobs})"
    )
    print(
        f"warm overhead (resolve+env+smoke) summed {warm_overhead:.1f}s; "
        f"/ jobs / warm wall = {warm_overhead / jobs / warm_walls[0]:.0%} (target <= 25%); "
        f"mean per-cell share {sum(per_cell) / max(1, len(per_cell)):.0%}"
    )
    print(f"warm wall / sum of warm cell times = {warm_walls[0] / warm_total:.2f} (target <= 0.6)")
    print(
        f"warm before plain {warm_walls[0]:.1f}s, after plain {warm_walls[1]:.1f}s: "
        f"plain / warm = {plain_wall / warm_walls[0]:.1f}x and {plain_wall / warm_walls[1]:.1f}x"
    )
    print(
        f"plain / mean warm = {plain_wall / warm_wall:.1f}x (target >= 4x); "
        f"plain / cold = {plain_wall / cold_wall:.1f}x"
    )
    print("uv package cache: as found (warm if the matrix ran before); pip cache: as found")


def print_cpu(plain_cpu: float, warm_cpus: tuple[float, float]) -> None:
    """The same comparison in CPU-seconds: the work each way does, whatever the cores it had at once
    (the plain way runs one cell after another, the matrix two per core). The plain way's waits on
    the network are not in it. On a shared virtual machine CPU-seconds drift with the host as well:
    the two warm runs show by how much."""
    warm_cpu = sum(warm_cpus) / 2
    print(
        f"CPU-seconds: plain {plain_cpu:.0f}, warm {warm_cpus[0]:.0f} before and {warm_cpus[1]:.0f} after plain; "
        f"plain / mean warm = {plain_cpu / warm_cpu:.1f}x"
    )


def print_incremental(
    reused: list[dict[str, Any]],
    edited: list[dict[str, Any]],
    reused_wall: float,
    edited_wall: float,
    warm_wall: float,
    edited_case: str,
) -> None:
    print()
    tests = [t for c in reused for t in c["tests"]]
    print(
        f"reused (nothing changed): {reused_wall:.1f}s wall, {sum(t['reused'] for t in tests)} of {len(tests)} "
        f"verdicts reused; warm / reused = {warm_wall / reused_wall:.1f}x"
    )
    ran = sorted({case for c in edited for case in c.get("cases_run", [])})
    print(
        f"edited ({edited_case}/app.py): {edited_wall:.1f}s wall; cases observed again: {', '.join(ran) or 'none'} "
        f"(in {sum(1 for c in edited if c.get('cases_run'))} of {len(edited)} cells)"
    )


def print_case_costs(warm: list[dict[str, Any]]) -> None:
    """What each case costs per cell in the warm run, costliest first: seconds (the sum of its tests'
    durations: inflated when cells share the cores) and CPU-seconds (its tests' process and the
    servers they started: inflated far less by the sharing, but still by a busy host)."""
    ran = [c for c in warm if c["status"] == "ran"]
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for cell in ran:
        for test in cell["tests"]:
            seconds[test["case"]] = seconds.get(test["case"], 0.0) + test["duration"]
            cpu[test["case"]] = cpu.get(test["case"], 0.0) + test.get("cpu", 0.0)
    n = max(1, len(ran))
    print()
    print(f"{'case':<40} {'s / cell':>8} {'CPU s / cell':>12}")
    print("-" * 62)
    for case in sorted(seconds, key=lambda c: -cpu[c]):
        print(f"{case:<40} {seconds[case] / n:>8.2f} {cpu[case] / n:>12.2f}")
    print(f"{'all cases':<40} {sum(seconds.values()) / n:>8.2f} {sum(cpu.values()) / n:>12.2f}")
    whole = sum(c["timings"].get("tests_cpu", 0.0) for c in ran) / n
    print(f"{'whole pytest run (start-up, collection)':<40} {'':>8} {whole:>12.2f}")


if __name__ == "__main__":
    sys.exit(main())
