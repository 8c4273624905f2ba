"""The guide's project assembled (project/src/...) and served from the project root as a real process.

One uvicorn server (the guide's production command, bound to 127.0.0.1) serves the whole module;
``fastapi dev src/main.py`` (the Quick Start's command) gets its own server in its own copy of the
project. The database is the real SQLite file the guide's relative URL puts in the project root.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dirty_equals import IsInt, IsPartialDict, IsStr

from known_issues.casekit import Reason, SuiteFault, answer, body, lookup, precondition, requires
from known_issues.serving import Server, console_script, free_port

from .app import assemble
from .support_serving import serve_app

FRONTEND = "http://localhost:3000"
NEW_ITEM = {"name": "Test", "price": 9.99}  # the Testing section's item
ROUTES = {
    "/auth/register": ["post"],
    "/auth/login": ["post"],
    "/auth/me": ["get"],
    "/items": ["get", "post"],
    "/items/{item_id}": ["get"],
}
ALLOW_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials")
REJECTED = {"detail": "Could not validate credentials"}
# config.py's SECRET_KEY default; the .env beside it sets another key.
CONFIG_DEFAULT_KEY = "your-secret-key-change-in-production"


def dotenv_value(root: Path, key: str) -> str:
    for line in (root / ".env").read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if name.strip() == key:
            return value.strip()
    raise KeyError(key)


def tables(database: Path) -> set[str]:
    if not database.exists():
        return set()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def routes(schema: object) -> object:
    """Each path of an OpenAPI schema with its sorted methods; what was there instead, unchanged."""
    paths = lookup(schema, "paths")
    if not isinstance(paths, dict):
        return paths
    return {path: sorted(ops) if isinstance(ops, dict) else ops for path, ops in paths.items()}


def hs256(claims: dict[str, object], key: str) -> str:
    """A compact HS256 token made without any JWT library (the server decodes it with python-jose)."""

    def segment(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = ".".join(
        segment(json.dumps(part, separators=(",", ":")).encode()) for part in ({"alg": "HS256", "typ": "JWT"}, claims)
    )
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{segment(mac)}"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return assemble(tmp_path_factory.mktemp("uvicorn") / "my-api")


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[Server]:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "src.main:app", "--host", "127.0.0.1", "--port", str(port)]
    with serve_app(argv, cwd=root, port=port, log=root.parent / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0, trust_env=False) as client:
        yield client


@pytest.mark.pattern("the lifespan creates both tables in ./database.db of the folder the server runs in")
def test_lifespan_creates_tables_in_project_root(server: Server, root: Path) -> None:
    database = root / "database.db"
    assert database.exists(), f"no database.db in the project root; output:\n{server.log_tail()}"
    assert {"items", "users"} <= tables(database)


@pytest.mark.pattern("items router: POST /items answers 201 and the row is in the SQLite file, GET reads it")
def test_items_router_create_then_read(http: httpx.Client, root: Path) -> None:
    created = http.post("/items", json=NEW_ITEM)
    assert created.status_code == 201, created.text
    item = body(created)
    assert item == {**NEW_ITEM, "id": IsInt, "description": None, "status": "draft", "created_at": IsStr}
    with sqlite3.connect(f"file:{root / 'database.db'}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT name, price FROM items WHERE id = ?", (item["id"],)).fetchone()
    assert row == ("Test", 9.99)
    assert answer(http.get(f"/items/{item['id']}")) == {"status": 200, "body": item}
    listed = http.get("/items")
    assert listed.status_code == 200, listed.text
    assert item in body(listed)


@pytest.mark.pattern("items router: an unknown id is 404 'Item not found'")
def test_items_router_missing_item_is_404(http: httpx.Client) -> None:
    assert answer(http.get("/items/999999")) == {"status": 404, "body": {"detail": "Item not found"}}


@pytest.mark.pattern("auth router: /auth/me without a token is 401 with WWW-Authenticate: Bearer")
def test_auth_router_me_needs_token(http: httpx.Client) -> None:
    response = http.get("/auth/me")
    # The wording of the 401 is FastAPI's (OAuth2PasswordBearer), not the guide's: any detail text.
    assert answer(response) == {"status": 401, "body": {"detail": IsStr}}
    assert response.headers.get("www-authenticate") == "Bearer", response.headers


@pytest.mark.pattern("auth router: a login form for an unknown e-mail is 401 'Incorrect email or password'")
def test_auth_router_login_unknown_user_is_401(http: httpx.Client) -> None:
    response = http.post("/auth/login", data={"username": "nobody@example.com", "password": "whatever"})
    assert answer(response) == {"status": 401, "body": {"detail": "Incorrect email or password"}}


@pytest.mark.pattern("settings from .env: a token signed with its SECRET_KEY reads /auth/me, the default's is 401")
def test_auth_router_me_with_token_from_dotenv_key(http: httpx.Client, root: Path) -> None:
    database = root / "database.db"
    # The table is test_lifespan_creates_tables_in_project_root's observation; here it is a step.
    precondition("users" in tables(database), "the lifespan did not create the users table")
    # A user row written straight into the server's SQLite file: no password hashing needed.
    with sqlite3.connect(database) as conn:
        user_id = conn.execute(
            "INSERT INTO users (email, hashed_password) VALUES (?, ?)", ("seeded@example.com", "unused")
        ).lastrowid
    claims = {"sub": str(user_id), "exp": int(time.time()) + 600}
    signed_with_dotenv = hs256(claims, dotenv_value(root, "SECRET_KEY"))
    signed_with_default = hs256(claims, CONFIG_DEFAULT_KEY)
    accepted = http.get("/auth/me", headers={"Authorization": f"Bearer {signed_with_dotenv}"})
    # The token is the claim: /auth/me's body is the business of the JWT cases' happy path.
    assert answer(accepted) == {"status": 200, "body": IsPartialDict(id=user_id)}
    refused = http.get("/auth/me", headers={"Authorization": f"Bearer {signed_with_default}"})
    assert answer(refused) == {"status": 401, "body": REJECTED}


@pytest.mark.pattern("CORS: the frontend origin's preflight is allowed with credentials; another origin's is refused")
def test_cors_preflight(http: httpx.Client) -> None:
    request_headers = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    allowed = http.options("/items", headers={"Origin": FRONTEND, **request_headers})
    assert allowed.status_code == 200, allowed.text
    granted = {name: allowed.headers.get(name) for name in ALLOW_HEADERS}
    assert granted == {"access-control-allow-origin": FRONTEND, "access-control-allow-credentials": "true"}
    refused = http.options("/items", headers={"Origin": "https://elsewhere.example", **request_headers})
    assert refused.status_code == 400, refused.text
    assert refused.headers.get("access-control-allow-origin") is None, refused.headers


@pytest.mark.pattern("both routers are mounted under one app titled 'My API'")
def test_openapi_lists_both_routers(http: httpx.Client) -> None:
    response = http.get("/openapi.json")
    assert response.status_code == 200, response.text
    schema = body(response)
    assert lookup(schema, "info", "title") == "My API"
    assert routes(schema) == ROUTES


# -- the Testing section's tests/test_main.py, run by pytest in the project root -----------------


@dataclass
class GuideTests:
    """One pytest run of the guide's tests/test_main.py: per test, its outcome and the first line of
    what pytest reported ("passed", or the failure or setup error)."""

    mode: str
    outcomes: dict[str, tuple[str, str]]

    def outcome(self, test: str) -> tuple[str, str]:
        return self.outcomes.get(test, ("not reported", f"{test} is not in the run's report: {self.outcomes}"))


GUIDE_TESTS = ("test_root", "test_create_item")


def first_line(message: str | None, text: str | None) -> str:
    """What pytest reported, in one line: its message, or for a module that did not import (its
    message is only "collection failure") the exception its traceback ends on."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if message == "collection failure":
        raised = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
        return f"collection failure: {raised[-1]}" if raised else message
    return (message or "").strip().split("\n")[0] or (lines[0] if lines else "")


