"""A release that changes one behaviour flips that behaviour's verdict and nothing else (issue 34).

Each kind of miss, planted in a real pytest run of the plugin on a small case (a real FastAPI app,
a real TestClient): a missing event, an exception raised by the packages under test, a setup step
whose answer changed, a bug test whose control fails, a workaround whose handler does not run, a
reworded message.
"""

from __future__ import annotations

import json
import textwrap

import pytest


def _run(pytester: pytest.Pytester, files: dict[str, str]) -> dict[str, dict]:
    folder = pytester.path / "cases" / "demo"
    folder.mkdir(parents=True)
    (pytester.path / "cases" / "__init__.py").write_text("")
    (folder / "__init__.py").write_text("")
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    out = pytester.path / "results.json"
    pytester.runpytest_subprocess("-p", "known_issues.cell.plugin", "--ki-results", str(out), "-p", "no:cacheprovider")
    return {t["test"]: t for t in json.loads(out.read_text())["tests"]}


def _verdict(test: dict) -> tuple[str, str | None]:
    return test["verdict"], test["reason"]


def test_a_missing_event_reads_broken_not_error(pytester: pytest.Pytester) -> None:
    got = _run(
        pytester,
        {
            "app.py": """
            # A release that stopped committing: the log has no "commit".
            events = ["route_returned", "response_sent", "closed"]
            """,
            "test_demo.py": """
            import pytest
            from known_issues.casekit import among
            from .app import events

            @pytest.mark.workaround("commit before the response")
            def test_commit_before_response():
                assert among(events, "commit", "response_sent") == ["commit", "response_sent"], events

            @pytest.mark.workaround("the old way: index() of an event that is not there")
            def test_commit_before_response_by_index():
                assert events.index("commit") < events.index("response_sent"), events
            """,
        },
    )
    test = got["test_commit_before_response"]
    assert (test["verdict"], test["outcome"]) == ("broken", "failed")
    assert "response_sent" in test["message"]
    # What the helper replaces: a ValueError raised in the test, the suite's own error.
    assert _verdict(got["test_commit_before_response_by_index"]) == ("error", "harness")


def test_an_exception_raised_by_the_packages_under_test_is_their_behaviour(pytester: pytest.Pytester) -> None:
    got = _run(
        pytester,
        {
            "app.py": """
            from fastapi import FastAPI
            from pydantic import BaseModel

            app = FastAPI()

            class Item(BaseModel):
                price: float

            @app.get("/")
            async def root():
                return {"ok": True}
            """,
            "support_helpers.py": """
            def build_headers(token):
                # A bug of the suite's own helper: a TypeError raised in a support module.
                return {"Authorization": "Bearer " + token}
            """,
            "test_demo.py": """
            import httpx
            import pytest
            from fastapi.testclient import TestClient
            from .app import Item, app
            from .support_helpers import build_headers

            class NotAnAuth:
                pass

            @pytest.mark.workaround("send an auth object through the TestClient")
            def test_client_refuses_auth():
                # The TestClient's HTTP client refuses the argument: a TypeError raised in httpx.
                response = TestClient(app).get("/", auth=NotAnAuth())
                assert response.status_code == 200, response.text

            @pytest.mark.bug
            def test_client_refuses_auth_in_a_bug_test():
                response = TestClient(app).get("/", auth=NotAnAuth())
                assert response.status_code == 500

            @pytest.mark.pattern("the model refuses a wrong value, raised in the test's call")
            def test_model_refuses():
                assert Item(price="not a number").price > 0

            @pytest.mark.pattern("a helper of the suite raises")
            def test_helper_raises():
                response = TestClient(app).get("/", headers=build_headers(None))
                assert response.status_code == 200, response.text

            @pytest.mark.pattern("the test's own TypeError")
            def test_own_type_error():
                assert len(None) == 0

            @pytest.mark.pattern("a server that is not there: httpx reports the network, not itself")
            def test_connection_refused():
                httpx.get("http://127.0.0.1:1/", timeout=5, trust_env=False)
            """,
        },
    )
    refused = got["test_client_refuses_auth"]
    assert (refused["verdict"], refused["outcome"]) == ("broken", "crashed"), refused["message"]
    assert refused["message"].startswith('TypeError: Invalid "auth" argument')
    assert "(raised in httpx" in refused["message"]
    assert _verdict(got["test_client_refuses_auth_in_a_bug_test"]) == ("error", "unexpected crash")
    model = got["test_model_refuses"]
    assert (model["verdict"], model["outcome"]) == ("broken", "crashed"), model["message"]
    assert "(raised in pydantic/" in model["message"]
    # The suite's own code stays the suite's error.
    helper = got["test_helper_raises"]
    assert _verdict(helper) == ("error", "harness"), helper["message"]
    assert helper["message"].startswith("TypeError: can only concatenate str")
    assert _verdict(got["test_own_type_error"]) == ("error", "harness")
    assert _verdict(got["test_connection_refused"]) == ("error", "harness")


