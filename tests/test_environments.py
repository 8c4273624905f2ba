"""The interpreter a cell's environment key names: one Python gives one key, however it is reached."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from known_issues.runner import environments as envs
from known_issues.runner import locks
from known_issues.runner.pytest_process import child_env

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


def test_a_cell_is_told_the_bytecode_store_of_its_environments_and_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    from known_issues.cell.shared_bytecode import STORE_VARIABLE

    monkeypatch.setenv(STORE_VARIABLE, "/elsewhere/bytecode")
    assert STORE_VARIABLE not in child_env()
    store = Path("/envs/bytecode")
    assert child_env(store)[STORE_VARIABLE] == str(store)
    assert envs.bytecode_store(Path("/envs/cells/0123abcd")) == store


def test_a_refusal_of_the_resolver_is_kept_like_a_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def refuse(requirements: list[str], *args: object, **kwargs: object) -> str:
        calls.append(list(requirements))
        raise envs.NotInstallable("No solution found when resolving dependencies: pydantic==1.10.27")

    monkeypatch.setattr(envs, "compile_lock", refuse)
    store = locks.Locks(tmp_path)
    messages = []
    for _ in range(2):
        with pytest.raises(envs.NotInstallable) as refused:
            store.resolve(["fastapi==0.128.0", "pydantic==1.10.27"], Path(sys.executable), VERSION, [], "", [])
        messages.append(str(refused.value))
    assert len(calls) == 1
    assert messages == ["No solution found when resolving dependencies: pydantic==1.10.27"] * 2
    store = dataclasses.replace(store, ttl=0)  # expired: the resolver is asked again
    with pytest.raises(envs.NotInstallable):
        store.resolve(["fastapi==0.128.0", "pydantic==1.10.27"], Path(sys.executable), VERSION, [], "", [])
    assert len(calls) == 2


def test_an_expired_lock_is_resolved_again_only_when_one_of_its_movable_packages_had_a_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its lifetime a lock is kept while the index shows no release, made since it was resolved, of a
    package that neither an axis nor a tool pin holds: the axes and the pinned tools are never asked about."""
    lock = "anyio==4.11.0\nfastapi==0.165.0\npydantic==2.14.4\nstarlette==0.49.3\n"
    calls: list[list[str]] = []

    def resolve(requirements: list[str], *args: object, **kwargs: object) -> str:
        calls.append(list(requirements))
        return lock

    monkeypatch.setattr(envs, "compile_lock", resolve)
    asked: list[str] = []
    released: set[str] = set()

    def released_after(name: str, since: float) -> bool | None:
        asked.append(name)
        return None if name == "unknown" else name in released

    store = locks.Locks(tmp_path, released_after=released_after)
    # fastapi and pydantic are the cell's axes; anyio is at the tool pin; starlette is free to move.
    preferences = "anyio==4.11.0\nstarlette==1.10.0 ; python_full_version >= '3.11'\n"
    args = (["fastapi==0.165.0", "pydantic"], Path(sys.executable), VERSION, [], preferences)

    def once() -> list[str]:
        sources: list[str] = []
        assert store.resolve(*args, sources, axes=("fastapi", "pydantic")) == lock
        return sources

    assert once() == ["resolved"]
    assert once()[0].startswith("reused") and asked == []  # young: nothing asked
    store = dataclasses.replace(store, ttl=0)
    assert once()[0].startswith("reused") and asked == ["starlette"] and len(calls) == 1
    released.add("starlette")
    assert once() == ["resolved again (starlette had a release since the last resolution)"]
    assert len(calls) == 2
    assert locks.movable(lock + "unknown==1\n", preferences, ("fastapi", "pydantic")) == ["starlette", "unknown"]
