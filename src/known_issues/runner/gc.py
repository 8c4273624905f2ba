"""Keep ``.envs`` bounded: remove environments unused for a while, then the least recently used
ones until the folder is under a size; remove stored results (and the locks and smoke answers kept
beside them) that no run has read for as long. A stored result is reused without its environment,
so the two age apart: a result outlives its environment as long as runs keep asking for it."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from known_issues.runner import bytecode
from known_issues.runner.environments import BYTECODE, COMPLETE

GB = 1024**3


@dataclass(frozen=True)
class Env:
    path: Path
    last_used: float
    size: int


def folder_size(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def environments(cells: Path) -> list[Env]:
    out = []
    for path in sorted(cells.iterdir()) if cells.is_dir() else []:
        marker = path / COMPLETE
        # An environment without its marker is half-made (an interrupted build): never reused, always removable.
        last = marker.stat().st_mtime if marker.exists() else 0.0
        out.append(Env(path, last, folder_size(path)))
    return out


def collect(
    envs: Path, max_age_days: float, max_gb: float, dry_run: bool = False, now: float | None = None
) -> list[Env]:
    """Remove what is too old, then the least recently used until under ``max_gb``; print each removal."""
    now = time.time() if now is None else now
    found = sorted(environments(envs / "cells"), key=lambda e: e.last_used)
    total = sum(e.size for e in found)
    removed: list[Env] = []
    for env in found:
        too_old = now - env.last_used > max_age_days * 86400
        too_big = total > max_gb * GB
        if not (too_old or too_big):
            continue
        why = "unused for " + (f"{(now - env.last_used) / 86400:.0f} days" if env.last_used else "ever (incomplete)")
        if not too_old:
            why = f"{total / GB:.1f} GB > {max_gb:g} GB, least recently used"
        print(f"{'would remove' if dry_run else 'removed'} {env.path} ({env.size / 1024**2:.0f} MB): {why}")
        if not dry_run:
            shutil.rmtree(env.path, ignore_errors=True)
        total -= env.size
        removed.append(env)
    kept = len(found) - len(removed)
    print(
        f"gc: {len(removed)} environment(s) {'to remove' if dry_run else 'removed'}, {kept} kept, "
        f"{total / GB:.1f} GB in {envs / 'cells'}"
    )
    collect_results(envs / "results", max_age_days, dry_run, now)
    collect_bytecode(envs / BYTECODE, dry_run)
    return removed


def collect_bytecode(store: Path, dry_run: bool = False) -> int:
    """Remove the shared bytecode that no environment links to any more (its environments are gone)."""
    unused = bytecode.unused(store)
    freed = 0
    for path in unused:
        freed += path.stat().st_size
        if not dry_run:
            path.unlink(missing_ok=True)
    verb = "to remove" if dry_run else "removed"
    print(f"gc: {len(unused)} bytecode file(s) no environment uses {verb} ({freed / 1024**2:.1f} MB) in {store}")
    return len(unused)


def collect_results(folder: Path, max_age_days: float, dry_run: bool = False, now: float | None = None) -> int:
    """Remove stored results unused for ``max_age_days`` (one summary line: there are thousands)."""
    now = time.time() if now is None else now
    removed = kept = freed = left = 0
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            info = path.stat()
        except OSError:
            continue
        if now - info.st_mtime <= max_age_days * 86400:
            kept, left = kept + 1, left + info.st_size
            continue
        if not dry_run:
            path.unlink(missing_ok=True)
        removed, freed = removed + 1, freed + info.st_size
    print(
        f"gc: {removed} stored result(s) unused for {max_age_days:g} days {'to remove' if dry_run else 'removed'} "
        f"({freed / 1024**2:.1f} MB), {kept} kept ({left / 1024**2:.1f} MB) in {folder}"
    )
    return removed
