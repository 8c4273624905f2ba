"""Blocking calls against a real uvicorn server, decided by the order of the server's own log.

No wall time is compared with anything: a held request and its partner are sent together, and
the server records ``start``/``end`` of the held request and when it served the partner (see
app.py). Time only bounds how long a rendezvous may wait for a partner that never comes.
"""

import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dirty_equals import IsInt

from known_issues.casekit import CodeRaised, Reason, SuiteFault, body, bug_or_fixed, lookup, precondition
from known_issues.serving import Server, free_port, serve

# Where a fix works, the held request ends as soon as the partner was served; this bound is only
# reached when the loop never serves the partner (a broken fix), or by a machine stalled for it.
RENDEZVOUS_LIMIT = 30.0
# A held request that blocks the loop cannot be overtaken, however long it blocks: keep it short.
BLOCKING_LIMIT = 0.1

OVERLAP = ["start", "partner", "end"]  # the partner was served while the held request waited
SERIAL = ["start", "end", "partner"]  # the partner was served only after the held request


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


@dataclass
class Probe:
    """The running server, one HTTP client, and two sending threads (a held request, its partner)."""

    server: Server
    http: httpx.Client
    senders: ThreadPoolExecutor

    def answered(self, response: httpx.Response) -> Any:
        # A route under test that fails answers 500 from the server's process: that is the code
        # under test crashing (never an assertion about the behaviour), with the server's output.
        if response.status_code != 200:
            raise CodeRaised(
                f"{response.request.url.path} answered {response.status_code} {response.text[:200]}; "
                f"server output:\n{self.server.log_tail()}"
            )
        return body(response)

    def held_with_partner(self, path: str, limit: float) -> tuple[Any, list[str]]:
        """Send the held request and its partner together; the held response and the server's log."""
        key = uuid.uuid4().hex
        held = self.senders.submit(self.http.get, f"{path}/{key}", params={"limit": limit})
        # The partner is served only after the held request started, whichever arrives first.
        partner = self.senders.submit(self.http.get, f"/partner/{key}", params={"limit": RENDEZVOUS_LIMIT})
        held_body = self.answered(held.result())
        partner_response = partner.result()
        if partner_response.status_code != 200 or body(partner_response) != {"held_request_had_started": True}:
            raise SuiteFault(Reason.HARNESS, f"the partner of {path} saw no start: {partner_response.text[:200]}")
        return held_body, body(self.http.get(f"/log/{key}"))


@pytest.fixture(scope="module")
def probe(server: Server) -> Iterator[Probe]:
    # Plain HTTP on 127.0.0.1: no proxies, and no CA bundle to load (verify=False).
    client = httpx.Client(base_url=server.url, timeout=2 * RENDEZVOUS_LIMIT, trust_env=False, verify=False)
    with client, ThreadPoolExecutor(max_workers=2) as senders:
        limits = body(client.get("/limits"))
        # Precondition: each probe needs one worker thread at a time, in pools sized by the app.
        if limits != {"threadpool_tokens": 8, "executor_workers": 2}:
            raise SuiteFault(Reason.PRECONDITION, f"unexpected thread pool sizes: {limits}")
        yield Probe(server, client, senders)


# --- The guide's wrong code ---------------------------------------------------------------------


def serial_or_overlap(held: Any, log: list[str], expected_body: Any) -> None:
    """A bug test's observation: the documented block (the partner served only after the held
    request ended), or the loop served the partner meanwhile (fixed); anything else is neither."""
    bug_or_fixed(
        {"body": held, "log": log},
        bug={"body": expected_body, "log": SERIAL},
        fixed={"body": expected_body, "log": OVERLAP},
    )


@pytest.mark.bug
def test_time_sleep_in_async_route_blocks_other_requests(probe: Probe) -> None:
    # The documented symptom: the partner, although sent together, waits for the whole sleep.
    held, log = probe.held_with_partner("/async-time-sleep", BLOCKING_LIMIT)
    serial_or_overlap(held, log, {"result": "done"})


@pytest.mark.bug
def test_sync_db_client_in_async_route_blocks_other_requests(probe: Probe) -> None:
    # sqlite3 waits for a lock inside async def; only the partner (or a timer) releases it.
    held, log = probe.held_with_partner("/async-sync-sqlite", BLOCKING_LIMIT)
    serial_or_overlap(held, log, {"count": 0})


# --- Under load: the guide's production symptoms ------------------------------------------------

LOADS = (2, 4)  # requests in flight at once


def in_flight(log: list[str]) -> dict[str, int]:
    """From a group's log: the most requests between their start and end at once, and how many had
    ended before the last one started (the blocking calls the last request waited behind)."""
    now = most = 0
    for event in log:
        now += 1 if event == "start" else -1
        most = max(most, now)
    starts = [i for i, event in enumerate(log) if event == "start"]
    last_start = starts[-1] if starts else 0
    return {"requests": len(starts), "most_at_once": most, "waited_behind": log[:last_start].count("end")}


