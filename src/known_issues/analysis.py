"""From a run's cell results to what the report and the diff show: the verdict grid, the
document's claims checked against it, and where each test's verdict flips."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

NOT_RUN = "not run"
# Verdicts that say nothing about the document's claim in that cell.
SILENT = {"n/a", NOT_RUN, "error", "not installable", "incompatible"}
CLAIMED_TO_WORK = {"holds", "works"}


@dataclass
class Case:
    slug: str
    title: str
    kind: str
    summary: str
    sources: list[dict[str, str]]
    claim: dict[str, Any]
    files: dict[str, str]

    @property
    def expectations(self) -> list[dict[str, Any]]:
        return list(self.claim.get("expect", []))


def load_cases(cases_dir: Path) -> dict[str, Case]:
    cases = {}
    for toml_path in sorted(cases_dir.glob("*/case.toml")):
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        folder = toml_path.parent
        files = {
            p.name: p.read_text(encoding="utf-8")
            for p in sorted(folder.glob("*.py"))
            if p.name != "__init__.py" and not p.name.startswith("test_")
        }
        cases[folder.name] = Case(
            slug=folder.name,
            title=str(data.get("title", folder.name)),
            kind=str(data.get("kind", "pattern")),
            summary=str(data.get("summary", "")).strip(),
            sources=list(data.get("sources", [])),
            claim=dict(data.get("claim", {})),
            files=files,
        )
    return cases


def version_key(text: str) -> tuple[int, Any]:
    try:
        return (0, Version(text))
    except (InvalidVersion, TypeError):
        return (1, str(text))


def cell_versions(cell: Mapping[str, Any]) -> dict[str, str]:
    """Resolved versions of a cell: installed distributions, else the resolver's pins."""
    versions = dict(cell.get("resolved", {}))
    versions.update(cell.get("distributions", {}))
    if cell.get("python"):
        versions["python"] = cell["python"]
    return versions


def cell_sort_key(cell: Mapping[str, Any], group_order: Mapping[str, int]) -> tuple[Any, ...]:
    v = cell_versions(cell)
    requested = cell["cell"]["requested"]
    return (
        group_order.get(cell["cell"]["group"], 99),
        version_key(v.get("fastapi", requested.get("fastapi", ""))),
        version_key(v.get("pydantic", requested.get("pydantic", ""))),
        version_key(cell["cell"]["python"]),
        cell["cell"]["id"],
    )


