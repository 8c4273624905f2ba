"""The result store: what one case gave in one environment, reused while nothing it depends on changed.

A stored result is keyed by everything that can change it: the environment (the interpreter and
the resolved lock), the case folder's files, the harness code that runs inside the cell (exactly the
modules a cell imports, ``runner/cell_imports.py``, and the shared cases/conftest.py) and the per-test
time limit. Change any of them and that case, only that case, runs again in that cell. The smoke
check's answer is kept per environment the same way, so a run where everything is reused needs
no environment at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from known_issues.catalog import files_digest
from known_issues.cell.atomic import write_json, write_text
from known_issues.cell.observations import CollectError, TestResult
from known_issues.cell.serial import dump
from known_issues.errors import SchemaError
from known_issues.records import check_schema, load
from known_issues.runner.cell_imports import PACKAGE_DIR, in_cell_files

SCHEMA = 1
USE_MARKED_FOR = 3600.0  # seconds: a stored result read within this is not marked as used again
R = TypeVar("R")


def harness_digest(cases_dir: Path, package_dir: Path = PACKAGE_DIR) -> str:
    digest = hashlib.sha256()
    for path in in_cell_files(cases_dir, package_dir):
        name = path.relative_to(package_dir).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes())
    for shared in ("conftest.py", "__init__.py"):
        path = cases_dir / shared
        if path.exists():
            digest.update(shared.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def smoke_digest() -> str:
    return hashlib.sha256((PACKAGE_DIR / "cell" / "smoke.py").read_bytes()).hexdigest()[:12]


@dataclass(frozen=True)
class Inputs:
    """Everything a case's result in one environment depends on besides the case's own files."""

    env_key: str
    harness: str
    test_timeout: float

    def key(self, case_digest: str) -> str:
        text = f"{self.env_key}\n{case_digest}\n{self.harness}\n{self.test_timeout:g}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class CaseResult:
    """One case's tests (or its collection error) from one pytest run in one environment."""

    case: str
    python: str
    distributions: dict[str, str]
    tests: list[TestResult] = field(default_factory=list)
    collect_errors: list[CollectError] = field(default_factory=list)
    schema: int = SCHEMA


@dataclass
class SmokeAnswer:
    """The smoke check's answer for one environment (kept: an environment does not change)."""

    ok: bool
    message: str
    schema: int = SCHEMA


@dataclass(frozen=True)
class ResultStore:
    folder: Path

    def get(self, key: str) -> CaseResult | None:
        path = self.folder / f"{key}.json"
        try:
            data = check_schema(json.loads(path.read_text(encoding="utf-8")), SCHEMA, str(path))
            found = load(CaseResult, data)
        except (OSError, ValueError, KeyError, SchemaError):
            return None
        _used(path)
        return found

    def has(self, key: str) -> bool:
        """Is a result stored under ``key`` (without reading it)? Counts as a use, for gc."""
        path = self.folder / f"{key}.json"
        try:
            _used(path, path.stat().st_mtime)
        except OSError:
            return False
        return True

    def put(self, key: str, result: CaseResult) -> None:
        write_json(self.folder / f"{key}.json", dump(result))

    def get_record(self, key: str, kind: type[R], schema: int) -> R | None:
        """A stored record of another kind (a narrowed change...), or None."""
        path = self.folder / f"{key}.json"
        try:
            found = load(kind, check_schema(json.loads(path.read_text(encoding="utf-8")), schema, str(path)))
        except (OSError, ValueError, KeyError, TypeError, SchemaError):
            return None
        _used(path)
        return found

    def put_record(self, key: str, record: object) -> None:
        write_json(self.folder / f"{key}.json", dump(record))

    def put_lock(self, env_key: str, lock: str) -> None:
        """The lock an environment was made from: a confirmation re-run may need to rebuild it."""
        path = self.folder / f"lock-{env_key}.txt"
        if path.exists():
            _used(path)  # resolved to again: in use, even if no confirmation has read it
        else:
            write_text(path, lock)

    def lock(self, env_key: str) -> str | None:
        path = self.folder / f"lock-{env_key}.txt"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return None
        _used(path)
        return text

    def smoke(self, env_key: str) -> tuple[bool, str] | None:
        path = self.folder / f"smoke-{env_key}-{smoke_digest()}.json"
        try:
            saved = load(SmokeAnswer, check_schema(json.loads(path.read_text(encoding="utf-8")), SCHEMA, str(path)))
        except (OSError, ValueError, KeyError, TypeError, SchemaError):
            return None
        _used(path)
        return saved.ok, saved.message

    def put_smoke(self, env_key: str, ok: bool, message: str) -> None:
        write_json(self.folder / f"smoke-{env_key}-{smoke_digest()}.json", dump(SmokeAnswer(ok, message)))


def _used(path: Path, modified: float | None = None) -> None:
    """A stored file's modification time is its last use: `gc` removes what no run has read for long
    (after an edit of the harness or a case, the old results are never asked for again)."""
    # gc counts unused days: a use marked in the last hour need not be marked again (a run reads
    # hundreds of stored results; writing each one's time again is most of an unchanged run's reads).
    if modified is not None and time.time() - modified < USE_MARKED_FOR:
        return
    # A read-only store (a restored cache) is still usable: gc will just see it as older.
    with suppress(OSError):
        os.utime(path)


def case_digests(cases_dir: Path, cases: list[str]) -> dict[str, str]:
    return {case: files_digest(cases_dir / case) for case in cases}
