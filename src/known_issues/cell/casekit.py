"""Small helpers for case tests. Imports nothing but the standard library, pytest and packaging.

What a case test may raise and how it is judged is in ``known_issues.cell.classify``; the exception
types the helpers raise are re-exported here so a case imports everything from one place.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import platform
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from known_issues.cell import shared_bytecode
from known_issues.cell.classify import CodeRaised, SuiteFault
from known_issues.cell.verdicts import Reason

__all__ = [
    "CodeRaised",
    "Missing",
    "Observed",
    "Reason",
    "SuiteFault",
    "among",
    "answer",
    "answered",
    "answered_with",
    "body",
    "bug_or_fixed",
    "has",
    "installed",
    "load",
    "lookup",
    "precondition",
    "record",
    "requires",
    "share_bytecode",
]


@functools.cache
def installed(dist: str) -> Version | None:
    """The installed version of a distribution, or of the interpreter for ``"python"``.

    Asked once a process: a cell's environment never changes while it runs, and each lookup reads
    the metadata of every installed distribution (about a hundred lookups a cell)."""
    if dist == "python":
        return Version(platform.python_version())
    try:
        return Version(importlib.metadata.version(dist))
    except importlib.metadata.PackageNotFoundError:
        return None


def has(requirement: str) -> bool:
    """True when e.g. ``"fastapi>=0.113"`` (or ``"python>=3.12"``) holds for what is installed."""
    name, spec = _split(requirement)
    version = installed(name)
    return version is not None and SpecifierSet(spec).contains(version, prereleases=True)


def requires(requirement: str, reason: str) -> pytest.MarkDecorator:
    """Skip (verdict n/a) where the feature under test does not exist yet.

    Use it only for "feature absent in this version": any other skip would hide a verdict.
    """
    name, spec = _split(requirement)
    return pytest.mark.skipif(
        not has(requirement),
        reason=f"feature absent: {reason} (needs {name}{spec}, installed {installed(name)})",
    )


def _split(requirement: str) -> tuple[str, str]:
    for i, ch in enumerate(requirement):
        if ch in "<>=!~":
            return requirement[:i].strip(), requirement[i:].strip()
    raise ValueError(f"not a requirement with a version specifier: {requirement!r}")


def load(package: str | None, name: str) -> ModuleType:
    """Import the case module ``name`` (e.g. ``load(__package__, "app_no_future")``) inside the test.

    Where importing the documented code is itself what may fail (a snippet that raises when its
    routes are declared), import it in the test, not at the top of the test module: the failure is
    then that test's observation (a crash of the code under test), and the case's other tests
    still run. A failure at the top of a test module is a collection error of the whole case.
    """
    if not package:
        raise ValueError("load() needs the test module's __package__")
    return importlib.import_module(f"{package}.{name}")


def precondition(holds: bool, message: str) -> None:
    """A step a test needs before it can look at the behaviour it names (the row it then updates,
    the token it then sends). When it does not hold the suite could not observe: error
    (reason ``precondition``) with ``message``, never fixed or broken."""
    if not holds:
        raise SuiteFault(Reason.PRECONDITION, message)


def answered(response: Any, status: int) -> Any:
    """``response`` of a setup request, which must answer ``status`` (a precondition, with its body)."""
    precondition(
        response.status_code == status,
        f"a setup request ({_request_line(response)}) answered {response.status_code}, not {status}: "
        + _short(response.text),
    )
    return response


def answered_with(response: Any, status: int, key: str) -> Any:
    """The field ``key`` of a setup request's JSON body, which must answer ``status`` and carry it.

    A step before the behaviour under test (creating the record a test then reads, logging in for
    a token) checks only what the test needs from it: the status and the one field it uses. Any
    other change of its body is not this test's observation."""
    answered(response, status)
    value = lookup(body(response), key)
    precondition(
        not isinstance(value, Missing),
        f"a setup request ({_request_line(response)}) answered {status} without {key!r}: " + _short(response.text),
    )
    return value


def body(response: Any) -> Any:
    """A response's JSON body, or its text when it is not JSON: never raises on what was answered."""
    return answer(response)["body"]


class Missing:
    """What ``lookup`` gives for a key or index the observed data does not have.

    Equal to nothing (a comparison with it fails, showing what was observed instead of raising a
    KeyError in the test, which would read as the suite's own error) and false."""

    __slots__ = ("path", "seen")

    def __init__(self, path: tuple[Any, ...], seen: Any) -> None:
        self.path = path
        self.seen = seen

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        where = "".join(f"[{key!r}]" for key in self.path)
        return f"<missing {where}: observed {_short(self.seen, 300)}>"


