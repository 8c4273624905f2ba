"""The errors a user can cause and must read: each is printed as ``error: ...`` and exits with 2.

One place for all of them, so the command line catches one tuple and no module imports the command
line for its error type.
"""

from __future__ import annotations


class UsageError(Exception):
    """A bad command line or argument: a cell, case, group or version that does not exist."""


class MatrixError(ValueError):
    """An invalid matrix file; the message names the offending key."""


class CaseError(ValueError):
    """An invalid case folder; the message names the file and the key."""


class SchemaError(ValueError):
    """A results file written by another version of the harness, or not a results file at all."""


class PackageIndexError(RuntimeError):
    """The package index could not be read and no cached copy exists."""


USER_ERRORS: tuple[type[Exception], ...] = (UsageError, MatrixError, CaseError, SchemaError, PackageIndexError)

__all__ = ["USER_ERRORS", "CaseError", "MatrixError", "PackageIndexError", "SchemaError", "UsageError"]
