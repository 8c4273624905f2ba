"""The JWT suite both JWT cases run: fixtures, helpers and the tests of the guide's auth on a stack.

Imported whole by each case's test module (``from .support_jwt_suite import *``, no ``__all__``):
every ``test_`` function here runs in both cases, so a new one cannot be left out of either. Each
importing module supplies the ``stack`` fixture (jwt_auth_documented: the guide's passlib bcrypt +
python-jose; jwt_auth_current_tutorial: PyJWT + pwdlib Argon2), and each copy's verdicts belong to
the case folder it is collected from. A ``support_`` module: an assert here is the test's own check.

The guide's modules are imported inside fixtures and tests (``load``), never here: config.py builds
its ``settings`` when imported, which must happen where the test decides (no .env, no variables),
and on Python 3.9 the guide's ``X | None`` annotations fail at import, which is each test's
observation, not a collection error.

Hash cost is never what a test here is about: each ``stack`` fixture uses its scheme's cheapest
parameters (bcrypt 4 rounds, Argon2id t=1, 1 MiB). Timing is decided by counting hash
verifications, never by a clock.
"""

from __future__ import annotations  # the tests run on every Python the guide claims (3.9 too)

import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from dirty_equals import IsInt, IsPartialDict, IsStr
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from known_issues.casekit import (
    Observed,
    Reason,
    SuiteFault,
    answer,
    body,
    bug_or_fixed,
    load,
    lookup,
    precondition,
)

from . import support_tokens as tokens

if TYPE_CHECKING:
    from .config import Settings


# bcrypt only uses the first 72 bytes: these two share them and differ after.
LONG_PASSWORD = "é" * 40  # 80 bytes in UTF-8
SAME_PREFIX_OTHER_TAIL = "é" * 36 + "tail-xyz"
# What the guide prints as Settings.SECRET_KEY's default: anyone who read it knows it.
PRINTED_DEFAULT_SECRET = "your-secret-key-change-in-production"
# The guide's Settings fields: read from the environment (case-insensitively) and from ./.env.
SETTINGS_FIELDS = ("DATABASE_URL", "SECRET_KEY", "ACCESS_TOKEN_EXPIRE_MINUTES")
PROTECTED_CREATE = "/items/items"  # the Protect Routes snippet, put in the guide's items router
AN_ITEM = {"name": "Widget", "price": 9.5}
REJECTED = {"detail": "Could not validate credentials"}
# FastAPI's own words for a missing token (OAuth2PasswordBearer), not the guide's: the claim is the
# 401 and its WWW-Authenticate header, so any detail text is accepted (and shown when it differs).
NOT_AUTHENTICATED = {"detail": IsStr}
# What a client sees of an unhandled exception (Starlette's ServerErrorMiddleware, plain text).
SERVER_ERROR = {"status": 500, "body": "Internal Server Error"}


@dataclass(frozen=True)
class Stack:
    """One case's variant of the guide's app: its password/token service and its app factory."""

    service: ModuleType
    create_app: Callable[[str], FastAPI]


