"""Per-cell results, the manifest and the merged run file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures import cell

from known_issues import store
from known_issues.atomic import write_json


def test_merge_follows_the_manifest_and_reports_missing(tmp_path: Path) -> None:
    store.write_manifest(tmp_path, {"matrix": "m.toml", "index": {}, "cells": [{"id": "b"}, {"id": "a"}, {"id": "c"}]})
    store.write_cell(tmp_path, cell("a", "0.1", "2.0"))
    store.write_cell(tmp_path, cell("b", "0.2", "2.0"))
    store.write_cell(tmp_path, cell("stale", "0.3", "2.0"))  # not in the manifest: left out
    run = store.merge(tmp_path)
    assert [c["cell"]["id"] for c in run["cells"]] == ["b", "a"]
    assert run["missing"] == [{"id": "c"}]
    assert json.loads((tmp_path / "results.json").read_text())["cells"] == run["cells"]


def test_rerunning_one_cell_replaces_only_that_cell(tmp_path: Path) -> None:
    store.write_manifest(tmp_path, {"cells": [{"id": "a"}, {"id": "b"}]})
    store.write_cell(tmp_path, cell("a", "0.1", "2.0", status="error", reason="first try"))
    store.write_cell(tmp_path, cell("b", "0.2", "2.0"))
    before_b = store.cell_file(tmp_path, "b").read_bytes()
    store.write_cell(tmp_path, cell("a", "0.1", "2.0"))
    run = store.merge(tmp_path)
    assert [c["status"] for c in run["cells"]] == ["ran", "ran"]
    assert store.cell_file(tmp_path, "b").read_bytes() == before_b


def test_cell_ids_become_safe_file_names(tmp_path: Path) -> None:
    assert store.cell_file(tmp_path, "g-py3.11-fastapi0.1/../x").name == "g-py3.11-fastapi0.1_.._x.json"


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cell.json"
    write_json(target, {"ok": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        write_json(target, {"bad": Unserialisable()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["cell.json"]


def test_load_run_rejects_other_json(tmp_path: Path) -> None:
    other = tmp_path / "x.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a results file"):
        store.load_run(other)
