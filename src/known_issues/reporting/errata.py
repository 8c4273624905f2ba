"""The guide's errata (``report/errata.md``): every claim of the guide that its case's test contradicts
on the newest release tested or on the versions the guide names, with the guide's section and words,
what was observed where, the test's own evidence, and a correction drawn from the results.

Nothing here is written per claim: the words are the ``quote`` of each ``[[claim.expect]]``, the rest
comes from the claim checks, the flips along each group and the case's other tests.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement

from known_issues import PROJECT, results
from known_issues.cell.verdicts import Role, Verdict
from known_issues.guide import Guide, normalise
from known_issues.reporting.analysis import ClaimCheck, TestRow
from known_issues.reporting.history import Boundary
from known_issues.reporting.markdown import cell, code, fenced, quote, text
from known_issues.reporting.model import Model, row_anchor, versions_text
from known_issues.results import CellResult, version_key

NEWEST = "the newest release tested"
EVIDENCE_LINES, EVIDENCE_CHARS = 10, 900
MAX_FLIPS = 3  # a verdict that goes back and forth more often than that is told in the report
MAX_WORKAROUNDS = 3
# An observed verdict that leaves the reader of the guide with code that does not do what it says.
_NEEDS_ANOTHER_WAY = frozenset({Verdict.REPRODUCES, Verdict.BROKEN, Verdict.ERROR})


@dataclass(frozen=True)
class Sighting:
    """One contradiction: the claim's test in one cell, the verdict there and what the test said."""

    cell: CellResult
    where: str  # NEWEST, or the name of a group of the guide's versions
    test: str  # the row's test name (a parametrized test's name carries its parameters)
    observed: Verdict
    evidence: str


@dataclass
class Erratum:
    case: str
    title: str
    section: str
    quote: str
    test: str
    role: Role
    expected: Verdict
    claimed_where: tuple[str, ...]
    sightings: list[Sighting]
    suggestions: list[str] = field(default_factory=list)
    position: int | None = None  # where the quote is in the guide's text, when the guide is at hand


@dataclass
class Errata:
    entries: list[Erratum]
    newest: CellResult | None
    guide_groups: tuple[str, ...]
    in_guide_order: bool


def collect(model: Model, guide_groups: Sequence[str] = (), guide: Guide | None = None) -> Errata:
    newest = model.newest()
    scope = {newest.id: NEWEST} if newest is not None else {}
    for c in model.cells:
        if c.cell.group in guide_groups and c.ran:
            scope.setdefault(c.id, c.cell.group)
    cells = {c.id: c for c in model.cells}
    entries = []
    for slug, checks in model.checks.items():
        case = model.cases[slug]
        for chk in checks:
            sightings = _sightings(model, slug, chk, scope, cells)
            if not sightings:
                continue
            entries.append(
                Erratum(
                    case=slug,
                    title=case.title,
                    section=case.claim_section,
                    quote=chk.quote,
                    test=chk.test,
                    role=model.rows[(slug, sightings[0].test)].role,
                    expected=chk.expected,
                    claimed_where=chk.where,
                    sightings=sightings,
                    suggestions=suggestions(model, slug, chk, sightings),
                    position=_position(guide, chk.quote),
                )
            )
    in_order = guide is not None
    entries.sort(key=lambda e: (*_guide_key(e, in_order), _natural(e.section), e.case, e.test, e.quote))
    return Errata(
        entries, newest, tuple(g for g in guide_groups if any(c.cell.group == g for c in model.cells)), in_order
    )


def _sightings(
    model: Model, slug: str, chk: ClaimCheck, scope: dict[str, str], cells: dict[str, CellResult]
) -> list[Sighting]:
    out = []
    for label, observed in chk.differ:
        cell_id, _, parameter = label.partition(" ")
        if cell_id not in scope:
            continue
        test = chk.test + parameter
        row = model.rows[(slug, test)]
        out.append(Sighting(cells[cell_id], scope[cell_id], test, observed, evidence(row, cell_id)))
    # The newest release first, then the guide's versions in matrix order.
    order = list(scope)
    return sorted(out, key=lambda s: (order.index(s.cell.id), s.test))


def evidence(row: TestRow, cell_id: str) -> str:
    """What the test said in that cell (its assertion, the status and body, or the exception), trimmed."""
    message = row.message(cell_id).strip()
    if not message:
        return f"(the test passed: the behaviour it asserts was observed, so the verdict is {row.verdict(cell_id)})"
    lines = message.splitlines()
    kept = "\n".join(lines[:EVIDENCE_LINES])
    if len(kept) > EVIDENCE_CHARS:
        kept = kept[:EVIDENCE_CHARS].rstrip()
    return kept + ("\n…" if kept != message else "")


# --------------------------------------------------------------------------------------------
# corrections, from the results only


