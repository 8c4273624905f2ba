"""The static report: ``index.html`` (self-contained, offline, everything escaped),
``summary.md`` and JUnit XML per cell, built from a merged run."""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from known_issues import analysis
from known_issues.analysis import NOT_RUN, Case, ClaimCheck, TestRow
from known_issues.atomic import write_text
from known_issues.diff import diff_runs, needs_attention, to_markdown
from known_issues.junit import write_junit
from known_issues.report_assets import HEAD, SCRIPT

SYMBOLS = {
    "reproduces": ("R", "bug reproduces"),
    "fixed": ("F", "bug fixed (behaviour gone)"),
    "holds": ("H", "workaround holds"),
    "works": ("W", "pattern works"),
    "broken": ("B", "broken"),
    "error": ("E", "error: unexpected exception"),
    "n/a": ("–", "n/a: feature absent in this version"),
    "not installable": ("NI", "not installable"),
    "incompatible": ("IC", "incompatible: framework fails its smoke check"),
    NOT_RUN: ("", "not run in this cell"),
}
KIND_ORDER = ["known-issue", "common-error", "pattern", "requirement"]
_SLUG = re.compile(r"[^a-z0-9_-]+")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def safe_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else "#"


def newest_cell(cells: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    ran = [c for c in cells if c["status"] == "ran"]
    if not ran:
        return None

    def key(c: Mapping[str, Any]) -> tuple[Any, ...]:
        v = analysis.cell_versions(c)
        return (
            analysis.version_key(v.get("fastapi", "")),
            analysis.version_key(v.get("pydantic", "")),
            c["cell"]["group"] == "fastapi-minors",
        )

    return max(ran, key=key)


def build(run: Mapping[str, Any], cases_dir: Path, out: Path, baseline: Mapping[str, Any] | None = None) -> Path:
    cases = analysis.load_cases(cases_dir)
    cells = analysis.ordered_cells(run)
    rows = analysis.grid({"cells": cells})
    checks = {slug: analysis.check_claims(case, rows, cells) for slug, case in cases.items()}
    changes = diff_runs(baseline, run) if baseline is not None else None
    page = _page(run, cases, cells, rows, checks, changes)
    index = out / "index.html"
    write_text(index, page)
    write_text(out / "summary.md", summary_markdown(run, cases, cells, rows, checks, changes))
    write_junit(out / "junit", cells)
    return index


# --------------------------------------------------------------------------------------------
# numbers shared by the page and summary.md


def headline(
    cases: Mapping[str, Case],
    cells: Sequence[Mapping[str, Any]],
    rows: Mapping[tuple[str, str], TestRow],
    checks: Mapping[str, list[ClaimCheck]],
) -> dict[str, Any]:
    newest = newest_cell(cells)
    on_newest: Counter[str] = Counter()
    if newest is not None:
        nid = newest["cell"]["id"]
        for row in rows.values():
            v = row.verdicts.get(nid, NOT_RUN)
            if v != NOT_RUN:
                on_newest[v] += 1
    claim_status = Counter(analysis.case_claim_status(c) for c in checks.values())
    return {
        "cases": len(cases),
        "cells": len(cells),
        "statuses": Counter(c["status"] for c in cells),
        "newest": newest,
        "on_newest": on_newest,
        "claims": claim_status,
    }


def summary_markdown(
    run: Mapping[str, Any],
    cases: Mapping[str, Case],
    cells: Sequence[Mapping[str, Any]],
    rows: Mapping[tuple[str, str], TestRow],
    checks: Mapping[str, list[ClaimCheck]],
    changes: list[Any] | None,
) -> str:
    h = headline(cases, cells, rows, checks)
    lines = ["# fastapi-known-issues: summary", ""]
    lines.append(
        f"- cases: {h['cases']}; cells: {h['cells']} ("
        + ", ".join(f"{n} {s}" for s, n in sorted(h["statuses"].items()))
        + ")"
    )
    if h["newest"] is not None:
        v = analysis.cell_versions(h["newest"])
        o = h["on_newest"]
        lines.append(
            f"- newest (fastapi {v.get('fastapi')}, pydantic {v.get('pydantic')}): {o['reproduces']} bug(s) reproduce, "
            f"{o['broken']} workaround(s)/pattern(s) broken, {o['error']} error(s)"
        )
    c = h["claims"]
    lines.append(
        f"- the document's claims: {c['confirmed']} confirmed, {c['contradicted']} contradicted, {c['unverifiable']} unverifiable"
    )
    contradicted = [(slug, chk) for slug, cs in checks.items() for chk in cs if chk.status == "contradicted"]
    if contradicted:
        lines += ["", "## Contradicted claims", "", "| case | test | claimed | observed |", "|---|---|---|---|"]
        for slug, chk in contradicted:
            seen = Counter(v for _, v in chk.differ)
            observed = ", ".join(f"{v} in {n} cell(s)" for v, n in seen.items())
            lines.append(f"| {slug} | {chk.test} | {chk.expected} | {observed} |")
    if changes is not None:
        lines += ["", to_markdown(changes, "Changes since the baseline")]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# HTML


def _cell_label(cell: Mapping[str, Any]) -> tuple[str, str]:
    v = analysis.cell_versions(cell)
    req = cell["cell"]["requested"]
    parts = []
    for name, tag in (("fastapi", "fa"), ("pydantic", "pd")):
        parts.append(f"{tag} {v.get(name) or req.get(name, '?')}")
    extra = [f"{k} {v.get(k, val)}" for k, val in req.items() if k not in ("fastapi", "pydantic")]
    short = " · ".join(parts + extra)
    detail = [
        f"cell {cell['cell']['id']}",
        f"status: {cell['status']}",
        f"python {v.get('python') or cell['cell']['python']}",
    ]
    for name in ("fastapi", "pydantic", "pydantic-core", "starlette", "httpx", "pydantic-settings", "bcrypt"):
        if name in v:
            detail.append(f"{name} {v[name]}")
    requested = ", ".join(f"{k}={val}" for k, val in req.items())
    detail.append(f"requested: {requested}")
    for rule in cell.get("rules_applied", []):
        detail.append(f"extra pins: {', '.join(rule['pins'])} ({rule.get('why', '')})")
    for finding in cell.get("compat_findings", []):
        versions = ", ".join(f"{k} {val}" for k, val in finding["versions"].items())
        detail.append(f"incompatible, stepped down: {versions}")
    if cell.get("fallback_pins"):
        detail.append(f"fallback pins: {', '.join(cell['fallback_pins'])}")
    return short, "\n".join(detail)


def _symbol(verdict: str) -> tuple[str, str]:
    return SYMBOLS.get(verdict, ("?", verdict))


def _vclass(verdict: str) -> str:
    return "v-" + _SLUG.sub("-", verdict.lower()).strip("-") if verdict != NOT_RUN else "v-none"


def _page(
    run: Mapping[str, Any],
    cases: Mapping[str, Case],
    cells: Sequence[Mapping[str, Any]],
    rows: Mapping[tuple[str, str], TestRow],
    checks: Mapping[str, list[ClaimCheck]],
    changes: list[Any] | None,
) -> str:
    h = headline(cases, cells, rows, checks)
    parts = [HEAD.replace("/*PYGMENTS*/", _pygments_css())]
    parts.append("<header><h1>fastapi-known-issues</h1>")
    parts.append(
        f'<p class="meta">Generated {esc(run.get("generated", ""))} from <code>{esc(run.get("matrix", ""))}</code>. '
        "Every verdict comes from running the case in a real environment with the versions shown.</p></header>"
    )
    parts.append(_summary_html(h, changes))
    parts.append(_legend())
    parts.append(_filters())
    parts.append(_matrix_html(cases, cells, rows, checks))
    parts.append(_findings_html(cells))
    if changes is not None:
        parts.append(_changes_html(changes))
    parts.append('<section id="cases"><h2>Cases</h2>')
    for slug in _case_order(cases, rows):
        parts.append(_case_html(slug, cases.get(slug), cells, rows, checks.get(slug, [])))
    parts.append("</section>")
    parts.append(SCRIPT)
    parts.append("</body></html>")
    return "\n".join(parts)


def _summary_html(h: Mapping[str, Any], changes: list[Any] | None) -> str:
    st = h["statuses"]
    cards = [
        ("Cases", str(h["cases"]), "documented issues and patterns"),
        ("Cells", str(h["cells"]), ", ".join(f"{n} {s}" for s, n in sorted(st.items())) or "none"),
    ]
    newest = h["newest"]
    if newest is not None:
        v = analysis.cell_versions(newest)
        o = h["on_newest"]
        cards.append(
            (
                "Bugs reproducing on newest",
                str(o["reproduces"]),
                f"fastapi {v.get('fastapi')} + pydantic {v.get('pydantic')}",
            )
        )
        cards.append(("Broken on newest", str(o["broken"]), f"workarounds/patterns; {o['error']} error(s)"))
    c = h["claims"]
    cards.append(
        (
            "Claims contradicted",
            str(c["contradicted"]),
            f"{c['confirmed']} confirmed, {c['unverifiable']} unverifiable (per case)",
        )
    )
    if changes is not None:
        cards.append(("Changed since baseline", str(len(changes)), f"{len(needs_attention(changes))} need attention"))
    else:
        cards.append(("Changed since baseline", "–", "no baseline given"))
    out = ['<section id="summary" aria-label="summary">']
    for title, number, note in cards:
        ident = _SLUG.sub("-", title.lower())
        out.append(
            f'<div class="card" id="card-{ident}"><div class="n" data-testid="{ident}">{esc(number)}</div>'
            f'<div class="t">{esc(title)}</div><div class="note">{esc(note)}</div></div>'
        )
    out.append("</section>")
    return "\n".join(out)


def _legend() -> str:
    items = [
        f'<span class="v {_vclass(v)}">{esc(s)}</span> {esc(label)}'
        for v, (s, label) in SYMBOLS.items()
        if v != NOT_RUN
    ]
    items.append(
        "column headers: fa = fastapi, pd = pydantic; + extra test pins; ↓ Pydantic stepped down (see findings)"
    )
    return '<p class="legend">' + " &nbsp; ".join(items) + "</p>"


def _filters() -> str:
    kinds = "".join(
        f'<label><input type="checkbox" class="f-kind" value="{esc(k)}" checked> {esc(k)}</label> ' for k in KIND_ORDER
    )
    verdicts = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in SYMBOLS if v != NOT_RUN)
    return (
        '<form id="filters"><fieldset><legend>Filter rows</legend>'
        f'{kinds}<label>verdict <select id="f-verdict"><option value="">any</option>{verdicts}</select></label> '
        '<label><input type="checkbox" id="f-changing"> only rows that change across versions</label> '
        '<label><input type="checkbox" id="f-contradicted"> only contradicted claims</label> '
        '<span id="f-count" aria-live="polite"></span></fieldset></form>'
    )


