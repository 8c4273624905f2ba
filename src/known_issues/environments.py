"""Cell environments: resolve with uv, then create or reuse a venv keyed by the resolved pins."""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from known_issues.atomic import write_text

UV_TIMEOUT = 600
# Resolving costs seconds per cell even with a warm uv cache; within this many seconds the lock
# resolved for the same inputs (requirements, Python, newest release of each "any" axis) is reused.
DEFAULT_LOCK_TTL = 6 * 3600
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)")


class NotInstallable(Exception):
    """The resolver refused the combination, or the Python is missing: a reason, not a crash."""


class EnvironmentBroken(Exception):
    """The environment could not be created although the combination resolved."""


@dataclass
class Environment:
    path: Path
    python: Path
    pins: dict[str, str]
    lock: str
    reused: bool
    seconds: float
    applied_rules: list[dict[str, object]] = field(default_factory=list)


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except ImportError as exc:
        raise EnvironmentBroken("uv is not installed: `python -m pip install uv`") from exc


def find_python(version: str) -> Path:
    """An interpreter for "3.X": on PATH first, then pyenv's versions folder."""
    candidates = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys;print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == version:
            return Path(candidate)
    raise NotInstallable(
        f"Python {version} is not installed on this machine (looked on PATH and in {pyenv_root}/versions)"
    )


def parse_pins(lock: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in lock.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[str(canonicalize_name(match.group(1)))] = match.group(3)
    return pins


def compile_lock(requirements: Sequence[str], python: Path, offline: bool = False) -> str:
    """Resolve requirements for this interpreter; raise NotInstallable with uv's reason."""
    cmd = [
        uv(),
        "pip",
        "compile",
        "-",
        "--python",
        str(python),
        "--no-header",
        "--quiet",
        "--no-annotate",
        "--python-version",
        _short_version(python),
    ]
    if offline:
        cmd.append("--offline")
    proc = subprocess.run(
        cmd,
        input="\n".join(requirements) + "\n",
        capture_output=True,
        text=True,
        timeout=UV_TIMEOUT,
        check=False,
        env=_uv_env(),
    )
    if proc.returncode != 0:
        raise NotInstallable(_reason(proc.stderr))
    return proc.stdout


def _short_version(python: Path) -> str:
    match = re.search(r"python(3\.\d+)$", python.name)
    return match.group(1) if match else "3.11"


def _reason(stderr: str) -> str:
    lines = [ln.rstrip() for ln in stderr.strip().splitlines() if ln.strip()]
    text = "\n".join(lines[-25:])
    return text or "the resolver failed without a message"


def _uv_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env.pop("VIRTUAL_ENV", None)
    return env


def lock_ttl() -> float:
    """Seconds a resolved lock is reused without asking the index again (0: always resolve)."""
    return float(os.environ.get("KNOWN_ISSUES_LOCK_TTL", DEFAULT_LOCK_TTL))


def lock_key(python: Path, requirements: Sequence[str], context: Sequence[str]) -> str:
    text = "\n".join([str(python.resolve()), *requirements, "--", *context])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_lock(lock_dir: Path, key: str, max_age: float | None) -> tuple[str, float] | None:
    """(lock, age in seconds) of a lock resolved earlier for these inputs, if young enough."""
    path = lock_dir / f"{key}.txt"
    try:
        age = time.time() - path.stat().st_mtime
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if max_age is not None and age > max_age:
        return None
    return text, age


def write_lock(lock_dir: Path, key: str, lock: str) -> None:
    write_text(lock_dir / f"{key}.txt", lock)


def env_key(python: Path, lock: str) -> str:
    digest = hashlib.sha256(f"{python.resolve()}\n{lock}".encode()).hexdigest()
    return digest[:16]


_key_locks: dict[str, threading.Lock] = {}
_key_locks_guard = threading.Lock()


def ensure(root: Path, python: Path, lock: str) -> Environment:
    """Create the venv for this lock, or reuse it when a complete one exists already."""
    key = env_key(python, lock)
    with _key_locks_guard:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    # Two cells that resolve to the same pins share one environment: build it once.
    with key_lock:
        return _ensure(root / key, python, lock)


def _ensure(path: Path, python: Path, lock: str) -> Environment:
    started = time.monotonic()
    marker = path / ".known-issues-complete"
    venv_python = path / "bin" / "python"
    if marker.exists() and venv_python.exists():
        return Environment(path, venv_python, parse_pins(lock), lock, True, time.monotonic() - started)
    # Bytecode is compiled once here: cells import with PYTHONDONTWRITEBYTECODE and would otherwise
    # recompile fastapi, pydantic and the test tools from source on every run.
    # A half-made environment (interrupted run) has no marker: it is thrown away, never trusted.
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run([uv(), "venv", "--quiet", "--python", str(python), str(path)])
    (path / "requirements.lock").write_text(lock, encoding="utf-8")
    _run(
        [
            uv(),
            "pip",
            "sync",
            "--quiet",
            "--compile-bytecode",
            "--python",
            str(venv_python),
            str(path / "requirements.lock"),
        ]
    )
    marker.write_text(lock, encoding="utf-8")
    return Environment(path, venv_python, parse_pins(lock), lock, False, time.monotonic() - started)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=UV_TIMEOUT, check=False, env=_uv_env())
    if proc.returncode != 0:
        raise EnvironmentBroken(f"`{' '.join(cmd[1:4])} ...` failed:\n{_reason(proc.stderr)}")
