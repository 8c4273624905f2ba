"""serve() for this case, with the error a failed start ended on at the front of the message.

When the assembled app cannot start, serve() raises CodeRaised with the tail of the server's
output; the tail is cut at its start, so the line that says why (``TypeError: ...``,
``ModuleNotFoundError: ...``) is lifted to the first line. The exception type is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from known_issues.casekit import CodeRaised
from known_issues.serving import Server, serve

_ENDED_ON = re.compile(r"^(error\b|\w+(Error|Exception)\b)")


def ended_on(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in reversed(lines) if _ENDED_ON.match(line)), lines[-1] if lines else "")


@contextmanager
def serve_app(argv: Sequence[str], *, cwd: Path, port: int, log: Path) -> Iterator[Server]:
    try:
        with serve(argv, cwd=cwd, port=port, log=log, ready_path="/docs") as server:
            yield server
    except CodeRaised as exc:
        raise CodeRaised(f"the app did not start: {ended_on(str(exc))}\n{exc}") from exc
