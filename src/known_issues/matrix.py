"""matrix.toml: the declarative version matrix, its validation and its expansion into cells.

Validation is strict and happens before anything is created: every problem names its key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from known_issues.errors import MatrixError

ANY = "any"
LATEST = "latest"
_PYTHON = re.compile(r"^3\.\d{1,2}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_GROUP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOP_KEYS = {"defaults", "packages", "rules", "groups"}
_DEFAULT_KEYS = {"python", "cell-timeout", "test-timeout", "only-where-named"}
_PACKAGE_KEYS = {"extras"}
_RULE_KEYS = {"when", "pins", "why"}
_GROUP_KEYS = {"name", "description", "python", "cases", "axes", "exclude", "guide"}
_SELECTOR_KEYS = {"minors", "versions"}


@dataclass(frozen=True)
class Selector:
    """How one axis picks versions: explicit list, latest, any (resolver's choice), or a range."""

    kind: str  # "explicit" | "latest" | "any" | "minors" | "versions"
    versions: tuple[str, ...] = ()
    spec: str = ""


@dataclass(frozen=True)
class Rule:
    when: tuple[tuple[str, str], ...]  # (package, specifier) on resolved versions
    pins: tuple[str, ...]
    why: str

    def applies(self, resolved: Mapping[str, str]) -> bool:
        for name, spec in self.when:
            version = resolved.get(name)
            if version is None or not SpecifierSet(spec).contains(version, prereleases=True):
                return False
        return True


@dataclass(frozen=True)
class Group:
    name: str
    description: str
    pythons: tuple[str, ...]
    axes: tuple[tuple[str, Selector], ...]
    cases: tuple[str, ...]  # empty: every case; EVERY_CASE ("*") among names: every case, and these too
    exclude: tuple[tuple[tuple[str, str], ...], ...]
    # The versions the guide itself names: its claims are judged there too (the guide's errata).
    guide: bool = False


EVERY_CASE = "*"


def runs_case(cases: Sequence[str], case: str, only_where_named: Sequence[str]) -> bool:
    """Does a group with this ``cases`` list run ``case``? No list (or ``"*"`` in it): every case but
    those the matrix runs only where a group names them; a list: the cases it names."""
    if case in cases:
        return True
    return (not cases or EVERY_CASE in cases) and case not in only_where_named


@dataclass(frozen=True)
class Matrix:
    groups: tuple[Group, ...]
    rules: tuple[Rule, ...]
    extras: Mapping[str, tuple[str, ...]]
    cell_timeout: float
    test_timeout: float
    source: str = ""
    # Cases that run only in the groups whose `cases` list names them (costly, few axes matter).
    only_where_named: tuple[str, ...] = ()

    @property
    def descriptions(self) -> dict[str, str]:
        """Each group's description: what it is for, shown beside its cells in the report."""
        return {g.name: g.description for g in self.groups}

    @property
    def name(self) -> str:
        """The matrix file's name, for reports (never the absolute path of the machine that ran it)."""
        return Path(self.source).name if self.source else ""

    @property
    def guide_groups(self) -> tuple[str, ...]:
        """The groups of the versions the guide names (``guide = true``)."""
        return tuple(g.name for g in self.groups if g.guide)


@dataclass(frozen=True)
class Cell:
    """One environment to run: a python and one requested version (or "any") per axis."""

    group: str
    python: str
    requested: tuple[tuple[str, str], ...]
    cases: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        parts = [self.group, f"py{self.python}"]
        parts += [f"{name}{version}" for name, version in self.requested]
        return "-".join(parts)

    def requirements(self, extras: Mapping[str, tuple[str, ...]]) -> list[str]:
        reqs = []
        for name, version in self.requested:
            ex = extras.get(name, ())
            req = f"{name}[{','.join(ex)}]" if ex else name
            reqs.append(req if version == ANY else f"{req}=={version}")
        return reqs

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "python": self.python,
            "requested": dict(self.requested),
            "axes": [name for name, _ in self.requested],  # the order matters (cell id, sorting): JSON keys lose it
            "cases": list(self.cases),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        requested = dict(data["requested"])
        return cls(
            group=str(data["group"]),
            python=str(data["python"]),
            requested=tuple((str(k), str(requested[k])) for k in data.get("axes", requested)),
            cases=tuple(str(c) for c in data.get("cases", [])),
        )

    @property
    def axes(self) -> tuple[str, ...]:
        """The packages this cell's group varies, in the order the group declares them."""
        return tuple(name for name, _ in self.requested)


# --------------------------------------------------------------------------------------------
# loading and validation


def load(path: Path) -> Matrix:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MatrixError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatrixError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse(data, source=str(path))
    except MatrixError as exc:
        raise MatrixError(f"{path}: {exc}") from exc


def parse(data: Mapping[str, Any], source: str = "") -> Matrix:
    _no_unknown(data, _TOP_KEYS, "")
    defaults = _table(data.get("defaults", {}), "defaults")
    _no_unknown(defaults, _DEFAULT_KEYS, "defaults")
    default_python = _pythons(defaults.get("python", "3.11"), "defaults.python")
    cell_timeout = _positive(defaults.get("cell-timeout", 1200), "defaults.cell-timeout")
    test_timeout = _positive(defaults.get("test-timeout", 60), "defaults.test-timeout")
    named = _list(defaults.get("only-where-named", []), "defaults.only-where-named")
    only_where_named = tuple(_str(c, f"defaults.only-where-named[{i}]") for i, c in enumerate(named))

    extras: dict[str, tuple[str, ...]] = {}
    for name, spec in _table(data.get("packages", {}), "packages").items():
        key = f"packages.{name}"
        _package_name(name, key)
        table = _table(spec, key)
        _no_unknown(table, _PACKAGE_KEYS, key)
        extras[canonicalize_name(name)] = tuple(
            _str(x, f"{key}.extras[{i}]") for i, x in enumerate(_list(table.get("extras", []), f"{key}.extras"))
        )

    rules = tuple(_rule(r, f"rules[{i}]") for i, r in enumerate(_list(data.get("rules", []), "rules")))

    raw_groups = _list(data.get("groups", []), "groups")
    if not raw_groups:
        raise MatrixError("groups: the matrix needs at least one [[groups]] table")
    groups = tuple(_group(g, f"groups[{i}]", default_python) for i, g in enumerate(raw_groups))
    names = [g.name for g in groups]
    for name in names:
        if names.count(name) > 1:
            raise MatrixError(f"groups: the group name {name!r} is used twice")
    return Matrix(groups, rules, extras, cell_timeout, test_timeout, source, only_where_named)


def _group(raw: Any, key: str, default_python: tuple[str, ...]) -> Group:
    table = _table(raw, key)
    name = _str(table.get("name"), f"{key}.name")
    if not _GROUP_NAME.match(name):
        raise MatrixError(f"{key}.name: {name!r} must be lowercase letters, digits and '-'")
    key = f"groups[{name}]"
    _no_unknown(table, _GROUP_KEYS, key)
    pythons = _pythons(table["python"], f"{key}.python") if "python" in table else default_python
    axes_raw = _table(table.get("axes"), f"{key}.axes")
    if not axes_raw:
        raise MatrixError(f'{key}.axes: a group needs at least one axis (e.g. fastapi = "latest")')
    axes = []
    for pkg, sel in axes_raw.items():
        _package_name(pkg, f"{key}.axes.{pkg}")
        axes.append((canonicalize_name(pkg), _selector(sel, f"{key}.axes.{pkg}")))
    cases = tuple(_str(c, f"{key}.cases[{i}]") for i, c in enumerate(_list(table.get("cases", []), f"{key}.cases")))
    axis_names = {a for a, _ in axes}
    exclude = []
    for i, ex in enumerate(_list(table.get("exclude", []), f"{key}.exclude")):
        ekey = f"{key}.exclude[{i}]"
        ex_table = _table(ex, ekey)
        if not ex_table:
            raise MatrixError(f"{ekey}: an exclusion needs at least one axis")
        pairs = []
        for pkg, spec in ex_table.items():
            if canonicalize_name(pkg) not in axis_names | {"python"}:
                raise MatrixError(f"{ekey}.{pkg}: not an axis of this group")
            pairs.append((canonicalize_name(pkg), _spec_or_version(spec, f"{ekey}.{pkg}")))
        exclude.append(tuple(pairs))
    guide = table.get("guide", False)
    if not isinstance(guide, bool):
        raise MatrixError(f"{key}.guide: expected true or false, got {guide!r}")
    return Group(
        name=name,
        description=str(table.get("description", "")),
        pythons=pythons,
        axes=tuple(axes),
        cases=cases,
        exclude=tuple(exclude),
        guide=guide,
    )


def _selector(raw: Any, key: str) -> Selector:
    if isinstance(raw, str):
        if raw in (ANY, LATEST):
            return Selector(raw)
        return Selector("explicit", (_version(raw, key),))
    if isinstance(raw, list):
        if not raw:
            raise MatrixError(f'{key}: empty axis: list at least one version, or use "any"')
        # "latest" may stand beside explicit versions, e.g. ["4.0.1", "latest"].
        return Selector("explicit", tuple(v if v == LATEST else _version(v, f"{key}[{i}]") for i, v in enumerate(raw)))
    if isinstance(raw, dict):
        _no_unknown(raw, _SELECTOR_KEYS, key)
        if len(raw) != 1:
            raise MatrixError(f"{key}: give exactly one of 'minors' or 'versions'")
        ((kind, spec),) = raw.items()
        return Selector(kind, spec=_specifier(spec, f"{key}.{kind}"))
    raise MatrixError(
        f'{key}: expected "any", "latest", a version, a list of versions, '
        f'or {{ minors = "<specifier>" }}; got {type(raw).__name__}'
    )


def _rule(raw: Any, key: str) -> Rule:
    table = _table(raw, key)
    _no_unknown(table, _RULE_KEYS, key)
    when_raw = _table(table.get("when"), f"{key}.when")
    if not when_raw:
        raise MatrixError(f'{key}.when: a rule needs a condition, e.g. {{ fastapi = "<0.110.1" }}')
    when = tuple((canonicalize_name(p), _specifier(s, f"{key}.when.{p}")) for p, s in when_raw.items())
    pins = []
    for i, pin in enumerate(_list(table.get("pins"), f"{key}.pins")):
        pkey = f"{key}.pins[{i}]"
        try:
            Requirement(_str(pin, pkey))
        except InvalidRequirement as exc:
            raise MatrixError(f"{pkey}: not a requirement: {pin!r} ({exc})") from exc
        pins.append(pin)
    if not pins:
        raise MatrixError(f"{key}.pins: empty: a rule must pin at least one requirement")
    return Rule(when, tuple(pins), str(table.get("why", "")))


# --------------------------------------------------------------------------------------------
# small validators


def _no_unknown(table: Mapping[str, Any], allowed: set[str], key: str) -> None:
    for k in table:
        if k not in allowed:
            where = f"{key}.{k}" if key else k
            raise MatrixError(f"{where}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _table(raw: Any, key: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MatrixError(f"{key}: expected a table, got {type(raw).__name__}")
    return raw


def _list(raw: Any, key: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise MatrixError(f"{key}: expected a list, got {type(raw).__name__}")
    return raw


def _str(raw: Any, key: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise MatrixError(f"{key}: expected a non-empty string, got {raw!r}")
    return raw


def _positive(raw: Any, key: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise MatrixError(f"{key}: expected a positive number of seconds, got {raw!r}")
    return float(raw)


def _version(raw: Any, key: str) -> str:
    return _parsed(raw, key, Version, "a version")


def _specifier(raw: Any, key: str) -> str:
    return _parsed(raw, key, SpecifierSet, "a version specifier")


def _parsed(raw: Any, key: str, parse: Callable[[str], object], what: str) -> str:
    text = _str(raw, key)
    try:
        parse(text)
    except (InvalidVersion, InvalidSpecifier) as exc:
        raise MatrixError(f"{key}: not {what}: {text!r}") from exc
    return text


def _spec_or_version(raw: Any, key: str) -> str:
    text = _str(raw, key)
    if text[0].isdigit():
        return f"=={_version(text, key)}"
    return _specifier(text, key)


def _pythons(raw: Any, key: str) -> tuple[str, ...]:
    values = [raw] if isinstance(raw, str) else _list(raw, key)
    if not values:
        raise MatrixError(f'{key}: empty axis: list at least one Python, e.g. "3.11"')
    for i, v in enumerate(values):
        if not isinstance(v, str) or not _PYTHON.match(v):
            raise MatrixError(f'{key}[{i}]: expected a Python like "3.11", got {v!r}')
    return tuple(values)


def _package_name(name: str, key: str) -> None:
    if not _NAME.match(name):
        raise MatrixError(f"{key}: not a package name: {name!r}")


# --------------------------------------------------------------------------------------------
# expansion


VersionLister = Callable[[str, str], Sequence[str]]
"""(package, python) -> released versions, oldest first (no pre-releases, no yanked)."""


def pick(selector: Selector, released: Sequence[str]) -> list[str]:
    """The versions an axis selects from the released ones (ascending)."""
    if selector.kind == ANY:
        return [ANY]
    if selector.kind == "explicit":
        picked = [released[-1] if v == LATEST and released else v for v in selector.versions]
        return [v for v in dict.fromkeys(picked) if v != LATEST]
    if not released:
        return []
    if selector.kind == LATEST:
        return [released[-1]]
    spec = SpecifierSet(selector.spec)
    inside = [v for v in released if spec.contains(v)]
    if selector.kind == "versions":
        return inside
    newest_of_minor: dict[tuple[int, ...], str] = {}
    for v in inside:
        newest_of_minor[Version(v).release[:2]] = v  # ascending input: the last one wins
    return list(newest_of_minor.values())


def expand(matrix: Matrix, lister: VersionLister) -> list[Cell]:
    cells: list[Cell] = []
    seen: set[str] = set()
    for group in matrix.groups:
        for python in group.pythons:
            combos: list[list[tuple[str, str]]] = [[]]
            for name, selector in group.axes:
                wants_index = selector.kind in ("latest", "minors", "versions") or LATEST in selector.versions
                released = lister(name, python) if wants_index else []
                versions = pick(selector, released)
                combos = [[*c, (name, v)] for c in combos for v in versions]
            for combo in combos:
                if _excluded(group, python, combo):
                    continue
                cell = Cell(group.name, python, tuple(combo), group.cases)
                if cell.id not in seen:
                    seen.add(cell.id)
                    cells.append(cell)
    return cells


def _excluded(group: Group, python: str, combo: list[tuple[str, str]]) -> bool:
    values = dict(combo) | {"python": python}
    for exclusion in group.exclude:
        if all(
            values.get(name, ANY) != ANY and SpecifierSet(spec).contains(values[name], prereleases=True)
            for name, spec in exclusion
        ):
            return True
    return False
