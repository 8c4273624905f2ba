"""The JWT suite of jwt_auth_documented, run against the current tutorial's stack.

The shared tests and fixtures come from that case's ``support_jwt_suite`` (all of them, by a star
import); this module supplies the ``stack`` they run on, so their verdicts are this case's. Only what
is particular to this stack is written here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from known_issues.casekit import load

from ..jwt_auth_documented.support_jwt_suite import *  # noqa: F403 - the shared suite, every test of it
from ..jwt_auth_documented.support_jwt_suite import Stack

if TYPE_CHECKING:
    from ..jwt_auth_documented.config import Settings


def cheapest_argon2(cls: type[PasswordHash]) -> PasswordHash:
    """PasswordHash.recommended() with Argon2id at its cheapest cost (~1 ms a hash, not ~100 ms)."""
    return cls((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(scope="module")
def stack(guide_settings: Settings) -> Stack:
    """This case's stack. After ``guide_settings``: the service reads the guide's config, which makes
    its ``settings`` when first imported (where that fixture decides)."""
    # Patched while the service is imported: its hasher and dummy hash are made at import time.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(PasswordHash, "recommended", classmethod(cheapest_argon2))
        service = load(__package__, "service")
    return Stack(service, load(__package__, "app").create_app)


@pytest.mark.pattern("stored hashes are Argon2id (the stack does not touch bcrypt)")
def test_stored_hash_is_argon2(client: TestClient, alice: dict[str, str], db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        (stored,) = conn.execute("SELECT hashed_password FROM users WHERE email = ?", (alice["email"],)).fetchone()
    assert stored.startswith("$argon2id$"), stored
