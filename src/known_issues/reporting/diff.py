"""Verdicts that changed between two results files, as Markdown and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass

from known_issues.cell.serial import dump
from known_issues.cell.verdicts import Role, Verdict
from known_issues.outcomes import ATTENTION, Change, change_kind
from known_issues.reporting.analysis import grid
from known_issues.results import RunResult


@dataclass(frozen=True)
class VerdictChange:
    cell: str
    case: str
    test: str
    role: Role
    old: Verdict
    new: Verdict
    kind: Change

    @property
    def needs_attention(self) -> bool:
        return self.kind in ATTENTION


def diff_runs(old: RunResult, new: RunResult, pair: tuple[str, str] | None = None) -> list[VerdictChange]:
    """Changes per (cell, case, test). With ``pair`` (old cell id, new cell id) compare those two."""
    old_rows, new_rows = grid(old.cells), grid(new.cells)
    if pair is not None:
        cell_pairs = [pair]
    else:
        old_ids = {c.id for c in old.cells}
        cell_pairs = [(c.id, c.id) for c in new.cells if c.id in old_ids]
    changes = []
    for key in sorted(set(old_rows) | set(new_rows)):
        o, n = old_rows.get(key), new_rows.get(key)
        row = n or o
        assert row is not None
        for old_id, new_id in cell_pairs:
            ov = o.verdict(old_id) if o else Verdict.NOT_RUN
            nv = n.verdict(new_id) if n else Verdict.NOT_RUN
            kind = change_kind(row.role, ov, nv)
            if kind is not None:
                changes.append(VerdictChange(new_id, key[0], key[1], row.role, ov, nv, kind))
    return changes


def needs_attention(changes: list[VerdictChange]) -> list[VerdictChange]:
    return [c for c in changes if c.needs_attention]


def to_json(changes: list[VerdictChange]) -> str:
    return json.dumps(dump(changes), indent=2)


def to_markdown(changes: list[VerdictChange], title: str = "Verdict changes") -> str:
    if not changes:
        return f"## {title}\n\nNo verdict changed.\n"
    lines = [f"## {title}", "", f"{len(changes)} verdict(s) changed.", ""]
    lines += ["| kind | case | test | cell | before | now |", "|---|---|---|---|---|---|"]
    for c in sorted(changes, key=lambda c: (not c.needs_attention, str(c.kind), c.case, c.test, c.cell)):
        lines.append("| " + " | ".join(markdown_cell(x) for x in (c.kind, c.case, c.test, c.cell, c.old, c.new)) + " |")
    return "\n".join(lines) + "\n"


def markdown_cell(text: object) -> str:
    """Text for one Markdown table cell: on one line, its pipes escaped, no HTML."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")
