"""Run one cell: resolve its lock, reuse what the result store has, build the environment only when
something must run, smoke check it, run the cases that need observing, record everything."""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.version import Version

from known_issues import run_files
from known_issues.catalog import case_dependencies
from known_issues.cell.observations import PytestRun
from known_issues.cell.timestamps import utc_now
from known_issues.cell.verdicts import Reason
from known_issues.errors import PackageIndexError
from known_issues.matrix import ANY, Cell, follows_the_newest
from known_issues.outcomes import CellStatus
from known_issues.results import AppliedRule, CellResult, CompatFinding
from known_issues.runner import bytecode
from known_issues.runner import environments as envs
from known_issues.runner import locks as locks_mod
from known_issues.runner.processes import PROCESSES
from known_issues.runner.pypi import PackageIndex
from known_issues.runner.pytest_process import child_env, run_pytest
from known_issues.runner.result_store import CaseResult, Inputs
from known_issues.runner.run_context import RunContext

MAX_FALLBACKS = 6
SMOKE_TIMEOUT = 120


@dataclass
class _Resolved:
    lock: str
    python: Path
    env_key: str
    env: envs.Environment | None = None  # made (or found) the first time something needs it
    smoke_pending: bool = False  # no smoke answer stored for this environment yet


def run_cell(ctx: RunContext, cell: Cell) -> CellResult:
    """Never raises (but for an interrupt): anything unexpected becomes this cell's error, with the
    traceback in its log, so the other cells still run."""
    started = time.monotonic()
    result = CellResult(cell)
    try:
        _run(ctx, cell, result)
    except envs.NotInstallable as exc:
        result.status, result.reason = CellStatus.NOT_INSTALLABLE, str(exc)
        # A refusal that is the same as last time leaves the cell's file as it is.
        result.inputs = hashlib.sha256(f"not installable\n{exc}".encode()).hexdigest()[:20]
        known = ctx.known.get(cell.id)
        result.unchanged = known == (result.inputs, str(CellStatus.NOT_INSTALLABLE)) and (
            run_files.cell_file(ctx.settings.out, cell.id).exists()
        )
    except envs.EnvironmentBroken as exc:
        result.status, result.error_reason, result.reason = CellStatus.ERROR, Reason.ENVIRONMENT, str(exc)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        log = ctx.log_path(cell)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            fh.write("\n[harness] unexpected exception while running this cell:\n" + traceback.format_exc())
        result.status, result.error_reason = CellStatus.ERROR, Reason.HARNESS
        result.reason = f"the harness failed on this cell: {type(exc).__name__}: {exc} (traceback in {log.name})"
    result.timings["total"] = round(time.monotonic() - started, 3)
    result.finished = utc_now()
    return result


def _run(ctx: RunContext, cell: Cell, result: CellResult) -> None:
    while True:
        resolved = _resolve_smoked(ctx, cell, result)
        if resolved is None:
            return
        failed = _observe(ctx, cell, result, resolved)
        if failed is None or not _incompatible(cell, result, failed):
            return


def _observe(ctx: RunContext, cell: Cell, result: CellResult, resolved: _Resolved) -> str | None:
    """Observe what the store does not have, and assemble the cell. When the smoke check (run first
    in the same pytest process) failed, nothing else ran: its message is returned."""
    cases = [c for c in ctx.selected(cell) if c not in result.cases_not_installable]
    inputs = Inputs(resolved.env_key, ctx.harness, ctx.settings.matrix.test_timeout)
    if _unchanged(ctx, cell, result, resolved, inputs, cases):
        return None
    fresh: list[str] = []
    stored: dict[str, CaseResult] = {}
    for case in cases:
        found = None if ctx.settings.forces_rerun(cell.group, case) else ctx.store.get(inputs.key(ctx.digests[case]))
        if found is None:
            fresh.append(case)
        else:
            stored[case] = found
    if fresh and ctx.dry:
        raise NeedsRun
    if not fresh and resolved.smoke_pending:
        # Nothing to run, yet no answer for this environment: the check on its own.
        ok, message = _smoke(ctx, result, resolved)
        if not ok:
            return message
    if fresh:
        env = _environment(ctx, result, resolved)
        t0 = time.monotonic()
        run = run_pytest(
            env.python,
            [f"cases/{c}" for c in fresh],
            root=ctx.settings.root,
            log=ctx.log_path(cell),
            test_timeout=ctx.settings.matrix.test_timeout,
            cell_timeout=ctx.settings.matrix.cell_timeout,
            smoke=resolved.smoke_pending,
        )
        result.timings["tests"] = round(time.monotonic() - t0, 3)
        bytecode.harvest(env.path, envs.bytecode_store(env.path))
        if run.smoke is not None:
            result.timings["smoke"] = round(result.timings.get("smoke", 0.0) + run.smoke.seconds, 3)
            if run.smoke.remembered:
                ctx.store.put_smoke(resolved.env_key, run.smoke.ok, "" if run.smoke.ok else run.smoke.message)
            if not run.smoke.ok:
                return run.smoke.message
        if run.results is not None:
            result.timings["tests_cpu"] = run.results.cpu_seconds
        # A case must stop every server it starts; what it left behind was killed and is reported.
        result.stray_processes = run.strays
        if run.results is None:
            result.status, result.error_reason, result.reason = CellStatus.ERROR, run.failure_reason, run.failure
            return None
        for case, case_result in split_by_case(run.results, fresh).items():
            ctx.store.put(inputs.key(ctx.digests[case]), case_result)
            stored[case] = case_result
    else:
        result.env_reused = True  # nothing had to run: the environment was not even needed
    everything = set(cases) | set(_kept(ctx, cell, result, inputs, cases, stored))
    _assemble(result, [c for c in ctx.in_group(cell) if c in everything], stored, set(fresh))
    return None


