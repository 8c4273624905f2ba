"""The package index is the one uv and pip are configured for, asked through the standard Simple API.

A local index on 127.0.0.1 serves a planted project; with UV_INDEX_URL naming it, the release lookups,
the metadata and uv's resolution all go there and nowhere else."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from index_server import NAME, Index, Planted, routes, serve

from known_issues.errors import PackageIndexError
from known_issues.runner import environments as envs
from known_issues.runner.index_config import choose_index
from known_issues.runner.pypi import URLS_COPY, PackageIndex

ROOT = Path(__file__).resolve().parent.parent
NOTES = "https://planted.example/docs/changes/"
REPO = "https://github.com/planted-owner/planted-pkg"
RELEASES = [
    Planted("1.0.0", ">=3.8", "2024-01-10T10:00:00Z"),
    Planted("1.1.0", ">=3.12", "2024-03-01T08:00:00.500000Z", metadata_apart=True,
            project_urls=(("Homepage", "https://planted.example/"), ("Source", f"{REPO}.git"),
                          ("Release notes", NOTES))),
    Planted("1.2.0", ">=3.8", "2024-04-01T00:00:00Z", yanked=True),
    Planted("2.0.0rc1", ">=3.8", "2024-05-01T00:00:00Z"),
]  # fmt: skip
EPOCH_2024_02_01 = 1706745600.0
EPOCH_2024_04_01 = 1711929600.0


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with no uv or pip configuration of the user's or the machine's."""
    (tmp_path / "home").mkdir(exist_ok=True)
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "XDG_CONFIG_DIRS": str(tmp_path / "no-system-config"),
        "PIP_CONFIG_FILE": os.devnull,
        **extra,
    }


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Every address the harness connects to from this process."""
    made: list[tuple[str, int]] = []
    real = socket.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        made.append((address[0], int(address[1])))
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    yield made


@pytest.fixture
def planted() -> Iterator[Index]:
    with serve(routes(RELEASES)) as index:
        yield index


def port(index: Index) -> int:
    return int(index.base.split(":")[2].split("/")[0])


def test_with_uv_index_url_the_release_lookups_go_to_that_index_and_nowhere_else(
    planted: Index, connections: list[tuple[str, int]], tmp_path: Path
) -> None:
    choice = choose_index(clean_env(tmp_path, UV_INDEX_URL=planted.base), tmp_path)
    assert (choice.url, choice.source) == (planted.base.rstrip("/"), "UV_INDEX_URL")
    index = PackageIndex(tmp_path / "cache", choice.url, origin=choice.source)

    releases = index.releases(NAME)
    assert [(r.version, r.requires_python, r.upload_time) for r in releases] == [
        ("1.0.0", ">=3.8", "2024-01-10T10:00:00Z"),
        ("1.1.0", ">=3.12", "2024-03-01T08:00:00.500000Z"),
    ]  # 1.2.0 is yanked, 2.0.0rc1 a pre-release
    assert index.versions(NAME, "3.11") == ["1.0.0"]
    assert index.versions("Planted_Pkg", "3.12") == ["1.0.0", "1.1.0"]
    assert index.released(NAME, "1.1.0") == "2024-03-01"
    assert index.released_after(NAME, EPOCH_2024_02_01) is True
    assert index.released_after(NAME, EPOCH_2024_04_01) is False
    assert index.exists(NAME, "1.0.0") and not index.exists(NAME, "1.2.0")
    assert index.sources[NAME]["from"] == "index" and index.sources[NAME]["url"] == choice.url
    assert index.sources[NAME]["chosen_by"] == "UV_INDEX_URL"
    # The newest release's metadata, served apart (PEP 658), names the project's own pages.
    assert index.release_notes(NAME) == NOTES
    assert index.project_page(NAME, "1.0.0") == NOTES
    assert index.repository(NAME) == REPO

    assert planted.requests[0].accept.startswith("application/vnd.pypi.simple.v1+json")
    assert planted.paths() == [f"/simple/{NAME}/", "/files/planted_pkg-1.1.0-py3-none-any.whl.metadata"]
    assert set(connections) == {("127.0.0.1", port(planted))}


def test_the_cli_lists_the_cells_from_the_index_uv_index_url_names(planted: Index, tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.toml"
    axes = f'{{ {NAME} = {{ versions = ">=1" }} }}'
    matrix.write_text(f'[[groups]]\nname = "planted"\npython = ["3.12"]\naxes = {axes}\n')
    env = {
        **clean_env(tmp_path, UV_INDEX_URL=planted.base),
        "PYTHONPATH": str(ROOT / "src"),
        "KNOWN_ISSUES_ROOT": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "known_issues", "cells", "--matrix", str(matrix), "--envs", str(tmp_path / "envs")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [f"planted-py3.12-{NAME}1.0.0", f"planted-py3.12-{NAME}1.1.0"]
    assert planted.paths() == [f"/simple/{NAME}/"]


def test_uv_resolves_from_the_same_index(planted: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # nothing from an earlier resolution
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    lock = envs.compile_lock([NAME], Path(sys.executable), version, index_url=planted.base.rstrip("/"))
    newest = "1.1.0" if sys.version_info >= (3, 12) else "1.0.0"
    assert envs.parse_pins(lock) == {NAME: newest}
    assert f"/simple/{NAME}/" in planted.paths()


@pytest.mark.parametrize("form", ["json", "html"])
def test_an_index_without_upload_times_still_lists_releases(
    form: str, tmp_path: Path, connections: list[tuple[str, int]]
) -> None:
    """api-version 1.0 (JSON without PEP 700), or the HTML form: versions yes, dates and 'released since' no."""
    with serve(routes(RELEASES, form=form, api_version="1.0")) as planted:
        index = PackageIndex(tmp_path / "cache", planted.base)
        assert [(r.version, r.requires_python, r.upload_time) for r in index.releases(NAME)] == [
            ("1.0.0", ">=3.8", None),
            ("1.1.0", ">=3.12", None),
        ]
        assert index.versions(NAME, "3.11") == ["1.0.0"]
        assert index.released(NAME, "1.0.0") is None
        assert index.released_after(NAME, EPOCH_2024_02_01) is None  # cannot tell
        assert index.release_notes(NAME) == NOTES
    assert set(connections) == {("127.0.0.1", port(planted))}


def test_the_wheel_is_read_when_the_index_serves_no_metadata_apart(tmp_path: Path) -> None:
    releases = [Planted("3.0.0", None, "2024-06-01T00:00:00Z", project_urls=(("Repository", REPO),))]
    with serve(routes(releases)) as planted:
        index = PackageIndex(tmp_path / "cache", planted.base)
        assert index.release_notes(NAME) is None
        assert index.project_page(NAME, "3.0.0") == f"{REPO}/releases/tag/3.0.0"
    assert planted.paths() == [f"/simple/{NAME}/", "/files/planted_pkg-3.0.0-py3-none-any.whl"]


def test_an_offline_run_reads_the_cached_copy_and_never_a_copy_of_the_old_form(planted: Index, tmp_path: Path) -> None:
    live = PackageIndex(tmp_path / "cache", planted.base)
    assert live.versions(NAME, "3.12") == ["1.0.0", "1.1.0"] and live.release_notes(NAME) == NOTES
    asked = len(planted.requests)
    offline = PackageIndex(tmp_path / "cache", planted.base, offline=True)
    assert offline.versions(NAME, "3.12") == ["1.0.0", "1.1.0"]
    assert offline.released(NAME, "1.0.0") == "2024-01-10"
    assert offline.release_notes(NAME) == NOTES
    assert offline.sources[NAME]["from"] == "cache"
    assert len(planted.requests) == asked
    assert (tmp_path / "cache" / URLS_COPY.format(name=NAME)).exists()

    # The JSON API's copy of before (<name>.json) has another shape: it is not read as a copy.
    old = tmp_path / "old-cache"
    old.mkdir()
    (old / f"{NAME}.json").write_text(json.dumps({"fetched": 0, "data": {"releases": {"9.0": []}}}))
    with pytest.raises(PackageIndexError, match="no cached copy"):
        PackageIndex(old, planted.base, offline=True).releases(NAME)


def test_credentials_in_the_index_address_are_sent_and_never_stored(tmp_path: Path) -> None:
    with serve(routes(RELEASES)) as planted:
        secret = planted.base.replace("http://", "http://reader:s3cret@")
        index = PackageIndex(tmp_path / "cache", secret)
        assert index.versions(NAME, "3.12") == ["1.0.0", "1.1.0"]
        assert index.release_notes(NAME) == NOTES
    token = base64.b64encode(b"reader:s3cret").decode()
    assert len(planted.requests) == 2 and {r.authorization for r in planted.requests} == {f"Basic {token}"}
    assert "s3cret" not in json.dumps(index.sources)
    assert all("s3cret" not in p.read_text() for p in (tmp_path / "cache").iterdir())
    assert index.sources[NAME]["url"] == "http://***@" + planted.base.removeprefix("http://").rstrip("/")


def test_a_folder_index_is_read_like_pip_reads_one(tmp_path: Path) -> None:
    """A file:// index (a folder of index.html pages, as pip accepts one) needs no server."""
    for path, (_, body) in routes(RELEASES, form="html").items():
        target = tmp_path / "index" / path.lstrip("/")
        target = target / "index.html" if path.endswith("/") else target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    index = PackageIndex(tmp_path / "cache", (tmp_path / "index" / "simple").as_uri())
    assert index.versions(NAME, "3.12") == ["1.0.0", "1.1.0"]
    assert index.release_notes(NAME) == NOTES
