"""A cell's lock is what the index gives during the run: uv's cache answers only for packages the run
has already read from the index, and everything else is asked online."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from index_server import NAME, Planted, routes, serve

from known_issues.runner import environments as envs
from known_issues.runner import locks

VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
PYTHON = Path(sys.executable)


def _pages(index_requests: list[str]) -> int:
    return sum(1 for path in index_requests if path.startswith("/simple/"))


def test_a_resolution_in_a_run_is_answered_from_the_cache_once_the_run_has_read_its_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    one = Planted("1.0", None, None)
    served = routes([one])
    with serve(served) as index:
        earlier_run = locks.Locks(tmp_path / "earlier", index_url=index.base)
        assert envs.parse_pins(earlier_run.resolve([NAME], PYTHON, VERSION, [], "", [])) == {NAME: "1.0"}
        # Released after the earlier run: uv's cache still lists 1.0 alone.
        served.update(routes([one, Planted("2.0", None, None)]))
        run = locks.Locks(tmp_path / "run", index_url=index.base)
        # Nothing read in this run yet: the index is asked, and the new release is seen.
        asked = _pages(index.paths())
        assert envs.parse_pins(run.resolve([NAME], PYTHON, VERSION, [], "", [])) == {NAME: "2.0"}
        assert _pages(index.paths()) > asked
        # Other inputs, the same package, read by this run: the cache answers, the index is not asked.
        asked = _pages(index.paths())
        sources: list[str] = []
        assert envs.parse_pins(run.resolve([f"{NAME}>=1"], PYTHON, VERSION, [], "", sources)) == {NAME: "2.0"}
        assert _pages(index.paths()) == asked
        assert sources == ["resolved"]
        # What the cache cannot give (a release it never listed) is asked online, and found.
        served.update(routes([one, Planted("2.0", None, None), Planted("3.0", None, None)]))
        assert envs.parse_pins(run.resolve([f"{NAME}==3.0"], PYTHON, VERSION, [], "", [])) == {NAME: "3.0"}
        assert _pages(index.paths()) > asked


def test_a_package_this_run_has_not_read_sends_the_resolution_online(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cache of an earlier run would answer: anyio, starlette. This run has read starlette alone.
    calls: list[bool] = []

    def compile_lock(requirements: list[str], *args: object, offline: bool = False, **kwargs: object) -> str:
        calls.append(offline)
        if requirements == ["starlette"]:
            return "starlette==1.10.0\n"
        return "anyio==4.11.0\nstarlette==1.10.0\n" if offline else "anyio==4.12.0\nstarlette==1.10.0\n"

    monkeypatch.setattr(envs, "compile_lock", compile_lock)
    run = locks.Locks(tmp_path)
    run.resolve(["starlette"], PYTHON, VERSION, [], "", [])
    assert calls == [False]  # nothing read yet: online
    calls.clear()
    assert run.resolve(["starlette", "anyio"], PYTHON, VERSION, [], "", []) == "anyio==4.12.0\nstarlette==1.10.0\n"
    assert calls == [True, False]  # the cache's answer holds anyio, unread in this run: online
    calls.clear()
    assert run.resolve(["anyio", "starlette"], PYTHON, VERSION, [], "", []) == "anyio==4.11.0\nstarlette==1.10.0\n"
    assert calls == [True]  # both read now: the cache's answer stands