def suggestions(model: Model, slug: str, chk: ClaimCheck, sightings: Sequence[Sighting]) -> list[str]:
    out: list[str] = []
    groups = results.by_group(model.cells)
    newest = model.newest()
    # The headline line has every release along its first axis: the finest place to see a change.
    headline = model.history_at((slug, chk.test), newest) if newest is not None else None
    candidates = [headline.line.key.describe()] if headline is not None else []
    candidates += [h.line.key.describe() for s in sightings for h in model.histories_of((slug, s.test))]
    candidates = list(dict.fromkeys(candidates))
    group_candidates = [newest.cell.group] if newest is not None else []
    group_candidates += [s.cell.cell.group for s in sightings if s.cell.cell.group not in group_candidates]
    for observed in dict.fromkeys(s.observed for s in sightings):
        tests = dict.fromkeys(s.test for s in sightings if s.observed == observed)
        for test in tests:
            seen = [s.cell for s in sightings if s.test == test and s.observed == observed]
            between = [
                b
                for h in model.histories_of((slug, test))
                for b in h.boundaries
                if {b.before, b.after} == {chk.expected, observed} and _explains(b, chk.expected, seen)
            ]
            # The first line (in that order) that shows the change tells it; the others repeat it coarser.
            line = next((g for g in candidates if any(b.line == g for b in between)), None)
            found = [_flip_sentence(b, chk, observed) for b in between if b.line == line][:MAX_FLIPS]
            out += found
            if not found:
                row = model.rows[(slug, test)]
                out.append(_constant_sentence(groups[seen[0].cell.group], row, observed))
                # Where the headline group shows what the guide says, that is worth a line too.
                if group_candidates and group_candidates[0] != seen[0].cell.group:
                    out.append(_agreeing_sentence(groups[group_candidates[0]], row, chk.expected))
        if observed in _NEEDS_ANOTHER_WAY:
            out += _workarounds(model, slug, chk.test, [s for s in sightings if s.observed == observed])
    return [s for s in dict.fromkeys(out) if s]


def _explains(flip: Boundary, expected: Verdict, seen: Sequence[CellResult]) -> bool:
    """The flip lies on the contradicted side of some sighting: a change into the observed verdict at or
    before it, or a change back to the claimed one after it. A flip of several packages at once cannot
    be placed on one version line, so it is told."""
    if len(flip.responsible) != 1:
        return True
    change = flip.responsible[0]
    at = version_key(change.new)
    versions = [version_key(c.version_of(change.package)) for c in seen]
    return any(v >= at for v in versions) if flip.before == expected else any(v < at for v in versions)


def _flip_sentence(flip: Boundary, chk: ClaimCheck, observed: Verdict) -> str:
    responsible = flip.responsible
    first = f"{flip.package} {flip.first_after}"
    last = f"{flip.package} {flip.last_before}"
    where = f"along {flip.line}"
    if flip.before == chk.expected:
        sentence = f"Since {first} the verdict is {observed} (last {chk.expected}: {last}, {where})"
        upper = True
    else:
        sentence = f"From {first} on the verdict is {chk.expected}, as claimed (last {observed}: {last}, {where})"
        upper = False
    if flip.exact and flip.package != "python":
        bound = f"<{flip.first_after}" if upper else f">={flip.first_after}"
        spec = flip.package + _range(chk.where, flip.package, bound, upper)
        sentence += f": state the claim's range as {code(spec)}"
    elif len(responsible) > 1:
        sentence += " (these changed together; a bisect with --package names the one)"
    return sentence + "."


def _range(where: Sequence[str], package: str, bound: str, upper: bool) -> str:
    """The claim's own condition on the package, with the observed bound in place of its other side."""
    kept = []
    for text_ in where:
        try:
            req = Requirement(text_)
        except InvalidRequirement:
            continue
        if req.name.lower() != package:
            continue
        # The new bound is an upper one: keep the claim's lower bounds (and the other way round).
        keep = (">", ">=") if upper else ("<", "<=")
        kept += [str(s) for s in req.specifier if s.operator in keep]
    return ",".join([*sorted(kept), bound])


def _constant_sentence(cells: Sequence[CellResult], row: TestRow, observed: Verdict) -> str:
    seen = [c for c in cells if c.ran and row.verdict(c.id) == observed]
    span = versions_text(seen[0]) + (f" – {versions_text(seen[-1])}" if len(seen) > 1 else "")
    group = cells[0].cell.group
    others = {row.verdict(c.id) for c in cells if c.ran} - {observed, Verdict.NOT_RUN, Verdict.NA}
    tail = "" if others else "; no version of the group shows what the guide says"
    return f"Observed {observed} on {len(seen)} version(s) of group {group} ({span}){tail}: correct the claim."


def _agreeing_sentence(cells: Sequence[CellResult], row: TestRow, expected: Verdict) -> str:
    agree = [c for c in cells if c.ran and row.verdict(c.id) == expected]
    if not agree:
        return ""
    span = versions_text(agree[0]) + (f" – {versions_text(agree[-1])}" if len(agree) > 1 else "")
    return f"Group {cells[0].cell.group} shows {expected}, as claimed, on {len(agree)} version(s) ({span})."


