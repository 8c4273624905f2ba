"""Child processes of the runner: each in its own session, stoppable all at once on an interrupt,
and nothing they leave behind survives them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple


class _Processes:
    """Children started by the runner, so an interrupt can stop every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()
        self.stopping = False

    def run(self, cmd: Sequence[str], timeout: float, **kw: Any) -> Finished:
        """Run cmd in its own session, output to a file (a stray child holding a pipe open must not
        keep us waiting); afterwards kill whatever the command left running in its session."""
        if self.stopping:
            raise KeyboardInterrupt
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as output:
            proc = subprocess.Popen(
                list(cmd), stdout=output, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw
            )
            with self._lock:
                self._live.add(proc)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
                proc.wait()
            finally:
                with self._lock:
                    self._live.discard(proc)
            strays = _reap_strays(proc.pid)
            output.seek(0)
            return Finished(proc.returncode, output.read(), timed_out, strays)

    def stop_all(self) -> None:
        self.stopping = True
        with self._lock:
            for proc in list(self._live):
                _kill_group(proc)


class Finished(NamedTuple):
    code: int
    output: str
    timed_out: bool
    strays: bool  # processes of the command's session were still running after it exited


def _reap_strays(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return True


def _kill_group(proc: subprocess.Popen[str]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


PROCESSES = _Processes()
