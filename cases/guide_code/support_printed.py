"""Where the guide's printed code blocks are stored (``printed/``, once each), and how a case runs them.

The blocks of the guide's project import each other absolutely (``from src.config import settings``),
so ``guide_modules`` imports them as the package ``src`` of ``printed/project``, afresh for each
caller: every case gets its own module objects (a module-level ``settings = Settings()`` is made
where that caller decides, a SQLAlchemy ``Base`` is not shared between cases), and ``src`` is gone
from ``sys.modules`` again afterwards. A module that fails to import raises here, from the printed
file (the code under test crashed).

A case that imports anything from this module has its stored results depend on this whole folder
(``catalog.related_folders``); a case that names a printed file in case.toml does too.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

PRINTED = Path(__file__).with_name("printed")
PROJECT = PRINTED / "project"  # the guide's Project Structure, filled with its printed blocks
MINIMAL_MAIN = PRINTED / "minimal_main.py"  # Minimal Working Example (the Quick Start's src/main.py)
ISSUE_7 = PRINTED / "issue7.py"
DOCKERFILE = PRINTED / "Dockerfile"
TESTING = PROJECT / "tests" / "test_main.py"  # Testing


def guide_modules(
    *names: str,
    provide: Mapping[str, Mapping[str, Any]] | None = None,
    reuse: Mapping[str, ModuleType] | None = None,
) -> dict[str, ModuleType]:
    """Import the named modules of the guide's project (``"src.items.schemas"``) afresh.

    ``provide``: names put into a module's namespace before its code runs (a name the printed
    block uses but never imports, declared as a deviation by the case that provides it).
    ``reuse``: modules this import takes as they are instead of importing them again (the
    ``src.config`` a case already made where it wanted its settings read).
    """
    with _project_on_path(reuse or {}):
        for name, given in (provide or {}).items():
            _exec_with(name, given)
        return {name: importlib.import_module(name) for name in names}


@contextmanager
def _project_on_path(reuse: Mapping[str, ModuleType]) -> Iterator[None]:
    saved = {name: sys.modules.pop(name) for name in _src_modules()}
    sys.path.insert(0, str(PROJECT))
    try:
        if reuse:
            importlib.import_module("src")
        for name, module in reuse.items():
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            setattr(importlib.import_module(parent), child, module)
        yield
    finally:
        sys.path.remove(str(PROJECT))
        for name in _src_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def _src_modules() -> list[str]:
    return [name for name in sys.modules if name == "src" or name.startswith("src.")]


def _exec_with(name: str, given: Mapping[str, Any]) -> None:
    parent, _, child = name.rpartition(".")
    package = importlib.import_module(parent)
    path = PROJECT.joinpath(*name.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(given)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    setattr(package, child, module)


def copy_project(destination: Path) -> Path:
    """The guide's project, as printed, copied to ``destination`` (a fresh project root)."""
    shutil.copytree(PROJECT, destination, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    return destination