def _case_order(cases: Mapping[str, Case], rows: Mapping[tuple[str, str], TestRow]) -> list[str]:
    slugs = set(cases) | {case for case, _ in rows}

    def key(slug: str) -> tuple[int, str]:
        kind = cases[slug].kind if slug in cases else "pattern"
        return (KIND_ORDER.index(kind) if kind in KIND_ORDER else 9, slug)

    return sorted(slugs, key=key)


def _matrix_html(
    cases: Mapping[str, Case],
    cells: Sequence[Mapping[str, Any]],
    rows: Mapping[tuple[str, str], TestRow],
    checks: Mapping[str, list[ClaimCheck]],
) -> str:
    out = ['<section id="matrix"><h2>Matrix</h2><div class="scroll"><table class="grid">', "<thead>"]
    groups: list[tuple[str, int]] = []
    for cell in cells:
        g = cell["cell"]["group"]
        if groups and groups[-1][0] == g:
            groups[-1] = (g, groups[-1][1] + 1)
        else:
            groups.append((g, 1))
    out.append(
        '<tr><th class="rowhead" scope="col">group</th>'
        + "".join(f'<th colspan="{n}" class="group" scope="colgroup">{esc(g)}</th>' for g, n in groups)
        + "</tr>"
    )
    heads = []
    for cell in cells:
        short, detail = _cell_label(cell)
        # Short markers; the full story is in the header's tooltip (title).
        pins = (" +" if cell.get("rules_applied") else "") + (" ↓" if cell.get("fallback_pins") else "")
        heads.append(
            f'<th class="cellhead" scope="col" title="{esc(detail)}"><span>{esc(short)}{esc(pins)}</span></th>'
        )
    out.append('<tr><th class="rowhead" scope="col">case / test</th>' + "".join(heads) + "</tr></thead><tbody>")
    by_case: dict[str, list[TestRow]] = defaultdict(list)
    for (slug_of_row, _), row in sorted(rows.items()):
        by_case[slug_of_row].append(row)
    for slug in _case_order(cases, rows):
        case = cases.get(slug)
        kind = case.kind if case else "pattern"
        status = analysis.case_claim_status(checks.get(slug, []))
        title = case.title if case else slug
        out.append(
            f'<tr class="case" data-case="{esc(slug)}" data-kind="{esc(kind)}" data-claim="{esc(status)}">'
            f'<th class="rowhead" scope="rowgroup" colspan="{len(cells) + 1}"><a href="#case-{esc(slug)}">{esc(title)}</a> '
            f'<span class="kind">{esc(kind)}</span> <span class="claim c-{esc(status)}">claim: {esc(status)}</span></th></tr>'
        )
        for row in sorted(
            by_case.get(slug, []), key=lambda r: (["bug", "workaround", "pattern"].index(r.role), r.test)
        ):
            values = [row.verdicts.get(c["cell"]["id"], NOT_RUN) for c in cells]
            # Cell-level statuses (not installable, incompatible, cell error) are not a test changing.
            meaningful = {v for c, v in zip(cells, values, strict=True) if c["status"] == "ran" and v != NOT_RUN}
            changing = "1" if len(meaningful) > 1 else "0"
            tds = []
            for cell, v in zip(cells, values, strict=True):
                sym, label = _symbol(v)
                msg = row.messages.get(cell["cell"]["id"], "")
                tip = f"{label} — {cell['cell']['id']}" + (f"\n{msg[:300]}" if msg else "")
                tds.append(f'<td class="v {_vclass(v)}" title="{esc(tip)}" aria-label="{esc(label)}">{esc(sym)}</td>')
            out.append(
                f'<tr class="test" data-case="{esc(slug)}" data-kind="{esc(kind)}" data-claim="{esc(status)}" '
                f'data-verdicts="{esc("|".join(sorted(set(values))))}" data-changing="{changing}">'
                f'<th class="rowhead" scope="row"><span class="role r-{esc(row.role)}">{esc(row.role)}</span> '
                f"{esc(row.test)}</th>{''.join(tds)}</tr>"
            )
    out.append("</tbody></table></div></section>")
    return "\n".join(out)


