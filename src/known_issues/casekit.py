"""What case tests import (``from known_issues import casekit``): the cell kernel's helpers for cases,
kept under this name so that no case changes when the kernel moves (``known_issues.cell.casekit``)."""

from known_issues.cell.casekit import *  # noqa: F403
from known_issues.cell.casekit import __all__  # noqa: F401
