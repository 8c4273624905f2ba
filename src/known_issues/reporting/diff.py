"""What changed between two results files, per release (``releases.py``), as Markdown (for a CI summary
or an issue body) and JSON."""

from __future__ import annotations

import json
from typing import Any

from known_issues.reporting.releases import Changes, ReleaseChange, release_changes
from known_issues.results import RunResult

MAX_EVIDENCE = 3


def diff_runs(old: RunResult, new: RunResult, pairs: dict[str, str] | None = None) -> Changes:
    return release_changes(old, new, pairs)


def needs_attention(changes: Changes) -> list[ReleaseChange]:
    """A bug fixed or back, a workaround or pattern broken, a new error: what makes `latest` exit 1."""
    return [c for _, c in changes.all() if c.needs_attention]


def to_json(changes: Changes) -> str:
    def change(c: ReleaseChange) -> dict[str, Any]:
        return {
            "case": c.case,
            "test": c.test,
            "role": str(c.role),
            "old": str(c.old),
            "new": str(c.new),
            "kind": str(c.kind),
            "needs_attention": c.needs_attention,
            "cells": [{"cell": e.cell, "compared": e.compared, "how": e.how} for e in c.evidence],
        }

    document = {
        "releases": [
            {
                "package": r.package,
                "version": r.version,
                "previous": r.previous,
                "changes": [change(c) for c in r.changes],
            }
            for r in changes.releases
        ],
        "no_release": [change(c) for _, c in changes.unexplained],
    }
    return json.dumps(document, indent=2)


def to_markdown(changes: Changes, title: str = "What changed") -> str:
    lines = [f"## {title}", ""]
    changed = [r for r in changes.releases if r.changes]
    quiet = [r for r in changes.releases if not r.changes]
    if not changed and not changes.unexplained:
        lines.append("No verdict changed.")
    for r in changed:
        since = f" (compared with {r.package} {r.previous})" if r.previous else ""
        lines += ["", f"### {r.name}{since}", ""]
        lines += _table(r.changes)
    if changes.unexplained:
        lines += ["", "### No release moved (the case's files or the harness changed)", ""]
        lines += _table([c for _, c in changes.unexplained])
    if quiet:
        lines += ["", "New releases that changed no verdict: " + ", ".join(r.name for r in quiet) + "."]
    return "\n".join(lines) + "\n"


def _table(found: list[ReleaseChange]) -> list[str]:
    rows = ["| kind | case | test | before | now | cells |", "|---|---|---|---|---|---|"]
    for c in sorted(found, key=lambda c: (not c.needs_attention, str(c.kind), c.case, c.test)):
        cells = ", ".join(e.cell for e in c.evidence[:MAX_EVIDENCE])
        cells += f" and {len(c.evidence) - MAX_EVIDENCE} more" if len(c.evidence) > MAX_EVIDENCE else ""
        rows.append("| " + " | ".join(markdown_cell(x) for x in (c.kind, c.case, c.test, c.old, c.new, cells)) + " |")
    return rows


def markdown_cell(text: object) -> str:
    """Text for one Markdown table cell: on one line, its pipes escaped, no HTML."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")
