"""Status per case, for badges and dashboards: ``report/status/<case>.json`` (a shields.io endpoint
badge: its keys only, since shields refuses a file with any other key) and ``report/status.json``
(every case, per role and test, the verdict on the newest cell that runs it and where that verdict
began; its form is ``status.schema.json`` beside this module, described in README).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from known_issues import results
from known_issues.cell.atomic import write_text
from known_issues.cell.verdicts import Role, Verdict
from known_issues.reporting.analysis import Flip, TestRow
from known_issues.reporting.model import ROLE_ORDER, Model
from known_issues.results import CellResult
from known_issues.run_files import safe

STATUS_SCHEMA = 1
SCHEMA_FILE = Path(__file__).with_name("status.schema.json")
# The verdict a case (or a role) shows is the first of its tests' in this order: what needs a look first.
PRIORITY = [
    Verdict.REPRODUCES,
    Verdict.BROKEN,
    Verdict.ERROR,
    Verdict.FLAKY,
    Verdict.INCOMPATIBLE,
    Verdict.NOT_INSTALLABLE,
    Verdict.FIXED,
    Verdict.HOLDS,
    Verdict.WORKS,
    Verdict.NA,
    Verdict.NOT_RUN,
]
# shields.io's named colours.
COLORS = {
    Verdict.REPRODUCES: "red",
    Verdict.BROKEN: "orange",
    Verdict.ERROR: "lightgrey",
    Verdict.FLAKY: "yellow",
    Verdict.INCOMPATIBLE: "yellow",
    Verdict.NOT_INSTALLABLE: "lightgrey",
    Verdict.FIXED: "brightgreen",
    Verdict.HOLDS: "blue",
    Verdict.WORKS: "brightgreen",
    Verdict.NA: "lightgrey",
    Verdict.NOT_RUN: "lightgrey",
}


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str

    def endpoint(self) -> dict[str, Any]:
        """The shields.io endpoint form (https://shields.io/badges/endpoint-badge)."""
        return {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}


def headline(verdicts: list[Verdict]) -> Verdict:
    return min(verdicts, key=PRIORITY.index) if verdicts else Verdict.NOT_RUN


def newest_for(model: Model, slug: str) -> CellResult | None:
    """The cell a case's status is read from: the run's newest cell when it runs the case, else the
    newest cell of the first group that does (a case only some groups name, like a project setup)."""
    rows = _rows(model, slug)
    newest = model.newest()
    if newest is not None and any(r.verdict(newest.id) != Verdict.NOT_RUN for r in rows):
        return newest
    for group_cells in results.by_group(model.cells).values():
        ran = [c for c in group_cells if c.ran and any(r.verdict(c.id) != Verdict.NOT_RUN for r in rows)]
        if ran:
            return ran[-1]
    return newest


def since(model: Model, row: TestRow, cell: CellResult) -> Flip | None:
    """The flip into the row's verdict in ``cell``, along that cell's group (the headline group has every
    release of its first axis): where the verdict it has now began. None when it never changed there."""
    now = row.verdict(cell.id)
    flips = [f for f in model.flips.get(row.key, []) if f.group == cell.cell.group]
    return flips[-1] if flips and flips[-1].after == now else None


def _since_json(flip: Flip | None) -> dict[str, Any] | None:
    if flip is None:
        return None
    cell = flip.first_after
    return {
        "cell": cell.id,
        "versions": {a: cell.version_of(a) for a in flip.axes},
        "before": str(flip.before),
        "changed": [{"package": c.package, "old": c.old, "new": c.new} for c in flip.responsible],
    }


def _since_text(flip: Flip) -> str:
    return ", ".join(f"{a} {flip.first_after.version_of(a)}" for a in flip.axes) or flip.first_after.id


def badge(model: Model, slug: str) -> Badge:
    cell = newest_for(model, slug)
    rows = _rows(model, slug)
    if cell is None:
        return Badge(slug, "no results", COLORS[Verdict.NOT_RUN])
    verdict = headline([r.verdict(cell.id) for r in rows])
    axis = cell.cell.axes[0]
    on = f"{axis} {cell.version_of(axis)}"
    if verdict == Verdict.FIXED:
        fixed = [r for r in rows if r.role == Role.BUG and r.verdict(cell.id) == Verdict.FIXED]
        # The latest change tells since when every documented bug of the case is gone.
        known = [f for r in fixed if (f := since(model, r, cell)) is not None]
        group = [c.id for c in results.by_group(model.cells)[cell.cell.group]]
        last = max(known, key=lambda f: group.index(f.first_after.id), default=None)
        message = f"fixed since {_since_text(last)}" if last else f"fixed (on {on})"
    elif verdict in (Verdict.HOLDS, Verdict.WORKS):
        message = str(verdict)
    elif verdict == Verdict.ERROR:
        message = f"could not observe on {on}"
    elif verdict == Verdict.NOT_RUN:
        message = "not run"
    else:
        message = f"{verdict} on {on}"
    return Badge(slug, message, COLORS[verdict])


def _rows(model: Model, slug: str) -> list[TestRow]:
    return sorted((r for (c, _), r in model.rows.items() if c == slug), key=lambda r: r.test)


def case_status(model: Model, slug: str) -> dict[str, Any]:
    cell = newest_for(model, slug)
    rows = _rows(model, slug)
    case = model.cases.get(slug)
    roles: dict[str, Any] = {}
    for role in ROLE_ORDER:
        mine = [r for r in rows if r.role == role]
        if not mine:
            continue
        now = {r.test: r.verdict(cell.id) if cell else Verdict.NOT_RUN for r in mine}
        tests = {
            r.test: {"verdict": str(now[r.test]), "since": _since_json(since(model, r, cell) if cell else None)}
            for r in mine
        }
        roles[str(role)] = {"verdict": str(headline(list(now.values()))), "tests": tests}
    return {
        "title": case.title if case else slug,
        "kind": model.kind_of(slug),
        "claim": model.claim_of(slug),
        "cell": cell.id if cell else None,
        "versions": _versions(cell) if cell else None,
        "verdict": str(headline([r.verdict(cell.id) for r in rows]) if cell else Verdict.NOT_RUN),
        "badge": badge(model, slug).endpoint(),
        "badge_file": f"status/{safe(slug)}.json",
        "roles": roles,
    }


def _versions(cell: CellResult) -> dict[str, str]:
    return {a: cell.version_of(a) for a in [*cell.cell.axes, "python"]}


def status_document(model: Model) -> dict[str, Any]:
    """report/status.json: stable keys, for dashboards; the totals are the report's summary cards."""
    newest = model.newest()
    on_newest, _ = model.on_newest()
    claims = Counter(model.claim_of(slug) for slug in model.cases)
    return {
        "schema": STATUS_SCHEMA,
        "generated": model.run.generated,
        "matrix": model.run.matrix,
        "newest": None if newest is None else {"cell": newest.id, "versions": _versions(newest)},
        "totals": {
            "cases": len(model.cases),
            "cells": len(model.cells),
            "bugs_reproducing_on_newest": on_newest[Verdict.REPRODUCES],
            "broken_on_newest": on_newest[Verdict.BROKEN],
            "suite_errors_on_newest": on_newest[Verdict.ERROR],
            "claims_contradicted": claims["contradicted"],
            "changed_since_baseline": None if model.changes is None else len(model.changes),
        },
        "cases": {slug: case_status(model, slug) for slug in model.case_order()},
    }


def write_status(model: Model, out: Path) -> dict[str, Any]:
    document = status_document(model)
    folder = out / "status"
    wanted = set()
    for case in document["cases"].values():
        path = out / case["badge_file"]
        wanted.add(path.name)
        write_text(path, json.dumps(case["badge"], indent=2, sort_keys=True) + "\n")
    # A case that is gone leaves no stale badge behind.
    for old in folder.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
    write_text(out / "status.json", json.dumps(document, indent=2, sort_keys=True) + "\n")
    return document
