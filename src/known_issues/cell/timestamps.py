"""The one timestamp format of the results: UTC, ISO 8601, to the second."""

from __future__ import annotations

import time

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> str:
    return time.strftime(FORMAT, time.gmtime())
