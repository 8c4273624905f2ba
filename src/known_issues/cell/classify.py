"""Where did a test's exception come from? The code under test, the test's own assertion, or the suite.

The rule (documented in cases/README.md), applied to every phase of a case test:

1. A time limit that expired (``TestTimeout``) is an ``error`` (reason ``timeout``), wherever it hit.
2. ``SuiteFault`` (raised by the harness's helpers: a port clash, a server that never answered,
   a missing tool) is an ``error`` with the reason it carries.
3. ``CodeRaised`` (raised by helpers that run documented code out of process, e.g. a server
   command that exited) is a crash of the code under test.
4. An ``AssertionError`` or ``pytest.fail`` raised in the test module, a support module or the
   harness's helpers is a failed assertion about the behaviour.
5. Any other exception is a crash of the code under test when its traceback passes through the
   code under test: a module of the case folder other than ``test_*.py``, ``conftest.py`` and
   ``support_*.py`` (importing the case's app, declaring a route, a service function), or the
   ASGI application itself (FastAPI's or Starlette's ``__call__``: a request or a lifespan that
   raised inside the app). An ``assert`` that fails inside the code under test is a crash too.
6. In the test's call, an exception raised inside the packages under test (``PACKAGES_UNDER_TEST``:
   the framework, its test client and the HTTP client that drives, the validation library),
   decided by the innermost frame of its traceback, is that code's behaviour: a crash. A
   TestClient that refuses an argument, a model that refuses a value, are observations.
7. Otherwise an ``AssertionError`` or ``pytest.fail`` is a failed assertion about the behaviour.
8. Anything else is an ``error`` of the test or a fixture of ours (reason ``harness``): an
   exception raised in the suite's own code (a case's test or support module, conftest, the
   harness) or in a library that is not under test.

An exception group (several failures found by Hypothesis, or an anyio task group) is judged
leaf by leaf: any error makes it an error, else any crash makes it a crash, else it failed.
In setup and teardown a failed assertion is a precondition that did not hold: an ``error``.

Standard library only (pytest's own exception type is recognised by name): this runs in cells.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType

from known_issues.cell.verdicts import Outcome, Reason

MESSAGE_LIMIT = 4000
_RAISES_OTHER_MESSAGE = "Regex pattern did not match"
_SUPPORT_PREFIXES = ("test_", "support_")
_SUPPORT_FILES = ("conftest.py", "__init__.py")
_ASGI_ENTRIES = (os.path.join("fastapi", "applications.py"), os.path.join("starlette", "applications.py"))
# The packages whose behaviour the cells observe (import names): FastAPI, Starlette (with its
# TestClient), the HTTP clients a TestClient drives (httpx, and httpx2 from Starlette 1.2.0), and
# Pydantic with its core. An exception they raise during a test's call is their behaviour.
PACKAGES_UNDER_TEST = ("fastapi", "starlette", "httpx", "httpx2", "pydantic", "pydantic_core")


class TestTimeout(Exception):
    """Raised inside a test that ran past the per-test time limit."""

    __test__ = False


class SuiteFault(Exception):
    """The suite could not observe the behaviour (a port clash, a server that never answered...)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CodeRaised(Exception):
    """The code under test failed where no Python traceback reaches the test (another process)."""


@dataclass(frozen=True)
class Classified:
    outcome: Outcome | None  # None: the phase passed
    reason: Reason | None = None
    message: str = ""


PASSED = Classified(None)


def classify(exc: BaseException, phase: str) -> Classified:
    """The outcome one exception gives a test, in the phase ("setup", "call", "teardown") it hit."""
    leaves = list(_leaves(exc))
    judged = [_leaf(leaf, phase) for leaf in leaves]
    outcome = _combine([j.outcome for j in judged if j.outcome is not None])
    reason = next((j.reason for j in judged if j.outcome == Outcome.ERROR), None)
    if phase != "call" and outcome == Outcome.FAILED:
        outcome, reason = Outcome.ERROR, Reason.PRECONDITION
    messages = [j.message for j in judged]
    if len(messages) == 1:
        message = messages[0]
    else:
        message = f"{len(messages)} exceptions: " + "\n".join(f"[{i}] {m}" for i, m in enumerate(messages, 1))
    if phase != "call":
        message = f"[{phase}] {message}"
    return Classified(outcome, reason, short(message))


_SEVERITY = (Outcome.ERROR, Outcome.CRASHED, Outcome.FAILED)


def _combine(outcomes: list[Outcome]) -> Outcome:
    for outcome in _SEVERITY:
        if outcome in outcomes:
            return outcome
    return Outcome.ERROR


def worst(a: Outcome, b: Outcome) -> Outcome:
    """The outcome that decides when two phases of one test did not pass (an error outranks all)."""
    order = (*_SEVERITY, Outcome.SKIPPED, Outcome.PASSED)
    return a if order.index(a) <= order.index(b) else b


