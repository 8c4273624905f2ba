"""The guide's errata (``report/errata.md``), written to be merged by the guide's author: one entry per
cause, each quoting the line that is wrong, in two sections that say different things:

- **wrong at the guide's versions**: the claim is contradicted on the versions the guide names (the
  groups with ``guide = true``: its FastAPI, Pydantic, Python range, project and Dockerfile);
- **true then, changed since release R**: the guide's versions confirm it, a later release (the exact
  one, from the narrowed history) changed it.

Claims that fail because of one shared cause (the same exception from the same place, outside the
line they quote, e.g. a setup step that registers a user with passlib on bcrypt 5) make one entry that
names the cause and the release that brings it, and lists the claims it takes down. A rule the guide
states rightly but breaks in its own example quotes the example's line. A test that could not observe
(an error) makes no erratum: it is listed apart as "could not check". Nothing is written per claim:
the words are the case's ``quote`` (and ``example``), the rest comes from the results.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from known_issues import PROJECT
from known_issues.cell.verdicts import Role, Verdict
from known_issues.guide import Guide, normalise
from known_issues.reporting.analysis import ClaimCheck, ClaimStatus, TestRow
from known_issues.reporting.history import Boundary
from known_issues.reporting.markdown import code, quote, text
from known_issues.reporting.model import Model, row_anchor, versions_text
from known_issues.results import CellResult, version_key

NEWEST = "the newest release tested"
EVIDENCE_CHARS = 300
MAX_VERSIONS = 6
# An exception that is not an assertion about the behaviour: a candidate for a shared cause.
_ASSERTION = re.compile(r"^(AssertionError|Failed)\b")
# The suite's report of an exception raised in another process (a server, a project build).
_WRAPPED = re.compile(r"^(?:[\w.]+\.)?CodeRaised: (.*)$")
_SUITE_WRAPPER = re.compile(r"(?<=^\[setup\] )(?:[\w.]+\.)?CodeRaised: |^(?:[\w.]+\.)?CodeRaised: ")
_EXCEPTION = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Exit|Interrupt)(?:: .*)?$")
_RAISED_IN = re.compile(r"\s*\(raised in [^)]*\)$")
_PLACE = re.compile(r"\(raised in ([^)]*)\)$")


class Section(Enum):
    WRONG = "Wrong at the guide's versions"
    CHANGED = "True at the guide's versions, changed since a later release"


@dataclass(frozen=True)
class Sighting:
    """One contradiction: the claim's test in one cell, the verdict there and what the test said."""

    cell: CellResult
    where: str  # NEWEST, or the name of a group of the guide's versions
    test: str  # the row's test name (a parametrized test's name carries its parameters)
    observed: Verdict
    evidence: str  # the first line of the failure, or what the test recorded it observed


@dataclass
class Claim:
    """A claim of the guide that its test contradicts, with where and how."""

    case: str
    title: str
    section: str
    quote: str
    example: str  # the guide's example line that breaks the rule the quote states ("" when none)
    test: str
    role: Role
    expected: Verdict
    claimed_where: tuple[str, ...]
    sightings: list[Sighting]
    agreed_at_guide: bool  # the guide's versions show what it says
    workarounds: tuple[str, ...] = ()
    position: int | None = None  # where the quote is in the guide's text, when the guide is at hand
    heading: str = ""  # the guide's chapter and section of the quote, when the guide is at hand
    example_heading: str = ""  # and of the example

    @property
    def wrong_line(self) -> str:
        return self.example or self.quote


@dataclass
class Entry:
    section: Section
    claims: list[Claim]
    cause: str = ""  # the shared cause, for an entry of several claims
    changed: Boundary | None = None  # the release that changed it (or that brings the cause)
    suggestions: list[str] = field(default_factory=list)
    takes_down: list[Claim] = field(default_factory=list)  # claims of other lines that fail of this line's cause
    also: list[Claim] = field(default_factory=list)  # claims of other lines whose tests saw the same thing
    later: list[tuple[Claim, Boundary]] = field(default_factory=list)  # claims of the line that change after `changed`

    @property
    def position(self) -> tuple[bool, int]:
        found = [c.position for c in self.claims if c.position is not None]
        return (not found, min(found, default=0))


@dataclass
class Unchecked:
    case: str
    quote: str
    test: str
    errors: Counter[str]  # reason -> cells


