"""nox sessions. Thin: the logic lives in the ``known_issues`` package (src/known_issues)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["check", "tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

HARNESS = ["-e", "."]
INSTALL_STAMP = "known-issues-install.sha256"  # in a session's environment: what it was installed from
MYPY_FOR_PY39 = "mypy==1.20.2"  # the newest mypy that still type-checks code as Python 3.9
CELL_MYPY_PY39 = "src/known_issues/cell/mypy-py39.ini"


def _harness(session: nox.Session, *args: str) -> None:
    _install(session, *HARNESS)
    session.run("python", "-m", "known_issues", *args, *session.posargs)


def _install(session: nox.Session, *args: str) -> None:
    """``session.install(*args)``, unless this environment was made with the same arguments from the same
    pyproject.toml and requirement files. The harness is installed editable: its code is read from
    src/ on every run; only its metadata (dependencies, groups, entry points) needs an install, and
    installing it again took two of an unchanged `nox -s matrix`'s eight seconds."""
    inputs = hashlib.sha256(repr(args).encode())
    named = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-r"]
    for name in ["pyproject.toml", *named]:
        inputs.update(b"\0" + Path(name).read_bytes())
    stamp = Path(session.virtualenv.location) / INSTALL_STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == inputs.hexdigest():
        session.log(f"installed already: {' '.join(args)} (from the same {', '.join(['pyproject.toml', *named])})")
        return
    stamp.unlink(missing_ok=True)  # a failed install leaves no stamp
    session.install(*args)
    # `nox --no-install` skips the install on a reused environment: nothing was installed to stamp.
    if not getattr(getattr(getattr(session, "_runner", None), "global_config", None), "no_install", False):
        stamp.write_text(inputs.hexdigest(), encoding="utf-8")


@nox.session
def matrix(session: nox.Session) -> None:
    """Run every cell of matrix.toml, then write report/ (index.html, results.json, summary.md)."""
    _harness(session, "matrix")


@nox.session
def cell(session: nox.Session) -> None:
    """Run named cells: nox -s cell -- <cell-id> [<cell-id> ...] [--cases slug,slug]."""
    if not session.posargs:
        session.error("name at least one cell: nox -s cell -- <cell-id> (list them with: nox -s cells)")
    _harness(session, "cell")


@nox.session
def cells(session: nox.Session) -> None:
    """List the matrix cells (--json for a CI job matrix)."""
    _harness(session, "cells")


@nox.session
def report(session: nox.Session) -> None:
    """Rebuild report/ from the cell results on disk (--baseline OLD/results.json to compare)."""
    _harness(session, "report")


@nox.session
def diff(session: nox.Session) -> None:
    """Verdicts that changed: nox -s diff -- OLD/results.json NEW/results.json [--json]."""
    _harness(session, "diff")


@nox.session
def compare(session: nox.Session) -> None:
    """Is it safe to upgrade? nox -s compare -- fastapi 0.128.0 0.165.0 [--json]: the verdicts that differ."""
    if len(session.posargs) < 3:
        session.error("name a package and two releases: nox -s compare -- fastapi 0.128.0 0.165.0")
    _harness(session, "compare")


@nox.session
def latest(session: nox.Session) -> None:
    """Newest FastAPI + Pydantic, every case, compared with the last run; exit 1 only on a change to look at."""
    _harness(session, "latest")


@nox.session
def candidate(session: nox.Session) -> None:
    """Before the release: nox -s candidate -- fastapi=<tree | git URL@ref | wheel/sdist> [starlette=...]."""
    if not session.posargs:
        session.error("name a candidate: nox -s candidate -- fastapi=../fastapi (or a git URL@ref, a wheel, an sdist)")
    _harness(session, "candidate")


@nox.session
def bisect(session: nox.Session) -> None:
    """First release where a verdict flips.

    nox -s bisect -- <case>[::<test>] [--package P --from X --to Y --hold N=V]
    """
    if not session.posargs:
        session.error("name a case or case::test: nox -s bisect -- json_form_field::test_name")
    _harness(session, "bisect")


@nox.session
def gc(session: nox.Session) -> None:
    """Remove environments unused for 30 days, then the least recently used beyond 20 GB (--dry-run first)."""
    _harness(session, "gc")


@nox.session(name="lock-tools")
def lock_tools(session: nox.Session) -> None:
    """Resolve the test tools every cell prefers into tools.lock (after changing a case's dependencies)."""
    _harness(session, "lock-tools")


@nox.session
def check(session: nox.Session) -> None:
    """Validate every case in seconds: case.toml, role markers, expectations, imports, dependencies."""
    # The tools every cell prefers, so the imports of each case can be checked against its dependencies.
    _install(session, *HARNESS, "-r", "tools.lock")
    session.run("python", "-m", "known_issues", "check", *session.posargs)


@nox.session
def schemas(session: nox.Session) -> None:
    """Write schemas/*.schema.json from the models of matrix.toml and case.toml (editors check the files with them)."""
    _harness(session, "schemas")


@nox.session(name="new-case")
def new_case(session: nox.Session) -> None:
    """Scaffold a case that passes the checks: nox -s new-case -- <slug>."""
    if len(session.posargs) != 1:
        session.error("name the case: nox -s new-case -- my_case (lowercase letters, digits, '_')")
    _harness(session, "new-case")


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: harness units, report in a real browser, end-to-end cells."""
    _ensure_chromium(session)
    # tools.lock too: the check of every case's imports looks them up where they are installed.
    _install(session, *HARNESS, "--group", "dev", "-r", "tools.lock")
    session.run("python", "-m", "pytest", *(session.posargs or ["tests"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy on the harness; the cell kernel also as Python 3.9."""
    _install(session, *HARNESS, "--group", "dev")
    session.run("ruff", "check", ".")  # the cell kernel at Python 3.9: src/known_issues/cell/ruff.toml
    session.run("ruff", "format", "--check", "src", "tests", "bench", "noxfile.py")
    session.run("mypy")
    # The cell kernel runs on Python 3.9 too; mypy 2 no longer targets it (see the ini file).
    session.run("uv", "tool", "run", "--from", MYPY_FOR_PY39, "mypy", "--config-file", CELL_MYPY_PY39, external=True)


def _ensure_chromium(session: nox.Session) -> None:
    """The report test drives Debian's Chromium; install it when missing and allowed to."""
    if shutil.which("chromium") or os.environ.get("KNOWN_ISSUES_CHROMIUM"):
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        session.run("apt-get", "update", "-qq", external=True)
        session.run(
            "apt-get", "install", "-y", "-qq", "chromium", external=True, env={"DEBIAN_FRONTEND": "noninteractive"}
        )
    else:
        session.warn("chromium not found: install Debian's `chromium` package (or set KNOWN_ISSUES_CHROMIUM)")