JWT_APP = """
from fastapi import FastAPI, Header, HTTPException

VALID = "valid-token"


def make_app(me_body, accept_valid=True):
    app = FastAPI()

    @app.get("/auth/me")
    async def me(authorization: str = Header("")):
        if authorization != f"Bearer {VALID}" or not accept_valid:
            raise HTTPException(401, "Could not validate credentials", headers={"WWW-Authenticate": "Bearer"})
        return me_body

    return app


# The release before: exactly the documented body.
documented = make_app({"id": 1, "email": "a@example.com"})
# A release that only adds a field to /auth/me: every token is refused or accepted as before.
added_field = make_app({"id": 1, "email": "a@example.com", "role": "user"})
# A release that renamed the field the refusal tests use.
renamed_field = make_app({"user_id": 1, "email": "a@example.com"})
# A release that refuses every token, the valid one too.
refuses_all = make_app({"id": 1, "email": "a@example.com"}, accept_valid=False)
"""

JWT_TESTS = """
import pytest
from fastapi.testclient import TestClient
from known_issues.casekit import answer, bug_or_fixed, lookup, precondition
from . import app as apps

APPS = ["documented", "added_field", "renamed_field", "refuses_all"]


def me(client, token):
    return client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


def accepted(client, token, user_id):
    response = me(client, token)
    precondition(
        response.status_code == 200 and lookup(answer(response)["body"], "id") == user_id,
        f"a valid token was not accepted for user {user_id}: {response.status_code} {response.text}",
    )


@pytest.mark.pattern("register, log in, read /auth/me")
@pytest.mark.parametrize("release", APPS)
def test_happy_path(release):
    client = TestClient(getattr(apps, release))
    assert answer(me(client, apps.VALID)) == {"status": 200, "body": {"id": 1, "email": "a@example.com"}}


@pytest.mark.pattern("a token signed with another key is refused with 401")
@pytest.mark.parametrize("release", APPS)
def test_other_key_refused(release):
    client = TestClient(getattr(apps, release))
    accepted(client, apps.VALID, 1)
    assert answer(me(client, "forged")) == {"status": 401, "body": {"detail": "Could not validate credentials"}}


@pytest.mark.bug
@pytest.mark.parametrize("release", APPS)
def test_forged_token_accepted(release):
    # The documented bug: a token forged with the printed secret is accepted. Here it is refused in
    # every release, so a release that refuses every token must not read as the bug fixed.
    client = TestClient(getattr(apps, release))
    accepted(client, apps.VALID, 1)
    bug_or_fixed(
        answer(me(client, "forged")),
        bug={"status": 200, "body": {"id": 1, "email": "a@example.com"}},
        fixed={"status": 401, "body": {"detail": "Could not validate credentials"}},
    )
"""


def test_a_setup_step_checks_only_what_the_test_needs_and_a_bug_has_a_control(pytester: pytest.Pytester) -> None:
    got = _run(pytester, {"app.py": JWT_APP, "test_demo.py": JWT_TESTS})
    verdicts = {name: _verdict(test) for name, test in got.items()}
    # The happy path judges the body: any change of it is its verdict.
    assert verdicts["test_happy_path[documented]"] == ("works", None)
    assert verdicts["test_happy_path[added_field]"] == ("broken", None)
    assert verdicts["test_happy_path[renamed_field]"] == ("broken", None)
    # A refusal test: an added field changes nothing; the field it uses gone, it could not observe.
    assert verdicts["test_other_key_refused[documented]"] == ("works", None)
    assert verdicts["test_other_key_refused[added_field]"] == ("works", None)
    assert verdicts["test_other_key_refused[renamed_field]"] == ("error", "precondition")
    assert "a valid token was not accepted" in got["test_other_key_refused[renamed_field]"]["message"]
    # The bug test's control: every token refused (the forged one too) is not this bug fixed.
    assert verdicts["test_forged_token_accepted[documented]"] == ("fixed", None)
    assert verdicts["test_forged_token_accepted[added_field]"] == ("fixed", None)
    assert verdicts["test_forged_token_accepted[refuses_all]"] == ("error", "precondition")


