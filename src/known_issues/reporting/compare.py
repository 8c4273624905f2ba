"""Is it safe to go from release A to release B of a package? The verdicts that differ between them, by
case, read from each test's history along the package's version line (so any two releases can be
compared, tested or not: between two narrowed changes a verdict is known), with the exact release of
every change between them.

For each test the line is the one along the package that observed it at most releases (the headline
line first): a server case is read along the releases its group runs, the others along every minor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from known_issues.cell.verdicts import Role, Verdict
from known_issues.errors import UsageError
from known_issues.outcomes import Change, change_kind
from known_issues.reporting.diff import markdown_cell
from known_issues.reporting.history import Boundary, History
from known_issues.reporting.model import Model
from known_issues.results import CellResult, version_key


@dataclass
class Difference:
    case: str
    test: str
    role: Role
    old: Verdict | None  # None: not known at that release (untested there, or a change not narrowed)
    new: Verdict | None
    kind: Change | None
    line: str
    changes: list[Boundary] = field(default_factory=list)  # the changes between the two releases, in order


@dataclass
class Comparison:
    package: str
    low: str
    high: str
    differences: list[Difference]
    unknown: list[Difference]  # tests whose verdict at one of the two releases is not known
    same: int  # tests with the same verdict at both

    def by_case(self) -> dict[str, list[Difference]]:
        out: dict[str, list[Difference]] = {}
        for d in self.differences:
            out.setdefault(d.case, []).append(d)
        return out


def _line_for(model: Model, found: Sequence[History], newest: CellResult | None) -> History | None:
    """``newest``: ``model.newest()``, asked once by the caller (it orders every cell)."""
    headline = [
        h for h in found if newest is not None and any(c.id == newest.id for p in h.line.points for c in p.cells)
    ]
    ranked = sorted(found, key=lambda h: (h not in headline, -len(h.line.points)))
    return ranked[0] if ranked else None


def compare(model: Model, package: str, low: str, high: str) -> Comparison:
    if version_key(low) > version_key(high):
        low, high = high, low
    along = [h for h in model.history.values() if h.package == package]
    if not along:
        packages = sorted({h.package for h in model.history.values()})
        raise UsageError(f"no version line along {package!r} in this run (lines along: {', '.join(packages)})")
    differences, unknown, same = [], [], 0
    newest = model.newest()
    for key in sorted({h.key for h in along}):
        history = _line_for(model, [h for h in along if h.key == key], newest)
        if history is None:
            continue
        row = model.rows[key]
        old, new = history.at(low), history.at(high)
        between = [
            b for b in history.boundaries
            if version_key(low) < version_key(b.first_after) <= version_key(high)
        ]  # fmt: skip
        kind = change_kind(row.role, old, new) if old is not None and new is not None else None
        found = Difference(key[0], key[1], row.role, old, new, kind, history.line.key.describe(), between)
        if old is None or new is None:
            if old != new or between:
                unknown.append(found)
        elif old != new:
            differences.append(found)
        else:
            same += 1
    return Comparison(package, low, high, differences, unknown, same)


def to_markdown(c: Comparison, model: Model) -> str:
    cases = c.by_case()
    lines = [
        f"# {c.package} {c.low} \u2192 {c.high}",
        "",
        f"{len(c.differences)} test verdict(s) differ in {len(cases)} case(s); {c.same} the same"
        + (f"; {len(c.unknown)} not known at one of the two releases" if c.unknown else "")
        + ".",
    ]
    for slug, found in cases.items():
        title = model.cases[slug].title if slug in model.cases else slug
        lines += ["", f"## {markdown_cell(title)} (`{slug}`)", ""]
        lines += [f"| test | role | {c.low} | {c.high} | kind | changed at |", "|---|---|---|---|---|---|"]
        for d in found:
            at = "; ".join(b.since_text() for b in d.changes) or "-"
            lines.append(
                "| " + " | ".join(markdown_cell(x) for x in (d.test, d.role, d.old, d.new, d.kind or "", at)) + " |"
            )
    if c.unknown:
        lines += ["", "## Not known at one of the two releases", ""]
        for d in c.unknown:
            lines.append(
                f"- `{d.case}::{d.test}`: {d.old or 'unknown'} at {c.low}, {d.new or 'unknown'} at {c.high} ({d.line})"
            )
    return "\n".join(lines) + "\n"


def to_json(c: Comparison) -> str:
    def one(d: Difference) -> dict[str, Any]:
        return {
            "case": d.case,
            "test": d.test,
            "role": str(d.role),
            "from": None if d.old is None else str(d.old),
            "to": None if d.new is None else str(d.new),
            "kind": None if d.kind is None else str(d.kind),
            "line": d.line,
            "changes": [_change(b) for b in d.changes],
        }

    return json.dumps(
        {
            "package": c.package,
            "from": c.low,
            "to": c.high,
            "same": c.same,
            "differences": [one(d) for d in c.differences],
            "unknown": [one(d) for d in c.unknown],
        },
        indent=2,
    )


def _change(b: Boundary) -> dict[str, Any]:
    return {
        "release": b.first_after,
        "last_before": b.last_before,
        "before": str(b.before),
        "after": str(b.after),
        "exact": b.exact,
    }


def page_data(model: Model) -> dict[str, Any]:
    """What the page's "compare two releases" form reads: per package, the releases observed, and per test
    the intervals of its history along the line ``compare`` would use."""
    out: dict[str, Any] = {}
    newest = model.newest()
    for package in sorted({h.package for h in model.history.values()}):
        along = [h for h in model.history.values() if h.package == package]
        tests = {}
        releases: set[str] = set()
        for key in sorted({h.key for h in along}):
            history = _line_for(model, [h for h in along if h.key == key], newest)
            if history is None:
                continue
            tests[f"{key[0]}::{key[1]}"] = [[str(i.verdict), i.first, i.last] for i in history.intervals]
            releases |= {p.version for p in history.line.points}
        out[package] = {"releases": sorted(releases, key=version_key), "tests": tests}
    return out
