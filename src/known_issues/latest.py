"""The newest release of every axis: run every case in that one cell and compare with the last run.

The cell comes from the matrix machinery (a one-group matrix with ``latest`` on each axis of the
matrix's first group, the matrix file's extras and rules), so it is built and recorded exactly
like a matrix cell. Its id embeds the versions, so the comparison pairs the newest cell of the
baseline with the new cell. A change is confirmed by re-running it before it counts.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from known_issues import matrix as matrix_mod
from known_issues.cell.atomic import write_text
from known_issues.errors import PackageIndexError
from known_issues.matrix import LATEST, Cell, Group, Matrix, Selector
from known_issues.observe import holding, observe
from known_issues.reporting.diff import diff_runs, needs_attention, to_markdown
from known_issues.reporting.releases import Changes, ReleaseChange
from known_issues.results import CellResult, RunResult, newest_cell
from known_issues.runner import installed
from known_issues.runner.all_cells import describe, say
from known_issues.runner.pypi import PackageIndex
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

EXIT_INTERRUPTED = 130

GROUP = "latest"

EXIT_POLICY = (
    "Exit status: 0 when no verdict changed in a way a maintainer must see (including the first run, "
    "which has no baseline, and changes that did not repeat when re-run: flaky); 1 when one did: a bug "
    "fixed, a bug back, a workaround or pattern broken, or a new error; 2 for a usage error or an "
    "unreadable index or baseline; 130 when interrupted."
)


def cell_of_newest_releases(matrix: Matrix, index: PackageIndex, python: str, cases: Sequence[str] = ()) -> Cell:
    """Every axis of the matrix's first group at its newest release, on one Python."""
    axes = tuple((name, Selector(LATEST)) for name, _ in matrix.groups[0].axes)
    group = Group(GROUP, "The newest release of every axis", (python,), axes, tuple(cases), ())
    cells = matrix_mod.expand(dataclasses.replace(matrix, groups=(group,)), index.versions)
    if len(cells) != 1:
        raise RuntimeError(f"expected one newest cell, the index gave {len(cells)}")
    return cells[0]


def axis_packages(matrix: Matrix) -> list[str]:
    """Every package that is an axis of some group, first group first: recorded newest on the index."""
    return list(dict.fromkeys(name for group in matrix.groups for name, _ in group.axes))


@dataclass
class LatestResult:
    cell: CellResult
    baseline_cell: str | None
    changes: Changes | None
    summary: Path

    @property
    def attention(self) -> list[ReleaseChange]:
        return needs_attention(self.changes) if self.changes is not None else []


@dataclass(frozen=True)
class PackageRow:
    """One package of the newest cell: the newest release on the index, the one installed, and why they differ."""

    name: str
    newest: str
    installed: str
    why: str = ""


def package_rows(
    result: CellResult, axes: Sequence[str], index: PackageIndex, envs_dir: Path | None = None
) -> list[PackageRow]:
    """Every axis package of the matrix, then every runtime package of the cell (what a fresh install of
    its runtime requirements gives: ``CellResult.runtime``), each with its newest release on the index
    and the version installed in the cell. Where they differ, why, when it can be read cheaply: the
    newer releases need another Python, or an installed distribution's requirement excludes them
    (read from the environment's metadata, when the environment is at hand)."""
    names = list(dict.fromkeys([*axes, *sorted(result.runtime)]))
    installed_versions = result.versions()
    env = envs_dir / result.env_key if envs_dir is not None and result.env_key else None
    requirements = installed.requirements_of(env) if env is not None and env.is_dir() else {}
    python = result.python or result.cell.python
    rows = []
    for name in names:
        version = installed_versions.get(name, "-")
        try:
            releases = index.releases(name)
        except PackageIndexError:
            rows.append(PackageRow(name, "?", version, "the index does not list it"))
            continue
        if not releases:
            rows.append(PackageRow(name, "-", version, "pre-releases only (a pre-release is never the newest)"))
            continue
        newest, why = releases[-1], ""
        if version not in ("-", newest.version):
            if not newest.supports(python):
                why = f"{newest.version} needs Python {newest.requires_python}"
            else:
                why = "; ".join(installed.holding_back(requirements, name, newest.version, python, result.requirements))
        rows.append(PackageRow(name, newest.version, version, why))
    return rows


