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
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dirty_equals import IsInt, IsPartialDict, IsStr

from known_issues.casekit import answer, body, lookup, precondition, requires
from known_issues.serving import Server, console_script, free_port

from .app import PROJECT
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


def copy_project(destination: Path) -> Path:
    shutil.copytree(PROJECT, destination, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    return destination


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
    return copy_project(tmp_path_factory.mktemp("uvicorn") / "my-api")


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


@pytest.mark.pattern("the Testing section's test_create_item (POST /items -> 201, name 'Test') passes on src.main")
def test_create_item_as_testing_section_expects(http: httpx.Client) -> None:
    response = http.post("/items", json=NEW_ITEM)
    assert response.status_code == 201, response.text
    assert lookup(body(response), "name") == "Test"


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


@pytest.mark.pattern("the Testing section's test_root (GET / -> 200) passes on the Main App's src/main.py")
def test_root_route_as_testing_section_expects(http: httpx.Client) -> None:
    # tests/test_main.py imports src.main; the Main App defines no "/" route (only the Quick
    # Start's minimal src/main.py had one).
    response = http.get("/")
    assert response.status_code == 200, response.text


@requires("fastapi>=0.111.0", "the fastapi command (fastapi-cli) was added in FastAPI 0.111.0")
@pytest.mark.pattern("fastapi dev src/main.py from the project root imports src.main with its src. imports and serves")
def test_fastapi_dev_serves_assembled_app(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "my-api")  # the log stays outside the folder the reloader watches
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
    assert me.status_code == 401, me.text
    assert {"items", "users"} <= tables(project / "database.db")
