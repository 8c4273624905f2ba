"""Per-cell results, the manifest, the merged run file, the result store and the run lock."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import cell, run_with_every_verdict, t

from known_issues import run_files
from known_issues.cell.atomic import write_json
from known_issues.cell.serial import dump
from known_issues.errors import SchemaError
from known_issues.matrix import Cell
from known_issues.outcomes import CellStatus
from known_issues.records import load
from known_issues.results import CellResult, RunResult
from known_issues.runner import cell_imports, result_store
from known_issues.runner.result_store import CaseResult, Inputs, ResultStore

CASES = Path(__file__).resolve().parent.parent / "cases"


def _manifest(out: Path, cells: list[CellResult]) -> None:
    run_files.write_manifest(out, run_files.build_manifest([c.cell for c in cells], "m.toml", {}))


def test_merge_follows_the_manifest_and_reports_missing(tmp_path: Path) -> None:
    a, b, c, stale = (cell(v, "2.0") for v in ("0.1.0", "0.2.0", "0.3.0", "0.4.0"))
    _manifest(tmp_path, [b, a, c])
    for result in (a, b, stale):  # stale: not in the manifest, left out
        run_files.write_cell(tmp_path, result)
    run = run_files.merge(tmp_path)
    assert [x.id for x in run.cells] == [b.id, a.id]
    assert run.missing == [c.cell]
    assert dump(RunResult.read(tmp_path / "results.json")) == dump(run)


def test_rerunning_one_cell_replaces_only_that_cell(tmp_path: Path) -> None:
    a_err = cell("0.1.0", "2.0", status=CellStatus.ERROR, reason="first try")
    b = cell("0.2.0", "2.0")
    _manifest(tmp_path, [a_err, b])
    run_files.write_cell(tmp_path, a_err)
    run_files.write_cell(tmp_path, b)
    before_b = run_files.cell_file(tmp_path, b.id).read_bytes()
    run_files.write_cell(tmp_path, cell("0.1.0", "2.0"))
    run = run_files.merge(tmp_path)
    assert [x.status for x in run.cells] == ["ran", "ran"]
    assert run_files.cell_file(tmp_path, b.id).read_bytes() == before_b


def test_typed_records_round_trip_through_json() -> None:
    run = run_with_every_verdict()
    again = load(RunResult, json.loads(json.dumps(dump(run))))
    assert again == run
    assert again.cells[1].tests[3].observations == ["works", "broken", "works"]


def test_reading_checks_the_schema_version(tmp_path: Path) -> None:
    data = dump(run_with_every_verdict())
    data["schema"] = 1
    (tmp_path / "old.json").write_text(json.dumps(data))
    with pytest.raises(SchemaError, match="written with results schema 1, this harness reads schema 2"):
        RunResult.read(tmp_path / "old.json")
    (tmp_path / "x.json").write_text('{"hello": 1}')
    with pytest.raises(SchemaError):
        RunResult.read(tmp_path / "x.json")
    # A cell file of another schema is as good as absent: the cell runs again.
    path = run_files.cell_file(tmp_path, "c")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**data["cells"][0], "schema": 1}))
    assert run_files.read_cell(tmp_path, "c") is None


def test_cell_ids_become_safe_file_names(tmp_path: Path) -> None:
    assert run_files.cell_file(tmp_path, "g-py3.11-fastapi0.1/../x").name == "g-py3.11-fastapi0.1_.._x.json"


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cell.json"
    write_json(target, {"ok": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        write_json(target, {"bad": Unserialisable()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["cell.json"]


def test_written_files_have_normal_permissions(tmp_path: Path) -> None:
    """Report files are read by a web server or another user: 0666 less the umask, not mkstemp's 0600."""
    mask = os.umask(0o022)
    os.umask(mask)
    write_json(tmp_path / "r.json", {"a": 1})
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o666 & ~mask
    from fixtures import write_cases

    from known_issues.catalog import load_cases
    from known_issues.reporting.build import build

    build(run_with_every_verdict(), load_cases(write_cases(tmp_path)), tmp_path / "report")
    for path in (tmp_path / "report").rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path


