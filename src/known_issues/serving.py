"""What case tests import (``from known_issues.serving import serve``): real servers on 127.0.0.1, from
the cell kernel (``known_issues.cell.serving``), kept under this name so that no case changes."""

from known_issues.cell.serving import *  # noqa: F403
