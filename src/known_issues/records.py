"""Reading the harness's records back from JSON (host side): the schema a file was written with is
checked first, so a file of another harness version is refused with a message that says what to do,
then each field is read by its declared type. Writing them is the cell kernel's ``cell.serial.dump``."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from enum import Enum
from typing import Any, TypeVar, Union

from known_issues.errors import SchemaError

T = TypeVar("T")
_UNIONS = (Union, getattr(types, "UnionType", Union))


def check_schema(data: Any, expected: int, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SchemaError(f"{what}: expected a JSON object, got {type(data).__name__}")
    found = data.get("schema")
    if found != expected:
        raise SchemaError(
            f"{what}: written with results schema {found!r}, this harness reads schema {expected}; "
            "run the cells again to get results in the current schema"
        )
    return data


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
        return tuple(_load(a, v) for a, v in zip(args, data, strict=True))
    if origin is dict:
        return {str(k): _load(args[1], v) for k, v in data.items()}
    if kind in (str, int, float, bool):
        return kind(data)
    return data


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    # Resolving a class's annotations costs far more than reading a record: once per class.
    return typing.get_type_hints(kind)