def _unchanged(
    ctx: RunContext, cell: Cell, result: CellResult, resolved: _Resolved, inputs: Inputs, cases: list[str]
) -> bool:
    """Did this cell's file come from exactly these inputs (the lock, the smoke answer, each of the group's
    cases stored for this environment)? Then it is left as it is: nothing is read, run or written."""
    group = [c for c in ctx.in_group(cell) if c not in result.cases_not_installable]
    keys = {c: inputs.key(ctx.digests[c]) for c in group}
    present = [c for c in group if c in cases or ctx.store.has(keys[c])]
    parts = [resolved.env_key, *result.fallback_pins, *sorted(result.cases_not_installable)]
    parts += [f"{c}={keys[c]}" for c in present]
    result.inputs = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
    known = ctx.known.get(cell.id)
    if (
        ctx.dry
        or known != (result.inputs, str(CellStatus.RAN))
        or resolved.smoke_pending
        or any(ctx.settings.forces_rerun(cell.group, c) for c in cases)
        or not all(ctx.store.has(keys[c]) for c in cases)
        or not run_files.cell_file(ctx.settings.out, cell.id).exists()
    ):
        return False
    result.status, result.unchanged, result.env_reused = CellStatus.RAN, True, True
    result.cases_reused = present
    return True


def _kept(
    ctx: RunContext, cell: Cell, result: CellResult, inputs: Inputs, selected: list[str], stored: dict[str, CaseResult]
) -> list[str]:
    """A partial run (``--cases``) keeps the rest of the cell: the group's other cases that the result
    store has for this very environment are part of the cell as before, marked reused. (A case the
    store does not have here, after its environment changed, has no verdict in this cell until a
    run observes it.)"""
    kept = []
    for case in ctx.in_group(cell):
        if case in selected or case in result.cases_not_installable:
            continue
        found = ctx.store.get(inputs.key(ctx.digests[case]))
        if found is not None:
            stored[case] = found
            kept.append(case)
    return kept


class NeedsRun(Exception):
    """Raised in a dry run where a real run would build an environment or run tests."""


def needs_run(ctx: RunContext, cell: Cell, previous: CellResult | None) -> bool:
    """Would running this cell observe anything new? Everything it would reuse is in the result
    store, keyed by the lock it resolves to now; a cell that still cannot be installed is settled."""
    dry = replace(ctx, dry=True)
    result = CellResult(cell)
    try:
        _run(dry, cell, result)
    except NeedsRun:
        return True
    except envs.NotInstallable:
        return previous is None or previous.status != CellStatus.NOT_INSTALLABLE
    return previous is None or previous.status == CellStatus.ERROR


def split_by_case(run: PytestRun, cases: Sequence[str]) -> dict[str, CaseResult]:
    out = {c: CaseResult(c, run.python, dict(run.distributions)) for c in cases}
    for test in run.tests:
        if test.case in out:
            out[test.case].tests.append(test)
    for error in run.collect_errors:
        if error.case in out:
            out[error.case].collect_errors.append(error)
    return out


def _assemble(result: CellResult, cases: list[str], stored: dict[str, CaseResult], fresh: set[str]) -> None:
    result.status = CellStatus.RAN
    result.cases_run = [c for c in cases if c in fresh]
    result.cases_reused = [c for c in cases if c not in fresh]
    for case in cases:
        case_result = stored[case]
        for test in case_result.tests:
            test.reused = case not in fresh
            result.tests.append(test)
        result.collect_errors.extend(case_result.collect_errors)
        result.python = result.python or case_result.python
        result.distributions = result.distributions or case_result.distributions
    if not cases:
        result.reason = "no case selected for this cell"


