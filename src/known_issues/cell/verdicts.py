"""The outcome model, defined once: roles, outcomes, verdicts and failure reasons.

A test's role and its outcome decide its verdict (``TABLE``). What only the host needs (the status of
a whole cell, the named subsets of verdicts, the kinds of change between two verdicts) is in
``known_issues.outcomes``: this module holds only what runs inside every cell, so that editing how a
run is judged does not invalidate every stored result.

Kept free of any third-party import and runnable on Python 3.9: the pytest plugin that runs
inside every cell uses it.
"""

from __future__ import annotations

from enum import Enum


class _Text(str, Enum):
    """A string enum whose str() and format() are its value on every Python (no StrEnum in 3.9)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Role(_Text):
    BUG = "bug"
    WORKAROUND = "workaround"
    PATTERN = "pattern"


class Outcome(_Text):
    """What happened to one test, before its role gives it a meaning."""

    PASSED = "passed"
    FAILED = "failed"  # an assertion about the named behaviour did not hold
    CRASHED = "crashed"  # the code under test raised (its import, a route declaration, a request)
    ERROR = "error"  # the suite could not observe: a fault of the harness or test, a timeout...
    SKIPPED = "skipped"  # the feature under test does not exist in the installed versions


class Verdict(_Text):
    REPRODUCES = "reproduces"
    FIXED = "fixed"
    HOLDS = "holds"
    WORKS = "works"
    BROKEN = "broken"
    ERROR = "error"
    NA = "n/a"
    FLAKY = "flaky"  # a flip that did not repeat when re-run: never counted as fixed or broken
    NOT_INSTALLABLE = "not installable"
    INCOMPATIBLE = "incompatible"
    NOT_RUN = "not run"  # the cell does not run this case (group selection, new case)


class Reason(_Text):
    """Why a test's verdict is ``error``: what kept the suite from observing the behaviour."""

    TIMEOUT = "timeout"
    COLLECTION = "collection"
    ENVIRONMENT = "environment"
    HARNESS = "harness"  # the test, a fixture of ours or the harness raised
    PRECONDITION = "precondition"  # a setup step asserted something that did not hold
    PORT = "port clash"
    TOOL = "missing tool"
    CRASH = "unexpected crash"  # a bug test's code raised something other than the documented crash
    UNEXPECTED = "unexpected outcome"  # a bug test saw neither the documented outcome nor the fixed one


# A crash must never read as "fixed": in a bug test it is an error (the documented behaviour
# could not be observed); in a workaround or pattern the documented code itself is broken.
TABLE: dict[Role, dict[Outcome, Verdict]] = {
    Role.BUG: {
        Outcome.PASSED: Verdict.REPRODUCES,
        Outcome.FAILED: Verdict.FIXED,
        Outcome.CRASHED: Verdict.ERROR,
        Outcome.ERROR: Verdict.ERROR,
        Outcome.SKIPPED: Verdict.NA,
    },
    Role.WORKAROUND: {
        Outcome.PASSED: Verdict.HOLDS,
        Outcome.FAILED: Verdict.BROKEN,
        Outcome.CRASHED: Verdict.BROKEN,
        Outcome.ERROR: Verdict.ERROR,
        Outcome.SKIPPED: Verdict.NA,
    },
    Role.PATTERN: {
        Outcome.PASSED: Verdict.WORKS,
        Outcome.FAILED: Verdict.BROKEN,
        Outcome.CRASHED: Verdict.BROKEN,
        Outcome.ERROR: Verdict.ERROR,
        Outcome.SKIPPED: Verdict.NA,
    },
}


def verdict(role: Role | str, outcome: Outcome | str) -> Verdict:
    """Map a role and an outcome to the verdict the report shows."""
    try:
        return TABLE[Role(role)][Outcome(outcome)]
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown role/outcome: {role!r}/{outcome!r}") from exc
