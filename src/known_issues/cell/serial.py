"""Typed records to JSON, for every record of the harness, from their dataclass fields: ``dump`` needs
nothing but the values (it runs inside cells, on Python 3.9 too). Reading them back is the host's
(``known_issues.records``). A class with its own JSON form provides ``as_dict``/``from_dict``.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any


def dump(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    return value
