"""The Minimal Working Example (the guide's src/main.py as printed, imported by app.py): both routes and the docs, in
process and served by ``fastapi dev``."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dirty_equals import IsPartialDict
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from known_issues.casekit import answer, body, lookup, requires
from known_issues.serving import console_script, free_port, serve

from .app import MINIMAL_MAIN, app

SWAGGER_TITLE = "<title>My API - Swagger UI</title>"
# The page points Swagger UI at the schema; older and newer releases differ only in the quotes.
SPEC_URL = re.compile(r"""url:\s*['"]/openapi\.json['"]""")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def check_docs_page(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert (response.headers.get("content-type") or "").startswith("text/html"), response.headers
    assert SWAGGER_TITLE in response.text
    assert SPEC_URL.search(response.text), "the docs page does not load /openapi.json"


@pytest.mark.pattern("GET / answers 200 with the greeting")
def test_root_returns_greeting(client: TestClient) -> None:
    assert answer(client.get("/")) == {"status": 200, "body": {"message": "Hello World"}}


@pytest.mark.pattern("POST /items answers 200 with the item it was sent")
def test_post_item_echoes_body(client: TestClient) -> None:
    response = client.post("/items", json={"name": "Test", "price": 9.99})
    assert answer(response) == {"status": 200, "body": {"name": "Test", "price": 9.99}}


# Any name (a JSON string cannot carry a lone surrogate) and any finite price come back unchanged.
names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
prices = st.floats(allow_nan=False, allow_infinity=False)


@pytest.mark.pattern("POST /items echoes every valid item exactly")
@given(name=names, price=prices)
@settings(max_examples=20)
def test_post_item_echoes_any_valid_item(client: TestClient, name: str, price: float) -> None:
    response = client.post("/items", json={"name": name, "price": price})
    assert answer(response) == {"status": 200, "body": {"name": name, "price": price}}


@pytest.mark.pattern("a missing price is refused with 422 naming body.price")
def test_missing_price_is_422(client: TestClient) -> None:
    response = client.post("/items", json={"name": "Test"})
    assert response.status_code == 422, response.text
    assert lookup(body(response), "detail") == [IsPartialDict(type="missing", loc=["body", "price"])]


@pytest.mark.pattern("the Testing section's test_create_item (POST /items -> 201) passes on this src/main.py")
def test_post_item_is_201_as_testing_section_expects(client: TestClient) -> None:
    # The guide's tests/test_main.py imports src.main and expects 201; this src/main.py declares
    # no status code, so FastAPI answers 200 (only the Router Pattern's create route says 201).
    response = client.post("/items", json={"name": "Test", "price": 9.99})
    assert response.status_code == 201, response.text
    assert lookup(body(response), "name") == "Test"


@pytest.mark.pattern("GET /docs serves the Swagger UI page for the app's schema")
def test_docs_page(client: TestClient) -> None:
    check_docs_page(client.get("/docs"))


@pytest.mark.pattern("GET /openapi.json describes both routes and the Item body")
def test_openapi_schema(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    schema = body(response)
    assert lookup(schema, "info", "title") == "My API"
    paths = lookup(schema, "paths")
    assert isinstance(paths, dict), paths
    assert {path: sorted(ops) for path, ops in paths.items()} == {"/": ["get"], "/items": ["post"]}
    item = lookup(schema, "components", "schemas", "Item")
    assert item, schema
    assert sorted(lookup(item, "required") or []) == ["name", "price"], item
    assert lookup(item, "properties", "name", "type") == "string"
    assert lookup(item, "properties", "price", "type") == "number"


@requires("fastapi>=0.111.0", "the fastapi command (fastapi-cli) was added in FastAPI 0.111.0")
@pytest.mark.pattern("fastapi dev src/main.py serves the routes and /docs on 127.0.0.1 by default")
def test_fastapi_dev_serves_docs_on_loopback(tmp_path: Path) -> None:
    root = tmp_path / "my-api"  # the log stays outside the folder the reloader watches
    (root / "src").mkdir(parents=True)
    shutil.copy(MINIMAL_MAIN, root / "src" / "main.py")
    port = free_port()
    # No --host: the default is what the guide's docs address (127.0.0.1) is about. The port is a
    # free one: the default 8000 may be taken by anything else on a shared machine.
    argv = [console_script("fastapi", "fastapi", "fastapi-cli"), "dev", "src/main.py", "--port", str(port)]
    with serve(argv, cwd=root, port=port, log=tmp_path / "server.log", ready_path="/docs") as server:
        check_docs_page(httpx.get(server.url + "/docs", timeout=10.0, trust_env=False))
        root_response = httpx.get(server.url + "/", timeout=10.0, trust_env=False)
        assert answer(root_response) == {"status": 200, "body": {"message": "Hello World"}}
        log = server.log_tail()
    # The server says where it listens; the default host must be the loopback address. (serve() may
    # have moved the server to another free port after a clash: server.port is where it runs.)
    announced = f"http://127.0.0.1:{server.port}"
    assert announced in log, f"not announced on {announced}; output:\n{log}"
