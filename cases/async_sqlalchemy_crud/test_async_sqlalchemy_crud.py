import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dirty_equals import IsInt, IsPartialDict, IsStr
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import answer, answered_with, body, bug_or_fixed, lookup, precondition

from .app import create_app


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "crud.db"


@pytest.fixture
def client(db_file: Path) -> Iterator[TestClient]:
    with TestClient(create_app(f"sqlite+aiosqlite:///{db_file}")) as c:
        yield c


def query(db_file: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    # A separate, synchronous connection: sees only what was really committed to the file.
    conn = sqlite3.connect(db_file)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def seed(db_file: Path, count: int) -> list[int]:
    conn = sqlite3.connect(db_file)
    try:
        conn.executemany(
            "INSERT INTO items (name, price, created_at) VALUES (?, ?, ?)",
            [(f"item-{n}", n + 1.0, "2024-01-01 00:00:00.000000") for n in range(count)],
        )
        conn.commit()
    finally:
        conn.close()
    return [row[0] for row in query(db_file, "SELECT id FROM items ORDER BY id")]


def ids_of(listing: Any) -> Any:
    """The ids of a list answer, in order; what was answered instead, unchanged."""
    return [lookup(item, "id") for item in listing] if isinstance(listing, list) else listing


@pytest.mark.pattern("tables are created in the lifespan on startup")
def test_tables_created_in_lifespan(db_file: Path) -> None:
    app = create_app(f"sqlite+aiosqlite:///{db_file}")
    precondition(not db_file.exists(), f"{db_file} exists before the app started")
    with TestClient(app):
        tables = query(db_file, "SELECT name FROM sqlite_master WHERE type = 'table'")
    assert tables == [("items",)]


@pytest.mark.pattern("create answers 201 with the stored row, and the row is in the file")
def test_create_returns_201_and_stores_row(client: TestClient, db_file: Path) -> None:
    response = client.post("/items", json={"name": "Chair", "price": 49.5})
    assert response.status_code == 201, response.text
    item = body(response)
    assert item == {"id": IsInt(gt=0), "name": "Chair", "price": 49.5, "created_at": IsStr()}
    rows = query(db_file, "SELECT id, name, price FROM items")
    assert rows == [(item["id"], "Chair", 49.5)]


@pytest.mark.pattern("get returns the stored item")
def test_get_returns_stored_item(client: TestClient) -> None:
    created = client.post("/items", json={"name": "Table", "price": 120.0})
    # Creating is a step here (test_create_returns_201_and_stores_row judges it): its id is what is used.
    response = client.get(f"/items/{answered_with(created, 201, 'id')}")
    assert response.status_code == 200, response.text
    assert body(response) == body(created)


@pytest.mark.pattern("get on a missing id is 404 Item not found")
def test_missing_item_is_404(client: TestClient) -> None:
    response = client.get("/items/999")
    assert response.status_code == 404, response.text
    assert body(response) == {"detail": "Item not found"}


@pytest.mark.pattern("list pages with skip and limit")
@given(skip=st.integers(0, 15), limit=st.integers(0, 15))
def test_list_pages_with_skip_and_limit(client: TestClient, db_file: Path, skip: int, limit: int) -> None:
    ids = [row[0] for row in query(db_file, "SELECT id FROM items ORDER BY id")] or seed(db_file, 12)
    response = client.get("/items", params={"skip": skip, "limit": limit})
    assert response.status_code == 200, response.text
    assert ids_of(body(response)) == ids[skip : skip + limit]


@pytest.mark.pattern("list returns at most 100 rows by default")
def test_list_default_limit_is_100(client: TestClient, db_file: Path) -> None:
    ids = seed(db_file, 105)
    response = client.get("/items")
    assert response.status_code == 200, response.text
    assert ids_of(body(response)) == ids[:100]


@pytest.mark.bug
def test_negative_limit_returns_every_row(client: TestClient, db_file: Path) -> None:
    # skip/limit are unchecked ints; SQLite reads LIMIT -1 as "no limit", past the 100 default.
    ids = seed(db_file, 105)
    # The control: the list route honours a limit it accepts, so "fixed" cannot be the list broken.
    control = answer(client.get("/items", params={"limit": 2}))
    precondition(
        control["status"] == 200 and ids_of(control["body"]) == ids[:2], f"GET /items?limit=2 answered {control}"
    )
    seen = answer(client.get("/items", params={"limit": -1}))
    if seen["status"] == 200:
        seen["body"] = ids_of(seen["body"])
    bug_or_fixed(
        seen,
        bug={"status": 200, "body": ids},
        fixed={"status": 422, "body": {"detail": [IsPartialDict(loc=["query", "limit"])]}},
    )


@pytest.mark.pattern("a route declared with status_code=204 that returns None sends no body; the delete commits")
def test_delete_returns_204_and_removes_row(client: TestClient, db_file: Path) -> None:
    # The 204 is our route's declaration (the guide has no delete route): what this observes is
    # FastAPI's part, a 204 without a body or a Content-Length above 0 (before 0.79.0 it sent
    # `null`, fastapi#2832), and get_db's commit after the route deleted the row.
    created = client.post("/items", json={"name": "Lamp", "price": 9.0})
    item_id = answered_with(created, 201, "id")
    response = client.delete(f"/items/{item_id}")
    sent = (response.status_code, response.content, response.headers.get("content-length", "0"))
    assert sent == (204, b"", "0"), response.headers
    assert query(db_file, "SELECT id FROM items") == []


@pytest.mark.pattern("delete on a missing id is 404")
def test_delete_missing_item_is_404(client: TestClient) -> None:
    response = client.delete("/items/999")
    assert response.status_code == 404, response.text
    assert body(response) == {"detail": "Item not found"}


@pytest.mark.pattern("expire_on_commit=False keeps the committed object readable without refresh")
def test_committed_object_readable_without_refresh(client: TestClient, db_file: Path) -> None:
    response = client.post("/items/no-refresh", json={"name": "Rug", "price": 30.0})
    assert response.status_code == 201, response.text
    assert body(response) == {"id": IsInt(gt=0), "name": "Rug", "price": 30.0, "created_at": IsStr()}
    assert query(db_file, "SELECT name FROM items") == [("Rug",)]


# What the guide's router refuses (its `skip: int = 0, limit: int = 100` query and `item_id: int`
# path): a value that is not an int is a 422 naming the parameter, before the route runs.
NOT_AN_INT = [
    pytest.param("/items", {"limit": "abc"}, ["query", "limit"], id="query-limit"),
    pytest.param("/items", {"skip": "ten"}, ["query", "skip"], id="query-skip"),
    pytest.param("/items/abc", {}, ["path", "item_id"], id="path-item_id"),
]


@pytest.mark.pattern("a query or path value that is not an int is refused with 422 int_parsing at its loc")
@pytest.mark.parametrize(("url", "params", "loc"), NOT_AN_INT)
def test_value_that_is_not_an_int_is_422(client: TestClient, url: str, params: dict[str, str], loc: list[str]) -> None:
    response = client.get(url, params=params)
    # type and loc exactly; the message, the input echoed and the docs url are incidental.
    assert answer(response) == {"status": 422, "body": {"detail": [IsPartialDict(type="int_parsing", loc=loc)]}}
