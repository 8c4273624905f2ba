"""Auth service with the libraries of FastAPI's current security tutorial: PyJWT and pwdlib.

As in the tutorial: ``PasswordHash.recommended()`` (Argon2id), an aware UTC expiry, and a dummy
hash verified when the user does not exist (its ``authenticate_user``), so that an unknown user
costs one hash verification, like a wrong password. The functions have the guide's service's
signatures and read the guide's ``settings`` as it does, so the guide's app runs on them unchanged.
"""

from __future__ import annotations  # ours, not the guide's: `X | None` must not decide the verdict on 3.9

from datetime import datetime, timedelta, timezone

import jwt
from jwt.exceptions import InvalidTokenError
from pwdlib import PasswordHash

from ..jwt_auth_documented.config import settings

ALGORITHM = "HS256"

password_hash = PasswordHash.recommended()

DUMMY_HASH = password_hash.hash("dummypassword")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(plain: str, hashed: str) -> bool:
    return password_hash.verify(plain, hashed)


def authenticate(user, password: str) -> bool:
    if not user:
        verify_password(password, DUMMY_HASH)
        return False
    return verify_password(password, user.hashed_password)


def create_access_token(data: dict, expires_delta: timedelta | None = None) -> str:
    # Written as the tutorial writes it (an explicit if/else around an aware UTC now).
    to_encode = data.copy()
    if expires_delta:
        expire = datetime.now(timezone.utc) + expires_delta
    else:
        expire = datetime.now(timezone.utc) + timedelta(minutes=15)
    to_encode.update({"exp": expire})
    encoded_jwt = jwt.encode(to_encode, settings.SECRET_KEY, algorithm=ALGORITHM)
    return encoded_jwt


def decode_token(token: str) -> dict | None:
    try:
        return jwt.decode(token, settings.SECRET_KEY, algorithms=[ALGORITHM])
    except InvalidTokenError:
        return None