def load(probe: Probe, path: str, size: int, limit: float) -> dict[str, int]:
    """``size`` requests of one group sent at once; what the server's log says about them."""
    group = uuid.uuid4().hex
    with ThreadPoolExecutor(max_workers=size) as senders:
        sent = [
            senders.submit(probe.http.get, f"{path}/{group}", params={"size": size, "limit": limit})
            for _ in range(size)
        ]
        bodies = [probe.answered(future.result()) for future in sent]
    if bodies != [{"result": "done"}] * size:
        raise SuiteFault(Reason.HARNESS, f"{path} answered {bodies}")
    return in_flight(body(probe.http.get(f"/log/{group}")))


@pytest.mark.bug
def test_blocking_route_serves_load_one_request_at_a_time(probe: Probe) -> None:
    # The control: the same loads on an awaiting route are all in flight at once, so the client
    # sends them together and the server can serve them together.
    for size in LOADS:
        awaited = load(probe, "/load/async-asyncio-sleep", size, RENDEZVOUS_LIMIT)
        precondition(
            awaited == {"requests": size, "most_at_once": size, "waited_behind": 0},
            f"{size} requests to an awaiting route were not in flight together: {awaited}",
        )
    # A small blocking call in every request: one request at a time however many are sent (the
    # throughput does not grow with the load), and the last one waits behind all the others (its
    # latency grows with the load).
    observed = {size: load(probe, "/load/async-time-sleep", size, BLOCKING_LIMIT) for size in LOADS}
    bug_or_fixed(
        observed,
        bug={size: {"requests": size, "most_at_once": 1, "waited_behind": size - 1} for size in LOADS},
        fixed={size: {"requests": size, "most_at_once": size, "waited_behind": 0} for size in LOADS},
    )


# --- The guide's fixes --------------------------------------------------------------------------


@pytest.mark.workaround("await asyncio.sleep instead of time.sleep")
def test_asyncio_sleep_serves_other_requests(probe: Probe) -> None:
    held, log = probe.held_with_partner("/async-asyncio-sleep", RENDEZVOUS_LIMIT)
    assert held == {"result": "done"}
    assert log == OVERLAP


@pytest.mark.workaround("plain def route: FastAPI runs it in the threadpool")
def test_def_route_serves_other_requests(probe: Probe) -> None:
    held, log = probe.held_with_partner("/def-time-sleep", RENDEZVOUS_LIMIT)
    assert held == {"result": "done"}
    assert log == OVERLAP


@pytest.mark.workaround("run_in_executor with a ThreadPoolExecutor")
def test_run_in_executor_serves_other_requests(probe: Probe) -> None:
    held, log = probe.held_with_partner("/async-run-in-executor", RENDEZVOUS_LIMIT)
    assert held == {"result": "done"}
    assert log == OVERLAP


@pytest.mark.workaround("async database driver: AsyncSession on aiosqlite, awaited")
def test_async_db_driver_serves_other_requests(probe: Probe) -> None:
    held, log = probe.held_with_partner("/async-async-driver", RENDEZVOUS_LIMIT)
    assert held == {"count": 0}
    assert log == OVERLAP


# --- CPU-bound work in a def route --------------------------------------------------------------


@pytest.mark.workaround("def route for CPU-bound work: pure-Python loop in the threadpool")
def test_def_route_python_cpu_loop_serves_other_requests(probe: Probe) -> None:
    # The GIL does not stop the loop here: CPython hands the GIL over every switch interval
    # (5 ms), so the loop thread still gets turns while the worker computes.
    held, log = probe.held_with_partner("/def-cpu-python-loop", RENDEZVOUS_LIMIT)
    assert held == {"iterations": IsInt(gt=0)}
    assert log == OVERLAP


@pytest.mark.bug
def test_def_route_cpu_in_one_builtin_call_freezes_the_loop(probe: Probe) -> None:
    # One call into C that holds the GIL (math.factorial) in a def route: the loop thread cannot
    # run a single iteration until it returns, threadpool or not.
    response = probe.http.get(f"/def-cpu-builtin/{uuid.uuid4().hex}", params={"limit": RENDEZVOUS_LIMIT})
    seen = probe.answered(response)
    if lookup(seen, "ticks_before_work") == 0:
        raise SuiteFault(Reason.TIMEOUT, "the server's loop never ticked before the work started")
    # Frozen: not one loop iteration during the call. Fixed: the loop ticked while it ran.
    bug_or_fixed(
        seen,
        bug={"ticks_before_work": IsInt(gt=0), "ticks_during_work": 0},
        fixed={"ticks_before_work": IsInt(gt=0), "ticks_during_work": IsInt(gt=0)},
    )
