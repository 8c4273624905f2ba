from collections.abc import Iterator

import pytest
from dirty_equals import IsOneOf, IsPartialDict
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import answer, body, bug_or_fixed, lookup, precondition

from .app import ALLOWED, app

# Any non-empty text that is not an allowed value (no lone surrogates: not encodable).
OTHER_VALUES = st.text(st.characters(exclude_categories=["Cs"]), min_size=1).filter(lambda v: v not in ALLOWED)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.mark.bug
def test_none_value_gets_literal_error(client: TestClient) -> None:
    # The control: the route reads an allowed value from the form. A release whose form parsing
    # lost the field altogether would answer "missing" here too; that is not this bug fixed.
    allowed = answer(client.post("/literal", data={"attribute": "abc"}))
    precondition(allowed == {"status": 200, "body": {"attribute": "abc"}}, f"attribute=abc answered {allowed}")
    # httpx encodes None as an empty value: the body is "attribute=".
    response = client.post("/literal", data={"attribute": None})
    bug_or_fixed(
        answer(response),
        # Documented: the empty value is validated against the Literal.
        bug={
            "status": 422,
            "body": {
                "detail": [
                    # The guide quotes Pydantic's msg ("Input should be 'abc' or 'def'"); the error is its
                    # type and loc, the sentence is Pydantic's wording.
                    IsPartialDict(type="literal_error", loc=["body", "attribute"])
                ]
            },
        },
        # Without the regression (fastapi#13533, fixed by PR #13537) an empty value is a missing
        # value, and a field without a default is required: 422 missing, as in 0.113.0.
        fixed={"status": 422, "body": {"detail": [IsPartialDict(type="missing", loc=["body", "attribute"])]}},
    )


@pytest.mark.pattern("the guide: sending None to this field worked (in 0.113.0)")
def test_none_value_is_accepted_as_none(client: TestClient) -> None:
    response = client.post("/literal", data={"attribute": None})
    answer(response)  # recorded: what a None value got, also where it is accepted
    assert response.status_code == 200, response.text
    assert body(response) == {"attribute": None}


@pytest.mark.workaround("the guide's workaround 1: omit the field instead of sending None")
def test_omitting_the_field_is_accepted(client: TestClient) -> None:
    response = client.post("/literal", data={})
    assert response.status_code == 200, response.text
    assert body(response) == {"attribute": None}


@pytest.mark.pattern("ours: a field without a default is required, even when Optional")
def test_omitted_field_without_default_is_missing(client: TestClient) -> None:
    response = client.post("/literal", data={})
    assert response.status_code == 422, response.text
    assert lookup(body(response), "detail") == [IsPartialDict(type="missing", loc=["body", "attribute"])]


@pytest.mark.workaround("the guide's workaround 2: str | None = None accepts a None value")
def test_str_field_accepts_none(client: TestClient) -> None:
    response = client.post("/str-default-none", data={"attribute": None})
    assert response.status_code == 200, response.text
    # Some releases hand the route "" instead of None (fastapi#13533); the route's
    # truthiness check accepts both, which is all this workaround promises.
    assert body(response) == {"attribute": IsOneOf(None, "")}


@pytest.mark.workaround("the guide's workaround 2: str | None = None accepts the allowed values")
def test_str_field_accepts_allowed_values(client: TestClient) -> None:
    for value in ALLOWED:
        response = client.post("/str-default-none", data={"attribute": value})
        assert response.status_code == 200, f"{value!r}: {response.text}"
        assert body(response) == {"attribute": value}


@pytest.mark.workaround("the guide's workaround 2: str | None = None answers 400 to other values")
@given(value=OTHER_VALUES)
def test_str_field_rejects_other_values_with_400(client: TestClient, value: str) -> None:
    response = client.post("/str-default-none", data={"attribute": value})
    assert response.status_code == 400, f"{value!r}: {response.text}"
    assert body(response) == {"detail": "Invalid attribute"}


@pytest.mark.workaround("ours: Optional[Literal] with default None, sent as None or omitted")
def test_literal_with_default_none_accepts_none_and_omission(client: TestClient) -> None:
    sent_none = client.post("/literal-default-none", data={"attribute": None})
    assert sent_none.status_code == 200, sent_none.text
    assert body(sent_none) == {"attribute": None}
    omitted = client.post("/literal-default-none", data={})
    assert omitted.status_code == 200, omitted.text
    assert body(omitted) == {"attribute": None}


@pytest.mark.workaround("ours: Optional[Literal] with default None still rejects other values")
def test_literal_with_default_none_rejects_other_values(client: TestClient) -> None:
    allowed = client.post("/literal-default-none", data={"attribute": "abc"})
    assert allowed.status_code == 200, allowed.text
    assert body(allowed) == {"attribute": "abc"}
    response = client.post("/literal-default-none", data={"attribute": "xyz"})
    assert response.status_code == 422, response.text
    assert lookup(body(response), "detail") == [IsPartialDict(type="literal_error", loc=["body", "attribute"])]