def test_a_workaround_whose_handler_does_not_run_is_broken(pytester: pytest.Pytester) -> None:
    got = _run(
        pytester,
        {
            "app.py": """
            from fastapi import FastAPI
            from fastapi.exceptions import RequestValidationError
            from fastapi.responses import JSONResponse
            from pydantic import BaseModel

            seen = []

            class Reading(BaseModel):
                value: int

            async def handler(request, exc):
                seen.append(exc)
                return JSONResponse(status_code=422, content={"detail": exc.errors()})

            def make_app(register):
                app = FastAPI()
                if register:
                    app.add_exception_handler(RequestValidationError, handler)

                @app.post("/readings")
                async def readings(reading: Reading):
                    return reading.model_dump()

                return app

            with_handler = make_app(True)
            # A release (or a change of the app) where the handler is no longer called.
            handler_not_called = make_app(False)
            """,
            "test_demo.py": """
            import pytest
            from dirty_equals import IsPartialDict
            from fastapi.testclient import TestClient
            from known_issues.casekit import body
            from . import app as apps

            @pytest.mark.workaround("the custom handler answers the 422")
            @pytest.mark.parametrize("variant", ["with_handler", "handler_not_called"])
            def test_handler_answers(variant):
                apps.seen.clear()
                response = TestClient(getattr(apps, variant)).post("/readings", json={"value": "x"})
                assert response.status_code == 422, response.text
                assert body(response) == {"detail": [IsPartialDict(type="int_parsing", loc=["body", "value"])]}
                assert len(apps.seen) == 1, f"the handler ran {len(apps.seen)} times"

            @pytest.mark.workaround("the old way: only what FastAPI's own handler gives too")
            @pytest.mark.parametrize("variant", ["with_handler", "handler_not_called"])
            def test_handler_answers_without_proof(variant):
                response = TestClient(getattr(apps, variant)).post("/readings", json={"value": "x"})
                assert response.status_code == 422, response.text
            """,
        },
    )
    assert _verdict(got["test_handler_answers[with_handler]"]) == ("holds", None)
    not_called = got["test_handler_answers[handler_not_called]"]
    assert _verdict(not_called) == ("broken", None)
    assert "the handler ran 0 times" in not_called["message"]
    # Without the proof, the framework's default 422 would read as the workaround holding.
    assert _verdict(got["test_handler_answers_without_proof[handler_not_called]"]) == ("holds", None)


def test_a_reworded_message_leaves_the_verdict(pytester: pytest.Pytester) -> None:
    got = _run(
        pytester,
        {
            "app.py": """
            import json

            class FormData(dict):
                pass

            class V1Refused(Exception):
                pass

            def declare(wording):
                # The framework refuses the model when the route is declared, in either wording.
                raise V1Refused(wording)

            def serialise(wording):
                raise TypeError(wording)
            """,
            "test_demo.py": """
            import pytest
            from .app import V1Refused, declare, serialise

            OLD = "pydantic.v1 models are no longer supported"
            NEW = "Pydantic v1 models cannot be used here"

            @pytest.mark.pattern("the framework refuses the model at declaration")
            @pytest.mark.parametrize("wording", [OLD, NEW])
            def test_refused(wording):
                with pytest.raises(V1Refused):
                    declare(wording)

            @pytest.mark.pattern("the old way: the message asserted word for word")
            @pytest.mark.parametrize("wording", [OLD, NEW])
            def test_refused_by_wording(wording):
                with pytest.raises(V1Refused, match=r"pydantic\\.v1 models are no longer supported"):
                    declare(wording)

            @pytest.mark.bug
            @pytest.mark.parametrize(
                "wording", ["Object of type FormData is not JSON serializable", "cannot serialise a FormData"]
            )
            def test_handler_cannot_serialise_form_data(wording):
                # Which object cannot be serialised is the observation, not the sentence around it.
                with pytest.raises(TypeError, match="FormData"):
                    serialise(wording)
            """,
        },
    )
    verdicts = {name: _verdict(test) for name, test in got.items()}
    assert verdicts["test_refused[pydantic.v1 models are no longer supported]"] == ("works", None)
    assert verdicts["test_refused[Pydantic v1 models cannot be used here]"] == ("works", None)
    # What a reworded message did to the old assertion: a crash, the pattern broken.
    assert verdicts["test_refused_by_wording[Pydantic v1 models cannot be used here]"] == ("broken", None)
    assert [v for name, v in verdicts.items() if name.startswith("test_handler_cannot")] == [("reproduces", None)] * 2


def test_the_observation_helpers_never_raise_on_what_was_observed() -> None:
    import httpx

    from known_issues.casekit import Missing, SuiteFault, among, answered_with, body, lookup
    from known_issues.cell.verdicts import Reason

    observed = {"detail": [{"loc": ["query", "limit"], "type": "int_parsing"}]}
    assert lookup(observed, "detail", 0, "type") == "int_parsing"
    for path in (("detail", 1), ("detail", 0, "msg"), ("body",), ("detail", "x")):
        missing = lookup(observed, *path)
        assert isinstance(missing, Missing) and not missing
        assert missing != {} and missing != "int_parsing" and missing != []
        assert repr(missing).startswith("<missing [")
    assert isinstance(lookup("Internal Server Error", "detail"), Missing)
    assert among(["route_returned", "response_sent", "closed"], "commit", "response_sent") == ["response_sent"]
    assert body(httpx.Response(500, text="Internal Server Error")) == "Internal Server Error"
    assert answered_with(httpx.Response(201, json={"id": 7, "name": "x"}), 201, "id") == 7
    for response in (httpx.Response(200, json={"id": 7}), httpx.Response(201, json={"item_id": 7})):
        with pytest.raises(SuiteFault) as refused:
            answered_with(response, 201, "id")
        assert refused.value.reason == Reason.PRECONDITION
