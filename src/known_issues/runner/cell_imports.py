"""The harness modules a cell imports: the closure of the imports of what a cell runs (the pytest plugin,
the smoke check, and the modules the cases import), read from the sources. A stored result depends on
exactly these files, so editing a host-only module (the runner, the reporting) keeps every stored
result valid, and editing one of these observes again."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "known_issues"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
# What a cell runs of the harness itself: the plugin (pytest -p) and the smoke check (python -m).
ENTRIES = (f"{PACKAGE}.cell.plugin", f"{PACKAGE}.cell.smoke")


def module_file(name: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    parts = name.split(".")[1:]
    base = package_dir.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imports_of(path: Path, name: str) -> set[str]:
    """The package's modules a file imports (lazy imports inside functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    text = path.read_text(encoding="utf-8")
    if not name.startswith(PACKAGE) and PACKAGE not in text:
        return set()  # outside the package, only an import that names it can reach it
    found: set[str] = set()
    for node in _import_statements(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*head, base]).strip(".")
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {n for n in found if n == PACKAGE or n.startswith(PACKAGE + ".")}


def _import_statements(tree: ast.Module) -> Iterable[ast.Import | ast.ImportFrom]:
    """The import statements of a module, those inside functions, classes and blocks included: only
    statements are visited (an import is one), not the expressions that are most of a tree's nodes."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                todo += block


def case_imports(cases_dir: Path) -> set[str]:
    """The harness modules the cases' own files import (``from known_issues.casekit import ...``)."""
    found: set[str] = set()
    for path in sorted(cases_dir.rglob("*.py")):
        if "__pycache__" not in path.parts:
            found |= imports_of(path, f"cases.{path.stem}")
    return found


def closure(entries: Iterable[str], package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Every file of the package that importing ``entries`` runs: their imports, transitively, and
    the ``__init__`` of every package on the way."""
    todo = list(entries)
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = module_file(name, package_dir)
        if path is None:
            continue  # `from known_issues.x import name` names an attribute, not a module
        seen[name] = path
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo += parents + sorted(imports_of(path, name))
    return sorted(set(seen.values()))


def in_cell_files(cases_dir: Path, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    return closure([*ENTRIES, *case_imports(cases_dir)], package_dir)
