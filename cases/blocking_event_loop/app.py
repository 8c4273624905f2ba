"""The guide's blocking calls in routes, its three fixes, and the probes that show who waits for whom.

Served by a real uvicorn process (``app:app`` from this folder), so it imports nothing relative.

Each route under test is a *held* request: it starts, does its blocking (or awaited) work, ends.
A *partner* request (``/partner/{key}``, an ``async def`` route like any other) is sent next to
it. The server logs, per key, in order: ``start`` and ``end`` of the held request and ``partner``
when the partner was served. The partner is served only once the held request has started, so
the log alone says whether the event loop served another request while the held one was in its
blocking part: ``[start, partner, end]`` (it did) or ``[start, end, partner]`` (it did not).

- A blocking call inside ``async def`` runs on the loop's thread: nothing else can run on the loop
  until it returns, so no partner can come between start and end, however long it lasts.
- Where the guide's fix works, the held request waits for the partner (a rendezvous, bounded by
  ``limit`` seconds only for when it never comes): the log then shows the overlap, whatever the
  speed of the machine. A fix that does not free the loop can only end by its limit, unserved.
- Work that cannot wait for anyone (one long call into a builtin) is judged by a ticker: an
  asyncio task that counts loop iterations, and the iterations it saw while the call was running.

Executors are sized explicitly: ours (the guide's run_in_executor fix) has 2 workers, and the
threadpool that runs ``def`` routes (anyio's default limiter, 40 tokens unless set) gets 8 tokens
in the lifespan. Every probe needs one worker thread at a time.
"""

import asyncio
import collections
import functools
import math
import operator
import sqlite3
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import anyio.to_thread
from fastapi import Depends, FastAPI

# How long the guide's blocking call lasts; the verdict does not depend on it (nothing can come
# between start and end of a blocking call on the loop), only the cost of the test does.
DELAY = 0.1
# How often a waiting request looks at its rendezvous; only latency depends on it.
POLL = 0.002
THREADPOOL_TOKENS = 8
EXECUTOR_WORKERS = 2
# math.factorial of this takes some tens of milliseconds in one call that never releases the GIL.
FACTORIAL_OF = 20_000

# The document's third fix hands the blocking call to its own executor (sized, unlike the guide's).
executor = ThreadPoolExecutor(max_workers=EXECUTOR_WORKERS)


# --- The server's log and the rendezvous (ours) ---------------------------------------------

log: dict[str, list[str]] = {}
served: dict[str, threading.Event] = {}
db_path = Path()


def events(key: str) -> list[str]:
    # dict.setdefault is one C call: two threads asking at once get the same list (and Event).
    return log.setdefault(key, [])


def partner_served(key: str) -> threading.Event:
    return served.setdefault(key, threading.Event())


def note(key: str, event: str) -> None:
    events(key).append(event)  # list.append is atomic under the GIL: safe from worker threads too


def wait_for_partner_blocking(key: str, limit: float) -> None:
    """The blocking wait: time.sleep until the partner was served (at most ``limit`` seconds)."""
    deadline = time.monotonic() + limit
    flag = partner_served(key)
    while not flag.is_set() and time.monotonic() < deadline:
        time.sleep(POLL)


async def wait_for_partner_awaiting(key: str, limit: float) -> None:
    """The awaited wait: asyncio.sleep until the partner was served (at most ``limit`` seconds)."""
    deadline = time.monotonic() + limit
    flag = partner_served(key)
    while not flag.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(POLL)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global db_path
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADPOOL_TOKENS
    tmp = tempfile.TemporaryDirectory()
    db_path = Path(tmp.name) / "app.db"
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY)")
    conn.close()
    yield
    executor.shutdown(wait=False, cancel_futures=True)
    tmp.cleanup()


app = FastAPI(lifespan=lifespan)


@app.get("/")
async def root() -> dict[str, str]:
    return {"status": "ready"}


