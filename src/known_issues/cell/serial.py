"""Typed records to JSON and back, for every record of the harness, from their dataclass fields.

``dump`` needs nothing but the values (it runs inside cells, on Python 3.9 too); ``load`` reads
the field types (host side). A class with its own JSON form provides ``as_dict``/``from_dict``.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from enum import Enum
from typing import Any, TypeVar, Union

T = TypeVar("T")
_UNIONS = (Union, getattr(types, "UnionType", Union))


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


def load(kind: type[T], data: Any) -> T:
    """An instance of ``kind`` (a record class) from its JSON form; missing fields take their defaults."""
    return typing.cast(T, _load(kind, data))


def _load(kind: Any, data: Any) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return data
    if origin in _UNIONS:
        if data is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _load(inner, data)
    if isinstance(kind, type) and hasattr(kind, "from_dict"):
        return kind.from_dict(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise ValueError(f"{kind.__name__}: expected an object, got {type(data).__name__}")
        hints = _hints(kind)
        given = [f.name for f in dataclasses.fields(kind) if f.init and f.name in data]
        return kind(**{name: _load(hints[name], data[name]) for name in given})
    if origin is list:
        return [_load(args[0], v) for v in data]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in data)
        if len(args) != len(data):  # zip(strict=True) is Python 3.10+
            raise ValueError(f"expected {len(args)} items, got {len(data)}")
        return tuple(_load(a, v) for a, v in zip(args, data))
    if origin is dict:
        return {str(k): _load(args[1], v) for k, v in data.items()}
    if kind in (str, int, float, bool):
        return kind(data)
    return data


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    # Resolving a class's annotations costs far more than reading a record: once per class.
    return typing.get_type_hints(kind)
