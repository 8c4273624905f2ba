"""Results on disk: one JSON file per cell, a run manifest, and the merged run file."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from known_issues.atomic import write_json

SCHEMA = 1


def cell_file(out: Path, cell_id: str) -> Path:
    return out / "cells" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', cell_id)}.json"


def read_cell(out: Path, cell_id: str) -> dict[str, Any] | None:
    path = cell_file(out, cell_id)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def write_cell(out: Path, result: dict[str, Any]) -> Path:
    path = cell_file(out, result["cell"]["id"])
    write_json(path, result)
    return path


def read_manifest(out: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_json(out / "run.json", manifest)


def merge(out: Path) -> dict[str, Any]:
    """Merge the manifest's cells (in manifest order) into ``results.json``; return it."""
    manifest = read_manifest(out) or {"cells": [], "index": {}}
    cells = []
    missing = []
    for cell in manifest["cells"]:
        result = read_cell(out, cell["id"])
        if result is None:
            missing.append(cell)
        else:
            cells.append(result)
    run = {
        "schema": SCHEMA,
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "matrix": manifest.get("matrix", ""),
        "index": manifest.get("index", {}),
        "cells": cells,
        "missing": missing,
    }
    write_json(out / "results.json", run)
    return run


def load_run(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if "cells" not in data:
        raise ValueError(f"{path}: not a results file (no 'cells')")
    return data