def summary_markdown(
    result: CellResult, rows: Sequence[PackageRow], baseline_id: str | None, changes: Changes | None
) -> str:
    lines = [
        "# Newest releases",
        "",
        "| package | newest on the index | installed in the cell | why they differ |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row.name} | {row.newest} | {row.installed} | {row.why} |")
    tools = [
        name + " " + result.distributions[name] + ("" if result.distributions[name] == pin else f" (tools.lock: {pin})")
        for name, pin in sorted(result.run_pins.items())
        if name in result.distributions
    ]
    if tools:
        lines += ["", f"Test tools, preferred at the pins of tools.lock: {', '.join(tools)}."]
    lines += ["", f"Cell {describe(result)}", ""]
    if baseline_id is None or changes is None:
        lines += ["No baseline: this run is the baseline for the next one.", ""]
        return "\n".join(lines)
    lines += [f"Compared with the baseline cell `{baseline_id}`.", ""]
    attention = needs_attention(changes)
    if attention:
        lines += [
            f"**{len(attention)} change(s) need a maintainer** (bug fixed or back, something broken, new error).",
            "",
        ]
    return "\n".join(lines) + "\n" + to_markdown(changes, title="What the new releases changed since the baseline")


def run_latest(
    ctx: RunContext,
    python: str,
    baseline: Path | None,
    echo: Callable[[str], None] = say,
) -> LatestResult | None:
    """Run the newest cell into ctx.settings.out (report/latest/); None when interrupted.

    Without an explicit baseline the previous run kept there is the baseline; it is copied to
    previous.json first, because this run's merge replaces results.json.
    """
    settings, index = ctx.settings, ctx.index
    assert index is not None
    out = settings.out
    kept = out / "results.json"
    if baseline is None and kept.exists():
        baseline = out / "previous.json"
        shutil.copyfile(kept, baseline)
    old_run = RunResult.read(baseline) if baseline is not None else None

    cell = cell_of_newest_releases(settings.matrix, index, python, settings.only_cases)
    newest = {name: index.releases(name)[-1].version for name in axis_packages(settings.matrix)}
    echo(f"newest on the index: {', '.join(f'{n} {v}' for n, v in newest.items())}")
    old_cell = _baseline_cell(old_run, python)
    baseline_id = old_cell.id if old_cell is not None else None
    observed = observe(
        ctx,
        [cell],
        replace=True,
        baseline=old_run,
        pairs={cell.id: baseline_id} if baseline_id else None,
        confirm_flips=baseline_id is not None,
        newest=newest,
    )
    if observed.run is None:
        return None
    run = observed.run
    result = run.cells[0]
    changes = diff_runs(old_run, run, {cell.id: baseline_id}) if old_run and baseline_id else None
    path = out / "summary.md"
    rows = package_rows(result, list(newest), index, settings.env_dir("cells"))
    write_text(path, summary_markdown(result, rows, baseline_id, changes))
    return LatestResult(result, baseline_id, changes, path)


def _baseline_cell(run: RunResult | None, python: str) -> CellResult | None:
    """The baseline cell to compare with: its own newest cell, preferring this Python."""
    if run is None or not run.cells:
        return None
    same_python = [c for c in run.cells if c.cell.python == python]
    return newest_cell(same_python or run.cells) or run.cells[-1]


def run_latest_command(settings: Settings, index: PackageIndex, python: str, baseline: Path | None) -> int:
    with holding(settings):
        ctx = RunContext.build(settings, index)
        result = run_latest(ctx, python, baseline)
    if result is None:
        return EXIT_INTERRUPTED
    print(result.summary.read_text(encoding="utf-8"))
    print(f"summary: {result.summary}")
    if result.attention:
        print(f"{len(result.attention)} verdict change(s) need a maintainer: exit 1", file=sys.stderr)
        return 1
    return 0
