"""The document's Python requirement against the installed fastapi's Requires-Python."""

from __future__ import annotations

import pytest
from packaging.version import Version

from .app import LAST_PATCH, allows, fastapi_version, lowest_allowed, requires_python

DROPPED_38_IN = Version("0.125.0")  # the release the document names


@pytest.mark.pattern("Requires-Python admits 3.8 before FastAPI 0.125.0 and excludes it from then on")
def test_python_38_dropped_in_0_125_0() -> None:
    expected = fastapi_version() < DROPPED_38_IN
    assert allows("3.8") is expected, (
        f"fastapi {fastapi_version()} declares Requires-Python {requires_python()}; "
        f"the claim implies 3.8 {'allowed' if expected else 'excluded'}"
    )


@pytest.mark.pattern("Python 3.9+: every Python from 3.9 on is admitted")
def test_python_39_and_later_admitted() -> None:
    from_39 = [minor for minor in LAST_PATCH if Version(minor) >= Version("3.9")]
    refused = [minor for minor in from_39 if not allows(minor)]
    assert refused == [], (
        f"fastapi {fastapi_version()} declares Requires-Python {requires_python()} "
        f"(lowest Python admitted: {lowest_allowed()})"
    )
