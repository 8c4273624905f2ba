"""Before the release: run every case on a FastAPI (or Starlette, Pydantic) that is not released yet, and
say what it fixes, breaks or newly reproduces against the newest release.

``nox -s candidate -- fastapi=<source tree | git URL@ref | wheel or sdist file> [starlette=...]``: the
candidate is installed from its source into a cell like the newest release's (the `latest` cell: every
other axis at its newest release, the same tool pins and rules), every case runs there (the server and
project cases too), and each verdict is compared with the same test in the newest released cell, observed
(or served from the result store) first. A change is confirmed by re-running it, as in the matrix.

The candidate is known by its content (a tree's digest, a file's digest, a commit): it is copied to a
folder named by it, so the cell's lock and environment, and so every stored result, follow the content:
the same candidate twice observes nothing the second time; a changed file observes again.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from known_issues.catalog import load_cases
from known_issues.cell.atomic import write_text
from known_issues.cell.verdicts import Verdict
from known_issues.errors import UsageError
from known_issues.latest import cell_of_newest_releases
from known_issues.matrix import EVERY_CASE, Cell
from known_issues.observe import holding, observe
from known_issues.outcomes import ATTENTION, Change, change_kind
from known_issues.reporting.analysis import grid
from known_issues.reporting.markdown import code, text
from known_issues.reporting.model import upstream
from known_issues.results import CellResult, RunResult
from known_issues.runner.pypi import PackageIndex
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

GROUP = "candidate"
EXIT_INTERRUPTED = 130
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tgz")
_NOT_SOURCE = (".git", "__pycache__", "*.pyc", ".nox", ".venv", "build", "dist", "*.egg-info")
_SKIP = shutil.ignore_patterns(*_NOT_SOURCE)
EVIDENCE_CHARS = 400


@dataclass(frozen=True)
class Candidate:
    name: str  # the package, canonical
    given: str  # what was asked for
    kind: str  # "tree", "file" or "git"
    key: str  # its content: a digest or a commit, 12 characters
    url: str  # where it is installed from (a folder named by its content, or the commit)

    @property
    def label(self) -> str:
        return f"{self.name} {self.kind} {self.key}"


def parse(spec: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise UsageError(f"{spec!r}: expected NAME=SOURCE (a source tree, a git URL@ref, or a wheel or sdist file)")
    return str(canonicalize_name(name.strip())), value.strip()


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(_SKIP(str(folder), [part]) for part in relative.parts):
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _git_commit(url: str, ref: str) -> str:
    found = subprocess.run(["git", "ls-remote", url, ref], capture_output=True, text=True, timeout=120, check=False)
    lines = [ln.split()[0] for ln in found.stdout.splitlines() if ln.strip()]
    if found.returncode != 0 or not lines:
        if re.fullmatch(r"[0-9a-f]{7,40}", ref):
            return ref  # already a commit
        raise UsageError(f"{url}@{ref}: no such ref ({found.stderr.strip() or 'git ls-remote found nothing'})")
    return lines[0]


def prepare(name: str, value: str, store: Path) -> Candidate:
    """The candidate, copied where its content names it (a git ref: pinned to its commit)."""
    path = Path(value).expanduser()
    if path.is_dir():
        key = tree_digest(path)
        target = store / f"{name}-{key}" / "src"
        if not target.exists():
            shutil.copytree(path, target.with_name("src.partial"), ignore=_SKIP, dirs_exist_ok=True)
            target.with_name("src.partial").rename(target)
        return Candidate(name, value, "tree", key, target.resolve().as_uri())
    if path.is_file():
        if not path.name.endswith(_ARCHIVES):
            raise UsageError(f"{value}: not a wheel or an sdist ({', '.join(_ARCHIVES)})")
        key = file_digest(path)
        target = store / f"{name}-{key}" / path.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return Candidate(name, value, "file", key, target.resolve().as_uri())
    if "://" in value or value.startswith("git@"):
        url = value.removeprefix("git+")
        repo, _, ref = url.rpartition("@") if "@" in url.split("://", 1)[-1] else (url, "", "HEAD")
        commit = _git_commit(repo, ref or "HEAD")
        return Candidate(name, value, "git", commit[:12], f"git+{repo}@{commit}")
    raise UsageError(f"{name}={value}: no such folder or file, and not a git URL")


def cells_for(
    settings: Settings, index: PackageIndex, candidates: Sequence[Candidate], python: str
) -> tuple[Cell, Cell]:
    """The newest released cell (every axis at its newest, every case) and the same cell with the candidates."""
    newest = cell_of_newest_releases(settings.matrix, index, python)
    cases = (EVERY_CASE, *settings.matrix.only_where_named)
    released = replace(newest, group=GROUP, cases=cases)
    requested = dict(released.requested)
    for c in candidates:
        requested[c.name] = f"cand-{c.key}"
    order = [
        *(n for n, _ in released.requested),
        *(c.name for c in candidates if c.name not in dict(released.requested)),
    ]
    candidate = Cell(
        GROUP, python, tuple((n, requested[n]) for n in order), cases, tuple((c.name, c.url) for c in candidates)
    )
    return released, candidate


@dataclass
class Verdicts:
    """One test in the released cell and in the candidate's."""

    case: str
    test: str
    role: str
    old: Verdict
    new: Verdict
    kind: Change | None
    evidence: str
    observations: tuple[Verdict, ...]

    @property
    def needs_attention(self) -> bool:
        return self.kind in ATTENTION


