"""Verdicts that changed between two results files, as Markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from known_issues.analysis import NOT_RUN, grid

# Changes a maintainer must see: they make `latest` exit non-zero.
ATTENTION = {"bug fixed", "bug back", "workaround broken", "pattern broken", "new error"}


@dataclass(frozen=True)
class Change:
    cell: str
    case: str
    test: str
    role: str
    old: str
    new: str

    @property
    def kind(self) -> str:
        # A test that did not run on one side (new case, new cell, case not selected) is not a change
        # of behaviour: it must not read as a bug coming back or a new error.
        if self.old == NOT_RUN:
            return "new test"
        if self.new == NOT_RUN:
            return "gone"
        if self.new == "error" and self.old != "error":
            return "new error"
        if self.role == "bug" and self.old == "reproduces" and self.new == "fixed":
            return "bug fixed"
        if self.role == "bug" and self.new == "reproduces" and self.old != "reproduces":
            return "bug back"
        if self.new == "broken" and self.old != "broken":
            return f"{self.role} broken"
        return "changed"


def diff_runs(old: Mapping[str, Any], new: Mapping[str, Any], pair: tuple[str, str] | None = None) -> list[Change]:
    """Changes per (cell, case, test). With ``pair`` (old cell id, new cell id) compare those two."""
    old_rows, new_rows = grid(old), grid(new)
    if pair is not None:
        cell_pairs = [pair]
    else:
        new_ids = [c["cell"]["id"] for c in new["cells"]]
        old_ids = {c["cell"]["id"] for c in old["cells"]}
        cell_pairs = [(i, i) for i in new_ids if i in old_ids]
    changes = []
    for key in sorted(set(old_rows) | set(new_rows)):
        o, n = old_rows.get(key), new_rows.get(key)
        for old_id, new_id in cell_pairs:
            ov = o.verdicts.get(old_id, NOT_RUN) if o else NOT_RUN
            nv = n.verdicts.get(new_id, NOT_RUN) if n else NOT_RUN
            if ov != nv:
                role = (n or o).role  # type: ignore[union-attr]
                changes.append(Change(new_id, key[0], key[1], role, ov, nv))
    return changes


def to_json(changes: list[Change]) -> str:
    return json.dumps([asdict(c) | {"kind": c.kind} for c in changes], indent=2)


def to_markdown(changes: list[Change], title: str = "Verdict changes") -> str:
    if not changes:
        return f"## {title}\n\nNo verdict changed.\n"
    lines = [f"## {title}", "", f"{len(changes)} verdict(s) changed.", ""]
    lines += ["| kind | case | test | cell | before | now |", "|---|---|---|---|---|---|"]
    for c in sorted(changes, key=lambda c: (c.kind not in ATTENTION, c.kind, c.case, c.test, c.cell)):
        lines.append(f"| {_md(c.kind)} | {_md(c.case)} | {_md(c.test)} | {_md(c.cell)} | {_md(c.old)} | {_md(c.new)} |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def needs_attention(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.kind in ATTENTION]
