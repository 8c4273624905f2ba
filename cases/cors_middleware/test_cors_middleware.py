from collections.abc import Iterator

import httpx
import pytest
from dirty_equals import IsInt, IsOneOf
from fastapi import FastAPI
from fastapi.testclient import TestClient

from known_issues.casekit import bug_or_fixed, precondition

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


def grant(response: httpx.Response) -> dict[str, object]:
    """What a browser reads from a CORS answer: status, allowed origin, credentials (absent: None)."""
    return {
        "status": response.status_code,
        "allow_origin": response.headers.get("access-control-allow-origin"),
        "allow_credentials": response.headers.get("access-control-allow-credentials"),
    }


# The wildcard-with-credentials bugs: any site is granted credentialed access to the answers.
ANY_SITE_WITH_CREDENTIALS = {"status": 200, "allow_origin": OTHER_SITE, "allow_credentials": "true"}
# Fixed: the other site gets no credentialed access, whether the origin is refused or answered
# with a true wildcard (which a browser honours only for requests without credentials).
NO_CREDENTIALED_ACCESS = {"allow_origin": IsOneOf(None, "*"), "allow_credentials": None}


@pytest.mark.pattern("a preflight from the configured origin is allowed for that origin")
def test_allowed_origin_preflight(client: TestClient) -> None:
    response = preflight(client, FRONTEND)
    assert response.status_code == 200, response.text
    assert grant(response) == {"status": 200, "allow_origin": FRONTEND, "allow_credentials": "true"}
    # With credentials a browser takes "*" in these two headers literally: they must be lists.
    assert "put" in tokens(response.headers.get("access-control-allow-methods"))
    assert tokens(REQUESTED_HEADERS) <= tokens(response.headers.get("access-control-allow-headers"))


@pytest.mark.pattern("a request from the configured origin gets that origin back, with credentials")
def test_allowed_origin_simple_request(client: TestClient) -> None:
    response = client.get("/items", headers={"Origin": FRONTEND})
    assert response.status_code == 200, response.text
    assert grant(response) == {"status": 200, "allow_origin": FRONTEND, "allow_credentials": "true"}
    assert "origin" in tokens(response.headers.get("vary"))


@pytest.mark.pattern("a preflight from another origin is refused (400, no allow-origin)")
def test_disallowed_origin_preflight_refused(client: TestClient) -> None:
    response = preflight(client, OTHER_SITE)
    # The refusal is the status and the missing grant; the body's words ("Disallowed CORS origin")
    # are Starlette's and shown in the message when the status differs.
    assert response.status_code == 400, response.text
    assert response.headers.get("access-control-allow-origin") is None


@pytest.mark.pattern("a request from another origin is served but carries no allow-origin")
def test_disallowed_origin_simple_request_has_no_allow_origin(client: TestClient) -> None:
    # The server still answers: CORS is enforced by the browser, which hides this body.
    response = client.get("/items", headers={"Origin": OTHER_SITE})
    assert response.status_code == 200, response.text
    assert response.headers.get("access-control-allow-origin") is None


@pytest.mark.pattern("without the middleware the frontend gets no CORS grant; with the guide's middleware it does")
def test_without_middleware_preflight_fails(client: TestClient) -> None:
    # The same preflight and request from the guide's frontend, to the same route with and without
    # the middleware: the grant comes from the middleware alone (FastAPI adds no CORS headers of
    # its own). The status of the refused preflight (405 for an OPTIONS no route takes) is
    # Starlette's routing, not CORS, and is not judged.
    with TestClient(no_cors_app) as bare:
        without = {
            "preflight": grant(preflight(bare, FRONTEND)),
            "request": grant(bare.get("/items", headers={"Origin": FRONTEND})),
        }
    with_middleware = {
        "preflight": grant(preflight(client, FRONTEND)),
        "request": grant(client.get("/items", headers={"Origin": FRONTEND})),
    }
    granted = {"allow_origin": FRONTEND, "allow_credentials": "true"}
    assert with_middleware == {"preflight": {"status": 200, **granted}, "request": {"status": 200, **granted}}
    no_grant = {"allow_origin": None, "allow_credentials": None}
    assert without == {"preflight": {"status": IsInt, **no_grant}, "request": {"status": 200, **no_grant}}


def middleware_acts_for_any_site(wildcard: TestClient) -> None:
    """The control of the wildcard bugs: the middleware answers the other site's cookieless request
    with a grant (the literal "*" or its origin). A release whose CORS middleware no longer acts at
    all would send no allow-origin either; that is not the credential bug fixed."""
    granted = grant(wildcard.get("/items", headers={"Origin": OTHER_SITE}))
    precondition(
        granted["status"] == 200 and granted["allow_origin"] in ("*", OTHER_SITE),
        f"the wildcard middleware granted nothing to a cookieless request from {OTHER_SITE}: {granted}",
    )


@pytest.mark.bug
def test_wildcard_credentials_preflight_reflects_any_origin(wildcard: TestClient) -> None:
    # Echoed origin plus credentials: a browser lets any site send credentialed requests.
    middleware_acts_for_any_site(wildcard)
    bug_or_fixed(
        grant(preflight(wildcard, OTHER_SITE)),
        bug=ANY_SITE_WITH_CREDENTIALS,
        fixed={"status": IsOneOf(200, 400), **NO_CREDENTIALED_ACCESS},
    )


@pytest.mark.bug
def test_wildcard_credentials_cookie_request_reflects_any_origin(wildcard: TestClient) -> None:
    # A browser accepts this pair: any site can read responses made with the user's cookies.
    middleware_acts_for_any_site(wildcard)
    response = wildcard.get("/items", headers={"Origin": OTHER_SITE, "Cookie": "session=abc"})
    bug_or_fixed(grant(response), bug=ANY_SITE_WITH_CREDENTIALS, fixed={"status": 200, **NO_CREDENTIALED_ACCESS})


@pytest.mark.bug
def test_wildcard_credentials_cookieless_request_gets_literal_star(wildcard: TestClient) -> None:
    # The bug encode/starlette#3137 fixed (Starlette 1.0.0rc1): "*" together with credentials,
    # which fails a fetch with credentials: "include". Its fix echoes the origin instead (which,
    # like the cookie request above, lets any site read the answer).
    response = wildcard.get("/items", headers={"Origin": OTHER_SITE})
    bug_or_fixed(
        grant(response),
        bug={"status": 200, "allow_origin": "*", "allow_credentials": "true"},
        fixed=ANY_SITE_WITH_CREDENTIALS,
    )
