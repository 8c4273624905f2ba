"""Benchmark: an environment synced online, as the runner does (runner/environments.py: one `uv pip
sync` from the pages and files uv keeps), against offline from uv's cache alone, once its wheels are
there. The runner synced offline first until uv kept the pages: then the two cost the same, and the
offline attempt only added a failing call where a wheel was not yet cached.

Not a test: it prints a table. Run it from the repository root after a full matrix run, with the uv
cache that run used (UV_CACHE_DIR, if it set one): it needs the run's report/results.json and .envs/.

    python bench/run_environment_sync.py                  # a FastAPI-minor cell's lock, 5 rounds
    python bench/run_environment_sync.py --cell servers-py3.11-fastapi0.165.0-pydantic2.11.7

Each round makes two fresh environments for the cell's lock, in a scratch folder, as the runner
does (uv venv, then uv pip sync): one synced online, with the runner's own index settings (the
pages uv keeps for ten minutes), one offline, in alternating order, side by side. One online sync
before the rounds, not counted, reads the pages as a run's resolution leaves them for its sync
(read in this run; a cached page older than ten minutes is asked about again). The table gives
the CPU-seconds and wall seconds of the syncs (uv and what it started) and checks that both
environments hold the same distributions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from observed_cell import children_cpu, observed_cell, print_side_by_side  # noqa: E402

from known_issues.runner import environments as envs  # noqa: E402
from known_issues.runner.index_config import choose_index  # noqa: E402

# The index the runner would name to uv (a cache entry belongs to the index it came from).
INDEX_URL = choose_index(os.environ, ROOT).url


def sync(lock: Path, python: Path, where: Path, offline: bool) -> tuple[float, float, list[str]]:
    """(CPU-seconds, wall seconds, installed distributions) of one sync into a fresh environment."""
    subprocess.run([envs.uv(), "venv", "--quiet", "--python", str(python), str(where)], check=True)
    # The runner's settings (its private settings file, the pages kept): runner/environments.py `_ensure`.
    index = envs._index_args(INDEX_URL, where.parent)
    cmd = [envs.uv(), "pip", "sync", "--quiet", "--python", str(where / "bin" / "python"), *index, str(lock)]
    cmd += ["--offline"] if offline else []
    before = os.times()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    after = os.times()
    if done.returncode != 0:
        sys.exit(
            f"the {'offline' if offline else 'online'} sync failed (a wheel not in this uv cache?):\n{done.stderr}"
        )
    cpu = children_cpu(before, after)
    listed = subprocess.run(
        [envs.uv(), "pip", "freeze", "--python", str(where / "bin" / "python")],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return cpu, after.elapsed - before.elapsed, sorted(listed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="fastapi-minors-py3.11-fastapi0.128.8-pydantic2.11.7")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cell, env = observed_cell(args.cell)
    lock, python = env / "requirements.lock", envs.find_python(cell["cell"]["python"])
    cpu: dict[bool, list[float]] = {True: [], False: []}
    wall: dict[bool, list[float]] = {True: [], False: []}
    installed: dict[bool, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="ki-bench-", dir=ROOT / ".envs") as tmp:
        sync(lock, python, Path(tmp) / "pages-read", offline=False)
        for n in range(args.rounds):
            for offline in (True, False) if n % 2 == 0 else (False, True):
                c, w, listed = sync(lock, python, Path(tmp) / f"{offline}{n}", offline)
                cpu[offline].append(c)
                wall[offline].append(w)
                installed[offline] = listed
    same = installed[True] == installed[False]
    print(f"{args.cell}: {len(installed[True])} distributions, {args.rounds} round(s), side by side")
    ratio = print_side_by_side("sync", [("online", cpu[False], wall[False]), ("offline", cpu[True], wall[True])])
    print(f"CPU ratio offline/online: {ratio:.2f}; installed {'the same' if same else 'DIFFERENT'} distributions")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
