"""Each documented way to start the app, run as a real process: it must serve, then stop on SIGTERM.

Commands follow the document (``src/main.py`` / ``src.main:app``) but bind 127.0.0.1 on a free
port and use one gunicorn worker, so nothing is exposed and the machine is not overloaded.
"""

import importlib
import shutil
import sys
import sysconfig
from pathlib import Path

import httpx
import pytest

from known_issues.casekit import requires
from known_issues.serving import free_port, serve

from .app import GREETING

fastapi_cli = requires("fastapi>=0.111.0", "the fastapi command (fastapi-cli) was added in FastAPI 0.111.0")


def project(tmp_path: Path) -> Path:
    """A project folder laid out as in the document: ``src/main.py`` holding ``app``."""
    root = tmp_path / "project"  # the server log stays outside, away from the reloader's watch
    (root / "src").mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("app.py"), root / "src" / "main.py")
    return root


def fastapi_command() -> str:
    """The ``fastapi`` console script of this very environment (the cell's), not one on PATH."""
    path = Path(sysconfig.get_path("scripts")) / "fastapi"
    # FastAPI 0.111.x relied on fastapi-cli for this script; fastapi-cli 0.0.9 stopped shipping it.
    assert path.exists(), f"no fastapi command in this environment ({path})"
    return str(path)


def check_serves_then_stops(argv: list[str], tmp_path: Path, port: int) -> None:
    root = project(tmp_path)
    with serve(argv, cwd=root, port=port, log=tmp_path / "server.log") as server:
        response = httpx.get(server.url + "/", timeout=10.0)
        assert response.status_code == 200
        assert response.json() == GREETING
    assert server.stopped_gracefully, f"still running 10 s after SIGTERM; output:\n{server.log_tail()}"


@pytest.mark.pattern("python -m uvicorn src.main:app --host ... --port ...")
def test_uvicorn_serves_then_stops(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "src.main:app", "--host", "127.0.0.1", "--port", str(port)]
    check_serves_then_stops(argv, tmp_path, port)


@fastapi_cli
@pytest.mark.pattern("fastapi run src/main.py --port ...")
def test_fastapi_run_serves_then_stops(tmp_path: Path) -> None:
    port = free_port()
    # fastapi run listens on 0.0.0.0 by default; keep the test on loopback.
    argv = [fastapi_command(), "run", "src/main.py", "--host", "127.0.0.1", "--port", str(port)]
    check_serves_then_stops(argv, tmp_path, port)


@fastapi_cli
@pytest.mark.pattern("fastapi dev src/main.py --port ... (reloader + server child)")
def test_fastapi_dev_serves_then_stops(tmp_path: Path) -> None:
    port = free_port()
    # The reloader spawns the server as a child: serve() stops the whole process group.
    argv = [fastapi_command(), "dev", "src/main.py", "--host", "127.0.0.1", "--port", str(port)]
    check_serves_then_stops(argv, tmp_path, port)


@pytest.mark.pattern("gunicorn src.main:app -k uvicorn.workers.UvicornWorker (as documented)")
def test_gunicorn_with_uvicorn_workers_serves_then_stops(tmp_path: Path) -> None:
    port = free_port()
    argv = [
        sys.executable, "-m", "gunicorn", "src.main:app", "-w", "1",
        "-k", "uvicorn.workers.UvicornWorker", "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    check_serves_then_stops(argv, tmp_path, port)


@requires("uvicorn-worker>=0.1.0", "the uvicorn-worker package is not installed in this cell")
@pytest.mark.workaround("gunicorn -k uvicorn_worker.UvicornWorker (the uvicorn-worker package)")
def test_gunicorn_with_uvicorn_worker_package_serves_then_stops(tmp_path: Path) -> None:
    port = free_port()
    argv = [
        sys.executable, "-m", "gunicorn", "src.main:app", "-w", "1",
        "-k", "uvicorn_worker.UvicornWorker", "--bind", f"127.0.0.1:{port}",
    ]  # fmt: skip
    check_serves_then_stops(argv, tmp_path, port)


@pytest.mark.bug
def test_documented_worker_module_is_deprecated() -> None:
    # The document's -k uvicorn.workers.UvicornWorker names a module uvicorn deprecated in 0.30.0.
    sys.modules.pop("uvicorn.workers", None)
    with pytest.warns(DeprecationWarning, match="uvicorn-worker"):
        importlib.import_module("uvicorn.workers")