def _workarounds(model: Model, slug: str, claimed: str, sightings: Sequence[Sighting]) -> list[str]:
    holding = []
    rows = sorted((r for (c, t), r in model.rows.items() if c == slug), key=lambda r: r.test)
    for row in rows:
        if row.role != Role.WORKAROUND or row.test.split("[", 1)[0] == claimed:
            continue
        if all(row.verdict(s.cell.id) == Verdict.HOLDS for s in sightings):
            holding.append(row)
    on = _places(sightings)
    out = [
        f"Use instead: {text(row.note or row.test)} ({code(f'{slug}::{row.test}')} holds on {on})."
        for row in holding[:MAX_WORKAROUNDS]
    ]
    if len(holding) > MAX_WORKAROUNDS:
        out.append(f"{len(holding) - MAX_WORKAROUNDS} more workaround test(s) of the case hold there too.")
    return out


# --------------------------------------------------------------------------------------------
# order


def _position(guide: Guide | None, words: str) -> int | None:
    if guide is None or not words:
        return None
    found = normalise(guide.text).find(normalise(words))
    return found if found >= 0 else None


def _guide_key(entry: Erratum, in_order: bool) -> tuple[bool, int]:
    if not in_order:
        return (False, 0)
    return (entry.position is None, entry.position or 0)


def _natural(value: str) -> list[tuple[int, int | str]]:
    """ "Issue #10" after "Issue #3"."""
    return [(0, int(p)) if p.isdigit() else (1, p.lower()) for p in re.split(r"(\d+)", value) if p]


# --------------------------------------------------------------------------------------------
# Markdown


def render(errata: Errata, model: Model, site_url: str = "") -> str:
    newest = errata.newest
    scope = f"on {NEWEST} ({versions_text(newest)})" if newest else "on the newest release tested (none ran)"
    if errata.guide_groups:
        scope += " or on the versions the guide names (group " + ", ".join(errata.guide_groups) + ")"
    lines = [
        "# Errata: claims of the guide that its own tests contradict",
        "",
        f"Generated {model.run.generated} by {PROJECT} from {model.run.matrix or 'the matrix'}. Each entry is a claim "
        f"of the guide, its section and its words, that the case's test contradicts {scope}. What was observed, "
        "the evidence and the suggested correction come from the results alone.",
        "",
    ]
    if errata.in_guide_order:
        lines.append("Entries follow the guide's order (where each quote appears in its text).")
    else:
        lines.append(
            "The guide's text was not at hand (KNOWN_ISSUES_GUIDE), so entries are ordered by the guide's "
            "section names, not by the guide's own order."
        )
    lines += ["", f"{len(errata.entries)} claim(s) contradicted.", ""]
    if not errata.entries:
        lines.append("No claim of the guide is contradicted there.")
    for number, entry in enumerate(errata.entries, 1):
        lines += _entry(number, entry, site_url)
    return "\n".join(lines).rstrip("\n") + "\n"


def _entry(number: int, e: Erratum, site_url: str) -> list[str]:
    report = f"{site_url}index.html"
    claimed = f"{e.expected}" + (
        f" where {code(', '.join(e.claimed_where))}" if e.claimed_where else " on every version"
    )
    lines = [
        f"## {number}. {text(e.section or 'no section given')}",
        "",
        quote(e.quote or "(the case gives no quote for this claim)"),
        "",
        f"- **Case**: [{text(e.title)}]({report}#case-{e.case}), test {code(f'{e.case}::{e.test}')} ({e.role})",
        f"- **The guide implies**: {claimed}",
        "- **Observed**:",
        "",
        "  | where | versions | observed | test |",
        "  |---|---|---|---|",
    ]
    rows: dict[tuple[str, str, Verdict], list[CellResult]] = {}
    for s in e.sightings:
        rows.setdefault((_place(s), s.test, s.observed), []).append(s.cell)
    for (place, test, observed), cells in rows.items():
        versions = "; ".join(dict.fromkeys(versions_text(c) for c in cells))
        anchor = f"{report}#{row_anchor(e.case, test)}"
        lines.append(f"  | {cell(place)} | {cell(versions)} | **{observed}** | [{cell(test)}]({anchor}) |")
    lines.append("")
    shown: dict[str, list[Sighting]] = {}
    for s in e.sightings:
        shown.setdefault(s.evidence, []).append(s)
    for message, seen in shown.items():
        on = _places(seen)
        test = seen[0].test if len({s.test for s in seen}) == 1 else e.test
        lines += [f"- **Evidence** of {code(test)} ({text(on)}):", "", _indent(fenced(message)), ""]
    if e.suggestions:
        lines.append("- **Suggested correction**:")
        lines += [f"  - {s}" for s in e.suggestions]
        lines.append("")
    return lines


def _place(s: Sighting) -> str:
    return NEWEST if s.where == NEWEST else f"the guide's versions ({s.where})"


def _places(sightings: Sequence[Sighting]) -> str:
    """ "the newest release tested; the guide's versions (document), 4 cells", for a list of sightings."""
    places = Counter(_place(s) for s in sightings)
    return "; ".join(p + (f", {n} cells" if n > 1 else "") for p, n in places.items())


def _indent(block: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in block.splitlines())
