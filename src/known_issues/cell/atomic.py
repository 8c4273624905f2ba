"""Atomic writes: a reader never sees a half-written results file or report page.

Files get the permissions any other file would (0666 less the umask): a temporary file is created
private (0600), and a report page must stay readable by a web server or another user.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    # Read once, at import (single-threaded then): os.umask can only be read by setting it.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()


def write_json(path: Path, data: Any) -> None:
    # No indent: only then does the json module use its C encoder (results.json of the default
    # matrix is about 15 MB).
    write_text(path, json.dumps(data, sort_keys=True) + "\n", sync=True)


def write_text(path: Path, text: str, sync: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