def test_result_store_keys_on_every_input(tmp_path: Path) -> None:
    results = ResultStore(tmp_path)
    inputs = Inputs("env1", "harness1", 60.0)
    stored = CaseResult("crud", "3.11.7", {"fastapi": "0.1"}, [t("crud", "test_create", "pattern", "passed")])
    results.put(inputs.key("case1"), stored)
    assert results.get(inputs.key("case1")) == stored
    for other in (
        Inputs("env2", "harness1", 60.0).key("case1"),  # another lock or Python
        Inputs("env1", "harness2", 60.0).key("case1"),  # the in-cell harness changed
        Inputs("env1", "harness1", 30.0).key("case1"),  # another per-test time limit
        inputs.key("case2"),  # the case's files changed
    ):
        assert results.get(other) is None


def test_a_second_run_waits_for_the_first(tmp_path: Path) -> None:
    """Two runs on one .envs: the second waits for the lock, says so, and goes on once the first ends."""
    code = (
        "import sys\nfrom known_issues import run_files\nfrom pathlib import Path\n"
        "with run_files.exclusive(Path(sys.argv[1])):\n    print('got it', flush=True)\n    sys.stdin.readline()\n"
    )
    first = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline().strip() == "got it"
    second = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert second.stdout is not None and second.stderr is not None and second.stdin is not None
    # Ordering, not timing: the second says it waits while the first still holds the lock...
    assert "is in use by pid" in second.stderr.readline()
    first.stdin.write("\n")
    first.stdin.flush()
    assert first.wait(timeout=60) == 0
    # ...and gets it only after the first let go.
    assert second.stdout.readline().strip() == "got it"
    second.stdin.write("\n")
    second.stdin.flush()
    assert second.wait(timeout=60) == 0


def test_manifest_keeps_earlier_cells_when_one_cell_is_added(tmp_path: Path) -> None:
    first = Cell("g", "3.11", (("fastapi", "0.1.0"),))
    second = Cell("g", "3.11", (("fastapi", "0.2.0"),))
    run_files.write_manifest(tmp_path, run_files.build_manifest([first], "matrix.toml", {"fastapi": {"from": "index"}}))
    previous = run_files.read_manifest(tmp_path)
    merged = run_files.build_manifest([second, first], "matrix.toml", {}, previous)
    assert merged.cells == [first, second]
    assert merged.index == {"fastapi": {"from": "index"}}


