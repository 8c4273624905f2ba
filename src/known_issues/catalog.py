"""The case catalog: every ``cases/<slug>/case.toml``, loaded and validated in one place.

Validation is strict, like matrix.toml's (Pydantic models, tomlfile.py; their JSON Schema is
schemas/case.schema.json): an unknown key, a missing title, a verdict that no role can give or a
requirement that does not parse stops with a message naming the file and the key.
"""

from __future__ import annotations

import ast
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from packaging.requirements import Requirement
from pydantic import Field

from known_issues import tomlfile
from known_issues.cell.verdicts import Role, Verdict
from known_issues.errors import CaseError
from known_issues.outcomes import OBSERVED
from known_issues.tomlfile import SLUG, Expected, FileModel, HttpsUrl, OneOf, Slug, Text

KINDS = ("known-issue", "common-error", "pattern", "requirement")
# Where the guide's code blocks are stored, each once, as printed (relative to cases/): the files a
# case names in [[printed]]. Not a case (no case.toml); excluded from ruff as one folder.
PRINTED_DIR = "guide_code/printed"
# A claim expects something observable about the behaviour: never "error", "n/a" or "flaky".
EXPECTABLE = tuple(v.value for v in Verdict if v in OBSERVED)


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Expectation:
    """One verdict the document's words imply for one test, optionally only where versions match.

    ``quote`` is the document's own words that the expectation judges (verbatim, short)."""

    test: str
    verdict: Verdict
    where: tuple[str, ...] = ()
    quote: str = ""
    # For a rule the guide states rightly but breaks in its own example: the example's line, verbatim.
    example: str = ""
    # The workaround tests of the same case that answer this claim, in the order to tell a guide's
    # author (the guide's own fix first).
    workarounds: tuple[str, ...] = ()

    def applies(self, versions: Mapping[str, str]) -> bool:
        for text in self.where:
            req = Requirement(text)
            installed = versions.get(req.name.lower().replace("_", "-"))
            if installed is None or not req.specifier.contains(installed, prereleases=True):
                return False
        return True


@dataclass(frozen=True)
class Printed:
    """A file of the case that holds one of the document's code blocks as printed: the block is the
    ``block``-th fenced code block under the heading ``section``."""

    file: str
    section: str
    block: int = 1


@dataclass(frozen=True)
class Deviation:
    """One way the case departs from the document's code. With ``file`` (a printed file), ``guide``
    and ``ours`` are the lines that differ there, and the check holds them against the document."""

    guide: str
    ours: str
    why: str
    file: str = ""


@dataclass(frozen=True)
class Case:
    slug: str
    title: str
    kind: str
    summary: str = ""
    dependencies: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    claim_section: str = ""
    claim_text: str = ""
    expectations: tuple[Expectation, ...] = ()
    printed: tuple[Printed, ...] = ()
    deviations: tuple[Deviation, ...] = ()
    files: Mapping[str, str] = field(default_factory=dict)  # the app modules, name -> source


# --------------------------------------------------------------------------------------------
# the file, key by key (cases/README.md, "case.toml, key by key"): its models give the JSON Schema too


class SourceTable(FileModel):
    """A page the case rests on: the issue or discussion, the fixing release's notes, the docs."""

    title: str | None = Field(default=None, description="Default: the address.")
    url: HttpsUrl


class ExpectTable(FileModel):
    """The verdict the guide's words imply for one test."""

    test: Text = Field(description="A test function of the case.")
    verdict: Annotated[str, OneOf(EXPECTABLE)]
    where: list[tomlfile.Requirement] = Field(
        default=[], description='Only cells whose resolved versions match, e.g. "fastapi>=0.114.0".'
    )
    quote: str = Field(
        default="", description="The guide's own words this expectation judges, verbatim (`check` requires it)."
    )
    example: str = Field(
        default="",
        description="For a rule the guide states rightly but breaks in its own example: the example's line that "
        "breaks it, verbatim (the errata quote it).",
    )
    workarounds: list[Text] = Field(
        default=[],
        description="The workaround tests of this case that answer this claim, in the order to tell the guide's "
        "author, the guide's own fix first.",
    )


class ClaimTable(FileModel):
    """What the guide claims, and the verdicts that follow from it."""

    section: str = Field(default="", description="Where in the guide.")
    text: str = Field(default="", description="The claim, in our words.")
    expect: list[ExpectTable] = []


class PrintedTable(FileModel):
    """A file of the case that holds one of the guide's code blocks as printed."""

    file: Text = Field(
        description=f"The block's file in {PRINTED_DIR}/, as a path from the case folder "
        f'("../{PRINTED_DIR}/project/src/config.py").'
    )
    section: Text = Field(description="The heading above the block in the guide.")
    block: Annotated[int, Field(ge=1), Expected("a positive integer")] = Field(
        default=1, description="The n-th block under that heading."
    )


class DeviationTable(FileModel):
    """One way the case departs from the guide's code."""

    guide: str = Field(description="The guide's lines (empty for nothing).")
    ours: str = Field(description="The case's lines (empty for nothing).")
    why: Text
    file: str = Field(default="", description="A [[printed]] file, where guide and ours are the lines that differ.")


class CaseFile(FileModel):
    """cases/<slug>/case.toml: one case of the suite (cases/README.md, "case.toml, key by key")."""

    id: Slug | None = Field(default=None, description="Must equal the folder's name.")
    title: Text
    kind: Annotated[str, OneOf(KINDS)]
    summary: str = ""
    dependencies: list[tomlfile.Requirement] = Field(
        default=[], description="What the case needs beyond the common test tools (then `nox -s lock-tools`)."
    )
    sources: list[SourceTable] = []
    claim: ClaimTable = Field(default_factory=ClaimTable)
    printed: list[PrintedTable] = []
    deviations: list[DeviationTable] = []


