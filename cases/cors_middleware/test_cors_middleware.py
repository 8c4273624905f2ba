from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from .app import FRONTEND, app, no_cors_app, wildcard_app

OTHER_SITE = "https://evil.example"
REQUESTED_HEADERS = "authorization, content-type, x-requested-with"


def client_for(application: FastAPI) -> Iterator[TestClient]:
    with TestClient(application) as c:
        yield c


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from client_for(app)


@pytest.fixture
def wildcard() -> Iterator[TestClient]:
    yield from client_for(wildcard_app)


def preflight(client: TestClient, origin: str, method: str = "PUT") -> httpx.Response:
    return client.options(
        "/items",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": REQUESTED_HEADERS,
        },
    )


def tokens(value: "str | None") -> set[str]:
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


@pytest.mark.pattern("a preflight from the configured origin is allowed for that origin")
def test_allowed_origin_preflight(client: TestClient) -> None:
    response = preflight(client, FRONTEND)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert response.headers["access-control-allow-credentials"] == "true"
    # With credentials a browser takes "*" in these two headers literally: they must be lists.
    assert "put" in tokens(response.headers["access-control-allow-methods"])
    assert tokens(REQUESTED_HEADERS) <= tokens(response.headers["access-control-allow-headers"])


@pytest.mark.pattern("a request from the configured origin gets that origin back, with credentials")
def test_allowed_origin_simple_request(client: TestClient) -> None:
    response = client.get("/items", headers={"Origin": FRONTEND})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "origin" in tokens(response.headers.get("vary"))


@pytest.mark.pattern("a preflight from another origin is refused (400, no allow-origin)")
def test_disallowed_origin_preflight_refused(client: TestClient) -> None:
    response = preflight(client, OTHER_SITE)
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.pattern("a request from another origin is served but carries no allow-origin")
def test_disallowed_origin_simple_request_has_no_allow_origin(client: TestClient) -> None:
    # The server still answers: CORS is enforced by the browser, which hides this body.
    response = client.get("/items", headers={"Origin": OTHER_SITE})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.pattern("without the middleware a cross-origin preflight fails (405, no CORS headers)")
def test_without_middleware_preflight_fails() -> None:
    with TestClient(no_cors_app) as c:
        response = preflight(c, FRONTEND)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.bug
def test_wildcard_credentials_preflight_reflects_any_origin(wildcard: TestClient) -> None:
    response = preflight(wildcard, OTHER_SITE)
    assert response.status_code == 200
    # Echoed origin plus credentials: a browser lets any site send credentialed requests.
    assert response.headers["access-control-allow-origin"] == OTHER_SITE
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.bug
def test_wildcard_credentials_cookie_request_reflects_any_origin(wildcard: TestClient) -> None:
    response = wildcard.get("/items", headers={"Origin": OTHER_SITE, "Cookie": "session=abc"})
    assert response.status_code == 200
    # A browser accepts this pair: any site can read responses made with the user's cookies.
    assert response.headers["access-control-allow-origin"] == OTHER_SITE
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.bug
def test_wildcard_credentials_cookieless_request_gets_literal_star(wildcard: TestClient) -> None:
    response = wildcard.get("/items", headers={"Origin": OTHER_SITE})
    assert response.status_code == 200
    # "*" with credentials: a fetch with credentials: "include" rejects this response.
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.bug
def test_wildcard_credentials_cookieless_request_reflects_any_origin(wildcard: TestClient) -> None:
    response = wildcard.get("/items", headers={"Origin": OTHER_SITE})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == OTHER_SITE
    assert response.headers["access-control-allow-credentials"] == "true"
