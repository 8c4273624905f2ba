"""Released versions of a package, read from the package index once per run.

The index is the one uv and pip are configured for (``runner/index_config.py``), asked through the
standard Simple API (``runner/simple_api.py``). Its answer is cached on disk so that an offline run
can still expand the matrix; which copy was used (live or cached, from which index, and when it was
fetched) is recorded in the run's results.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from known_issues.cell.atomic import write_json
from known_issues.errors import PackageIndexError
from known_issues.runner import simple_api
from known_issues.runner.index_config import redact
from known_issues.runner.simple_api import File, Project

# The cached copies' names: a copy of another form (the JSON API's ``<name>.json`` of before) is never read.
PROJECT_COPY = "{name}.simple-v1.json"
URLS_COPY = "{name}.project-urls-v1.json"
_NOTES = ("release", "changelog", "changes", "history", "whatsnew", "news")
_GITHUB = re.compile(r"^https?://(?:www\.)?github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")
_NOT_OWNERS = {"sponsors", "orgs", "users", "apps", "marketplace"}


@dataclass
class Release:
    version: str
    requires_python: str | None
    upload_time: str | None  # ISO 8601; None when the index does not give upload times

    def supports(self, python: str) -> bool:
        return not self.requires_python or _supports(self.requires_python, python)

    @property
    def uploaded(self) -> float | None:
        """The upload time in epoch seconds, when the index gives it."""
        return _epoch(self.upload_time)


@dataclass
class PackageIndex:
    cache_dir: Path
    base_url: str  # the Simple API's base, as index_config chose it
    offline: bool = False
    origin: str = ""  # where base_url came from (a variable, a config file, pip's default): for the record
    _projects: dict[str, Project] = field(default_factory=dict)
    _releases: dict[str, list[Release]] = field(default_factory=dict)
    _urls: dict[str, dict[str, str]] = field(default_factory=dict)
    _copies: dict[str, list[Release]] = field(default_factory=dict)
    _unlisted: dict[str, str] = field(default_factory=dict)  # asked once per run, not once per flip
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Cells resolve in threads: one asks the index about a package, the others wait for its answer
    # (one lock per package, so that several packages are asked at once).
    _asking: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _per_package: dict[str, threading.Lock] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    def prefetch(self, names: Iterable[str]) -> None:
        """Ask the index about several packages at once: a run that needs them all waits for the slowest
        answer, not for their sum. A package the index cannot list is asked again (and fails) when needed."""
        wanted = [n for n in dict.fromkeys(canonicalize_name(x) for x in names) if n not in self._releases]
        if len(wanted) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
            list(pool.map(self._quietly, wanted))

    def _quietly(self, name: str) -> None:
        with contextlib.suppress(PackageIndexError):
            self.releases(name)

    def releases(self, name: str) -> list[Release]:
        """Non-yanked final releases, oldest first (asked once per run, whichever cell asks first)."""
        key = canonicalize_name(name)
        with self._asking:
            lock = self._per_package.setdefault(key, threading.Lock())
        with lock:
            if key in self._unlisted:
                raise PackageIndexError(self._unlisted[key])
            if key not in self._releases:
                try:
                    project, source = self._load(key)
                except PackageIndexError as exc:
                    self._unlisted[key] = str(exc)
                    raise
                self._projects[key] = project
                self._releases[key] = _parse(project)
                self.sources[key] = source
            return self._releases[key]

    def released_after(self, name: str, since: float) -> bool | None:
        """Did the index list a release of ``name`` uploaded after ``since`` (epoch seconds)? None when
        it cannot be told: the package is unknown to the index and to the cached copy, or the index
        does not give the upload time of a release that might be newer."""
        try:
            releases = self.releases(name)
        except PackageIndexError:
            return None
        times = [r.uploaded for r in releases]
        if any(t is not None and t > since for t in times):
            return True
        return None if None in times else False

    def versions(self, name: str, python: str) -> list[str]:
        return [r.version for r in self.releases(name) if r.supports(python)]

    def released(self, name: str, version: str) -> str | None:
        """The date a release was uploaded (YYYY-MM-DD), when the index knows it. An upload date
        never changes: a cached copy that lists the release answers without asking the index."""
        wanted = Version(version)
        key = canonicalize_name(name)
        cached = self._releases.get(key) or self._cached(key)
        if not any(_as_version(r.version) == wanted and r.upload_time for r in cached):
            cached = self.releases(name)
        for release in cached:
            if _as_version(release.version) == wanted:
                return release.upload_time[:10] if release.upload_time else None
        return None

    def exists(self, name: str, version: str) -> bool:
        try:
            wanted = Version(version)
        except InvalidVersion:
            return False
        return any(_as_version(r.version) == wanted for r in self.releases(name))

    def release_notes(self, name: str) -> str | None:
        """The project's own release notes or changelog page, as its metadata names it (None when the
        metadata names none or cannot be read)."""
        for label, url in self.project_urls(name).items():
            if any(word in re.sub(r"[^a-z]", "", label.lower()) for word in _NOTES):
                return url
        return None

    def project_page(self, name: str, version: str) -> str | None:
        """A page of the project's own about one release: its release notes, else (when the metadata
        names a GitHub repository) the release's page there, whose tag is taken to be the version."""
        notes = self.release_notes(name)
        if notes:
            return notes
        repository = self.repository(name)
        return f"{repository}/releases/tag/{version}" if repository else None

    def repository(self, name: str) -> str | None:
        """The project's GitHub repository (``https://github.com/<owner>/<repo>``), when its metadata names one."""
        for url in self.project_urls(name).values():
            match = _GITHUB.match(url)
            if match and match.group(1).lower() not in _NOT_OWNERS:
                return f"https://github.com/{match.group(1)}/{match.group(2)}"
        return None

    def project_urls(self, name: str) -> dict[str, str]:
        """The links the newest release's core metadata names (label -> address); {} when unavailable.
        Read once per run, and kept for offline runs."""
        key = canonicalize_name(name)
        if key in self._urls:
            return self._urls[key]
        copy = self.cache_dir / URLS_COPY.format(name=key)
        stored = _read_json(copy)
        urls: dict[str, str] = {}
        try:
            newest = self._newest_files(key)
        except PackageIndexError:
            newest = None
        if stored is not None and (newest is None or self.offline or stored.get("version") == newest[0]):
            urls = dict(stored.get("urls") or {})
        elif newest is not None and not self.offline:
            try:
                urls = _first_urls(newest[1], self.base_url)
                write_json(copy, {"fetched": time.time(), "version": newest[0], "urls": urls})
            except (OSError, ValueError):
                urls = dict((stored or {}).get("urls") or {})
        self._urls[key] = urls
        return urls

    def _newest_files(self, key: str) -> tuple[str, list[File]]:
        releases = self._releases.get(key) or self.releases(key)
        if not releases:
            raise PackageIndexError(f"{key}: no release")
        newest = Version(releases[-1].version)
        files = [f for f in self._projects[key].files if not f.yanked and _version_of(f.filename) == newest]
        return releases[-1].version, files

    def _cached(self, name: str) -> list[Release]:
        """The releases of the cached copy, without asking the index (none when there is no copy).
        Only for facts that never change; the newest release always comes from the index."""
        if name in self._copies:
            return self._copies[name]
        stored = _stored_project(self.cache_dir / PROJECT_COPY.format(name=name))
        self._copies[name] = _parse(stored[0]) if stored else []
        return self._copies[name]

    def _load(self, name: str) -> tuple[Project, dict[str, Any]]:
        cache = self.cache_dir / PROJECT_COPY.format(name=name)
        shown = redact(self.base_url)
        error = "offline mode"
        if not self.offline:
            try:
                project = simple_api.fetch_project(self.base_url, name)
                fetched = time.time()
                write_json(cache, {"fetched": fetched, "index": shown, "project": project.as_dict()})
                return project, {"from": "index", "url": shown, "chosen_by": self.origin, "fetched": fetched}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        stored = _stored_project(cache)
        if stored is not None:
            project, copy = stored
            return project, {"from": "cache", "url": copy.get("index"), "fetched": copy.get("fetched"), "error": error}
        raise PackageIndexError(f"cannot list the releases of {name} on {shown}: {error}; and no cached copy")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _stored_project(path: Path) -> tuple[Project, dict[str, Any]] | None:
    """A cached copy: the project, and the copy's record (when and from which index it was fetched)."""
    copy = _read_json(path)
    try:
        return (Project.from_dict(copy["project"]), copy) if copy is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def _first_urls(files: list[File], base: str) -> dict[str, str]:
    """The project URLs of the first file that has metadata to read: one the index serves apart, else a wheel."""
    for file in sorted(files, key=lambda f: (not f.core_metadata, not f.filename.endswith(".whl"), f.size or 0)):
        urls = simple_api.project_urls(file, base)
        if urls:
            return urls
    return {}