@dataclass
class Errata:
    entries: list[Entry]
    unchecked: list[Unchecked]
    newest: CellResult | None
    guide_groups: tuple[str, ...]
    in_guide_order: bool

    def section(self, section: Section) -> list[Entry]:
        return [e for e in self.entries if e.section == section]


# --------------------------------------------------------------------------------------------
# collecting


def collect(model: Model, guide_groups: Sequence[str] = (), guide: Guide | None = None) -> Errata:
    newest = model.newest()
    scope = {newest.id: NEWEST} if newest is not None else {}
    for c in model.cells:
        if c.cell.group in guide_groups and c.ran:
            scope.setdefault(c.id, c.cell.group)
    guide_cells = {cid for cid, where in scope.items() if where != NEWEST}
    cells = {c.id: c for c in model.cells}
    claims: list[Claim] = []
    unchecked: list[Unchecked] = []
    for slug, checks in model.checks.items():
        case = model.cases[slug]
        for chk in checks:
            sightings = _sightings(model, slug, chk, scope, cells)
            if not sightings:
                errors = _errors(model, slug, chk, scope)
                if errors and chk.status != ClaimStatus.CONFIRMED:
                    unchecked.append(Unchecked(slug, chk.quote, chk.test, errors))
                continue
            expectation = next((e for e in case.expectations if e.test == chk.test and e.quote == chk.quote), None)
            claims.append(
                Claim(
                    case=slug,
                    title=case.title,
                    section=case.claim_section,
                    quote=chk.quote,
                    example=expectation.example if expectation is not None else "",
                    test=chk.test,
                    role=model.rows[(slug, sightings[0].test)].role,
                    expected=chk.expected,
                    claimed_where=chk.where,
                    sightings=sightings,
                    agreed_at_guide=any(label.split(" ", 1)[0] in guide_cells for label in chk.agree),
                    workarounds=chk.workarounds,
                    position=_position(guide, chk.quote),
                    heading=guide.heading_of(chk.quote) if guide is not None else "",
                    example_heading=guide.heading_of(expectation.example)
                    if guide is not None and expectation is not None and expectation.example
                    else "",
                )
            )
    entries = _entries(model, claims)
    for entry in entries:
        entry.suggestions = suggestions(model, entry)
    entries.sort(key=lambda e: (e.section != Section.WRONG, *_order(e, guide is not None)))
    return Errata(
        entries,
        unchecked,
        newest,
        tuple(g for g in guide_groups if any(c.cell.group == g for c in model.cells)),
        guide is not None,
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
    order = list(scope)  # the newest release first, then the guide's versions in matrix order
    return sorted(out, key=lambda s: (order.index(s.cell.id), s.test))


def _errors(model: Model, slug: str, chk: ClaimCheck, scope: dict[str, str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for label, observed in chk.silent:
        cell_id, _, parameter = label.partition(" ")
        if cell_id in scope and observed == Verdict.ERROR:
            seen = model.rows[(slug, chk.test + parameter)].seen(cell_id)
            found[str(seen.reason or "harness")] += 1
    return found


def evidence(row: TestRow, cell_id: str) -> str:
    """What the test said in that cell: its failure's first line, else what it recorded it observed."""
    seen = row.seen(cell_id)
    message = seen.message.strip() or seen.observation.strip()
    first = message.splitlines()[0] if message else f"(nothing recorded; the verdict is {seen.verdict})"
    return first if len(first) <= EVIDENCE_CHARS else first[: EVIDENCE_CHARS - 1] + "…"


@dataclass(frozen=True)
class Cause:
    """An exception an evidence line names, rather than an assertion about the behaviour."""

    key: str  # the exception and its message: the same cause wherever it was raised
    text: str  # as shown: the exception, its message and where it was raised
    direct: bool  # raised by the code the test runs, in its call (not in a setup step, not in a server)


def signature(evidence_line: str) -> Cause | None:
    """The cause an evidence line names, when it is an exception rather than an assertion about the
    behaviour (or any failure of a setup step): "[setup] ValueError: ... (raised in service.py:10)".
    An exception another process reported (``CodeRaised: the app did not start: TypeError: ...``) is
    the inner exception: the one that a test of the guide's code in this process would raise."""
    line = evidence_line.strip()
    phase = re.match(r"^\[(setup|teardown)\]\s*", line)
    body = line[phase.end() :] if phase else line
    if not phase and _ASSERTION.match(body):
        return None
    wrapped = _WRAPPED.match(body)
    if wrapped:
        inner = _EXCEPTION.search(wrapped.group(1))
        body = inner.group(0) if inner else wrapped.group(1)
    if not body:
        return None
    key = _RAISED_IN.sub("", body).strip()
    return Cause(key, body, direct=not phase and not wrapped)


def _entries(model: Model, claims: list[Claim]) -> list[Entry]:
    """One entry per cause: claims of different lines failing with one shared exception are one entry;
    the claims of one line (several tests judging the same words) are one entry too. When no release
    of a package brings the exception, and the claims of one line of such a group raise it themselves
    (the guide's ``X | None`` on Python 3.9 under "Python 3.9+") while the others meet it only in a
    setup step or a server, that line is what is wrong: its entry lists the others as what it takes
    down."""
    causes = {id(c): cause for c in claims if (cause := signature(c.sightings[0].evidence)) is not None}
    by_cause: dict[str, list[Claim]] = {}
    for claim in claims:
        if id(claim) in causes:
            by_cause.setdefault(causes[id(claim)].key, []).append(claim)
    shared = [found for found in by_cause.values() if len({_words(c.wrong_line) for c in found}) > 1]
    taken = {id(c) for found in shared for c in found}
    by_line: dict[str, list[Claim]] = {}
    for claim in claims:
        by_line.setdefault(_words(claim.wrong_line), []).append(claim)
    entries = []
    rooted: dict[str, list[Claim]] = {}  # a line -> the claims its cause takes down
    for found in shared:
        brought = _brought_by(model, found)
        lines = dict.fromkeys(_words(c.wrong_line) for c in found)
        roots = [w for w in lines if all(causes[id(c)].direct for c in found if _words(c.wrong_line) == w)]
        # A release that brings the exception (bcrypt 5.0.0 under passlib) is the cause, whatever line
        # meets it first; without one, a line whose own code raises it is what is wrong.
        if brought is None and len(roots) == 1:
            rooted.setdefault(roots[0], []).extend(c for c in found if _words(c.wrong_line) != roots[0])
            continue
        texts = dict.fromkeys(causes[id(c)].text for c in found)
        entries.append(Entry(_section(found), found, " / ".join(texts), brought))
    for words, found in by_line.items():
        own = [c for c in found if id(c) not in taken or words in rooted]
        if not own:
            continue
        down = rooted.get(words, [])
        section = _section([*own, *down])
        changed = [(c, b) for c in own if (b := _changed_at(model, c)) is not None]
        first = min((b for _, b in changed), key=lambda b: version_key(b.first_after), default=None)
        # A test of the same line that changes later still shows what the line says until then.
        later = [
            (c, b)
            for c, b in changed
            if first is not None and version_key(b.first_after) > version_key(first.first_after)
        ]
        entries.append(Entry(section, own, "", first, takes_down=down, later=later))
    return _same_observation(entries)


def _same_observation(entries: list[Entry]) -> list[Entry]:
    """Lines whose tests saw exactly the same thing (a refusal the guide's code meets whether a value is
    sent as None or left out) are one entry: the first line's, with the others as also contradicted."""
    kept: list[Entry] = []
    first_of: dict[tuple[Section, str], Entry] = {}
    for entry in entries:
        seen = entry.claims[0].sightings[0].evidence
        into = None if entry.cause else first_of.get((entry.section, seen))
        if into is None:
            kept.append(entry)
            if not entry.cause:
                first_of[(entry.section, seen)] = entry
        else:
            into.also.extend(entry.claims)
    return kept


def _words(line: str) -> str:
    return " ".join(line.split())


def _section(claims: Sequence[Claim]) -> Section:
    """Wrong at the guide's versions when any of them contradicts a claim; true then and changed since
    when they confirm every claim and only a later release contradicts it."""
    contradicted_then = any(s.where != NEWEST for c in claims for s in c.sightings)
    return Section.CHANGED if not contradicted_then and all(c.agreed_at_guide for c in claims) else Section.WRONG


def _boundaries(model: Model, claim: Claim) -> list[Boundary]:
    """The changes of the claim's test from the claimed verdict to the observed one, along every line."""
    observed = {s.observed for s in claim.sightings}
    found = []
    for test in dict.fromkeys(s.test for s in claim.sightings):
        for h in model.histories_of((claim.case, test)):
            found += [b for b in h.boundaries if b.before == claim.expected and b.after in observed]
    return found


def _changed_at(model: Model, claim: Claim) -> Boundary | None:
    """For a claim true at the guide's versions: the release that changed it, along the newest cell's line."""
    newest = model.newest()
    found = _boundaries(model, claim)
    if newest is not None:
        headline = model.history_at((claim.case, claim.sightings[0].test), newest)
        on_line = [b for b in found if headline is not None and b.line == headline.line.key.describe()]
        found = on_line or found
    return max(found, key=lambda b: version_key(b.first_after), default=None)


def _brought_by(model: Model, claims: Sequence[Claim]) -> Boundary | None:
    """The release that brings a shared cause: the change from the claimed verdicts to the observed
    ones that most of the claims share, preferring one package that moved alone (an isolating line)."""
    found = [b for c in claims for b in _boundaries(model, c)]
    if not found:
        return None
    counts = Counter((b.package, b.first_after) for b in found)

    def rank(b: Boundary) -> tuple[int, bool, int]:
        alone = len(b.responsible) == 1 and b.responsible[0].package == b.package
        return (counts[(b.package, b.first_after)], alone, int(b.exact))

    return max(found, key=rank)


# --------------------------------------------------------------------------------------------
# corrections, from the results only


def suggestions(model: Model, entry: Entry) -> list[str]:
    out: list[str] = []
    first = entry.claims[0]
    b = entry.changed
    if b is not None and entry.section == Section.CHANGED:
        # The same words for "since" as the page and status.json (Boundary.since_text).
        bound = code(b.package + _range(first.claimed_where, b.package, f"<{b.first_after}"))
        out.append(f"Since {b.since_text()}, along {b.line}: state the claim for {bound}.")
        for claim, later in entry.later:
            bound = code(later.package + _range(claim.claimed_where, later.package, f"<{later.first_after}"))
            out.append(
                f"{code(claim.sightings[0].test)} still {later.before} until {later.since_text()}: "
                f"for what it shows, state the claim for {bound}."
            )
    elif b is not None and entry.cause:
        pin = code(f"{b.package}<{b.first_after}")
        out.append(
            f"The claims hold with {b.package} {b.last_before} (along {b.line}): require {pin}, or use a fix below."
        )
    elif not entry.cause:
        holds = _where_it_holds(model, first)
        if holds:
            out.append(f"As claimed along {holds}: not on the versions above.")
    out += _workarounds(model, entry)
    return [x for x in dict.fromkeys(out) if x]


def _range(where: Sequence[str], package: str, bound: str) -> str:
    """The claim's own lower bounds on the package, with the observed upper bound."""
    from packaging.requirements import InvalidRequirement, Requirement

    kept = []
    for condition in where:
        try:
            req = Requirement(condition)
        except InvalidRequirement:
            continue
        if req.name.lower() == package:
            kept += [str(s) for s in req.specifier if s.operator in (">", ">=")]
    return ",".join([*sorted(kept), bound])


def _where_it_holds(model: Model, claim: Claim) -> str:
    """The releases (intervals along the newest cell's line) where the test gives the claimed verdict."""
    newest = model.newest()
    history = model.history_at((claim.case, claim.sightings[0].test), newest) if newest is not None else None
    if history is None:
        return ""
    spans = [
        i.first if i.first == i.last else f"{i.first}\u2013{i.last}"
        for i in history.intervals
        if i.verdict == claim.expected
    ]
    return f"{history.line.key.describe()}: " + ", ".join(spans) if spans else ""


def _observed_span(model: Model, claim: Claim) -> str:
    newest = model.newest()
    history = model.history_at((claim.case, claim.sightings[0].test), newest) if newest is not None else None
    if history is None or not history.intervals:
        return ""
    return f"{history.package} {history.intervals[0].first}\u2013{history.intervals[-1].last}"


def _workarounds(model: Model, entry: Entry) -> list[str]:
    """The workarounds the cases declare for these claims that hold where the claims fail, in the
    order the case gives them (the guide's own fix first when it has one)."""
    out: list[str] = []
    for claim in entry.claims:
        cells = [s.cell.id for s in claim.sightings]
        for n, test in enumerate(claim.workarounds):
            rows = [r for (c, t), r in model.rows.items() if c == claim.case and t.split("[", 1)[0] == test]
            if rows and all(r.verdict(cid) == Verdict.HOLDS for r in rows for cid in cells):
                said = text(rows[0].note or test)
                if not any(line.startswith(f"Use instead: {said} (") for line in out):
                    out.append(f"Use instead: {said} ({code(test)}, holds there)")
            elif rows and n == 0:
                seen = sorted({str(r.verdict(cid)) for r in rows for cid in cells})
                out.append(f"The case's first fix ({code(test)}) does not hold there either: {', '.join(seen)}")
    return out


# --------------------------------------------------------------------------------------------
# order


def _position(guide: Guide | None, words: str) -> int | None:
    if guide is None or not words:
        return None
    found = normalise(guide.text).find(normalise(words))
    return found if found >= 0 else None


def _order(entry: Entry, in_guide_order: bool) -> tuple[object, ...]:
    first = entry.claims[0]
    place = entry.position if in_guide_order else (False, 0)
    return (*place, _natural(first.section), first.case, first.test, first.quote)


def _natural(value: str) -> list[tuple[int, int | str]]:
    """ "Issue #10" after "Issue #3"."""
    return [(0, int(p)) if p.isdigit() else (1, p.lower()) for p in re.split(r"(\d+)", value) if p]


# --------------------------------------------------------------------------------------------
# Markdown


def render(errata: Errata, model: Model, site_url: str = "") -> str:
    newest = errata.newest
    report = f"{site_url}index.html"
    guide_versions = ", ".join(errata.guide_groups) or "none in this matrix"
    lines = [
        "# Errata for the guide",
        "",
        f"Generated {model.run.generated} by {PROJECT} from {model.run.matrix or 'the matrix'}: each entry quotes the "
        "line that is wrong, what running it gave and how to correct it, from the results alone. "
        f"The guide's versions are the groups {guide_versions}; the newest release tested is "
        f"{versions_text(newest) if newest else 'none'}.",
        "",
    ]
    if not site_url:
        lines += [
            "Links are relative to this file's folder (index.html beside it): no site address was given "
            "(`nox -s report -- --site-url https://...`).",
            "",
        ]
    if not errata.in_guide_order:
        lines += ["The guide's text was not at hand (KNOWN_ISSUES_GUIDE): entries follow its section names.", ""]
    number = 0
    for section in Section:
        found = errata.section(section)
        lines += [f"## {section.value} ({len(found)})", ""]
        if not found:
            lines += ["None.", ""]
        said = ""  # the place in the guide said last: entries in the guide's order share it
        for entry in found:
            number += 1
            lines += _entry(number, entry, report, model, said)
            said = _place(entry) or said
    if errata.unchecked:
        lines += ["## Could not check", "", "The suite could not observe these claims (an error is no erratum):", ""]
        for u in errata.unchecked:
            reasons = ", ".join(f"{reason} in {n} cell(s)" for reason, n in u.errors.items())
            lines.append(f"- {quote_inline(u.quote)} ({code(f'{u.case}::{u.test}')}): {reasons}")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def quote_inline(words: str) -> str:
    short = " ".join(words.split())
    return "\u201c" + text(short if len(short) <= 90 else short[:89] + "…") + "\u201d"


def _place(entry: Entry) -> str:
    places = [c.heading for c in entry.claims if c.heading] or [_short(c.section, 70) for c in entry.claims]
    return "; ".join(dict.fromkeys(p for p in places if p))


def _entry(number: int, entry: Entry, report: str, model: Model, said: str = "") -> list[str]:
    first = entry.claims[0]
    if entry.cause:
        lines = [f"### {number}. One cause, {len(entry.claims)} claims: {code(_short(entry.cause, 64))}", ""]
        if entry.changed is not None:
            b = entry.changed
            release = f"**{b.package} {b.first_after}** (last {b.before}: {b.last_before})"
            lines.append(f"- **Cause**: {code(entry.cause)}, brought by {release}.")
        else:
            lines.append(f"- **Cause**: {code(entry.cause)}, outside the lines the claims quote.")
        lines.append("- **Claims it takes down** (the lines they quote are never reached):")
        lines += _by_case(entry.claims, report)
    else:
        sections = _place(entry)
        heading = quote_inline(first.quote or "(no quote)")
        lines = [f"### {number}. {heading}", ""]
        lines += [f"*{text(sections)}*", ""] if sections and sections != said else []
        if heading != "\u201c" + text(" ".join(first.quote.split())) + "\u201d" or "\n" in first.quote.strip():
            lines += [quote(first.quote or "(the case gives no quote)"), ""]  # the heading cut it short
        if first.example:
            where = f" (*{text(first.example_heading)}*)" if first.example_heading else ""
            lines += [
                f"The rule is right; the guide's own example{where} does not follow it:",
                "",
                quote(first.example),
                "",
            ]
        claimed = f"{first.expected}" + (
            f" where {code(', '.join(first.claimed_where))}" if first.claimed_where else ""
        )
        lines.append(f"- **Claimed**: {claimed}; **observed**: {_observed(first, model)}")
        for claims, seen in _evidence(entry.claims):
            links = ", ".join([_test_link(claims[0], report), *(code(c.test) for c in claims[1:])])
            ran = code(_short(claims[0].wrong_line, 60))
            lines.append(f"- **Evidence** ({links}): running {ran} gave {code(_short(seen, 120))}")
        if entry.takes_down:
            lines.append(
                "- **Takes down** (they meet the same exception in a setup step or a server, before their line):"
            )
            lines += _by_case(entry.takes_down, report)
        if entry.also:
            lines.append("- **The same observation also contradicts**:")
            lines += _by_case(entry.also, report)
    if entry.suggestions:
        lines.append("- **Correction**:")
        lines += [f"  - {s}" for s in entry.suggestions]
    return [*lines, ""]


def _evidence(claims: Sequence[Claim]) -> list[tuple[list[Claim], str]]:
    """What the claims' tests gave, each once: one exception raised in several places is one line."""
    found: dict[str, tuple[list[Claim], list[str]]] = {}
    for claim in claims:
        seen = claim.sightings[0].evidence
        cause = signature(seen)
        together, said = found.setdefault(cause.key if cause is not None else seen, ([], []))
        together.append(claim)
        said.append(seen)
    out = []
    for key, (together, said) in found.items():
        places = [m.group(1) for line in dict.fromkeys(said) if (m := _PLACE.search(line))]
        shown = said[0] if len(set(said)) == 1 else f"{key} (raised in {', '.join(places)})"
        # The suite's wrapper of an exception another process reported says nothing to the guide's author.
        out.append((together, _SUITE_WRAPPER.sub("", shown, count=1)))
    return out


def _short(value: str, limit: int) -> str:
    one = " ".join(value.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _by_case(claims: Sequence[Claim], report: str) -> list[str]:
    """The claims, a line per case: the case linked once, each claim's quoted line."""
    cases: dict[str, list[Claim]] = {}
    for claim in claims:
        cases.setdefault(claim.case, []).append(claim)
    return [
        f"  - [{text(case)}]({report}#case-{case}): " + ", ".join(quote_inline(c.quote) for c in found)
        for case, found in cases.items()
    ]


def _test_link(claim: Claim, report: str) -> str:
    return f"[{code(claim.test)}]({report}#{row_anchor(claim.case, claim.sightings[0].test)})"


def _observed(claim: Claim, model: Model) -> str:
    places: dict[str, list[str]] = {}
    verdicts: dict[str, set[str]] = {}
    for s in claim.sightings:
        place = "the newest release" if s.where == NEWEST else s.where
        axis = s.cell.cell.axes[0]
        version = s.cell.version_of(axis) + ("" if s.cell.cell.python == "3.11" else f" on Python {s.cell.cell.python}")
        places.setdefault(place, []).append(version)
        verdicts.setdefault(place, set()).add(str(s.observed))
    span = "" if _where_it_holds(model, claim) else _observed_span(model, claim)
    if span:
        # Every release shows it: which of the guide's groups (and Pythons) is all there is to add.
        seen = "/".join(sorted(set().union(*verdicts.values())))
        guide = [_pythons(place, versions) for place, versions in places.items() if place != "the newest release"]
        also = f", the guide's versions included: {', '.join(guide)}" if guide else ""
        return f"**{seen}** on every release ({span}){also}"
    parts = []
    for place, versions in places.items():
        unique = list(dict.fromkeys(versions))
        shown = ", ".join(unique[:MAX_VERSIONS]) + (
            f" and {len(unique) - MAX_VERSIONS} more" if len(unique) > MAX_VERSIONS else ""
        )
        where = f"the newest release ({shown})" if place == "the newest release" else f"{place} ({shown})"
        parts.append(f"**{'/'.join(sorted(verdicts[place]))}** on {where}")
    return "; ".join(parts)


def _pythons(place: str, versions: Sequence[str]) -> str:
    pythons = [v.split(" on Python ", 1)[1] for v in dict.fromkeys(versions) if " on Python " in v]
    return f"{place} (Python {', '.join(pythons)})" if pythons else place
