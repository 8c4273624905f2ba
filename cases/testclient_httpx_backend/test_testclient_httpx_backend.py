"""httpx or httpx2: which HTTP client the document's tests and FastAPI's TestClient are built on.

Starlette 1.2.0 made its TestClient prefer the httpx2 package (a fork of httpx 0.28.1 under a new
name) and warn when it has to fall back to httpx; FastAPI's `standard` extra brings httpx2 from
0.143.4. The document's tests import `httpx`. Nothing here installs httpx2: each cell shows what
its FastAPI's `standard` extra brings.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from dirty_equals import IsStr
from fastapi.testclient import TestClient
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from known_issues.casekit import CodeRaised, answer, answered, body, bug_or_fixed, requires

from .app import app

ITEM = {"name": "Test", "price": 9.99}

# TestClient is built on httpx2 only where Starlette supports it and httpx2 is installed. httpx2 is
# deliberately not a dependency of this case (declaring it would install it in every cell that runs
# the case and change which library every case's TestClient uses), so it is imported by name, in
# the tests that skip where it is absent.
STARLETTE_WITH_HTTPX2 = requires("starlette>=1.2.0", "Starlette's TestClient uses httpx2 from 1.2.0")
HTTPX2_INSTALLED = requires("httpx2>=2.0.0", "httpx2 is not installed in this cell")


async def create_through_async_client(client_lib: Any) -> None:
    transport = client_lib.ASGITransport(app=app)
    async with client_lib.AsyncClient(transport=transport, base_url="http://test") as client:
        root = await client.get("/")
        assert (root.status_code, body(root)) == (200, {"message": "Hello World"}), root.text
        created = await client.post("/items", json=ITEM)
        assert (created.status_code, body(created)) == (201, ITEM), created.text


def standard_requirements() -> list[str]:
    """What ``fastapi[standard]`` (the document's install) requires, by name."""
    names = set()
    for line in importlib.metadata.requires("fastapi") or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": "standard"}):
            names.add(canonicalize_name(requirement.name))
    return sorted(names)


@pytest.mark.pattern(
    "the document's test client: fastapi[standard] brings httpx, whose AsyncClient delivers the request"
)
@pytest.mark.asyncio
async def test_guide_async_client_pattern() -> None:
    # The document's tests import httpx without installing it: it must come with its install line
    # (every cell has httpx for its own tools, so the metadata is what tells).
    assert "httpx" in standard_requirements(), f"fastapi[standard] requires {standard_requirements()}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        echoed = await client.post("/echo?q=1", json=ITEM, headers={"x-probe": "1"})
    delivered = {"method": "POST", "url": "http://test/echo?q=1", "json": ITEM, "x_probe": "1"}
    assert answer(echoed) == {"status": 200, "body": delivered}


@pytest.mark.pattern("the same AsyncClient + ASGITransport test with httpx2's classes")
@HTTPX2_INSTALLED
@pytest.mark.asyncio
async def test_async_client_pattern_with_httpx2() -> None:
    await create_through_async_client(importlib.import_module("httpx2"))


# Run in a fresh interpreter: the warning is raised once, when fastapi.testclient is first imported.
IMPORT_AND_RECORD = """
import json, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fastapi.testclient
print(json.dumps([[w.category.__name__, str(w.message)] for w in caught]))
"""


@pytest.mark.pattern("FastAPI's TestClient (used in the document's Issue #3) imports without a deprecation warning")
def test_testclient_import_is_warning_free() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_RECORD], capture_output=True, text=True, timeout=45, check=False
    )
    if done.returncode != 0:
        raise CodeRaised(f"importing fastapi.testclient failed:\n{done.stderr[-3000:]}")
    caught = json.loads(done.stdout.strip().splitlines()[-1])
    # Other import-time warnings (e.g. about multipart) are not about the test client's HTTP library.
    about_client = [w for w in caught if "httpx" in w[1]]
    assert about_client == []


@pytest.mark.bug
@STARLETTE_WITH_HTTPX2
@HTTPX2_INSTALLED
def test_testclient_responses_are_not_httpx() -> None:
    httpx2 = importlib.import_module("httpx2")
    response = answered(TestClient(app).get("/missing"), 404)
    # A TestClient response is an httpx2 object: isinstance checks and `except httpx.HTTPError`
    # written against httpx (the document's test library) do not match it.
    raised = None
    try:
        response.raise_for_status()
    except (httpx.HTTPStatusError, httpx2.HTTPStatusError) as exc:
        raised = exc
    seen = {
        "response is an httpx.Response": isinstance(response, httpx.Response),
        "raise_for_status raised an httpx.HTTPError": None if raised is None else isinstance(raised, httpx.HTTPError),
    }
    bug_or_fixed(seen, bug=dict.fromkeys(seen, False), fixed=dict.fromkeys(seen, True))


# httpx2 refuses an auth object that is not its own with a TypeError about the auth argument; its
# sentence ('Invalid "auth" argument: <httpx.BasicAuth object at 0x...>') is its wording.
HTTPX_AUTH_REFUSED = r"(?is).*\bauth\b.*"


@pytest.mark.bug
@STARLETTE_WITH_HTTPX2
@HTTPX2_INSTALLED
def test_testclient_refuses_httpx_auth() -> None:
    client = TestClient(app)
    # An httpx auth object is not an httpx2.Auth: the request is not sent at all.
    try:
        seen = answer(client.get("/authorization", auth=httpx.BasicAuth("user", "secret")))
    except TypeError as exc:
        seen = {"raised": type(exc), "message": str(exc)}
    bug_or_fixed(
        seen,
        bug={"raised": TypeError, "message": IsStr(regex=HTTPX_AUTH_REFUSED)},
        fixed={"status": 200, "body": {"authorization": "Basic dXNlcjpzZWNyZXQ="}},
    )


@pytest.mark.workaround("take the HTTP types from httpx2 where TestClient is built on it")
@STARLETTE_WITH_HTTPX2
@HTTPX2_INSTALLED
def test_httpx2_types_with_testclient() -> None:
    httpx2 = importlib.import_module("httpx2")
    client = TestClient(app)
    sent = client.get("/authorization", auth=httpx2.BasicAuth("user", "secret"))
    assert sent.status_code == 200, sent.text
    assert body(sent) == {"authorization": "Basic dXNlcjpzZWNyZXQ="}
    with pytest.raises(httpx2.HTTPStatusError):
        client.get("/missing").raise_for_status()
