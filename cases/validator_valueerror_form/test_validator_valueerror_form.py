"""ValueError in a field_validator behind form data: 500 or 422?"""

from typing import Any

import pytest
from dirty_equals import IsOneOf, IsPartialDict, IsStr
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from known_issues.casekit import Observed, answer, body, bug_or_fixed, lookup, requires

from .app import app

# Strict: an exception escaping the app is the code under test crashing (workarounds: broken).
strict = TestClient(app)

form_models = requires("fastapi>=0.113.0", "Form models were added in 0.113.0")

POSITIVE_MSG = IsStr(regex=r".*Value must be positive")
# What a client gets when an exception escapes the app (Starlette's ServerErrorMiddleware).
SERVER_ERROR = {"status": 500, "body": "Internal Server Error"}


def assert_500_from_validator(url: str, *, fixed_error: Any) -> None:
    # One request through a recorder: what the client saw, and the exception the app raised.
    observed = Observed(app)
    response = TestClient(observed, raise_server_exceptions=False).post(url, data={"value": "-1"})
    bug_or_fixed(answer(response), bug=SERVER_ERROR, fixed={"status": 422, "body": {"detail": [fixed_error]}})
    # The 500 is the validator's ValueError escaping as pydantic's ValidationError; any other
    # exception is re-raised as a crash.
    observed.assert_raised(ValidationError, match="Value must be positive")


def assert_answers(response: Any, ok: bool, error_type: str, loc: list[str]) -> None:
    if ok:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 422, response.text
        assert lookup(body(response), "detail") == [IsPartialDict(type=error_type, loc=loc)]


def assert_422_naming_value(response: Any, **error: Any) -> None:
    # A fix must give the client what FastAPI gives for its own validation: a 422 whose single
    # error names the field (under "body" or, when raised in the route, on its own).
    assert response.status_code == 422, response.text
    assert body(response) == {"detail": [IsPartialDict(loc=IsOneOf(["body", "value"], ["value"]), **error)]}


@pytest.mark.bug
@form_models
def test_form_model_value_error_gives_500() -> None:
    # Fixed: FastAPI validates the form model itself, so the ValueError is a request error.
    assert_500_from_validator(
        "/model",
        fixed_error=IsPartialDict(type="value_error", loc=["body", "value"], msg=POSITIVE_MSG),
    )


@pytest.mark.bug
def test_model_built_from_form_fields_gives_500() -> None:
    # Not FastAPI's validation: the model is built inside the route, its error is unhandled.
    # Fixed would be FastAPI answering it as a request error (where it locates it is incidental).
    assert_500_from_validator(
        "/fields", fixed_error=IsPartialDict(type="value_error", msg=POSITIVE_MSG)
    )


@pytest.mark.pattern("Form model: a validator's ValueError is a 422, never a 500")
@form_models
@given(st.integers())
def test_form_model_answers_200_or_422(n: int) -> None:
    response = strict.post("/model", data={"value": str(n)})
    assert_answers(response, n >= 0, "value_error", ["body", "value"])


@pytest.mark.pattern("JSON body: a validator's ValueError is a 422, never a 500")
@given(st.integers())
def test_json_body_answers_200_or_422(n: int) -> None:
    response = strict.post("/json", json={"value": n})
    assert_answers(response, n >= 0, "value_error", ["body", "value"])


@pytest.mark.workaround("the guide's fix 1: raise ValidationError(...) in the validator (Form model)")
@form_models
def test_fix1_form_model() -> None:
    response = strict.post("/model-fix1", data={"value": "-1"})
    assert_422_naming_value(response, msg=POSITIVE_MSG)


@pytest.mark.workaround("the guide's fix 1: raise ValidationError(...) in the validator (model built in the route)")
def test_fix1_model_built_in_route() -> None:
    response = strict.post("/fields-fix1", data={"value": "-1"})
    assert_422_naming_value(response, msg=POSITIVE_MSG)


@pytest.mark.workaround("the guide's fix 2: Annotated[int, Field(gt=0)] (Form model)")
@form_models
@given(st.integers())
def test_fix2_form_model(n: int) -> None:
    # gt=0 also rejects 0, which the original validator accepted.
    response = strict.post("/model-fix2", data={"value": str(n)})
    assert_answers(response, n > 0, "greater_than", ["body", "value"])


@pytest.mark.workaround("the guide's fix 2: Annotated[int, Field(gt=0)] (model built in the route)")
def test_fix2_model_built_in_route() -> None:
    response = strict.post("/fields-fix2", data={"value": "-1"})
    assert_422_naming_value(response, type="greater_than")


@pytest.mark.workaround("ours: re-raise the model's errors as RequestValidationError in the route")
@given(st.integers())
def test_reraised_as_request_validation_error(n: int) -> None:
    response = strict.post("/fields-reraised", data={"value": str(n)})
    assert_answers(response, n >= 0, "value_error", ["value"])