# --------------------------------------------------------------------------------------------
# resolving, with the smoke check and the step down


def _resolve_smoked(ctx: RunContext, cell: Cell, result: CellResult) -> _Resolved | None:
    """The cell's lock, unless the smoke check's stored answer for its environment is a failure;
    None when it is incompatible. An environment with no answer yet is returned ``smoke_pending``:
    the check then opens the cell's pytest run.

    When the resolver's own choice of Pydantic breaks FastAPI (declared compatible, broken
    together), the next older Pydantic minor is tried, and the failed combination is recorded as a
    compatibility finding, never as verdicts.
    """
    t_resolve = 0.0
    try:
        while True:
            t0 = time.monotonic()
            resolved = _resolve(ctx, cell, result)
            t_resolve += time.monotonic() - t0
            result.env_key = resolved.env_key
            saved = ctx.store.smoke(resolved.env_key)
            if saved is None:
                if ctx.dry:
                    raise NeedsRun
                resolved.smoke_pending = True
                return resolved
            ok, message = saved
            if ok:
                return resolved
            if not _incompatible(cell, result, message):
                return None
    finally:
        result.timings["resolve"] = round(result.timings.get("resolve", 0.0) + t_resolve, 3)


def _incompatible(cell: Cell, result: CellResult, message: str) -> bool:
    """After a failed smoke check: record the compatibility finding, then pin the next older Pydantic
    and return True (resolve again), or mark the cell incompatible and return False."""
    result.compat_findings.append(CompatFinding(_key_versions(cell, result.resolved), message))
    step = _step_down(cell, result.resolved)
    if step is None or len(result.fallback_pins) >= MAX_FALLBACKS:
        result.status, result.reason = CellStatus.INCOMPATIBLE, message
        return False
    result.fallback_pins = [*result.fallback_pins, step]
    return True


def _resolve(ctx: RunContext, cell: Cell, result: CellResult) -> _Resolved:
    resolve = _Resolver.of(ctx, cell)
    fallback = list(result.fallback_pins)
    cases = [c for c in ctx.in_group(cell) if c not in result.cases_not_installable]
    more = fallback + case_dependencies(ctx.cases, cases)
    try:
        lock = resolve(more)
    except envs.NotInstallable:
        # One case's dependency must not take the cell's other cases down: find the cases whose
        # own dependencies cannot install with these versions, leave them out, and say which.
        culprits = _uninstallable_cases(ctx, cases, fallback, resolve)
        if not culprits:
            raise
        result.cases_not_installable.update(culprits)
        cases = [c for c in cases if c not in culprits]
        more = fallback + case_dependencies(ctx.cases, cases)
        lock = resolve(more)
    applied = [r for r in ctx.settings.matrix.rules if r.applies(envs.parse_pins(lock))]
    if applied:
        more = more + [p for rule in applied for p in rule.pins]
        lock = resolve(more)
    result.requirements = resolve.requirements(more)
    result.rules_applied = [AppliedRule(dict(r.when), list(r.pins), r.why) for r in applied]
    result.resolved = envs.parse_pins(lock)
    result.runtime = dict(resolve.runtime)
    result.lock_sources = resolve.sources
    result.run_pins = locks_mod.pins_for_python(resolve.preferences, _python_full(resolve.python))
    resolved = _Resolved(lock, resolve.python, envs.env_key(resolve.python, lock))
    ctx.store.put_lock(resolved.env_key, lock)
    return resolved


@dataclass
class _Resolver:
    """Resolves one cell's requirements: its axes, the cell group of test tools, and ``more`` (the
    fallback and rule pins, its cases' own dependencies), in the order every lock key was made with.

    Every cell prefers the pins of tools.lock but for its own axes. A newest cell
    (``matrix.follows_the_newest``) prefers only the test tools: its runtime requirements (all of the
    above but the cell group) are resolved first without any preference, and the packages that
    resolution contains are taken out of the preferences."""

    ctx: RunContext
    cell: Cell
    python: Path
    context: list[str]
    axes: list[str]
    tools: list[str]
    every_pin: str
    newest: bool
    preferences: str = ""  # those of the last resolution
    runtime: dict[str, str] = field(default_factory=dict)  # a newest cell's runtime packages, fresh
    sources: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, ctx: RunContext, cell: Cell) -> _Resolver:
        return cls(
            ctx=ctx,
            cell=cell,
            python=envs.find_python(cell.python),
            context=_index_context(ctx.index, cell),
            axes=cell.requirements(ctx.settings.matrix.extras),
            tools=list(ctx.cell_group),
            every_pin=locks_mod.tool_preferences(ctx.tools_lock, cell.axes),
            newest=follows_the_newest(cell, ctx.index.versions if ctx.index is not None else None),
        )

    def requirements(self, more: list[str]) -> list[str]:
        return self.axes + self.tools + more

    def __call__(self, more: list[str]) -> str:
        self.preferences = self.every_pin
        if self.newest:
            self.runtime = envs.parse_pins(self._resolve(self.axes + more, "", "runtime packages: "))
            self.preferences = locks_mod.test_tools_only(self.every_pin, self.runtime)
        return self._resolve(self.requirements(more), self.preferences)

    def _resolve(self, requirements: list[str], preferences: str, said: str = "") -> str:
        sources: list[str] = []
        try:
            return self.ctx.locks.resolve(
                requirements, self.python, self.cell.python, self.context, preferences, sources, self.cell.axes
            )
        finally:
            self.sources += [said + line for line in sources]


