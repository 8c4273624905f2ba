from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from dirty_equals import IsOneOf
from fastapi.testclient import TestClient
from httpx import ASGITransport, AsyncClient
from sqlalchemy.exc import OperationalError

from known_issues.casekit import CodeRaised, Observed, Reason, SuiteFault, answer, body, bug_or_fixed, precondition

from .app import Built, build_app
from .guide_test_module import SOURCE

NEW_ITEM = {"name": "Test", "price": 9.99}
# What a client sees when the lifespan did not run: the app's ServerErrorMiddleware answers 500.
NO_TABLE = {"status": 500, "body": "Internal Server Error"}
CREATED = {"status": 201, "body": {"id": 1, **NEW_ITEM}}


@pytest_asyncio.fixture
async def built(tmp_path: Path) -> AsyncIterator[Built]:
    built = build_app(tmp_path / "app.db")
    yield built
    # The lifespan disposes the engine when it runs; make sure it is closed when it did not.
    await built.engine.dispose()


async def create_and_list(client: AsyncClient) -> None:
    created = await client.post("/items", json=NEW_ITEM)
    assert created.status_code == 201, created.text
    assert body(created) == {"id": 1, **NEW_ITEM}
    listed = await client.get("/items")
    assert listed.status_code == 200, listed.text
    assert body(listed) == [{"id": 1, **NEW_ITEM}]


@pytest.mark.bug
@pytest.mark.asyncio
async def test_async_client_does_not_run_lifespan(built: Built) -> None:
    # The guide's test fixture: AsyncClient over ASGITransport, nothing else. The app is wrapped
    # in a recorder and the transport answers a crash with a 500, as a server would.
    observed = Observed(built.app)
    transport = ASGITransport(app=observed, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://test") as ac:
        # The control: the client reaches the app and a route that needs nothing from the lifespan
        # answers. A release whose transport reached no route would fail the create too.
        root = answer(await ac.get("/"))
        precondition(root == {"status": 200, "body": {"status": "ok"}}, f"GET / answered {root}")
        response = await ac.post("/items", json=NEW_ITEM)
    # No lifespan, so no tables: the guide's create test gets a 500 where it asserts 201.
    bug_or_fixed(
        {**answer(response), "lifespan": built.events},
        bug={**NO_TABLE, "lifespan": []},
        fixed={**CREATED, "lifespan": ["startup", "shutdown"]},
    )
    observed.assert_raised(OperationalError, match="no such table: items")


@pytest.mark.bug
def test_test_client_without_with_does_not_run_lifespan(built: Built) -> None:
    observed = Observed(built.app)
    response = TestClient(observed, raise_server_exceptions=False).post("/items", json=NEW_ITEM)
    bug_or_fixed(
        {**answer(response), "lifespan": built.events},
        bug={**NO_TABLE, "lifespan": []},
        fixed={**CREATED, "lifespan": IsOneOf(["startup"], ["startup", "shutdown"])},
    )
    observed.assert_raised(OperationalError, match="no such table: items")


@pytest.mark.workaround("TestClient(app) used as a context manager")
def test_test_client_context_manager_runs_lifespan(built: Built) -> None:
    with TestClient(built.app) as client:
        assert built.events == ["startup"]
        created = client.post("/items", json=NEW_ITEM)
        assert created.status_code == 201, created.text
        assert body(created) == {"id": 1, **NEW_ITEM}
        listed = client.get("/items")
        assert listed.status_code == 200, listed.text
        assert body(listed) == [{"id": 1, **NEW_ITEM}]
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


GUIDE_TEST = "test_guide_main.py::test_root"
# What the guide's plain @pytest.fixture async generator gets under strict mode: pytest (8.4 and
# later, the versions the cells install) refuses it at setup, with these words.
UNHANDLED_ASYNC_FIXTURE = (
    "'test_root' requested an async fixture 'client', with no plugin or hook that handled it. "
    "This is an error, as pytest does not natively support it."
)


@dataclass
class NestedRun:
    """The nested session's exit status and, per phase of the guide's test, its outcome and text."""

    exit_code: int = -1
    collected: list[str] = field(default_factory=list)
    phases: list[tuple[str, str, str]] = field(default_factory=list)  # (when, outcome, longrepr)
    collect_errors: list[str] = field(default_factory=list)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(report.longreprtext)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.collected = [item.nodeid for item in items]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid == GUIDE_TEST and (report.when == "call" or not report.passed):
            self.phases.append((report.when, report.outcome, report.longreprtext))

    def failures(self) -> list[tuple[str, str]]:
        return [(when, text) for when, outcome, text in self.phases if outcome == "failed"]

    def seen(self) -> dict[str, object]:
        """The exit status and each reported phase of the guide's test, with its first line of text."""
        lines = [(when, outcome, text.splitlines()[0] if text else "") for when, outcome, text in self.phases]
        return {"exit": int(self.exit_code), "phases": lines}


def run_guide_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asyncio_mode: str) -> NestedRun:
    # The same module the guide shows, run in a fresh pytest session with its own ini file.
    (tmp_path / "test_guide_main.py").write_text(SOURCE, encoding="utf-8")
    ini = tmp_path / "pytest.ini"
    ini.write_text(
        f"[pytest]\nasyncio_mode = {asyncio_mode}\nasyncio_default_fixture_loop_scope = function\n",
        encoding="utf-8",
    )
    run = NestedRun()
    # Only pytest-asyncio is needed in the nested session; skipping the other plugins keeps it fast.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["-c", str(ini), "--rootdir", str(tmp_path), "-p", "pytest_asyncio.plugin", "-q"]
    code = pytest.main([*args, "-p", "no:cacheprovider", "--import-mode=importlib", str(tmp_path)], plugins=[run])
    run.exit_code = int(code)
    # A session that could not run the guide's test observed nothing about its fixture.
    if run.collect_errors:
        # The guide's module itself did not import: its code failed.
        raise CodeRaised("the guide's test module failed to collect:\n" + "\n".join(run.collect_errors))
    if run.exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or run.collected != [GUIDE_TEST]:
        raise SuiteFault(Reason.HARNESS, f"nested pytest exited {run.exit_code} having collected {run.collected}")
    return run


@pytest.mark.bug
def test_guide_async_fixture_fails_in_strict_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-asyncio's default (strict) mode ignores a plain @pytest.fixture async generator.
    run = run_guide_tests(tmp_path, monkeypatch, "strict")
    bug_or_fixed(
        run.seen(),
        bug={"exit": int(pytest.ExitCode.TESTS_FAILED), "phases": [("setup", "failed", UNHANDLED_ASYNC_FIXTURE)]},
        fixed={"exit": int(pytest.ExitCode.OK), "phases": [("call", "passed", "")]},
    )


@pytest.mark.workaround("asyncio_mode = auto lets the guide's plain @pytest.fixture work")
def test_guide_async_fixture_works_in_auto_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = run_guide_tests(tmp_path, monkeypatch, "auto")
    assert run.failures() == []
    assert run.phases == [("call", "passed", "")]
    assert run.exit_code == pytest.ExitCode.OK
