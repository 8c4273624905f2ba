"""Results on disk: one JSON file per cell, a run manifest, the merged run file, and the run lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from known_issues import results
from known_issues.cell.atomic import write_json, write_text
from known_issues.cell.serial import dump
from known_issues.cell.timestamps import utc_now
from known_issues.errors import SchemaError
from known_issues.matrix import Cell
from known_issues.records import check_schema, load
from known_issues.results import BISECT_SCHEMA, BisectAnswer, BisectAnswers, CellResult, RunResult

MANIFEST_SCHEMA = 2


def cell_file(out: Path, cell_id: str) -> Path:
    return out / "cells" / f"{safe(cell_id)}.json"


def safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in text)


def read_cell(out: Path, cell_id: str) -> CellResult | None:
    """The stored result of a cell; None when there is none or it is from another results schema."""
    try:
        return CellResult.read(cell_file(out, cell_id))
    except (OSError, ValueError, KeyError, SchemaError):
        return None


def write_cell(out: Path, result: CellResult) -> Path:
    path = cell_file(out, result.id)
    write_json(path, dump(result))
    return path


def take_newest(out: Path, folders: Sequence[Path]) -> list[str]:
    """Cell files observed elsewhere join ``out``'s (CI: each cell job's artifact, in a folder of its
    own, beside the previous run's files restored from the cache): for each cell the newest
    observation is kept, by the ``finished`` time ``run_cell`` sets, whatever order the copies are
    found in, so a stale copy never replaces a fresh one. Returns the ids whose file was replaced."""
    best: dict[str, tuple[tuple[float, str], Path]] = {}
    candidates = sorted((out / "cells").glob("*.json")) + [p for f in folders for p in sorted(f.rglob("*.json"))]
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8")
            result = CellResult.read(path)
        except (OSError, ValueError, KeyError, SchemaError):
            continue  # not a cell file of this harness: it cannot be in the report either
        # The text breaks a tie of ``finished`` the same way whichever copy is read first.
        rank = (_moment(result.finished), text)
        if result.id not in best or rank > best[result.id][0]:
            best[result.id] = (rank, path)
    replaced = []
    for cell_id, (_, path) in sorted(best.items()):
        target = cell_file(out, cell_id)
        if path != target:
            write_text(target, path.read_text(encoding="utf-8"))
            replaced.append(cell_id)
    return replaced


def _moment(finished: str) -> float:
    """A cell file's ``finished`` time in epoch seconds (a file without one is older than any)."""
    try:
        return datetime.fromisoformat(finished).timestamp()
    except ValueError:
        return float("-inf")


@dataclass
class Manifest:
    """Which cells make up the run in report/ (in matrix order), and where the versions came from."""

    cells: list[Cell]
    matrix: str = ""
    started: str = ""
    index: dict[str, Any] = field(default_factory=dict)
    newest: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # group name -> description, for the report
    # Cell id -> seconds it took when last observed: the next run starts the longest cells first.
    durations: dict[str, float] = field(default_factory=dict)
    # Cell id -> [the inputs its file was made from, its status]: an unchanged cell is not even read.
    inputs: dict[str, list[str]] = field(default_factory=dict)
    schema: int = MANIFEST_SCHEMA


def build_manifest(
    cells: Sequence[Cell],
    matrix: str,
    index: dict[str, Any],
    previous: Manifest | None = None,
    groups: dict[str, str] | None = None,
    **extra: Any,
) -> Manifest:
    """This run's manifest; with ``previous``, the cells it had are kept and the new ones added."""
    known = list(previous.cells) if previous else []
    ids = {c.id for c in known}
    merged = known + [c for c in cells if c.id not in ids]
    described = {**(previous.groups if previous else {}), **(groups or {})}
    index = {**(previous.index if previous else {}), **index}
    durations = previous.durations if previous else {}
    inputs = previous.inputs if previous else {}
    return Manifest(merged, matrix, utc_now(), index, groups=described, durations=durations, inputs=inputs, **extra)


def read_manifest(out: Path) -> Manifest | None:
    try:
        data = json.loads((out / "run.json").read_text(encoding="utf-8"))
        return load(Manifest, check_schema(data, MANIFEST_SCHEMA, "run manifest"))
    except (OSError, ValueError, KeyError, SchemaError):
        return None


def write_manifest(out: Path, manifest: Manifest) -> None:
    write_json(out / "run.json", dump(manifest))


def merge(out: Path) -> RunResult:
    """Merge the manifest's cells (in manifest order) into ``results.json``; return it."""
    manifest = read_manifest(out) or Manifest([])
    cells: list[CellResult] = []
    missing: list[Cell] = []
    for cell in manifest.cells:
        result = read_cell(out, cell.id)
        if result is None:
            missing.append(cell)
        else:
            cells.append(result)
    run = RunResult(
        cells=cells,
        generated=utc_now(),
        matrix=manifest.matrix,
        index=manifest.index,
        missing=missing,
        groups=manifest.groups,
    )
    write_json(out / "results.json", dump(run))
    observed = {c.id: c.timings["total"] for c in cells if c.cases_run and "total" in c.timings}
    # What each cell's file was made from; a cell another run of this folder holds keeps its entry.
    inputs = {**manifest.inputs, **{c.id: [c.inputs, str(c.status)] for c in cells if c.inputs}}
    if observed or inputs != manifest.inputs:
        manifest.durations = {**manifest.durations, **observed}
        manifest.inputs = inputs
        write_manifest(out, manifest)
    return run


def bisect_answers_file(out: Path) -> Path:
    """Where the bisect answers of the results in ``out`` (report/) are kept."""
    return out / "bisect" / "answers.json"


def read_bisect_answers(out: Path) -> list[BisectAnswer]:
    """The answers every bisect so far recorded; none when there are none or they are of another schema."""
    try:
        return results.read(BisectAnswers, bisect_answers_file(out), BISECT_SCHEMA).answers
    except (OSError, SchemaError):
        return []


def record_bisect_answer(out: Path, answer: BisectAnswer) -> None:
    path = bisect_answers_file(out)
    write_json(path, dump(BisectAnswers(read_bisect_answers(out)).with_answer(answer)))


@contextlib.contextmanager
def exclusive(*folders: Path) -> Iterator[None]:
    """Hold a lock on each folder (``.run.lock``) for the whole run: a second run on the same
    environments or results waits for the first instead of corrupting them."""
    with contextlib.ExitStack() as stack:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            fh = stack.enter_context((folder / ".run.lock").open("a+"))
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another run"
                print(
                    f"{folder} is in use by {holder}; waiting for it to finish (another run uses the same folders)",
                    file=sys.stderr,
                    flush=True,
                )
                fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {utc_now()}")
            fh.flush()
        yield
