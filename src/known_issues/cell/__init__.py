"""The cell kernel: the only code that runs inside a matrix cell, next to the FastAPI under test.

Python 3.9+ and nothing outside this package but the standard library, pytest and packaging (FastAPI
may be missing or broken in a cell). Its files, with the shims cases import (``known_issues.casekit``,
``known_issues.serving``, ``known_issues.plugin``), are the harness part of every stored result's key.
"""
