"""The feed of verdict changes (``report/changes.atom``, Atom 1.0, RFC 4287): one entry per release and
test whose verdict that release changed since the previous published run (the report's baseline), and
one per change no release explains; kept across runs.

The feed's memory is ``report/changes.json`` (the last ``KEEP`` entries). An entry's id is derived from
the release and the change (for a change no release explains: the cell and when it was observed),
never from when the report was built, so a rebuild against the same baseline adds nothing.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from known_issues import PROJECT
from known_issues.cell.atomic import write_json, write_text
from known_issues.cell.serial import dump
from known_issues.errors import SchemaError
from known_issues.outcomes import Change
from known_issues.records import check_schema, load
from known_issues.reporting.model import Model, row_anchor
from known_issues.reporting.releases import Release, ReleaseChange

FEED_SCHEMA = 2
KEEP = 200
STATE = "changes.json"
FEED = "changes.atom"
ATOM = "http://www.w3.org/2005/Atom"
# Fixed for ever: every id of the feed is a name-based UUID in this namespace.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:{PROJECT}:verdict-changes")
FEED_ID = f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed')}"
# A test that appears or disappears (a new case, a new cell) is not a change of behaviour: hundreds
# of such entries would bury the ones a subscriber is there for.
NOT_IN_FEED = frozenset({Change.NEW_TEST, Change.GONE})
MAX_CELLS = 6
# What XML 1.0 cannot carry at all (a test's output may hold terminal escapes): shown as U+FFFD.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedEntry:
    id: str
    updated: str  # when the new verdict was observed (UTC, RFC 3339)
    title: str
    case: str
    test: str
    release: str  # "fastapi 0.165.0", or "" for a change no release explains
    previous: str  # the release it was compared with
    kind: str
    old: str
    new: str
    cells: str  # the cells that show it, each with the cell it was compared with
    message: str
    link: str  # relative to the report: index.html#row-...


@dataclass
class FeedState:
    entries: list[FeedEntry] = field(default_factory=list)
    schema: int = FEED_SCHEMA


def read_state(out: Path) -> FeedState:
    """The feed's memory in the report folder; an empty one when there is none or of another schema."""
    try:
        data = json.loads((out / STATE).read_text(encoding="utf-8"))
        return load(FeedState, check_schema(data, FEED_SCHEMA, str(out / STATE)))
    except (OSError, ValueError, KeyError, TypeError, SchemaError):
        return FeedState()


def entries_of(model: Model) -> list[FeedEntry]:
    """This run's entries: one per release and test whose verdict it changed since the baseline, and
    one per change no release explains (none without a baseline)."""
    if model.changes is None:
        return []
    return [_entry(model, release, change) for release, change in model.changes.all() if change.kind not in NOT_IN_FEED]


def _entry(model: Model, release: Release | None, change: ReleaseChange) -> FeedEntry:
    observed = change.observed or model.run.generated
    if release is not None:
        parts = [release.package, release.version, change.case, change.test, str(change.old), str(change.new)]
        name = release.name
        previous = f"{release.package} {release.previous}" if release.previous else ""
        title = f"{name}: {change.case}::{change.test} {change.old} \u2192 {change.new} ({change.kind})"
    else:
        parts = [change.evidence[0].cell, change.case, change.test, str(change.old), str(change.new), observed]
        name = previous = ""
        title = f"{change.case}::{change.test}: {change.old} \u2192 {change.new} ({change.kind}, no release moved)"
    cells = "; ".join(f"{e.cell} against {e.compared} ({e.how})" for e in change.evidence[:MAX_CELLS])
    cells += f"; and {len(change.evidence) - MAX_CELLS} more" if len(change.evidence) > MAX_CELLS else ""
    return FeedEntry(
        id=f"urn:uuid:{uuid.uuid5(NAMESPACE, chr(31).join(parts))}",
        updated=observed,
        title=title,
        case=change.case,
        test=change.test,
        release=name,
        previous=previous,
        kind=str(change.kind),
        old=str(change.old),
        new=str(change.new),
        cells=cells,
        message="\n".join(change.message.strip().splitlines()[:12]),
        link=f"index.html#{row_anchor(change.case, change.test)}",
    )


def merged(state: FeedState, new: Sequence[FeedEntry], keep: int = KEEP) -> FeedState:
    """The state with the entries it does not have yet, newest first, the last ``keep`` of them."""
    entries = list(state.entries)
    known = {e.id for e in entries}
    for e in new:
        if e.id not in known:
            known.add(e.id)
            entries.append(e)
    entries.sort(key=lambda e: (e.updated, e.id), reverse=True)
    return FeedState(entries[:keep])


def render_atom(state: FeedState, generated: str, site_url: str = "") -> str:
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _NOT_XML.sub("\ufffd", v) for k, v in attrs.items()})
        if text is not None:
            element.text = _NOT_XML.sub("\ufffd", text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", FEED_ID)
    sub(feed, "title", f"{PROJECT}: verdict changes")
    sub(
        feed,
        "subtitle",
        "What each release changed since the previous published run of the matrix, one entry per release and test",
    )
    sub(feed, "updated", max((e.updated for e in state.entries), default=generated))
    author = sub(feed, "author")
    sub(author, "name", PROJECT)
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{site_url}{FEED}")
    sub(feed, "link", rel="alternate", type="text/html", href=f"{site_url}index.html")
    sub(feed, "generator", PROJECT)
    for e in state.entries:
        entry = sub(feed, "entry")
        sub(entry, "id", e.id)
        sub(entry, "title", e.title)
        sub(entry, "updated", e.updated)
        sub(entry, "link", rel="alternate", type="text/html", href=f"{site_url}{e.link}")
        sub(entry, "category", term=e.kind)
        where = f"with {e.release}" if e.release else "with no release (the case or the harness changed)"
        sub(entry, "summary", f"{e.kind} {where}: {e.old} → {e.new}")
        sub(entry, "content", _content(e), type="text")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _content(e: FeedEntry) -> str:
    lines = [f"{e.case}::{e.test} went from {e.old} to {e.new} ({e.kind})."]
    if e.release:
        lines.append(f"Release: {e.release}" + (f", compared with {e.previous}." if e.previous else "."))
    else:
        lines.append("No release: no installed version moved in the cell (the case's files or the harness changed).")
    lines.append(f"Cells: {e.cells}.")
    if e.message:
        lines += ["", e.message]
    return "\n".join(lines)


def write_feed(model: Model, out: Path, site_url: str = "") -> list[FeedEntry]:
    """Add this run's entries to the feed's memory, write it and the Atom file; return this run's entries."""
    current = entries_of(model)
    state = merged(read_state(out), current)
    write_json(out / STATE, dump(state))
    write_text(out / FEED, render_atom(state, model.run.generated, site_url))
    return current
