from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import requires

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
    assert response.status_code == 200
    # The documented bug: the defaults FastAPI filled in count as sent by the client.
    assert response.json() == ["page_size", "query", "sort"]


@pytest.mark.bug
@form_models
def test_form_model_marks_unsent_bool_as_set(client: TestClient) -> None:
    response = client.post("/form/subscription", data={"email": "a@example.com"})
    assert response.status_code == 200
    assert response.json() == ["email", "field_1"]


@pytest.mark.workaround("document's fix 1: individual Form() parameters get their defaults")
def test_individual_form_params_get_declared_defaults(client: TestClient) -> None:
    omitted = client.post("/form-individual", data={})
    assert omitted.status_code == 200
    assert omitted.json() == {"field_1": True, "field_2": None}
    sent = client.post("/form-individual", data={"field_1": "false", "field_2": "x"})
    assert sent.status_code == 200
    assert sent.json() == {"field_1": False, "field_2": "x"}


@pytest.mark.workaround("ours: individual Form() parameters defaulting to None mark what was sent")
def test_individual_form_params_with_none_default_tell_what_was_sent(
    client: TestClient,
) -> None:
    omitted = client.post("/form-individual-sentinel", data={"field_2": "x"})
    assert omitted.status_code == 200
    assert omitted.json() == ["field_2"]
    sent = client.post("/form-individual-sentinel", data={"field_1": "true"})
    assert sent.status_code == 200
    assert sent.json() == ["field_1"]


@pytest.mark.workaround("document's fix 2: a JSON body model reports exactly the sent fields")
@given(
    optional=st.fixed_dictionaries(
        {},
        optional={
            "sort": st.sampled_from(["relevance", "date", ""]),
            "page_size": st.integers(min_value=0, max_value=500),
        },
    )
)
def test_json_body_fields_set_is_what_was_sent(
    client: TestClient, optional: dict[str, object]
) -> None:
    # Sending a field with its default value must still count as sent.
    payload = {"query": "shoes", **optional}
    response = client.post("/json/search", json=payload)
    assert response.status_code == 200
    assert response.json() == sorted(payload)
