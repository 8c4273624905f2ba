"""N concurrent requests against a real uvicorn server: serialised only when the loop is blocked.

Only ratios are asserted (against the serial time N*DELAY or against a measured baseline), so a
loaded machine slows every figure alike and no verdict depends on absolute speed.
"""

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from known_issues.serving import Server, free_port, serve

from .app import DELAY

CONCURRENT = 6
SERIAL_TIME = CONCURRENT * DELAY


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    with serve(argv, cwd=Path(__file__).parent, port=port, log=log) as running:
        yield running


def wall_time(server: Server, path: str) -> float:
    """Seconds for CONCURRENT simultaneous GETs to all come back."""

    async def run() -> float:
        limits = httpx.Limits(max_connections=CONCURRENT)
        async with httpx.AsyncClient(base_url=server.url, timeout=30.0, limits=limits) as client:
            start = time.perf_counter()
            responses = await asyncio.gather(*(client.get(path) for _ in range(CONCURRENT)))
            elapsed = time.perf_counter() - start
        assert [r.status_code for r in responses] == [200] * CONCURRENT
        assert [r.json() for r in responses] == [{"result": "done"}] * CONCURRENT
        return elapsed

    return asyncio.run(run())


@pytest.mark.bug
def test_time_sleep_in_async_route_serialises_requests(server: Server) -> None:
    blocked = wall_time(server, "/async-time-sleep")
    baseline = wall_time(server, "/async-asyncio-sleep")
    # The documented symptom: requests are answered one after another.
    assert blocked >= 0.7 * SERIAL_TIME, f"blocked={blocked:.2f}s serial={SERIAL_TIME:.2f}s"
    assert blocked >= 2.5 * baseline, f"blocked={blocked:.2f}s baseline={baseline:.2f}s"


@pytest.mark.workaround("await asyncio.sleep instead of time.sleep")
def test_asyncio_sleep_keeps_requests_concurrent(server: Server) -> None:
    elapsed = wall_time(server, "/async-asyncio-sleep")
    assert elapsed <= 0.5 * SERIAL_TIME, f"elapsed={elapsed:.2f}s serial={SERIAL_TIME:.2f}s"


@pytest.mark.workaround("plain def route: FastAPI runs it in the threadpool")
def test_def_route_keeps_requests_concurrent(server: Server) -> None:
    elapsed = wall_time(server, "/def-time-sleep")
    assert elapsed <= 0.5 * SERIAL_TIME, f"elapsed={elapsed:.2f}s serial={SERIAL_TIME:.2f}s"


@pytest.mark.workaround("run_in_executor with a ThreadPoolExecutor")
def test_run_in_executor_keeps_requests_concurrent(server: Server) -> None:
    elapsed = wall_time(server, "/async-run-in-executor")
    assert elapsed <= 0.5 * SERIAL_TIME, f"elapsed={elapsed:.2f}s serial={SERIAL_TIME:.2f}s"
