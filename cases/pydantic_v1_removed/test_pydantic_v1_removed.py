"""Pydantic v1 in FastAPI: what the metadata admits, and what a pydantic.v1 body model does."""

from __future__ import annotations

import pytest
from dirty_equals import IsPartialDict
from fastapi import FastAPI
from fastapi.exceptions import FastAPIError
from fastapi.testclient import TestClient
from packaging.version import Version

from known_issues.casekit import body, record, requires

from .app import plain_body_app, pydantic_requirement, v1_body_app

# Real Pydantic releases, oldest first: the lowest one FastAPI admits is its floor.
PYDANTIC_RELEASES = [
    "1.7.4", "1.8.2", "1.9.2", "1.10.19",
    "2.0.3", "2.1.1", "2.2.1", "2.3.0", "2.4.2", "2.5.3", "2.6.4", "2.7.0", "2.7.4",
    "2.8.2", "2.9.0", "2.9.2", "2.10.6", "2.11.7", "2.12.5", "2.13.0", "2.14.4",
]  # fmt: skip

v1_namespace = requires("pydantic>=1.10.17", "the pydantic.v1 namespace exists in Pydantic 2 and 1.10.17+")


def admitted() -> list[str]:
    spec = pydantic_requirement()
    return [release for release in PYDANTIC_RELEASES if spec.contains(release)]


def check_item_body(app: FastAPI) -> None:
    client = TestClient(app)
    ok = client.post("/items", json={"name": "pen", "price": 1.5})
    assert ok.status_code == 200, ok.text
    assert body(ok) == {"name": "pen", "price": 1.5}
    bad = client.post("/items", json={"name": "pen", "price": "not a number"})
    assert bad.status_code == 422, bad.text
    # The error must be about the body field, whatever the v1/v2 error wording.
    assert body(bad) == {"detail": [IsPartialDict(loc=["body", "price"])]}


@pytest.mark.pattern("fastapi's Requires-Dist no longer admits any Pydantic 1.x")
def test_requires_dist_excludes_pydantic_1() -> None:
    v1_admitted = [release for release in admitted() if Version(release).major == 1]
    assert v1_admitted == [], f"fastapi requires pydantic{pydantic_requirement()}"


@pytest.mark.pattern("fastapi's Requires-Dist floor is Pydantic 2.7.0")
def test_requires_dist_floor_is_pydantic_2_7() -> None:
    assert admitted()[:1] == ["2.7.0"], f"fastapi requires pydantic{pydantic_requirement()}"


@v1_namespace
@requires("fastapi<0.128.0", "FastAPI dropped pydantic.v1 models in 0.128.0 (PR #14609)")
@pytest.mark.pattern("a pydantic.v1 model as request body is validated and served")
def test_pydantic_v1_model_body_served() -> None:
    check_item_body(v1_body_app())


@v1_namespace
@pytest.mark.pattern("FastAPI refuses a pydantic.v1 model when the route is declared")
def test_pydantic_v1_model_refused_at_definition() -> None:
    # The refusal is the claim; FastAPI's sentence ("pydantic.v1 models are no longer supported")
    # is its wording, shown in the report when the route is declared without it.
    with pytest.raises(FastAPIError) as refused:
        v1_body_app()
    record("declaring the route raised", refused.value)


@requires("pydantic<2", "needs a Pydantic 1 installation")
@pytest.mark.pattern("under Pydantic 1, a plain BaseModel body is served")
def test_plain_model_body_under_pydantic_1() -> None:
    check_item_body(plain_body_app())
