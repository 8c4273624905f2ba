"""Where an exception came from decides the verdict: each path that could turn a crash into "fixed",
or a fault of the suite into "broken", planted in a real pytest run of the plugin."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

APP = '''
import asyncio

DOCUMENTED = "Value must be positive"


def handler(kind):
    if kind == "documented":
        raise ValueError(DOCUMENTED)
    if kind == "other":
        raise TypeError("ValidationError.__new__() missing 1 required positional argument")
    if kind == "assert":
        assert kind == "never", "an assert inside the documented code"
    return 422


class App:
    """A bare ASGI app (no framework needed here): answers 422, or raises what ``kind`` says."""

    def __init__(self, kind):
        self.kind = kind

    async def __call__(self, scope, receive, send):
        status = handler(self.kind)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def lenient_request(app):
    """What a lenient test client does: the status a client sees; the exception does not reach the test."""
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    try:
        asyncio.run(app({"type": "http", "path": "/"}, receive, send))
    except Exception:
        return 500
    return sent[0]["status"]
'''


def _case(pytester: pytest.Pytester, tests: str, app: str = APP) -> dict:
    folder = pytester.path / "cases" / "demo"
    folder.mkdir(parents=True)
    (pytester.path / "cases" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / "app.py").write_text(app)
    (folder / "test_demo.py").write_text(textwrap.dedent(tests))
    out = pytester.path / "results.json"
    pytester.runpytest_subprocess("-p", "known_issues.cell.plugin", "--ki-results", str(out), "-p", "no:cacheprovider")
    return {t["test"]: t for t in json.loads(out.read_text())["tests"]}


def test_crash_in_a_bug_test_behind_a_lenient_client_is_never_fixed(pytester: pytest.Pytester) -> None:
    """The documented symptom is a 500 from ValueError: asserted exactly, with casekit.Observed."""
    got = _case(
        pytester,
        """
        import pytest
        from known_issues.casekit import Observed
        from .app import App, DOCUMENTED, lenient_request

        def observe(kind):
            observed = Observed(App(kind))
            assert lenient_request(observed) == 500
            observed.assert_raised(ValueError, match=DOCUMENTED)

        @pytest.mark.bug
        def test_documented_crash():
            observe("documented")

        @pytest.mark.bug
        def test_other_crash():
            observe("other")

        @pytest.mark.bug
        def test_no_crash_any_more():
            observe("fine")

        @pytest.mark.bug
        def test_old_style_lenient_only():
            # The path the model closes: a crash read through a lenient client as "status != 422".
            assert lenient_request(App("other")) == 422
        """,
    )
    assert (got["test_documented_crash"]["verdict"], got["test_documented_crash"]["outcome"]) == (
        "reproduces",
        "passed",
    )
    other = got["test_other_crash"]
    assert (other["verdict"], other["outcome"], other["reason"]) == ("error", "crashed", "unexpected crash")
    assert "the app raised builtins.TypeError: ValidationError.__new__()" in other["message"]
    # Only the behaviour being gone (a 422, nothing raised) reads as fixed.
    assert got["test_no_crash_any_more"]["verdict"] == "fixed"
    # A lenient client alone cannot tell: the static check refuses such a bug test (test_checks.py).
    assert got["test_old_style_lenient_only"]["verdict"] == "fixed"


def test_documented_code_that_raises_is_broken_with_its_exception(pytester: pytest.Pytester) -> None:
    got = _case(
        pytester,
        """
        import importlib
        import pytest
        from known_issues.casekit import load
        from .app import handler

        @pytest.mark.workaround("the documented fix")
        def test_fix_raises():
            assert handler("other") == 422

        @pytest.mark.pattern("a module that fails when imported")
        def test_module_fails_on_import():
            load(__package__, "snippet")

        @pytest.mark.bug
        def test_bug_whose_code_crashes_otherwise():
            assert handler("other") == 500

        @pytest.mark.workaround("an assert inside the documented code is a crash, not a failed check")
        def test_assert_inside_documented_code():
            assert handler("assert") == 422

        @pytest.mark.workaround("the test's own assert")
        def test_own_assert():
            assert handler("fine") == 200
        """,
    )
    assert got["test_fix_raises"]["verdict"] == "broken"
    assert got["test_fix_raises"]["outcome"] == "crashed"
    assert got["test_fix_raises"]["message"].startswith("TypeError: ValidationError.__new__()")
    assert "(raised in app.py:" in got["test_fix_raises"]["message"]
    # No module snippet.py: the import machinery raises from no case module, so this is the suite's error.
    assert got["test_module_fails_on_import"]["verdict"] == "error"
    crashed_bug = got["test_bug_whose_code_crashes_otherwise"]
    assert (crashed_bug["verdict"], crashed_bug["reason"]) == ("error", "unexpected crash")
    assert got["test_assert_inside_documented_code"]["outcome"] == "crashed"
    assert got["test_own_assert"]["outcome"] == "failed"
    assert got["test_own_assert"]["verdict"] == "broken"


def test_a_snippet_that_raises_on_import_is_broken(pytester: pytest.Pytester) -> None:
    app = APP + "\nundefined_name_used_at_import_time\n"
    got = _case(
        pytester,
        """
        import pytest
        from known_issues.casekit import load

        @pytest.mark.workaround("importing the snippet")
        def test_snippet():
            load(__package__, "app")
        """,
        app=app,
    )
    snippet = got["test_snippet"]
    assert (snippet["verdict"], snippet["outcome"]) == ("broken", "crashed")
    assert snippet["message"].startswith("NameError: name 'undefined_name_used_at_import_time' is not defined")


def test_hypothesis_finding_several_failures_is_failed_not_error(pytester: pytest.Pytester) -> None:
    got = _case(
        pytester,
        """
        import pytest
        from hypothesis import given, settings, strategies as st

        @pytest.mark.bug
        @settings(derandomize=True, database=None, report_multiple_bugs=True)
        @given(st.integers())
        def test_two_distinct_failures(n):
            if n > 10:
                assert n < 5, "too big"
            if n < -10:
                assert n > -5, "too small"
        """,
    )
    test = got["test_two_distinct_failures"]
    assert (test["verdict"], test["outcome"]) == ("fixed", "failed"), test["message"]
    assert test["message"].startswith("2 exceptions:")


def test_faults_of_the_suite_are_errors_with_their_reason(pytester: pytest.Pytester) -> None:
    got = _case(
        pytester,
        """
        import pytest
        from known_issues.casekit import CodeRaised, Reason, SuiteFault

        @pytest.fixture
        def server_of_ours():
            raise SuiteFault(Reason.PORT, "address already in use")

        @pytest.fixture
        def precondition():
            assert 1 == 2, "the user could not be registered"

        @pytest.mark.pattern("port clash")
        def test_port(server_of_ours):
            pass

        @pytest.mark.pattern("precondition")
        def test_precondition(precondition):
            pass

        @pytest.mark.bug
        def test_our_own_bug():
            {}["missing"]

        @pytest.mark.pattern("the documented command exits")
        def test_command_exits():
            raise CodeRaised("server exited with code 1 before answering")
        """,
    )
    assert (got["test_port"]["verdict"], got["test_port"]["reason"]) == ("error", "port clash")
    assert (got["test_precondition"]["verdict"], got["test_precondition"]["reason"]) == ("error", "precondition")
    assert (got["test_our_own_bug"]["verdict"], got["test_our_own_bug"]["reason"]) == ("error", "harness")
    assert (got["test_command_exits"]["verdict"], got["test_command_exits"]["reason"]) == ("broken", None)


def test_pytest_raises_seeing_another_message_is_a_crash_not_fixed(pytester: pytest.Pytester) -> None:
    got = _case(
        pytester,
        """
        import pytest
        from .app import handler

        @pytest.mark.bug
        def test_documented_message():
            with pytest.raises(TypeError, match="Value must be positive"):
                handler("other")  # a TypeError, with another message

        @pytest.mark.bug
        def test_no_crash_any_more():
            with pytest.raises(TypeError):
                handler("fine")
        """,
    )
    other = got["test_documented_message"]
    assert (other["verdict"], other["outcome"], other["reason"]) == ("error", "crashed", "unexpected crash")
    assert got["test_no_crash_any_more"]["verdict"] == "fixed"  # DID NOT RAISE: the crash is gone


def test_a_case_module_that_crashes_on_import_makes_the_cases_tests_broken(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "cases" / "demo"
    folder.mkdir(parents=True)
    (pytester.path / "cases" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    (folder / "app.py").write_text(
        "def route(x: int | None) -> int | None:\n    return x\nraise TypeError('like str | None on Python 3.9')\n"
    )
    (folder / "test_demo.py").write_text(
        "import pytest\nfrom .app import route\n\n@pytest.mark.pattern\ndef test_x():\n    pass\n"
    )
    other = pytester.path / "cases" / "ours"
    other.mkdir()
    (other / "__init__.py").write_text("")
    (other / "test_ours.py").write_text("import pytest\n{}['a test module bug']\n")
    out = pytester.path / "results.json"
    pytester.runpytest_subprocess("-p", "known_issues.cell.plugin", "--ki-results", str(out), "-p", "no:cacheprovider")
    errors = {e["case"]: e for e in json.loads(out.read_text())["collect_errors"]}
    assert errors["demo"]["outcome"] == "crashed"
    assert errors["demo"]["message"].startswith("TypeError: like str | None on Python 3.9 (raised in app.py:3)")
    assert (errors["ours"]["outcome"], errors["ours"]["reason"]) == ("error", "collection")


def test_the_grid_gives_each_role_what_a_crash_on_import_gives() -> None:
    from fixtures import cell, t

    from known_issues.cell.observations import CollectError
    from known_issues.cell.verdicts import Outcome
    from known_issues.reporting import analysis

    seen = cell(
        "0.1.0", "2.0", tests=[t("demo", "test_bug", "bug", "passed"), t("demo", "test_fix", "workaround", "passed")]
    )
    crashed = cell("0.2.0", "2.0")
    crashed.collect_errors = [
        CollectError("cases/demo/test_demo.py", "demo", "TypeError: ...", outcome=Outcome.CRASHED)
    ]
    rows = analysis.grid([seen, crashed])
    assert rows[("demo", "test_fix")].verdict(crashed.id) == "broken"
    assert rows[("demo", "test_bug")].verdict(crashed.id) == "error"
    assert rows[("demo", "test_bug")].seen(crashed.id).reason == "unexpected crash"


def test_a_crash_names_the_innermost_line_of_the_code_under_test() -> None:
    """A schema module that fails when the app module imports it: the message names the schema's line."""
    from known_issues.cell.classify import code_under_test_frame

    inner = compile("def build():\n    raise TypeError('unsupported operand')\n", "/x/cases/demo/schemas.py", "exec")
    outer = compile("def load(build):\n    build()\n", "/x/cases/demo/app.py", "exec")
    names: dict[str, Any] = {}
    exec(inner, names)
    exec(outer, names)
    try:
        names["load"](names["build"])
    except TypeError as exc:
        assert code_under_test_frame(exc.__traceback__) == "schemas.py:2"
    else:
        raise AssertionError("the planted code did not raise")


def test_a_printed_block_below_a_case_folder_is_code_under_test() -> None:
    """The guide's blocks are stored once in cases/guide_code/printed/, deeper than a case's own
    modules: a crash there is the code under test's, named by its line; the loader beside them
    (a support module) is not."""
    from known_issues.cell.classify import code_under_test_frame, is_code_under_test

    printed = "/x/cases/guide_code/printed/project/src/auth/schemas.py"
    assert is_code_under_test(printed)
    assert not is_code_under_test("/x/cases/guide_code/support_printed.py")
    assert not is_code_under_test("/x/.envs/c/lib/python3.11/site-packages/cases/demo/app.py")
    block = compile("class UserResponse:\n    model_config = ConfigDict()\n", printed, "exec")
    loader = compile("def load(code):\n    exec(code, {})\n", "/x/cases/guide_code/support_printed.py", "exec")
    names: dict[str, Any] = {}
    exec(loader, names)
    try:
        names["load"](block)
    except NameError as exc:
        assert code_under_test_frame(exc.__traceback__) == "schemas.py:2"
    else:
        raise AssertionError("the planted block did not raise")
