"""Annotated[..., Depends()] whose class is only a forward reference when the route is declared."""

import importlib
from types import ModuleType

import pytest
from dirty_equals import IsPartialDict
from fastapi.testclient import TestClient
from pydantic.errors import PydanticUndefinedAnnotation, PydanticUserError

from known_issues.casekit import CodeRaised


def load(name: str) -> ModuleType:
    # Imported here, not at the top: where declaring the route already fails, that failure is the
    # observation of this test only, and every other test still gets its own verdict.
    return importlib.import_module(f"{__package__}.{name}")


def assert_dependency_works(module: ModuleType) -> None:
    client = TestClient(module.app)
    response = client.get("/")
    assert response.status_code == 200, response.text
    assert response.json() == {"Hello": "World", "color": "red"}
    schema = client.get("/openapi.json").json()
    # A dependency with no inputs of its own adds nothing to the operation...
    assert schema["paths"]["/"]["get"].get("parameters", []) == []
    # ...and its return type is internal, so no Potato schema is expected at all.
    assert "Potato" not in schema.get("components", {}).get("schemas", {})


@pytest.mark.bug
def test_dependency_becomes_a_required_query_parameter() -> None:
    client = TestClient(load("app").app)
    response = client.get("/")
    # Depends is lost: FastAPI asks the client for ?potato=... instead of calling get_potato.
    assert response.status_code == 422
    assert response.json()["detail"] == [IsPartialDict(type="missing", loc=["query", "potato"])]


@pytest.mark.bug
def test_openapi_generation_fails() -> None:
    # Pydantic < 2.10 already refuses the unresolved type when the route is declared; later ones
    # defer it, and /openapi.json then fails on the same unresolved annotation. FastAPI 0.123
    # evaluates the annotation itself when the route is declared: a NameError on the same class.
    with pytest.raises((PydanticUndefinedAnnotation, PydanticUserError, NameError)) as caught:
        module = load("app")
        TestClient(module.app).get("/openapi.json")
    # The documented error names the unresolved class; the same type for another reason is a
    # crash of its own, not this bug gone.
    if "Potato" not in str(caught.value):
        raise CodeRaised(f"{type(caught.value).__name__} not about Potato: {caught.value}") from caught.value


@pytest.mark.workaround("doc #1: drop the __future__ import (nothing else changed)")
def test_without_future_import() -> None:
    assert_dependency_works(load("app_no_future"))


@pytest.mark.workaround("doc #2: quote the dependency's return type, keep the __future__ import")
def test_string_return_annotation() -> None:
    assert_dependency_works(load("app_string_return"))


@pytest.mark.workaround("doc #3: define the class before the dependency and the route")
def test_class_defined_first() -> None:
    assert_dependency_works(load("app_class_first"))


@pytest.mark.workaround("ours: no __future__ import, Annotated['Potato', Depends(...)]")
def test_quoted_class_inside_annotated() -> None:
    assert_dependency_works(load("app_quoted_in_annotated"))
