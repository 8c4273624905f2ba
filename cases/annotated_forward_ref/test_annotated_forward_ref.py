"""Annotated[..., Depends()] whose class is only a forward reference when the route is declared.

Every test imports its module inside the test (``casekit.load``): where declaring the route
already fails (Pydantic < 2.10, FastAPI 0.123.7 to 0.124.1), that failure is the observation of
that test only.
"""

from types import ModuleType
from typing import Any

import pytest
from dirty_equals import IsPartialDict
from fastapi.testclient import TestClient
from pydantic.errors import PydanticUserError

from known_issues.casekit import Observed, answer, body, bug_or_fixed, load, lookup

# What GET / answers once the dependency is called, and the operation it then documents: a
# dependency with no inputs of its own adds no parameter, and its return type is internal.
DEPENDENCY_CALLED = {"status": 200, "body": {"Hello": "World", "color": "red"}}
CORRECT_OPERATION: dict[str, Any] = {"status": 200, "parameters": []}
# The incorrect schema: Depends is lost, so `potato` is documented as a required query parameter.
POTATO_AS_QUERY = {
    "status": 200,
    "parameters": [IsPartialDict({"name": "potato", "in": "query", "required": True})],
}


def root_operation(schema: Any) -> Any:
    """The parameters GET / documents (none: []); what the schema holds instead when it has no GET /."""
    operation = lookup(schema, "paths", "/", "get")
    return operation.get("parameters", []) if isinstance(operation, dict) else operation


def assert_dependency_works(module: ModuleType) -> None:
    client = TestClient(module.app)
    response = client.get("/")
    assert response.status_code == 200, response.text
    assert body(response) == DEPENDENCY_CALLED["body"]
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    schema = body(response)
    assert root_operation(schema) == []
    components = lookup(schema, "components", "schemas")
    assert not (isinstance(components, dict) and "Potato" in components), components


@pytest.mark.bug
def test_dependency_becomes_a_required_query_parameter() -> None:
    response = TestClient(load(__package__, "app").app).get("/")
    # Depends is lost: FastAPI asks the client for ?potato=... instead of calling get_potato.
    bug_or_fixed(
        answer(response),
        bug={"status": 422, "body": {"detail": [IsPartialDict(type="missing", loc=["query", "potato"])]}},
        fixed=DEPENDENCY_CALLED,
    )


@pytest.mark.bug
def test_openapi_generation_fails() -> None:
    # The guide's two symptoms: /openapi.json fails on the unresolved class, or it answers with an
    # incorrect schema. Fixed: the schema documents no parameter. Declaring the route is not
    # generating the schema: where that already raises (PydanticUndefinedAnnotation with Pydantic
    # < 2.10, NameError with FastAPI 0.123.7 to 0.124.1), the import's exception is this test's
    # crash (an error, not this bug).
    observed = Observed(load(__package__, "app").app)
    response = TestClient(observed, raise_server_exceptions=False).get("/openapi.json")
    if response.status_code == 500:
        # Pydantic >= 2.10 builds the parameter's TypeAdapter lazily, for the schema: it refuses
        # the annotation that still holds the string "Annotated[Potato, Depends(get_potato)]".
        # The unresolved class is the observation; Pydantic's sentence around it ("... is not fully
        # defined; you should define ...") is its wording.
        observed.assert_raised(PydanticUserError, match=r"\bPotato\b")
        return
    answered = root_operation(body(response)) if response.status_code == 200 else response.text
    bug_or_fixed({"status": response.status_code, "parameters": answered}, bug=POTATO_AS_QUERY, fixed=CORRECT_OPERATION)


@pytest.mark.workaround("doc #1: drop the __future__ import (nothing else changed)")
def test_without_future_import() -> None:
    assert_dependency_works(load(__package__, "app_no_future"))


@pytest.mark.workaround("doc #2: quote the dependency's return type, keep the __future__ import")
def test_string_return_annotation() -> None:
    assert_dependency_works(load(__package__, "app_string_return"))


@pytest.mark.workaround("doc #3: define the class before the dependency and the route")
def test_class_defined_first() -> None:
    assert_dependency_works(load(__package__, "app_class_first"))


@pytest.mark.workaround("ours: no __future__ import, Annotated['Potato', Depends(...)]")
def test_quoted_class_inside_annotated() -> None:
    assert_dependency_works(load(__package__, "app_quoted_in_annotated"))
