"""Released versions of a package, read from the package index once per run.

The JSON answer is cached on disk so that an offline run can still expand the matrix; which copy
was used (live or cached, and when it was fetched) is recorded in the run's results.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from known_issues.cell.atomic import write_json
from known_issues.errors import PackageIndexError

DEFAULT_URL = "https://pypi.org/pypi"
TIMEOUT = 30


@dataclass
class Release:
    version: str
    requires_python: str | None
    upload_time: str

    def supports(self, python: str) -> bool:
        if not self.requires_python:
            return True
        try:
            return SpecifierSet(self.requires_python).contains(f"{python}.0", prereleases=True) or (
                SpecifierSet(self.requires_python).contains(f"{python}.99", prereleases=True)
            )
        except InvalidSpecifier:
            return True


@dataclass
class PackageIndex:
    cache_dir: Path
    base_url: str = field(default_factory=lambda: os.environ.get("KNOWN_ISSUES_INDEX_URL", DEFAULT_URL))
    offline: bool = False
    _releases: dict[str, list[Release]] = field(default_factory=dict)
    _urls: dict[str, dict[str, str]] = field(default_factory=dict)
    _copies: dict[str, list[Release]] = field(default_factory=dict)
    _unlisted: dict[str, str] = field(default_factory=dict)  # asked once per run, not once per flip
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Cells resolve in threads: one asks the index about a package, the others wait for its answer.
    _asking: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def releases(self, name: str) -> list[Release]:
        """Non-yanked final releases, oldest first (asked once per run, whichever cell asks first)."""
        key = canonicalize_name(name)
        with self._asking:
            if key in self._unlisted:
                raise PackageIndexError(self._unlisted[key])
            if key not in self._releases:
                try:
                    data, source = self._load(key)
                except PackageIndexError as exc:
                    self._unlisted[key] = str(exc)
                    raise
                self._releases[key] = _parse(data)
                self._urls[key] = _project_urls(data)
                self.sources[key] = source
            return self._releases[key]

    def released_after(self, name: str, since: float) -> bool | None:
        """Did the index list a release of ``name`` uploaded after ``since`` (epoch seconds)? None when
        it cannot be told (the package is unknown to the index and to the cached copy)."""
        try:
            releases = self.releases(name)
        except PackageIndexError:
            return None
        return any(_epoch(r.upload_time) > since for r in releases)

    def versions(self, name: str, python: str) -> list[str]:
        return [r.version for r in self.releases(name) if r.supports(python)]

    def released(self, name: str, version: str) -> str | None:
        """The date a release was uploaded (YYYY-MM-DD), when the index knows it. An upload date
        never changes: a cached copy that lists the release answers without asking the index."""
        wanted = Version(version)
        key = canonicalize_name(name)
        cached = self._releases.get(key) or self._cached(key)
        if not any(Version(r.version) == wanted for r in cached):
            cached = self.releases(name)
        for release in cached:
            if Version(release.version) == wanted:
                return release.upload_time[:10] or None
        return None

    def release_notes(self, name: str) -> str | None:
        """The project's own release notes or changelog page, as its metadata names it."""
        key = canonicalize_name(name)
        if key not in self._urls and not self._cached(key):
            self.releases(name)
        for label, url in self._urls.get(key, {}).items():
            if any(word in label.lower() for word in ("release", "changelog", "changes", "history")):
                return url
        return None

    def exists(self, name: str, version: str) -> bool:
        try:
            wanted = Version(version)
        except InvalidVersion:
            return False
        return any(Version(r.version) == wanted for r in self.releases(name))

    def _cached(self, name: str) -> list[Release]:
        """The releases of the cached copy, without asking the index (none when there is no copy).
        Only for facts that never change; the newest release always comes from the index."""
        if name in self._copies:
            return self._copies[name]
        self._copies[name] = []
        try:
            data = json.loads((self.cache_dir / f"{name}.json").read_text(encoding="utf-8"))["data"]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        self._urls.setdefault(name, _project_urls(data))
        self._copies[name] = _parse(data)
        return self._copies[name]

    def _load(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        cache = self.cache_dir / f"{name}.json"
        error = "offline mode"
        if not self.offline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/{name}/json", timeout=TIMEOUT) as resp:
                    data = json.load(resp)
                write_json(cache, {"fetched": time.time(), "data": data})
                return data, {"from": "index", "url": self.base_url, "fetched": time.time()}
            except (urllib.error.URLError, OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
        if cache.exists():
            stored = json.loads(cache.read_text(encoding="utf-8"))
            return stored["data"], {"from": "cache", "fetched": stored["fetched"], "error": error}
        raise PackageIndexError(f"cannot list the releases of {name}: {error}; and no cached copy")


def _epoch(upload_time: str) -> float:
    """PyPI's upload times are UTC, written without a zone (``2026-11-20T10:00:00.123456``)."""
    try:
        return datetime.fromisoformat(upload_time).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return float("inf")  # an unreadable time may be new: counts as after anything


def _parse(data: dict[str, Any]) -> list[Release]:
    out = []
    for version, files in data.get("releases", {}).items():
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        live = [f for f in files if not f.get("yanked")]
        if parsed.is_prerelease or parsed.is_devrelease or not live:
            continue
        rp = {f.get("requires_python") for f in live}
        requires = None if None in rp or "" in rp else sorted(str(x) for x in rp)[0]
        uploaded = min(str(f.get("upload_time", "")) for f in live)
        out.append(Release(version, requires, uploaded))
    out.sort(key=lambda r: Version(r.version))
    return out


def _project_urls(data: dict[str, Any]) -> dict[str, str]:
    """The links a project's metadata names (label -> address)."""
    urls = (data.get("info") or {}).get("project_urls") or {}
    return {str(k): str(v) for k, v in urls.items() if isinstance(v, str)}
