"""Bytecode shared between environments: kept from one, linked into the next, never trusted blindly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from known_issues.cell import shared_bytecode
from known_issues.runner import bytecode

TAG = sys.implementation.cache_tag
SITE = f"lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"


def _env(root: Path, name: str) -> Path:
    path = root / name
    (path / SITE).mkdir(parents=True)
    return path


def _install(envs: list[Path], package: str, files: dict[str, str], cache: Path) -> None:
    """As uv does: one unpacked copy, hard-linked into each environment."""
    for rel, text in files.items():
        source = cache / package / rel
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(text, encoding="utf-8")
        for env in envs:
            target = env / SITE / package / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)


def _run(env: Path, code: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environ["PYTHONPATH"] = str(env / SITE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, check=True)
    return out.stdout.strip()


def _pyc(env: Path, module: str) -> Path:
    return env / SITE / "pkg" / "__pycache__" / f"{module}.{TAG}.pyc"


FAILING = "def where():\n    raise RuntimeError('boom')\n"
WHERE = """
import traceback, pkg.mod
try:
    pkg.mod.where()
except RuntimeError as exc:
    print(traceback.extract_tb(exc.__traceback__)[-1].filename)
"""


def test_bytecode_one_environment_wrote_is_linked_into_the_next_and_used_there(tmp_path: Path) -> None:
    first, second = _env(tmp_path / "cells", "first"), _env(tmp_path / "cells", "second")
    _install([first, second], "pkg", {"__init__.py": "", "mod.py": FAILING}, tmp_path / "uv-cache")
    _run(first, "import pkg.mod")
    store = tmp_path / "bytecode"

    assert bytecode.harvest(first, store) == 2  # pkg/__init__ and pkg/mod
    assert bytecode.harvest(first, store) == 0  # kept once

    assert bytecode.seed(second, store, TAG) == 2
    linked = _pyc(second, "mod")
    assert linked.stat().st_ino == _pyc(first, "mod").stat().st_ino

    # Used as it is (not written again), and the code carries the second environment's path.
    where = _run(second, WHERE)
    assert where == str(second / SITE / "pkg" / "mod.py")
    assert linked.stat().st_ino == _pyc(first, "mod").stat().st_ino


def test_a_source_changed_or_private_to_one_environment_gets_no_stored_bytecode(tmp_path: Path) -> None:
    first, second = _env(tmp_path / "cells", "first"), _env(tmp_path / "cells", "second")
    _install([first, second], "pkg", {"__init__.py": "", "mod.py": "VALUE = 1\n"}, tmp_path / "uv-cache")
    private = first / SITE / "pkg" / "own.py"
    private.write_text("VALUE = 'own'\n", encoding="utf-8")
    _run(first, "import pkg.mod, pkg.own")
    store = tmp_path / "bytecode"
    assert bytecode.harvest(first, store) == 2  # not own.py: no other environment can have it

    # The second environment's mod.py is no longer the file the bytecode was made from.
    mod = second / SITE / "pkg" / "mod.py"
    mod.unlink()
    mod.write_text("VALUE = 2\n", encoding="utf-8")
    assert bytecode.seed(second, store, TAG) == 1  # __init__ only
    assert not _pyc(second, "mod").exists()
    assert _run(second, "import pkg.mod; print(pkg.mod.VALUE)") == "2"


def test_bytecode_no_environment_links_to_is_unused(tmp_path: Path) -> None:
    first = _env(tmp_path / "cells", "first")
    _install([first], "pkg", {"__init__.py": "", "mod.py": "VALUE = 1\n"}, tmp_path / "uv-cache")
    _run(first, "import pkg.mod")
    store = tmp_path / "bytecode"
    bytecode.harvest(first, store)
    assert bytecode.unused(store) == []
    _pyc(first, "mod").unlink()
    assert [p.parent.name for p in bytecode.unused(store)] == [TAG]


SHARE_THEN_IMPORT = """
import sys
from pathlib import Path
from known_issues.cell import shared_bytecode
print(shared_bytecode.share(Path(sys.argv[1])))
import pkg.mod, pkg.new
"""


def test_an_environment_a_case_makes_gets_the_stored_bytecode_and_leaves_what_it_compiled(tmp_path: Path) -> None:
    cell, project = _env(tmp_path / "cells", "cell"), _env(tmp_path / "case", ".venv")
    files = {"__init__.py": "", "mod.py": FAILING, "new.py": "VALUE = 1\n"}
    _install([cell, project], "pkg", files, tmp_path / "uv-cache")
    (project / "pyvenv.cfg").write_text(
        f"implementation = CPython\nversion_info = {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}\n",
        encoding="utf-8",
    )
    _run(cell, "import pkg.mod")
    store = tmp_path / "bytecode"
    assert bytecode.harvest(cell, store) == 2

    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environ["PYTHONPATH"] = os.pathsep.join([str(project / SITE), str(Path(shared_bytecode.__file__).parents[2])])
    environ[shared_bytecode.STORE_VARIABLE] = str(store)
    run = [sys.executable, "-c", SHARE_THEN_IMPORT, str(project)]
    linked = subprocess.run(run, capture_output=True, text=True, env=environ, check=True).stdout.strip()

    assert linked == "2"  # pkg/__init__ and pkg/mod, before anything ran in the project
    assert _pyc(project, "mod").stat().st_ino == _pyc(cell, "mod").stat().st_ino
    # What the project's own process compiled (pkg/new) is in the store when the process has ended.
    assert (store / TAG / f"{bytecode.key_of(cell / SITE / 'pkg' / 'new.py')}.pyc").exists()


def test_no_store_named_no_sharing(tmp_path: Path) -> None:
    project = _env(tmp_path, ".venv")
    (project / "pyvenv.cfg").write_text("implementation = CPython\nversion_info = 3.12.1\n", encoding="utf-8")
    assert shared_bytecode.venv_cache_tag(project) == "cpython-312"
    environ = {k: v for k, v in os.environ.items() if k != shared_bytecode.STORE_VARIABLE}
    share = "from known_issues.cell import shared_bytecode as s; print(s.share(pathlib.Path(sys.argv[1])))"
    code = f"import sys, pathlib; {share}"
    environ["PYTHONPATH"] = str(Path(shared_bytecode.__file__).parents[2])
    done = subprocess.run(
        [sys.executable, "-c", code, str(project)], capture_output=True, text=True, env=environ, check=True
    )
    assert done.stdout.strip() == "0"
    assert not (tmp_path / "bytecode").exists()
