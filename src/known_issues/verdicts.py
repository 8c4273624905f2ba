"""The outcome model: a test's role and its pytest outcome decide its verdict.

Kept free of any third-party import: the pytest plugin that runs inside every cell uses it.
"""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["bug", "workaround", "pattern"]
Outcome = Literal["passed", "failed", "error", "skipped"]

ROLES: Final[tuple[Role, ...]] = ("bug", "workaround", "pattern")
OUTCOMES: Final[tuple[Outcome, ...]] = ("passed", "failed", "error", "skipped")

# "failed" means an assertion about the documented behaviour did not hold; "error" means the
# test crashed some other way. A crash must never read as "fixed", so the two stay apart.
_TABLE: Final[dict[Role, dict[Outcome, str]]] = {
    "bug": {"passed": "reproduces", "failed": "fixed", "error": "error", "skipped": "n/a"},
    "workaround": {"passed": "holds", "failed": "broken", "error": "error", "skipped": "n/a"},
    "pattern": {"passed": "works", "failed": "broken", "error": "error", "skipped": "n/a"},
}

# Verdicts of a whole cell that never ran its tests.
CELL_VERDICTS: Final[tuple[str, ...]] = ("not installable", "incompatible", "error")

ALL_VERDICTS: Final[tuple[str, ...]] = (
    "reproduces",
    "fixed",
    "holds",
    "works",
    "broken",
    "error",
    "n/a",
    "not installable",
    "incompatible",
)


def verdict(role: Role, outcome: Outcome) -> str:
    """Map a role and an outcome to the verdict the report shows."""
    try:
        return _TABLE[role][outcome]
    except KeyError as exc:
        raise ValueError(f"unknown role/outcome: {role!r}/{outcome!r}") from exc
