"""Child processes of the runner: each in its own session, stoppable all at once on an interrupt,
and nothing they leave behind survives them.

A cell's pytest runs as the leader of a new session. The servers a case starts
(``known_issues.cell.serving``) get a process group of their own but stay in that session, so when the
pytest process is gone, however it went (it finished, crashed, timed out, was killed before its
fixtures could stop their servers), every process still in its session is killed and reported.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple


class Finished(NamedTuple):
    code: int
    output: str
    timed_out: bool
    strays: list[str]  # processes of the command's session still running after it exited (killed)


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
                strays = reap_session(proc.pid)
            output.seek(0)
            return Finished(proc.returncode, output.read(), timed_out, strays)

    def stop_all(self) -> None:
        self.stopping = True
        with self._lock:
            for proc in list(self._live):
                _kill_group(proc)
                reap_session(proc.pid)


def session_members(sid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process in session ``sid`` (Linux /proc; elsewhere: the group)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(sid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [(sid, "(process group)")]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # Fields after the command name (which may contain spaces) start after the last ')'.
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) != sid or fields[0] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            continue
        members.append((int(entry.name), cmdline[:200]))
    return members


def reap_session(sid: int) -> list[str]:
    """Kill every process left in session ``sid``; describe what was killed."""
    found = session_members(sid)
    for pid, _ in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signal.SIGKILL)
    return [f"pid {pid}: {cmd}" for pid, cmd in found]


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