def _leaf(exc: BaseException, phase: str) -> Classified:
    text = exconly(exc)
    if isinstance(exc, TestTimeout):
        return Classified(Outcome.ERROR, Reason.TIMEOUT, text)
    if isinstance(exc, SuiteFault):
        return Classified(Outcome.ERROR, exc.reason, text)
    if isinstance(exc, CodeRaised):
        return Classified(Outcome.CRASHED, None, text)
    is_assertion = isinstance(exc, AssertionError) or _is_pytest_fail(exc)
    if is_assertion and str(exc).startswith(_RAISES_OTHER_MESSAGE):
        # pytest.raises(X, match=...) saw X, with another message: the code crashed another way.
        return Classified(Outcome.CRASHED, None, text)
    innermost = _innermost(exc.__traceback__)
    # An assert written in the test (also one that runs inside a request, e.g. in an override) is
    # the test's own check; an assert anywhere in the code under test is that code crashing.
    if is_assertion and innermost is not None and _is_test_side(innermost[0]):
        return Classified(Outcome.FAILED, None, f"{text} ({_where(innermost)})")
    raised_in = code_under_test_frame(exc.__traceback__)
    if raised_in is not None:
        return Classified(Outcome.CRASHED, None, f"{text} (raised in {raised_in})")
    if phase == "call" and innermost is not None and not _is_transport_error(exc):
        package_file = package_under_test(innermost[0])
        if package_file is not None:
            return Classified(Outcome.CRASHED, None, f"{text} (raised in {package_file}:{innermost[1]})")
    if is_assertion:
        return Classified(Outcome.FAILED, None, f"{text} ({_where(innermost)})" if innermost else text)
    if _is_hypothesis_flaky(exc):
        return Classified(Outcome.ERROR, Reason.HARNESS, f"{text} (Hypothesis saw the test pass and fail on one input)")
    return Classified(Outcome.ERROR, Reason.HARNESS, text)


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    inner = getattr(exc, "exceptions", None)
    if isinstance(inner, (list, tuple)) and inner and all(isinstance(e, BaseException) for e in inner):
        if _is_hypothesis_flaky(exc):
            yield exc
            return
        for e in inner:
            yield from _leaves(e)
    else:
        yield exc


def _frames(tb: TracebackType | None) -> Iterator[tuple[str, str, int]]:
    while tb is not None:
        code = tb.tb_frame.f_code
        yield code.co_filename, code.co_name, tb.tb_lineno
        tb = tb.tb_next


def is_code_under_test(filename: str) -> bool:
    """A module of a case folder (``cases/<slug>/*.py``), or one below it (the guide's blocks in
    ``cases/guide_code/printed/``, imported by the cases that run them), that is not a test,
    conftest or support module."""
    parts = os.path.normpath(filename).split(os.sep)
    if "cases" not in parts[:-2] or "site-packages" in parts:
        return False
    name = parts[-1]
    return name.endswith(".py") and name not in _SUPPORT_FILES and not name.startswith(_SUPPORT_PREFIXES)


def code_under_test_frame(tb: TracebackType | None) -> str | None:
    """The innermost line of the code under test the traceback passes through ("schemas.py:11", not
    the app.py that imported it), else "the ASGI app" when it passed through one; None otherwise."""
    where = None
    for filename, name, lineno in _frames(tb):
        if is_code_under_test(filename):
            where = f"{os.path.basename(filename)}:{lineno}"
        elif where is None and name == "__call__" and filename.endswith(_ASGI_ENTRIES):
            where = "the ASGI app, handling a request"
    return where


@functools.cache
def _package_dirs() -> tuple[tuple[str, str], ...]:
    """(the folder of each installed package under test, the folder it sits in), resolved."""
    found = []
    for name in PACKAGES_UNDER_TEST:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec is not None else []:
            folder = os.path.realpath(location)
            found.append((folder + os.sep, os.path.dirname(folder)))
    return tuple(found)


@functools.lru_cache(maxsize=1024)
def package_under_test(filename: str) -> str | None:
    """``httpx/_client.py`` for a file inside one of ``PACKAGES_UNDER_TEST``, else None."""
    path = os.path.realpath(filename)
    for folder, parent in _package_dirs():
        if path.startswith(folder):
            return os.path.relpath(path, parent).replace(os.sep, "/")
    return None


def _innermost(tb: TracebackType | None) -> tuple[str, int] | None:
    last = None
    for filename, _, lineno in _frames(tb):
        last = (filename, lineno)
    return last


def _where(frame: tuple[str, int]) -> str:
    return f"{os.path.basename(frame[0])}:{frame[1]}"


_HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_test_side(filename: str) -> bool:
    """A case's test, conftest or support module, or the harness's helpers (casekit, serving)."""
    parts = os.path.normpath(filename).split(os.sep)
    in_cases = len(parts) >= 3 and "cases" in parts[-3:-1]
    return (in_cases and not is_code_under_test(filename)) or os.path.dirname(os.path.abspath(filename)) == _HARNESS_DIR


def _is_pytest_fail(exc: BaseException) -> bool:
    # pytest.fail's exception class is named Failed; pytest rewrites its __module__ to "builtins".
    mro = type(exc).__mro__
    return mro[0].__name__ == "Failed" and any(c.__module__.startswith("_pytest") for c in mro)


def _is_transport_error(exc: BaseException) -> bool:
    # httpx's TransportError (a timeout, a refused connection) reports what a server across the
    # network did or failed to do in time, not the HTTP client's own behaviour: not a crash here.
    return any(
        c.__name__ == "TransportError" and c.__module__.split(".")[0] in ("httpx", "httpx2") for c in type(exc).__mro__
    )


def _is_hypothesis_flaky(exc: BaseException) -> bool:
    return any(c.__module__.startswith("hypothesis") and "Flaky" in c.__name__ for c in type(exc).__mro__)


def exconly(exc: BaseException) -> str:
    """``module.Type: message`` as pytest prints it (builtins without a module)."""
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    text = str(exc)
    return f"{name}: {text}" if text else name


def short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 20] + "\n... [truncated]"
