"""Reading the harness's records back from JSON (host side): the schema a file was written with is
checked first, so a file of another harness version is refused with a message that says what to do,
then each field is read by its declared type. Writing them is the cell kernel's ``cell.serial.dump``."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
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
    read: Reader = _reader(typing.cast(Any, kind))
    return typing.cast(T, read(data))


Reader = Callable[[Any], Any]


@functools.cache
def _reader(kind: Any) -> Reader:
    """How to read a value of ``kind``, worked out once per type: a run file holds tens of thousands of
    records of a handful of types, and asking what each field is for every value was most of the cost."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return _same
    if origin in _UNIONS:
        (inner,) = [a for a in args if a is not type(None)]
        read_inner = _reader(inner)
        return lambda data: None if data is None else read_inner(data)
    if isinstance(kind, type) and hasattr(kind, "from_dict"):
        return kind.from_dict  # type: ignore[no-any-return]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _record_reader(kind)
    if origin is list:
        item = _reader(args[0])
        return lambda data: [item(v) for v in data]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            one = _reader(args[0])
            return lambda data: tuple(one(v) for v in data)
        each = [_reader(a) for a in args]
        return lambda data: tuple(r(v) for r, v in zip(each, data, strict=True))
    if origin is dict:
        value = _reader(args[1])
        return lambda data: {str(k): value(v) for k, v in data.items()}
    if kind in (str, int, float, bool):
        return functools.partial(_scalar, kind)
    return _same


def _scalar(kind: type, data: Any) -> Any:
    return data if type(data) is kind else kind(data)


def _same(data: Any) -> Any:
    return data


def _record_reader(kind: type) -> Reader:
    hints = typing.get_type_hints(kind)
    fields = [(f.name, hints[f.name]) for f in dataclasses.fields(kind) if f.init]
    readers: dict[str, Reader] = {}

    def read(data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"{kind.__name__}: expected an object, got {type(data).__name__}")
        if not readers:  # a record may contain itself: its field readers are made on first use
            readers.update((name, _reader(hint)) for name, hint in fields)
        return kind(**{name: readers[name](data[name]) for name, _ in fields if name in data})

    return read
