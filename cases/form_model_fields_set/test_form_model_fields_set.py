from collections.abc import Iterator

import pytest
from dirty_equals import IsOneOf, IsPartialDict
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import answer, body, bug_or_fixed, lookup, precondition, requires

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


@pytest.mark.bug(
    note="an unsent bool listed as sent, whatever value it got (its default True, or False in 0.147-0.161)"
)
@form_models
def test_form_model_marks_unsent_bool_as_set(client: TestClient) -> None:
    # The control: a bool the client sends is read as sent, with its value.
    sent = answer(client.post("/form/subscription", data={"email": "a@example.com", "field_1": "false"}))
    both = {"set": ["email", "field_1"], "values": {"email": "a@example.com", "field_1": False}}
    precondition(sent == {"status": 200, "body": both}, f"a form with field_1=false answered {sent}")
    response = client.post("/form/subscription", data={"email": "a@example.com"})
    # The guide's words: fields_set lists fields the client did not send, so sent cannot be told
    # from defaulted. An unsent field_1 in the set is that, whatever value it was given; the value
    # (True, its default; False where a missing bool is read as an unchecked checkbox) is the
    # observation test_form_model_unsent_bool_gets_its_default judges.
    bug_or_fixed(
        answer(response),
        bug={
            "status": 200,
            "body": {
                "set": ["email", "field_1"],
                "values": {"email": "a@example.com", "field_1": IsOneOf(True, False)},
            },
        },
        fixed={"status": 200, "body": {"set": ["email"], "values": {"email": "a@example.com", "field_1": True}}},
    )


@pytest.mark.pattern("ours: a form model's unsent bool gets its declared default (True), not False")
@form_models
def test_form_model_unsent_bool_gets_its_default(client: TestClient) -> None:
    response = client.post("/form/subscription", data={"email": "a@example.com"})
    assert response.status_code == 200, response.text
    assert lookup(body(response), "values") == {"email": "a@example.com", "field_1": True}


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
