"""The noxfile installs the harness into a session's environment once, and again only when what the
install is made from changes (pyproject.toml, a requirements file): an unchanged `nox -s matrix`
spends no time on it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PYPROJECT = """\
[project]
name = "planted-harness"
version = "0.1.0"
description = "{description}"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/known_issues"]
"""


def _nox(project: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "cells", "--envdir", str(project / ".nox")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.mark.e2e
def test_a_session_installs_the_harness_again_only_when_its_metadata_changes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    package = project / "src" / "known_issues"
    package.mkdir(parents=True)
    shutil.copy(ROOT / "noxfile.py", project)
    (project / "pyproject.toml").write_text(PYPROJECT.format(description="one"), encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text("import sys\nprint('harness ran:', *sys.argv[1:])\n", encoding="utf-8")

    first = _nox(project)
    assert "uv pip install -e ." in first and "harness ran: cells" in first

    second = _nox(project)
    assert "uv pip install" not in second and "installed already: -e ." in second
    assert "harness ran: cells" in second

    # The harness is installed editable: an edit of its code is run without an install.
    (package / "__main__.py").write_text("import sys\nprint('edited harness ran:', *sys.argv[1:])\n", encoding="utf-8")
    third = _nox(project)
    assert "uv pip install" not in third and "edited harness ran: cells" in third

    # Its metadata is what an install makes: a changed pyproject.toml is installed again.
    (project / "pyproject.toml").write_text(PYPROJECT.format(description="two"), encoding="utf-8")
    fourth = _nox(project)
    assert "uv pip install -e ." in fourth and "edited harness ran: cells" in fourth
    assert "installed already" not in fourth
