"""What one invocation of the harness works with, built once from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from known_issues.matrix import Matrix
from known_issues.runner.index_config import IndexChoice


@dataclass(frozen=True)
class Settings:
    root: Path  # the project: cases/, pyproject.toml, tools.lock
    matrix: Matrix
    out: Path  # results and report (report/)
    envs: Path  # environments, locks, index cache and the result store (.envs/)
    index: IndexChoice  # the package index releases are listed from and uv installs from
    jobs: int = 2
    only_cases: tuple[str, ...] = ()
    offline: bool = False
    # Observe again instead of reusing stored results: "all", or group names and case slugs.
    rerun: tuple[str, ...] = ()
    confirm_runs: int = 2  # re-runs of a flip before it is reported as a change

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    # Under envs: cells/ (environments), bytecode/ (what they share), locks/, results/ (the result store),
    # index/ (package index copies).
    def env_dir(self, name: str) -> Path:
        return self.envs / name

    def forces_rerun(self, group: str, case: str) -> bool:
        return "all" in self.rerun or group in self.rerun or case in self.rerun


def default_jobs() -> int:
    # A cell spends much of its time waiting (servers starting, subprocesses), so two cells per
    # core keep the cores busy.
    return 2 * (os.cpu_count() or 1)
