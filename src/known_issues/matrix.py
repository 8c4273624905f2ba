"""matrix.toml: the declarative version matrix, its validation and its expansion into cells.

Validation is strict and happens before anything is created: the file is read into Pydantic models
(tomlfile.py; their JSON Schema is schemas/matrix.schema.json), and every problem names its key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from known_issues.errors import MatrixError, PackageIndexError
from known_issues.tomlfile import (
    Expected,
    FileModel,
    Requirement,
    Says,
    Specifier,
    Text,
    check_specifier,
    check_version,
    read_toml,
    validate,
)

ANY = "any"
LATEST = "latest"


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
    # Packages installed from a source instead of the index (a candidate): name -> its direct URL. The
    # requested value then names the source's content ("cand-<digest>"), so the id and the lock follow it.
    direct: tuple[tuple[str, str], ...] = ()

    @functools.cached_property
    def id(self) -> str:  # asked hundreds of thousands of times by the report: made once
        parts = [self.group, f"py{self.python}"]
        parts += [f"{name}{version}" for name, version in self.requested]
        return "-".join(parts)

    def requirements(self, extras: Mapping[str, tuple[str, ...]]) -> list[str]:
        reqs = []
        direct = dict(self.direct)
        for name, version in self.requested:
            ex = extras.get(name, ())
            req = f"{name}[{','.join(ex)}]" if ex else name
            if name in direct:
                reqs.append(f"{req} @ {direct[name]}")
            else:
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
            **({"direct": dict(self.direct)} if self.direct else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        requested = dict(data["requested"])
        return cls(
            group=str(data["group"]),
            python=str(data["python"]),
            requested=tuple((str(k), str(requested[k])) for k in data.get("axes", requested)),
            cases=tuple(str(c) for c in data.get("cases", [])),
            direct=tuple((str(k), str(v)) for k, v in dict(data.get("direct", {})).items()),
        )

    @property
    def axes(self) -> tuple[str, ...]:
        """The packages this cell's group varies, in the order the group declares them."""
        return tuple(name for name, _ in self.requested)


# --------------------------------------------------------------------------------------------
# the file, key by key (README.md, "The matrix, key by key"): its models give the JSON Schema too

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
PackageName = Annotated[str, Field(pattern=_NAME), Expected("a package name")]
GroupName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$"), Expected("lowercase letters, digits and '-'")]
Python = Annotated[str, Field(pattern=r"^3\.\d{1,2}$"), Expected('a Python like "3.11"')]
Seconds = Annotated[float, Field(gt=0), Expected("a positive number of seconds")]


