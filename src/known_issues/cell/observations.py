"""What one pytest run inside a cell observed: typed records (JSON by ``known_issues.cell.serial``).

The plugin writes a ``PytestRun``; the runner reads it back. Standard library only and runnable
on Python 3.9, like the rest of what cells import from the harness.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from known_issues.cell.verdicts import Outcome, Reason, Role, Verdict, verdict


@dataclass
class TestResult:
    """One test's verdict in one cell."""

    __test__ = False  # not a pytest test class

    nodeid: str
    case: str
    test: str
    role: Role
    note: str = ""
    outcome: Outcome = Outcome.PASSED
    verdict: Verdict = Verdict.REPRODUCES
    reason: Reason | None = None  # set when the verdict is "error"
    message: str = ""
    # What the test recorded it observed (casekit.record): the evidence of a verdict that passed too.
    observation: str = ""
    duration: float = 0.0
    # CPU-seconds of the test process and of the processes it waited for (the servers a case starts),
    # from setup to teardown: unlike ``duration``, about the same on an idle and on a loaded machine.
    cpu: float = 0.0
    observed: str = ""  # when the verdict was observed (UTC, ISO 8601)
    reused: bool = False  # served from the result store, not run in this invocation
    # Every verdict observed when a flip was re-run to confirm it (the first is the original).
    observations: list[Verdict] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.case, self.test)

    def settle(self) -> None:
        """Derive the verdict from role and outcome (the table is the only place that decides)."""
        self.verdict = verdict(self.role, self.outcome)
        if self.verdict != Verdict.ERROR:
            self.reason = None
        elif self.reason is None:
            # A bug test whose code crashed: the documented behaviour could not be observed.
            self.reason = Reason.CRASH if self.outcome == Outcome.CRASHED else Reason.HARNESS


@dataclass
class CollectError:
    """A test module that could not be collected (every test of that case is unobservable), or one
    test refused for its markers (only that test)."""

    nodeid: str
    case: str | None
    message: str
    reason: Reason = Reason.COLLECTION
    # CRASHED when importing the module raised in the code under test: then each test of the case
    # gets what its role gives a crash (broken; an error for a bug test), not an error of the suite.
    outcome: Outcome = Outcome.ERROR


PYTEST_RUN_SCHEMA = 2


@dataclass
class PytestRun:
    """Everything the plugin records about one pytest run inside a cell."""

    python: str
    python_implementation: str
    platform: str
    distributions: dict[str, str]
    pytest_exitstatus: int
    test_seconds: float
    tests: list[TestResult] = field(default_factory=list)
    collect_errors: list[CollectError] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the whole run's, start-up and collection included (as TestResult.cpu)
    schema: int = PYTEST_RUN_SCHEMA
