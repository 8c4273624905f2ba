from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from dirty_equals import IsStr
from fastapi.testclient import TestClient
from httpx import ASGITransport, AsyncClient
from sqlalchemy.exc import OperationalError

from .app import Built, build_app
from .guide_test_module import SOURCE

NEW_ITEM = {"name": "Test", "price": 9.99}


@pytest_asyncio.fixture
async def built(tmp_path: Path) -> AsyncIterator[Built]:
    built = build_app(tmp_path / "app.db")
    yield built
    # The lifespan disposes the engine when it runs; make sure it is closed when it did not.
    await built.engine.dispose()


async def create_and_list(client: AsyncClient) -> None:
    created = await client.post("/items", json=NEW_ITEM)
    assert created.status_code == 201
    assert created.json() == {"id": 1, **NEW_ITEM}
    listed = await client.get("/items")
    assert listed.status_code == 200
    assert listed.json() == [{"id": 1, **NEW_ITEM}]


@pytest.mark.pattern("AsyncClient over ASGITransport answers a route that needs no lifespan")
@pytest.mark.asyncio
async def test_async_client_serves_plain_route(built: Built) -> None:
    async with AsyncClient(transport=ASGITransport(app=built.app), base_url="http://test") as ac:
        response = await ac.get("/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.bug
@pytest.mark.asyncio
async def test_async_client_does_not_run_lifespan(built: Built) -> None:
    # The guide's test fixture: AsyncClient over ASGITransport, nothing else.
    async with AsyncClient(transport=ASGITransport(app=built.app), base_url="http://test") as ac:
        assert built.events == []
        # So the tables the lifespan would create are missing and the request fails.
        with pytest.raises(OperationalError, match="no such table: items"):
            await ac.post("/items", json=NEW_ITEM)
    assert built.events == []


@pytest.mark.bug
def test_test_client_without_with_does_not_run_lifespan(built: Built) -> None:
    client = TestClient(built.app)
    with pytest.raises(OperationalError, match="no such table: items"):
        client.post("/items", json=NEW_ITEM)
    assert built.events == []


@pytest.mark.workaround("TestClient(app) used as a context manager")
def test_test_client_context_manager_runs_lifespan(built: Built) -> None:
    with TestClient(built.app) as client:
        assert built.events == ["startup"]
        created = client.post("/items", json=NEW_ITEM)
        assert created.status_code == 201
        assert client.get("/items").json() == [{"id": 1, **NEW_ITEM}]
    assert built.events == ["startup", "shutdown"]


@pytest.mark.workaround("enter app.router.lifespan_context(app) around the AsyncClient")
@pytest.mark.asyncio
async def test_router_lifespan_context_runs_lifespan(built: Built) -> None:
    async with built.app.router.lifespan_context(built.app):
        transport = ASGITransport(app=built.app)
        async with AsyncClient(transport=transport, base_url="http://test") as ac:
            assert built.events == ["startup"]
            await create_and_list(ac)
    assert built.events == ["startup", "shutdown"]


@pytest.mark.workaround("asgi_lifespan.LifespanManager around the AsyncClient")
@pytest.mark.asyncio
async def test_lifespan_manager_runs_lifespan(built: Built) -> None:
    # Imported here: if the cell lacks asgi-lifespan, only this test errors, not the module.
    from asgi_lifespan import LifespanManager

    async with LifespanManager(built.app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://test") as ac:
            assert built.events == ["startup"]
            await create_and_list(ac)
    assert built.events == ["startup", "shutdown"]


class _Reports:
    """Collects the nested session's call/setup reports for test_root."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.passed = False

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(f"{report.when}: {report.longreprtext}")
        elif report.when == "call" and report.passed:
            self.passed = True


def run_guide_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asyncio_mode: str) -> _Reports:
    # The same module the guide shows, run in a fresh pytest session with its own ini file.
    (tmp_path / "test_guide_main.py").write_text(SOURCE, encoding="utf-8")
    ini = tmp_path / "pytest.ini"
    ini.write_text(
        f"[pytest]\nasyncio_mode = {asyncio_mode}\nasyncio_default_fixture_loop_scope = function\n",
        encoding="utf-8",
    )
    reports = _Reports()
    # Only pytest-asyncio is needed in the nested session; skipping the other plugins keeps it fast.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["-c", str(ini), "--rootdir", str(tmp_path), "-p", "pytest_asyncio.plugin", "-q"]
    pytest.main([*args, "-p", "no:cacheprovider", "--import-mode=importlib", str(tmp_path)], plugins=[reports])
    return reports


@pytest.mark.bug
def test_guide_async_fixture_fails_in_strict_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-asyncio's default (strict) mode ignores a plain @pytest.fixture async generator.
    reports = run_guide_tests(tmp_path, monkeypatch, "strict")
    assert not reports.passed
    assert reports.failed == [IsStr(regex=r"(?s).*async.*")]


@pytest.mark.workaround("asyncio_mode = auto lets the guide's plain @pytest.fixture work")
def test_guide_async_fixture_works_in_auto_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reports = run_guide_tests(tmp_path, monkeypatch, "auto")
    assert reports.failed == []
    assert reports.passed
