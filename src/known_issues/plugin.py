"""``-p known_issues.plugin`` keeps working: the cell kernel's pytest plugin (``known_issues.cell.plugin``)."""

from known_issues.cell.plugin import pytest_addoption, pytest_configure

__all__ = ["pytest_addoption", "pytest_configure"]
