"""Cell environments: find the interpreter, resolve with uv, then create or reuse a venv keyed by the pins."""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from known_issues.cell.atomic import write_text
from known_issues.runner import bytecode
from known_issues.runner.index_config import uv_config_files

UV_TIMEOUT = 600
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)")
COMPLETE = ".known-issues-complete"
BYTECODE = "bytecode"  # beside the environments' folder: the bytecode they share (runner/bytecode.py)


class NotInstallable(Exception):
    """The resolver refused the combination, or the Python is missing: a reason, not a crash."""


class EnvironmentBroken(Exception):
    """The environment could not be created although the combination resolved."""


@dataclass(frozen=True)
class Environment:
    path: Path
    python: Path
    reused: bool
    seconds: float


@functools.cache
def uv() -> str:
    """The uv binary. Resolved once, before any worker thread starts: uv's own finder reads sysconfig,
    which is not thread-safe on first use. The one installed with the harness first: a `uv` on PATH
    may be a pyenv shim, which picks a different uv in a folder with a .python-version."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return found
    raise EnvironmentBroken("uv is not installed: `python -m pip install uv`")


@functools.cache
def find_python(version: str) -> Path:
    """An interpreter for "3.X": on PATH first, then pyenv's versions folder.

    Returned as the interpreter's real file, which is part of every environment key: a pyenv shim,
    a venv's link and the binary itself are one Python, and must give one key (run from inside a
    nox session or not)."""
    candidates = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        try:
            out = subprocess.run(
                [
                    candidate,
                    "-c",
                    "import os, sys;print('%d.%d' % sys.version_info[:2]);print(os.path.realpath(sys.executable))",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        lines = out.stdout.splitlines()
        if out.returncode == 0 and len(lines) == 2 and lines[0] == version:
            return Path(lines[1])
    raise NotInstallable(
        f"Python {version} is not installed on this machine (looked on PATH and in {pyenv_root}/versions)"
    )


@functools.cache
def cache_tag(python: Path) -> str:
    """The interpreter's bytecode tag (``cpython-311``), which names its bytecode files."""
    out = subprocess.run(
        [str(python), "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return out.stdout.strip()


def bytecode_store(env: Path) -> Path:
    return env.parent.parent / BYTECODE


def parse_pins(lock: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[str(canonicalize_name(match.group(1)))] = match.group(3)
    return pins


def compile_lock(
    requirements: Sequence[str],
    python: Path | None,
    python_version: str,
    *,
    offline: bool = False,
    preferences: str = "",
    universal: bool = False,
    index_url: str | None = None,
) -> str:
    """Resolve requirements (for one interpreter, or for every Python from ``python_version`` up when
    ``universal``) from the package index ``index_url`` (None: the one uv is configured for); raise
    NotInstallable with uv's reason.

    ``preferences`` (a lock) are kept wherever the requirements allow them: uv prefers the versions
    already in its output file.
    """
    cmd = [uv(), "pip", "compile", "-", "--no-header", "--quiet", "--no-annotate", "--python-version", python_version]
    cmd += ["--universal"] if universal else ["--python", str(python)]
    if offline or not _pages_kept(index_url):
        return _compile([*cmd, "--offline"] if offline else cmd, requirements, preferences, index_url, kept=False)
    # uv answers from the pages it has cached where they are young enough; an answer holding a package
    # whose page this run has not asked the index about yet is resolved again with those pages asked
    # about (a lock may rest on a page from before the run only through a package it holds).
    # (Asking about a page again takes the index named alone: uv keeps a page it was told to keep
    # even when told to refresh it.)
    asked: set[str] = set()
    for _ in range(3):
        read_before = _RUN_READS.names()  # what another thread asks about meanwhile may come too late
        refresh = [f"--refresh-package={name}" for name in sorted(asked)]
        try:
            lock = _compile([*cmd, *refresh], requirements, preferences, index_url, kept=not refresh)
        except NotInstallable:
            break  # perhaps a release the kept pages do not list yet: asked below
        _RUN_READS.add(asked)
        unread = set(parse_pins(lock)) - read_before - asked
        if not unread:
            return lock
        asked |= unread
    # Every page asked about again (a refusal, too, is then the index's answer of today).
    lock = _compile([*cmd, "--refresh"], requirements, preferences, index_url, kept=False)
    _RUN_READS.add(parse_pins(lock))
    return lock


def _compile(
    cmd: list[str], requirements: Sequence[str], preferences: str, index_url: str | None, *, kept: bool
) -> str:
    with tempfile.TemporaryDirectory(prefix="ki-lock-") as tmp:
        output = Path(tmp) / "lock.txt"
        output.write_text(preferences, encoding="utf-8")
        proc = subprocess.run(
            [*cmd, "--output-file", str(output), *_index_args(index_url, Path(tmp) if kept else None)],
            input="\n".join(requirements) + "\n",
            capture_output=True,
            text=True,
            timeout=UV_TIMEOUT,
            check=False,
            env=_uv_env(index_url),
        )
        if proc.returncode != 0:
            raise NotInstallable(_reason(proc.stderr))
        return output.read_text(encoding="utf-8")


def _reason(stderr: str) -> str:
    lines = [ln.rstrip() for ln in stderr.strip().splitlines() if ln.strip()]
    text = "\n".join(lines[-25:])
    return text or "the resolver failed without a message"


def _index_args(index_url: str | None, private: Path | None = None) -> list[str]:
    """The index the harness lists releases from, given to uv too: lookups and installs agree even
    when only pip's configuration names it (uv reads none of pip's).

    Given a private folder to write uv's settings in, the index's pages uv fetches are kept for ten
    minutes, as PyPI says of its own, and its files for good (a release's file never changes). uv
    asks the index again about every page and file it has cached once it is past the lifetime the
    index gave, and the registry these runs use gives none: a FastAPI-minor cell's resolution took
    0.69 CPU-s and 1.2 s that way, 0.06 and 0.05 from kept pages (bench/run_lock_resolution.py). What
    a run may not take from before it, compile_lock asks about again. Not when uv has settings files
    of the user's: one named on the command line replaces them all."""
    if not index_url:
        return []
    if private is None or not _pages_kept(index_url):
        return ["--default-index", index_url]
    settings = private / "uv.toml"  # private: the address may carry credentials
    settings.write_text(
        f"[[index]]\nurl = {json.dumps(index_url)}\ndefault = true\n"
        'cache-control = { api = "max-age=600", files = "max-age=365000000, immutable" }\n',
        encoding="utf-8",
    )
    return ["--config-file", str(settings)]


def _pages_kept(index_url: str | None) -> bool:
    return bool(index_url) and not uv_config_files(os.environ, Path.cwd())


class _RunReads:
    """The packages whose index pages this run has asked the index about (thread-safe)."""

    def __init__(self) -> None:
        self._names: set[str] = set()
        self._guard = threading.Lock()

    def clear(self) -> None:
        with self._guard:
            self._names.clear()

    def add(self, names: Iterable[str]) -> None:
        with self._guard:
            self._names.update(names)

    def names(self) -> frozenset[str]:
        with self._guard:
            return frozenset(self._names)


_RUN_READS = _RunReads()


def begin_index_reads() -> None:
    """A run begins: a lock may rest on no page this run has not asked the index about (compile_lock)."""
    _RUN_READS.clear()


def _uv_env(index_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env.pop("VIRTUAL_ENV", None)
    if index_url:
        # The index is named to uv explicitly (chosen from these among others: index_config.py).
        env.pop("UV_DEFAULT_INDEX", None)
        env.pop("UV_INDEX_URL", None)
    return env


def env_key(python: Path, lock: str) -> str:
    digest = hashlib.sha256(f"{real_interpreter(python)}\n{lock}".encode()).hexdigest()
    return digest[:16]


@functools.lru_cache(maxsize=64)
def real_interpreter(python: Path) -> str:
    """The interpreter's path with its links followed, which keys the locks and environments made with
    it: asked once per run (each cell asked twice, and following pyenv's links is not free)."""
    return str(python.resolve())


_key_locks: dict[str, threading.Lock] = {}
_key_locks_guard = threading.Lock()


def ensure(root: Path, python: Path, lock: str, index_url: str | None = None) -> Environment:
    """Create the venv for this lock (installed from ``index_url``, None: uv's configured index), or
    reuse it when a complete one exists already."""
    key = env_key(python, lock)
    with _key_locks_guard:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    # Two cells that resolve to the same pins share one environment: build it once.
    with key_lock:
        return _ensure(root / key, python, lock, index_url)


def _ensure(path: Path, python: Path, lock: str, index_url: str | None) -> Environment:
    started = time.monotonic()
    marker = path / COMPLETE
    venv_python = path / "bin" / "python"
    if marker.exists() and venv_python.exists():
        os.utime(marker)  # last use, for `gc`
        return Environment(path, venv_python, True, time.monotonic() - started)
    # No bytecode is compiled here: the smoke check and the first pytest run write it for the modules
    # they import (pytest_process.child_env), a fraction of what is installed; what an earlier cell's
    # run wrote for the same installed files is linked in (runner/bytecode.py).
    # A half-made environment (interrupted run) has no marker: it is thrown away, never trusted.
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run([uv(), "venv", "--quiet", "--python", str(python), *_index_args(index_url), str(path)])
    write_text(path / "requirements.lock", lock)
    sync = [uv(), "pip", "sync", "--quiet", "--python", str(venv_python), str(path / "requirements.lock")]
    # Online, from the pages uv keeps (_index_args): it asks the index about no page this run's
    # resolution just read, so an offline attempt first saves nothing once its wheels are cached
    # (bench/run_environment_sync.py: 0.25 CPU-s online, 0.26 offline) and costs a failing uv call (about
    # 0.2 CPU-s) for every environment with a wheel not yet cached, most of a first run's.
    with tempfile.TemporaryDirectory(prefix="ki-sync-") as private:
        _run([*sync, *_index_args(index_url, Path(private))], index_url)
    tag = cache_tag(python)
    if tag:
        bytecode.seed(path, bytecode_store(path), tag)
    write_text(marker, lock)  # last, and whole: a marker means a complete environment
    return Environment(path, venv_python, False, time.monotonic() - started)


def _call(cmd: list[str], index_url: str | None) -> subprocess.CompletedProcess[str]:
    env = _uv_env(index_url)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=UV_TIMEOUT, check=False, env=env)


def _run(cmd: list[str], index_url: str | None = None) -> None:
    proc = _call(cmd, index_url)
    if proc.returncode != 0:
        raise EnvironmentBroken(f"`{' '.join(cmd[1:4])} ...` failed:\n{_reason(proc.stderr)}")
