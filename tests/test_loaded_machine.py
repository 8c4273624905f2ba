"""The timing cases on a slowed machine: the same real cell observed idle and under busy processes.

Their verdicts are decided by ordering (the server records when each request starts and ends)
and by counting (hash verifications per login path), so a machine with twice as many busy
processes as cores must give the very same verdicts, none of them an error or flaky.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
CELL = "loaded-py3.11-fastapi0.114.0-pydantic2.11.7"
TIMING_CASES = "blocking_event_loop,jwt_auth_current_tutorial"
BLOCKING = "blocking_event_loop::test_"
EXPECTED = {
    # the documented bugs: a blocking call in `async def` holds every other request back
    BLOCKING + "time_sleep_in_async_route_blocks_other_requests": "reproduces",
    BLOCKING + "sync_db_client_in_async_route_blocks_other_requests": "reproduces",
    BLOCKING + "def_route_cpu_in_one_builtin_call_freezes_the_loop": "reproduces",
    # the documented fixes: other requests are served while one waits
    BLOCKING + "asyncio_sleep_serves_other_requests": "holds",
    BLOCKING + "def_route_serves_other_requests": "holds",
    BLOCKING + "run_in_executor_serves_other_requests": "holds",
    BLOCKING + "async_db_driver_serves_other_requests": "holds",
    BLOCKING + "def_route_python_cpu_loop_serves_other_requests": "holds",
    # an unknown user costs one hash verification, like a wrong password
    "jwt_auth_current_tutorial::test_unknown_user_not_revealed_by_timing": "works",
}


def observe(out: Path, envs: Path) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "matrix", "--matrix", "tests/data/loaded-matrix.toml",
         "--out", str(out), "--envs", str(envs), "--cases", TIMING_CASES, "--jobs", "1", "--rerun", "all"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "KNOWN_ISSUES_ROOT": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (cell,) = json.loads((out / "results.json").read_text())["cells"]
    assert (cell["cell"]["id"], cell["status"]) == (CELL, "ran"), cell.get("reason")
    return {f"{t['case']}::{t['test']}": t["verdict"] for t in cell["tests"]}


@pytest.fixture
def busy_processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    count = 2 * (os.cpu_count() or 1)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    yield burners
    for proc in burners:
        proc.kill()
        proc.wait()


def test_timing_verdicts_are_the_same_on_a_loaded_machine(
    tmp_path: Path, busy_processes: list[subprocess.Popen[bytes]]
) -> None:
    # Loaded first: the busy processes are already running when the cell starts its servers.
    # Own --envs: a matrix run on the default .envs must not make this one wait for it.
    loaded = observe(tmp_path / "loaded", tmp_path / "envs")
    assert all(proc.poll() is None for proc in busy_processes), "the machine was not kept busy"
    for proc in busy_processes:
        proc.kill()
        proc.wait()
    idle = observe(tmp_path / "idle", tmp_path / "envs")

    timing = {name: verdict for name, verdict in idle.items() if name in EXPECTED}
    assert timing == EXPECTED
    assert {name: loaded[name] for name in EXPECTED} == EXPECTED
    assert loaded == idle
