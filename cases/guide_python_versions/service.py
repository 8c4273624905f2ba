"""The document's auth service signatures (``timedelta | None``, ``-> dict | None``).

The bodies stand in for python-jose with the standard library (a JSON payload, no signature):
what is under test is that the functions can be defined at all, as the document writes them.
"""

import json
from datetime import datetime, timedelta, timezone


def create_access_token(data: dict, expires_delta: timedelta | None = None) -> str:
    to_encode = data.copy()
    expire = datetime.now(timezone.utc) + (expires_delta or timedelta(minutes=15))
    to_encode.update({"exp": int(expire.timestamp())})
    return json.dumps(to_encode, sort_keys=True)


def decode_token(token: str) -> dict | None:
    try:
        return json.loads(token)
    except ValueError:
        return None
