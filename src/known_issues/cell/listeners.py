"""Which processes listen on a loopback TCP port (Linux /proc; standard library only).

A port handed out by ``free_port`` is free only until someone binds it: a server of another cell
running at the same time can take it while ours is still importing, and then answers our
readiness poll. Asking who owns the listening socket tells the two apart.
"""

from __future__ import annotations

import os
from pathlib import Path

_LISTEN = "0A"
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def listening_inodes(port: int) -> set[str] | None:
    """Socket inodes listening on ``port`` (any address), or None where /proc cannot tell."""
    found: set[str] = set()
    readable = False
    for table in _TABLES:
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found if readable else None


def owners(inodes: set[str]) -> set[int]:
    """The processes holding any of these sockets (those whose descriptors we may read)."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    pids: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd.path) for fd in os.scandir(f"{entry.path}/fd")}
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if links & wanted:
            pids.add(int(entry.name))
    return pids


def listened_by_group(port: int, pgid: int) -> bool | None:
    """Does a process of group ``pgid`` listen on ``port``? None where this cannot be told: no
    /proc, or a listener whose process cannot be seen (only a listener seen to be another
    group's is an answer of "no")."""
    inodes = listening_inodes(port)
    if inodes is None:
        return None
    if not inodes:
        return False  # nobody listens (any more): not ours yet
    seen = owners(inodes)
    for pid in seen:
        try:
            if os.getpgid(pid) == pgid:
                return True
        except ProcessLookupError:
            continue
    return False if seen else None
