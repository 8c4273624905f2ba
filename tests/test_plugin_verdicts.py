"""The plugin, run for real by pytest in a subprocess: every role x every outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from known_issues.cell.verdicts import Outcome, Role, verdict

ROLES = [r.value for r in Role]
OUTCOMES = [o.value for o in Outcome if o != Outcome.CRASHED]

CASE_BODY = """
import time
import pytest
from known_issues.casekit import requires

@pytest.fixture
def broken_fixture():
    raise RuntimeError("fixture exploded")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown exploded")

{tests}
"""

TEST_FOR_OUTCOME = {
    "passed": "assert 1 + 1 == 2",
    "failed": "assert {'status': 200} == {'status': 422}",
    "error": "raise KeyError('not an assertion')",
    "skipped": None,  # uses the requires() marker instead
}


def _write_case(pytester: pytest.Pytester, body: str, slug: str = "demo") -> None:
    folder = pytester.path / "cases" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (pytester.path / "cases" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / f"test_{slug}.py").write_text(body)


def _run(pytester: pytest.Pytester, *extra: str) -> tuple[pytest.RunResult, dict]:
    out = pytester.path / "results.json"
    result = pytester.runpytest_subprocess(
        "-p", "known_issues.cell.plugin", "--ki-results", str(out), "-p", "no:cacheprovider", *extra
    )
    data = json.loads(out.read_text()) if out.exists() else {}
    return result, data


def test_table_is_complete() -> None:
    expected = {
        ("bug", "passed"): "reproduces",
        ("bug", "failed"): "fixed",
        ("bug", "crashed"): "error",
        ("bug", "error"): "error",
        ("bug", "skipped"): "n/a",
        ("workaround", "passed"): "holds",
        ("workaround", "failed"): "broken",
        ("workaround", "crashed"): "broken",
        ("workaround", "error"): "error",
        ("workaround", "skipped"): "n/a",
        ("pattern", "passed"): "works",
        ("pattern", "failed"): "broken",
        ("pattern", "crashed"): "broken",
        ("pattern", "error"): "error",
        ("pattern", "skipped"): "n/a",
    }
    assert {(r.value, o.value): verdict(r, o).value for r in Role for o in Outcome} == expected
    with pytest.raises(ValueError):
        verdict("bug", "xpassed")


def test_every_role_and_outcome_through_pytest(pytester: pytest.Pytester) -> None:
    tests = []
    for role in ROLES:
        for outcome in OUTCOMES:
            name = f"test_{role}_{outcome}"
            if outcome == "skipped":
                skip = "@requires('pytest>=999', 'a future feature')"
                tests.append(f"@pytest.mark.{role}\n{skip}\ndef {name}():\n    assert False\n")
            else:
                tests.append(f"@pytest.mark.{role}\ndef {name}():\n    {TEST_FOR_OUTCOME[outcome]}\n")
    _write_case(pytester, CASE_BODY.format(tests="\n".join(tests)))
    _, data = _run(pytester)
    got = {t["test"]: (t["outcome"], t["verdict"]) for t in data["tests"]}
    for role in ROLES:
        for outcome in OUTCOMES:
            assert got[f"test_{role}_{outcome}"] == (outcome, verdict(role, outcome))
    failed = next(t for t in data["tests"] if t["test"] == "test_bug_failed")
    assert "AssertionError" in failed["message"]
    errored = next(t for t in data["tests"] if t["test"] == "test_bug_error")
    assert "KeyError" in errored["message"]
    skipped = next(t for t in data["tests"] if t["test"] == "test_bug_skipped")
    assert skipped["message"].startswith("feature absent: a future feature")
    assert data["distributions"]["pytest"]
    assert data["python"]


def test_pytest_fail_is_an_assertion_and_fixture_crashes_are_errors(pytester: pytest.Pytester) -> None:
    body = CASE_BODY.format(
        tests=(
            "@pytest.mark.bug\ndef test_explicit_fail():\n    pytest.fail('behaviour gone')\n\n"
            "@pytest.mark.bug\ndef test_setup_crash(broken_fixture):\n    assert True\n\n"
            "@pytest.mark.workaround\ndef test_teardown_crash(broken_teardown):\n    assert True\n\n"
            "@pytest.mark.bug\ndef test_fails_then_teardown_crash(broken_teardown):\n    assert False\n"
        )
    )
    _write_case(pytester, body)
    _, data = _run(pytester)
    got = {t["test"]: t for t in data["tests"]}
    assert got["test_explicit_fail"]["verdict"] == "fixed"
    # A crash is never "fixed": setup and teardown crashes are errors whatever the call did.
    assert got["test_setup_crash"]["verdict"] == "error"
    assert "fixture exploded" in got["test_setup_crash"]["message"]
    assert got["test_teardown_crash"]["verdict"] == "error"
    assert got["test_fails_then_teardown_crash"]["verdict"] == "error"
    assert "teardown exploded" in got["test_fails_then_teardown_crash"]["message"]


def test_hanging_test_becomes_error_timeout(pytester: pytest.Pytester) -> None:
    body = CASE_BODY.format(
        tests=(
            "@pytest.mark.bug\ndef test_hangs():\n    time.sleep(30)\n\n"
            "@pytest.mark.pattern\ndef test_after():\n    assert True\n"
        )
    )
    _write_case(pytester, body)
    _, data = _run(pytester, "--ki-timeout", "1")
    got = {t["test"]: t for t in data["tests"]}
    assert got["test_hangs"]["verdict"] == "error"
    assert got["test_hangs"]["message"].startswith("known_issues.cell.classify.TestTimeout: timeout")
    assert got["test_hangs"]["reason"] == "timeout"
    assert got["test_after"]["verdict"] == "works"


@pytest.mark.parametrize(
    ("decorators", "found"),
    [("", "none"), ("@pytest.mark.bug\n@pytest.mark.pattern\n", "bug, pattern")],
)
def test_a_test_without_exactly_one_role_is_refused_alone(
    pytester: pytest.Pytester, decorators: str, found: str
) -> None:
    body = f"import pytest\n\n{decorators}def test_x():\n    assert True\n\n"
    body += "@pytest.mark.pattern\ndef test_ok():\n    pass\n"
    _write_case(pytester, body)
    result, data = _run(pytester)
    result.stderr.fnmatch_lines([f"*refused*test_x: a case test needs exactly one role marker*found: {found}"])
    # The other tests of the cell still run and get their verdicts.
    assert [(t["test"], t["verdict"]) for t in data["tests"]] == [("test_ok", "works")]
    message = (
        f"cases/demo/test_demo.py::test_x: a case test needs exactly one role marker "
        f"(bug, workaround or pattern); found: {found}"
    )
    assert data["refused"] == [message]
    assert data["collect_errors"] == [
        {
            "nodeid": "cases/demo/test_demo.py::test_x",
            "case": "demo",
            "message": message,
            "reason": "harness",
            "outcome": "error",
        }
    ]


def test_xfail_is_refused(pytester: pytest.Pytester) -> None:
    _write_case(pytester, "import pytest\n\n@pytest.mark.bug\n@pytest.mark.xfail\ndef test_x():\n    assert False\n")
    result, data = _run(pytester)
    result.stderr.fnmatch_lines(["*xfail is not allowed in cases*"])
    assert data["tests"] == []


def test_import_error_in_one_case_only_affects_that_case(pytester: pytest.Pytester) -> None:
    _write_case(pytester, "from fastapi_that_does_not_exist import App\n", slug="broken")
    _write_case(pytester, "import pytest\n\n@pytest.mark.pattern\ndef test_ok():\n    assert True\n", slug="fine")
    _, data = _run(pytester)
    assert [t["verdict"] for t in data["tests"]] == ["works"]
    (err,) = data["collect_errors"]
    assert err["case"] == "broken"
    assert "ModuleNotFoundError" in err["message"]


def test_results_file_is_written_atomically(pytester: pytest.Pytester, tmp_path: Path) -> None:
    _write_case(pytester, "import pytest\n\n@pytest.mark.pattern\ndef test_ok():\n    assert True\n")
    _, data = _run(pytester)
    assert [t["verdict"] for t in data["tests"]] == ["works"]  # the file is there and complete
    leftovers = [p.name for p in pytester.path.iterdir() if p.name.startswith(".results.json")]
    assert leftovers == []


def test_cpu_is_recorded_per_test_with_the_servers_it_waited_for(pytester: pytest.Pytester) -> None:
    # Told apart by comparison, not by thresholds: a test that waits uses less CPU than one that
    # computes, and CPU spent by a child process the test waited for counts as the test's.
    busy = "import time\n    end = time.process_time() + 0.3\n    while time.process_time() < end:\n        pass"
    child = "import subprocess, sys\n    subprocess.run([sys.executable, '-c', 'for _ in range(3 * 10**7): pass'])"
    body = CASE_BODY.format(
        tests="\n\n".join(
            f"@pytest.mark.pattern\ndef test_{name}():\n    {code}"
            for name, code in (("waits", "time.sleep(0.3)"), ("computes", busy), ("child_computes", child))
        )
    )
    _write_case(pytester, body)
    _, data = _run(pytester)
    tests = {t["test"]: t for t in data["tests"]}
    waits, computes, child_computes = tests["test_waits"], tests["test_computes"], tests["test_child_computes"]
    assert waits["cpu"] < waits["duration"]
    assert computes["cpu"] > waits["cpu"]
    assert child_computes["cpu"] > waits["cpu"]
    assert data["cpu_seconds"] >= sum(t["cpu"] for t in data["tests"])


def test_what_a_test_observed_is_kept_also_when_it_passes_and_only_for_that_test(pytester: pytest.Pytester) -> None:
    """A reproducing bug has no failure message: the value it observed is its evidence (errata, page)."""
    body = CASE_BODY.format(
        tests=(
            "from known_issues.casekit import bug_or_fixed, record\n\n"
            "@pytest.mark.bug\ndef test_reproduces():\n"
            "    bug_or_fixed({'status': 422}, bug={'status': 422}, fixed={'status': 200})\n\n"
            "@pytest.mark.pattern\ndef test_records():\n    record('status', 201)\n\n"
            "@pytest.mark.pattern\ndef test_records_nothing():\n    assert True\n"
        )
    )
    _write_case(pytester, body)
    _, data = _run(pytester)
    got = {t["test"]: t for t in data["tests"]}
    assert (got["test_reproduces"]["verdict"], got["test_reproduces"]["message"]) == ("reproduces", "")
    assert got["test_reproduces"]["observation"] == "observed: {'status': 422}"
    assert got["test_records"]["observation"] == "status: 201"
    assert got["test_records_nothing"]["observation"] == ""


LEFT_RUNNING = """
import atexit
import threading
from pathlib import Path
import pytest

