"""What a cell's environment installed, read from its distributions' metadata (no import, whatever its
Python): which installed distribution's requirement keeps a package below its newest release."""

from __future__ import annotations

import email.parser
from collections.abc import Iterable
from pathlib import Path

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


def requirements_of(env: Path) -> dict[str, list[Requirement]]:
    """Each installed distribution (canonical name) and the requirements its metadata declares."""
    found: dict[str, list[Requirement]] = {}
    for metadata in env.glob("lib/python3*/site-packages/*.dist-info/METADATA"):
        try:
            headers = email.parser.Parser().parsestr(metadata.read_text(encoding="utf-8"), headersonly=True)
        except (OSError, UnicodeDecodeError):
            continue
        requirements = []
        for line in headers.get_all("Requires-Dist") or []:
            try:
                requirements.append(Requirement(line))
            except InvalidRequirement:
                continue
        found[str(canonicalize_name(headers.get("Name", "")))] = requirements
    return found


def holding_back(
    installed: dict[str, list[Requirement]], name: str, newest: str, python: str, requested: Iterable[str]
) -> list[str]:
    """``<distribution> requires <requirement>`` for every installed distribution whose requirement on
    ``name``, as it applies in this environment, excludes the ``newest`` release.

    A requirement behind an extra applies when something asked for that extra: the cell's own
    requirements (``requested``) or another installed distribution's."""
    wanted = str(canonicalize_name(name))
    extras = _extras_asked([*_parsed(requested), *(r for reqs in installed.values() for r in reqs)])
    try:
        version = Version(newest)
    except InvalidVersion:
        return []
    found = []
    for holder, requirements in sorted(installed.items()):
        for requirement in requirements:
            if canonicalize_name(requirement.name) != wanted or requirement.specifier.contains(
                version, prereleases=True
            ):
                continue
            if _applies(requirement, python, extras.get(holder, set())):
                found.append(f"{holder} requires {requirement.name}{requirement.specifier}")
    return found


def _parsed(lines: Iterable[str]) -> list[Requirement]:
    out = []
    for line in lines:
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            continue
    return out


def _extras_asked(requirements: Iterable[Requirement]) -> dict[str, set[str]]:
    asked: dict[str, set[str]] = {}
    for requirement in requirements:
        asked.setdefault(str(canonicalize_name(requirement.name)), set()).update(requirement.extras)
    return asked


def _applies(requirement: Requirement, python: str, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = {key: str(value) for key, value in default_environment().items()}
    environment.update({"python_version": ".".join(python.split(".")[:2]), "python_full_version": python})
    for extra in ("", *sorted(extras)):
        try:
            if requirement.marker.evaluate({**environment, "extra": extra}):
                return True
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            continue
    return False