def _uninstallable_cases(
    ctx: RunContext, cases: list[str], fallback: list[str], resolve: Callable[[list[str]], str]
) -> dict[str, str]:
    """The cases whose own dependencies do not resolve beside the cell's axes (none when the axes
    alone do not resolve: then the whole cell is not installable)."""
    try:
        resolve(fallback)
    except envs.NotInstallable:
        return {}
    found = {}
    for case in cases:
        deps = list(ctx.cases[case].dependencies)
        if not deps:
            continue
        try:
            resolve(fallback + deps)
        except envs.NotInstallable as exc:
            found[case] = f"not installable in this cell: its dependencies ({', '.join(deps)}) do not resolve:\n{exc}"
    return found


def _index_context(index: PackageIndex | None, cell: Cell) -> list[str]:
    """A lock reused for an "any" axis must not hide a newer release: its newest version is part of the key."""
    context: list[str] = []
    if index is None:
        return context
    direct = dict(cell.direct)
    for name, version in cell.requested:
        if name in direct:
            continue  # installed from its source, not the index
        try:
            if version == ANY:
                released = index.versions(name, cell.python)
                context.append(f"{name} newest {released[-1] if released else '-'}")
            elif not index.exists(name, version):
                raise envs.NotInstallable(f"{name} {version} does not exist on the package index")
        except PackageIndexError:
            context.append(f"{name} index unreadable")
    return context


_python_versions: dict[Path, str] = {}


def _python_full(python: Path) -> str:
    if python not in _python_versions:
        import subprocess

        out = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        _python_versions[python] = out.stdout.strip() or "3"
    return _python_versions[python]


def _key_versions(cell: Cell, pins: dict[str, str]) -> dict[str, str]:
    return {name: pins[name] for name in cell.axes if name in pins}


def _step_down(cell: Cell, pins: dict[str, str]) -> str | None:
    """The next older Pydantic minor, for a Pydantic the cell left to the resolver ("any") only:
    an explicitly requested combination that breaks stays "incompatible"."""
    if dict(cell.requested).get("pydantic") != ANY or "pydantic" not in pins:
        return None
    release = Version(pins["pydantic"]).release
    if len(release) < 2 or release[0] < 2 or release[:2] == (2, 0):
        return None
    return f"pydantic<{release[0]}.{release[1]}"


def _environment(ctx: RunContext, result: CellResult, resolved: _Resolved) -> envs.Environment:
    if resolved.env is None:
        cells, index_url = ctx.settings.env_dir("cells"), ctx.settings.index.url
        resolved.env = envs.ensure(cells, resolved.python, resolved.lock, index_url)
        result.env_key, result.env_reused = resolved.env.path.name, resolved.env.reused
        result.timings["env"] = round(result.timings.get("env", 0.0) + resolved.env.seconds, 3)
    return resolved.env


def _smoke(ctx: RunContext, result: CellResult, resolved: _Resolved) -> tuple[bool, str]:
    """The smoke check on its own, for an environment with no stored answer and no test to run."""
    env = _environment(ctx, result, resolved)
    t0 = time.monotonic()
    code, out, timed_out, _ = PROCESSES.run(
        [str(env.python), "-m", "known_issues.cell.smoke"],
        timeout=SMOKE_TIMEOUT,
        cwd=ctx.settings.root,
        env=child_env(),
    )
    result.timings["smoke"] = round(result.timings.get("smoke", 0.0) + time.monotonic() - t0, 3)
    if PROCESSES.stopping:
        raise KeyboardInterrupt
    bytecode.harvest(env.path, envs.bytecode_store(env.path))
    if timed_out:
        return False, f"smoke check timed out after {SMOKE_TIMEOUT}s"
    try:
        data = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        # A crash may be an accident of this run: not remembered, asked again next time.
        return False, f"smoke check crashed (exit {code}):\n{out[-3000:]}"
    ok, message = (True, "") if data.get("ok") else (False, f"{data['error']}\n{data.get('traceback', '')}")
    ctx.store.put_smoke(resolved.env_key, ok, message)
    return ok, message
