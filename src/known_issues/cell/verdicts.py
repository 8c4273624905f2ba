"""The outcome model, defined once: roles, outcomes, verdicts, failure reasons and their subsets.

A test's role and its outcome decide its verdict (``TABLE``). Every module that needs a verdict,
a set of verdicts or the kind of a change between two verdicts takes it from here.

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


class CellStatus(_Text):
    RAN = "ran"
    NOT_INSTALLABLE = "not installable"
    INCOMPATIBLE = "incompatible"
    ERROR = "error"


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

# The verdict every test of a cell gets when the cell did not run its tests.
CELL_VERDICT: dict[CellStatus, Verdict] = {
    CellStatus.NOT_INSTALLABLE: Verdict.NOT_INSTALLABLE,
    CellStatus.INCOMPATIBLE: Verdict.INCOMPATIBLE,
    CellStatus.ERROR: Verdict.ERROR,
}

# -- named subsets ------------------------------------------------------------------------------
# The test passed: the documented behaviour (bug, workaround or pattern) was observed as described.
PASSING: frozenset[Verdict] = frozenset({Verdict.REPRODUCES, Verdict.HOLDS, Verdict.WORKS})
# Something was observed about the behaviour itself (a claim can be checked against these).
OBSERVED: frozenset[Verdict] = PASSING | {Verdict.FIXED, Verdict.BROKEN}
# Verdicts that say nothing about a claim in that cell.
SILENT_FOR_CLAIMS: frozenset[Verdict] = frozenset(Verdict) - OBSERVED
# Verdicts a claim of "holds"/"works" expects.
CLAIMED_TO_WORK: frozenset[Verdict] = frozenset({Verdict.HOLDS, Verdict.WORKS})
# A release with one of these cannot place a flip: bisect steps over it.
UNUSABLE_FOR_BISECT: frozenset[Verdict] = frozenset(
    {Verdict.NOT_INSTALLABLE, Verdict.INCOMPATIBLE, Verdict.NA, Verdict.NOT_RUN, Verdict.FLAKY}
)
# Verdicts whose message is worth showing (a failure, a crash, an error), not a pass or a skip.
WITH_FAILURE_MESSAGE: frozenset[Verdict] = frozenset({Verdict.FIXED, Verdict.BROKEN, Verdict.ERROR, Verdict.FLAKY})
# Verdicts that come from the whole cell, not from the test.
FROM_CELL: frozenset[Verdict] = frozenset(CELL_VERDICT.values()) | {Verdict.NOT_RUN}
# A verdict change into or out of one of these is not the behaviour changing.
NO_CHANGE_SIGNAL: frozenset[Verdict] = frozenset({Verdict.NOT_RUN, Verdict.FLAKY})
# What a re-run must confirm before a change is reported: the behaviour itself changed.
CONFIRMABLE: frozenset[Verdict] = OBSERVED | {Verdict.ERROR}


def verdict(role: Role | str, outcome: Outcome | str) -> Verdict:
    """Map a role and an outcome to the verdict the report shows."""
    try:
        return TABLE[Role(role)][Outcome(outcome)]
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown role/outcome: {role!r}/{outcome!r}") from exc


# -- changes between two verdicts of one test -------------------------------------------------
class Change(_Text):
    NEW_TEST = "new test"
    GONE = "gone"
    NEW_ERROR = "new error"
    BUG_FIXED = "bug fixed"
    BUG_BACK = "bug back"
    WORKAROUND_BROKEN = "workaround broken"
    PATTERN_BROKEN = "pattern broken"
    FLAKY = "flaky"
    CHANGED = "changed"


# Changes a maintainer must see: they make `latest` exit non-zero.
ATTENTION: frozenset[Change] = frozenset(
    {Change.BUG_FIXED, Change.BUG_BACK, Change.WORKAROUND_BROKEN, Change.PATTERN_BROKEN, Change.NEW_ERROR}
)


def change_kind(role: Role | str, old: Verdict, new: Verdict) -> Change | None:
    """How a test's verdict changed between two observations; None when it did not."""
    if old == new:
        return None
    # A test that did not run on one side (new case, new cell, case not selected) is not a change
    # of behaviour: it must not read as a bug coming back or a new error.
    if old == Verdict.NOT_RUN:
        return Change.NEW_TEST
    if new == Verdict.NOT_RUN:
        return Change.GONE
    # A flip that did not repeat is reported as such, never as fixed or broken.
    if Verdict.FLAKY in (old, new):
        return Change.FLAKY
    if new == Verdict.ERROR:
        return Change.NEW_ERROR
    role = Role(role)
    if role == Role.BUG and old == Verdict.REPRODUCES and new == Verdict.FIXED:
        return Change.BUG_FIXED
    if role == Role.BUG and new == Verdict.REPRODUCES:
        return Change.BUG_BACK
    if new == Verdict.BROKEN:
        return Change.WORKAROUND_BROKEN if role == Role.WORKAROUND else Change.PATTERN_BROKEN
    return Change.CHANGED
