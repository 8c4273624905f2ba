"""Status per case, for badges and dashboards: ``report/status/<case>.json`` (a shields.io endpoint
badge: its keys only, since shields refuses a file with any other key) and ``report/status.json``
(every case at the newest cell that runs it, in a person's words, with the exact release it has been so
since, and per role and test the verdict, its history along the line and where it began; its form is
``status.schema.json`` beside this module, described in README).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from known_issues.cell.atomic import write_text
from known_issues.cell.verdicts import Verdict
from known_issues.reporting.history import Boundary
from known_issues.reporting.model import ROLE_ORDER, CaseStatus, Model, State, Tracker, upstream
from known_issues.results import CellResult
from known_issues.run_files import safe

STATUS_SCHEMA = 2
SCHEMA_FILE = Path(__file__).with_name("status.schema.json")
# The verdict a role shows is the first of its tests' in this order: what needs a look first.
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
    State.REPRODUCES: "red",
    State.BROKEN: "orange",
    State.FIXED: "brightgreen",
    State.HOLDS: "blue",
    State.WORKS: "brightgreen",
    State.NOT_APPLICABLE: "lightgrey",
    State.COULD_NOT_OBSERVE: "lightgrey",
    State.NOT_RUN: "lightgrey",
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


def badge(status: CaseStatus) -> Badge:
    return Badge(status.title, status.message(), COLORS[status.state])


def since_json(b: Boundary | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {
        "package": b.package,
        "release": b.first_after,
        "last_before": b.last_before,
        "before": str(b.before),
        "exact": b.exact,
        "changed": [{"package": c.package, "old": c.old, "new": c.new} for c in b.responsible],
    }


def case_status(model: Model, slug: str) -> dict[str, Any]:
    status = model.status(slug)
    cell = status.cell
    rows = model.case_rows(slug)
    case = model.cases.get(slug)
    tracker, issue = upstream(case.sources) if case else (Tracker.NONE, None)
    roles: dict[str, Any] = {}
    for role in ROLE_ORDER:
        mine = [r for r in rows if r.role == role]
        if not mine:
            continue
        tests = {}
        for r in mine:
            history = model.history_at(r.key, cell) if cell else None
            tests[r.test] = {
                "verdict": str(r.verdict(cell.id) if cell else Verdict.NOT_RUN),
                "since": since_json(model.since(r, cell) if cell else None),
                "history": history.text() if history else None,
            }
        roles[str(role)] = {"verdict": str(headline([Verdict(t["verdict"]) for t in tests.values()])), "tests": tests}
    return {
        "title": status.title,
        "kind": model.kind_of(slug),
        "claim": str(model.claim_of(slug)),
        "upstream": {"tracker": tracker.name.lower(), "url": issue.url if issue else None},
        "cell": cell.id if cell else None,
        "versions": _versions(cell) if cell else None,
        "state": str(status.state),
        "since": since_json(status.since),
        "badge": badge(status).endpoint(),
        "badge_file": f"status/{safe(slug)}.json",
        "roles": roles,
    }


def _versions(cell: CellResult) -> dict[str, str]:
    return {a: cell.version_of(a) for a in [*cell.cell.axes, "python"]}


def reproducing_issues(model: Model) -> dict[Tracker, list[str]]:
    """The documented issues (cases) whose bug reproduces at the newest cell that runs them, by tracker."""
    found: dict[Tracker, list[str]] = {t: [] for t in Tracker}
    for slug in model.case_order():
        case = model.cases.get(slug)
        if case is None or model.status(slug).state != State.REPRODUCES:
            continue
        found[upstream(case.sources)[0]].append(slug)
    return found


def status_document(model: Model) -> dict[str, Any]:
    """report/status.json: stable keys, for dashboards; the totals are the report's summary cards."""
    newest = model.newest()
    on_newest, _ = model.on_newest()
    claims = [model.claim_of(slug) for slug in model.cases]
    issues = reproducing_issues(model)
    return {
        "schema": STATUS_SCHEMA,
        "generated": model.run.generated,
        "matrix": model.run.matrix,
        "newest": None if newest is None else {"cell": newest.id, "versions": _versions(newest)},
        "totals": {
            "cases": len(model.cases),
            "cells": len(model.cells),
            "issues_reproducing": {t.name.lower(): len(slugs) for t, slugs in issues.items()},
            "tests_reproducing_on_newest": on_newest.get(Verdict.REPRODUCES, 0),
            "broken_on_newest": on_newest.get(Verdict.BROKEN, 0),
            "suite_errors_on_newest": on_newest.get(Verdict.ERROR, 0),
            "claims_contradicted": sum(1 for c in claims if c == "contradicted"),
            "changed_since_baseline": None if model.changes is None else model.changes.count(),
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
