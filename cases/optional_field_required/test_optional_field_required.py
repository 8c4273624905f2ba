import functools
from collections.abc import Iterator
from typing import Any

import pytest
from dirty_equals import IsPartialDict, IsStr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import Observed, answer, body, bug_or_fixed, load, lookup, precondition

from .app import documented_app, encoded_app, errors_only_app, plain_app, seen

POSITIVE_MSG = IsStr(regex=r".*Value must be positive")
BAD_FORM = {"name": "x", "age": "old"}
# A handler that can serialise its answer: 422 with the error and the form echoed as a mapping.
FORM_REJECTED = {
    "status": 422,
    "body": {"detail": [IsPartialDict(type="int_parsing", loc=["body", "age"])], "body": BAD_FORM},
}
# What a client gets when the exception handler itself raises: Starlette's plain 500.
SERVER_ERROR = {"status": 500, "body": "Internal Server Error"}


@pytest.fixture(autouse=True)
def _clear_seen() -> Iterator[None]:
    seen.clear()
    yield
    seen.clear()


@functools.cache
def client(app: FastAPI) -> TestClient:
    # Strict: a crash of the app (or of its exception handler) is raised into the test as what it
    # is, so a workaround or pattern that crashes is broken with the exception as the reason.
    return TestClient(app)


def post_observed(app: FastAPI, url: str, **kwargs: Any) -> tuple[dict[str, Any], Observed]:
    """One request through a recorder: what a client sees, and what the app raised.

    The request is invalid, so the app's RequestValidationError handler must have run once.
    """
    observed = Observed(app)
    response = TestClient(observed, raise_server_exceptions=False).post(url, **kwargs)
    precondition(len(seen) == 1, f"the exception handler ran {len(seen)} times for one invalid request")
    return answer(response), observed


# --- Optional[str] without a default -------------------------------------------------------


@pytest.mark.bug
def test_optional_without_default_is_required() -> None:
    response = client(plain_app).post("/items/optional-no-default", json={"name": "pen"})
    bug_or_fixed(
        answer(response),
        bug={"status": 422, "body": {"detail": [IsPartialDict(type="missing", loc=["body", "description"])]}},
        fixed={"status": 200, "body": {"name": "pen", "description": None}},
    )


@pytest.mark.pattern("Optional[str] without a default still accepts an explicit null")
def test_optional_without_default_accepts_explicit_null() -> None:
    response = client(plain_app).post("/items/optional-no-default", json={"name": "pen", "description": None})
    assert response.status_code == 200, response.text
    assert body(response) == {"name": "pen", "description": None}


@pytest.mark.workaround("`str | None = None` makes the field omittable")
def test_none_default_accepts_omission() -> None:
    # Loaded here: the guide's `str | None` does not evaluate on Python 3.9 (this test's verdict).
    response = client(load(__package__, "none_default").app).post("/items/none-default", json={"name": "pen"})
    assert response.status_code == 200, response.text
    assert body(response) == {"name": "pen", "description": None}


# --- The guide's RequestValidationError handler --------------------------------------------


@pytest.mark.pattern("guide's handler: 422 with the errors and the original JSON body")
def test_documented_handler_returns_errors_and_body() -> None:
    sent = {"description": "no name"}
    response = client(documented_app).post("/items/optional-no-default", json=sent)
    assert response.status_code == 422, response.text
    assert body(response) == {
        "detail": [IsPartialDict(type="missing", loc=["body", "name"])],
        "body": sent,
    }


json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)


@pytest.mark.pattern("guide's handler echoes any JSON body it rejects, unchanged")
@given(sent=st.dictionaries(st.text(max_size=10).filter(lambda k: k != "name"), json_scalars, max_size=5))
def test_documented_handler_echoes_any_rejected_body(sent: dict[str, Any]) -> None:
    # Without "name" the body is always rejected.
    response = client(documented_app).post("/items/optional-no-default", json=sent)
    assert response.status_code == 422, response.text
    assert lookup(body(response), "body") == sent


@pytest.mark.bug
def test_documented_handler_500_when_ctx_holds_exception() -> None:
    seen_by_client, observed = post_observed(documented_app, "/readings", json={"value": -1})
    bug_or_fixed(
        seen_by_client,
        bug=SERVER_ERROR,
        fixed={
            "status": 422,
            "body": {
                "detail": [IsPartialDict(type="value_error", loc=["body", "value"], msg=POSITIVE_MSG)],
                "body": {"value": -1},
            },
        },
    )
    # The 500 is the handler failing to serialise the ValueError that Pydantic keeps in ctx.
    # Which object json.dumps could not encode is the observation; its sentence is the json module's.
    observed.assert_raised(TypeError, match=r"\bValueError\b")


@pytest.mark.bug
def test_documented_handler_500_on_form_body() -> None:
    seen_by_client, observed = post_observed(documented_app, "/form", data=BAD_FORM)
    bug_or_fixed(
        seen_by_client,
        bug=SERVER_ERROR,
        fixed=FORM_REJECTED,
    )
    # For form data exc.body is Starlette's FormData, which json.dumps cannot encode.
    observed.assert_raised(TypeError, match=r"\bFormData\b")


@pytest.mark.workaround("FastAPI docs: jsonable_encoder over detail and body (ctx exception)")
def test_encoded_handler_value_error_ctx_is_422() -> None:
    response = client(encoded_app).post("/readings", json={"value": -1})
    assert response.status_code == 422, response.text
    assert body(response) == {
        "detail": [IsPartialDict(type="value_error", loc=["body", "value"], msg=POSITIVE_MSG)],
        "body": {"value": -1},
    }


@pytest.mark.workaround("FastAPI docs: jsonable_encoder over detail and body (form data)")
def test_encoded_handler_form_body_is_422() -> None:
    response = client(encoded_app).post("/form", data=BAD_FORM)
    assert response.status_code == 422, response.text
    assert body(response) == {
        "detail": [IsPartialDict(type="int_parsing", loc=["body", "age"])],
        "body": BAD_FORM,  # FormData encoded as a plain mapping
    }


@pytest.mark.workaround("jsonable_encoder(exc.errors()) only: fixes the ctx exception")
def test_errors_only_handler_value_error_ctx_is_422() -> None:
    response = client(errors_only_app).post("/readings", json={"value": -1})
    assert response.status_code == 422, response.text
    # Only this handler adds the original body: FastAPI's own handler would answer the detail alone.
    assert body(response) == {
        "detail": [IsPartialDict(type="value_error", loc=["body", "value"], msg=POSITIVE_MSG)],
        "body": {"value": -1},
    }
    assert len(seen) == 1, f"the custom handler ran {len(seen)} times"


@pytest.mark.bug
def test_errors_only_handler_still_500_on_form_body() -> None:
    seen_by_client, observed = post_observed(errors_only_app, "/form", data=BAD_FORM)
    bug_or_fixed(
        seen_by_client,
        bug=SERVER_ERROR,
        fixed=FORM_REJECTED,
    )
    observed.assert_raised(TypeError, match=r"\bFormData\b")


@pytest.mark.pattern("FastAPI's default handler: 422 for a validator's ValueError")
def test_default_handler_value_error_is_422() -> None:
    response = client(plain_app).post("/readings", json={"value": -1})
    assert response.status_code == 422, response.text
    assert body(response) == {"detail": [IsPartialDict(type="value_error", loc=["body", "value"], msg=POSITIVE_MSG)]}
