"""Run cells: resolve, create or reuse the environment, smoke check, run the cases, record."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import Version

from known_issues import environments as envs
from known_issues import store
from known_issues.atomic import write_json
from known_issues.matrix import ANY, Cell, Matrix
from known_issues.processes import PROCESSES
from known_issues.pypi import IndexError_, PackageIndex
from known_issues.records import PytestRun

HARNESS_SRC = Path(__file__).resolve().parent.parent


@dataclass
class Settings:
    root: Path
    matrix: Matrix
    out: Path
    env_root: Path
    jobs: int = 2
    only_cases: tuple[str, ...] = ()
    offline: bool = False

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"


def cell_dependencies(root: Path) -> list[str]:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    group: list[str] = data["dependency-groups"]["cell"]
    return list(group)


def case_dependencies(cases_dir: Path, cases: Sequence[str]) -> list[str]:
    """What the selected cases need beyond the common test tools (``dependencies`` in case.toml).

    Kept per case so that a group can run a case (e.g. under Pydantic v1) without installing
    what other cases need and that version cannot have.
    """
    wanted: dict[str, None] = {}
    for case in cases:
        data = tomllib.loads((cases_dir / case / "case.toml").read_text(encoding="utf-8"))
        for requirement in data.get("dependencies", []):
            wanted[str(requirement)] = None
    return list(wanted)


def case_names(cases_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in cases_dir.glob("*/case.toml"))


def selected_cases(settings: Settings, cell: Cell) -> list[str]:
    available = case_names(settings.cases_dir)
    chosen = [c for c in available if not cell.cases or c in cell.cases]
    if settings.only_cases:
        chosen = [c for c in chosen if c in settings.only_cases]
    return chosen


def resolve_cell(
    settings: Settings,
    cell: Cell,
    index: PackageIndex | None,
    fallback_pins: Sequence[str] = (),
    sources: list[str] | None = None,
) -> tuple[str, list[str], list[dict[str, Any]], Path]:
    """(lock, requirements, rules applied, python) or raise NotInstallable.

    ``sources`` collects where each lock came from (resolved, reused, cached while offline).
    """
    sources = [] if sources is None else sources
    python = envs.find_python(cell.python)
    # A lock reused for an "any" axis must not hide a newer release: its newest version is part of the key.
    context: list[str] = []
    if index is not None:
        for name, version in cell.requested:
            try:
                if version == ANY:
                    released = index.versions(name, cell.python)
                    context.append(f"{name} newest {released[-1] if released else '-'}")
                elif not index.exists(name, version):
                    raise envs.NotInstallable(f"{name} {version} does not exist on the package index")
            except IndexError_:
                context.append(f"{name} index unreadable")
    requirements = (
        cell.requirements(settings.matrix.extras)
        + cell_dependencies(settings.root)
        + case_dependencies(settings.cases_dir, selected_cases(settings, cell))
        + list(fallback_pins)
    )
    lock = _compile(settings, requirements, python, context, sources)
    applied: list[dict[str, Any]] = []
    pins = envs.parse_pins(lock)
    for rule in settings.matrix.rules:
        if rule.applies(pins):
            applied.append({"when": dict(rule.when), "pins": list(rule.pins), "why": rule.why})
    if applied:
        requirements = requirements + [p for rule in applied for p in rule["pins"]]
        lock = _compile(settings, requirements, python, context, sources)
    return lock, requirements, applied, python


def _compile(settings: Settings, requirements: list[str], python: Path, context: list[str], sources: list[str]) -> str:
    lock_dir = settings.env_root.parent / "locks"
    key = envs.lock_key(python, requirements, context)
    reusable = envs.read_lock(lock_dir, key, max_age=None if settings.offline else envs.lock_ttl())
    if reusable is not None:
        sources.append(f"reused (resolved {reusable[1] / 60:.0f} min ago)")
        return reusable[0]
    try:
        lock = envs.compile_lock(requirements, python, offline=settings.offline)
        sources.append("resolved")
    except envs.NotInstallable as exc:
        if not _looks_offline(str(exc)):
            raise
        lock = _compile_unreachable(lock_dir, key, requirements, python, settings.offline, str(exc), sources)
    envs.write_lock(lock_dir, key, lock)
    return lock


def _compile_unreachable(
    lock_dir: Path, key: str, requirements: list[str], python: Path, offline: bool, error: str, sources: list[str]
) -> str:
    """The index is out of reach: what uv has cached may still resolve, else the last lock for these inputs.

    uv keys its cache by index URL, so a changed or unreachable index often leaves only our own lock.
    """
    cache_error = error
    if not offline:
        try:
            lock = envs.compile_lock(requirements, python, offline=True)
            sources.append("resolved from uv's cache (index unreachable)")
            return lock
        except envs.NotInstallable as exc:
            cache_error = str(exc)
    stale = envs.read_lock(lock_dir, key, max_age=None)
    if stale is None:
        raise envs.NotInstallable(
            f"the package index is out of reach and nothing was resolved for this cell before\n"
            f"index: {error[-1500:]}\nuv's cache: {cache_error[-1500:]}"
        )
    sources.append(f"last lock, resolved {stale[1] / 3600:.1f} h ago (index unreachable)")
    return stale[0]


def _looks_offline(message: str) -> bool:
    lowered = message.lower()
    return any(s in lowered for s in ("failed to fetch", "dns", "connect", "network", "timed out"))


def run_cell(settings: Settings, cell: Cell, index: PackageIndex | None) -> dict[str, Any]:
    started = time.monotonic()
    result: dict[str, Any] = {
        "schema": store.SCHEMA,
        "cell": cell.as_dict(),
        "status": "error",
        "reason": "",
        "requirements": [],
        "rules_applied": [],
        "resolved": {},
        "distributions": {},
        "python": "",
        "env": {},
        "timings": {},
        "tests": [],
        "collect_errors": [],
    }
    timings: dict[str, float] = {"resolve": 0.0, "env": 0.0, "smoke": 0.0}
    fallback: list[str] = []
    sources: list[str] = []
    result["lock_sources"] = sources
    findings: list[dict[str, Any]] = []
    result["compat_findings"] = findings
    try:
        while True:
            t0 = time.monotonic()
            lock, requirements, applied, python = resolve_cell(settings, cell, index, fallback, sources)
            timings["resolve"] += time.monotonic() - t0
            pins = envs.parse_pins(lock)
            result.update(requirements=requirements, rules_applied=applied, resolved=pins, fallback_pins=fallback)
            env = envs.ensure(settings.env_root, python, lock)
            timings["env"] += env.seconds
            result["env"] = {"key": env.path.name, "reused": env.reused}
            t0 = time.monotonic()
            smoke_ok, smoke_msg = _smoke_once(settings, env)
            timings["smoke"] += time.monotonic() - t0
            if smoke_ok:
                break
            findings.append({"versions": _key_versions(pins), "error": smoke_msg})
            step = _step_down(cell, pins)
            if step is None or len(fallback) >= MAX_FALLBACKS:
                result.update(status="incompatible", reason=smoke_msg)
                break
            fallback = [*fallback, step]
        if smoke_ok:
            t0 = time.monotonic()
            _run_tests(settings, cell, env.python, result)
            timings["tests"] = round(time.monotonic() - t0, 3)
    except envs.NotInstallable as exc:
        result.update(status="not installable", reason=str(exc))
    except envs.EnvironmentBroken as exc:
        result.update(status="error", reason=f"environment: {exc}")
    except subprocess.TimeoutExpired as exc:
        result.update(status="error", reason=f"timed out: {exc}")
    timings["total"] = time.monotonic() - started
    result["timings"] = {k: round(v, 3) for k, v in timings.items()}
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return result


MAX_FALLBACKS = 6


def _key_versions(pins: dict[str, str]) -> dict[str, str]:
    return {k: pins[k] for k in ("fastapi", "pydantic", "pydantic-core", "starlette") if k in pins}


def _step_down(cell: Cell, pins: dict[str, str]) -> str | None:
    """When the resolver's own choice of Pydantic breaks FastAPI, the next older Pydantic minor.

    Only for a Pydantic the cell left to the resolver ("any"): an explicitly requested
    combination that breaks stays "incompatible". The failed combination is kept as a finding.
    """
    if dict(cell.requested).get("pydantic") != ANY or "pydantic" not in pins:
        return None
    release = Version(pins["pydantic"]).release
    if len(release) < 2 or release[0] < 2 or release[:2] == (2, 0):
        return None
    return f"pydantic<{release[0]}.{release[1]}"


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(HARNESS_SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


SMOKE_SOURCE = Path(__file__).with_name("smoke.py")


def _smoke_once(settings: Settings, env: envs.Environment) -> tuple[bool, str]:
    """The smoke check's answer for this environment; computed once per environment and smoke code.

    An environment is immutable once complete, so its answer cannot change; asking again would
    cost an interpreter start and the FastAPI import on every run (and on every Pydantic step down).
    """
    digest = hashlib.sha256(SMOKE_SOURCE.read_bytes()).hexdigest()[:12]
    memo = env.path / f".smoke-{digest}.json"
    try:
        saved = json.loads(memo.read_text(encoding="utf-8"))
        return bool(saved["ok"]), str(saved["message"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    ok, message = _smoke(settings, env.python)
    # A crash or timeout (or an interrupt) may be an accident of this run: ask again next time.
    if not PROCESSES.stopping and (ok or not message.startswith("smoke check")):
        write_json(memo, {"ok": ok, "message": message})
    return ok, message


def _smoke(settings: Settings, python: Path) -> tuple[bool, str]:
    code, out, timed_out, _ = PROCESSES.run(
        [str(python), "-m", "known_issues.smoke"], timeout=120, cwd=settings.root, env=_child_env()
    )
    if timed_out:
        return False, "smoke check timed out after 120s"
    try:
        data = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return False, f"smoke check crashed (exit {code}):\n{out[-3000:]}"
    if data.get("ok"):
        return True, ""
    return False, f"{data['error']}\n{data.get('traceback', '')}"


def _run_tests(settings: Settings, cell: Cell, python: Path, result: dict[str, Any]) -> None:
    cases = selected_cases(settings, cell)
    result["cases_run"] = cases  # a re-run with --cases covers only these
    if not cases:
        result.update(status="ran", reason="no case selected for this cell")
        return
    log = settings.out / "logs" / f"{store.cell_file(settings.out, cell.id).stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ki-cell-") as tmp:
        results_path = Path(tmp) / "tests.json"
        cmd = [
            str(python),
            "-m",
            "pytest",
            *[f"cases/{c}" for c in cases],
            "-p",
            "known_issues.plugin",
            "--ki-results",
            str(results_path),
            "--ki-timeout",
            str(settings.matrix.test_timeout),
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            "-q",
            "-rfE",
            "--color=no",
            "--basetemp",
            str(Path(tmp) / "pytest"),
        ]
        code, out, timed_out, strays = PROCESSES.run(
            cmd, timeout=settings.matrix.cell_timeout, cwd=settings.root, env=_child_env()
        )
        log.write_text(" ".join(cmd) + "\n\n" + out, encoding="utf-8")
        # A case must stop every server it starts; what it left behind was killed and is reported.
        result["stray_processes"] = strays
        if PROCESSES.stopping:
            raise KeyboardInterrupt
        if timed_out:
            result.update(
                status="error", reason=f"the cell ran longer than {settings.matrix.cell_timeout:g}s and was stopped"
            )
            return
        if not results_path.exists():
            result.update(status="error", reason=f"pytest exited {code} without results:\n{out[-3000:]}")
            return
        data = PytestRun.from_dict(json.loads(results_path.read_text(encoding="utf-8")), str(results_path))
    result.update(
        python=data.python,
        distributions=data.distributions,
        tests=[t.to_dict() for t in data.tests],
        collect_errors=[e.to_dict() for e in data.collect_errors],
        pytest_exitstatus=data.pytest_exitstatus,
    )
    if code in (0, 1):
        result["status"] = "ran"
    else:
        result.update(status="error", reason=f"pytest exited {code}:\n{out[-3000:]}")


# --------------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    results: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False


def run_cells(
    settings: Settings, cells: Sequence[Cell], index: PackageIndex | None, resume: bool = False
) -> RunSummary:
    summary = RunSummary()
    todo = []
    for cell in cells:
        previous = store.read_cell(settings.out, cell.id) if resume else None
        if previous is not None and previous.get("status") in ("ran", "not installable", "incompatible"):
            summary.results.append(previous)
            _print(f"[resume] {cell.id}: kept ({previous['status']})")
        else:
            todo.append(cell)
    total = len(todo)
    done = 0
    _print(f"running {total} cell(s) with {settings.jobs} job(s); results in {settings.out}/cells/")
    previous_handler = _install_sigterm()
    pool = ThreadPoolExecutor(max_workers=max(1, settings.jobs), thread_name_prefix="cell")
    futures: dict[Future[dict[str, Any]], Cell] = {}
    try:
        pending_cells = list(todo)
        while pending_cells or futures:
            while pending_cells and len(futures) < max(1, settings.jobs):
                cell = pending_cells.pop(0)
                futures[pool.submit(run_cell, settings, cell, index)] = cell
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED, timeout=1.0)
            for fut in finished:
                cell = futures.pop(fut)
                result = fut.result()
                store.write_cell(settings.out, result)
                summary.results.append(result)
                done += 1
                _print(f"[{done:>3}/{total}] {describe(result)}")
    except KeyboardInterrupt:
        summary.interrupted = True
        _print("interrupted: stopping running cells; finished cells are kept")
        PROCESSES.stop_all()
        for fut in futures:
            fut.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous_handler)
        PROCESSES.stopping = False
    return summary


def _install_sigterm() -> Any:
    def _to_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, _to_interrupt)
    return signal.getsignal(signal.SIGTERM)


def describe(result: dict[str, Any]) -> str:
    t = result.get("timings", {})
    head = f"{result['cell']['id']}: {result['status']}"
    if result["status"] != "ran":
        return f"{head} ({t.get('total', 0):.1f}s): {_first_line(result['reason'])}"
    counts = Counter(test["verdict"] for test in result["tests"])
    counts.update("error" for _ in result["collect_errors"])
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    env = "reused" if result.get("env", {}).get("reused") else "new"
    return (
        f"{head} in {t.get('total', 0):.1f}s (env {env} {t.get('env', 0):.1f}s, "
        f"tests {t.get('tests', 0):.1f}s): {verdicts or 'no tests'}"
    )


def _first_line(text: str) -> str:
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    if not lines:
        return ""
    # uv's resolver explains itself at the end; the last line is the most telling.
    return lines[-1][:200] if len(lines) > 1 and "No solution" in text else lines[0][:200]


_print_lock = threading.Lock()


def _print(message: str) -> None:
    with _print_lock:
        print(message, flush=True)


def status_counts(results: Iterable[dict[str, Any]]) -> Counter[str]:
    return Counter(r["status"] for r in results)


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