def lookup(data: Any, *path: Any) -> Any:
    """``data[path[0]][path[1]]...`` on observed data (a response body, a header map, a schema), or a
    ``Missing`` naming the first key that is not there: asserting on it fails with what was seen."""
    seen = data
    for depth, key in enumerate(path):
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return Missing(path[: depth + 1], seen)
    return data


def among(events: Any, *names: str) -> list[Any]:
    """The events of a recorded log that are one of ``names``, in the order they happened: compare
    it with the expected order (``among(events, "commit", "sent") == ["commit", "sent"]``), where
    ``events.index(...)`` would raise when one is missing."""
    return [event for event in events if event in names]


def answer(response: Any) -> dict[str, Any]:
    """What a client saw, ``{"status": 422, "body": <the JSON, or the text when it is not JSON>}``,
    to compare with ``bug_or_fixed``'s outcomes."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    seen = {"status": response.status_code, "body": body}
    record(_request_line(response), seen)
    return seen


_RECORDED: list[str] = []  # what the running test observed; the plugin takes it after each test


def record(what: str, value: Any) -> None:
    """Keep what a test observed (a status, a body, a value), so that its verdict shows the evidence
    even when the test passes (a reproducing bug has no failure message to show)."""
    _RECORDED.append(f"{what}: {_short(value, 400)}")


def take_recorded() -> str:
    """What the test just run recorded, once (the plugin calls this after each test)."""
    text = "\n".join(_RECORDED)
    _RECORDED.clear()
    return text


def bug_or_fixed(observed: Any, *, bug: Any, fixed: Any) -> None:
    """A bug test's observation judged against both documented outcomes, exactly.

    ``observed == bug`` (the documented wrong behaviour): returns, the test passes (reproduces).
    ``observed == fixed`` (the behaviour the guide or the issue says is right): a failed assertion
    (fixed). Anything else (another status, a 422 where a 200 was expected either way) says
    nothing about the bug: error (reason ``unexpected outcome``) with what was observed. Loosen
    what is incidental with dirty-equals (``IsPartialDict``, ``IsStr``) inside ``bug`` and ``fixed``.
    """
    record("observed", observed)
    if observed == bug:
        return
    if observed == fixed:
        raise AssertionError(f"the documented outcome is gone: observed {_short(observed)}; documented {_short(bug)}")
    raise SuiteFault(
        Reason.UNEXPECTED,
        f"observed {_short(observed)}: neither the documented outcome {_short(bug)} nor the fixed one {_short(fixed)}",
    )


def _request_line(response: Any) -> str:
    try:
        request = response.request
        return f"{request.method} {request.url.path}"
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError for a response built by hand
        return "?"


def _short(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Observed:
    """An ASGI wrapper that records the exception the app raised while handling a request.

    For a bug whose documented symptom *is* a crash (a 500): wrap the app, send the request once
    with ``TestClient(observed, raise_server_exceptions=False)`` to see the status a client gets,
    then ``observed.assert_raised(SomeError, match="...")``. Any other exception raised by the app
    is re-raised as what it is (a crash, never "fixed"); no exception at all fails the assertion.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.raised: list[BaseException] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:  # recorded, then passed on unchanged
            if scope.get("type") == "http":
                self.raised.append(exc)
            raise

    def assert_raised(self, expected: type[BaseException], match: str) -> BaseException:
        """The one exception the app raised, checked for its exact type and message."""
        if not self.raised:
            raise AssertionError(f"the app raised nothing (the documented crash is {expected.__name__}: {match})")
        if len(self.raised) > 1:
            # The test sent more than one request per check: the suite's fault, not the code's.
            raise SuiteFault(Reason.HARNESS, f"the app raised {len(self.raised)} times; send one request per check")
        exc = _unwrap(self.raised.pop())
        if not isinstance(exc, expected) or not re.search(match, str(exc)):
            raise CodeRaised(
                f"the app raised {type(exc).__module__}.{type(exc).__qualname__}: {exc}, "
                f"not the documented {expected.__name__} matching {match!r}"
            ) from exc
        return exc


def _unwrap(exc: BaseException) -> BaseException:
    """A lone exception inside an exception group (anyio task groups in middleware) is the exception."""
    inner = getattr(exc, "exceptions", None)
    while isinstance(inner, (list, tuple)) and len(inner) == 1 and isinstance(inner[0], BaseException):
        exc = inner[0]
        inner = getattr(exc, "exceptions", None)
    return exc


def share_bytecode(venv: Path) -> None:
    """Call on an environment the case has just made (``uv add``, ``uv sync``), before anything runs in
    it: it gets the bytecode the cells compiled for the same installed files, and keeps what it
    compiles for the next cells. A build costs some CPU-seconds less; what runs in it cannot tell
    (Python checks each file against its source: cell/shared_bytecode.py)."""
    shared_bytecode.share(venv)
