"""Small helpers for case tests. Imports nothing but the standard library, pytest and packaging."""

from __future__ import annotations

import importlib.metadata

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version


def installed(dist: str) -> Version | None:
    try:
        return Version(importlib.metadata.version(dist))
    except importlib.metadata.PackageNotFoundError:
        return None


def has(requirement: str) -> bool:
    """True when e.g. ``"fastapi>=0.113"`` holds for the installed distribution."""
    name, spec = _split(requirement)
    version = installed(name)
    return version is not None and SpecifierSet(spec).contains(version, prereleases=True)


def requires(requirement: str, reason: str) -> pytest.MarkDecorator:
    """Skip (verdict n/a) where the feature under test does not exist yet.

    Use it only for "feature absent in this version": any other skip would hide a verdict.
    """
    name, spec = _split(requirement)
    return pytest.mark.skipif(
        not has(requirement),
        reason=f"feature absent: {reason} (needs {name}{spec}, installed {installed(name)})",
    )


def _split(requirement: str) -> tuple[str, str]:
    for i, ch in enumerate(requirement):
        if ch in "<>=!~":
            return requirement[:i].strip(), requirement[i:].strip()
    raise ValueError(f"not a requirement with a version specifier: {requirement!r}")