atexit.register(Path("{marker}").write_text, "exit handlers ran")

@pytest.mark.bug
def test_reproduces():
    # A thread nobody stops: the interpreter's own exit would wait for it forever.
    threading.Thread(target=threading.Event().wait).start()

@pytest.mark.bug
def test_fixed():
    assert {{"status": 200}} == {{"status": 422}}
"""


def test_a_cells_run_ends_once_its_results_are_written(pytester: pytest.Pytester) -> None:
    marker = pytester.path / "atexit.txt"
    _write_case(pytester, LEFT_RUNNING.format(marker=marker))
    out = pytester.path / "results.json"
    result = pytester.runpytest_subprocess(
        "-p",
        "known_issues.cell.plugin",
        "--ki-results",
        str(out),
        "-p",
        "no:cacheprovider",
        "--ki-own-process",
        timeout=60,
    )
    # pytest's own exit status and summary, the results, and the exit handlers the cases registered.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 failed, 1 passed*"])
    verdicts = {t["nodeid"].split("::")[-1]: t["verdict"] for t in json.loads(out.read_text())["tests"]}
    assert verdicts == {"test_reproduces": "reproduces", "test_fixed": "fixed"}
    assert marker.read_text() == "exit handlers ran"


FROZEN = """
import gc
from pathlib import Path
import pytest

MARKER = Path("{marker}")

class Cycle:
    def __init__(self):
        self.me = self
    def __del__(self):
        MARKER.write_text("finalized")

Cycle()  # garbage from the start: collectable only by the garbage collector
COLLECTING_WITH_GC = gc.isenabled()

@pytest.mark.pattern
def test_collection_is_frozen_after_its_garbage_was_collected():
    assert MARKER.read_text() == "finalized"
    assert gc.get_freeze_count() > 0
    assert not COLLECTING_WITH_GC and gc.isenabled()
"""


def test_a_cells_own_process_keeps_what_collection_built_out_of_the_collectors_walks(
    pytester: pytest.Pytester,
) -> None:
    marker = pytester.path / "finalized.txt"
    _write_case(pytester, FROZEN.format(marker=marker))
    result, data = _run(pytester, "--ki-own-process")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert [t["verdict"] for t in data["tests"]] == ["works"]
