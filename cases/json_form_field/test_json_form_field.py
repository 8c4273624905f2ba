import json
from collections.abc import Iterator
from typing import Any

import pytest
from dirty_equals import IsPartialDict
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import answer, body, bug_or_fixed, lookup

from .app import app

# Strings a form can carry: no lone surrogates (they cannot be encoded).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
NOT_A_JSON_LIST = ["not json", "{}", '"a"', "[1, 2]", '["a", 1]', "["]


def location_starts(answered: Any) -> Any:
    """The first two parts of each error's loc in a 422 body; what was answered instead, unchanged."""
    errors = lookup(answered, "detail")
    if not isinstance(errors, list):
        return errors
    return {tuple(loc[:2]) if isinstance(loc := lookup(error, "loc"), list) else repr(loc) for error in errors}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Strict: an exception raised by a route reaches the test as what it is, a crash of the code
    # under test (a workaround is then broken, with the exception as the reason), never a status.
    with TestClient(app) as c:
        yield c


@pytest.mark.bug
def test_json_form_field_rejects_valid_json_list(client: TestClient) -> None:
    response = client.post("/broken", data={"json_list": '["a", "b"]'})
    bug_or_fixed(
        answer(response),
        # Documented: a valid JSON list is refused with a 422. The error is Pydantic's json_type: the
        # value reached the validator as a list, not as the string (its wording: json_form_error_message).
        bug={"status": 422, "body": {"detail": [IsPartialDict(type="json_type", loc=["body", "json_list"])]}},
        fixed={"status": 200, "body": ["a", "b"]},
    )


@pytest.mark.workaround("the guide's fix: accept str, parse with a Json[list[str]] model")
@given(items=st.lists(TEXT, max_size=8))
def test_str_then_model_round_trips_any_list(client: TestClient, items: list[str]) -> None:
    response = client.post("/working", data={"json_list": json.dumps(items)})
    assert response.status_code == 200, response.text
    assert body(response) == items


@pytest.mark.workaround("ours: the guide's fix, given invalid JSON, answers a client error (a 422)")
def test_str_then_model_rejects_invalid_json_as_client_error(client: TestClient) -> None:
    # The guide's model raises ValidationError inside the route: a crash (500), not a 422.
    for raw in NOT_A_JSON_LIST:
        response = client.post("/working", data={"json_list": raw})
        assert response.status_code == 422, f"{raw!r}: {response.text}"
        assert location_starts(body(response)) == {("body", "json_list")}, f"{raw!r}: {response.text}"


@pytest.mark.workaround("ours: accept str, parse with the model, turn its errors into a 422")
def test_checked_parse_rejects_invalid_json_with_422(client: TestClient) -> None:
    for raw in NOT_A_JSON_LIST:
        response = client.post("/working-checked", data={"json_list": raw})
        assert response.status_code == 422, f"{raw!r}: {response.text}"
        # Locations may go deeper (the list item that is not a string): check their start.
        assert location_starts(body(response)) == {("body", "json_list")}, f"{raw!r}: {response.text}"


@pytest.mark.workaround("ours: accept str, parse with the model, turn its errors into a 422")
@given(items=st.lists(TEXT, max_size=8))
def test_checked_parse_round_trips_any_list(client: TestClient, items: list[str]) -> None:
    response = client.post("/working-checked", data={"json_list": json.dumps(items)})
    assert response.status_code == 200, response.text
    assert body(response) == items
