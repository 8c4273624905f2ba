import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dirty_equals import IsInt, IsPartialDict, IsStr
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from known_issues.casekit import answer, bug_or_fixed, precondition

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
    body = response.json()
    assert body == {"id": IsInt(gt=0), "name": "Chair", "price": 49.5, "created_at": IsStr()}
    rows = query(db_file, "SELECT id, name, price FROM items")
    assert rows == [(body["id"], "Chair", 49.5)]


@pytest.mark.pattern("get returns the stored item")
def test_get_returns_stored_item(client: TestClient) -> None:
    created = client.post("/items", json={"name": "Table", "price": 120.0})
    assert created.status_code == 201, created.text
    response = client.get(f"/items/{created.json()['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == created.json()


@pytest.mark.pattern("get on a missing id is 404 Item not found")
def test_missing_item_is_404(client: TestClient) -> None:
    response = client.get("/items/999")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Item not found"}


@pytest.mark.pattern("list pages with skip and limit")
@given(skip=st.integers(0, 15), limit=st.integers(0, 15))
def test_list_pages_with_skip_and_limit(client: TestClient, db_file: Path, skip: int, limit: int) -> None:
    ids = [row[0] for row in query(db_file, "SELECT id FROM items ORDER BY id")] or seed(db_file, 12)
    response = client.get("/items", params={"skip": skip, "limit": limit})
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()] == ids[skip : skip + limit]


@pytest.mark.pattern("list returns at most 100 rows by default")
def test_list_default_limit_is_100(client: TestClient, db_file: Path) -> None:
    ids = seed(db_file, 105)
    response = client.get("/items")
    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()] == ids[:100]


@pytest.mark.bug
def test_negative_limit_returns_every_row(client: TestClient, db_file: Path) -> None:
    # skip/limit are unchecked ints; SQLite reads LIMIT -1 as "no limit", past the 100 default.
    ids = seed(db_file, 105)
    seen = answer(client.get("/items", params={"limit": -1}))
    if seen["status"] == 200:
        seen["body"] = [item["id"] for item in seen["body"]]
    bug_or_fixed(
        seen,
        bug={"status": 200, "body": ids},
        fixed={"status": 422, "body": {"detail": [IsPartialDict(loc=["query", "limit"])]}},
    )


@pytest.mark.pattern("delete answers 204 with no body and removes the row (route added: guide has none)")
def test_delete_returns_204_and_removes_row(client: TestClient, db_file: Path) -> None:
    created = client.post("/items", json={"name": "Lamp", "price": 9.0})
    assert created.status_code == 201, created.text
    item_id = created.json()["id"]
    response = client.delete(f"/items/{item_id}")
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert query(db_file, "SELECT id FROM items") == []
    gone = client.get(f"/items/{item_id}")
    assert gone.status_code == 404, gone.text


@pytest.mark.pattern("delete on a missing id is 404")
def test_delete_missing_item_is_404(client: TestClient) -> None:
    response = client.delete("/items/999")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Item not found"}


@pytest.mark.pattern("expire_on_commit=False keeps the committed object readable without refresh")
def test_committed_object_readable_without_refresh(client: TestClient, db_file: Path) -> None:
    response = client.post("/items/no-refresh", json={"name": "Rug", "price": 30.0})
    assert response.status_code == 201, response.text
    assert response.json() == {"id": IsInt(gt=0), "name": "Rug", "price": 30.0, "created_at": IsStr()}
    assert query(db_file, "SELECT name FROM items") == [("Rug",)]
