"""Each documented way to start the app, run as a real process: does it answer, does it stop on SIGTERM.

Commands address the app as the document does (``src/main.py`` / ``src.main:app``) but run from the
cell's environment, bind 127.0.0.1 on a free port and use one gunicorn worker (the case's
[[deviations]]). Each command has two tests: it answers (what the document's words claim) and it
exits on SIGTERM (the case's own check); both read the one lifecycle of that command.

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
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dirty_equals import IsStr

from known_issues.casekit import answer, bug_or_fixed, has, requires
from known_issues.serving import console_script, free_port, serve

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


def uvicorn_argv(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "src.main:app", "--host", "127.0.0.1", "--port", str(port)]


def fastapi_run_argv(port: int) -> list[str]:
    # fastapi run listens on 0.0.0.0 by default; keep the test on loopback.
    return [
        console_script("fastapi", "fastapi", "fastapi-cli"),
        "run",
        "src/main.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def fastapi_dev_argv(port: int) -> list[str]:
    # The reloader spawns the server as a child: serve() stops the whole process group.
    return [
        console_script("fastapi", "fastapi", "fastapi-cli"),
        "dev",
        "src/main.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def gunicorn_argv(worker_class: str) -> Callable[[int], list[str]]:
    def argv(port: int) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "src.main:app", "-w", "1",
            "-k", worker_class, "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip

    return argv


# command -> (what must be installed for it to apply, the command for a port)
COMMANDS: dict[str, tuple[str | None, Callable[[int], list[str]]]] = {
    "uvicorn": (None, uvicorn_argv),
    "fastapi_run": (FASTAPI_CLI, fastapi_run_argv),
    "fastapi_dev": (FASTAPI_CLI, fastapi_dev_argv),
    "gunicorn_uvicorn_workers": (None, gunicorn_argv("uvicorn.workers.UvicornWorker")),
    "gunicorn_uvicorn_worker_package": (UVICORN_WORKER, gunicorn_argv("uvicorn_worker.UvicornWorker")),
}

# uvicorn.workers' own warning (uvicorn 0.30.0 to today): a DeprecationWarning about the module.
# Its sentence ("The `uvicorn.workers` module is deprecated. Please use `uvicorn-worker` package
# instead. ...") is uvicorn's wording, shown when the warning differs.
WORKERS_DEPRECATED = IsStr(regex=r"(?s).*uvicorn\.workers.*")


def command_of(test_name: str) -> str | None:
    """``test_<command>_serves`` / ``test_<command>_stops_on_sigterm`` -> ``<command>``."""
    for suffix in ("_serves", "_stops_on_sigterm"):
        command = test_name.removeprefix("test_").removesuffix(suffix)
        if test_name.endswith(suffix) and command in COMMANDS:
            return command
    return None


@dataclass
class Lifecycle:
    answer: dict[str, object]  # what the one request got, {"status": ..., "body": ...}
    stopped_gracefully: bool | None
    log_tail: str


def lifecycle(argv_for: Callable[[int], list[str]], workdir: Path) -> Lifecycle:
    """Start the command in a fresh project, send one request, SIGTERM it and wait for the exit."""
    root = project(workdir / "project")  # the server log stays outside, away from the reloader's watch
    port = free_port()
    with serve(argv_for(port), cwd=root, port=port, log=workdir / "server.log") as server:
        response = httpx.get(server.url + "/", timeout=10.0, trust_env=False)
    return Lifecycle(answer(response), server.stopped_gracefully, server.log_tail())


@pytest.fixture(scope="module")
def lifecycles(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Every selected, applicable command's lifecycle (once for its two tests), in test order, in a pool of two."""
    selected = [item.name for item in request.session.items if getattr(item, "module", None) is request.module]
    futures: dict[str, Future] = {}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="lifecycle") as pool:
        for name in selected:
            command = command_of(name)
            if command is None or command in futures:
                continue
            needs, argv_for = COMMANDS[command]
            if needs is not None and not has(needs):
                continue  # its tests are n/a here (their requires() marker skips them)
            futures[command] = pool.submit(lifecycle, argv_for, tmp_path_factory.mktemp(command))
        yield futures
        for future in futures.values():
            future.cancel()  # a test that was not reached: do not start its command at all


def check_serves(lifecycles: dict[str, Future], command: str) -> None:
    observed: Lifecycle = lifecycles[command].result()  # re-raises what the lifecycle raised, unchanged
    assert observed.answer == {"status": 200, "body": GREETING}, observed.log_tail


