"""Newest cells install what a fresh install gives today; every other cell keeps the pins of tools.lock.

The resolver is replaced by a small fake with a fixed universe of releases, so that what is
asserted is which requirements and which preferences each cell hands it, and what it keeps."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from known_issues import latest
from known_issues import matrix as matrix_mod
from known_issues.catalog import case_dependencies, load_cases
from known_issues.errors import PackageIndexError
from known_issues.matrix import ANY, Cell, follows_the_newest
from known_issues.matrix import load as load_matrix
from known_issues.results import CellResult
from known_issues.runner import environments as envs
from known_issues.runner import installed, locks, one_cell
from known_issues.runner.index_config import IndexChoice
from known_issues.runner.pypi import Release
from known_issues.runner.result_store import ResultStore
from known_issues.runner.run_context import RunContext
from known_issues.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NO_INDEX = IndexChoice("http://127.0.0.1:9/simple", "tests: the cells here never ask an index")
CASE = "blocking_event_loop"  # its own dependencies: uvicorn and aiosqlite

# name -> releases, oldest first: the fake index and the fake resolver read the same universe.
RELEASES = {
    "fastapi": ["0.164.0", "0.165.0"],
    "pydantic": ["2.11.7", "2.14.4"],
    "starlette": ["1.9.0", "1.10.0"],
    "uvicorn": ["0.54.0", "0.55.0"],
    "aiosqlite": ["0.21.0", "0.22.1"],
    "bcrypt": ["4.3.0", "5.0.0"],
    "httpx": ["0.28.1", "0.29.0"],
    "pytest": ["9.1.0", "9.2.0"],
    "hypothesis": ["6.170.0", "6.170.17"],
    "python-multipart": ["0.0.20", "0.0.22"],
}
RUNTIME = {"fastapi", "pydantic", "starlette", "uvicorn", "httpx"}  # what fastapi[standard] brings here
TOOLS_LOCK = "".join(
    f"{name}=={versions[0]}\n" for name, versions in RELEASES.items()
)  # every pin one release behind the newest, runtime packages included (as tools.lock is on any later day)


class FakeIndex:
    def versions(self, name: str, python: str) -> list[str]:
        return list(RELEASES.get(name, []))

    def exists(self, name: str, version: str) -> bool:
        return version in RELEASES.get(name, [])


class FakeResolver:
    """Each requirement's package (and what fastapi[standard] and the test tools bring) at the preferred
    version when there is one, else the newest; a requirement ``name==v`` holds it at v."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, requirements: Sequence[str], *args: object, preferences: str = "", **kwargs: object) -> str:
        self.calls.append((list(requirements), preferences))
        wanted: dict[str, str | None] = {}
        for requirement in requirements:
            name, _, version = requirement.partition("==")
            name = name.split("[")[0].split(">")[0].split("<")[0].strip()
            wanted[name] = version or None
            if name == "fastapi":
                wanted.update({n: wanted.get(n) for n in RUNTIME - {"fastapi"}})
            if name == "pytest":
                wanted.update({n: wanted.get(n) for n in ("hypothesis", "python-multipart")})
        preferred = envs.parse_pins(preferences)
        return "".join(
            f"{name}=={version or preferred.get(name) or RELEASES[name][-1]}\n"
            for name, version in sorted(wanted.items())
            if name in RELEASES
        )


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    fake = FakeResolver()
    monkeypatch.setattr(envs, "compile_lock", fake)
    return fake


def _ctx(tmp_path: Path, **lock_options: object) -> RunContext:
    matrix = load_matrix(ROOT / "matrix.toml")
    settings = Settings(ROOT, matrix, tmp_path / "out", tmp_path / "envs", NO_INDEX, jobs=1)
    cases = load_cases(ROOT / "cases")
    store = ResultStore(tmp_path / "results")
    lock_store = locks.Locks(tmp_path / "locks", **lock_options)  # type: ignore[arg-type]
    return RunContext(settings, FakeIndex(), cases, TOOLS_LOCK, "h", {}, store, lock_store)  # type: ignore[arg-type]