@pytest.fixture(scope="module")
def guide_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The guide's module-level ``settings = Settings()``, made where the deployment has no .env file.

    config.py builds it when first imported, so it is imported here: in an empty working directory
    with none of its variables set, as for anyone who skipped the guide's "Create .env" step. Both
    JWT cases use this one module (the current tutorial's service reads the same ``settings``).
    """
    workdir = tmp_path_factory.mktemp("workdir_without_env_file")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.upper() in SETTINGS_FIELDS:
                mp.delenv(name)
        mp.chdir(workdir)
        config = load(__package__, "config")
    return config.settings


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jwt") / "auth.db"


@pytest.fixture(scope="module")
def secret(guide_settings: Settings) -> str:
    """The key the app signs and verifies with: the guide's service reads ``settings.SECRET_KEY``."""
    return guide_settings.SECRET_KEY


@pytest.fixture(scope="module")
def client(stack: Stack, db_path: Path) -> Iterator[TestClient]:
    with TestClient(stack.create_app(f"sqlite+aiosqlite:///{db_path}")) as c:
        yield c


@pytest.fixture
def lenient(stack: Stack, db_path: Path, client: TestClient) -> Iterator[tuple[TestClient, Observed]]:
    """For bug tests whose documented behaviour is a crash: a second instance of the app on the
    same database file (its own engine and event loop), recording what the app raised. One per
    test, so that an exception one test left unchecked cannot reach the next."""
    observed = Observed(stack.create_app(f"sqlite+aiosqlite:///{db_path}"))
    with TestClient(observed, raise_server_exceptions=False) as c:
        yield c, observed


@pytest.fixture(scope="module")
def alice(client: TestClient) -> dict[str, str]:
    """A user registered through the API (so its password is really hashed)."""
    creds = {"email": "alice@example.com", "password": "correct horse battery"}
    response = client.post("/auth/register", json=creds)
    assert response.status_code == 200, response.text
    return creds


def seed(db_path: Path) -> int:
    """A user row written straight into SQLite: token tests need no password hashing."""
    with sqlite3.connect(db_path) as conn:
        cur = conn.execute(
            "INSERT INTO users (email, hashed_password) VALUES (?, ?)",
            (f"seed-{uuid.uuid4().hex}@example.com", "unused"),
        )
        precondition(cur.lastrowid is not None, "SQLite gave the seeded user no row id")
        return cur.lastrowid


@pytest.fixture
def seeded_user(client: TestClient, db_path: Path) -> int:
    return seed(db_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(client: TestClient, token: str) -> tuple[int, Any]:
    response = client.get("/auth/me", headers=bearer(token))
    return response.status_code, answer(response)["body"]


def user_row(user_id: int) -> dict[str, Any]:
    """What /auth/me answers for the user ``user_id`` (the comparison shows the body otherwise)."""
    return {"id": user_id, "email": IsStr}


def accepted(client: TestClient, token: str, user_id: int) -> None:
    """The control of a refusal test: a valid token for ``user_id`` reads /auth/me.

    A step, not the test's observation: only the status and the ``id`` it names are checked (the
    body's other fields are the happy path's business); when it fails the verdict is error
    (precondition), never the refusal's."""
    response = client.get("/auth/me", headers=bearer(token))
    precondition(
        response.status_code == 200 and lookup(body(response), "id") == user_id,
        f"a valid token for user {user_id} was not accepted: {response.status_code} {response.text[:300]}",
    )


def claims(token: Any) -> Any:
    """The payload of a compact JWT, or what the token was when it is not one (never raises)."""
    try:
        return tokens.payload_of(token)
    except (AttributeError, IndexError, ValueError):
        return f"<not a JWT: {token!r}>"


def login(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post("/auth/login", data={"username": username, "password": password})


def claims_for(user_id: int | str, exp_offset: int = 600) -> dict[str, object]:
    return {"sub": str(user_id), "exp": int(time.time()) + exp_offset}


def hash_cost(hashed: str) -> str:
    """The scheme and cost parameters of a modular-crypt hash (``$2b$04``, ``$argon2id$v=19$m=..``)."""
    match = re.match(r"(\$[^$]+\$(?:v=\d+\$)?[^$]+)\$", hashed)
    return match.group(1) if match else "(unrecognised hash format)"


# -- shared: the guide's JWT auth, on either stack ----------------------------------------------


@pytest.mark.pattern("register, log in with the e-mail as username, read /auth/me")
def test_register_login_me_happy_path(client: TestClient) -> None:
    creds = {"email": "happy@example.com", "password": "s3cret-enough"}
    registered = client.post("/auth/register", json=creds)
    assert registered.status_code == 200, registered.text
    assert body(registered) == {"id": IsInt, "email": "happy@example.com"}

    logged_in = login(client, creds["email"], creds["password"])
    assert logged_in.status_code == 200, logged_in.text
    assert body(logged_in) == {"access_token": IsStr, "token_type": "bearer"}
    token = lookup(body(logged_in), "access_token")
    assert lookup(claims(token), "sub") == str(lookup(body(registered), "id"))
    assert me(client, token) == (200, body(registered))


@pytest.mark.pattern("a wrong password is refused with 401")
def test_wrong_password_is_401(client: TestClient, alice: dict[str, str]) -> None:
    response = login(client, alice["email"], "not the password")
    assert (response.status_code, body(response)) == (401, {"detail": "Incorrect email or password"})


@pytest.mark.pattern("an unknown user gets the same 401 as a wrong password")
def test_unknown_user_same_401_as_wrong_password(client: TestClient, alice: dict[str, str]) -> None:
    wrong_password = login(client, alice["email"], "not the password")
    unknown_user = login(client, "nobody@example.com", "not the password")
    refused = {"status": 401, "body": {"detail": "Incorrect email or password"}}
    assert answer(unknown_user) == answer(wrong_password) == refused


@pytest.mark.pattern(
    "an unknown user is not revealed by the login's response time: it costs the same hash "
    "verifications as a wrong password (counted, not timed)"
)
def test_unknown_user_not_revealed_by_timing(
    client: TestClient, alice: dict[str, str], stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = stack.service.verify_password

    def counting_verify(plain: str, hashed: str) -> bool:
        verified.append(hash_cost(hashed))
        return real_verify(plain, hashed)

    monkeypatch.setattr(stack.service, "verify_password", counting_verify)

    def hash_work(username: str) -> list[str]:
        verified.clear()
        response = login(client, username, "not the password")
        assert response.status_code == 401, response.text
        return list(verified)

    wrong_password = hash_work(alice["email"])
    if not wrong_password:
        raise SuiteFault(Reason.HARNESS, "no verification counted for a wrong password: the count sees nothing")
    unknown_user = hash_work("nobody@example.com")
    # The only slow step of a login is the hash: same verifications at the same cost, same time.
    assert unknown_user == wrong_password, (
        f"hash verifications (cost): unknown user {unknown_user}, wrong password {wrong_password}"
    )


@pytest.mark.pattern("a token with a modified signature is refused with 401")
def test_tampered_signature_is_401(client: TestClient, secret: str, seeded_user: int) -> None:
    token = tokens.sign_hs256(claims_for(seeded_user), secret)
    accepted(client, token, seeded_user)

    # HMAC verification is all or nothing: a dozen single-byte changes cover it.
    @given(index=st.integers(min_value=0, max_value=31), mask=st.integers(min_value=1, max_value=255))
    @settings(max_examples=12)
    def refused(index: int, mask: int) -> None:
        assert me(client, tokens.flip_signature_byte(token, index, mask)) == (401, REJECTED)

    refused()


@pytest.mark.pattern("a token whose payload was swapped (sub of another user) is refused")
def test_swapped_payload_is_401(client: TestClient, secret: str, seeded_user: int, db_path: Path) -> None:
    victim = seed(db_path)
    token = tokens.sign_hs256(claims_for(seeded_user), secret)
    forged = tokens.with_payload(token, claims_for(victim))
    accepted(client, token, seeded_user)
    assert me(client, forged) == (401, REJECTED)


@pytest.mark.pattern("an expired token is refused with 401")
def test_expired_token_is_401(client: TestClient, stack: Stack, seeded_user: int) -> None:
    create = stack.service.create_access_token
    valid = create({"sub": str(seeded_user)})
    expired = create({"sub": str(seeded_user)}, expires_delta=timedelta(minutes=-1))
    accepted(client, valid, seeded_user)
    assert me(client, expired) == (401, REJECTED)


@pytest.mark.pattern("an unsigned alg=none token is refused with 401")
def test_alg_none_token_is_401(client: TestClient, secret: str, seeded_user: int) -> None:
    accepted(client, tokens.sign_hs256(claims_for(seeded_user), secret), seeded_user)
    assert me(client, tokens.unsigned(claims_for(seeded_user))) == (401, REJECTED)


@pytest.mark.pattern("a token signed with another key is refused with 401")
def test_other_key_token_is_401(client: TestClient, secret: str, seeded_user: int) -> None:
    accepted(client, tokens.sign_hs256(claims_for(seeded_user), secret), seeded_user)
    assert me(client, tokens.sign_hs256(claims_for(seeded_user), "an-other-key")) == (401, REJECTED)


@pytest.mark.pattern("a valid token of a deleted user is refused with 401")
def test_deleted_user_token_is_401(client: TestClient, secret: str, seeded_user: int, db_path: Path) -> None:
    token = tokens.sign_hs256(claims_for(seeded_user), secret)
    accepted(client, token, seeded_user)
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM users WHERE id = ?", (seeded_user,))
    assert me(client, token) == (401, REJECTED)


@pytest.mark.pattern("a refused token's 401 carries WWW-Authenticate: Bearer")
def test_rejected_token_401_carries_www_authenticate_bearer(client: TestClient) -> None:
    response = client.get("/auth/me", headers=bearer("not-a-jwt"))
    assert (response.status_code, body(response)) == (401, REJECTED)
    assert response.headers.get("www-authenticate") == "Bearer"


@pytest.mark.pattern("a request without a token is refused with 401 and WWW-Authenticate: Bearer")
def test_request_without_token_is_401(client: TestClient) -> None:
    response = client.get("/auth/me")
    assert (response.status_code, body(response)) == (401, NOT_AUTHENTICATED)
    assert response.headers.get("www-authenticate") == "Bearer"


@pytest.mark.pattern("an Authorization header that is not a Bearer token is refused with 401 (OAuth2PasswordBearer)")
def test_non_bearer_authorization_header_is_401(client: TestClient) -> None:
    response = client.get("/auth/me", headers={"Authorization": "Basic dXNlcjpzZWNyZXQ="})
    assert (response.status_code, body(response)) == (401, NOT_AUTHENTICATED)
    assert response.headers.get("www-authenticate") == "Bearer"


@pytest.mark.pattern("the login form (OAuth2PasswordRequestForm) refuses a form without username: 422 missing")
def test_login_form_without_username_is_422(client: TestClient) -> None:
    response = client.post("/auth/login", data={"password": "whatever"})
    # type and loc exactly; msg, input and url are incidental.
    assert answer(response) == {
        "status": 422,
        "body": {"detail": [IsPartialDict(type="missing", loc=["body", "username"])]},
    }


@pytest.mark.bug
def test_non_numeric_sub_is_500_not_401(
    client: TestClient, lenient: tuple[TestClient, Observed], secret: str, seeded_user: int
) -> None:
    """A validly signed token whose sub is not a number: int(sub) raises, a 500 instead of the 401."""
    accepted(client, tokens.sign_hs256(claims_for(seeded_user), secret), seeded_user)
    lenient_client, observed = lenient
    token = tokens.sign_hs256(claims_for("alice@example.com"), secret)
    response = lenient_client.get("/auth/me", headers=bearer(token))
    bug_or_fixed(answer(response), bug=SERVER_ERROR, fixed={"status": 401, "body": REJECTED})
    # int(sub) refusing the e-mail; the sentence around it is Python's ("invalid literal for int()...").
    observed.assert_raised(ValueError, match=r"'alice@example\.com'")


@pytest.mark.pattern("the Protect Routes snippet refuses a request without a token (401)")
def test_protected_route_refuses_request_without_token(client: TestClient) -> None:
    response = client.post(PROTECTED_CREATE, json=AN_ITEM)
    assert (response.status_code, body(response)) == (401, NOT_AUTHENTICATED)


@pytest.mark.pattern("the Protect Routes snippet refuses a token signed with another key (401)")
def test_protected_route_refuses_bad_token(client: TestClient, seeded_user: int) -> None:
    forged = tokens.sign_hs256(claims_for(seeded_user), "an-other-key")
    response = client.post(PROTECTED_CREATE, json=AN_ITEM, headers=bearer(forged))
    assert (response.status_code, body(response)) == (401, REJECTED)


@pytest.mark.pattern("login tokens live ACCESS_TOKEN_EXPIRE_MINUTES (the guide's setting, 30)")
def test_token_lifetime_follows_expire_setting(
    client: TestClient, alice: dict[str, str], guide_settings: Settings
) -> None:
    issued_after = time.time()
    response = login(client, alice["email"], alice["password"])
    assert response.status_code == 200, response.text
    payload = claims(lookup(body(response), "access_token"))
    expires = lookup(payload, "exp")
    assert isinstance(expires, (int, float)), f"the login's token carries no exp: {payload}"
    lifetime = expires - issued_after
    setting = guide_settings.ACCESS_TOKEN_EXPIRE_MINUTES
    # A minute of slack for a slow machine; the two candidate lifetimes are 15 minutes apart.
    assert abs(lifetime - setting * 60) < 60, (
        f"the token lives {lifetime / 60:.1f} min; ACCESS_TOKEN_EXPIRE_MINUTES = {setting}"
    )


@pytest.mark.pattern("EmailStr refuses a malformed e-mail with 422")
def test_invalid_email_is_422(client: TestClient) -> None:
    response = client.post("/auth/register", json={"email": "not-an-email", "password": "x"})
    assert response.status_code == 422, response.text
    assert body(response) == {"detail": [IsPartialDict(loc=["body", "email"], type="value_error")]}


@pytest.mark.pattern("registering an e-mail twice is refused with 400")
def test_duplicate_registration_is_400(client: TestClient, alice: dict[str, str]) -> None:
    response = client.post("/auth/register", json=alice)
    assert (response.status_code, body(response)) == (400, {"detail": "Email already registered"})


@pytest.fixture(scope="module")
def long_user(client: TestClient) -> dict[str, str]:
    creds = {"email": "long@example.com", "password": LONG_PASSWORD}
    response = client.post("/auth/register", json=creds)
    assert response.status_code == 200, response.text
    return creds


@pytest.mark.pattern("a password over bcrypt's 72 bytes registers and logs in (no 500)")
def test_long_password_registers_and_logs_in(client: TestClient, long_user: dict[str, str]) -> None:
    response = login(client, long_user["email"], LONG_PASSWORD)
    assert response.status_code == 200, response.text
    assert lookup(body(response), "token_type") == "bearer"


@pytest.mark.pattern("bytes after the 72nd still count: a different tail is refused")
def test_long_password_tail_is_not_ignored(client: TestClient, long_user: dict[str, str]) -> None:
    response = login(client, long_user["email"], SAME_PREFIX_OTHER_TAIL)
    assert response.status_code == 401, f"a different password with the same first 72 bytes: {response.text}"