def _listed(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


Pythons = Annotated[
    list[Python],
    Field(min_length=1),
    BeforeValidator(_listed, json_schema_input_type=Python | Annotated[list[Python], Field(min_length=1)]),
    Says('empty axis: list at least one Python, e.g. "3.11"'),
]


def _version_or(*words: str) -> AfterValidator:
    return AfterValidator(lambda text: text if text in words else check_version(text))


class SelectorTable(FileModel):
    """A range of releases: the newest patch of each minor in it, or every release in it."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})
    minors: Specifier | None = Field(
        default=None, description='The newest patch of every minor in this range, e.g. ">=0.100".'
    )
    versions: Specifier | None = Field(default=None, description="Every release in this range.")

    @model_validator(mode="after")
    def _exactly_one(self) -> SelectorTable:
        if (self.minors is None) == (self.versions is None):
            raise ValueError("give exactly one of 'minors' or 'versions'")
        return self


def _selector_form(value: object) -> str | None:
    forms: dict[type, str] = {str: "one", list: "list", dict: "table"}
    return forms.get(type(value))


SelectorSpec = Annotated[
    Annotated[Text, _version_or(ANY, LATEST), Tag("one")]
    | Annotated[
        list[Annotated[Text, _version_or(LATEST)]],
        Field(min_length=1),
        Says('empty axis: list at least one version, or use "any"'),
        Tag("list"),
    ]
    | Annotated[SelectorTable, Tag("table")],
    Discriminator(
        _selector_form,
        custom_error_type="selector",
        custom_error_message='expected "any", "latest", a version, a list of versions, or { minors = "<specifier>" }',
    ),
]


def _version_or_specifier(text: str) -> str:
    return f"=={check_version(text)}" if text[0].isdigit() else check_specifier(text)


class DefaultsTable(FileModel):
    """What every group has unless it says otherwise."""

    python: Pythons = Field(default=["3.11"], description="A Python or a list of them; a group may set its own.")
    cell_timeout: Seconds = Field(default=1200.0, description="Seconds for one cell's tests.")
    test_timeout: Seconds = Field(
        default=60.0, description="Seconds for each phase (setup, call, teardown) of one test."
    )
    only_where_named: list[Text] = Field(
        default=[], description="Cases that run only in the groups whose `cases` names them."
    )


class PackageTable(FileModel):
    """How a package is installed wherever it is an axis."""

    extras: list[Text] = []


class RuleTable(FileModel):
    """A test-dependency rule, matched on a cell's resolved versions."""

    when: Annotated[
        dict[PackageName, Specifier],
        Field(min_length=1),
        Says('a rule needs a condition, e.g. { fastapi = "<0.110.1" }'),
    ]
    pins: Annotated[
        list[Requirement],
        Field(min_length=1, description="Added to the cell's requirements and recorded."),
        Says("empty: a rule must pin at least one requirement"),
    ]
    why: str = ""


class GroupTable(FileModel):
    """A group: the product of its axes on each of its Pythons."""

    name: GroupName
    description: str = ""
    python: Pythons | None = Field(default=None, description="Overrides defaults.python.")
    cases: list[Text] = Field(
        default=[], description='Only these cases (default: every case); "*" among them: every case, and these too.'
    )
    axes: Annotated[
        dict[PackageName, SelectorSpec],
        Field(
            min_length=1,
            description='Package -> "any", "latest", a version, a list of versions, { minors = "<spec>" } '
            'or { versions = "<spec>" }; the order is kept.',
        ),
        Says('a group needs at least one axis (e.g. fastapi = "latest")'),
    ]
    exclude: list[
        Annotated[
            dict[str, Annotated[Text, AfterValidator(_version_or_specifier)]],
            Field(min_length=1),
            Says("an exclusion needs at least one axis"),
        ]
    ] = Field(default=[], description="Combinations left out: axis (or python) -> a version or a specifier.")
    guide: bool = Field(default=False, description="The versions the guide names: its claims there go into errata.md.")


class MatrixFile(FileModel):
    """matrix.toml: the version matrix (README.md, "The matrix, key by key")."""

    defaults: DefaultsTable = Field(default_factory=DefaultsTable)
    packages: dict[PackageName, PackageTable] = {}
    rules: list[RuleTable] = []
    groups: Annotated[list[GroupTable], Field(min_length=1), Says("the matrix needs at least one [[groups]] table")]


def load(path: Path) -> Matrix:
    data = read_toml(path, MatrixError)
    try:
        return parse(data, source=str(path))
    except MatrixError as exc:
        raise MatrixError(f"{path}: {exc}") from exc


def parse(data: Mapping[str, Any], source: str = "") -> Matrix:
    file = validate(MatrixFile, data, MatrixError)
    names = [g.name for g in file.groups]
    for name in names:
        if names.count(name) > 1:
            raise MatrixError(f"groups: the group name {name!r} is used twice")
    defaults = file.defaults
    return Matrix(
        groups=tuple(_group(g, tuple(defaults.python)) for g in file.groups),
        rules=tuple(
            Rule(tuple((canonicalize_name(p), s) for p, s in r.when.items()), tuple(r.pins), r.why) for r in file.rules
        ),
        extras={canonicalize_name(name): tuple(p.extras) for name, p in file.packages.items()},
        cell_timeout=defaults.cell_timeout,
        test_timeout=defaults.test_timeout,
        source=source,
        only_where_named=tuple(defaults.only_where_named),
    )


def _group(table: GroupTable, default_python: tuple[str, ...]) -> Group:
    axes = tuple((canonicalize_name(name), _selector(spec)) for name, spec in table.axes.items())
    exclude = []
    for i, exclusion in enumerate(table.exclude):
        for name in exclusion:
            if canonicalize_name(name) not in {a for a, _ in axes} | {"python"}:
                raise MatrixError(f"groups[{table.name}].exclude[{i}].{name}: not an axis of this group")
        exclude.append(tuple((canonicalize_name(name), spec) for name, spec in exclusion.items()))
    return Group(
        name=table.name,
        description=table.description,
        pythons=tuple(table.python) if table.python is not None else default_python,
        axes=axes,
        cases=tuple(table.cases),
        exclude=tuple(exclude),
        guide=table.guide,
    )


def _selector(spec: str | list[str] | SelectorTable) -> Selector:
    if isinstance(spec, SelectorTable):  # exactly one of the two is set
        return Selector("minors", spec=spec.minors) if spec.minors else Selector("versions", spec=spec.versions or "")
    if isinstance(spec, list):
        return Selector("explicit", tuple(spec))  # "latest" may stand beside versions: ["4.0.1", "latest"]
    return Selector(spec) if spec in (ANY, LATEST) else Selector("explicit", (spec,))


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


def follows_the_newest(cell: Cell, released: VersionLister | None) -> bool:
    """Is this a newest cell: one that stands for what a fresh ``pip install`` of the guide's packages
    gives today? The one definition (README.md, "Verdicts"): its first axis is requested as "any", or
    at the newest release of that package on the index for the cell's Python (what "latest" and the
    newest minor of a range expand to), or installed from a candidate's source (`candidate`, beside
    the newest releases). In the default matrix: the pythons cells, the bcrypt cells, the "latest"
    cells of servers and guide-project, the fastapi-minors cell at the newest FastAPI, the
    pydantic-minors cell at the newest Pydantic; and `latest`'s cell.

    Such a cell prefers only the test tools of ``tools.lock``; every other package is what the
    resolver picks for its runtime requirements. Any other cell prefers all of ``tools.lock``. When
    the index cannot list the package (no ``released``, unreachable and nothing cached), only "any"
    counts: a cell is never moved onto the newest packages on a guess."""
    if not cell.requested:
        return False
    name, version = cell.requested[0]
    if version == ANY or name in dict(cell.direct):
        return True  # a candidate (installed from its source) stands beside the newest releases
    if released is None:
        return False
    try:
        listed = released(name, cell.python)
        return bool(listed) and Version(listed[-1]) == Version(version)
    except (PackageIndexError, InvalidVersion):
        return False


def _excluded(group: Group, python: str, combo: list[tuple[str, str]]) -> bool:
    values = dict(combo) | {"python": python}
    for exclusion in group.exclude:
        if all(
            values.get(name, ANY) != ANY and SpecifierSet(spec).contains(values[name], prereleases=True)
            for name, spec in exclusion
        ):
            return True
    return False