def ordered_cells(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    groups: dict[str, int] = {}
    for cell in run["cells"]:
        groups.setdefault(cell["cell"]["group"], len(groups))
    return sorted(run["cells"], key=lambda c: cell_sort_key(c, groups))


@dataclass
class TestRow:
    case: str
    test: str
    role: str
    note: str
    verdicts: dict[str, str] = field(default_factory=dict)  # cell id -> verdict
    messages: dict[str, str] = field(default_factory=dict)  # cell id -> failure message


def grid(run: Mapping[str, Any]) -> dict[tuple[str, str], TestRow]:
    """(case, test) -> row, with a verdict for every cell of the run."""
    rows: dict[tuple[str, str], TestRow] = {}
    for cell in run["cells"]:
        for t in cell.get("tests", []):
            key = (t["case"], t["test"])
            rows.setdefault(key, TestRow(t["case"], t["test"], t["role"], t.get("note", "")))
    for cell in run["cells"]:
        cid = cell["cell"]["id"]
        status = cell["status"]
        by_key = {(t["case"], t["test"]): t for t in cell.get("tests", [])}
        broken_cases = {e["case"]: e["message"] for e in cell.get("collect_errors", []) if e.get("case")}
        selected = set(cell["cell"].get("cases") or [])
        for key, row in rows.items():
            if selected and key[0] not in selected:
                row.verdicts[cid] = NOT_RUN  # the group does not run this case
            elif status != "ran":
                row.verdicts[cid] = status
                row.messages[cid] = cell.get("reason", "")
            elif key in by_key:
                t = by_key[key]
                row.verdicts[cid] = t["verdict"]
                if t.get("message"):
                    row.messages[cid] = t["message"]
            elif key[0] in broken_cases:
                row.verdicts[cid] = "error"
                row.messages[cid] = broken_cases[key[0]]
            else:
                # the case was not selected for this cell (group restriction) or did not exist
                row.verdicts[cid] = NOT_RUN
    return rows


# --------------------------------------------------------------------------------------------
# claims


@dataclass
class ClaimCheck:
    test: str
    expected: str
    where: list[str]
    status: str  # confirmed | contradicted | unverifiable
    agree: list[str]
    differ: list[tuple[str, str]]  # (cell id, observed)
    silent: list[tuple[str, str]]


def _matches(where: Sequence[str], versions: Mapping[str, str]) -> bool:
    for text in where:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return False
        installed = versions.get(req.name.lower().replace("_", "-"))
        if installed is None or not req.specifier.contains(installed, prereleases=True):
            return False
    return True


def check_claims(
    case: Case, rows: Mapping[tuple[str, str], TestRow], cells: Iterable[Mapping[str, Any]]
) -> list[ClaimCheck]:
    cells = list(cells)
    checks = []
    for exp in case.expectations:
        test = str(exp.get("test", ""))
        expected = str(exp.get("verdict", ""))
        where = [str(w) for w in exp.get("where", [])]
        # A parametrized test ("test_x[case-1]") answers for its function's name ("test_x").
        matching = [r for (c, name), r in rows.items() if c == case.slug and name.split("[", 1)[0] == test]
        agree: list[str] = []
        differ: list[tuple[str, str]] = []
        silent: list[tuple[str, str]] = []
        for cell in cells:
            cid = cell["cell"]["id"]
            if not _matches(where, cell_versions(cell)):
                continue
            for row in matching:
                observed = row.verdicts.get(cid, NOT_RUN)
                if observed == NOT_RUN:
                    continue
                label = cid if row.test == test else f"{cid} {row.test[len(test) :]}"
                if observed == "error" and expected in CLAIMED_TO_WORK and cell["status"] == "ran":
                    # A documented fix or pattern that crashes does not hold: that contradicts the claim.
                    differ.append((label, observed))
                elif observed in SILENT:
                    silent.append((label, observed))
                elif observed == expected:
                    agree.append(label)
                else:
                    differ.append((label, observed))
        status = "contradicted" if differ else "confirmed" if agree else "unverifiable"
        checks.append(ClaimCheck(test, expected, where, status, agree, differ, silent))
    return checks


def case_claim_status(checks: Sequence[ClaimCheck]) -> str:
    if not checks:
        return "unverifiable"
    if any(c.status == "contradicted" for c in checks):
        return "contradicted"
    if any(c.status == "confirmed" for c in checks):
        return "confirmed"
    return "unverifiable"


# --------------------------------------------------------------------------------------------
# flips


@dataclass
class Span:
    verdict: str
    first: str  # label of the first cell (e.g. "fastapi 0.100.1")
    last: str
    cells: int


def spans(row: TestRow, cells: Sequence[Mapping[str, Any]], axis: str) -> list[Span]:
    """Consecutive runs of one verdict along the given cells (already ordered by the axis)."""
    out: list[Span] = []
    for cell in cells:
        verdict = row.verdicts.get(cell["cell"]["id"], NOT_RUN)
        if verdict == NOT_RUN:
            continue
        label = cell_versions(cell).get(axis) or cell["cell"]["requested"].get(axis, "?")
        if out and out[-1].verdict == verdict:
            out[-1].last = label
            out[-1].cells += 1
        else:
            out.append(Span(verdict, label, label, 1))
    return out


def varying_axis(cells: Sequence[Mapping[str, Any]]) -> str:
    """The axis whose resolved version changes most across these cells (fastapi first)."""
    best, best_n = "fastapi", 0
    for axis in ("fastapi", "pydantic", "bcrypt", "python"):
        n = len({cell_versions(c).get(axis) for c in cells})
        if n > best_n:
            best, best_n = axis, n
    return best


def first_flips(row: TestRow, cells: Sequence[Mapping[str, Any]], axis: str) -> list[str]:
    """Human lines such as 'reproduces -> fixed at fastapi 0.114.0'."""
    lines = []
    meaningful = [s for s in spans(row, cells, axis) if s.verdict not in ("not installable",)]
    for before, after in itertools.pairwise(meaningful):
        lines.append(
            f"{before.verdict} → {after.verdict} at {axis} {after.first} (last {before.verdict}: {before.last})"
        )
    return lines
