"""Locks: what a cell resolves to, reused until a release could change it, and the test tools
pinned for every cell.

A cell's lock is resolved with uv and kept in ``.envs/locks/``, keyed by its inputs (requirements,
Python, the tool pins, the newest release of each "any" axis: a new release of an "any" axis is a
new key). For ``Settings.lock_ttl`` seconds (``KNOWN_ISSUES_LOCK_TTL``) a lock is reused as it is.
After that, it is reused as long as the package index shows no release, made after the lock was resolved, of any package
the lock does not owe to its axes or to the tool pins (the only packages a new release could move):
the first run of a day with nothing released asks the index about those few packages, not the
resolver about every cell. When the index is out of reach, uv's cache or the last lock for the same
inputs stands in, and the cell records which.

The test tools and everything else a verdict may depend on without being an axis (pytest,
pytest-asyncio, httpx, hypothesis, fastapi-cli, uvicorn, SQLAlchemy...) are pinned in the
committed ``tools.lock`` (one universal resolution for every Python the matrix uses). A cell
resolves with those pins as preferences: every cell gets the same tools unless its axes exclude
that version, and each cell records the pins it was given. A cell's own axes are never preferred,
so "any" still means the newest release that fits.

A newest cell (``matrix.follows_the_newest``) stands for what a fresh install gets today: it prefers
only the test tools, the packages of ``tools.lock`` that a resolution of its runtime requirements
alone (its axes with their extras, the rules' and fallback pins, its cases' own dependencies; not
the ``cell`` dependency group) does not contain (``test_tools_only``). That resolution is a lock
like any other, kept and reused by the same rules; a runtime package is then not held by a pin, so a
release of it (uvicorn, Starlette, bcrypt...) moves the newest cells on the first run past the
lock's lifetime, and no other cell.
"""

from __future__ import annotations

import hashlib
import time
import tomllib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name

from known_issues.cell.atomic import write_text
from known_issues.runner import environments as envs
from known_issues.settings import DEFAULT_LOCK_TTL

TOOLS_LOCK = "tools.lock"
TOOLS_PYTHON_FLOOR = "3.9"


# (package, time) -> did the index list a release of the package made after that time (None: cannot tell)
ReleasedAfter = Callable[[str, float], bool | None]


@dataclass(frozen=True)
class Locks:
    folder: Path
    offline: bool = False
    released_after: ReleasedAfter | None = None
    ttl: float = DEFAULT_LOCK_TTL  # seconds a lock is reused as it is (0: ask the index every run)
    index_url: str | None = None  # the index the releases are listed from (None: uv's configured one)

    def resolve(
        self,
        requirements: Sequence[str],
        python: Path,
        python_version: str,
        context: Sequence[str],
        preferences: str,
        sources: list[str],
        axes: Collection[str] = (),
    ) -> str:
        """The lock for these inputs; ``sources`` gets where it came from. Raises NotInstallable."""
        key = _key(python, requirements, context, preferences)
        why = "resolved"
        reusable = self._read(key)
        if reusable is not None:
            lock, age = reusable
            released = self._released_since(lock, age, preferences, axes)
            if released is None:
                sources.append(_reused(age))
                return lock
            why = f"resolved again ({released} had a release since the last resolution)"
        # A refusal is an answer of the resolver like a lock, for the same inputs; any new release
        # might lift it, so past the lifetime it is asked again (a handful of cells, seconds each).
        refused = self._read(f"{key}.refused")
        if refused is not None and (self.offline or refused[1] <= self.ttl):
            raise envs.NotInstallable(refused[0])
        try:
            lock = envs.compile_lock(
                requirements,
                python,
                python_version,
                offline=self.offline,
                preferences=preferences,
                index_url=self.index_url,
            )
            sources.append(why)
        except envs.NotInstallable as exc:
            if not _looks_offline(str(exc)):
                write_text(self.folder / f"{key}.refused.txt", str(exc))
                raise
            lock = self._unreachable(key, requirements, python, python_version, preferences, str(exc), sources)
        write_text(self.folder / f"{key}.txt", lock)
        return lock

    def _unreachable(
        self,
        key: str,
        requirements: Sequence[str],
        python: Path,
        python_version: str,
        preferences: str,
        error: str,
        sources: list[str],
    ) -> str:
        """The index is out of reach: what uv has cached may still resolve, else the last lock for these inputs.

        uv keys its cache by index URL, so a changed or unreachable index often leaves only our own lock.
        """
        cache_error = error
        if not self.offline:
            try:
                lock = envs.compile_lock(
                    requirements,
                    python,
                    python_version,
                    offline=True,
                    preferences=preferences,
                    index_url=self.index_url,
                )
                sources.append("resolved from uv's cache (index unreachable)")
                return lock
            except envs.NotInstallable as exc:
                cache_error = str(exc)
        stale = self._read(key)
        if stale is None:
            raise envs.NotInstallable(
                f"the package index is out of reach and nothing was resolved for this cell before\n"
                f"index: {error[-1500:]}\nuv's cache: {cache_error[-1500:]}"
            )
        sources.append(f"last lock, resolved {stale[1] / 3600:.1f} h ago (index unreachable)")
        return stale[0]

    def _read(self, key: str) -> tuple[str, float] | None:
        """(lock, age in seconds) of a lock resolved earlier for these inputs."""
        path = self.folder / f"{key}.txt"
        try:
            age = time.time() - path.stat().st_mtime
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        return text, age

    def _released_since(self, lock: str, age: float, preferences: str, axes: Collection[str]) -> str | None:
        """The first package that may have moved since the lock was resolved ``age`` seconds ago, or None.

        Young locks and offline runs are taken as they are. After that, only the packages the lock
        does not owe to an axis (a new release of an "any" axis is a new key; an explicit version
        cannot move) or to the tool pins can move, and only with a release made since: the index,
        read once per run, says whether there was one (a package it cannot tell about counts as moved)."""
        if self.offline or age <= self.ttl:
            return None
        if self.released_after is None:
            return "(no package index to ask)"
        since = time.time() - age
        for name in movable(lock, preferences, axes):
            if self.released_after(name, since) is not False:
                return name
        return None


