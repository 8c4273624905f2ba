"""matrix.toml and case.toml read into Pydantic models: the rules both files share, as annotated types,
and Pydantic's errors told as ``<key path>: <what is wrong>``, e.g.
``groups[fastapi-minors].axes.fastapi.minors: not a version specifier: '>>1'``.

Host side only: the cell kernel (cell/) never imports Pydantic.
"""

from __future__ import annotations

import re
import tomllib
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as _Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion
from packaging.version import Version as _Version
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, Tag, ValidationError
from pydantic_core import ErrorDetails, core_schema

# --------------------------------------------------------------------------------------------
# what an error says: metadata on the annotated types


@dataclass(frozen=True)
class Says:
    """What to say for any error of this very value (missing, empty, of another type)."""

    text: str


@dataclass(frozen=True)
class Expected:
    """The value's form, for ``expected <form>, got <value>``."""

    form: str


@dataclass(frozen=True)
class OneOf:
    """One of these strings (an ``enum`` in the JSON Schema, so editors offer them)."""

    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.literal_schema(list(self.choices))


# --------------------------------------------------------------------------------------------
# the rules both files share

SLUG = re.compile(r"^[a-z][a-z0-9_]*$")  # a case folder's name: a Python package

Text = Annotated[str, Field(pattern=r"\S"), Expected("a non-empty string")]
Slug = Annotated[str, Field(pattern=SLUG.pattern), Expected("lowercase letters, digits and '_'")]


def _parses(parse: Callable[[str], object], what: str, with_reason: bool = False) -> Callable[[str], str]:
    def check(text: str) -> str:
        try:
            parse(text)
        except (InvalidVersion, InvalidSpecifier, InvalidRequirement) as exc:
            raise ValueError(f"not {what}: {text!r}" + (f" ({exc})" if with_reason else "")) from exc
        return text

    return check


check_version = _parses(_Version, "a version")
check_specifier = _parses(SpecifierSet, "a version specifier")
Version = Annotated[Text, AfterValidator(check_version)]
Specifier = Annotated[Text, AfterValidator(check_specifier)]
Requirement = Annotated[Text, AfterValidator(_parses(_Requirement, "a requirement", with_reason=True))]
HttpsUrl = Annotated[str, Field(pattern="^https://"), Expected("an https:// address")]


class FileModel(BaseModel):
    """A table of a project TOML file: unknown keys refused, values taken as written (no coercion of
    "yes" to true), keys spelt with dashes (``cell-timeout``). Built when first used: a command that
    reads no case.toml does not pay for its models."""

    model_config = ConfigDict(
        extra="forbid", strict=True, alias_generator=lambda name: name.replace("_", "-"), defer_build=True
    )


# --------------------------------------------------------------------------------------------
# reading, and errors that name the file and the key

M = TypeVar("M", bound=FileModel)


def read_toml(path: Path, error: type[ValueError]) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc


def validate(model: type[M], data: Mapping[str, Any], error: type[ValueError]) -> M:
    """The file's model, or ``error`` naming the key path of the first problem (an unknown key first:
    a misspelt key is also a missing one, and the misspelling is what to fix)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise error(describe(first, model, data)) from exc


def json_schema(model: type[FileModel]) -> dict[str, Any]:
    """The model's JSON Schema, for editors."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_as_toml(model.model_json_schema())}


def _as_toml(node: Any) -> Any:
    """TOML has no null (an optional key is one left out), and a table whose keys have a pattern (package
    names) takes no other key: the validation refuses it too."""
    if isinstance(node, list):
        return [_as_toml(n) for n in node if n != {"type": "null"}]
    if not isinstance(node, dict):
        return node
    node = {k: _as_toml(v) for k, v in node.items() if not (k == "default" and v is None)}
    if len(node.get("anyOf", ())) == 1:
        node |= node.pop("anyOf")[0]
    if "patternProperties" in node:
        node.setdefault("additionalProperties", False)
    return node


