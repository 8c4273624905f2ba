"""report/changes.atom: valid Atom 1.0 (read by a real feed parser), one entry per release and test whose
verdict the release changed since the previous published run, kept across runs, with ids that a rebuild
or a run without a change does not alter."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import feedparser
from fixtures import HOSTILE, t
from subscriptions_fixture import GUIDE_GROUP, NEWEST, planted_run, write_planted_cases

from known_issues.catalog import load_cases
from known_issues.reporting import feed
from known_issues.reporting.build import build
from known_issues.results import RunResult

SITE = "https://example.org/known-issues/"


def _next_day(previous: RunResult) -> RunResult:
    """The next published run: a new Pydantic in the newest cell brings the bug back there (a new
    observation), and one cell gains a test (a new test is not a change of behaviour)."""
    run = copy.deepcopy(previous)
    run.generated = "2026-11-26T00:00:00Z"
    newest = run.cell(NEWEST)
    assert newest is not None
    newest.resolved["pydantic"] = newest.distributions["pydantic"] = "2.12.0"
    newest.finished = "2026-11-26T00:00:00Z"
    back = t("literal_form", "test_bug", "bug", "passed")
    back.observed = "2026-11-26T00:00:00Z"
    newest.tests = [back if x.test == "test_bug" else x for x in newest.tests]
    newest.tests.append(t("literal_form", "test_new", "bug", "passed", f"{HOSTILE}\x1b[31m"))
    return run


def _parse(out: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse((out / "changes.atom").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_a_verdict_change_is_one_valid_entry_and_ids_are_stable(tmp_path: Path) -> None:
    cases = load_cases(write_planted_cases(tmp_path))
    out = tmp_path / "report"
    before, after = planted_run(), _next_day(planted_run())

    # The first published run has no baseline: an empty, valid feed.
    build(before, cases, out, guide_groups=(GUIDE_GROUP,), site_url=SITE)
    first = _parse(out)
    assert first.feed.id == feed.FEED_ID and first.entries == []
    assert first.feed.title == "fastapi-known-issues: verdict changes"
    assert first.feed.author == "fastapi-known-issues"

    build(after, cases, out, baseline=before, guide_groups=(GUIDE_GROUP,), site_url=SITE)
    parsed = _parse(out)
    (entry,) = parsed.entries  # the new test is left out
    assert entry.title == "pydantic 2.12.0: literal_form::test_bug fixed → reproduces (bug back)"
    assert entry.id.startswith("urn:uuid:")
    assert entry.updated == "2026-11-26T00:00:00Z"
    assert entry.link == f"{SITE}index.html#row-literal_form--test_bug"
    assert entry.tags[0].term == "bug back"
    content = entry.content[0].value
    # Attributed to the release that moved in that cell since the previous run: the cell is the evidence.
    assert "Release: pydantic 2.12.0, compared with pydantic 2.11.7." in content
    assert f"Cells: {NEWEST} against {NEWEST} (the same cell, re-resolved)." in content
    ids = [e.id for e in parsed.entries]

    # The same run rebuilt against the same baseline: the same ids, nothing added.
    build(after, cases, out, baseline=before, guide_groups=(GUIDE_GROUP,), site_url=SITE)
    assert [e.id for e in _parse(out).entries] == ids

    # The next run with no change: no new entry, the earlier one kept (the feed remembers).
    build(after, cases, out, baseline=after, guide_groups=(GUIDE_GROUP,), site_url=SITE)
    assert [e.id for e in _parse(out).entries] == ids
    state = json.loads((out / "changes.json").read_text())
    assert [e["id"] for e in state["entries"]] == ids and state["schema"] == feed.FEED_SCHEMA

    # What summary.md (the scheduled issue's body) links: the errata and this run's feed entries.
    build(after, cases, out, baseline=before, guide_groups=(GUIDE_GROUP,), site_url=SITE)
    summary = (out / "summary.md").read_text()
    assert f"- [Errata for the guide]({SITE}errata.md): 2 claim(s) contradicted" in summary
    assert f"- [Feed of verdict changes]({SITE}changes.atom): 1 entry from this run" in summary
    assert (
        f"  - [pydantic 2.12.0: literal\\_form::test\\_bug fixed → reproduces (bug back)]({SITE}index.html#row-"
        in summary
    )
    assert f"(`{ids[0]}`)" in summary


def test_entries_are_kept_up_to_a_limit_newest_first_and_text_is_xml_safe(tmp_path: Path) -> None:
    old = [
        feed.FeedEntry(
            id=f"urn:uuid:{i}",
            updated=f"2026-01-{i + 1:02d}T00:00:00Z",
            title=f"entry {i} {HOSTILE}",
            case="c",
            test="t",
            release="fastapi 1",
            previous="fastapi 0",
            kind="bug fixed",
            old="reproduces",
            new="fixed",
            cells="x against y",
            message=f"control \x00\x1b[0m chars {HOSTILE}",
            link="index.html#row-c--t",
        )
        for i in range(5)
    ]
    state = feed.merged(feed.FeedState(old[:3]), old[2:], keep=4)
    assert [e.id for e in state.entries] == ["urn:uuid:4", "urn:uuid:3", "urn:uuid:2", "urn:uuid:1"]
    (tmp_path / "changes.atom").write_text(feed.render_atom(state, "2026-02-01T00:00:00Z"))
    parsed = _parse(tmp_path)
    assert parsed.entries[0].title == f"entry 4 {HOSTILE}"  # text, never markup
    assert "control \ufffd\ufffd[0m chars" in parsed.entries[0].content[0].value
    assert parsed.feed.updated == "2026-01-05T00:00:00Z"
    # Without the site's address the links are relative to the feed (the report folder).
    assert parsed.entries[0].link == "index.html#row-c--t"


def test_an_unreadable_memory_starts_a_new_feed(tmp_path: Path) -> None:
    (tmp_path / "changes.json").write_text("{not json")
    assert feed.read_state(tmp_path).entries == []
    (tmp_path / "changes.json").write_text(json.dumps({"schema": 99, "entries": []}))
    assert feed.read_state(tmp_path).entries == []
