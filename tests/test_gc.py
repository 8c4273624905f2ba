"""gc: what it removes from .envs, and that it says so."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from known_issues.runner.environments import COMPLETE
from known_issues.runner.gc import GB, collect
from known_issues.runner.result_store import CaseResult, ResultStore

DAY = 86400.0


def _environment(cells: Path, name: str, last_used: float, size: int = 1000) -> Path:
    path = cells / name
    (path / "lib").mkdir(parents=True)
    (path / "lib" / "blob").write_bytes(b"x" * size)
    (path / COMPLETE).write_text("lock", encoding="utf-8")
    os.utime(path / COMPLETE, (last_used, last_used))
    return path


def test_removes_old_and_least_recently_used_environments_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time()
    cells = tmp_path / "cells"
    old = _environment(cells, "old", now - 40 * DAY)
    lru = _environment(cells, "lru", now - 2 * DAY, size=600)
    recent = _environment(cells, "recent", now - 1 * DAY, size=600)

    removed = collect(tmp_path, max_age_days=30, max_gb=1000 / GB, now=now)

    assert [e.path.name for e in removed] == ["old", "lru"]
    assert not old.exists() and not lru.exists() and recent.exists()
    out = capsys.readouterr().out
    assert f"removed {old}" in out and "unused for 40 days" in out
    assert f"removed {lru}" in out and "least recently used" in out
    assert "2 environment(s) removed, 1 kept" in out


def test_stored_results_age_by_their_last_use_not_their_creation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ResultStore(tmp_path / "results")
    for key in ("read", "unread"):
        store.put(key, CaseResult(key, "3.11.7", {}))
        path = store.folder / f"{key}.json"
        os.utime(path, (time.time() - 40 * DAY,) * 2)
    for env_key in ("resolved-again", "not-resolved"):
        store.put_lock(env_key, "fastapi==0.1\n")
        os.utime(store.folder / f"lock-{env_key}.txt", (time.time() - 40 * DAY,) * 2)
    assert store.get("read") is not None  # a run asked for it: it was used today
    store.put_lock("resolved-again", "fastapi==0.1\n")  # a run's cell resolved to this environment

    collect(tmp_path, max_age_days=30, max_gb=20)

    assert (store.folder / "read.json").exists()
    assert not (store.folder / "unread.json").exists()
    assert (store.folder / "lock-resolved-again.txt").exists()
    assert not (store.folder / "lock-not-resolved.txt").exists()
    assert "2 stored result(s) unused for 30 days removed" in capsys.readouterr().out


def test_dry_run_removes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    old = _environment(tmp_path / "cells", "old", now - 40 * DAY)
    store = ResultStore(tmp_path / "results")
    store.put("k", CaseResult("k", "3.11.7", {}))
    os.utime(store.folder / "k.json", (now - 40 * DAY,) * 2)

    collect(tmp_path, max_age_days=30, max_gb=20, dry_run=True, now=now)

    assert old.exists() and (store.folder / "k.json").exists()
    out = capsys.readouterr().out
    assert f"would remove {old}" in out and "1 stored result(s) unused for 30 days to remove" in out


def test_bytecode_no_environment_links_to_goes_with_its_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = tmp_path / "bytecode" / "cpython-311"
    tag.mkdir(parents=True)
    (tag / "shared.pyc").write_bytes(b"x" * 10)
    (tag / "orphan.pyc").write_bytes(b"y" * 10)
    env = _environment(tmp_path / "cells", "recent", time.time())
    os.link(tag / "shared.pyc", env / "lib" / "shared.pyc")

    collect(tmp_path, max_age_days=30, max_gb=20)

    assert sorted(p.name for p in tag.iterdir()) == ["shared.pyc"]
    assert "gc: 1 bytecode file(s) no environment uses removed" in capsys.readouterr().out


def test_a_stored_result_is_marked_used_again_only_when_its_mark_is_an_hour_old(tmp_path: Path) -> None:
    """gc counts days unused: an unchanged run need not write the time of each of its results again."""
    store = ResultStore(tmp_path / "results")
    store.put("k", CaseResult("k", "3.11.7", {}))
    path = store.folder / "k.json"
    for age, marked_again in ((10 * 60, False), (2 * 3600, True), (40 * DAY, True)):
        before = time.time() - age
        os.utime(path, (before, before))
        assert store.has("k")
        assert (path.stat().st_mtime > before + 60) is marked_again, age
    assert not store.has("missing")
