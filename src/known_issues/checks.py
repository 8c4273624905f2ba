"""Static checks of every case, in seconds and without building a cell: case.toml, role markers,
expectations, imports and dependencies. Each problem names the file and the key or test."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from known_issues import guide as guide_mod
from known_issues.catalog import PRINTED_DIR, Case, case_names, load_case, test_functions, test_functions_in
from known_issues.cell.verdicts import TABLE, Role, Verdict
from known_issues.errors import CaseError, MatrixError
from known_issues.guide import Guide
from known_issues.matrix import Matrix, runs_case
from known_issues.matrix import load as load_matrix
from known_issues.outcomes import OBSERVED
from known_issues.runner import locks as locks_mod

HARNESS = "known_issues"


def check_cases(root: Path, guide: Guide | None = None) -> list[str]:
    """Every problem of every case. With the guide's text, quotes and printed files are also held
    against it."""
    cases_dir = root / "cases"
    problems: list[str] = []
    try:
        matrix = load_matrix(root / "matrix.toml")
        extras = matrix.extras
    except MatrixError as exc:
        return [str(exc)]
    common = locks_mod.cell_group(root)
    tools = _locked_names(root)
    for slug in case_names(cases_dir):
        folder = cases_dir / slug
        try:
            case = load_case(folder)
        except CaseError as exc:
            problems.append(str(exc))
            continue
        problems += _observed_range_in_title(folder, case)
        problems += _markers(folder)
        problems += _lenient_bug_tests(folder)
        problems += _skips(folder)
        problems += _expectations(folder, case)
        problems += _quotes(folder, case, guide)
        problems += _printed(folder, case, guide)
        axes = _axes_everywhere(matrix, slug)
        allowed = _closure([*common, *case.dependencies, *(_with_extras(a, extras) for a in axes)])
        problems += _imports(folder, case, allowed)
        problems += [
            f"{folder / 'case.toml'}: dependencies: {dep!r} is not in tools.lock; run `nox -s lock-tools`"
            for dep in case.dependencies
            if tools and canonicalize_name(Requirement(dep).name) not in tools
        ]
    return problems


def _axes_everywhere(matrix: Matrix, slug: str) -> set[str]:
    """The axes of every group that runs the case: what the case may import without declaring it."""
    groups = [g for g in matrix.groups if runs_case(g.cases, slug, matrix.only_where_named)]
    axes = [{name for name, _ in g.axes} for g in groups]
    return set.intersection(*axes) if axes else set()


# A version: 0.128.2, 3.9, v2.10 (a major alone, "Pydantic v2", is a mechanism, not a range).
_VERSION = r"v?\d+\.\d+(?:\.\d+)*(?:\.x)?\+?"
_OBSERVED_RANGE = re.compile(
    # "fixed in 0.128.2", "seen at 0.123.10", "works from FastAPI 0.113.0", "crash on 3.9"
    rf"\b(?:fixed|seen|since|until|reproduces|reproduced|broken|breaks|works|holds|fails|crash(?:es)?)"
    rf"\s+(?:(?:in|at|from|since|on|until|before|after)\s+)?(?:[A-Za-z][\w-]*\s+)?{_VERSION}"
    # "0.114.0-0.123.1", "3.9 to 3.11"
    rf"|{_VERSION}\s*(?:-|\u2013|\bto\b)\s*{_VERSION}"
    # "<0.106", ">=0.118"
    rf"|[<>]=?\s*{_VERSION}",
    re.IGNORECASE,
)
# Quoted text is someone else's words (the guide's claim, an error message): its versions are theirs.
_QUOTED = re.compile(r"""(?<!\w)'[^']*'(?!\w)|"[^"]*"|`[^`]*`|\u201c[^\u201d]*\u201d""")


def _observed_range_in_title(folder: Path, case: Case) -> list[str]:
    """The report computes every version range from the results (a test's history, narrowed to the
    exact release): one written into the title by hand goes stale and contradicts it."""
    found = _OBSERVED_RANGE.search(_QUOTED.sub(" ", case.title))
    if found is None:
        return []
    return [
        f"{folder / 'case.toml'}: title: states an observed version range ({found.group(0)!r}); the report "
        "computes them from the results (the case's history): describe the behaviour, or quote the source's words"
    ]


def _markers(folder: Path) -> list[str]:
    out = []
    for name, roles in test_functions(folder).items():
        if len(set(roles)) != 1:
            found = ", ".join(sorted(set(roles))) or "none"
            out.append(
                f"{_test_file(folder, name)}::{name}: needs exactly one role marker (bug, workaround or pattern); "
                f"found: {found}"
            )
    return out


