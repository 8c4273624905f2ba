import json
from collections.abc import Iterator
from itertools import combinations

import pytest
from dirty_equals import IsPartialDict
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import answer, body, bug_or_fixed, requires

from .app import app

form_models = requires("fastapi>=0.113.0", "Form models were added in 0.113.0")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.mark.bug
@form_models
def test_form_model_marks_unsent_defaults_as_set(client: TestClient) -> None:
    response = client.post("/form/search", data={"query": "shoes"})
    values = {"query": "shoes", "sort": "relevance", "page_size": 20}
    bug_or_fixed(
        answer(response),
        # Documented: the defaults FastAPI filled in count as sent by the client.
        bug={"status": 200, "body": {"set": ["page_size", "query", "sort"], "values": values}},
        fixed={"status": 200, "body": {"set": ["query"], "values": values}},
    )


@pytest.mark.bug
@form_models
def test_form_model_marks_unsent_bool_as_set(client: TestClient) -> None:
    response = client.post("/form/subscription", data={"email": "a@example.com"})
    # The value is part of the observation: an unsent bool read as False (an unchecked
    # checkbox) is "set" too, but with a value that is not its default; that is neither outcome.
    values = {"email": "a@example.com", "field_1": True}
    bug_or_fixed(
        answer(response),
        bug={"status": 200, "body": {"set": ["email", "field_1"], "values": values}},
        fixed={"status": 200, "body": {"set": ["email"], "values": values}},
    )


# Form bodies the guide's fix 1 should tell apart: nothing, each field's default sent explicitly,
# and other values.
SUBMISSIONS: list[dict[str, str]] = [
    {},
    {"field_1": "true"},
    {"field_1": "false"},
    {"field_2": "x"},
]


@pytest.mark.workaround("the guide's fix 1: individual Form() parameters tell what the client provided")
def test_individual_form_params_tell_what_was_provided(client: TestClient) -> None:
    received: list[tuple[dict[str, str], object]] = []
    for sent in SUBMISSIONS:
        response = client.post("/form-individual", data=sent)
        assert response.status_code == 200, f"{sent}: {response.text}"
        received.append((sent, body(response)))
    # Knowing exactly what was provided: no two different bodies reach the route as the same arguments.
    same = [
        f"{json.dumps(a)} and {json.dumps(b)} both arrive as {json.dumps(args)}"
        for (a, args), (b, other) in combinations(received, 2)
        if args == other
    ]
    assert not same, "; ".join(same)


@pytest.mark.workaround("ours: the guide's fix 1 hands the route its declared defaults for omitted fields")
def test_individual_form_params_get_declared_defaults(client: TestClient) -> None:
    omitted = client.post("/form-individual", data={})
    assert omitted.status_code == 200, omitted.text
    assert body(omitted) == {"field_1": True, "field_2": None}
    sent = client.post("/form-individual", data={"field_1": "false", "field_2": "x"})
    assert sent.status_code == 200, sent.text
    assert body(sent) == {"field_1": False, "field_2": "x"}


@pytest.mark.pattern("the guide's fix 1 refuses a form value that is not a bool: 422 bool_parsing at body.field_1")
def test_individual_form_param_refuses_a_value_that_is_not_a_bool(client: TestClient) -> None:
    response = client.post("/form-individual", data={"field_1": "maybe", "field_2": "x"})
    # type and loc exactly; msg, input and url are incidental.
    assert answer(response) == {
        "status": 422,
        "body": {"detail": [IsPartialDict(type="bool_parsing", loc=["body", "field_1"])]},
    }


@pytest.mark.workaround("ours: individual Form() parameters defaulting to None mark what was sent")
def test_individual_form_params_with_none_default_tell_what_was_sent(
    client: TestClient,
) -> None:
    omitted = client.post("/form-individual-sentinel", data={"field_2": "x"})
    assert omitted.status_code == 200, omitted.text
    assert body(omitted) == ["field_2"]
    sent = client.post("/form-individual-sentinel", data={"field_1": "true"})
    assert sent.status_code == 200, sent.text
    assert body(sent) == ["field_1"]


@pytest.mark.workaround("the guide's fix 2: a JSON body model reports exactly the sent fields")
@given(
    optional=st.fixed_dictionaries(
        {},
        optional={
            "sort": st.sampled_from(["relevance", "date", ""]),
            "page_size": st.integers(min_value=0, max_value=500),
        },
    )
)
def test_json_body_fields_set_is_what_was_sent(client: TestClient, optional: dict[str, object]) -> None:
    # Sending a field with its default value must still count as sent.
    payload = {"query": "shoes", **optional}
    response = client.post("/json/search", json=payload)
    assert response.status_code == 200, response.text
    assert body(response) == sorted(payload)
