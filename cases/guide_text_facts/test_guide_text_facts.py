"""Facts of the guide's own code that no FastAPI, Pydantic or Starlette release can change, judged once.

Each test runs the guide's printed code (cases/guide_code/printed) or its route as written; what it
shows follows from the text and from Python, so the case runs in one cell (matrix.toml's
document-stack group), not in every version of the matrix.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from known_issues.casekit import answered, body

from ..guide_code.support_printed import guide_modules
from .app import app

SETTINGS_FIELDS = ("DATABASE_URL", "SECRET_KEY", "ACCESS_TOKEN_EXPIRE_MINUTES")


@pytest.fixture
def without_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory (no .env) with none of the settings' variables set."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper() in SETTINGS_FIELDS:
            monkeypatch.delenv(name)
    yield tmp_path


@pytest.mark.pattern("never hardcode secrets: the guide's Settings (Configuration) have no secret in code")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the nested class Config: settings_env_file's
def test_settings_do_not_hardcode_the_secret(without_env: Path) -> None:
    config = guide_modules("src.config")["src.config"]
    field = config.Settings.model_fields["SECRET_KEY"]
    # A secret read from the environment only: required, so that a deployment without it fails.
    assert field.is_required(), f"SECRET_KEY has a default in code: {field.default!r}"


@pytest.mark.pattern("the guide's Auth Schemas module imports as printed")
def test_auth_schemas_import_as_printed() -> None:
    # Raises where the printed block fails (the code under test): broken with its exception.
    schemas = guide_modules("src.auth.schemas")["src.auth.schemas"]
    assert schemas.UserResponse.model_config.get("from_attributes") is True


# Form bodies the guide's fix 1 should tell apart: nothing, each field's default sent explicitly,
# and other values.
SUBMISSIONS: list[dict[str, str]] = [
    {},
    {"field_1": "true"},
    {"field_1": "false"},
    {"field_2": "x"},
]


@pytest.mark.workaround("the guide's fix 1: individual Form() parameters tell what the client provided")
def test_individual_form_params_tell_what_was_provided() -> None:
    # A parameter with a default receives the same argument whether the client sent that value or
    # nothing: Python's default arguments, whatever FastAPI hands the route.
    client = TestClient(app)
    received: list[tuple[dict[str, str], object]] = []
    for sent in SUBMISSIONS:
        response = client.post("/form-individual", data=sent)
        assert response.status_code == 200, f"{sent}: {response.text}"
        received.append((sent, body(response)))
    same = [
        f"{a} and {b} both arrive as {args}" for (a, args), (b, other) in combinations(received, 2) if args == other
    ]
    assert not same, "; ".join(same)


class RecordingSession:
    """Stands in for the AsyncSession of the guide's get_db: records which function of which module
    talks to the database, and answers like a session that stored the row."""

    def __init__(self, calls: list[tuple[str, str, str]]) -> None:
        self.calls = calls

    def _record(self, what: str) -> None:
        caller = sys._getframe(2)
        self.calls.append((str(caller.f_globals.get("__name__")), caller.f_code.co_name, what))

    def add(self, item: Any) -> None:
        self._record("add")

    async def commit(self) -> None:
        self._record("commit")

    async def refresh(self, item: Any) -> None:
        self._record("refresh")
        item.id, item.created_at = 1, datetime(2026, 1, 21, tzinfo=timezone.utc)


@pytest.mark.pattern(
    "never put business logic in routes: the guide's Router Pattern leaves the database work to a service"
)
def test_guide_router_keeps_business_logic_out_of_routes(without_env: Path) -> None:
    modules = guide_modules("src.database", "src.items.router")
    router, database = modules["src.items.router"], modules["src.database"]
    calls: list[tuple[str, str, str]] = []

    async def recording_db() -> Any:
        yield RecordingSession(calls)

    guide_app = FastAPI()
    guide_app.include_router(router.router)
    guide_app.dependency_overrides[database.get_db] = recording_db
    # The control: the guide's create ran to its end (201), so every call it made is recorded.
    answered(TestClient(guide_app).post("/items", json={"name": "Test", "price": 9.99}), 201)
    in_routes = [(f"{module}.{function}", what) for module, function, what in calls if module == router.__name__]
    assert in_routes == [], f"the route functions themselves talk to the database: {in_routes}"
    assert calls, "nothing talked to the database"