def check_stops_on_sigterm(lifecycles: dict[str, Future], command: str) -> None:
    observed: Lifecycle = lifecycles[command].result()
    assert observed.stopped_gracefully, f"still running 10 s after SIGTERM; output:\n{observed.log_tail}"


@pytest.mark.pattern("uvicorn src.main:app --host ... --port ... answers")
def test_uvicorn_serves(lifecycles: dict[str, Future]) -> None:
    check_serves(lifecycles, "uvicorn")


@pytest.mark.pattern("ours: uvicorn src.main:app exits on SIGTERM within 10 s")
def test_uvicorn_stops_on_sigterm(lifecycles: dict[str, Future]) -> None:
    check_stops_on_sigterm(lifecycles, "uvicorn")


@fastapi_cli
@pytest.mark.pattern("ours: fastapi run src/main.py answers (the guide does not name fastapi run)")
def test_fastapi_run_serves(lifecycles: dict[str, Future]) -> None:
    check_serves(lifecycles, "fastapi_run")


@fastapi_cli
@pytest.mark.pattern("ours: fastapi run src/main.py exits on SIGTERM within 10 s")
def test_fastapi_run_stops_on_sigterm(lifecycles: dict[str, Future]) -> None:
    check_stops_on_sigterm(lifecycles, "fastapi_run")


@fastapi_cli
@pytest.mark.pattern("fastapi dev src/main.py answers (reloader + server child)")
def test_fastapi_dev_serves(lifecycles: dict[str, Future]) -> None:
    check_serves(lifecycles, "fastapi_dev")


@fastapi_cli
@pytest.mark.pattern("ours: fastapi dev src/main.py (reloader and its child) exits on SIGTERM within 10 s")
def test_fastapi_dev_stops_on_sigterm(lifecycles: dict[str, Future]) -> None:
    check_stops_on_sigterm(lifecycles, "fastapi_dev")


@pytest.mark.pattern("gunicorn src.main:app -k uvicorn.workers.UvicornWorker answers")
def test_gunicorn_uvicorn_workers_serves(lifecycles: dict[str, Future]) -> None:
    check_serves(lifecycles, "gunicorn_uvicorn_workers")


@pytest.mark.pattern("ours: gunicorn -k uvicorn.workers.UvicornWorker exits on SIGTERM within 10 s")
def test_gunicorn_uvicorn_workers_stops_on_sigterm(lifecycles: dict[str, Future]) -> None:
    check_stops_on_sigterm(lifecycles, "gunicorn_uvicorn_workers")


@requires(UVICORN_WORKER, "the uvicorn-worker package is not installed in this cell")
@pytest.mark.workaround("ours: gunicorn -k uvicorn_worker.UvicornWorker (the uvicorn-worker package) answers")
def test_gunicorn_uvicorn_worker_package_serves(lifecycles: dict[str, Future]) -> None:
    check_serves(lifecycles, "gunicorn_uvicorn_worker_package")


@requires(UVICORN_WORKER, "the uvicorn-worker package is not installed in this cell")
@pytest.mark.workaround("ours: gunicorn -k uvicorn_worker.UvicornWorker exits on SIGTERM within 10 s")
def test_gunicorn_uvicorn_worker_package_stops_on_sigterm(lifecycles: dict[str, Future]) -> None:
    check_stops_on_sigterm(lifecycles, "gunicorn_uvicorn_worker_package")


@requires("uvicorn>=0.30.0", "uvicorn deprecated its uvicorn.workers module in 0.30.0 (encode/uvicorn#2302)")
@pytest.mark.bug
def test_documented_worker_module_is_deprecated() -> None:
    # The guide's -k uvicorn.workers.UvicornWorker names a module uvicorn deprecated in 0.30.0.
    # What it imports is imported first, so that only uvicorn.workers' own warnings are recorded.
    for dependency in ("gunicorn.arbiter", "gunicorn.workers.base", "uvicorn.config", "uvicorn.server"):
        importlib.import_module(dependency)
    sys.modules.pop("uvicorn.workers", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.import_module("uvicorn.workers")
    observed = [(w.category, str(w.message)) for w in caught]
    bug_or_fixed(observed, bug=[(DeprecationWarning, WORKERS_DEPRECATED)], fixed=[])
