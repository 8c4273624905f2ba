"""Minimal app: a blocking sleep inside ``async def`` and the three documented ways around it.

Served by a real uvicorn process (``app:app`` from this folder), so it imports nothing relative.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI

# Every route waits this long; the tests compare wall times against it.
DELAY = 0.3

app = FastAPI()

# The document's third fix hands the blocking call to its own executor.
executor = ThreadPoolExecutor()


def blocking_work() -> str:
    time.sleep(DELAY)
    return "done"


@app.get("/")
async def root() -> dict[str, str]:
    return {"status": "ready"}


@app.get("/async-time-sleep")
async def async_time_sleep() -> dict[str, str]:
    # Blocks the event loop: no other request is served meanwhile.
    return {"result": blocking_work()}


@app.get("/async-asyncio-sleep")
async def async_asyncio_sleep() -> dict[str, str]:
    await asyncio.sleep(DELAY)
    return {"result": "done"}


@app.get("/def-time-sleep")
def def_time_sleep() -> dict[str, str]:
    # A plain def route runs in FastAPI's threadpool, off the event loop.
    return {"result": blocking_work()}


@app.get("/async-run-in-executor")
async def async_run_in_executor() -> dict[str, str]:
    result = await asyncio.get_event_loop().run_in_executor(executor, blocking_work)
    return {"result": result}
