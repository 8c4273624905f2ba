"""The Minimal Working Example (the Quick Start's src/main.py), stored once as printed in
cases/guide_code/printed/minimal_main.py: imported here for the in-process tests."""

from ..guide_code.printed.minimal_main import app
from ..guide_code.support_printed import MINIMAL_MAIN

__all__ = ["MINIMAL_MAIN", "app"]