def _key(python: Path, requirements: Sequence[str], context: Sequence[str], preferences: str) -> str:
    text = "\n".join([envs.real_interpreter(python), *requirements, "--", *context, "--", preferences])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _looks_offline(message: str) -> bool:
    lowered = message.lower()
    return any(s in lowered for s in ("failed to fetch", "dns", "connect", "network", "timed out"))


# --------------------------------------------------------------------------------------------
# the tool pins


def cell_group(root: Path) -> list[str]:
    """The common test tools every cell installs (pyproject's ``cell`` dependency group)."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["dependency-groups"]["cell"])


def tool_preferences(lock: str, axes: Iterable[str]) -> str:
    """The tools lock without the axis packages, which each cell resolves for itself."""
    skip = {canonicalize_name(a) for a in axes}
    kept = [ln for ln in lock.splitlines() if ln.strip() and not ln.startswith("#") and _name(ln) not in skip]
    return "\n".join(kept) + ("\n" if kept else "")


def test_tools_only(preferences: str, runtime: Collection[str]) -> str:
    """The preferences without the ``runtime`` packages (those a resolution of a newest cell's runtime
    requirements alone contains): what is left are the test tools, pinned as in every other cell."""
    skip = {str(canonicalize_name(name)) for name in runtime}
    kept = [ln for ln in preferences.splitlines() if ln.strip() and _name(ln) not in skip]
    return "\n".join(kept) + ("\n" if kept else "")


def pins_for_python(lock: str, python_full: str) -> dict[str, str]:
    """The pins of a universal lock that apply to one Python (markers evaluated)."""
    major_minor = ".".join(python_full.split(".")[:2])
    environment = {"python_version": major_minor, "python_full_version": python_full}
    pins: dict[str, str] = {}
    for line in lock.splitlines():
        requirement, _, marker = line.partition(";")
        if marker.strip():
            try:
                if not Marker(marker.strip()).evaluate(environment):
                    continue
            except InvalidMarker:
                continue
        pins.update(envs.parse_pins(requirement))
    return pins


def resolve_tools(requirements: Sequence[str], offline: bool = False, index_url: str | None = None) -> str:
    """One universal resolution of the tools for every Python from TOOLS_PYTHON_FLOOR up."""
    return envs.compile_lock(
        requirements, None, TOOLS_PYTHON_FLOOR, offline=offline, universal=True, index_url=index_url
    )


def _reused(age: float) -> str:
    return f"reused (resolved {age / 60:.0f} min ago)" if age < 3600 else f"reused (resolved {age / 3600:.1f} h ago)"


def movable(lock: str, preferences: str, axes: Collection[str]) -> list[str]:
    """The packages of a lock that neither an axis nor a tool pin holds where they are."""
    fixed = {str(canonicalize_name(a)) for a in axes}
    preferred = {(_name(ln), envs.parse_pins(ln.split(";", 1)[0]).get(_name(ln))) for ln in preferences.splitlines()}
    return sorted(
        name
        for name, version in envs.parse_pins(lock).items()
        if name not in fixed and (name, version) not in preferred
    )


def _name(line: str) -> str:
    head = line.split(";", 1)[0].strip()
    for sep in ("==", "[", " ", ">", "<", "~", "!"):
        head = head.split(sep, 1)[0]
    return str(canonicalize_name(head)) if head else ""
