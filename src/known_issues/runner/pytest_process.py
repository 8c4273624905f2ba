"""One pytest run inside a cell's environment, with the plugin, bounded in time, its output in a log."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from known_issues.cell.atomic import write_text
from known_issues.cell.observations import PYTEST_RUN_SCHEMA, PytestRun
from known_issues.cell.shared_bytecode import STORE_VARIABLE
from known_issues.cell.verdicts import Reason
from known_issues.errors import SchemaError
from known_issues.records import check_schema, load
from known_issues.runner.environments import bytecode_store
from known_issues.runner.processes import PROCESSES

HARNESS_SRC = Path(__file__).resolve().parents[2]  # src/, where known_issues lives


@dataclass(frozen=True)
class SmokeAnswer:
    """The smoke check's answer from a pytest run that was asked for it (``smoke=True``)."""

    ok: bool
    message: str
    seconds: float
    remembered: bool  # False when the process died before answering: may be an accident of this run


@dataclass
class InCellRun:
    """What a pytest run gave: its results, or why there are none."""

    results: PytestRun | None
    failure: str = ""
    failure_reason: Reason | None = None
    strays: list[str] = field(default_factory=list)
    smoke: SmokeAnswer | None = None


# What activating the runner's own environment sets (nox sets the three first for its uv sessions).
# A cell must not see them: uv in a case would take the runner's interpreter for the project's.
RUNNER_ACTIVATION = ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT", "CONDA_PREFIX", "PYTHONHOME")


def child_env(shared_bytecode: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in RUNNER_ACTIVATION}
    env["PYTHONPATH"] = os.pathsep.join([str(HARNESS_SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # Bytecode is written, whatever the machine's environment says (PYTHONDONTWRITEBYTECODE is set on
    # some): the cases' and the harness's next to their sources (__pycache__, ignored by git and by
    # the case digests), reused by every later cell on the same Python and pytest; the packages' in
    # the cell's environment the first time a module is imported, so an environment compiles only
    # what its cases import, once (compiling and rewriting the assertions of every test module cost
    # each cell about 1.5 CPU-seconds a run; compiling every installed package up front, 7).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONHASHSEED"] = "0"
    # Requests to the case servers on 127.0.0.1 must never go through a proxy from the environment.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # The environments a case makes (uv add, uv sync) share the cells' bytecode (cell/shared_bytecode.py).
    env.pop(STORE_VARIABLE, None)
    if shared_bytecode is not None:
        env[STORE_VARIABLE] = str(shared_bytecode)
    return env


def run_pytest(
    python: Path,
    targets: Sequence[str],
    *,
    root: Path,
    log: Path,
    test_timeout: float,
    cell_timeout: float,
    smoke: bool = False,
) -> InCellRun:
    """Run ``targets`` (case folders or node ids) with the plugin; the command and output go to ``log``.

    With ``smoke``, the smoke check runs first in the same process; when it fails, no test runs and
    the answer (``InCellRun.smoke``) says why.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ki-cell-") as tmp:
        results_path = Path(tmp) / "tests.json"
        smoke_path = Path(tmp) / "smoke.json"
        cmd = [
            str(python),
            "-m",
            "pytest",
            *targets,
            "-p",
            "known_issues.cell.plugin",
            "--ki-results",
            str(results_path),
            "--ki-timeout",
            f"{test_timeout:g}",
            "--ki-own-process",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "-q",
            "-rfE",
            "--color=no",
            # The verdicts carry their own messages; pytest's long tracebacks through a crashing ASGI
            # stack cost seconds per test and are only read in the log.
            "--tb=native",
            "--basetemp",
            str(Path(tmp) / "pytest"),
        ]
        if smoke:
            cmd += ["--ki-smoke", str(smoke_path)]
        code, out, timed_out, strays = PROCESSES.run(
            cmd, timeout=cell_timeout, cwd=root, env=child_env(bytecode_store(python.parent.parent))
        )
        write_text(log, " ".join(cmd) + "\n\n" + out)
        if PROCESSES.stopping:
            raise KeyboardInterrupt
        answer = _smoke_answer(smoke_path, code, out, timed_out) if smoke else None
        if answer is not None and not answer.ok:
            return InCellRun(None, answer.message, None, strays, answer)
        if timed_out:
            return InCellRun(
                None, f"the cell ran longer than {cell_timeout:g}s and was stopped", Reason.TIMEOUT, strays, answer
            )
        if not results_path.exists():
            return InCellRun(
                None, f"pytest exited {code} without results:\n{out[-3000:]}", Reason.HARNESS, strays, answer
            )
        try:
            data = json.loads(results_path.read_text(encoding="utf-8"))
            results = load(PytestRun, check_schema(data, PYTEST_RUN_SCHEMA, "the plugin's results"))
        except (ValueError, KeyError, SchemaError) as exc:
            return InCellRun(None, f"unreadable results from the plugin: {exc}", Reason.HARNESS, strays, answer)
    if code not in (0, 1, 5):  # 5: nothing collected (a selection with no test left)
        return InCellRun(None, f"pytest exited {code}:\n{out[-3000:]}", Reason.HARNESS, strays, answer)
    return InCellRun(results, strays=strays, smoke=answer)


def _smoke_answer(path: Path, code: int, out: str, timed_out: bool) -> SmokeAnswer:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        # No answer: the process died (or was stopped) before the check finished.
        why = "timed out" if timed_out else f"crashed (exit {code})"
        return SmokeAnswer(False, f"smoke check {why}:\n{out[-3000:]}", 0.0, remembered=False)
    if data.get("ok"):
        return SmokeAnswer(True, "", float(data.get("seconds", 0.0)), remembered=True)
    message = f"{data.get('error', '')}\n{data.get('traceback', '')}"
    return SmokeAnswer(False, message, float(data.get("seconds", 0.0)), remembered=not data.get("timed_out"))
