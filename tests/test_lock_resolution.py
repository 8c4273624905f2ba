"""A cell's lock is what the index gives during the run: uv keeps the index pages it fetched, and a lock
rests on no page this run has not asked the index about."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from index_server import NAME, Planted, routes, serve

from known_issues.runner import environments as envs

VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
PYTHON = Path(sys.executable)


@pytest.fixture
def no_uv_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No uv settings file of the user's or the system's, an empty uv cache."""
    for name in ("UV_CONFIG_FILE", "UV_NO_CONFIG", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _pages(paths: list[str]) -> int:
    return sum(1 for path in paths if path.startswith("/simple/"))


def _resolve(requirement: str, index: str) -> str:
    return envs.parse_pins(envs.compile_lock([requirement], PYTHON, VERSION, index_url=index))[NAME]


def test_a_run_asks_about_each_index_page_once_and_a_lock_rests_on_no_page_from_before_it(
    no_uv_settings: Path,
) -> None:
    one = Planted("1.0", None, None)
    served = routes([one])
    with serve(served) as index:
        envs.begin_index_reads()
        assert _resolve(NAME, index.base) == "1.0"  # an earlier run
        served.update(routes([one, Planted("2.0", None, None)]))  # released after it read the page
        envs.begin_index_reads()  # this run: the page it keeps is from before
        asked = _pages(index.paths())
        assert _resolve(NAME, index.base) == "2.0"
        assert _pages(index.paths()) > asked
        # Other requirements on the same package, later in the run: the page asked about again is kept
        # from the next resolution on (asked with the index named alone, it came without a lifetime),
        # and then it answers alone.
        assert _resolve(f"{NAME}>=1", index.base) == "2.0"
        asked = _pages(index.paths())
        assert _resolve(f"{NAME}>=1.0", index.base) == "2.0"
        assert _pages(index.paths()) == asked
        # A release made since this run asked: a refusal is asked of the index as it is now.
        served.update(routes([one, Planted("2.0", None, None), Planted("3.0", None, None)]))
        assert _resolve(f"{NAME}==3.0", index.base) == "3.0"
        assert _pages(index.paths()) > asked


def test_uv_settings_of_the_users_are_kept_and_every_page_is_asked_about(no_uv_settings: Path, tmp_path: Path) -> None:
    url = "https://user:secret@mirror.example/simple"
    named = envs._index_args(url, tmp_path)
    assert named[0] == "--config-file"
    assert 'url = "https://user:secret@mirror.example/simple"' in Path(named[1]).read_text(encoding="utf-8")
    settings = tmp_path / "home" / ".config" / "uv" / "uv.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text("native-tls = true\n", encoding="utf-8")
    # A settings file on the command line would replace the user's: the index is named alone.
    assert envs._index_args(url, tmp_path) == ["--default-index", url]


def test_an_environment_is_one_online_sync_and_the_next_of_its_lock_asks_the_index_nothing(
    no_uv_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syncs: list[list[str]] = []
    real_run = subprocess.run

    def recording(cmd: list[str], *args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if cmd[1:3] == ["pip", "sync"]:
            syncs.append(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(envs.subprocess, "run", recording)
    with serve(routes([Planted("1.0", None, None)])) as index:
        envs.begin_index_reads()
        lock = envs.compile_lock([NAME], PYTHON, VERSION, index_url=index.base)
        first = envs.ensure(no_uv_settings / "cells-a", PYTHON, lock, index.base)
        asked = index.paths()
        second = envs.ensure(no_uv_settings / "cells-b", PYTHON, lock, index.base)
        # The page this run read and the wheel the first environment fetched are kept: nothing to ask.
        assert index.paths() == asked
    assert len(syncs) == 2 and not any("--offline" in cmd for cmd in syncs)
    for env in (first, second):
        shown = real_run(
            [str(env.python), "-c", f"import importlib.metadata as m; print(m.version({NAME!r}))"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert shown.stdout.strip() == "1.0"
