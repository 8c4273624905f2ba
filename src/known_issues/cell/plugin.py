"""pytest plugin loaded inside every matrix cell (``-p known_issues.cell.plugin``).

It registers the role markers, refuses case tests without exactly one role, classifies each
phase's exception (``known_issues.cell.classify``: the code under test crashed, an assertion failed,
or the suite could not observe), turns the outcome into a verdict and writes the cell's results
atomically. It must import with only the standard library and pytest: FastAPI may be missing or
broken in the cell, and the cell's Python may be as old as 3.9.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.metadata
import os
import platform
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from known_issues.cell.atomic import write_json
from known_issues.cell.casekit import take_recorded
from known_issues.cell.classify import PASSED, Classified, TestTimeout, classify, short, worst
from known_issues.cell.observations import CollectError, PytestRun, TestResult
from known_issues.cell.serial import dump
from known_issues.cell.timestamps import utc_now
from known_issues.cell.verdicts import Outcome, Reason, Role

try:
    import resource
except ImportError:  # not on Windows: CPU is then not recorded (0.0)
    resource = None  # type: ignore[assignment]

__all__ = ["TestTimeout", "case_of"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("known_issues")
    group.addoption("--ki-results", default=None, help="write the cell's results JSON here")
    group.addoption(
        "--ki-timeout",
        type=float,
        default=60.0,
        help="per-test time limit in seconds for setup, call and teardown (0: none)",
    )
    group.addoption(
        "--ki-smoke",
        default=None,
        help="run the smoke check first and write its answer here; stop before collecting when it fails",
    )
    group.addoption(
        "--ki-own-process",
        action="store_true",
        help="this process runs one cell and ends with it: keep what collection built out of the garbage "
        "collector's walks, and end the process once the results are written and the summary printed",
    )


SMOKE_LIMIT = 120.0


def pytest_sessionstart(session: pytest.Session) -> None:
    """The smoke check in this process: the imports it makes are the ones the cases make next, so
    it costs no interpreter start and no second import of the framework."""
    out = session.config.getoption("--ki-smoke")
    if not out:
        return
    from known_issues.cell.smoke import check

    started = time.monotonic()
    try:
        with _time_limit(SMOKE_LIMIT, "the smoke check"):
            answer = check()
    except TestTimeout as exc:
        answer = {"ok": False, "error": f"TestTimeout: {exc}", "traceback": ""}
    # A check that ran out of time may have met a slow moment of this machine: not an answer to keep.
    answer["timed_out"] = str(answer.get("error", "")).startswith("TestTimeout")
    answer["seconds"] = round(time.monotonic() - started, 3)
    write_json(Path(out), answer)
    if not answer["ok"]:
        pytest.exit(f"smoke check failed: {answer['error']}", returncode=pytest.ExitCode.INTERRUPTED)


def pytest_configure(config: pytest.Config) -> None:
    for role, text in (
        ("bug", "asserts the documented buggy behaviour: passed=reproduces, failed=fixed"),
        ("workaround", "asserts a documented workaround: passed=holds, failed=broken"),
        ("pattern", "asserts a documented pattern: passed=works, failed=broken"),
    ):
        config.addinivalue_line("markers", f"{role}(note=''): {text}")
    # One case that fails to import (a name missing in this version) must not stop the others.
    config.option.continue_on_collection_errors = True
    config.pluginmanager.register(_Recorder(config), "known_issues_recorder")
    if config.getoption("--ki-own-process") and hasattr(gc, "freeze"):
        # Collection only builds (every case's modules and apps): the collector's automatic passes
        # over it found little to free and cost 0.20 CPU-s of a FastAPI-minor cell's 2.8; the one
        # pass at its end (pytest_collection_finish) costs 0.08 more with nothing collected before.
        gc.disable()


def case_of(nodeid: str) -> str | None:
    """The case folder a node id belongs to (``cases/<slug>/...``), if any."""
    parts = nodeid.split("::", 1)[0].split("/")
    if "cases" in parts:
        idx = parts.index("cases")
        if idx + 2 < len(parts) or (idx + 1 < len(parts) and "." not in parts[idx + 1]):
            return parts[idx + 1]
    return None


ROLE_NAMES = tuple(r.value for r in Role)


def roles_of(item: pytest.Item) -> list[str]:
    return [m.name for m in item.iter_markers() if m.name in ROLE_NAMES]


def _role_note(item: pytest.Item, role: str) -> str:
    marker = item.get_closest_marker(role)
    if marker is None:
        return ""
    note = marker.args[0] if marker.args else marker.kwargs.get("note", "")
    return str(note)


@contextmanager
def _time_limit(seconds: float, phase: str) -> Iterator[None]:
    usable = seconds > 0 and hasattr(signal, "setitimer")
    if not usable or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(signum: int, frame: Any) -> None:
        raise TestTimeout(f"timeout: {phase} ran longer than {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def distributions() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(found.items()))


class _Recorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.out: str | None = config.getoption("--ki-results")
        self.limit: float = config.getoption("--ki-timeout")
        self.tests: dict[str, TestResult] = {}
        self.collect_errors: list[CollectError] = []
        self.refused: list[str] = []
        self.import_errors: dict[str, BaseException] = {}
        self.started = time.time()
        self.finished: pytest.Session | None = None

    # -- collection ---------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """A case test without exactly one role, or with xfail, cannot be given a verdict: it is left out
        and recorded as an error of its case; the other tests of the cell still run."""
        refused: list[pytest.Item] = []
        for item in items:
            if case_of(item.nodeid) is None:
                continue
            roles = roles_of(item)
            problem = ""
            if len(set(roles)) != 1:
                found = ", ".join(sorted(set(roles))) or "none"
                problem = f"a case test needs exactly one role marker (bug, workaround or pattern); found: {found}"
            elif item.get_closest_marker("xfail") is not None:
                problem = "xfail is not allowed in cases; use a role marker instead"
            if problem:
                refused.append(item)
                self.refused.append(f"{item.nodeid}: {problem}")
                self.collect_errors.append(
                    CollectError(item.nodeid, case_of(item.nodeid), f"{item.nodeid}: {problem}", Reason.HARNESS)
                )
        if refused:
            items[:] = [i for i in items if i not in refused]
            config.hook.pytest_deselected(items=refused)
            for line in self.refused:
                sys.stderr.write(f"known_issues: refused {line}\n")

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        # Import a case's test module first ourselves, to keep the exception: where it was raised
        # decides whether the case's documented code crashed on import or the suite could not run it.
        if isinstance(collector, pytest.Module) and case_of(collector.nodeid) is not None:
            try:
                collector.obj  # noqa: B018 - the import; pytest caches a module that imported
            except BaseException as exc:  # kept for its traceback; pytest imports again and reports it
                self.import_errors[collector.nodeid] = exc
        return (yield)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        error = CollectError(report.nodeid, case_of(report.nodeid), short(str(report.longreprtext)))
        exc = self.import_errors.get(report.nodeid)
        if exc is not None and classify(exc, "call").outcome == Outcome.CRASHED:
            # The documented code raised on import (e.g. `str | None` on an old Python): each test of
            # the case gets the verdict its role gives a crash.
            error.outcome = Outcome.CRASHED
            error.message = short(f"{classify(exc, 'call').message}\n{error.message}")
        self.collect_errors.append(error)

    # -- running ------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        before = cpu_seconds()
        try:
            return (yield)
        finally:
            entry = self.tests.get(item.nodeid)
            if entry is not None:
                entry.cpu = round(entry.cpu + cpu_seconds() - before, 4)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        take_recorded()  # nothing of an earlier test is this test's evidence
        with _time_limit(self.limit, "setup"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        with _time_limit(self.limit, "test"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        with _time_limit(self.limit, "teardown"):
            return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        case = case_of(item.nodeid)
        if case is None:
            return report
        role = roles_of(item)[0]  # validated at collection
        entry = self.tests.get(item.nodeid)
        if entry is None:
            entry = TestResult(item.nodeid, case, item.name, Role(role), note=_role_note(item, role))
            entry.observed = utc_now()
            self.tests[item.nodeid] = entry
        entry.duration = round(entry.duration + report.duration, 4)
        if report.when == "teardown":
            entry.observation = take_recorded()
        judged = _judge(report, call)
        if judged.outcome is None:
            return report
        if entry.outcome == Outcome.PASSED:
            entry.outcome, entry.reason, entry.message = judged.outcome, judged.reason, judged.message
        elif worst(entry.outcome, judged.outcome) == judged.outcome and judged.outcome != entry.outcome:
            # A later phase outranks the first (a teardown error after a failed assertion): both show.
            entry.outcome, entry.reason = judged.outcome, judged.reason
            entry.message = short(f"{entry.message}\n{judged.message}")
        entry.settle()
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # What collection built (every case's modules and apps, pytest's items) lives as long as the
        # process. Frozen, it is left out of each full collection during the tests, which walked it
        # all: 0.35-0.4 of the 0.5 CPU-s a FastAPI-minor cell's run spent in them. Its garbage is
        # collected first, so no finalizer of it is skipped.
        if self.config.getoption("--ki-own-process") and hasattr(gc, "freeze"):
            gc.collect()
            gc.freeze()
            gc.enable()  # off since pytest_configure

    # -- writing ------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for entry in self.tests.values():
            entry.settle()
        if not self.out:
            return
        run = PytestRun(
            python=platform.python_version(),
            python_implementation=platform.python_implementation(),
            platform=sys.platform,
            distributions=distributions(),
            pytest_exitstatus=int(exitstatus),
            test_seconds=round(time.time() - self.started, 3),
            tests=list(self.tests.values()),
            collect_errors=self.collect_errors,
            refused=self.refused,
            cpu_seconds=round(cpu_seconds(), 3),
        )
        write_json(Path(self.out), dump(run))
        self.finished = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # The results are written and the summary printed. What pytest and the interpreter do after
        # this (a full garbage collection to report unraisable exceptions as warnings, every module's
        # teardown, joining threads a case left running) changes no verdict, cost a cell 0.25-0.5
        # CPU-seconds, and a thread left waiting would keep the cell alive until its time limit.
        session = self.finished
        if session is None or not config.getoption("--ki-own-process"):
            return
        status = int(session.exitstatus)
        if status in QUICK_EXIT_STATUSES:
            _exit_now(status)


# A run that ended normally: its tests passed or failed, or none was selected.
QUICK_EXIT_STATUSES = (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED)


def _exit_now(status: int) -> None:
    """Exit with ``status``: exit handlers run and output flushed, nothing else."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()  # type: ignore[union-attr]
    os._exit(status)


def cpu_seconds() -> float:
    """CPU time of this process and of every child it has waited for (the servers it stopped)."""
    if resource is None:
        return 0.0
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _judge(report: pytest.TestReport, call: pytest.CallInfo[None]) -> Classified:
    """The outcome of one phase of a test (PASSED when the phase passed)."""
    if report.skipped:
        reason = ""
        longrepr = report.longrepr
        if isinstance(longrepr, tuple) and len(longrepr) == 3:
            reason = str(longrepr[2])
        return Classified(Outcome.SKIPPED, None, reason.removeprefix("Skipped: "))
    if report.passed:
        return PASSED
    if call.excinfo is None:
        return Classified(Outcome.ERROR, Reason.HARNESS, short(str(report.longreprtext)))
    return classify(call.excinfo.value, report.when or "call")
