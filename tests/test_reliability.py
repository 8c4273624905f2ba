"""Faults and bad input, with real cells: uv environments, real FastAPI, real subprocesses and signals.

Most tests run the cli on a temporary harness layout (its own pyproject.toml and ``cases/``) so that
they can use cases written to fail in one particular way; the environments they build are shared
through one module-wide ``--envs`` folder.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SRC = ROOT / "src"
OLD, NEW = "rel-py3.11-fastapi0.114.0-pydantic2.11.7", "rel-py3.11-fastapi0.128.0-pydantic2.11.7"
HOSTILE_TITLE = '<script>alert("title")</script>'
HOSTILE_MESSAGE = "<script>alert('message')</script>"

PYPROJECT = """\
[project]
name = "reliability-layout"
version = "0"

[dependency-groups]
cell = ["pytest>=8", "httpx", "python-multipart"]  # what the smoke check needs

"""

CASES: dict[str, dict[str, str]] = {
    "plain_ok": {
        "case.toml": f"id = 'plain_ok'\ntitle = '{HOSTILE_TITLE} a plain case'\nkind = 'pattern'\n"
        "[claim]\ntext = 'works'\n",
        "app.py": "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        "@app.get('/items/{item_id}')\ndef read(item_id: int) -> dict[str, int]:\n    return {'id': item_id}\n",
        "test_plain_ok.py": """\
import pytest
from fastapi.testclient import TestClient

from .app import app


@pytest.mark.pattern("the path parameter arrives as an int")
def test_path_param_is_converted():
    assert TestClient(app).get("/items/3").json() == {"id": 3}


@pytest.mark.bug
def test_claimed_server_error():
    status = TestClient(app).get("/items/3").status_code
    assert status == 500, "<script>alert('message')</script> answered %d" % status
""",
    },
    "newer_only": {
        "case.toml": "id = 'newer_only'\ntitle = 'Needs a name added in a later FastAPI'\nkind = 'pattern'\n"
        "[claim]\ntext = 'works'\n",
        "test_newer_only.py": """\
import pytest
from fastapi.exceptions import DependencyScopeError  # absent before FastAPI 0.121


@pytest.mark.pattern("the exception exists")
def test_dependency_scope_error_is_an_error():
    assert issubclass(DependencyScopeError, Exception)
""",
    },
    "hangs": {
        "case.toml": "id = 'hangs'\ntitle = 'Tests that never finish'\nkind = 'pattern'\n[claim]\ntext = 'x'\n",
        "test_hangs.py": """\
import time

import pytest


@pytest.mark.pattern("sleeps")
def test_sleeps_forever():
    time.sleep(3600)


@pytest.mark.pattern("spins")
def test_spins_forever():
    while True:
        pass


@pytest.mark.pattern("runs after the hanging tests")
def test_after_the_hangs():
    assert sum([1, 2]) == 3
""",
    },
    "slow": {
        "case.toml": "id = 'slow'\ntitle = 'A slow test with a child process'\nkind = 'pattern'\n[claim]\ntext = 'x'\n",
        "test_slow.py": """\
import subprocess
import time

import pytest


@pytest.mark.pattern("takes a while, with a child process of its own")
def test_slow_with_child():
    child = subprocess.Popen(["sleep", "300"])
    try:
        time.sleep(6)
    finally:
        child.kill()
        child.wait()
""",
    },
    "leaks": {
        "case.toml": "id = 'leaks'\ntitle = 'A test that leaves a process running'\nkind = 'pattern'\n"
        "[claim]\ntext = 'x'\n",
        "test_leaks.py": """\
import subprocess

import pytest