def _findings_html(cells: Sequence[Mapping[str, Any]]) -> str:
    bad = [c for c in cells if c["status"] != "ran" or c.get("compat_findings") or c.get("stray_processes")]
    if not bad:
        return '<section id="findings"><h2>Compatibility findings</h2><p>Every cell installed and passed its smoke check.</p></section>'
    out = [
        '<section id="findings"><h2>Compatibility findings</h2>',
        "<p>Cells that did not run their cases: the resolver refused the combination, the framework "
        "failed its smoke check (declared compatible, but broken together), or the environment broke.</p><ul>",
    ]
    for c in bad:
        if c["status"] != "ran":
            out.append(
                f'<li><span class="v {_vclass(c["status"])}">{esc(_symbol(c["status"])[0])}</span> '
                f"<b>{esc(c['cell']['id'])}</b>: {esc(c['status'])}<pre>{esc(c.get('reason', ''))}</pre></li>"
            )
        if c.get("stray_processes"):
            out.append(
                f"<li><b>{esc(c['cell']['id'])}</b>: a case left processes running after its tests; "
                "the harness killed them (a server fixture that does not stop its server)</li>"
            )
        for finding in c.get("compat_findings", []) if c["status"] == "ran" else []:
            versions = ", ".join(f"{k} {v}" for k, v in finding["versions"].items())
            out.append(
                f'<li><span class="v v-incompatible">IC</span> <b>{esc(versions)}</b>: installs but fails the smoke check; '
                f"cell {esc(c['cell']['id'])} ran with {esc(', '.join(c.get('fallback_pins', [])))} instead"
                f"<pre>{esc(_first_lines(finding['error']))}</pre></li>"
            )
    out.append("</ul></section>")
    return "\n".join(out)