def compare(released: CellResult, candidate: CellResult) -> list[Verdicts]:
    rows = grid([released, candidate])
    out = []
    for key, row in sorted(rows.items()):
        old, new = row.verdict(released.id), row.verdict(candidate.id)
        if Verdict.NOT_RUN in (old, new) and candidate.ran:
            continue  # a case only one of the two cells observed (kept from an earlier, wider run)
        seen = row.seen(candidate.id)
        message = (seen.message or seen.observation).strip()
        first = message.splitlines()[0][:EVIDENCE_CHARS] if message else ""
        out.append(
            Verdicts(key[0], key[1], str(row.role), old, new, change_kind(row.role, old, new), first, seen.observations)
        )
    return out


SECTIONS = (
    (Change.BUG_FIXED, "What it fixes"),
    (Change.WORKAROUND_BROKEN, "Workarounds it breaks"),
    (Change.PATTERN_BROKEN, "Patterns it breaks"),
    (Change.BUG_BACK, "What it newly reproduces"),
    (Change.NEW_ERROR, "New errors (the suite could not observe)"),
)


def markdown(candidates: Sequence[Candidate], released: CellResult, candidate: CellResult, found: list[Verdicts],
             cases_dir: Path, only_cases: Sequence[str] = ()) -> str:  # fmt: skip
    cases = load_cases(cases_dir)
    names = ", ".join(f"{c.name} from {code(c.given)} ({c.kind} {c.key})" for c in candidates)
    versions = ", ".join(f"{a} {released.version_of(a)}" for a in released.cell.axes)
    changed = [v for v in found if v.kind is not None and v.kind not in (Change.NEW_TEST, Change.GONE)]
    attention = [v for v in changed if v.needs_attention]
    ran = "Every case" if not only_cases else "The cases " + ", ".join(only_cases)
    lines = [
        f"## Candidate: {names}",
        "",
        f"{ran} ran with the candidate in place of the newest release ({versions}); {len(found)} tests "
        "compared with the newest released cell, every change re-run before it is reported.",
        "",
    ]
    if candidate.cell_verdict is not None:
        return "\n".join(
            [*lines, f"**The candidate's cell did not run**: {candidate.status}: {text(candidate.reason[:500])}", ""]
        )
    if not changed:
        return "\n".join([*lines, "No verdict changed.", ""])
    if attention:
        lines += [f"**{len(attention)} change(s) need a maintainer.**", ""]
    shown: set[int] = set()
    for kind, title in SECTIONS:
        mine = [v for v in changed if v.kind == kind]
        if not mine:
            continue
        lines += [f"### {title}", ""]
        for v in mine:
            shown.add(id(v))
            lines.append(_line(v, cases))
        lines.append("")
    rest = [v for v in changed if id(v) not in shown]
    if rest:
        lines += ["### Other changes", "", *(_line(v, cases) for v in rest), ""]
    return "\n".join(lines)


def _line(v: Verdicts, cases: dict[str, Any]) -> str:
    case = cases.get(v.case)
    title = text(case.title) if case else v.case
    _, issue = upstream(case.sources) if case else (None, None)
    where = f" Upstream: [{text(issue.label)}]({issue.url})." if issue else ""
    evidence = f" Evidence: {code(v.evidence)}" if v.evidence else ""
    flaky = f" (observed {', '.join(str(o) for o in v.observations)})" if v.observations else ""
    return f"- **{title}** ({code(f'{v.case}::{v.test}')}, {v.role}): {v.old} \u2192 {v.new}{flaky}.{where}{evidence}"


def _json(v: Verdicts) -> dict[str, Any]:
    return {**v.__dict__, "old": str(v.old), "new": str(v.new), "kind": str(v.kind),
            "observations": [str(o) for o in v.observations]}  # fmt: skip


def run_candidate(settings: Settings, index: PackageIndex, specs: Sequence[str], python: str) -> int:
    if not specs:
        raise UsageError("name a candidate: NAME=SOURCE (a source tree, a git URL@ref, or a wheel or sdist file)")
    parsed = [parse(s) for s in specs]
    if len({n for n, _ in parsed}) != len(parsed):
        raise UsageError("each package may be named once")
    store = settings.env_dir("candidates")
    candidates = [prepare(name, value, store) for name, value in parsed]
    released, cell = cells_for(settings, index, candidates, python)
    out = settings.out / "candidate" / "-".join(f"{c.name}-{c.key}" for c in candidates)
    steps = replace(settings, out=out)
    print(f"candidate: {', '.join(c.label for c in candidates)}; compared with {released.id}", flush=True)
    with holding(steps):
        ctx = RunContext.build(steps, index)
        before = observe(ctx, [released], replace=True, confirm_flips=False)
        if before.run is None:
            return EXIT_INTERRUPTED
        baseline = RunResult([c for c in before.run.cells if c.id == released.id])
        after = observe(ctx, [cell], replace=False, baseline=baseline, pairs={cell.id: released.id})
        if after.run is None:
            return EXIT_INTERRUPTED
    results = {c.id: c for c in after.run.cells}
    found = compare(results[released.id], results[cell.id])
    summary = markdown(
        candidates, results[released.id], results[cell.id], found, settings.cases_dir, settings.only_cases
    )
    document = {
        "candidates": [c.__dict__ for c in candidates],
        "released": released.id,
        "cell": cell.id,
        "status": str(results[cell.id].status),
        "changes": [_json(v) for v in found if v.kind is not None and v.kind not in (Change.NEW_TEST, Change.GONE)],
    }
    write_text(out / "summary.md", summary)
    write_text(out / "candidate.json", json.dumps(document, indent=2) + "\n")
    print(summary)
    print(f"summary: {out / 'summary.md'}")
    attention = [v for v in found if v.needs_attention]
    if results[cell.id].cell_verdict is not None:
        print("the candidate's cell did not run: exit 1", file=sys.stderr)
        return 1
    if attention:
        print(f"{len(attention)} change(s) need a maintainer: exit 1", file=sys.stderr)
        return 1
    return 0