@pytest.mark.pattern("starts a server and forgets to stop it")
def test_forgets_its_child():
    subprocess.Popen(["sleep", "271.5"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""",
    },
    "flips_once": {
        "case.toml": "id = 'flips_once'\ntitle = 'A bug test that fails the first time only'\nkind = 'known-issue'\n"
        "[claim]\ntext = 'x'\n",
        "test_flips_once.py": """\
from pathlib import Path

import pytest

COUNTER = Path(__file__).resolve().parents[2] / "flip-count"  # outside the case folder


@pytest.mark.bug
def test_fails_the_first_time():
    seen = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(seen + 1))
    assert seen > 0, "the first run in this layout"
""",
    },
    "held": {
        "case.toml": "id = 'held'\ntitle = 'A test that waits until the test driving the run lets it go'\n"
        "kind = 'pattern'\n[claim]\ntext = 'x'\n",
        "test_held.py": """\
import os
import time
from pathlib import Path

import pytest


@pytest.mark.pattern("ends once the file named by KI_TEST_RELEASE exists (at once without it)")
def test_held_until_released():
    release = os.environ.get("KI_TEST_RELEASE")
    deadline = time.monotonic() + 50  # within the per-test limit: a run never released still ends
    while release and not Path(release).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
""",
    },
    "odd_dependency": {
        "case.toml": "id = 'odd_dependency'\ntitle = 'A case whose dependency does not exist'\nkind = 'pattern'\n"
        "dependencies = ['known-issues-no-such-package-anywhere==1.0']\n[claim]\ntext = 'x'\n",
        "test_odd_dependency.py": """\
import pytest


@pytest.mark.pattern("never runs")
def test_never_runs():
    pass
""",
    },
    "server_teardown": {
        "case.toml": "id = 'server_teardown'\ntitle = 'A server whose fixture hangs in teardown'\n"
        "kind = 'pattern'\n[claim]\ntext = 'x'\n",
        "test_server_teardown.py": """\
import sys
import time
from pathlib import Path

import pytest

from known_issues.serving import free_port, serve

MARKS = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with serve(argv, cwd=tmp_path, port=port, log=tmp_path / "server.log") as running:
        (MARKS / "server-port").write_text(str(port))
        yield running
        (MARKS / "in-teardown").write_text("1")
        time.sleep(300)  # the cell is killed here, before the server is stopped


@pytest.mark.pattern("answers")
def test_answers(server):
    assert server.process.poll() is None
""",
    },
}


def write_layout(root: Path) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    cases = root / "cases"
    cases.mkdir(parents=True)
    (cases / "__init__.py").write_text("", encoding="utf-8")
    for slug, files in CASES.items():
        (cases / slug).mkdir()
        (cases / slug / "__init__.py").write_text("", encoding="utf-8")
        for name, text in files.items():
            (cases / slug / name).write_text(text, encoding="utf-8")


def cli_env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["KNOWN_ISSUES_ROOT"] = str(root)
    env["PYTHONPATH"] = str(SRC)
    env.update(extra)
    return env


def cli_cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "known_issues", *map(str, args)]


def run_cli(root: Path, *args: str | Path, timeout: float = 900, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_cmd(*args), cwd=root, env=cli_env(root, **env), capture_output=True, text=True, timeout=timeout, check=False
    )


def cells_of(out: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in (out / "cells").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["cell"]["id"]] = data
    return found


def verdicts(cell: dict[str, Any]) -> dict[str, str]:
    return {f"{t['case']}::{t['test']}": t["verdict"] for t in cell["tests"]}


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layout")
    write_layout(root)
    return {"root": root, "envs": tmp_path_factory.mktemp("envs")}


@pytest.fixture(scope="module")
def versions_run(layout: dict[str, Path]) -> dict[str, Any]:
    out = layout["root"] / "out-versions"
    proc = run_cli(
        layout["root"], "matrix", "--matrix", DATA / "reliability-versions.toml", "--out", out,
        "--envs", layout["envs"], "--cases", "plain_ok,newer_only,hangs,leaks", "--jobs", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"out": out, "proc": proc, "cells": cells_of(out)}


# 1 -----------------------------------------------------------------------------------------


def test_a_case_that_fails_to_import_errors_alone(versions_run: dict[str, Any]) -> None:
    old, new = versions_run["cells"][OLD], versions_run["cells"][NEW]
    assert old["status"] == new["status"] == "ran"
    assert [(e["case"], e["reason"]) for e in old["collect_errors"]] == [("newer_only", "collection")]
    assert "DependencyScopeError" in old["collect_errors"][0]["message"]
    assert "ImportError" in old["collect_errors"][0]["message"]
    # Every other case still has its verdicts in the old version...
    assert verdicts(old)["plain_ok::test_path_param_is_converted"] == "works"
    assert verdicts(old)["plain_ok::test_claimed_server_error"] == "fixed"
    assert verdicts(old)["hangs::test_after_the_hangs"] == "works"
    assert not any(t["case"] == "newer_only" for t in old["tests"])
    # ... and the newer version runs the case that imports the new name.
    assert new["collect_errors"] == []
    assert verdicts(new)["newer_only::test_dependency_scope_error_is_an_error"] == "works"


# 2 -----------------------------------------------------------------------------------------


def test_hanging_tests_are_stopped_by_the_per_test_limit(versions_run: dict[str, Any]) -> None:
    for cell in versions_run["cells"].values():
        by_test = {t["test"]: t for t in cell["tests"] if t["case"] == "hangs"}
        for name in ("test_sleeps_forever", "test_spins_forever"):
            assert by_test[name]["verdict"] == "error"
            assert "timeout: test ran longer than 3s" in by_test[name]["message"]
            assert by_test[name]["reason"] == "timeout"
            assert by_test[name]["duration"] < 20
        assert by_test["test_after_the_hangs"]["verdict"] == "works"
        assert cell["timings"]["tests"] < 60


def test_processes_a_cell_leaves_behind_are_killed_and_reported(versions_run: dict[str, Any]) -> None:
    for cell in versions_run["cells"].values():
        assert verdicts(cell)["leaks::test_forgets_its_child"] == "works"
        assert any("sleep 271.5" in p for p in cell["stray_processes"]), cell["stray_processes"]
    leftovers = [pid for pid in _process_table() if cmdline(pid).strip() == "sleep 271.5"]
    assert leftovers == []


# 7 -----------------------------------------------------------------------------------------


def test_hostile_title_and_message_are_text_in_the_report(versions_run: dict[str, Any]) -> None:
    message = next(
        t["message"] for t in versions_run["cells"][OLD]["tests"] if t["test"] == "test_claimed_server_error"
    )
    assert HOSTILE_MESSAGE in message  # the real failure message carries the markup...
    page = (versions_run["out"] / "index.html").read_text(encoding="utf-8")
    assert HOSTILE_TITLE not in page and HOSTILE_MESSAGE not in page  # ... the page never does
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page
    # Messages are in the page's data, escaped for its <script type="application/json"> element, and
    # the page shows them as text (tests/test_report_browser.py).
    assert "\\u003cscript\\u003ealert('message')\\u003c/script\\u003e" in page


# 3 -----------------------------------------------------------------------------------------


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) for every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for child, (parent, _) in _process_table().items():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    table = _process_table()
    return {p for p in pids if p in table and table[p][1] != "Z"}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def matrix_process(layout: dict[str, Path], versions_run: dict[str, Any]) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:  # a failed assertion must not leave a run behind
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_keeps_finished_cells_and_resumes(
    layout: dict[str, Path], matrix_process: list[subprocess.Popen[str]], signum: signal.Signals
) -> None:
    root, out = layout["root"], layout["root"] / f"out-interrupt-{signum.name}"
    args = ["matrix", "--matrix", DATA / "reliability-interrupt.toml", "--out", out, "--envs", layout["envs"]]
    # --rerun all: the module's runs share one result store, and a reused cell would never reach its tests.
    args += ["--cases", "plain_ok,slow", "--jobs", "1", "--rerun", "all"]
    proc = subprocess.Popen(
        cli_cmd(*args), cwd=root, env=cli_env(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    matrix_process.append(proc)
    first = out / "cells" / "first-py3.11-fastapi0.114.0-pydantic2.11.7.json"
    deadline = time.monotonic() + 300
    in_second_cell: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        # The second cell is in its tests when the first has its file and a `sleep 300` runs under us.
        below = descendants(proc.pid)
        if first.exists() and any(cmdline(p).startswith("sleep 300") for p in below):
            in_second_cell = below
            break
        time.sleep(0.2)
    assert in_second_cell, "the run never reached the second cell's tests"
    first_bytes = first.read_bytes()
    os.kill(proc.pid, signum)
    output, _ = proc.communicate(timeout=120)

    assert proc.returncode == 130, output
    assert "Traceback" not in output, output
    assert alive(in_second_cell) == set(), [cmdline(p) for p in alive(in_second_cell)]
    assert first.read_bytes() == first_bytes
    assert sorted(p.name for p in (out / "cells").iterdir()) == [first.name]
    assert [p for p in out.rglob("*") if p.name.endswith(".tmp")] == []
    for path in out.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))

    resumed = run_cli(root, *args, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "[resume] first-py3.11-fastapi0.114.0-pydantic2.11.7: kept (ran)" in resumed.stdout
    assert "running 2 cell(s)" in resumed.stdout
    assert first.read_bytes() == first_bytes
    cells = cells_of(out)
    assert {cid: c["status"] for cid, c in cells.items()} == {
        "first-py3.11-fastapi0.114.0-pydantic2.11.7": "ran",
        "second-py3.11-fastapi0.128.0-pydantic2.11.7": "ran",
        "third-py3.11-fastapi0.114.0-pydantic2.11.7": "ran",
    }
    assert all(verdicts(c)["slow::test_slow_with_child"] == "works" for c in cells.values())


# 4 -----------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_without_the_package_index_cached_cells_still_run(
    layout: dict[str, Path], versions_run: dict[str, Any]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    out = layout["root"] / "out-offline"
    proc = run_cli(
        layout["root"], "matrix", "--matrix", DATA / "reliability-offline.toml", "--out", out,
        "--envs", layout["envs"], "--cases", "plain_ok,newer_only,hangs,leaks", "--jobs", "2",
        UV_DEFAULT_INDEX=f"{url}/simple",  # the index both the release lookups and uv ask
        KNOWN_ISSUES_LOCK_TTL="0",  # no young lock to reuse: the fallback must carry the cached cell
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    cells = cells_of(out)
    cached = cells["cached-py3.11-fastapi0.114.0-pydantic2.11.7"]
    assert cached["status"] == "ran", cached["reason"]
    assert cached["env_reused"] is True
    assert verdicts(cached) == verdicts(versions_run["cells"][OLD])
    uncached = cells["uncached-py3.11-fastapi0.110.0-pydantic2.11.7"]
    assert uncached["status"] == "not installable"
    assert uncached["reason"].startswith("the package index is out of reach"), uncached["reason"]
    assert "127.0.0.1" in uncached["reason"], uncached["reason"]
    assert cached["lock_sources"] and "index unreachable" in cached["lock_sources"][0], cached["lock_sources"]
    assert "uncached-py3.11-fastapi0.110.0-pydantic2.11.7" in (out / "index.html").read_text(encoding="utf-8")


# 5 -----------------------------------------------------------------------------------------


def test_uninstallable_cells_have_a_reason_not_a_traceback(layout: dict[str, Path]) -> None:
    out = layout["root"] / "out-bad"
    proc = run_cli(
        layout["root"], "matrix", "--matrix", DATA / "reliability-bad.toml", "--out", out,
        "--envs", layout["envs"], "--cases", "plain_ok", "--jobs", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    cells = cells_of(out)
    reasons = {cid.split("-")[0]: c["reason"] for cid, c in cells.items()}
    assert {c["status"] for c in cells.values()} == {"not installable"}
    assert reasons["missing"] == "fastapi 9.9.9 does not exist on the package index"
    assert "No solution found" in reasons["refused"] and "pydantic" in reasons["refused"]
    assert reasons["nopython"].startswith("Python 3.99 is not installed on this machine")
    assert "fastapi" in reasons["oldpython"] and "3.7" in reasons["oldpython"], reasons["oldpython"]
    for reason in reasons.values():
        assert "Traceback" not in reason
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "fastapi 9.9.9 does not exist on the package index" in page


# 6 -----------------------------------------------------------------------------------------


def test_the_same_cells_give_the_same_verdicts_three_times(tmp_path: Path) -> None:
    maps = []
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        proc = run_cli(
            ROOT, "matrix", "--matrix", DATA / "reliability-determinism.toml", "--out", out, "--jobs", "2",
            "--rerun", "all",  # observed again each time, never served from the result store
            "--cases", "background_tasks_overwritten,optional_literal_form,int_str_path_union",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        cells = cells_of(out)
        assert {c["status"] for c in cells.values()} == {"ran"}
        maps.append({cid: (verdicts(c), len(c["collect_errors"])) for cid, c in cells.items()})
    assert len(maps[0]) == 2 and all(len(v[0]) > 5 for v in maps[0].values())
    assert maps[0] == maps[1] == maps[2]


# 8 -----------------------------------------------------------------------------------------


def test_a_verdict_that_flips_once_is_reported_flaky(layout: dict[str, Path], versions_run: dict[str, Any]) -> None:
    """Two cells; the test fails the first time it runs anywhere. The cell that saw the failure
    differs from its only neighbour, so it is re-run twice: the failure does not repeat -> flaky."""
    (layout["root"] / "flip-count").unlink(missing_ok=True)
    out = layout["root"] / "out-flip"
    proc = run_cli(
        layout["root"], "matrix", "--matrix", DATA / "reliability-versions.toml", "--out", out,
        "--envs", layout["envs"], "--cases", "flips_once", "--jobs", "1",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "confirming 2 verdict(s) that flip, in 2 cell(s): 2 re-run(s) each" in proc.stdout
    first, second = (cells_of(out)[cid]["tests"][0] for cid in (OLD, NEW))
    assert (first["verdict"], first["observations"]) == ("flaky", ["fixed", "reproduces", "reproduces"])
    assert first["message"].startswith("flaky: observed fixed, reproduces, reproduces")
    # The neighbour's verdict repeated: it stands, with its observations.
    assert (second["verdict"], second["observations"]) == ("reproduces", ["reproduces"] * 3)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert f"| flips_once | test_fails_the_first_time | {OLD} | fixed, reproduces, reproduces |" in summary
    # A second run reuses both results as they were settled: no re-run, nothing new to confirm.
    again = run_cli(
        layout["root"], "matrix", "--matrix", DATA / "reliability-versions.toml", "--out", out,
        "--envs", layout["envs"], "--cases", "flips_once", "--jobs", "1",
    )  # fmt: skip
    assert again.returncode == 0 and "confirming" not in again.stdout, again.stdout
    assert cells_of(out)[OLD]["tests"][0]["verdict"] == "flaky"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_no_server_outlives_a_cell_killed_in_teardown(
    layout: dict[str, Path], versions_run: dict[str, Any], matrix_process: list[subprocess.Popen[str]]
) -> None:
    root = layout["root"]
    for mark in ("server-port", "in-teardown"):
        (root / mark).unlink(missing_ok=True)
    out = root / "out-teardown"
    args = ["matrix", "--matrix", DATA / "reliability-interrupt.toml", "--group", "first", "--out", out]
    args += ["--envs", layout["envs"], "--cases", "server_teardown", "--jobs", "1", "--rerun", "all"]
    proc = subprocess.Popen(
        cli_cmd(*args), cwd=root, env=cli_env(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    matrix_process.append(proc)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (root / "in-teardown").exists():
        assert proc.poll() is None, proc.communicate()[0]
        time.sleep(0.2)
    port = int((root / "server-port").read_text())
    assert _listening(port)
    (pytest_pid,) = [p for p in descendants(proc.pid) if "-m pytest" in cmdline(p)]
    os.kill(pytest_pid, signal.SIGKILL)  # the cell's pytest dies before its fixture can stop the server
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, output  # the cell produced no verdicts: it is an error, and says so
    assert not _listening(port), output
    assert not [p for p in _process_table() if "http.server" in cmdline(p) and str(port) in cmdline(p)]
    cell = cells_of(out)["first-py3.11-fastapi0.114.0-pydantic2.11.7"]
    assert cell["status"] == "error" and cell["error_reason"] == "harness"
    # The kernel stops the server with the test process that started it; whatever is left in the
    # cell's session is killed by the runner and listed.
    assert all("http.server" in p for p in cell["stray_processes"]), cell["stray_processes"]


def test_eight_cells_start_at_once(layout: dict[str, Path], versions_run: dict[str, Any]) -> None:
    """Eight workers resolving at the same moment (no young lock to reuse): no start-up crash."""
    matrix = layout["root"] / "eight.toml"
    groups = "".join(
        f'[[groups]]\nname = "w{i}"\naxes = {{ fastapi = ["0.114.0"], pydantic = ["2.11.7"] }}\n' for i in range(8)
    )
    matrix.write_text('[defaults]\npython = "3.11"\n' + groups)
    proc = run_cli(
        layout["root"], "matrix", "--matrix", matrix, "--out", layout["root"] / "out-eight", "--envs", layout["envs"],
        "--cases", "plain_ok", "--jobs", "8", "--rerun", "all", KNOWN_ISSUES_LOCK_TTL="0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    cells = cells_of(layout["root"] / "out-eight")
    assert len(cells) == 8 and {c["status"] for c in cells.values()} == {"ran"}
    assert all(verdicts(c)["plain_ok::test_path_param_is_converted"] == "works" for c in cells.values())


def test_two_matrix_processes_on_one_envs_keep_both_results(
    layout: dict[str, Path], versions_run: dict[str, Any], matrix_process: list[subprocess.Popen[str]]
) -> None:
    root = layout["root"]
    outs = [root / "out-twin-a", root / "out-twin-b"]
    release = root / "twin-release"
    procs = []
    for out in outs:
        args = ["matrix", "--matrix", DATA / "reliability-versions.toml", "--out", out, "--envs", layout["envs"]]
        args += ["--cases", "plain_ok,held", "--jobs", "2", "--rerun", "all"]
        # Ordering, not timing: the first run holds the folders until the second has said it waits.
        env = cli_env(root, KI_TEST_RELEASE=str(release)) if not procs else cli_env(root)
        procs.append(
            subprocess.Popen(cli_cmd(*args), cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        )  # fmt: skip
        matrix_process.append(procs[-1])
        if len(procs) == 1:
            deadline = time.monotonic() + 120
            while not (out / "run.json").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
    said = []
    assert procs[1].stderr is not None
    for line in procs[1].stderr:  # ends when the second run ends: it cannot hang the test
        said.append(line)
        if "is in use by pid" in line:
            break
    release.write_text("go", encoding="utf-8")
    results = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert "is in use by pid" in "".join(said)
    for out in outs:
        cells = cells_of(out)
        assert set(cells) == {OLD, NEW} and {c["status"] for c in cells.values()} == {"ran"}
        assert all(verdicts(c)["plain_ok::test_path_param_is_converted"] == "works" for c in cells.values())
        assert all(verdicts(c)["held::test_held_until_released"] == "works" for c in cells.values())


def test_a_case_whose_dependency_cannot_install_leaves_the_others_running(
    layout: dict[str, Path], versions_run: dict[str, Any]
) -> None:
    out = layout["root"] / "out-odd"
    proc = run_cli(
        layout["root"], "matrix", "--matrix", DATA / "reliability-versions.toml", "--out", out,
        "--envs", layout["envs"], "--cases", "plain_ok,odd_dependency", "--jobs", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for cell in cells_of(out).values():
        assert cell["status"] == "ran"
        assert verdicts(cell)["plain_ok::test_path_param_is_converted"] == "works"
        (why,) = cell["cases_not_installable"].values()
        assert list(cell["cases_not_installable"]) == ["odd_dependency"]
        assert "known-issues-no-such-package-anywhere" in why
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "case odd_dependency left out: its own dependencies do not install" in page


# 8 -----------------------------------------------------------------------------------------


def test_a_pydantic_that_breaks_fastapi_is_a_compatibility_finding_and_the_cell_steps_down(
    layout: dict[str, Path],
) -> None:
    out = layout["root"] / "out-step"
    args = ("matrix", "--matrix", DATA / "reliability-stepdown.toml", "--out", out, "--envs", layout["envs"])
    proc = run_cli(layout["root"], *args, "--cases", "plain_ok")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (cell,) = cells_of(out).values()
    # The smoke check opened each pytest run: every Pydantic from 2.12 failed it, nothing ran there.
    assert cell["status"] == "ran" and cell["compat_findings"], cell
    for finding in cell["compat_findings"]:
        assert Version(finding["versions"]["pydantic"]) >= Version("2.12"), finding
        assert finding["error"].strip(), finding
    assert Version(cell["resolved"]["pydantic"]) < Version("2.12")
    assert cell["fallback_pins"][-1] == "pydantic<2.12"
    assert verdicts(cell)["plain_ok::test_path_param_is_converted"] == "works"

    # The answers are kept: a second run resolves to the same environments and runs nothing.
    store = layout["envs"] / "results"
    answers = sorted(p.name for p in store.glob("smoke-*.json"))
    again = run_cli(layout["root"], *args, "--cases", "plain_ok")
    (second,) = cells_of(out).values()
    # Nothing to observe and the same inputs: the cell's file is left as it was.
    assert ", unchanged: its file is as stored" in again.stdout, again.stdout
    assert second == cell
    assert sorted(p.name for p in store.glob("smoke-*.json")) == answers, again.stdout

    # An environment whose answer is lost but whose results are stored: the check runs on its own.
    (store / f"smoke-{second['env_key']}-{answers[0].rsplit('-', 1)[1]}").unlink()
    third = run_cli(layout["root"], *args, "--cases", "plain_ok")
    assert third.returncode == 0, third.stdout + third.stderr
    (cell3,) = cells_of(out).values()
    assert cell3["cases_reused"] == ["plain_ok"] and cell3["timings"]["smoke"] > 0
    assert sorted(p.name for p in store.glob("smoke-*.json")) == answers