def _cell(fastapi: str, pydantic: str = "2.11.7", group: str = "fastapi-minors") -> Cell:
    return Cell(group, f"{sys.version_info[0]}.{sys.version_info[1]}", (("fastapi", fastapi), ("pydantic", pydantic)),
                (CASE,))  # fmt: skip


def _resolve(ctx: RunContext, cell: Cell) -> CellResult:
    result = CellResult(cell)
    one_cell._resolve(ctx, cell, result)
    return result


def test_the_newest_cells_of_the_default_matrix() -> None:
    matrix = load_matrix(ROOT / "matrix.toml")

    index = {
        "fastapi": ["0.127.1", "0.128.0", "0.164.0", "0.165.0"],
        "pydantic": ["1.10.26", "2.11.7", "2.14.4"],
        "bcrypt": ["4.0.1", "4.2.1", "4.3.0", "5.0.0"],
        "starlette": ["0.40.0", "1.10.0"],
    }

    def released(name: str, python: str) -> list[str]:
        return index.get(name, [])

    cells = matrix_mod.expand(matrix, released)
    newest = [c.id for c in cells if follows_the_newest(c, released)]
    assert newest == [
        "fastapi-minors-py3.11-fastapi0.165.0-pydantic2.11.7",
        "pydantic-minors-py3.11-pydantic2.14.4-fastapiany",
        "newest-python-py3.13-fastapiany-pydanticany",
        "bcrypt-py3.11-fastapi0.165.0-pydanticany-bcrypt4.0.1",
        "bcrypt-py3.11-fastapi0.165.0-pydanticany-bcrypt4.2.1",
        "bcrypt-py3.11-fastapi0.165.0-pydanticany-bcrypt4.3.0",
        "bcrypt-py3.11-fastapi0.165.0-pydanticany-bcrypt5.0.0",
        "guide-project-py3.11-fastapi0.165.0-pydantic2.11.7",
        "servers-py3.11-fastapi0.165.0-pydantic2.11.7",
    ]
    # Without the index only "any" can be told: nothing is moved onto the newest packages on a guess.
    assert [c.id for c in cells if follows_the_newest(c, None)] == [i for i in newest if i.startswith("newest-python-")]
    assert follows_the_newest(Cell("g", "3.11", (("fastapi", ANY),)), None)
    # A candidate (installed from its source) stands beside the newest releases, like `latest`'s cell.
    candidate = Cell(
        "candidate", "3.11", (("fastapi", "cand-0123"), ("pydantic", "2.14.4")), (), (("fastapi", "file:///x"),)
    )
    assert follows_the_newest(candidate, released) and follows_the_newest(candidate, None)
    assert not follows_the_newest(Cell("g", "3.11", (("fastapi", "cand-0123"),)), released)
    assert not follows_the_newest(Cell("g", "3.11", ()), released)


def test_an_older_cell_resolves_exactly_as_before(tmp_path: Path, resolver: FakeResolver) -> None:
    """Its requirements, preferences and so its lock key are those it always had: its lock, its
    environment and its stored results stay valid."""
    ctx = _ctx(tmp_path)
    cell = _cell("0.164.0")
    result = _resolve(ctx, cell)
    requirements = cell.requirements(ctx.settings.matrix.extras) + locks.cell_group(ROOT)
    requirements += case_dependencies(ctx.cases, [CASE])
    preferences = locks.tool_preferences(TOOLS_LOCK, cell.axes)
    assert resolver.calls == [(requirements, preferences)]
    python = envs.find_python(cell.python)
    key = locks._key(python, requirements, [], preferences)
    assert [p.name for p in (tmp_path / "locks").iterdir()] == [f"{key}.txt"]
    assert result.requirements == requirements and result.runtime == {}
    # uvicorn, Starlette, httpx stay where tools.lock has them, and are among the pins it was given.
    assert {n: result.resolved[n] for n in ("uvicorn", "starlette", "httpx", "pytest")} == {
        "uvicorn": "0.54.0", "starlette": "1.9.0", "httpx": "0.28.1", "pytest": "9.1.0"}  # fmt: skip
    assert {"uvicorn", "starlette", "httpx", "pytest"} <= set(result.run_pins)


