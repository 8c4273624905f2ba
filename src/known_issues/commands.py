"""The commands that run cells, each a short list of steps over the shared pieces."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from known_issues import matrix as matrix_mod
from known_issues import narrowing, run_files
from known_issues.catalog import case_names, files_digest, load_cases
from known_issues.cell.atomic import write_text
from known_issues.errors import PackageIndexError, SchemaError, UsageError
from known_issues.guide import Guide
from known_issues.guide import load as load_guide
from known_issues.matrix import Cell
from known_issues.observe import PREVIOUS, holding, observe
from known_issues.reporting.model import Model
from known_issues.results import CellResult, RunResult
from known_issues.runner import locks as locks_mod
from known_issues.runner.all_cells import say
from known_issues.runner.pypi import PackageIndex
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

EXIT_OK, EXIT_UNOBSERVED, EXIT_INTERRUPTED = 0, 1, 130


def run_matrix(
    settings: Settings,
    index: PackageIndex,
    cells: Sequence[Cell],
    *,
    replace: bool,
    resume: bool = False,
    baseline_path: Path | None = None,
) -> int:
    """Observe cells (confirming their flips), narrow each flip to its exact release, rebuild the report.
    Exit 0 when every cell gave verdicts (or a definite not installable / incompatible), 1 when some
    cell could not be observed, 130 when interrupted."""
    baseline = RunResult.read(baseline_path) if baseline_path else PREVIOUS
    with holding(settings):
        ctx = RunContext.build(settings, index)
        observed = observe(ctx, cells, replace=replace, resume=resume, baseline=baseline)
        # An unchanged run keeps the answers it had, unless another narrowing wrote them.
        narrow = observed.merged is not None or not narrowing.answers_current(settings.out)
        if narrow and observed.run is not None:
            answers = narrowing.narrow(ctx, observed.run, narrowing.releases_between(index.versions))
            narrowing.write_answers(settings.out, answers)
        report(settings, None, observed.merged, unchanged=observed.unchanged, index=index)
    counts: dict[str, int] = {}
    for result in observed.summary.results:
        counts[str(result.status)] = counts.get(str(result.status), 0) + 1
    print("cells: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if observed.interrupted:
        return EXIT_INTERRUPTED
    if not observed.summary.all_observed:
        print("some cells could not be observed (status error): exit 1", file=sys.stderr)
        return EXIT_UNOBSERVED
    return EXIT_OK


class _CachedReleases:
    """Release dates and notes pages from the package index, or nothing when it is out of reach."""

    def __init__(self, index: PackageIndex) -> None:
        self.index = index
        self._dates: dict[tuple[str, str], str | None] = {}  # every flip of a release asks again

    def released(self, name: str, version: str) -> str | None:
        if (name, version) not in self._dates:
            try:
                self._dates[name, version] = self.index.released(name, version)
            except (PackageIndexError, ValueError):
                self._dates[name, version] = None
        return self._dates[name, version]

    def release_notes(self, name: str) -> str | None:
        return self.index.release_notes(name)  # None when the metadata cannot be read

    def project_page(self, name: str, version: str) -> str | None:
        """A page of the project's own about this release (for the report, instead of a registry link)."""
        return self.index.project_page(name, version)

    def between(self, name: str, python: str, low: str, high: str) -> list[str]:
        """The releases strictly between two (raises PackageIndexError when the index cannot tell)."""
        return narrowing.releases_between(self.index.versions)(name, python, low, high)

    def out_since(self, baseline: RunResult) -> Callable[[str, str], bool]:
        """Whether a release came out since the baseline was made (unknown dates count as new): a group
        added to the matrix brings old releases the baseline did not have, and they are not news."""
        day = baseline.generated[:10]

        def is_new(name: str, version: str) -> bool:
            date = None if name == "python" else self.released(name, version)
            return date is None or not day or date >= _day_before(day)

        return is_new


def _day_before(day: str) -> str:
    import datetime as dt

    try:
        return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    except ValueError:
        return ""


REPORT_INPUTS = ".report-inputs"


def report_inputs(settings: Settings, baseline: RunResult | None, site_url: str) -> str:
    """Everything the report is made from: the results on disk, the narrowed changes and bisect answers,
    the cases' files, the harness's own code and templates, the guide's text, the baseline, the address."""
    digest = hashlib.sha256(f"{site_url}\n{baseline.generated if baseline else ''}\n".encode())
    for name in ("results.json", narrowing.ANSWERS, "bisect/answers.json"):
        path = settings.out / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    package = Path(__file__).resolve().parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for slug in case_names(settings.cases_dir):
        digest.update(f"{slug}={files_digest(settings.cases_dir / slug)}".encode())
    if settings.guide is not None and settings.guide.exists():
        digest.update(settings.guide.read_bytes())
    return digest.hexdigest()[:20]


