"""The case catalog: every ``cases/<slug>/case.toml``, loaded and validated in one place.

Validation is strict, like matrix.toml's: an unknown key, a missing title, a verdict that no role
can give or a requirement that does not parse stops with a message naming the file and the key.
"""

from __future__ import annotations

import ast
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from known_issues.cell.verdicts import Role, Verdict
from known_issues.errors import CaseError
from known_issues.outcomes import OBSERVED

KINDS = ("known-issue", "common-error", "pattern", "requirement")
_TOP_KEYS = {"id", "title", "kind", "summary", "dependencies", "sources", "claim", "printed", "deviations"}
_SOURCE_KEYS = {"title", "url"}
_CLAIM_KEYS = {"section", "text", "expect"}
_EXPECT_KEYS = {"test", "verdict", "where", "quote"}
_PRINTED_KEYS = {"file", "section", "block"}
_DEVIATION_KEYS = {"file", "guide", "ours", "why"}
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
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


def case_names(cases_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in cases_dir.glob("*/case.toml"))


def load_case(folder: Path) -> Case:
    path = folder / "case.toml"
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseError(f"{where}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{where}: not valid TOML: {exc}") from exc
    _no_unknown(data, _TOP_KEYS, "", where)
    slug = folder.name
    if not _SLUG.match(slug):
        raise CaseError(f"{folder}: the folder name must be lowercase letters, digits and '_' (a Python package)")
    if data.get("id", slug) != slug:
        raise CaseError(f"{where}: id: {data.get('id')!r} must be the folder's name {slug!r}")
    kind = _str(data.get("kind"), "kind", where)
    if kind not in KINDS:
        raise CaseError(f"{where}: kind: {kind!r} is not one of {', '.join(KINDS)}")
    claim = _table(data.get("claim", {}), "claim", where)
    _no_unknown(claim, _CLAIM_KEYS, "claim", where)
    return Case(
        slug=slug,
        title=_str(data.get("title"), "title", where),
        kind=kind,
        summary=str(data.get("summary", "")).strip(),
        dependencies=tuple(
            _requirement(r, f"dependencies[{i}]", where) for i, r in enumerate(_list(data, "dependencies", where))
        ),
        sources=tuple(_source(s, f"sources[{i}]", where) for i, s in enumerate(_list(data, "sources", where))),
        claim_section=str(claim.get("section", "")),
        claim_text=str(claim.get("text", "")).strip(),
        expectations=tuple(
            _expect(e, f"claim.expect[{i}]", where) for i, e in enumerate(_list(claim, "expect", where))
        ),
        printed=tuple(_printed(t, f"printed[{i}]", folder, where) for i, t in enumerate(_list(data, "printed", where))),
        deviations=tuple(
            _deviation(t, f"deviations[{i}]", where) for i, t in enumerate(_list(data, "deviations", where))
        ),
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


def related_folders(folder: Path) -> list[Path]:
    """The case folder and every other case folder its modules import from (``from ..other import x``)."""
    found = [folder]
    for current in found:
        for path in sorted(current.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                    other = current.parent / node.module.split(".")[0]
                    if other.is_dir() and other not in found:
                        found.append(other)
    return found


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


# --------------------------------------------------------------------------------------------
# small validators


def _no_unknown(table: Mapping[str, Any], allowed: set[str], key: str, where: str) -> None:
    for k in table:
        if k not in allowed:
            name = f"{key}.{k}" if key else k
            raise CaseError(f"{where}: {name}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _table(raw: Any, key: str, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: {key}: expected a table, got {type(raw).__name__}")
    return raw


def _list(table: Mapping[str, Any], key: str, where: str) -> list[Any]:
    raw = table.get(key, [])
    if not isinstance(raw, list):
        raise CaseError(f"{where}: {key}: expected a list, got {type(raw).__name__}")
    return raw


def _str(raw: Any, key: str, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CaseError(f"{where}: {key}: expected a non-empty string, got {raw!r}")
    return raw


def _requirement(raw: Any, key: str, where: str) -> str:
    text = _str(raw, key, where)
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise CaseError(f"{where}: {key}: not a requirement: {text!r} ({exc})") from exc
    return text


def _source(raw: Any, key: str, where: str) -> Source:
    table = _table(raw, key, where)
    _no_unknown(table, _SOURCE_KEYS, key, where)
    url = _str(table.get("url"), f"{key}.url", where)
    if not url.startswith("https://"):
        raise CaseError(f"{where}: {key}.url: expected an https:// address, got {url!r}")
    return Source(str(table.get("title", url)), url)


def _expect(raw: Any, key: str, where: str) -> Expectation:
    table = _table(raw, key, where)
    _no_unknown(table, _EXPECT_KEYS, key, where)
    test = _str(table.get("test"), f"{key}.test", where)
    verdict = _str(table.get("verdict"), f"{key}.verdict", where)
    if verdict not in EXPECTABLE:
        raise CaseError(f"{where}: {key}.verdict: {verdict!r} is not one of {', '.join(EXPECTABLE)}")
    conditions = tuple(_requirement(w, f"{key}.where[{i}]", where) for i, w in enumerate(_list(table, "where", where)))
    # A missing quote is refused by `check` (checks.py), not here: the matrix still runs the case.
    quote = table.get("quote", "")
    if not isinstance(quote, str):
        raise CaseError(f"{where}: {key}.quote: expected a string, got {quote!r}")
    return Expectation(test, Verdict(verdict), conditions, quote.strip())


def _printed(raw: Any, key: str, folder: Path, where: str) -> Printed:
    table = _table(raw, key, where)
    _no_unknown(table, _PRINTED_KEYS, key, where)
    name = _str(table.get("file"), f"{key}.file", where)
    if not (folder / name).is_file():
        raise CaseError(f"{where}: {key}.file: no file {name!r} in {folder}")
    block = table.get("block", 1)
    if not isinstance(block, int) or isinstance(block, bool) or block < 1:
        raise CaseError(f"{where}: {key}.block: expected a positive integer, got {block!r}")
    return Printed(name, _str(table.get("section"), f"{key}.section", where), block)


def _deviation(raw: Any, key: str, where: str) -> Deviation:
    table = _table(raw, key, where)
    _no_unknown(table, _DEVIATION_KEYS, key, where)
    texts = {}
    for name in ("guide", "ours"):
        value = table.get(name)
        if not isinstance(value, str):
            raise CaseError(f"{where}: {key}.{name}: expected a string (empty for nothing), got {value!r}")
        texts[name] = value
    file = table.get("file", "")
    if not isinstance(file, str):
        raise CaseError(f"{where}: {key}.file: expected a string, got {file!r}")
    return Deviation(texts["guide"], texts["ours"], _str(table.get("why"), f"{key}.why", where), file)