@app.get("/limits")
async def limits() -> dict[str, Any]:
    return {
        "threadpool_tokens": anyio.to_thread.current_default_thread_limiter().total_tokens,
        "executor_workers": executor._max_workers,
    }


@app.get("/log/{key}")
async def read_log(key: str) -> list[str]:
    return events(key)


@app.get("/partner/{key}")
async def partner(key: str, limit: float) -> dict[str, bool]:
    # Served only once the held request has started, so "partner" always comes after "start".
    deadline = time.monotonic() + limit
    while "start" not in events(key) and time.monotonic() < deadline:
        await asyncio.sleep(POLL)
    started = "start" in events(key)
    note(key, "partner")
    partner_served(key).set()
    release_lock(key)
    return {"held_request_had_started": started}


# --- The guide's wrong code: a blocking call inside async def -------------------------------


@app.get("/async-time-sleep/{key}")
async def async_time_sleep(key: str, limit: float) -> dict[str, str]:
    note(key, "start")
    time.sleep(DELAY)  # the guide's blocking call, on the event loop's thread
    note(key, "end")
    return {"result": "done"}


# --- The guide's fixes: await, def (threadpool), run_in_executor ------------------------------


@app.get("/async-asyncio-sleep/{key}")
async def async_asyncio_sleep(key: str, limit: float) -> dict[str, str]:
    note(key, "start")
    await wait_for_partner_awaiting(key, limit)  # await asyncio.sleep(...) instead of time.sleep
    note(key, "end")
    return {"result": "done"}


@app.get("/def-time-sleep/{key}")
def def_time_sleep(key: str, limit: float) -> dict[str, str]:
    # A plain def route: FastAPI runs it in its threadpool, the same time.sleep off the loop.
    note(key, "start")
    wait_for_partner_blocking(key, limit)
    note(key, "end")
    return {"result": "done"}


@app.get("/async-run-in-executor/{key}")
async def async_run_in_executor(key: str, limit: float) -> dict[str, str]:
    note(key, "start")
    await asyncio.get_event_loop().run_in_executor(executor, wait_for_partner_blocking, key, limit)
    note(key, "end")
    return {"result": "done"}


# --- Under load: several held requests at once (the guide's production symptoms) -------------
#
# Each request of a group logs "start" and "end" under the group and waits until every request of
# the group has started (at most `limit` seconds): blocking with time.sleep, or awaiting. Where the
# loop is free, all of them start before any ends; where it is blocked, each waits out its limit
# alone and the next starts only after it ended.


