"""The interpreter a cell's environment key names: one Python gives one key, however it is reached."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from known_issues import environments as envs
from known_issues.pytest_in_cell import child_env

VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_a_shim_on_path_gives_the_interpreter_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim = tmp_path / f"python{VERSION}"  # like pyenv's shims: a script that execs the real binary
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    envs.find_python.cache_clear()
    try:
        found = envs.find_python(VERSION)
    finally:
        envs.find_python.cache_clear()
    assert found == Path(os.path.realpath(sys.executable))
    lock = "fastapi==0.115.0\n"
    assert envs.env_key(found, lock) == envs.env_key(Path(sys.executable), lock)


def test_a_cell_does_not_see_the_runners_activated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `nox -s matrix` exports for its own uv venv: uv inside a case would use that interpreter.
    for name in ("VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT"):
        monkeypatch.setenv(name, "/somewhere/.nox/matrix")
    env = child_env()
    assert not {"VIRTUAL_ENV", "UV_PYTHON", "UV_PROJECT_ENVIRONMENT"} & set(env)
    assert env["PATH"] == os.environ["PATH"]
