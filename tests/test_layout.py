"""The three wings and their walls: the cell kernel imports nothing outside itself, neither the
runner nor the kernel imports the reporting, no module imports in a circle, and the kernel is held
to Python 3.9 by the lint."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "known_issues"
CELL_MYPY = PACKAGE / "cell" / "mypy-py39.ini"
# What a cell has besides the kernel: the standard library, pytest and packaging.
CELL_THIRD_PARTY = {"pytest", "_pytest", "packaging"}
SHIMS = ("casekit.py", "serving.py", "plugin.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path | None = None) -> set[str]:
    """Every module the file imports, anywhere in it (a lazy import inside a function is an arrow too)."""
    found: set[str] = set()
    name = ".".join(path.relative_to(root or SRC).with_suffix("").parts)
    package = name.removesuffix(".__init__") if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            found.add(base)
            # `from known_issues import run_files` imports the module known_issues.run_files
            found |= {f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}")}
    return found


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n == "known_issues" or n.startswith("known_issues.")}


def test_the_cell_kernel_imports_nothing_outside_itself() -> None:
    for name, path in modules().items():
        if not name.startswith("known_issues.cell"):
            continue
        # The smoke check imports the framework under test: what the cell is made for.
        framework = {"fastapi", "pydantic", "starlette"} if name == "known_issues.cell.smoke" else set()
        for imported in imports_of(path):
            top = imported.split(".")[0]
            inside = imported == "known_issues.cell" or imported.startswith("known_issues.cell.")
            allowed = inside or top in {*sys.stdlib_module_names, *CELL_THIRD_PARTY, *framework, "__future__"}
            assert allowed, f"{path.relative_to(SRC)} imports {imported}: a cell has only the kernel, stdlib, pytest"


def test_the_shims_cases_import_come_from_the_kernel_only() -> None:
    for shim in SHIMS:
        path = PACKAGE / shim
        assert ours(imports_of(path)) <= {"known_issues.cell", *(f"known_issues.cell.{shim[:-3]}",)}, shim


def test_neither_the_runner_nor_the_kernel_imports_the_reporting() -> None:
    for name, path in modules().items():
        if name.startswith(("known_issues.runner", "known_issues.cell")):
            reporting = {i for i in imports_of(path) if i.startswith("known_issues.reporting")}
            assert not reporting, f"{path.relative_to(SRC)} imports {sorted(reporting)}"


def test_no_module_imports_in_a_circle() -> None:
    graph = {
        name: {i for i in ours(imports_of(path)) if i in modules() and i != name} for name, path in modules().items()
    }
    # A package's __init__ is its face, not an arrow: importing known_issues.x runs known_issues/__init__.
    graph = {n: {i for i in deps if not n.startswith(i + ".")} for n, deps in graph.items()}
    seen: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if node in seen:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*path, node])
        seen.add(node)

    for name in sorted(graph):
        visit(name, [])


def test_the_walls_are_seen_by_this_test(tmp_path: Path) -> None:
    """The checks above find a planted arrow (else they could pass on any code)."""
    planted = tmp_path / "known_issues" / "cell" / "x.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("from known_issues.reporting import analysis\nimport fastapi\n")
    assert imports_of(planted, tmp_path) >= {"known_issues.reporting", "fastapi"}


def lint_mypy() -> str:
    """The mypy that `nox -s lint` runs on the kernel as Python 3.9 (noxfile.MYPY_FOR_PY39)."""
    tree = ast.parse((SRC.parent / "noxfile.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MYPY_FOR_PY39" for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise AssertionError("noxfile.py has no MYPY_FOR_PY39")


def test_the_lint_refuses_a_runtime_union_in_the_cell_kernel(tmp_path: Path) -> None:
    """`nox -s lint` type-checks the kernel as Python 3.9 code: `int | None` evaluated at runtime fails it."""
    copy = tmp_path / "src" / "known_issues"
    shutil.copytree(PACKAGE / "cell", copy / "cell")
    for shim in (*SHIMS, "__init__.py"):
        shutil.copy(PACKAGE / shim, copy / shim)
    command = [
        sys.executable,
        "-m",
        "uv",
        "tool",
        "run",
        "--from",
        lint_mypy(),
        "mypy",
        "--config-file",
        str(CELL_MYPY),
    ]
    files = [str(copy / "cell"), *(str(copy / s) for s in SHIMS)]
    clean = subprocess.run([*command, *files], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (copy / "cell" / "verdicts.py").write_text((copy / "cell" / "verdicts.py").read_text() + "\nMaybe = int | None\n")
    planted = subprocess.run([*command, *files], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert planted.returncode == 1, planted.stdout + planted.stderr
    assert "verdicts.py:" in planted.stdout and 'Unsupported left operand type for | ("type[int]")' in planted.stdout
