import importlib
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from dirty_equals import IsInt, IsPartialDict, IsStr
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from . import service, tokens
from .app import Settings, create_app

# bcrypt only uses the first 72 bytes: these two share them and differ after.
LONG_PASSWORD = "é" * 40  # 80 bytes in UTF-8
SAME_PREFIX_OTHER_TAIL = "é" * 36 + "tail-xyz"


@pytest.fixture(scope="module")
def secret() -> str:
    return secrets.token_hex(32)


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jwt_documented") / "auth.db"


@pytest.fixture(scope="module")
def client(secret: str, db_path: Path) -> Iterator[TestClient]:
    config = Settings(DATABASE_URL=f"sqlite+aiosqlite:///{db_path}", SECRET_KEY=secret)
    with TestClient(create_app(config)) as c:
        yield c


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
        assert cur.lastrowid is not None
        return cur.lastrowid


@pytest.fixture
def seeded_user(client: TestClient, db_path: Path) -> int:
    return seed(db_path)


def me(client: TestClient, token: str) -> tuple[int, object]:
    response = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


def login(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post("/auth/login", data={"username": username, "password": password})


def claims_for(user_id: int, exp_offset: int = 600) -> dict[str, object]:
    return {"sub": str(user_id), "exp": int(time.time()) + exp_offset}


REJECTED = {"detail": "Could not validate credentials"}


@pytest.mark.pattern("register, log in with the e-mail as username, read /auth/me")
def test_register_login_me_happy_path(client: TestClient) -> None:
    creds = {"email": "happy@example.com", "password": "s3cret-enough"}
    registered = client.post("/auth/register", json=creds)
    assert registered.status_code == 200
    assert registered.json() == {"id": IsInt, "email": "happy@example.com"}

    logged_in = login(client, creds["email"], creds["password"])
    assert logged_in.status_code == 200
    assert logged_in.json() == {"access_token": IsStr, "token_type": "bearer"}
    token = logged_in.json()["access_token"]
    claims = tokens.payload_of(token)
    assert claims["sub"] == str(registered.json()["id"])
    # The guide's default lifetime is 15 minutes, computed with naive utcnow().
    assert abs(claims["exp"] - (time.time() + 15 * 60)) < 120

    assert me(client, token) == (200, registered.json())


@pytest.mark.pattern("a wrong password is refused with 401")
def test_wrong_password_is_401(client: TestClient, alice: dict[str, str]) -> None:
    response = login(client, alice["email"], "not the password")
    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


@pytest.mark.pattern("an unknown user gets the same 401 as a wrong password")
def test_unknown_user_same_401_as_wrong_password(
    client: TestClient, alice: dict[str, str]
) -> None:
    wrong_password = login(client, alice["email"], "not the password")
    unknown_user = login(client, "nobody@example.com", "not the password")
    assert unknown_user.status_code == wrong_password.status_code == 401
    assert unknown_user.json() == wrong_password.json()


@pytest.mark.pattern("an unknown user is not revealed by the login's response time")
def test_unknown_user_not_revealed_by_timing(client: TestClient, alice: dict[str, str]) -> None:
    def seconds(username: str) -> float:
        start = time.perf_counter()
        assert login(client, username, "not the password").status_code == 401
        return time.perf_counter() - start

    # min() discards load spikes; the gap without a dummy hash is ~50x, the bound is 4x.
    wrong_password = min(seconds(alice["email"]) for _ in range(2))
    unknown_user = min(seconds(f"nobody-{i}@example.com") for i in range(2))
    assert unknown_user > wrong_password / 4, (
        f"unknown user answered in {unknown_user:.4f}s, known user in {wrong_password:.4f}s"
    )


@pytest.mark.pattern("a token with a modified signature is refused with 401")
@given(index=st.integers(min_value=0, max_value=31), mask=st.integers(min_value=1, max_value=255))
@settings(max_examples=25)
def test_tampered_signature_is_401(
    client: TestClient, secret: str, seeded_user: int, index: int, mask: int
) -> None:
    token = service.create_access_token({"sub": str(seeded_user)}, secret)
    assert me(client, token)[0] == 200
    assert me(client, tokens.flip_signature_byte(token, index, mask)) == (401, REJECTED)


@pytest.mark.pattern("a token whose payload was swapped (sub of another user) is refused")
def test_swapped_payload_is_401(
    client: TestClient, secret: str, seeded_user: int, db_path: Path
) -> None:
    victim = seed(db_path)
    token = service.create_access_token({"sub": str(seeded_user)}, secret)
    forged = tokens.with_payload(token, {**tokens.payload_of(token), "sub": str(victim)})
    assert me(client, token)[0] == 200
    assert me(client, forged) == (401, REJECTED)


@pytest.mark.pattern("an expired token is refused with 401")
def test_expired_token_is_401(client: TestClient, secret: str, seeded_user: int) -> None:
    valid = service.create_access_token({"sub": str(seeded_user)}, secret)
    expired = service.create_access_token(
        {"sub": str(seeded_user)}, secret, expires_delta=timedelta(minutes=-1)
    )
    assert me(client, valid)[0] == 200
    assert me(client, expired) == (401, REJECTED)


@pytest.mark.pattern("an unsigned alg=none token is refused with 401")
def test_alg_none_token_is_401(client: TestClient, secret: str, seeded_user: int) -> None:
    assert me(client, tokens.sign_hs256(claims_for(seeded_user), secret))[0] == 200
    assert me(client, tokens.unsigned(claims_for(seeded_user))) == (401, REJECTED)


@pytest.mark.pattern("a token signed with another key is refused with 401")
def test_other_key_token_is_401(client: TestClient, secret: str, seeded_user: int) -> None:
    other_key = secrets.token_hex(32)
    assert me(client, tokens.sign_hs256(claims_for(seeded_user), secret))[0] == 200
    assert me(client, tokens.sign_hs256(claims_for(seeded_user), other_key)) == (401, REJECTED)


@pytest.mark.pattern("a valid token of a deleted user is refused with 401")
def test_deleted_user_token_is_401(
    client: TestClient, secret: str, seeded_user: int, db_path: Path
) -> None:
    token = service.create_access_token({"sub": str(seeded_user)}, secret)
    assert me(client, token)[0] == 200
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM users WHERE id = ?", (seeded_user,))
    assert me(client, token) == (401, REJECTED)


@pytest.mark.pattern("registering an e-mail twice is refused with 400")
def test_duplicate_registration_is_400(client: TestClient, alice: dict[str, str]) -> None:
    response = client.post("/auth/register", json=alice)
    assert response.status_code == 400
    assert response.json() == {"detail": "Email already registered"}


@pytest.mark.pattern("EmailStr refuses a malformed e-mail with 422")
def test_invalid_email_is_422(client: TestClient) -> None:
    response = client.post("/auth/register", json={"email": "not-an-email", "password": "x"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        IsPartialDict(loc=["body", "email"], type="value_error")
    ]


@pytest.fixture(scope="module")
def long_user(client: TestClient) -> dict[str, str]:
    creds = {"email": "long@example.com", "password": LONG_PASSWORD}
    response = client.post("/auth/register", json=creds)
    assert response.status_code == 200, response.text
    return creds


@pytest.mark.pattern("a password over bcrypt's 72 bytes registers and logs in (no 500)")
def test_long_password_registers_and_logs_in(
    client: TestClient, long_user: dict[str, str]
) -> None:
    response = login(client, long_user["email"], LONG_PASSWORD)
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


@pytest.mark.pattern("bytes after the 72nd still count: a different tail is refused")
def test_long_password_tail_is_not_ignored(client: TestClient, long_user: dict[str, str]) -> None:
    response = login(client, long_user["email"], SAME_PREFIX_OTHER_TAIL)
    assert response.status_code == 401, "a different password was accepted"


@pytest.mark.pattern("the guide's auth schemas module runs as printed")
def test_auth_schemas_import_as_printed() -> None:
    module = importlib.import_module(f"{__package__}.schemas_as_printed")
    assert module.UserResponse.model_config.get("from_attributes") is True