def _epoch(upload_time: str | None) -> float | None:
    """PEP 700's upload times are UTC (``2026-11-20T10:00:00.123456Z``); a time without a zone is UTC too."""
    if not upload_time:
        return None
    try:
        moment = datetime.fromisoformat(upload_time)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _version_of(filename: str) -> Version | None:
    """The version a distribution file is of, from its name (wheel or sdist); None for other files."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


# A package's releases share a handful of requires-python texts, and every cell asks about them for
# the same few Pythons: each pair is parsed and answered once per run, not once per release and cell.
@functools.lru_cache(maxsize=4096)
def _supports(requires_python: str, python: str) -> bool:
    try:
        specifiers = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    return specifiers.contains(f"{python}.0", prereleases=True) or specifiers.contains(f"{python}.99", prereleases=True)


@functools.lru_cache(maxsize=65536)
def _as_version(text: str) -> Version:
    """A release's version, parsed once per run (cells compare the same releases again and again)."""
    return Version(text)


def _parse(project: Project) -> list[Release]:
    by_version: dict[Version, list[File]] = {}
    for file in project.files:
        version = _version_of(file.filename)
        if version is not None:
            by_version.setdefault(version, []).append(file)
    out = []
    for version, files in by_version.items():
        live = [f for f in files if not f.yanked]
        if version.is_prerelease or version.is_devrelease or not live:
            continue
        rp = {f.requires_python for f in live}
        requires = None if None in rp else sorted(str(x) for x in rp)[0]
        times = [f.upload_time for f in live if f.upload_time]
        out.append(Release(str(version), requires, min(times, key=_sort_time) if times else None))
    out.sort(key=lambda r: _as_version(r.version))
    return out


def _sort_time(text: str) -> float:
    return _epoch(text) or float("inf")