def test_the_key_covers_exactly_the_harness_modules_a_cell_imports() -> None:
    """What a cell really imports (the plugin, the smoke check, what the cases import) is the set of files
    the key reads: none missing, none more."""
    modules = sorted({"known_issues.cell.plugin", "known_issues.cell.smoke", *cell_imports.case_imports(CASES)})
    wanted = [m for m in modules if cell_imports.module_file(m) is not None]
    code = (
        f"import importlib, sys; [importlib.import_module(m) for m in {wanted!r}]; "
        "print(' '.join(m.__file__ for n, m in sys.modules.items() if n.startswith('known_issues')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert {Path(f).resolve() for f in out} == set(cell_imports.in_cell_files(CASES))


def test_editing_a_host_only_module_keeps_every_stored_result_and_editing_the_kernel_does_not(
    tmp_path: Path,
) -> None:
    package = tmp_path / "known_issues"
    shutil.copytree(cell_imports.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = result_store.harness_digest(CASES, package)
    for host_only in ("reporting/analysis.py", "runner/one_cell.py", "outcomes.py", "records.py", "cli.py"):
        (package / host_only).write_text((package / host_only).read_text() + "\n# edited\n")
        assert result_store.harness_digest(CASES, package) == before, host_only
    for kernel in ("cell/classify.py", "cell/verdicts.py", "casekit.py"):
        original = (package / kernel).read_text()
        (package / kernel).write_text(original + "\n# edited\n")
        assert result_store.harness_digest(CASES, package) != before, kernel
        (package / kernel).write_text(original)


def test_a_merge_keeps_how_long_each_observed_cell_took(tmp_path: Path) -> None:
    """The next run starts the longest cells first: the merge keeps each observed cell's seconds in the
    manifest, and a cell served whole from the result store keeps the seconds it took when observed."""
    slow, fast = cell("0.113.0", "2.11.7"), cell("0.114.0", "2.11.7")
    slow.timings, fast.timings = {"total": 40.0}, {"total": 5.0}
    slow.cases_run, fast.cases_run = ["a"], []
    for result in (slow, fast):
        run_files.write_cell(tmp_path, result)
    previous = run_files.Manifest([slow.cell, fast.cell], durations={fast.id: 7.0})
    run_files.write_manifest(tmp_path, previous)
    run_files.merge(tmp_path)
    manifest = run_files.read_manifest(tmp_path)
    assert manifest is not None and manifest.durations == {fast.id: 7.0, slow.id: 40.0}


def test_a_cases_stored_results_depend_on_the_printed_blocks_it_names(tmp_path: Path) -> None:
    """A case that names a printed block in case.toml (or imports from the folder that stores them)
    is observed again when that block changes; a case that does neither is not."""
    from known_issues.catalog import files_digest, related_folders

    cases = tmp_path / "cases"
    store = cases / "guide_code" / "printed"
    store.mkdir(parents=True)
    (store / "config.py").write_text("SECRET = 1\n")
    for slug, toml in {
        "names_it": '[[printed]]\nfile = "../guide_code/printed/config.py"\nsection = "Configuration"\n',
        "imports_it": "",
        "neither": "",
    }.items():
        (cases / slug).mkdir()
        (cases / slug / "case.toml").write_text(f'title = "t"\nkind = "pattern"\n{toml}')
    (cases / "imports_it" / "app.py").write_text("from ..guide_code.support_printed import guide_modules\n")
    assert related_folders(cases / "names_it") == [cases / "names_it", cases / "guide_code"]
    assert related_folders(cases / "imports_it") == [cases / "imports_it", cases / "guide_code"]
    before = {slug: files_digest(cases / slug) for slug in ("names_it", "imports_it", "neither")}
    (store / "config.py").write_text("SECRET = 2\n")
    after = {slug: files_digest(cases / slug) for slug in ("names_it", "imports_it", "neither")}
    assert [slug for slug in before if before[slug] != after[slug]] == ["names_it", "imports_it"]


def _observed(finished: str, verdict_outcome: str, status: CellStatus = CellStatus.RAN) -> CellResult:
    tests = [t("json_form_field", "test_json_form_field_rejects_valid_json_list", "bug", verdict_outcome)]
    result = cell("0.165.0", "2.14.4", status=status, tests=tests)
    result.finished = finished
    return result


@pytest.mark.parametrize("order", ["stale first", "fresh first"])
@pytest.mark.parametrize("cached", ["stale", "fresh", "none"])
def test_the_newest_observation_of_a_cell_wins_the_merge(tmp_path: Path, order: str, cached: str) -> None:
    """CI: the report job has the previous run's cell files (cache) and each cell job's file (artifacts),
    and a job may carry a stale copy of a cell it did not run: the fresh observation wins, whichever
    copy is read first and wherever it is."""
    stale = _observed("2026-12-06T05:20:00Z", "passed")  # reproduces, the day before
    fresh = _observed("2026-12-07T05:21:07Z", "failed")  # fixed, today
    out = tmp_path / "report"
    if cached != "none":
        run_files.write_cell(out, stale if cached == "stale" else fresh)
    first, second = (stale, fresh) if order == "stale first" else (fresh, stale)
    folders = [tmp_path / "incoming" / "cell-a", tmp_path / "incoming" / "cell-b"]
    run_files.write_cell(folders[0], first)
    run_files.write_cell(folders[1], second)
    for i, incoming in enumerate(([tmp_path / "incoming"], folders, folders[::-1])):
        replaced = run_files.take_newest(out, incoming)
        assert replaced == ([fresh.id] if i == 0 and cached != "fresh" else [])
        kept = CellResult.read(run_files.cell_file(out, fresh.id))
        assert (kept.finished, kept.tests[0].outcome) == (fresh.finished, "failed")
    _manifest(out, [fresh])
    (merged,) = run_files.merge(out).cells
    assert merged.finished == fresh.finished and merged.tests[0].verdict == "fixed"


def test_a_cell_file_without_a_finished_time_is_older_than_any(tmp_path: Path) -> None:
    out = tmp_path / "report"
    undated, dated = _observed("", "passed"), _observed("2026-12-07T05:21:07Z", "failed")
    run_files.write_cell(out, dated)
    run_files.write_cell(tmp_path / "incoming", undated)
    assert run_files.take_newest(out, [tmp_path / "incoming"]) == []
    assert CellResult.read(run_files.cell_file(out, dated.id)).finished == dated.finished
