"""Real server processes for case tests: a free port, a bounded readiness poll, always stopped.

A server that exits before answering is the documented command failing (``CodeRaised``), unless
its output shows a port clash or a missing tool, which are faults of the suite (``SuiteFault``);
one that never answers is a timeout of the suite. Standard library only, like the rest of what
cells import from the harness.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from known_issues.cell.casekit import installed
from known_issues.cell.classify import CodeRaised, SuiteFault
from known_issues.cell.listeners import listened_by_group
from known_issues.cell.verdicts import Reason

# Loopback requests must never go through a proxy configured in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_PORT_CLASH = ("address already in use", "errno 98")
READY_TIMEOUT = 30.0  # a cold import on a loaded 2-core machine can take several seconds
STOP_GRACE = 10.0


_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def console_script(name: str, *packages: str) -> str:
    """The console script ``name`` of this very environment (the cell's), never one on PATH.

    Missing, it is the documented command that is missing (``fastapi`` was fastapi-cli's script in
    FastAPI 0.111.x, and current fastapi-cli releases no longer install it): a failed assertion that
    names the installed version of each of ``packages``.
    """
    path = Path(sysconfig.get_path("scripts")) / name
    if not path.exists():
        versions = ", ".join(f"{p} {installed(p)}" for p in packages)
        raise AssertionError(f"no {name} command in this environment ({path})" + (f": {versions}" if versions else ""))
    return str(path)


def free_port() -> int:
    """A port nothing listens on, never one this process handed out before: servers started side by
    side (threads of one test) would otherwise race for the port the OS gave both."""
    with _handed_out_lock:
        while True:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    # Filled in when the context exits: did SIGTERM alone stop the main process in time?
    stopped_gracefully: bool | None = field(default=None)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@contextmanager
def serve(argv: Sequence[str], *, cwd: Path, port: int, log: Path, ready_path: str = "/") -> Iterator[Server]:
    """Start ``argv`` in a process group of its own and yield once ``ready_path`` answers.

    The whole group (a reloader's children included) is terminated on exit, then killed after
    a grace period, also when the test body failed. Start servers from the test's (main) thread:
    the kernel ties a server's life to the thread that started it.

    Another cell may bind ``port`` between ``free_port()`` and the server's own bind. The command is
    then started again on a new free port, up to PORT_ATTEMPTS times in all, with the port replaced
    in ``argv`` (as ``N``, ``host:N`` or ``--flag=N``): read the port from ``Server.port``.
    """
    argv = list(argv)
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            server = _start(argv, cwd, port, log, ready_path, append=attempt > 1)
            break
        except SuiteFault as exc:
            if exc.reason is not Reason.PORT or attempt == PORT_ATTEMPTS:
                raise
            new = free_port()
            moved = _with_port(argv, port, new)
            if moved == argv:
                raise  # the port is not in the command line: nothing to move
            with log.open("ab") as out:
                out.write(f"\n[serve] port {port} was taken by another server; starting again on {new}\n".encode())
            argv, port = moved, new
    try:
        yield server
    finally:
        server.stopped_gracefully = _stop(server.process)


PORT_ATTEMPTS = 3


def environ_now() -> dict[str, str]:
    """A copy of this process's environment, from any thread. A copy is made key by key, and pytest
    sets and deletes PYTEST_CURRENT_TEST in the main thread at every phase of every test: a server
    started from another thread (a case starting several at once) could meet a key listed and then
    gone (a KeyError, seen once in 139 cells)."""
    while True:
        try:
            return os.environ.copy()
        except KeyError:
            continue


def _start(argv: list[str], cwd: Path, port: int, log: Path, ready_path: str, append: bool) -> Server:
    """The server, once it answers; stopped again when it does not."""
    env = {**environ_now(), "PYTHONPATH": str(cwd), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    # A reloader watches ``cwd``: nothing may appear in it but what the test put there.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    with log.open("ab" if append else "wb") as out:
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_own_group_tied_to_parent,
            )
        except FileNotFoundError as exc:
            raise SuiteFault(Reason.TOOL, f"cannot start {argv[0]}: {exc}") from exc
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_ready(server, ready_path, _tool(argv))
    except BaseException:
        server.stopped_gracefully = _stop(process)
        raise
    return server


def _with_port(argv: list[str], old: int, new: int) -> list[str]:
    """``argv`` with every argument that is the port (``N``, ``host:N``, ``--flag=N``) moved to ``new``."""

    def moved(arg: str) -> str:
        if arg == str(old):
            return str(new)
        for sep in (":", "="):
            head, found, tail = arg.rpartition(f"{sep}{old}")
            if found and head and not tail:
                return f"{head}{sep}{new}"
        return arg

    return [moved(arg) for arg in argv]


def _own_group_tied_to_parent() -> None:
    """In the child before exec: a process group of its own (so stopping it stops a reloader's or
    gunicorn's children too) inside the cell's session (so the runner's sweep of that session
    finds it), and, on Linux, killed by the kernel when the test process that started it dies."""
    os.setpgid(0, 0)
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL | None:
    # Loaded before any fork: importing or loading in the child of a threaded process can deadlock.
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _tool(argv: Sequence[str]) -> str:
    """The module or program that serves: ``python -m uvicorn ...`` -> uvicorn, ``fastapi run`` -> fastapi."""
    args = list(argv)
    if "-m" in args[:-1]:
        return args[args.index("-m") + 1].split(".")[0]
    return os.path.basename(args[0]) if args else ""


def _wait_ready(server: Server, path: str, tool: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise _exited(server, tool)
        try:
            with _DIRECT.open(server.url + path, timeout=1.0):
                pass
        except urllib.error.HTTPError:
            pass  # any HTTP answer means a server is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
            continue
        if _answered_by_ours(server):
            return
        time.sleep(0.05)  # another cell's server took the port: ours will exit with a port clash
    raise SuiteFault(Reason.TIMEOUT, f"server did not answer within {READY_TIMEOUT:g}s; output:\n{server.log_tail()}")


def _answered_by_ours(server: Server) -> bool:
    port = server.port
    # Where /proc cannot tell (another OS), the answer is taken as ours, as before.
    return listened_by_group(port, server.process.pid) is not False


def _exited(server: Server, tool: str) -> Exception:
    tail = server.log_tail()
    text = f"server exited with code {server.process.returncode} before answering; output:\n{tail}"
    lowered = tail.lower()
    if any(s in lowered for s in _PORT_CLASH):
        return SuiteFault(Reason.PORT, text)
    if tool and (f"no module named {tool}" in lowered or f"no module named '{tool}'" in lowered):
        return SuiteFault(Reason.TOOL, text)
    # Anything else is the documented command or the app it serves failing to start.
    return CodeRaised(text)


def _stop(process: subprocess.Popen[bytes]) -> bool:
    graceful = True
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        graceful = False
    # Kill whatever is left of the group (a reloader's worker, a gunicorn worker) either way.
    _signal_group(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_GRACE)
    return graceful


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the group is already gone: nothing left to stop
        os.killpg(pgid, sig)