def describe(error: ErrorDetails, model: type[BaseModel], data: Any) -> str:
    spot = _locate(error["loc"], model, data)
    what = _what(error, spot)
    return f"{spot.path}: {what}" if spot.path else what


@dataclass
class _Spot:
    path: str = ""
    annotation: Any = None
    metadata: tuple[Any, ...] = ()
    table: type[BaseModel] | None = None  # the model whose key the last step of the path names
    data: Any = field(default=None, repr=False)  # the value there, as written


def _locate(loc: tuple[str | int, ...], model: type[BaseModel], data: Any) -> _Spot:
    """Walk Pydantic's error location through the model's types: the key path as the file spells it
    (a union's tag is no key; a list item with a ``name`` is named by it) and what is declared there."""
    spot = _Spot(annotation=model, data=data)
    steps = list(loc)
    while steps:
        step = steps.pop(0)
        kind, _ = _unwrap(spot.annotation)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found = next((f for n, f in kind.model_fields.items() if (f.alias or n) == step), None)
            spot = _Spot(
                _join(spot.path, step),
                found.annotation if found else None,
                tuple(found.metadata) if found else (),
                kind,
                _get(spot.data, step),
            )
        elif get_origin(kind) is list:
            item = _get(spot.data, step)
            name = item.get("name") if isinstance(item, dict) else None
            label = name if isinstance(name, str) and steps[:1] != ["name"] else step
            spot = _Spot(f"{spot.path}[{label}]", get_args(kind)[0], data=item)
        elif get_origin(kind) is dict:
            key_type, value_type = get_args(kind)
            is_key = steps[:1] == ["[key]"]
            del steps[:is_key]
            spot = _Spot(_join(spot.path, step), key_type if is_key else value_type, data=_get(spot.data, step))
        elif _is_union(kind):
            member = next((m for m in get_args(kind) if _tag(m) == step), None)
            spot = _Spot(spot.path, member, spot.metadata, spot.table, spot.data)
        else:
            spot = _Spot(_join(spot.path, step))
    spot.metadata += _unwrap(spot.annotation)[1]
    return spot


_FORMS = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
}


def _what(error: ErrorDetails, spot: _Spot) -> str:
    kind, value = error["type"], error.get("input")
    says, expected, one_of = (
        next((m for m in spot.metadata if isinstance(m, t)), None) for t in (Says, Expected, OneOf)
    )
    if kind == "extra_forbidden" and spot.table is not None:
        allowed = sorted(f.alias or n for n, f in spot.table.model_fields.items())
        return f"unknown key (allowed: {', '.join(allowed)})"
    if kind == "value_error":  # our own validators' words
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if isinstance(says, Says):
        return says.text
    if kind == "missing":
        return "a required key is missing"
    if isinstance(expected, Expected):
        return f"expected {expected.form}, got {value!r}"
    if isinstance(one_of, OneOf) and kind == "literal_error":
        return f"{value!r} is not one of {', '.join(one_of.choices)}"
    if kind in _FORMS:
        return f"expected {_FORMS[kind]}, got {value!r}"
    return f"{error['msg']}, got {value!r}"


def _unwrap(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type under ``Annotated`` and ``X | None``, and the metadata gathered on the way."""
    metadata: tuple[Any, ...] = ()
    while True:
        if get_origin(annotation) is Annotated:
            annotation, *more = get_args(annotation)
            metadata += tuple(more)
        elif _is_union(annotation) and len(members := [m for m in get_args(annotation) if not _is_none(m)]) == 1:
            annotation = members[0]
        else:
            return annotation, metadata


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _is_none(annotation: Any) -> bool:
    return _unwrap(annotation)[0] in (None, type(None))


def _tag(annotation: Any) -> str | None:
    return next((m.tag for m in _unwrap(annotation)[1] if isinstance(m, Tag)), None)


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _get(data: Any, step: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(step)
    if isinstance(data, list) and isinstance(step, int) and step < len(data):
        return data[step]
    return None
