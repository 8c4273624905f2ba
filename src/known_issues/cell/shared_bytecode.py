"""Bytecode shared between cell environments.

uv installs a package into every environment as hard links to one unpacked copy in its cache, but
Python writes the package's bytecode into each environment's own ``__pycache__`` folders: every new
environment compiled pytest, Hypothesis, Pydantic, FastAPI, SQLAlchemy ... again, about 4
CPU-seconds of a cold cell's 12. Here the bytecode that a cell's run wrote is kept once, in a folder
beside the environments, under the identity of its source file (device, inode, size, modification
time: the same for every hard link of it), and a new environment gets a hard link to it for each of
its source files that has one.

Nothing here can change what a test observes: Python checks each bytecode file against its source's
size and modification time before using it (and compiles the source again when they differ), and it
gives the code the path of the module it actually imports, whatever environment compiled it.

The environments a case makes itself (the guide's ``uv add`` project, the Dockerfile's ``uv sync``)
are made of the same hard links: ``share`` gives them the same treatment (runner/pytest_process.py
names the store in ``STORE_VARIABLE``). Here, not in the runner: it runs inside a cell's pytest.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

STORE_VARIABLE = "KNOWN_ISSUES_BYTECODE_STORE"


def key_of(source: Path) -> str:
    """The name a source file's bytecode is kept under (raises OSError when the file is gone)."""
    return _key(os.stat(source))


def _key(info: os.stat_result) -> str:
    return f"{info.st_dev:x}-{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}"


def site_packages(env: Path) -> list[Path]:
    return sorted(env.glob("lib/python3*/site-packages"))


def harvest(env: Path, store: Path) -> int:
    """Keep the bytecode the environment's Python wrote for sources other environments share.

    Only a file Python wrote itself (one link) whose source has other links is kept: a source private
    to this environment can never be asked for by another one. Returns how many were kept.
    """
    kept = 0
    for top in site_packages(env):
        for folder, dirs, files in os.walk(top):
            if os.path.basename(folder) != "__pycache__":
                continue
            dirs.clear()
            for name in files:
                parts = name.split(".")
                # <module>.<cache tag>.pyc; the optimised variants (opt-1, opt-2) are left alone.
                if len(parts) != 3 or parts[2] != "pyc":
                    continue
                pyc = os.path.join(folder, name)
                source = os.path.join(os.path.dirname(folder), f"{parts[0]}.py")
                try:
                    if os.lstat(pyc).st_nlink != 1:
                        continue
                    info = os.stat(source)
                except OSError:
                    continue
                if info.st_nlink < 2:
                    continue
                target = store / parts[1] / f"{_key(info)}.pyc"
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.link(pyc, target)
                    kept += 1
                except OSError:  # kept already (by another cell), or the store is on another device
                    continue
    return kept


def seed(env: Path, store: Path, cache_tag: str) -> int:
    """Link the stored bytecode of ``cache_tag`` (e.g. ``cpython-311``) into a new environment, for
    each of its sources that has some. Returns how many files were linked."""
    kept = store / cache_tag
    if not kept.is_dir():
        return 0
    linked = 0
    for top in site_packages(env):
        for folder, dirs, files in os.walk(top):
            if "__pycache__" in dirs:
                dirs.remove("__pycache__")
            for name in files:
                if not name.endswith(".py"):
                    continue
                try:
                    stored = kept / f"{_key(os.stat(os.path.join(folder, name)))}.pyc"
                    if not stored.exists():
                        continue
                    cache = os.path.join(folder, "__pycache__")
                    os.makedirs(cache, exist_ok=True)
                    os.link(stored, os.path.join(cache, f"{name[:-3]}.{cache_tag}.pyc"))
                    linked += 1
                except OSError:
                    continue
    return linked


_shared: list[Path] = []


def share(venv: Path) -> int:
    """Link the stored bytecode into ``venv`` (an environment a case made) and keep, when the process
    ends, what its processes compiled; nothing when no store is named (a case run outside a cell).
    Returns how many files were linked."""
    store = os.environ.get(STORE_VARIABLE)
    tag = venv_cache_tag(venv)
    if not store or tag is None:
        return 0
    # What the environments shared before compiled (the project this one was copied from) comes first.
    _harvest_shared(Path(store))
    if not _shared:
        atexit.register(_harvest_shared, Path(store))
    _shared.append(venv)
    return seed(venv, Path(store), tag)


def _harvest_shared(store: Path) -> None:
    for venv in _shared:
        harvest(venv, store)


def venv_cache_tag(venv: Path) -> str | None:
    """The bytecode tag of a CPython environment (``cpython-312``) from its ``pyvenv.cfg``."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    cfg = {k.strip().lower(): v.strip() for k, _, v in (line.partition("=") for line in lines)}
    version = cfg.get("version_info") or cfg.get("version") or ""
    parts = version.split(".")
    if cfg.get("implementation", "CPython").lower() != "cpython" or len(parts) < 2:
        return None
    return f"cpython-{parts[0]}{parts[1]}"
