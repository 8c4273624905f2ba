"""Each documented way to start the app, run as a real process: it must serve, then stop on SIGTERM.

Commands follow the document (``src/main.py`` / ``src.main:app``) but bind 127.0.0.1 on a free
port and use one gunicorn worker, so nothing is exposed and the machine is not overloaded.

Speed: each command's whole lifecycle (start, one request, SIGTERM, wait for the exit) runs in a
background pool of two, started by the module's first test for every selected test, so the next
command is already starting while a test waits for its own. Each test then checks what its own
command did; an exception of a lifecycle (the command exited, a port clash, no answer in time)
is re-raised unchanged in that command's test and judged exactly as if it had run there.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import sysconfig
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from known_issues.casekit import has, requires
from known_issues.serving import free_port, serve

from .app import GREETING

FASTAPI_CLI = "fastapi>=0.111.0"
UVICORN_WORKER = "uvicorn-worker>=0.1.0"
fastapi_cli = requires(FASTAPI_CLI, "the fastapi command (fastapi-cli) was added in FastAPI 0.111.0")
WORKERS = 2  # one lifecycle per core: two overlap, the next starts as soon as one is done


def project(root: Path) -> Path:
    """A project folder laid out as in the document: ``src/main.py`` holding ``app``."""
    (root / "src").mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("app.py"), root / "src" / "main.py")
    return root


def fastapi_command() -> str:
    """The ``fastapi`` console script of this very environment (the cell's), not one on PATH."""
    path = Path(sysconfig.get_path("scripts")) / "fastapi"
    # FastAPI 0.111.x relied on fastapi-cli for this script; fastapi-cli 0.0.9 stopped shipping it.
    assert path.exists(), f"no fastapi command in this environment ({path})"
    return str(path)


def uvicorn_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "src.main:app", "--host", "127.0.0.1", "--port", str(port)]


def fastapi_run_argv(port: int) -> list[str]:
    # fastapi run listens on 0.0.0.0 by default; keep the test on loopback.
    return [fastapi_command(), "run", "src/main.py", "--host", "127.0.0.1", "--port", str(port)]


def fastapi_dev_argv(port: int) -> list[str]:
    # The reloader spawns the server as a child: serve() stops the whole process group.
    return [fastapi_command(), "dev", "src/main.py", "--host", "127.0.0.1", "--port", str(port)]


def gunicorn_argv(worker_class: str) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "src.main:app", "-w", "1",
            "-k", worker_class, "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip

    return argv


# test name -> (what must be installed for the test to apply, the command for a port)
COMMANDS: dict[str, tuple[str | None, Callable[[int], list[str]]]] = {
    "test_uvicorn_serves_then_stops": (None, uvicorn_argv),
    "test_fastapi_run_serves_then_stops": (FASTAPI_CLI, fastapi_run_argv),
    "test_fastapi_dev_serves_then_stops": (FASTAPI_CLI, fastapi_dev_argv),
    "test_gunicorn_with_uvicorn_workers_serves_then_stops": (None, gunicorn_argv("uvicorn.workers.UvicornWorker")),
    "test_gunicorn_with_uvicorn_worker_package_serves_then_stops": (
        UVICORN_WORKER,
        gunicorn_argv("uvicorn_worker.UvicornWorker"),
    ),
}


@dataclass
class Lifecycle:
    status: int
    body: object
    stopped_gracefully: bool | None
    log_tail: str


def lifecycle(argv_for: Callable[[int], list[str]], workdir: Path) -> Lifecycle:
    """Start the command in a fresh project, send one request, SIGTERM it and wait for the exit."""
    root = project(workdir / "project")  # the server log stays outside, away from the reloader's watch
    port = free_port()
    with serve(argv_for(port), cwd=root, port=port, log=workdir / "server.log") as server:
        response = httpx.get(server.url + "/", timeout=10.0)
    return Lifecycle(response.status_code, response.json(), server.stopped_gracefully, server.log_tail())


@pytest.fixture(scope="module")
def lifecycles(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Every selected, applicable command's lifecycle, submitted in test order to a pool of two."""
    selected = [item.name for item in request.session.items if getattr(item, "module", None) is request.module]
    futures: dict[str, Future] = {}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="lifecycle") as pool:
        for name in selected:
            if name not in COMMANDS:
                continue
            needs, argv_for = COMMANDS[name]
            if needs is not None and not has(needs):
                continue  # the test is n/a here (its requires() marker skips it)
            futures[name] = pool.submit(lifecycle, argv_for, tmp_path_factory.mktemp(name.removeprefix("test_")))
        yield futures
        for future in futures.values():
            future.cancel()  # a test that was not reached: do not start its command at all


def check_serves_then_stops(lifecycles: dict[str, Future], name: str) -> None:
    observed: Lifecycle = lifecycles[name].result()  # re-raises what the lifecycle raised, unchanged
    assert observed.status == 200
    assert observed.body == GREETING
    assert observed.stopped_gracefully, f"still running 10 s after SIGTERM; output:\n{observed.log_tail}"


@pytest.mark.pattern("python -m uvicorn src.main:app --host ... --port ...")
def test_uvicorn_serves_then_stops(lifecycles: dict[str, Future]) -> None:
    check_serves_then_stops(lifecycles, "test_uvicorn_serves_then_stops")


@fastapi_cli
@pytest.mark.pattern("fastapi run src/main.py --port ...")
def test_fastapi_run_serves_then_stops(lifecycles: dict[str, Future]) -> None:
    check_serves_then_stops(lifecycles, "test_fastapi_run_serves_then_stops")


@fastapi_cli
@pytest.mark.pattern("fastapi dev src/main.py --port ... (reloader + server child)")
def test_fastapi_dev_serves_then_stops(lifecycles: dict[str, Future]) -> None:
    check_serves_then_stops(lifecycles, "test_fastapi_dev_serves_then_stops")


@pytest.mark.pattern("gunicorn src.main:app -k uvicorn.workers.UvicornWorker (as documented)")
def test_gunicorn_with_uvicorn_workers_serves_then_stops(lifecycles: dict[str, Future]) -> None:
    check_serves_then_stops(lifecycles, "test_gunicorn_with_uvicorn_workers_serves_then_stops")


@requires(UVICORN_WORKER, "the uvicorn-worker package is not installed in this cell")
@pytest.mark.workaround("gunicorn -k uvicorn_worker.UvicornWorker (the uvicorn-worker package)")
def test_gunicorn_with_uvicorn_worker_package_serves_then_stops(lifecycles: dict[str, Future]) -> None:
    check_serves_then_stops(lifecycles, "test_gunicorn_with_uvicorn_worker_package_serves_then_stops")


@pytest.mark.bug
def test_documented_worker_module_is_deprecated() -> None:
    # The document's -k uvicorn.workers.UvicornWorker names a module uvicorn deprecated in 0.30.0.
    sys.modules.pop("uvicorn.workers", None)
    with pytest.warns(DeprecationWarning, match="uvicorn-worker"):
        importlib.import_module("uvicorn.workers")
