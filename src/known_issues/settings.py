"""What one invocation of the harness works with, built once from the command line and the
environment, and checked before anything runs: a bad value or an unknown name is a usage error
that names the valid choices, never a harness error in a worker thread."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from known_issues.catalog import case_names
from known_issues.errors import UsageError
from known_issues.matrix import Matrix
from known_issues.runner.index_config import IndexChoice

DEFAULT_LOCK_TTL = 6 * 3600.0
LOCK_TTL_ENV = "KNOWN_ISSUES_LOCK_TTL"
GUIDE_ENV = "KNOWN_ISSUES_GUIDE"
ROOT_ENV = "KNOWN_ISSUES_ROOT"
RERUN_ALL = "all"


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
    lock_ttl: float = DEFAULT_LOCK_TTL  # seconds a resolved lock is reused without asking the index
    guide: Path | None = None  # the guide's text, when at hand: errata in its order, quotes checked

    @property
    def cases_dir(self) -> Path:
        return self.root / "cases"

    # Under envs: cells/ (environments), bytecode/ (what they share), locks/, results/ (the result store),
    # index/ (package index copies).
    def env_dir(self, name: str) -> Path:
        return self.envs / name

    def forces_rerun(self, group: str, case: str) -> bool:
        return RERUN_ALL in self.rerun or group in self.rerun or case in self.rerun


def default_jobs() -> int:
    # A cell spends much of its time waiting (servers starting, subprocesses), so two cells per
    # core keep the cores busy.
    return 2 * (os.cpu_count() or 1)


def root_from(env: Mapping[str, str]) -> Path:
    """The project folder: ``KNOWN_ISSUES_ROOT``, else the working directory; it must hold cases/."""
    root = Path(env.get(ROOT_ENV, "") or Path.cwd())
    if not (root / "cases").is_dir():
        where = f"{ROOT_ENV}={env[ROOT_ENV]!r}" if env.get(ROOT_ENV) else f"the working directory {root}"
        raise UsageError(f"{where} is not the project: it has no cases/ folder")
    return root


def lock_ttl_from(env: Mapping[str, str]) -> float:
    raw = env.get(LOCK_TTL_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TTL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:  # NaN is not a number of seconds either
        raise UsageError(f"{LOCK_TTL_ENV}={raw!r}: expected a number of seconds >= 0 (0: ask the index every run)")
    return value


def guide_from(env: Mapping[str, str], explicit: Path | None = None) -> Path | None:
    """The guide's text: ``explicit`` (``--guide``), else ``KNOWN_ISSUES_GUIDE``; it must be readable."""
    raw = explicit if explicit is not None else (Path(env[GUIDE_ENV]) if env.get(GUIDE_ENV, "").strip() else None)
    if raw is not None and not raw.is_file():
        source = "--guide" if explicit is not None else GUIDE_ENV
        raise UsageError(f"{source}: no readable file at {raw}")
    return raw


def names(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def check_names(option: str, given: Iterable[str], valid: Sequence[str], extra: Sequence[str] = ()) -> None:
    """Every name given to ``option`` must be one of ``valid`` (or ``extra``): else a usage error listing them."""
    unknown = [n for n in given if n not in valid and n not in extra]
    if unknown:
        choices = ", ".join([*extra, *valid])
        raise UsageError(f"{option}: no such name: {', '.join(unknown)} (valid: {choices})")


def check_selection(
    cases_dir: Path, matrix: Matrix, only_cases: Sequence[str], rerun: Sequence[str], groups: Sequence[str] = ()
) -> None:
    """``--cases``, ``--group`` and ``--rerun`` name cases, groups (or ``all``) that exist."""
    cases = case_names(cases_dir)
    group_names = [g.name for g in matrix.groups]
    check_names("--cases", only_cases, cases)
    check_names("--group", groups, group_names)
    check_names("--rerun", rerun, [*group_names, *cases], extra=(RERUN_ALL,))
