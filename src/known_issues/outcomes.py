"""The host's side of the outcome model: the status of a whole cell, the named subsets of verdicts
that the runner, the report and the diff agree on, and the kinds of change between two verdicts of one
test. The verdicts themselves (roles, outcomes, ``TABLE``) are the cell kernel's ``cell.verdicts``,
defined once there because every cell judges its tests with them."""

from __future__ import annotations

from known_issues.cell.verdicts import Role, Verdict, _Text

__all__ = [
    "ATTENTION",
    "CELL_VERDICT",
    "CLAIMED_TO_WORK",
    "CONFIRMABLE",
    "FROM_CELL",
    "NO_CHANGE_SIGNAL",
    "OBSERVED",
    "PASSING",
    "SILENT_FOR_CLAIMS",
    "UNUSABLE_FOR_BISECT",
    "WITH_FAILURE_MESSAGE",
    "CellStatus",
    "Change",
    "change_kind",
]


class CellStatus(_Text):
    RAN = "ran"
    NOT_INSTALLABLE = "not installable"
    INCOMPATIBLE = "incompatible"
    ERROR = "error"


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