def _lenient_bug_tests(folder: Path) -> list[str]:
    """A lenient client turns a crash into a 500 the test may read as "fixed": in a module with bug
    tests it must come with an assertion of the server's exact exception (``Observed.assert_raised``)."""
    out = []
    for path in sorted(folder.glob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        if "raise_server_exceptions=False" not in source or "assert_raised" in source:
            continue
        bugs = [name for name, roles in test_functions_in(path).items() if roles == ["bug"]]
        out += [
            f"{path}::{name}: a bug test beside a lenient client (raise_server_exceptions=False) must assert "
            "the server's exact exception (casekit.Observed.assert_raised)"
            for name in bugs
        ]
    return out


def _skips(folder: Path) -> list[str]:
    """A skip is n/a, "the feature does not exist here": only ``casekit.requires`` says that. Any other
    skip (a skipif on the Python, an importorskip) could hide a verdict."""
    out = []
    for path in sorted(folder.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Attribute) and node.attr in _SKIPS and _names_pytest(node.value):
                out.append(
                    f"{path}:{node.lineno}: {ast.unparse(node)}: a case test skips only with casekit.requires "
                    "(the feature is absent in the installed versions: n/a)"
                )
    return out


_SKIPS = {"skip", "skipif", "importorskip", "xfail"}


def _names_pytest(node: ast.expr) -> bool:
    """``pytest`` or ``pytest.mark``."""
    if isinstance(node, ast.Name):
        return node.id == "pytest"
    return isinstance(node, ast.Attribute) and node.attr == "mark" and _names_pytest(node.value)


def _expectations(folder: Path, case: Case) -> list[str]:
    tests = test_functions(folder)
    out = []
    for i, exp in enumerate(case.expectations):
        key = f"{folder / 'case.toml'}: claim.expect[{i}]"
        if exp.test not in tests:
            out.append(f"{key}.test: no test named {exp.test!r} in {folder}/test_*.py")
            continue
        out += _workarounds(key, exp.workarounds, tests, folder)
        roles = set(tests[exp.test])
        if len(roles) == 1:
            (role,) = roles
            possible = sorted({str(v) for v in TABLE[Role(role)].values() if v in OBSERVED})
            if exp.verdict not in {Verdict(v) for v in possible}:
                out.append(
                    f"{key}.verdict: {exp.test} is a {role} test, which reads {' or '.join(possible)}, "
                    f"never {exp.verdict}"
                )
    return out


def _workarounds(key: str, names: tuple[str, ...], tests: Mapping[str, list[str]], folder: Path) -> list[str]:
    """The workarounds an expectation names are workaround tests of the case, each named once."""
    out = []
    for j, name in enumerate(names):
        where = f"{key}.workarounds[{j}]"
        if name in names[:j]:
            out.append(f"{where}: {name!r} is named twice")
        elif name not in tests:
            out.append(f"{where}: no test named {name!r} in {folder}/test_*.py")
        elif tests[name] != [Role.WORKAROUND.value]:
            roles = ", ".join(sorted(set(tests[name]))) or "no role"
            out.append(f"{where}: {name} is a {roles} test, not a workaround")
    return out


def _quotes(folder: Path, case: Case, guide: Guide | None) -> list[str]:
    """Each expectation quotes the guide's words it judges; with the guide at hand, they are there."""
    out = []
    for i, exp in enumerate(case.expectations):
        key = f"{folder / 'case.toml'}: claim.expect[{i}].quote"
        if not exp.quote:
            out.append(
                f"{key}: missing: quote the guide's own words that {exp.test} judges (an expectation the guide "
                "does not make is the case's own check: remove it, the test keeps its verdict)"
            )
        elif guide is not None and not guide.contains(exp.quote):
            out.append(f"{key}: not in the guide ({guide.path}): {exp.quote!r}")
        if exp.example and guide is not None and not guide.contains(exp.example):
            out.append(
                f"{folder / 'case.toml'}: claim.expect[{i}].example: not in the guide ({guide.path}): {exp.example!r}"
            )
    return out


# A case that says it runs the guide's code "as printed" must name the printed files, so that the
# check can hold them against the guide.
_AS_PRINTED = re.compile(r"\bas printed\b", re.IGNORECASE)


def _printed(folder: Path, case: Case, guide: Guide | None) -> list[str]:
    where = folder / "case.toml"
    out = []
    if not case.printed and _AS_PRINTED.search(f"{case.title}\n{case.summary}\n{case.claim_text}"):
        out.append(
            f"{where}: printed: the case says it runs the guide's code as printed but names no [[printed]] file "
            "(file, section) to check it against"
        )
    store = (folder.parent / PRINTED_DIR).resolve()
    for i, printed in enumerate(case.printed):
        if not (folder / printed.file).resolve().is_relative_to(store):
            out.append(
                f"{where}: printed[{i}].file: {printed.file!r} is not in cases/{PRINTED_DIR}/: every printed block is "
                f"stored there once (name it as ../{PRINTED_DIR}/...), and that folder alone is left out of ruff"
            )
    printed_files = {p.file for p in case.printed}
    declared = [(j, d) for j, d in enumerate(case.deviations) if d.file]
    for j, dev in declared:
        if dev.file not in printed_files:
            out.append(f"{where}: deviations[{j}].file: {dev.file!r} is not a [[printed]] file of this case")
    if guide is None:
        return out
    used: set[int] = set()
    for i, printed in enumerate(case.printed):
        block = guide.block(printed.section, printed.block)
        if block is None:
            found = len([b for b in guide.blocks if b.section == printed.section])
            out.append(
                f"{where}: printed[{i}].section: the guide has {found} code block(s) under the heading "
                f"{printed.section!r}, not a block number {printed.block}"
            )
            continue
        ours = (folder / printed.file).read_text(encoding="utf-8")
        for hunk in guide_mod.differences(block, ours):
            match = next(
                (
                    j
                    for j, dev in declared
                    if j not in used
                    and dev.file == printed.file
                    and guide_mod.normalise(dev.guide) == guide_mod.normalise(hunk.guide)
                    and guide_mod.normalise(dev.ours) == guide_mod.normalise(hunk.ours)
                ),
                None,
            )
            if match is None:
                out.append(
                    f"{where}: printed[{i}] ({printed.file}:{hunk.line}): an undeclared difference from the guide's "
                    f"block under {printed.section!r}: the guide has {hunk.guide!r}, the file has {hunk.ours!r}; "
                    "print it as the guide does, or declare it in [[deviations]] (file, guide, ours, why)"
                )
            else:
                used.add(match)
    for j, dev in declared:
        if j not in used and dev.file in printed_files:
            out.append(
                f"{where}: deviations[{j}]: {dev.file} has no such difference from the guide "
                f"(guide {dev.guide!r}, ours {dev.ours!r}): remove it"
            )
    return out


def _imports(folder: Path, case: Case, allowed: set[str]) -> list[str]:
    """Every absolute import of the case's modules must come from the standard library, the harness,
    or a distribution the case can have (the common tools, its dependencies, the axes, and theirs)."""
    problems = []
    local = {p.stem for p in folder.glob("*.py")}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for top in _imported(node):
                if top in sys.stdlib_module_names or top == HARNESS or top in local or top == "cases":
                    continue
                dists = _distributions_of(top)
                if not dists:
                    problems.append(f"{path}:{node.lineno}: imports {top!r}, which no installed distribution provides")
                elif not dists & allowed:
                    problems.append(
                        f"{path}:{node.lineno}: imports {top!r} (from {', '.join(sorted(dists))}), which is not a "
                        f"dependency of this case: add it to dependencies in {folder / 'case.toml'}"
                    )
    return problems


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


_PACKAGES: dict[str, list[str]] | None = None


def _distributions_of(module: str) -> set[str]:
    global _PACKAGES
    if _PACKAGES is None:
        _PACKAGES = dict(importlib.metadata.packages_distributions())
    names = {str(canonicalize_name(d)) for d in _PACKAGES.get(module, [])}
    if not names and importlib.util.find_spec(module) is not None:
        names.add(module)
    return names


def _with_extras(name: str, extras: Mapping[str, tuple[str, ...]]) -> str:
    ex = extras.get(name, ())
    return f"{name}[{','.join(ex)}]" if ex else name


def _closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements bring in, as installed where the check runs."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        req = Requirement(todo.pop())
        name = str(canonicalize_name(req.name))
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            dep = Requirement(text)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(re.sub(r"\s*;.*$", "", text))
    return {s for s in seen if "[" not in s}


def _locked_names(root: Path) -> set[str]:
    path = root / locks_mod.TOOLS_LOCK
    if not path.exists():
        return set()
    return set(locks_mod.pins_for_python(path.read_text(encoding="utf-8"), "3.13.0")) | set(
        locks_mod.pins_for_python(path.read_text(encoding="utf-8"), "3.9.0")
    )


def _test_file(folder: Path, test: str) -> Path:
    for path in sorted(folder.glob("test_*.py")):
        if re.search(rf"def {re.escape(test)}\(", path.read_text(encoding="utf-8")):
            return path
    return folder
