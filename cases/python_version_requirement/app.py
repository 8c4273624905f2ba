"""What the installed FastAPI distribution declares about Python, read from its metadata.

There is no route to exercise here: the claim is about packaging, so the "app" is the
installed distribution. Kept Python 3.9 compatible (the matrix runs it on 3.9-3.13).
"""

from __future__ import annotations

import importlib.metadata

from packaging.specifiers import SpecifierSet
from packaging.version import Version

# Probe with the last patch of each minor, so a floor like ">=3.8.1" still counts as "3.8 allowed".
LAST_PATCH = {
    "3.7": "3.7.17",
    "3.8": "3.8.20",
    "3.9": "3.9.23",
    "3.10": "3.10.18",
    "3.11": "3.11.13",
    "3.12": "3.12.11",
    "3.13": "3.13.5",
    "3.14": "3.14.0",
}


def fastapi_version() -> Version:
    return Version(importlib.metadata.version("fastapi"))


def requires_python() -> SpecifierSet:
    declared = importlib.metadata.metadata("fastapi")["Requires-Python"]
    assert declared, "the installed fastapi declares no Requires-Python"
    return SpecifierSet(declared)


def allows(minor: str) -> bool:
    """True when the installed fastapi's Requires-Python admits Python ``minor`` (e.g. "3.8")."""
    return requires_python().contains(LAST_PATCH[minor])


def lowest_allowed() -> str | None:
    return next((minor for minor in LAST_PATCH if allows(minor)), None)
