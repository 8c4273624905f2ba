"""Locks: what a cell resolves to, reused while young, and the test tools pinned for every cell.

A cell's lock is resolved with uv and kept in ``.envs/locks/``; for ``KNOWN_ISSUES_LOCK_TTL``
seconds the lock resolved for the same inputs (requirements, Python, the tool pins, the newest
release of each "any" axis) is reused. When the index is out of reach, uv's cache or the last
lock for the same inputs stands in, and the cell records which.

The test tools and everything else a verdict may depend on without being an axis (pytest,
pytest-asyncio, httpx, hypothesis, fastapi-cli, uvicorn, SQLAlchemy...) are pinned in the
committed ``tools.lock`` (one universal resolution for every Python the matrix uses). Each cell
resolves with those pins as preferences: every cell gets the same tools unless its axes exclude
that version, and each cell records the pins it was given. A cell's own axes are never preferred,
so "any" still means the newest release that fits.
"""

from __future__ import annotations

import hashlib
import os
import time
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.utils import canonicalize_name

from known_issues.cell.atomic import write_text
from known_issues.runner import environments as envs

DEFAULT_TTL = 6 * 3600
TOOLS_LOCK = "tools.lock"
TOOLS_PYTHON_FLOOR = "3.9"


def ttl() -> float:
    """Seconds a resolved lock is reused without asking the index again (0: always resolve)."""
    return float(os.environ.get("KNOWN_ISSUES_LOCK_TTL", DEFAULT_TTL))


@dataclass(frozen=True)
class Locks:
    folder: Path
    offline: bool = False

    def resolve(
        self,
        requirements: Sequence[str],
        python: Path,
        python_version: str,
        context: Sequence[str],
        preferences: str,
        sources: list[str],
    ) -> str:
        """The lock for these inputs; ``sources`` gets where it came from. Raises NotInstallable."""
        key = _key(python, requirements, context, preferences)
        max_age = None if self.offline else ttl()
        reusable = self._read(key, max_age)
        if reusable is not None:
            sources.append(f"reused (resolved {reusable[1] / 60:.0f} min ago)")
            return reusable[0]
        # A refusal is an answer of the resolver like a lock: kept as long, for the same inputs.
        refused = self._read(f"{key}.refused", max_age)
        if refused is not None:
            raise envs.NotInstallable(refused[0])
        try:
            lock = envs.compile_lock(
                requirements, python, python_version, offline=self.offline, preferences=preferences
            )
            sources.append("resolved")
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
                lock = envs.compile_lock(requirements, python, python_version, offline=True, preferences=preferences)
                sources.append("resolved from uv's cache (index unreachable)")
                return lock
            except envs.NotInstallable as exc:
                cache_error = str(exc)
        stale = self._read(key, max_age=None)
        if stale is None:
            raise envs.NotInstallable(
                f"the package index is out of reach and nothing was resolved for this cell before\n"
                f"index: {error[-1500:]}\nuv's cache: {cache_error[-1500:]}"
            )
        sources.append(f"last lock, resolved {stale[1] / 3600:.1f} h ago (index unreachable)")
        return stale[0]

    def _read(self, key: str, max_age: float | None) -> tuple[str, float] | None:
        """(lock, age in seconds) of a lock resolved earlier for these inputs, if young enough."""
        path = self.folder / f"{key}.txt"
        try:
            age = time.time() - path.stat().st_mtime
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        if max_age is not None and age > max_age:
            return None
        return text, age


def _key(python: Path, requirements: Sequence[str], context: Sequence[str], preferences: str) -> str:
    text = "\n".join([str(python.resolve()), *requirements, "--", *context, "--", preferences])
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


def resolve_tools(requirements: Sequence[str], offline: bool = False) -> str:
    """One universal resolution of the tools for every Python from TOOLS_PYTHON_FLOOR up."""
    return envs.compile_lock(requirements, None, TOOLS_PYTHON_FLOOR, offline=offline, universal=True)


def _name(line: str) -> str:
    head = line.split(";", 1)[0].strip()
    for sep in ("==", "[", " ", ">", "<", "~", "!"):
        head = head.split(sep, 1)[0]
    return str(canonicalize_name(head)) if head else ""
