"""report/errata.md: every claim of the guide contradicted on the newest release or on the guide's own
versions, from the results alone (section, quote, versions, evidence, a correction), in the guide's order."""

from __future__ import annotations

import re
from pathlib import Path

from fixtures import FASTAPI_RELEASES, HOSTILE
from subscriptions_fixture import FIXED_MESSAGE, GUIDE_GROUP, planted_run, write_planted_cases

from known_issues import guide
from known_issues.catalog import load_cases
from known_issues.reporting import errata
from known_issues.reporting.build import build
from known_issues.reporting.model import Model


def _entries(text: str) -> dict[str, str]:
    """Each entry's Markdown, by the test it judges."""
    parts = re.split(r"^## \d+\. ", text, flags=re.MULTILINE)[1:]
    return {re.search(r"test `(\w+::\w+)`", p).group(1): p for p in parts}  # type: ignore[union-attr]


def test_a_claim_contradicted_on_the_newest_release_gets_its_entry(tmp_path: Path) -> None:
    out = tmp_path / "report"
    build(
        planted_run(), load_cases(write_planted_cases(tmp_path)), out, guide_groups=(GUIDE_GROUP,),
        releases=FASTAPI_RELEASES,
    )  # fmt: skip
    text = (out / "errata.md").read_text()
    entries = _entries(text)
    # The pattern contradicted only on fastapi 0.113.0 (neither the newest nor a version the guide names)
    # is the report's business, not an erratum.
    assert set(entries) == {"literal_form::test_bug", "literal_form::test_omit_field", "late_case::test_late"}
    assert "3 claim(s) contradicted." in text

    bug = entries["literal_form::test_bug"]
    # The guide's section and its words, in a quote that renders as the same text (markup escaped).
    assert bug.startswith("Known Issues, Issue #3\n")
    assert "> Starting in FastAPI 0.114.0 \\`\\_\\_future\\_\\_\\` &lt;script&gt;window.\\_\\_pwned" in bug
    assert "- **The guide implies**: reproduces where `fastapi>=0.114.0`" in bug
    # Where it was observed: the newest release only (the guide's own cell agrees with the claim).
    assert "| the newest release tested | fastapi 0.116.0, pydantic 2.11.7 | **fixed** |" in bug
    assert "the guide's versions" not in bug.split("- **Evidence**")[0]
    assert "(index.html#row-literal_form--test_bug)" in bug
    # The test's own evidence, verbatim inside a code block (where the hostile text is inert).
    assert f"  ```text\n  {FIXED_MESSAGE}\n  ```" in bug
    # The correction: where the behaviour changed, as a range the guide can print.
    assert (
        "Since fastapi 0.116.0 the verdict is fixed (last reproduces: fastapi 0.115.0, along fastapi releases "
        "(pydantic any, python 3.11)): "
        "state the claim's range as `fastapi>=0.114.0,<0.116.0`." in bug
    )

    omit = entries["literal_form::test_omit_field"]
    assert "> Omit instead of None" in omit
    assert "| the guide's versions (document) | fastapi 0.114.0, pydantic 2.11.7 | **broken** |" in omit
    assert "| the newest release tested |" not in omit  # it holds there
    assert "TypeError: boom (raised in app.py:3)" in omit
    # A workaround of the same case that holds where the claimed one is broken.
    assert (
        "Use instead: ours: str \\| None = None &lt;script&gt;window.\\_\\_pwned = 1&lt;/script&gt;"
        '&lt;img src=x onerror="window.\\_\\_pwned=2"&gt; (`literal_form::test_other_way` holds on the guide\'s '
        "versions (document))." in omit
    )
    assert "Observed broken on 1 version(s) of group document (fastapi 0.114.0, pydantic 2.11.7)" in omit
    assert (
        "Group fastapi-minors shows holds, as claimed, on 4 version(s) (fastapi 0.113.0, pydantic 2.11.7 – "
        "fastapi 0.116.0, pydantic 2.11.7)." in omit
    )

    late = entries["late_case::test_late"]
    assert "| the newest release tested | fastapi 0.116.0, pydantic 2.11.7 | **broken** |" in late
    assert "| the guide's versions (document) | fastapi 0.114.0, pydantic 2.11.7 | **broken** |" in late
    assert (
        "Observed broken on 4 version(s) of group fastapi-minors (fastapi 0.113.0, pydantic 2.11.7 – "
        "fastapi 0.116.0, pydantic 2.11.7); no version of the group shows what the guide says" in late
    )

    # Nothing unescaped, nothing from this machine.
    outside_code = re.sub(r"```text\n.*?```", "", text, flags=re.DOTALL)
    assert HOSTILE not in outside_code and "<script>" not in outside_code
    assert str(tmp_path) not in text


def test_without_the_guide_entries_follow_section_names_and_say_so(tmp_path: Path) -> None:
    out = tmp_path / "report"
    build(
        planted_run(), load_cases(write_planted_cases(tmp_path)), out, guide_groups=(GUIDE_GROUP,),
        releases=FASTAPI_RELEASES,
    )  # fmt: skip
    text = (out / "errata.md").read_text()
    assert "ordered by the guide's section names, not by the guide's own order" in text
    # "Issue #3" before "Issue #10": numbers in a section name count as numbers.
    assert list(_entries(text)) == ["literal_form::test_bug", "literal_form::test_omit_field", "late_case::test_late"]


def test_with_the_guide_entries_follow_where_each_quote_is_in_it(tmp_path: Path) -> None:
    cases = load_cases(write_planted_cases(tmp_path))
    text = f"""# A guide
## Issue #10
Some text: the late claim.
## Issue #3
Omit instead of
None (a line break does not matter).
Starting in FastAPI 0.114.0 `__future__` {HOSTILE}
"""
    (tmp_path / "guide.md").write_text(text)
    model = Model.of(planted_run(), cases)
    found = errata.collect(model, (GUIDE_GROUP,), guide.load(tmp_path / "guide.md"))
    assert found.in_guide_order
    assert [e.test for e in found.entries] == ["test_late", "test_omit_field", "test_bug"]
    rendered = errata.render(found, model, "https://example.org/report/")
    assert "Entries follow the guide's order" in rendered
    assert "(https://example.org/report/index.html#case-literal_form)" in rendered
    assert text not in rendered  # the guide is never embedded


def test_no_contradiction_no_entry(tmp_path: Path) -> None:
    run = planted_run()
    cases = load_cases(write_planted_cases(tmp_path))
    for c in run.cells:
        c.tests = [t for t in c.tests if t.case == "literal_form" and t.test == "test_other_way"]
    found = errata.collect(Model.of(run, cases), (GUIDE_GROUP,))
    assert found.entries == []
    assert "No claim of the guide is contradicted there." in errata.render(found, Model.of(run, cases))
