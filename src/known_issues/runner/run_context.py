"""What every cell of one invocation shares: the settings, the package index, the cases and their
digests, the tool pins, the result store and the locks. Built once, in the main thread, before any
worker starts; every command that observes (matrix, cell, latest, bisect, the narrowing of a flip,
candidate) runs its cells with one."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from known_issues import run_files
from known_issues.catalog import Case, load_cases
from known_issues.matrix import Cell, runs_case
from known_issues.runner import environments as envs
from known_issues.runner import locks as locks_mod
from known_issues.runner.pypi import PackageIndex
from known_issues.runner.result_store import ResultStore, case_digests, harness_digest
from known_issues.settings import Settings


@dataclass
class RunContext:
    """What every cell of one invocation shares; built once, before any worker thread starts."""

    settings: Settings
    index: PackageIndex | None
    cases: dict[str, Case]
    tools_lock: str
    harness: str
    digests: dict[str, str]
    store: ResultStore
    locks: locks_mod.Locks
    # Only find out whether a cell has anything to observe (``needs_run``): build and run nothing.
    dry: bool = False
    # Cell id -> (the inputs its file in settings.out was made from, its status), from the manifest.
    known: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, index: PackageIndex | None) -> RunContext:
        envs.uv()  # resolved here, in the main thread (uv's finder is not thread-safe on first use)
        envs.begin_index_reads()
        cases = load_cases(settings.cases_dir)
        tools_lock = read_tools_lock(settings.root)
        return cls(
            settings=settings,
            index=index,
            cases=cases,
            tools_lock=tools_lock,
            harness=harness_digest(settings.cases_dir),
            digests=case_digests(settings.cases_dir, list(cases)),
            store=ResultStore(settings.env_dir("results")),
            locks=locks_mod.Locks(
                settings.env_dir("locks"),
                settings.offline,
                index.released_after if index is not None else None,
                settings.lock_ttl,
                settings.index.url,
            ),
        )

    @functools.cached_property
    def cell_group(self) -> list[str]:
        """The test tools every cell installs (``locks.cell_group``), read once per invocation."""
        return locks_mod.cell_group(self.settings.root)

    def in_group(self, cell: Cell) -> list[str]:
        """The cases the cell's group runs: what its environment is made for (``matrix.runs_case``)."""
        return [c for c in self.cases if runs_case(cell.cases, c, self.settings.matrix.only_where_named)]

    def selected(self, cell: Cell) -> list[str]:
        """The cases to observe now (``--cases`` narrows the group's; the environment stays the same,
        so what is observed here is reused by a full run and the other way round)."""
        chosen = self.in_group(cell)
        if self.settings.only_cases:
            chosen = [c for c in chosen if c in self.settings.only_cases]
        return chosen

    def log_path(self, cell: Cell, suffix: str = "") -> Path:
        return self.settings.out / "logs" / f"{run_files.safe(cell.id)}{suffix}.log"


def read_tools_lock(root: Path) -> str:
    path = root / locks_mod.TOOLS_LOCK
    return path.read_text(encoding="utf-8") if path.exists() else ""