def test_a_newest_cell_prefers_only_the_test_tools(tmp_path: Path, resolver: FakeResolver) -> None:
    ctx = _ctx(tmp_path)
    cell = _cell("0.165.0")
    result = _resolve(ctx, cell)
    (runtime, runtime_preferences), (full, preferences) = resolver.calls
    # First its runtime requirements alone, with no preference: the axes with their extras and the
    # case's own dependencies, without the cell group of test tools.
    assert runtime == cell.requirements(ctx.settings.matrix.extras) + case_dependencies(ctx.cases, [CASE])
    assert runtime_preferences == ""
    assert full == runtime[:2] + locks.cell_group(ROOT) + runtime[2:]
    # Then everything, preferring only what that resolution does not contain.
    assert sorted(envs.parse_pins(preferences)) == ["bcrypt", "hypothesis", "pytest", "python-multipart"]
    assert result.runtime == {"aiosqlite": "0.22.1", "fastapi": "0.165.0", "httpx": "0.29.0", "pydantic": "2.11.7",
                              "starlette": "1.10.0", "uvicorn": "0.55.0"}  # fmt: skip
    for name, version in result.runtime.items():
        assert result.resolved[name] == version, name
    assert {n: result.resolved[n] for n in ("pytest", "hypothesis")} == {"pytest": "9.1.0", "hypothesis": "6.170.0"}
    assert result.run_pins == envs.parse_pins(preferences)
    assert any(s.startswith("runtime packages: resolved") for s in result.lock_sources)


def test_a_dependency_release_re_resolves_the_newest_cells_only(tmp_path: Path, resolver: FakeResolver) -> None:
    """Past the lock lifetime a release of uvicorn moves a newest cell (its runtime packages are held by
    no pin) and no older cell (tools.lock holds uvicorn there)."""
    released: set[str] = set()
    asked: list[str] = []

    def released_after(name: str, since: float) -> bool:
        asked.append(name)
        return name in released

    ctx = _ctx(tmp_path, released_after=released_after, ttl=0)
    older, newest = _cell("0.164.0"), _cell("0.165.0")
    before = {c.id: _resolve(ctx, c) for c in (older, newest)}
    assert len(resolver.calls) == 3 and asked == []
    RELEASES["uvicorn"].append("0.56.0")
    try:
        released.add("uvicorn")
        after = {c.id: _resolve(ctx, c) for c in (older, newest)}
    finally:
        RELEASES["uvicorn"].pop()
    assert after[older.id].resolved == before[older.id].resolved
    assert after[older.id].lock_sources[0].startswith("reused")
    assert "uvicorn" not in locks.movable(
        "".join(f"{n}=={v}\n" for n, v in before[older.id].resolved.items()),
        locks.tool_preferences(TOOLS_LOCK, older.axes),
        older.axes,
    )
    assert after[newest.id].resolved["uvicorn"] == "0.56.0"
    assert after[newest.id].lock_sources == [
        "runtime packages: resolved again (uvicorn had a release since the last resolution)",
        "resolved again (uvicorn had a release since the last resolution)",
    ]
    assert len(resolver.calls) == 5  # the newest cell's two resolutions, nothing for the older cell


def test_the_test_tools_only_are_the_preferences_without_the_runtime_packages() -> None:
    preferences = "httpx==0.28.1\npytest==9.2.0 ; python_full_version >= '3.10'\nUvicorn[standard]==0.54.0\n"
    assert locks.test_tools_only(preferences, {"uvicorn": "0.55.0", "httpx": "0.29.0"}) == (
        "pytest==9.2.0 ; python_full_version >= '3.10'\n"
    )
    assert locks.test_tools_only(preferences, {}) == preferences


def _plant_dist(env: Path, name: str, version: str, *requires: str) -> None:
    info = env / "lib" / "python3.11" / "site-packages" / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    (info / "METADATA").write_text("\n".join(lines) + "\n\nA description.\n")


