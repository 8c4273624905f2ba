"""What one pytest run inside a cell observed: typed records with their JSON form.

The plugin writes a ``PytestRun``; the runner reads it back. Standard library only and runnable
on Python 3.9, like the rest of what cells import from the harness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from known_issues.verdicts import Outcome, Reason, Role, Verdict, verdict


class SchemaError(ValueError):
    """A results file written by another version of the harness, or not a results file at all."""


def check_schema(data: Any, expected: int, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SchemaError(f"{what}: expected a JSON object, got {type(data).__name__}")
    found = data.get("schema")
    if found != expected:
        raise SchemaError(
            f"{what}: written with results schema {found!r}, this harness reads schema {expected}; "
            "run the cells again to get results in the current schema"
        )
    return data


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
    duration: float = 0.0
    observed: str = ""  # when the verdict was observed (UTC, ISO 8601)
    reused: bool = False  # served from the result store, not run in this invocation
    # Every verdict observed when a flip was re-run to confirm it (the first is the original).
    observations: list[Verdict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.role = Role(self.role)
        self.outcome = Outcome(self.outcome)
        self.verdict = Verdict(self.verdict)
        self.reason = Reason(self.reason) if self.reason else None
        self.observations = [Verdict(v) for v in self.observations]

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "case": self.case,
            "test": self.test,
            "role": self.role.value,
            "note": self.note,
            "outcome": self.outcome.value,
            "verdict": self.verdict.value,
            "reason": self.reason.value if self.reason else None,
            "message": self.message,
            "duration": self.duration,
            "observed": self.observed,
            "reused": self.reused,
            "observations": [v.value for v in self.observations],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        return cls(
            nodeid=data["nodeid"],
            case=data["case"],
            test=data["test"],
            role=data["role"],
            note=data.get("note", ""),
            outcome=data["outcome"],
            verdict=data["verdict"],
            reason=data.get("reason"),
            message=data.get("message", ""),
            duration=float(data.get("duration", 0.0)),
            observed=data.get("observed", ""),
            reused=bool(data.get("reused", False)),
            observations=list(data.get("observations", [])),
        )


@dataclass
class CollectError:
    """A test module that could not be collected: every test of that case is unobservable."""

    nodeid: str
    case: str | None
    message: str
    reason: Reason = Reason.COLLECTION

    def to_dict(self) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "case": self.case, "message": self.message, "reason": self.reason.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollectError:
        return cls(data["nodeid"], data.get("case"), data.get("message", ""), Reason(data.get("reason", "collection")))


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PYTEST_RUN_SCHEMA,
            "python": self.python,
            "python_implementation": self.python_implementation,
            "platform": self.platform,
            "distributions": dict(self.distributions),
            "pytest_exitstatus": self.pytest_exitstatus,
            "test_seconds": self.test_seconds,
            "tests": [t.to_dict() for t in self.tests],
            "collect_errors": [e.to_dict() for e in self.collect_errors],
            "refused": list(self.refused),
        }

    @classmethod
    def from_dict(cls, data: Any, what: str = "pytest results") -> PytestRun:
        data = check_schema(data, PYTEST_RUN_SCHEMA, what)
        return cls(
            python=data["python"],
            python_implementation=data["python_implementation"],
            platform=data["platform"],
            distributions=dict(data["distributions"]),
            pytest_exitstatus=int(data["pytest_exitstatus"]),
            test_seconds=float(data["test_seconds"]),
            tests=[TestResult.from_dict(t) for t in data["tests"]],
            collect_errors=[CollectError.from_dict(e) for e in data["collect_errors"]],
            refused=list(data.get("refused", [])),
        )
