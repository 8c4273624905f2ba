"""serve(): a server of someone else on our port is a port clash of the suite, never our server's answer."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from known_issues.cell import serving
from known_issues.cell.classify import SuiteFault
from known_issues.cell.listeners import listened_by_group
from known_issues.cell.serving import _with_port, free_port, serve
from known_issues.cell.verdicts import Reason

# Slow to start like `fastapi dev` on a loaded machine: it binds only after the other server answers.
SLOW_SERVER = (
    "import http.server, sys, time; time.sleep(1.5); "
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()"
)


@pytest.fixture
def other_server(tmp_path: Path) -> Iterator[int]:
    """Another cell's server, started in a process group of its own, already answering on the port."""
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with serve(argv, cwd=tmp_path, port=port, log=tmp_path / "other.log"):
        yield port


def test_a_port_taken_by_another_server_is_a_port_clash(tmp_path: Path, other_server: int) -> None:
    # The port is inside the program text, not an argument of its own: serve() cannot move it.
    argv = [sys.executable, "-c", SLOW_SERVER.replace("int(sys.argv[1])", str(other_server))]
    with pytest.raises(SuiteFault) as raised, serve(argv, cwd=tmp_path, port=other_server, log=tmp_path / "ours.log"):
        pytest.fail("the other server's answer was taken for ours")
    assert raised.value.reason is Reason.PORT
    assert "Address already in use" in str(raised.value)


def test_a_port_clash_starts_the_server_again_on_a_free_port(tmp_path: Path, other_server: int) -> None:
    argv = [sys.executable, "-c", SLOW_SERVER, str(other_server)]
    with serve(argv, cwd=tmp_path, port=other_server, log=tmp_path / "ours.log") as ours:
        assert ours.port != other_server
        assert listened_by_group(ours.port, ours.process.pid) is True
        assert ours.process.args[-1] == str(ours.port)
    log = (tmp_path / "ours.log").read_text()
    assert "Address already in use" in log  # the first attempt's output is kept
    assert f"port {other_server} was taken by another server; starting again on {ours.port}" in log


@pytest.mark.parametrize(
    ("argv", "moved"),
    [
        (["uvicorn", "--port", "8123"], ["uvicorn", "--port", "9000"]),
        (["gunicorn", "--bind", "127.0.0.1:8123"], ["gunicorn", "--bind", "127.0.0.1:9000"]),
        (["fastapi", "run", "--port=8123"], ["fastapi", "run", "--port=9000"]),
        (["x", "18123", "127.0.0.1:18123", "--port=81234"], ["x", "18123", "127.0.0.1:18123", "--port=81234"]),
    ],
)
def test_only_the_port_itself_is_moved(argv: list[str], moved: list[str]) -> None:
    assert _with_port(argv, 8123, 9000) == moved


def test_the_listener_is_told_by_its_process_group(tmp_path: Path, other_server: int) -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True) as idle:
        try:
            assert listened_by_group(other_server, idle.pid) is False
        finally:
            idle.kill()
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with serve(argv, cwd=tmp_path, port=port, log=tmp_path / "ours.log") as ours:
        assert listened_by_group(port, ours.process.pid) is True


def test_the_environment_is_copied_whole_though_a_key_goes_while_it_is_copied(monkeypatch: pytest.MonkeyPatch) -> None:
    class Racing(dict):  # type: ignore[type-arg]
        """PYTEST_CURRENT_TEST is listed, then deleted by the main thread before it is read (once)."""

        raced = False

        def __getitem__(self, key: str) -> str:
            if key == "PYTEST_CURRENT_TEST" and not Racing.raced:
                Racing.raced = True
                raise KeyError(key)
            return str(super().__getitem__(key))

    def same(text: str) -> str:
        return text

    data = Racing({"HOME": "/root", "PYTEST_CURRENT_TEST": "cases/x.py::test_y (call)"})
    monkeypatch.setattr(os, "environ", os._Environ(data, same, same, same, same))  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        dict(os.environ)  # what a copy key by key meets
    Racing.raced = False
    assert serving.environ_now() == {"HOME": "/root", "PYTEST_CURRENT_TEST": "cases/x.py::test_y (call)"}
    assert Racing.raced