def report(
    settings: Settings,
    baseline: RunResult | None,
    merged: RunResult | None = None,
    site_url: str = "",
    unchanged: bool = False,
    index: PackageIndex | None = None,
) -> Path:
    """Build the report from ``merged`` (the results just merged), else merge the cell files; when the run
    left every cell as it was (``unchanged``), the results on disk are the run, and a report made from the
    same inputs is left as it is."""
    from known_issues.reporting.build import build

    index_html = settings.out / "index.html"
    if unchanged:
        inputs = report_inputs(settings, baseline, site_url)
        kept = settings.out / REPORT_INPUTS
        if index_html.exists() and kept.exists() and kept.read_text(encoding="utf-8").strip() == inputs:
            print(f"report: {index_html} (unchanged: made from the same results, cases and code)")
            return index_html
        run = RunResult.read(settings.out / "results.json")
    else:
        run = merged if merged is not None else run_files.merge(settings.out)
    cases = load_cases(settings.cases_dir)
    # The run's own index when there is one: what it already read is not asked again.
    index = index or PackageIndex(
        settings.env_dir("index"), settings.index.url, settings.offline, settings.index.source
    )
    releases = _CachedReleases(index)
    path = build(
        run,
        cases,
        settings.out,
        baseline,
        releases,
        run_files.read_bisect_answers(settings.out),
        narrowed=narrowing.read_answers(settings.out),
        guide_groups=settings.matrix.guide_groups,
        guide=_guide_at_hand(settings.guide),
        site_url=site_url,
    )
    write_text(settings.out / REPORT_INPUTS, report_inputs(settings, baseline, site_url) + "\n")
    print(f"report: {path} ({len(run.cells)} cells)")
    return path


def model_of_report(settings: Settings, index: PackageIndex) -> Model:
    """The analysis of the run in ``settings.out`` (its results.json and narrowed changes), for commands
    that answer from the last run without observing anything."""
    try:
        run = RunResult.read(settings.out / "results.json")
    except OSError as exc:
        raise UsageError(f"no results in {settings.out} ({exc.strerror}): run `nox -s matrix` first") from exc
    releases = _CachedReleases(index)
    return Model.of(
        run,
        load_cases(settings.cases_dir),
        bisected=run_files.read_bisect_answers(settings.out),
        narrowed=narrowing.read_answers(settings.out),
        between=releases.between,
    )


def _guide_at_hand(path: Path | None) -> Guide | None:
    """The guide's text when it is at hand (settings.guide): the errata then follow its order."""
    if path is None:
        return None
    try:
        return load_guide(path)
    except OSError as exc:
        say(f"note: the guide at {path} cannot be read ({exc.strerror}): the errata follow its section names")
        return None


def rebuild_manifest(settings: Settings, index: PackageIndex) -> None:
    """Cell files without a manifest (CI's report job downloads one file per cell job): list the
    matrix's cells in matrix order, so a cell whose job produced nothing shows as missing, then any
    other cell file found. Without the index (offline, no cache) the cell files alone are used."""
    try:
        cells = matrix_mod.expand(settings.matrix, index.versions)
    except PackageIndexError as exc:
        print(f"warning: {exc}: the report lists only the cell files found", file=sys.stderr)
        cells = []
    ids = {c.id for c in cells}
    for path in sorted((settings.out / "cells").glob("*.json")):
        try:
            cell = CellResult.read(path).cell
        except (OSError, SchemaError):
            continue  # not a cell file of this harness: it cannot be in the report either
        if cell.id not in ids:
            ids.add(cell.id)
            cells.append(cell)
    manifest = run_files.build_manifest(
        cells, settings.matrix.name, dict(index.sources), None, settings.matrix.descriptions
    )
    run_files.write_manifest(settings.out, manifest)
    print(f"no {settings.out / 'run.json'}: rebuilt it from the matrix and the cell files ({len(cells)} cells)")


def stale_cells(settings: Settings, index: PackageIndex, cells: Sequence[Cell]) -> list[Cell]:
    """The cells a run would observe anything in; the others are served whole from the result store."""
    from concurrent.futures import ThreadPoolExecutor

    from known_issues.runner.one_cell import needs_run

    ctx = RunContext.build(settings, index)
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        flags = list(pool.map(lambda c: needs_run(ctx, c, run_files.read_cell(settings.out, c.id)), cells))
    stale = [c for c, flag in zip(cells, flags, strict=True) if flag]
    print(f"{len(stale)} of {len(cells)} cell(s) have something to observe", file=sys.stderr)
    return stale


def lock_tools(settings: Settings) -> int:
    """Resolve the test tools (the cell group, every case's dependencies, the first group's axes at
    their newest) once, for every Python, into tools.lock."""
    cases = load_cases(settings.cases_dir)
    extras = settings.matrix.extras
    axes = []
    for name, _ in settings.matrix.groups[0].axes:
        ex = extras.get(name, ())
        axes.append(f"{name}[{','.join(ex)}]" if ex else name)
    requirements = locks_mod.cell_group(settings.root) + [d for c in cases.values() for d in c.dependencies] + axes
    lock = locks_mod.resolve_tools(requirements, offline=settings.offline, index_url=settings.index.url)
    header = (
        "# The test tools every cell prefers (python -m known_issues lock-tools, or nox -s lock-tools), and\n"
        "# every other package the older cells prefer. Axis packages are listed but never preferred: each cell\n"
        "# resolves its axes itself; a newest cell prefers only the test tools (the rest as a fresh install).\n"
    )
    path = settings.root / locks_mod.TOOLS_LOCK
    write_text(path, header + lock)
    print(f"wrote {path} ({sum(1 for ln in lock.splitlines() if '==' in ln)} pins)")
    return 0