def run_guide_tests(root: Path, asyncio_mode: str | None) -> GuideTests:
    """``python -m pytest tests/test_main.py`` in the project root (so that ``from src.main import app``
    finds the project), with only pytest-asyncio among the plugins; the guide writes no pytest
    configuration, so ``asyncio_mode=None`` runs it in pytest-asyncio's default mode."""
    report = root.parent / f"guide-tests-{asyncio_mode or 'default'}.xml"
    argv = [sys.executable, "-m", "pytest", "tests/test_main.py", "-p", "pytest_asyncio.plugin"]
    argv += ["-p", "no:cacheprovider", f"--junitxml={report}", "-q"]
    if asyncio_mode is not None:
        argv += ["-o", f"asyncio_mode={asyncio_mode}"]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=45, check=False)
    if not report.exists():
        raise SuiteFault(
            Reason.HARNESS, f"the nested pytest wrote no report (exit {done.returncode}):\n{done.stdout[-2000:]}"
        )
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        if problem is None:
            outcomes[case.get("name", "")] = ("passed", "")
        else:
            outcomes[case.get("name", "")] = (problem.tag, first_line(problem.get("message"), problem.text))
    return GuideTests(asyncio_mode or "default", outcomes)


@pytest.fixture(scope="module")
def guide_tests_as_printed(tmp_path_factory: pytest.TempPathFactory) -> GuideTests:
    return run_guide_tests(assemble(tmp_path_factory.mktemp("testing-default") / "my-api"), None)


