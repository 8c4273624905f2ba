"""Build the guide's Quick Start project with the real uv: ``uv init my-api``, then its ``uv add`` line.

A helper of the suite (not code under test): the guide's commands run as given, with two additions
that keep a verdict a function of the cell: the project is made with the cell's own Python, and
the cell's fastapi and pydantic versions are written into the project as uv constraints
(``[tool.uv] constraint-dependencies``), so the install line resolves the versions under test
instead of whatever is newest. Everything else comes from the package index, through uv's cache.

A project is built once per pytest session for the same inputs and shared by the cases that need
it (guide_project_setup imports from it, guide_dockerfile copies it before changing anything).

How a failure is judged: no uv on this machine, an unreachable index or a command past its time
limit is the suite's (``SuiteFault``); the documented command itself refusing (the resolver finds
no solution, ``uv init`` fails) is the code under test failing (``CodeRaised``).
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from known_issues.casekit import CodeRaised, Reason, SuiteFault, installed, share_bytecode

from .app import INIT_LINE, INSTALL_LINE

UV_TIMEOUT = 45.0  # below the per-test limit, so a hung download is reported as such, not as a test timeout
# What uv prints when the index cannot be reached (not a verdict about the install line).
_NETWORK = (
    "failed to fetch",
    "error sending request",
    "dns error",
    "connection refused",
    "connection reset",
    "operation timed out",
    "network is unreachable",
    "could not connect",
    "failed to download",
    "request failed after",
)


@dataclass(frozen=True)
class Project:
    root: Path
    python: str  # the interpreter the project was made with
    constraints: tuple[str, ...]
    uv_version: str
    warnings: tuple[str, ...]  # what `uv add` warned about (e.g. an extra the pinned fastapi lacks)

    @property
    def venv_python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"


_BUILT: dict[tuple[str, tuple[str, ...]], Project] = {}


@functools.lru_cache(maxsize=1)
def uv_binary() -> str:
    """The cell's own uv (a case dependency, so its version is recorded with the cell), else PATH's.

    A uv found on PATH must answer ``--version``: a version manager's shim may stand there for a uv
    that is not installed for the selected Python.
    """
    own = Path(sysconfig.get_path("scripts")) / "uv"
    if own.exists():
        return str(own)
    found = shutil.which("uv")
    if found:
        try:
            answered = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            answered = None
        if answered is not None and answered.returncode == 0 and answered.stdout.startswith("uv "):
            return found
    raise SuiteFault(Reason.TOOL, f"no working uv: not at {own}, and PATH has {found or 'none'}")


def uv_env() -> dict[str, str]:
    # Nothing of the caller's environment may choose the project's Python or environment for uv.
    skip = ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never", NO_COLOR="1")
    return env


def run_uv(
    args: list[str], cwd: Path, what: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run one uv command; a failure is judged as described in the module docstring.

    With ``check=False`` a failure that is not the suite's is returned for the caller to judge.
    """
    argv = [uv_binary(), *args]
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env or uv_env(), capture_output=True, text=True, timeout=UV_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise SuiteFault(Reason.TIMEOUT, f"`{what}` ran longer than {UV_TIMEOUT:g}s") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        text = f"`{what}` exited with {done.returncode}:\n{output}"
        if done.returncode in (126, 127):  # the shell's "cannot execute" / "not found": no uv to ask
            raise SuiteFault(Reason.TOOL, text)
        if any(s in output.lower() for s in _NETWORK):
            raise SuiteFault(Reason.ENVIRONMENT, f"the package index could not be reached: {text}")
        if check:
            raise CodeRaised(text)
    return done


def cell_constraints() -> tuple[str, ...]:
    """The cell's fastapi and pydantic (the matrix axes), as exact pins."""
    pins = []
    for dist in ("fastapi", "pydantic"):
        version = installed(dist)
        if version is None:
            raise SuiteFault(Reason.ENVIRONMENT, f"{dist} is not installed in this cell")
        pins.append(f"{dist}=={version}")
    return tuple(pins)


def add_constraints(pyproject: Path, constraints: tuple[str, ...]) -> None:
    """Write ``constraint-dependencies`` into the project's ``[tool.uv]`` table (made if absent)."""
    line = "constraint-dependencies = [" + ", ".join(f'"{pin}"' for pin in constraints) + "]"
    text = pyproject.read_text(encoding="utf-8")
    if "\n[tool.uv]\n" in f"\n{text}":
        text = f"\n{text}".replace("\n[tool.uv]\n", f"\n[tool.uv]\n{line}\n", 1)[1:]
    else:
        text = f"{text.rstrip()}\n\n[tool.uv]\n{line}\n"
    pyproject.write_text(text, encoding="utf-8")


def quickstart_project(parent: Path) -> Project:
    """``uv init my-api`` + the guide's ``uv add`` line in ``parent``, once per session for these inputs."""
    python = sys.executable
    constraints = cell_constraints()
    key = (python, constraints)
    if key in _BUILT and _BUILT[key].venv_python.exists():
        return _BUILT[key]
    parent.mkdir(parents=True, exist_ok=True)
    uv_version = run_uv(["--version"], parent, "uv --version").stdout.strip()
    init = shlex.split(INIT_LINE)[1:]
    run_uv([*init, "--python", python], parent, f"{INIT_LINE} --python {python}")
    root = parent / init[-1]
    add_constraints(root / "pyproject.toml", constraints)
    added = run_uv([*shlex.split(INSTALL_LINE)[1:], "--python", python], root, INSTALL_LINE)
    share_bytecode(root / ".venv")
    said = [line for line in added.stderr.splitlines() if line.lower().startswith("warning")]
    warnings = tuple(dict.fromkeys(said))  # uv repeats a warning per resolution fork
    project = Project(root, python, constraints, uv_version, warnings)
    _BUILT[key] = project
    return project
