"""One way to observe cells, whatever asks for it (matrix, cell, latest, bisect, the narrowing of a
flip to its exact release, candidate): write the run's manifest, run the cells, merge their files,
confirm every flip by re-running it, merge again.

The caller holds the run lock (``holding``) for as long as it writes into ``settings.out``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as replace_ctx
from pathlib import Path

from known_issues import run_files
from known_issues.errors import SchemaError
from known_issues.matrix import Cell
from known_issues.results import CellResult, RunResult
from known_issues.runner.all_cells import More, RunSummary, run_cells, say
from known_issues.runner.confirm import confirm
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings


@dataclass
class Observed:
    merged: RunResult | None  # the merged run; None when interrupted or unchanged
    summary: RunSummary
    confirmed: int = 0  # flips re-run before they were reported
    unchanged: bool = False  # every cell's file as it was, and the run the same cells: nothing merged
    out: Path | None = None  # where an unchanged run's results are (read only when asked for)

    @property
    def interrupted(self) -> bool:
        return self.summary.interrupted

    @functools.cached_property
    def run(self) -> RunResult | None:
        """The run: just merged, or, when nothing changed, as it is on disk; None when interrupted."""
        if self.merged is None and self.unchanged and self.out is not None:
            return RunResult.read(self.out / "results.json")
        return self.merged


@contextlib.contextmanager
def holding(settings: Settings, *more: Path) -> Iterator[None]:
    """The run lock, the one policy: the environments and the results folder (and ``more``), each
    waited for with a message when another run holds it."""
    with run_files.exclusive(settings.envs, settings.out, *more):
        yield


def previous_run(out: Path) -> RunResult | None:
    """The results a run replaces (the default baseline for confirming flips)."""
    try:
        return RunResult.read(out / "results.json")
    except (OSError, SchemaError) as exc:
        if not isinstance(exc, FileNotFoundError):
            say(f"note: the previous results in {out} are not comparable ({exc}); flips are checked against neighbours")
        return None


class _Previous:
    """The baseline default: the results in the output folder before this run merges."""


PREVIOUS = _Previous()


def observe(
    ctx: RunContext,
    cells: Sequence[Cell],
    *,
    replace: bool,
    resume: bool = False,
    baseline: RunResult | _Previous | None = PREVIOUS,
    pairs: Mapping[str, str] | None = None,
    confirm_flips: bool = True,
    newest: Mapping[str, str] | None = None,
    more: More | None = None,
) -> Observed:
    """Observe ``cells`` into ``ctx.settings.out``. ``replace``: the run is these cells (else they join
    the cells already there); ``pairs``: the baseline cell each new cell is compared with (default: the
    same id); ``newest``: the newest release of each package, recorded in the manifest; ``more``: asked
    for cells to run next as each cell finishes (run_cells), and they join the run."""
    settings = ctx.settings
    out = settings.out
    before = run_files.read_manifest(out)
    durations = before.durations if before else {}
    sources = dict(ctx.index.sources) if ctx.index is not None else {}
    manifest = run_files.build_manifest(
        cells,
        settings.matrix.name,
        sources,
        None if replace else before,
        settings.matrix.descriptions,
        newest=dict(newest or {}),
    )
    manifest.durations = {**durations, **manifest.durations}
    # What each cell's file was made from stays known across runs that replace the cell list.
    manifest.inputs = {**(before.inputs if before else {}), **manifest.inputs}
    run_files.write_manifest(out, manifest)
    known = {cid: (found[0], found[1]) for cid, found in (before.inputs if before else {}).items() if len(found) == 2}
    following: list[Cell] = []

    def more_and_kept(result: CellResult) -> Sequence[Cell]:
        assert more is not None
        found = more(result)
        following.extend(found)
        return found

    summary = run_cells(
        replace_ctx(ctx, known=known),
        cells,
        resume=resume,
        expected=durations,
        more=more_and_kept if more is not None else None,
    )
    if following:
        listed = {c.id for c in manifest.cells}
        manifest.cells += [c for c in following if c.id not in listed]
        run_files.write_manifest(out, manifest)
    if summary.interrupted:
        return Observed(None, summary)
    same_cells = before is not None and [c.id for c in before.cells] == [c.id for c in manifest.cells]
    if same_cells and all(r.unchanged for r in summary.results) and (out / "results.json").exists():
        return Observed(None, summary, unchanged=True, out=out)
    # Nothing observed, nothing to confirm: every reused verdict was settled when it was observed.
    checking = confirm_flips and any(result.cases_run for result in summary.results)
    # Read before the merge replaces results.json.
    against = (previous_run(out) if isinstance(baseline, _Previous) else baseline) if checking else None
    run = run_files.merge(out)
    confirmed = 0
    if checking:
        confirmed = confirm(ctx, run, against, [c.id for c in cells], pairs)
        if confirmed:
            run = run_files.merge(out)  # the re-runs rewrote cell files
    return Observed(run, summary, confirmed)