def _first_lines(text: str, n: int = 12) -> str:
    lines = str(text).splitlines()
    return "\n".join(lines[:n]) + ("\n…" if len(lines) > n else "")


def _changes_html(changes: list[Any]) -> str:
    out = ['<section id="changes"><h2>Changes since the baseline</h2>']
    if not changes:
        out.append("<p>No verdict changed.</p></section>")
        return "\n".join(out)
    out.append(
        '<table class="plain"><tr><th>kind</th><th>case</th><th>test</th><th>cell</th><th>before</th><th>now</th></tr>'
    )
    for ch in changes:
        out.append(
            f"<tr><td>{esc(ch.kind)}</td><td>{esc(ch.case)}</td><td>{esc(ch.test)}</td><td>{esc(ch.cell)}</td>"
            f"<td>{esc(ch.old)}</td><td>{esc(ch.new)}</td></tr>"
        )
    out.append("</table></section>")
    return "\n".join(out)


def _case_html(
    slug: str,
    case: Case | None,
    cells: Sequence[Mapping[str, Any]],
    rows: Mapping[tuple[str, str], TestRow],
    checks: list[ClaimCheck],
) -> str:
    title = case.title if case else slug
    out = [
        f'<details class="case-detail" id="case-{esc(slug)}"><summary><b>{esc(title)}</b> '
        f'<span class="kind">{esc(case.kind if case else "")}</span> '
        f'<span class="claim c-{esc(analysis.case_claim_status(checks))}">claim: {esc(analysis.case_claim_status(checks))}</span></summary>'
    ]
    if case is None:
        out.append("<p>This case has results but no folder in <code>cases/</code> any more.</p></details>")
        return "\n".join(out)
    if case.summary:
        out.append(f"<p>{esc(case.summary)}</p>")
    if case.sources:
        out.append(
            "<p>Sources:</p><ul>"
            + "".join(
                f'<li><a href="{esc(safe_url(str(s.get("url", ""))))}" rel="noreferrer">{esc(s.get("title", s.get("url", "")))}</a></li>'
                for s in case.sources
            )
            + "</ul>"
        )
    claim_text = str(case.claim.get("text", "")).strip()
    out.append(
        f'<h4>The document\'s claim</h4><p class="section">{esc(case.claim.get("section", ""))}</p><p>{esc(claim_text)}</p>'
    )
    if checks:
        out.append(
            '<table class="plain"><tr><th>test</th><th>where</th><th>claimed</th><th>observed</th><th>status</th></tr>'
        )
        for chk in checks:
            observed = Counter(
                [chk.expected] * len(chk.agree) + [v for _, v in chk.differ] + [v for _, v in chk.silent]
            )
            obs = ", ".join(f"{v} ×{n}" for v, n in observed.most_common()) or "no cell"
            differ = ""
            if chk.differ:
                differ = (
                    "<br><small>differs in: "
                    + esc(", ".join(f"{cid} ({v})" for cid, v in chk.differ[:12]))
                    + (" …" if len(chk.differ) > 12 else "")
                    + "</small>"
                )
            out.append(
                f"<tr><td>{esc(chk.test)}</td><td>{esc(', '.join(chk.where) or 'every cell')}</td>"
                f'<td>{esc(chk.expected)}</td><td>{esc(obs)}{differ}</td><td class="c-{esc(chk.status)}">{esc(chk.status)}</td></tr>'
            )
        out.append("</table>")
    case_rows = [r for (c, _), r in sorted(rows.items()) if c == slug]
    if case_rows:
        out.append("<h4>Observed across versions</h4><ul>")
        for row in case_rows:
            cells_for_row = [c for c in cells if row.verdicts.get(c["cell"]["id"], NOT_RUN) != NOT_RUN]
            by_group: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
            for c in cells_for_row:
                by_group[c["cell"]["group"]].append(c)
            desc = []
            for group, gcells in by_group.items():
                axis = analysis.varying_axis(gcells)
                spans = analysis.spans(row, gcells, axis)
                text = "; ".join(
                    f"{s.verdict} ({axis} {s.first}" + (f"–{s.last}" if s.last != s.first else "") + ")" for s in spans
                )
                flips = analysis.first_flips(row, gcells, axis)
                desc.append(
                    f"<li><i>{esc(group)}</i>: {esc(text)}"
                    + ("<br><small>" + esc("; ".join(flips)) + "</small>" if flips else "")
                    + "</li>"
                )
            out.append(
                f'<li><span class="role r-{esc(row.role)}">{esc(row.role)}</span> <code>{esc(row.test)}</code>'
                f"{(' — ' + esc(row.note)) if row.note else ''}<ul>{''.join(desc)}</ul>"
            )
            messages: dict[str, list[str]] = defaultdict(list)
            for cid, msg in row.messages.items():
                # Failure messages only: a pass has none and an n/a skip reason is not a failure.
                if row.verdicts.get(cid) not in ("reproduces", "holds", "works", "n/a", NOT_RUN):
                    messages[msg].append(cid)
            for msg, cids in list(messages.items())[:6]:
                out.append(
                    f'<details class="msg"><summary>message in {len(cids)} cell(s): {esc(", ".join(cids[:4]))}'
                    f"{' …' if len(cids) > 4 else ''}</summary><pre>{esc(msg)}</pre></details>"
                )
            out.append("</li>")
        out.append("</ul>")
    for name, code in case.files.items():
        out.append(f'<details class="code"><summary>{esc(name)}</summary>{_highlight(code)}</details>')
    out.append("</details>")
    return "\n".join(out)


def _highlight(code: str) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f"<pre>{esc(code)}</pre>"
    return str(highlight(code, PythonLexer(), HtmlFormatter(cssclass="hl")))


def _pygments_css() -> str:
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:
        return ""
    return str(HtmlFormatter(style="friendly").get_style_defs(".hl"))