def test_what_holds_a_package_below_its_newest_release_is_read_from_the_installed_metadata(tmp_path: Path) -> None:
    env = tmp_path / "env"
    requires = ["starlette<0.52.0,>=0.40.0", "uvicorn[standard]>=0.12.0; extra == 'standard'"]
    requires += ["itsdangerous<2; extra == 'all'", "typing-extensions>=4; python_version < '3.10'"]
    _plant_dist(env, "fastapi", "0.165.0", *requires)
    _plant_dist(env, "uvicorn", "0.55.0", "httptools<0.7; extra == 'standard'")
    found = installed.requirements_of(env)
    assert sorted(found) == ["fastapi", "uvicorn"]
    assert installed.holding_back(found, "Starlette", "0.53.0", "3.11.7", []) == [
        "fastapi requires starlette<0.52.0,>=0.40.0"
    ]
    assert installed.holding_back(found, "starlette", "0.51.0", "3.11.7", []) == []
    # Behind an extra: only when something asked for it (fastapi's requirement asks for uvicorn[standard]).
    assert installed.holding_back(found, "httptools", "0.7.1", "3.11.7", []) == ["uvicorn requires httptools<0.7"]
    assert installed.holding_back(found, "itsdangerous", "2.2.0", "3.11.7", ["fastapi[standard]==0.165.0"]) == []
    assert installed.holding_back(found, "itsdangerous", "2.2.0", "3.11.7", ["fastapi[all]==0.165.0"]) == [
        "fastapi requires itsdangerous<2"
    ]


def test_latest_lists_every_runtime_package_with_its_newest_release(tmp_path: Path) -> None:
    class Index:
        def releases(self, name: str) -> list[Release]:
            listed = {"fastapi": "0.165.0", "pydantic": "2.14.4", "starlette": "0.53.0", "uvicorn": "0.55.0"}
            if name not in listed:
                raise PackageIndexError(f"{name}: not on this index")
            requires = ">=3.12" if name == "uvicorn" else None
            return [Release("0.1.0", None, None), Release(listed[name], requires, None)]

    env = tmp_path / "cells" / "k"
    _plant_dist(env, "fastapi", "0.165.0", "starlette<0.52.0,>=0.40.0")
    result = CellResult(_cell("0.165.0"), python="3.11.7", env_key="k", requirements=["fastapi[standard]==0.165.0"])
    result.distributions = {"fastapi": "0.165.0", "pydantic": "2.11.7", "starlette": "0.51.0", "uvicorn": "0.54.0",
                            "pytest": "9.2.0", "hypothesis": "6.1.0"}  # fmt: skip
    result.runtime = {"fastapi": "0.165.0", "pydantic": "2.11.7", "starlette": "0.51.0", "uvicorn": "0.54.0"}
    result.run_pins = {"pytest": "9.2.0", "hypothesis": "6.0.0", "dirty-equals": "0.11"}
    rows = latest.package_rows(result, ["fastapi", "pydantic", "bcrypt"], Index(), tmp_path / "cells")  # type: ignore[arg-type]
    assert [(r.name, r.newest, r.installed, r.why) for r in rows] == [
        ("fastapi", "0.165.0", "0.165.0", ""),
        ("pydantic", "2.14.4", "2.11.7", ""),  # held by the cell's own axis: nothing installed excludes 2.14.4
        ("bcrypt", "?", "-", "the index does not list it"),
        ("starlette", "0.53.0", "0.51.0", "fastapi requires starlette<0.52.0,>=0.40.0"),
        ("uvicorn", "0.55.0", "0.54.0", "0.55.0 needs Python >=3.12"),
    ]
    text = latest.summary_markdown(result, rows, None, None)
    assert "| starlette | 0.53.0 | 0.51.0 | fastapi requires starlette<0.52.0,>=0.40.0 |" in text
    assert (
        "Test tools, preferred at the pins of tools.lock: hypothesis 6.1.0 (tools.lock: 6.0.0), pytest 9.2.0." in text
    )