def wait_for_group_blocking(group: str, size: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while events(group).count("start") < size and time.monotonic() < deadline:
        time.sleep(POLL)


async def wait_for_group_awaiting(group: str, size: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while events(group).count("start") < size and time.monotonic() < deadline:
        await asyncio.sleep(POLL)


@app.get("/load/async-time-sleep/{group}")
async def load_async_time_sleep(group: str, size: int, limit: float) -> dict[str, str]:
    note(group, "start")
    wait_for_group_blocking(group, size, limit)  # a small blocking call, in every request
    note(group, "end")
    return {"result": "done"}


@app.get("/load/async-asyncio-sleep/{group}")
async def load_async_asyncio_sleep(group: str, size: int, limit: float) -> dict[str, str]:
    note(group, "start")
    await wait_for_group_awaiting(group, size, limit)
    note(group, "end")
    return {"result": "done"}


# --- A database query that waits: sync sqlite3 vs the async driver the guide recommends -------
#
# The query waits for a lock that another connection holds (an everyday cause of a slow query;
# both connections wait up to 60 s for it). The partner releases the lock when it is served; a
# timer releases it after `limit` seconds in case the partner cannot be served meanwhile.
# The async side is aiosqlite, the driver under the guide's `sqlite+aiosqlite` AsyncSession
# (SQLAlchemy's async layer adds no concurrency of its own and costs a second of import here).

lock_holders: dict[str, sqlite3.Connection] = {}
lock_guard = threading.Lock()


def hold_lock(key: str, limit: float) -> None:
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    with lock_guard:
        lock_holders[key] = holder
    timer = threading.Timer(limit, release_lock, args=(key,))
    timer.daemon = True
    timer.start()


def release_lock(key: str) -> None:
    with lock_guard:
        holder = lock_holders.pop(key, None)
    if holder is not None:
        holder.rollback()
        holder.close()


@app.get("/async-sync-sqlite/{key}")
async def async_sync_sqlite(key: str, limit: float) -> dict[str, int]:
    hold_lock(key, limit)
    note(key, "start")
    # The guide's "sync database client" inside async def: sqlite3 waits for the lock right here.
    conn = sqlite3.connect(db_path, timeout=60)
    try:
        count = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    finally:
        conn.close()
    note(key, "end")
    return {"count": count}


@app.get("/async-async-driver/{key}")
async def async_async_driver(key: str, limit: float) -> dict[str, int]:
    hold_lock(key, limit)
    note(key, "start")
    # The guide's RIGHT 1: the async driver (aiosqlite, under its AsyncSession), awaited.
    async with aiosqlite.connect(db_path, timeout=60) as db:
        async with db.execute("SELECT count(*) FROM items") as cursor:
            row = await cursor.fetchone()
    count = row[0] if row else -1
    note(key, "end")
    return {"count": count}


# --- CPU-bound work in a def route (the guide's RIGHT 2) --------------------------------------


@app.get("/def-cpu-python-loop/{key}")
def def_cpu_python_loop(key: str, limit: float) -> dict[str, int]:
    # Pure-Python CPU work (bytecode, no I/O, no sleep) that runs until the partner was served.
    note(key, "start")
    deadline = time.monotonic() + limit
    total = iterations = 0
    flag = partner_served(key)
    while not flag.is_set():
        total = (total + iterations * iterations) % 1_000_003
        iterations += 1
        if iterations % 100_000 == 0 and time.monotonic() > deadline:
            break
    note(key, "end")
    return {"iterations": iterations}


class Ticker:
    """Ours: a task that only yields, counting loop iterations, and those seen during the work."""

    def __init__(self) -> None:
        self.ticks = 0
        self.during_work = 0
        self.state = {"working": False}

    async def run(self) -> None:
        while True:
            self.ticks += 1
            if self.state["working"]:
                self.during_work += 1
            await asyncio.sleep(0)


async def ticking() -> AsyncIterator[Ticker]:
    ticker = Ticker()
    task = asyncio.get_running_loop().create_task(ticker.run())
    try:
        yield ticker
    finally:
        task.cancel()


@app.get("/def-cpu-builtin/{key}")
def def_cpu_builtin(key: str, limit: float, ticker: Ticker = Depends(ticking)) -> dict[str, int]:
    # Rendezvous: the loop must be seen ticking while this worker thread runs.
    deadline = time.monotonic() + limit
    seen = ticker.ticks
    while ticker.ticks == seen and time.monotonic() < deadline:
        time.sleep(POLL)
    ticks_before = ticker.ticks
    # The guide's `expensive_cpu_work()`: here one call into C that never releases the GIL (a big
    # factorial; a large sort, a regex over a long text or json.dumps of a big payload are alike).
    # Marking it, doing it and unmarking it are C calls made by C (map over partials): no
    # bytecode runs in between, so this thread cannot hand the GIL over outside the work itself.
    steps = (
        functools.partial(ticker.state.__setitem__, "working", True),
        functools.partial(math.factorial, FACTORIAL_OF),
        functools.partial(ticker.state.__setitem__, "working", False),
    )
    collections.deque(map(operator.methodcaller("__call__"), steps), maxlen=0)
    return {"ticks_before_work": ticks_before, "ticks_during_work": ticker.during_work}
