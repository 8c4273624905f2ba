"""The guide's auth service: passlib bcrypt hashing and python-jose HS256 tokens.

Kept as the guide has it (naive ``datetime.utcnow()``, 15 minutes by default, ``None`` on any
JWTError); only the secret is passed in instead of read from a global settings object.
``authenticate`` is the guide's login check, moved here from its router unchanged: an unknown
user is refused before any password is verified.
"""

from datetime import datetime, timedelta

from jose import JWTError, jwt
from passlib.context import CryptContext

pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


def hash_password(password: str) -> str:
    return pwd_context.hash(password)


def verify_password(plain: str, hashed: str) -> bool:
    return pwd_context.verify(plain, hashed)


def authenticate(user, password: str) -> bool:
    if not user or not verify_password(password, user.hashed_password):  # the router's check
        return False
    return True


def create_access_token(data: dict, secret_key: str, expires_delta: timedelta | None = None) -> str:
    to_encode = data.copy()
    expire = datetime.utcnow() + (expires_delta or timedelta(minutes=15))
    to_encode.update({"exp": expire})
    return jwt.encode(to_encode, secret_key, algorithm="HS256")


def decode_token(token: str, secret_key: str) -> dict | None:
    try:
        return jwt.decode(token, secret_key, algorithms=["HS256"])
    except JWTError:
        return None
