"""A real uvicorn server on 127.0.0.1 in a thread, always stopped, bounded in time."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from known_issues.casekit import CodeRaised, Reason, SuiteFault

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port chosen by the OS, no race with other tests
    port = sock.getsockname()[1]
    # log_config=None: do not let uvicorn reconfigure logging of the whole test process.
    # log_level="critical": the failing commit is expected; formatting its traceback in the server
    # thread while pytest formats one in the main thread trips CPython 3.11.7's "AST constructor
    # recursion depth mismatch" (gh-106905, fixed in 3.11.8) and aborts the whole cell.
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                # The port is ours already: stopping during startup is the app's lifespan failing.
                raise CodeRaised("uvicorn stopped during startup (the app's lifespan failed)")
            if time.monotonic() > deadline:
                raise SuiteFault(Reason.TIMEOUT, f"uvicorn did not start within {START_TIMEOUT:g}s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        sock.close()
