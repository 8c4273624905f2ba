"""Rehearse the guide's Dockerfile without a container engine (a helper of the suite, not code under test).

What is rehearsed, and how:
- ``COPY . .`` into a fresh folder standing for ``WORKDIR /app``: with no ``.dockerignore`` Docker
  sends every file of the folder (its documented rule, not observed here), so everything is copied.
  Paths outside the context (the interpreter the developer's ``.venv`` links to, its ``pyvenv.cfg``
  home) do not exist in the image: they are rewritten to point under ``/nonexistent-in-image`` so
  that uv sees what it would see there;
- the ``uv ...`` commands of the ``RUN`` line, with the uv of the cell (``pip install uv`` installs
  the newest uv from the package index; the cell's is the newest at resolve time) and with only the
  image's Python visible: PATH holds nothing but that interpreter, uv's managed-Python folder is
  empty and Python downloads are off;
- the ``CMD``, with ``--host 0.0.0.0`` replaced by 127.0.0.1 and the port by a free one.
What cannot be rehearsed is listed in the case's summary.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from known_issues.casekit import Reason, SuiteFault

from ..guide_project_setup.support_uvproject import uv_env

OUTSIDE_IMAGE = "/nonexistent-in-image"


@dataclass
class Dockerfile:
    base_image: str = ""
    workdir: str = ""
    copies: list[list[str]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)

    @property
    def python_minor(self) -> str | None:
        """``3.12`` for ``python:3.12-slim`` (an official python image), else None."""
        match = re.match(r"^(?:docker\.io/)?(?:library/)?python:(\d+\.\d+)", self.base_image)
        return match.group(1) if match else None

    def uv_commands(self) -> list[list[str]]:
        """The ``uv ...`` commands of the RUN lines (``pip install uv`` is what provides uv itself)."""
        commands = []
        for run in self.runs:
            for part in run.split("&&"):
                words = shlex.split(part)
                if words and words[0] == "uv":
                    commands.append(words[1:])
        return commands


def parse_dockerfile(text: str) -> Dockerfile:
    """The instructions this rehearsal needs (continuation lines joined, comments dropped)."""
    parsed = Dockerfile()
    logical = re.sub(r"\\\n", " ", text)
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        rest = rest.strip()
        name = instruction.upper()
        if name == "FROM":
            parsed.base_image = rest.split()[0]
        elif name == "WORKDIR":
            parsed.workdir = rest
        elif name == "COPY":
            parsed.copies.append(json.loads(rest) if rest.startswith("[") else rest.split())
        elif name == "RUN":
            parsed.runs.append(rest)
        elif name == "EXPOSE":
            parsed.expose += rest.split()
        elif name == "CMD":
            parsed.cmd = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
    return parsed


def link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def copy_tree(src: Path, dst: Path) -> None:
    """A copy that shares file contents (hard links) and keeps symlinks as symlinks; never edit in place."""
    shutil.copytree(src, dst, symlinks=True, copy_function=link_or_copy)


def copy_into_image(context: Path, image_root: Path) -> list[str]:
    """``COPY . .`` into ``image_root``; returns the host-only paths that had to be cut off."""
    if (context / ".dockerignore").exists():
        # Docker would leave out what it lists; this rehearsal does not read it.
        raise SuiteFault(Reason.HARNESS, "the context has a .dockerignore, which this rehearsal does not model")
    copy_tree(context, image_root)
    cut = []
    for folder, dirs, files in os.walk(image_root):
        for name in files + dirs:
            path = Path(folder) / name
            if path.is_symlink():
                target = os.readlink(path)
                if os.path.isabs(target) and not target.startswith(str(context)):
                    path.unlink()
                    path.symlink_to(OUTSIDE_IMAGE + target)
                    cut.append(f"{path.relative_to(image_root)} -> {target}")
            elif name == "pyvenv.cfg":
                text = path.read_text(encoding="utf-8")
                moved = re.sub(r"^home = (/.*)$", rf"home = {OUTSIDE_IMAGE}\1", text, flags=re.MULTILINE)
                if moved != text:
                    path.unlink()  # a hard link: write a new file, never the shared one
                    path.write_text(moved, encoding="utf-8")
                    cut.append(f"{path.relative_to(image_root)}: home")
    return cut


def find_python(minor: str) -> Path | None:
    """An interpreter of this Python minor on this machine (pyenv's versions first, then PATH)."""
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{minor}.*/bin/python{minor}"), reverse=True)
    on_path = shutil.which(f"python{minor}")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == minor:
            return Path(candidate)
    return None


def image_env(python: Path, minor: str, scratch: Path) -> dict[str, str]:
    """uv's environment inside the rehearsed image: only ``python`` on PATH, no managed Pythons."""
    bin_dir = scratch / "image-bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in (f"python{minor}", "python3", "python"):
        link = bin_dir / name
        if not link.is_symlink():
            link.symlink_to(python)
    managed = scratch / "no-managed-pythons"
    managed.mkdir(exist_ok=True)
    env = uv_env()
    env.update(PATH=str(bin_dir), UV_PYTHON_INSTALL_DIR=str(managed), UV_PYTHON_DOWNLOADS="never")
    return env
