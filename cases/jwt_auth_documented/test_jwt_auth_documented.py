"""The guide's JWT auth claims on the guide's own stack (passlib bcrypt + python-jose).

The shared tests come from ``support_jwt_suite`` (all of them, by a star import), which
jwt_auth_current_tutorial runs on its own stack too; this module supplies the guide's ``stack``
and the tests about the guide's own code only (settings, routes, schemas, passlib).
"""

from __future__ import annotations  # the tests run on every Python the guide claims (3.9 too)

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from dirty_equals import IsInt, IsPartialDict
from fastapi.testclient import TestClient

from known_issues.casekit import Observed, answer, body, bug_or_fixed, load, lookup, precondition

from . import support_tokens as tokens

if TYPE_CHECKING:
    from .config import Settings

from .support_jwt_suite import *  # noqa: F403 - the shared suite, every test of it
from .support_jwt_suite import (
    AN_ITEM,
    PRINTED_DEFAULT_SECRET,
    PROTECTED_CREATE,
    REJECTED,
    SERVER_ERROR,
    Stack,
    accepted,
    bearer,
    claims_for,
    seed,
)


@pytest.fixture(scope="module")
def stack(guide_settings: Settings) -> Stack:
    """The guide's stack; bcrypt at 4 rounds (its minimum: same algorithm, ~1 ms a hash)."""
    service = load(__package__, "service")
    service.pwd_context.update(bcrypt__rounds=4)
    return Stack(service, load(__package__, "app").create_app)


# -- the guide's own code only -----------------------------------------------------------------


@pytest.mark.bug
def test_bcrypt_5_breaks_passlib_for_every_password(lenient: tuple[TestClient, Observed]) -> None:
    """passlib 1.7.4's bcrypt self-test hashes a >72-byte secret, which bcrypt 5 refuses: even a
    short password cannot be registered (with bcrypt 4.x this registers: the bug is absent)."""
    client, observed = lenient
    response = client.post("/auth/register", json={"email": "short@example.com", "password": "short"})
    registered = {"status": 200, "body": {"id": IsInt, "email": "short@example.com"}}
    bug_or_fixed(answer(response), bug=SERVER_ERROR, fixed=registered)
    # bcrypt 5's refusal of a secret over 72 bytes; its sentence ("password cannot be longer than
    # 72 bytes, truncate manually if necessary") is bcrypt's wording, not the claim.
    observed.assert_raised(ValueError, match=r"72 bytes")


@pytest.mark.bug
def test_protected_create_raises_on_user_id(
    client: TestClient, lenient: tuple[TestClient, Observed], secret: str, seeded_user: int
) -> None:
    """The Protect Routes snippet passes user_id=current_user.id to the guide's Item, which has no
    such column: an authenticated create is a 500."""
    token = tokens.sign_hs256(claims_for(seeded_user), secret)
    accepted(client, token, seeded_user)
    lenient_client, observed = lenient
    response = lenient_client.post(PROTECTED_CREATE, json=AN_ITEM, headers=bearer(token))
    created = {"status": 200, "body": IsPartialDict(name="Widget", price=9.5)}  # no status_code in the snippet
    bug_or_fixed(answer(response), bug=SERVER_ERROR, fixed=created)
    # The model refusing the user_id keyword (SQLAlchemy's sentence around it is incidental).
    observed.assert_raised(TypeError, match=r"'user_id'")


@pytest.mark.bug
def test_token_forged_with_printed_default_secret(
    client: TestClient, guide_settings: Settings, db_path: Path, stack: Stack
) -> None:
    """Without a .env file the app starts silently and signs with the secret printed in the guide:
    a token forged with it is accepted for any user id."""
    precondition(
        guide_settings.SECRET_KEY == PRINTED_DEFAULT_SECRET,
        f"settings made without .env and variables hold another SECRET_KEY: {guide_settings.SECRET_KEY!r}",
    )
    victim = seed(db_path)
    # The control: a token the app issues itself for the victim is accepted. A release that
    # refused every token would refuse the forged one too; that is not this bug fixed.
    accepted(client, stack.service.create_access_token({"sub": str(victim)}), victim)
    forged = tokens.sign_hs256(claims_for(victim), PRINTED_DEFAULT_SECRET)
    response = client.get("/auth/me", headers=bearer(forged))
    # Accepted for the victim is the bug: the id is what the claim is about, not the body's other fields.
    bug_or_fixed(
        answer(response), bug={"status": 200, "body": IsPartialDict(id=victim)}, fixed={"status": 401, "body": REJECTED}
    )


@pytest.mark.pattern("proper status codes: the guide's create routes answer 201, its deletes 204")
def test_guide_routes_follow_status_code_rule(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    paths = lookup(body(response), "paths")
    assert isinstance(paths, dict), f"no paths in the schema: {paths}"
    success = {
        f"{method.upper()} {path}": next(
            (code for code in lookup(operation, "responses") or [] if str(code).startswith("2")), None
        )
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    creates = {"POST /auth/register", "POST /items", f"POST {PROTECTED_CREATE}"}
    assert creates <= success.keys(), success
    deletes = {route for route in success if route.startswith("DELETE ")}
    wrong = {route: success[route] for route in creates if success[route] != "201"}
    wrong |= {route: success[route] for route in deletes if success[route] != "204"}
    assert wrong == {}, f"success codes against the rule: {wrong}; DELETE routes: {sorted(deletes) or 'none'}"
