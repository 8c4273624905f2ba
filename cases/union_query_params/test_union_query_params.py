"""A query parameter typed `int | str` (or `UUID | str`) receives a str under Pydantic v2."""

import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import load, requires

# The document's `X | Y` annotations are evaluated when the routes are declared: Python 3.10+.
pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 10),
    reason=f"feature absent: `int | str` annotations need Python 3.10 (this is {sys.version.split()[0]})",
)

SOME_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Loaded here, not at import: the skip above must apply before the annotations are evaluated.
    yield TestClient(load(__package__, "app").app)


def type_of(client: TestClient, path: str, value: object) -> str:
    response = client.get(path, params={"value": str(value)})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.bug
def test_int_or_str_query_gives_str(client: TestClient) -> None:
    # Pydantic v2's smart union keeps the str input as str: an exact match beats a coercion.
    assert type_of(client, "/int", "123") == "<class 'str'>"


@pytest.mark.bug
def test_uuid_or_str_query_gives_str(client: TestClient) -> None:
    assert type_of(client, "/uuid", SOME_UUID) == "<class 'str'>"


@pytest.mark.bug
def test_optional_int_or_str_query_gives_str(client: TestClient) -> None:
    # The usual shape of an optional query parameter: `int | str | None = None`.
    assert type_of(client, "/optional-int", "123") == "<class 'str'>"


@pytest.mark.workaround("doc: annotate the query parameter as plain int")
def test_plain_int_query_gives_int(client: TestClient) -> None:
    assert type_of(client, "/int-only", "123") == "<class 'int'>"


@pytest.mark.workaround("doc: model with `int | str` and a field_validator turning digit strings into int")
@requires("pydantic>=2", "field_validator exists only in Pydantic v2")
def test_validator_model_gives_int_for_digits(client: TestClient) -> None:
    assert type_of(client, "/validated", "123") == "<class 'int'>"


@pytest.mark.workaround("doc's validator model, for every integer (what `int | str` gave under v1)")
@requires("pydantic>=2", "field_validator exists only in Pydantic v2")
@given(st.integers())
def test_validator_model_gives_int_for_any_integer(client: TestClient, n: int) -> None:
    # str.isdigit() rejects a leading minus sign, so negative numbers stay str.
    assert type_of(client, "/validated", n) == "<class 'int'>"


# 64-bit integers: bigger ones depend on pydantic-core's big-int support, not on the union mode.
INT64 = st.integers(-(2**63), 2**63 - 1)
LETTERS = st.text(st.characters(categories=["L"]), min_size=1)


@pytest.mark.workaround("ours: Field(union_mode='left_to_right') restores v1's first-match order")
@requires("pydantic>=2.2", "union_mode was added in Pydantic 2.2")
@requires("fastapi>=0.105.0", "Query() next to Field() in one Annotated needs FastAPI 0.105.0")
@given(INT64 | st.uuids().map(str) | LETTERS)
def test_left_to_right_union_mode(client: TestClient, value: object) -> None:
    # Integers come back as int; anything that is not an integer still falls through to str.
    expected = "<class 'int'>" if isinstance(value, int) else "<class 'str'>"
    assert type_of(client, "/left-to-right", value) == expected