@pytest.fixture(scope="module")
def guide_tests_auto_mode(tmp_path_factory: pytest.TempPathFactory) -> GuideTests:
    return run_guide_tests(assemble(tmp_path_factory.mktemp("testing-auto") / "my-api"), "auto")


@pytest.mark.pattern("the Testing section's tests/test_main.py, run as printed (no pytest configuration), passes")
def test_testing_section_passes_as_printed(guide_tests_as_printed: GuideTests) -> None:
    outcomes = {test: guide_tests_as_printed.outcome(test) for test in GUIDE_TESTS}
    assert outcomes == dict.fromkeys(GUIDE_TESTS, ("passed", "")), f"pytest's default mode: {outcomes}"


@pytest.mark.pattern(
    "the Testing section's test_root (GET / -> 200) passes on src.main, its fixture running (auto mode)"
)
def test_testing_section_root_passes(guide_tests_auto_mode: GuideTests) -> None:
    # The Main App defines no "/" route (only the Quick Start's minimal src/main.py had one).
    outcome = guide_tests_auto_mode.outcome("test_root")
    assert outcome == ("passed", ""), f"test_root: {outcome[0]}: {outcome[1]}"


@pytest.mark.pattern("the Testing section's test_create_item (POST /items -> 201) passes on src.main (auto mode)")
def test_testing_section_create_item_passes(guide_tests_auto_mode: GuideTests) -> None:
    # AsyncClient over ASGITransport sends no lifespan events: the lifespan that creates the tables
    # does not run under the guide's own harness (async_client_testing shows it on a small app).
    outcome = guide_tests_auto_mode.outcome("test_create_item")
    assert outcome == ("passed", ""), f"test_create_item: {outcome[0]}: {outcome[1]}"


@requires("fastapi>=0.111.0", "the fastapi command (fastapi-cli) was added in FastAPI 0.111.0")
@pytest.mark.pattern("fastapi dev src/main.py from the project root imports src.main with its src. imports and serves")
def test_fastapi_dev_serves_assembled_app(tmp_path: Path) -> None:
    project = assemble(tmp_path / "my-api")  # the log stays outside the folder the reloader watches
    port = free_port()
    argv = [
        console_script("fastapi", "fastapi", "fastapi-cli"),
        "dev",
        "src/main.py",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with serve_app(argv, cwd=project, port=port, log=tmp_path / "server.log") as running:
        with httpx.Client(base_url=running.url, timeout=10.0, trust_env=False) as client:
            created = client.post("/items", json=NEW_ITEM)
            schema = client.get("/openapi.json")
            me = client.get("/auth/me")
    assert created.status_code == 201, created.text
    assert schema.status_code == 200, schema.text
    assert routes(body(schema)) == ROUTES
    # Refused without a token: the auth router is mounted. Which refusal (401) is the question of
    # test_auth_router_me_needs_token, not of whether `fastapi dev` serves the app.
    assert me.status_code in (401, 403), me.text
    assert {"items", "users"} <= tables(project / "database.db")