def case_names(cases_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in cases_dir.glob("*/case.toml"))


def load_case(folder: Path) -> Case:
    path = folder / "case.toml"
    data = tomlfile.read_toml(path, CaseError)
    slug = folder.name
    if not SLUG.match(slug):
        raise CaseError(f"{folder}: the folder name must be lowercase letters, digits and '_' (a Python package)")
    try:
        case = tomlfile.validate(CaseFile, data, CaseError)
        if case.id not in (None, slug):
            raise CaseError(f"id: {case.id!r} must be the folder's name {slug!r}")
        for i, printed in enumerate(case.printed):
            if not (folder / printed.file).is_file():
                raise CaseError(f"printed[{i}].file: no file {printed.file!r} in {folder}")
    except CaseError as exc:
        raise CaseError(f"{path}: {exc}") from exc
    return Case(
        slug=slug,
        title=case.title,
        kind=case.kind,
        summary=case.summary.strip(),
        dependencies=tuple(case.dependencies),
        sources=tuple(Source(s.url if s.title is None else s.title, s.url) for s in case.sources),
        claim_section=case.claim.section,
        claim_text=case.claim.text.strip(),
        # A missing quote is refused by `check` (checks.py), not here: the matrix still runs the case.
        expectations=tuple(
            Expectation(
                e.test, Verdict(e.verdict), tuple(e.where), e.quote.strip(), e.example.strip(), tuple(e.workarounds)
            )
            for e in case.claim.expect
        ),
        printed=tuple(Printed(p.file, p.section, p.block) for p in case.printed),
        deviations=tuple(Deviation(d.guide, d.ours, d.why, d.file) for d in case.deviations),
        files={
            p.name: p.read_text(encoding="utf-8")
            for p in sorted(folder.glob("*.py"))
            if p.name != "__init__.py" and not p.name.startswith(("test_", "support_")) and p.name != "conftest.py"
        },
    )


def load_cases(cases_dir: Path) -> dict[str, Case]:
    return {slug: load_case(cases_dir / slug) for slug in case_names(cases_dir)}


def case_dependencies(cases: Mapping[str, Case], selected: list[str]) -> list[str]:
    """What the selected cases need beyond the common test tools, in order, without repeats."""
    wanted: dict[str, None] = {}
    for slug in selected:
        for requirement in cases[slug].dependencies:
            wanted[requirement] = None
    return list(wanted)


def test_functions(folder: Path) -> dict[str, list[str]]:
    """Test function name -> the role markers on it, for every ``test_*`` function of the folder's test modules."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("test_*.py")):
        found.update(test_functions_in(path))
    return found


def test_functions_in(path: Path, _seen: frozenset[Path] = frozenset()) -> dict[str, list[str]]:
    """The test functions of one module, with those it takes by a star import from a module of its
    own case or of another (``from .support_suite import *``, ``from ..other_case.support_x import *``:
    every test function there, or only the names in its ``__all__`` when it has one)."""
    roles = {r.value for r in Role}
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.level in (1, 2)
            and node.module
            and any(a.name == "*" for a in node.names)
        ):
            base = path.parent if node.level == 1 else path.parent.parent
            other = base.joinpath(*node.module.split(".")).with_suffix(".py")
            if other.exists() and other not in _seen:
                shared = test_functions_in(other, _seen | {path})
                exported = _dunder_all(other)
                found.update({k: v for k, v in shared.items() if exported is None or k in exported})
    for item in ast.walk(tree):
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test_"):
            found[item.name] = [m for m in map(_marker_name, item.decorator_list) if m in roles]
    return found


def _dunder_all(path: Path) -> set[str] | None:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                return {str(x) for x in ast.literal_eval(node.value)}
            except ValueError:
                return None
    return None


_FROM_PARENT = re.compile(r"\bfrom\s+\.\s*\.")


def related_folders(folder: Path) -> list[Path]:
    """The case folder and every other folder of cases/ its modules import from (``from ..other import
    x``) or its case.toml names a printed file in (``../guide_code/printed/...``)."""
    found = [folder]
    for other in _printed_folders(folder):
        if other.is_dir() and other not in found:
            found.append(other)
    for current in found:
        for path in sorted(current.glob("*.py")):
            text = path.read_text(encoding="utf-8")
            # Parsing every module of every case cost an unchanged run 1.2 of its 8 CPU-s; a module
            # without the text of such an import has none.
            if not _FROM_PARENT.search(text):
                continue
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                    other = current.parent / node.module.split(".")[0]
                    if other.is_dir() and other not in found:
                        found.append(other)
    return found


def _printed_folders(folder: Path) -> list[Path]:
    """The top folders of cases/ that hold the printed files the case's case.toml names."""
    try:
        data = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    printed = data.get("printed", [])
    files = [p.get("file") for p in printed if isinstance(p, dict)] if isinstance(printed, list) else []
    parts = [Path(f).parts for f in files if isinstance(f, str)]
    return [folder.parent / p[1] for p in parts if len(p) > 1 and p[0] == ".."]


def files_digest(folder: Path) -> str:
    """A hash of every file of a case folder, and of the case folders it imports from (what a
    stored result of the case depends on)."""
    digest = hashlib.sha256()
    for root in related_folders(folder):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            name = path.relative_to(root.parent).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _marker_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        return node.attr if node.value.attr == "mark" else ""
    return ""
