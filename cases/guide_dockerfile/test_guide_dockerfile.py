"""The guide's Dockerfile, rehearsed without a container engine (see support_dockerfile for how).

The developer's folder is what following the guide leaves behind: the Quick Start project
(``uv init`` + the ``uv add`` line, with its ``.venv``, ``uv.lock``, ``.python-version`` and
``.git``), the guide's ``src/`` app (from guide_app_assembled), the ``.env`` its Configuration
section asks for, ``tests/test_main.py`` and this Dockerfile. Nothing here builds or runs an image.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dirty_equals import Contains

from known_issues.casekit import CodeRaised, Reason, SuiteFault, answer, bug_or_fixed, share_bytecode
from known_issues.serving import Server, free_port, serve

from ..guide_app_assembled.app import assemble
from ..guide_project_setup.support_uvproject import quickstart_project, run_uv, uv_binary
from .app import DOCKERFILE
from .support_dockerfile import (
    Dockerfile,
    copy_into_image,
    copy_tree,
    find_python,
    image_env,
    parse_dockerfile,
)

STOP_GRACE = 10.0  # docker stop's default grace period before SIGKILL


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile(DOCKERFILE)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory, dockerfile: Dockerfile) -> Path:
    """The folder `docker build .` would send, as the guide leaves it."""
    project = quickstart_project(tmp_path_factory.mktemp("quickstart"))
    root = tmp_path_factory.mktemp("developer") / "my-api"
    copy_tree(project.root, root)  # shared contents: only new files are written below
    guide_app = assemble(tmp_path_factory.mktemp("guide-app") / "my-api")
    shutil.copytree(guide_app / "src", root / "src", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(guide_app / "tests", root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(guide_app / ".env", root / ".env")
    (root / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    return root


@dataclass
class Install:
    image: Path  # the folder standing for WORKDIR /app
    python_minor: str
    attempts: list[str]  # what each uv sync said, in order
    returncode: int
    used_image_python: bool


def python_for(minor: str) -> Path:
    found = find_python(minor)
    if found is None:
        raise SuiteFault(Reason.TOOL, f"Python {minor} (the image's) is not on this machine: cannot rehearse")
    return found


def rehearse_install(
    dockerfile: Dockerfile, context: Path, scratch: Path, minor: str, python: Path, check: bool
) -> Install:
    image = scratch / "app"
    cut = copy_into_image(context, image)
    env = image_env(python, minor, scratch)
    attempts = [f"host-only paths cut off by COPY: {', '.join(cut) or 'none'}"]
    returncode = 0
    for args in dockerfile.uv_commands():
        done = run_uv(args, image, f"uv {' '.join(args)} (Python {minor} only)", env=env, check=check)
        attempts.append(
            f"$ uv {' '.join(args)} -> exit {done.returncode}\n{(done.stdout + done.stderr).strip()[-1500:]}"
        )
        returncode = returncode or done.returncode
    share_bytecode(image / ".venv")
    venv_minor = ""
    venv_python = image / ".venv" / "bin" / "python"
    if returncode == 0 and venv_python.exists():
        probe = subprocess.run(
            [str(venv_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        venv_minor = probe.stdout.strip()
    return Install(image, minor, attempts, returncode, venv_minor == minor)


@pytest.fixture(scope="module")
def install_with_image_python(
    dockerfile: Dockerfile, context: Path, tmp_path_factory: pytest.TempPathFactory
) -> Install:
    """RUN's uv commands with nothing but the image's Python available (its result, not raised)."""
    minor = dockerfile.python_minor
    if minor is None:
        raise SuiteFault(Reason.HARNESS, f"not an official python image: {dockerfile.base_image}")
    return rehearse_install(dockerfile, context, tmp_path_factory.mktemp("image"), minor, python_for(minor), False)


@pytest.fixture(scope="module")
def installed_image(
    dockerfile: Dockerfile,
    context: Path,
    install_with_image_python: Install,
    tmp_path_factory: pytest.TempPathFactory,
) -> Install:
    """An image folder where RUN succeeded, as far as this machine can stand in for the image.

    When the project's .python-version asks for another Python than the image's, uv in the image
    would download that Python (a managed CPython build) and use it: the same minor from this
    machine stands in for the download.
    """
    if install_with_image_python.returncode == 0:
        return install_with_image_python
    pinned = (context / ".python-version").read_text(encoding="utf-8").strip()
    install = rehearse_install(
        dockerfile, context, tmp_path_factory.mktemp("image-pinned"), pinned, python_for(pinned), True
    )
    install.attempts = install_with_image_python.attempts + install.attempts
    return install


def cmd_argv(dockerfile: Dockerfile, port: int) -> list[str]:
    """The CMD as written, with uv's real path, loopback instead of 0.0.0.0 and a free port."""
    argv = list(dockerfile.cmd)
    assert argv[:1] == ["uv"], f"the CMD does not start with uv: {argv}"
    argv[0] = uv_binary()
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        assert flag in argv, f"the CMD has no {flag}: {dockerfile.cmd}"
        argv[argv.index(flag) + 1] = value
    return argv


@pytest.fixture(scope="module")
def container(
    dockerfile: Dockerfile, installed_image: Install, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The CMD running in the image folder, offline (a container start must not need the index)."""
    port = free_port()
    scratch = tmp_path_factory.mktemp("container")
    python = python_for(installed_image.python_minor)
    env = image_env(python, installed_image.python_minor, scratch)
    # serve() adds to os.environ; `env -i` starts the CMD from the image's environment alone.
    argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "UV_OFFLINE=1", *cmd_argv(dockerfile, port)]
    try:
        with serve(
            argv, cwd=installed_image.image, port=port, log=scratch / "container.log", ready_path="/docs"
        ) as server:
            yield server
    except CodeRaised as exc:
        # Lead with the error the app or uv ended on; the output that follows is cut at its start.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        last = next((line for line in reversed(lines) if re.match(r"^(error|\w+(Error|Exception))\b", line)), lines[-1])
        raise CodeRaised(f"the CMD exited before answering: {last}\n{exc}") from exc


@pytest.mark.bug
def test_guide_commands_leave_venv_and_git_without_dockerignore(context: Path) -> None:
    # What `uv init` + `uv add` left in the folder `COPY . .` sends. With no .dockerignore Docker
    # sends it all (its documented rule; no daemon here to watch it), the guide's .env included.
    observed = {
        "made by uv": sorted(name for name in (".venv", ".git") if (context / name).exists()),
        ".dockerignore": (
            (context / ".dockerignore").read_text(encoding="utf-8").split()
            if (context / ".dockerignore").exists()
            else None
        ),
    }
    bug_or_fixed(
        observed,
        bug={"made by uv": [".git", ".venv"], ".dockerignore": None},
        fixed={"made by uv": [".git", ".venv"], ".dockerignore": Contains(".venv", ".env")},
    )


@pytest.mark.pattern("RUN pip install uv && uv sync installs with the image's own Python (python:3.12-slim)")
def test_install_step_uses_the_image_python(install_with_image_python: Install, context: Path) -> None:
    install = install_with_image_python
    pins = f".python-version: {(context / '.python-version').read_text(encoding='utf-8').strip()!r}; " + next(
        (
            line
            for line in (context / "pyproject.toml").read_text(encoding="utf-8").splitlines()
            if "requires-python" in line
        ),
        "no requires-python",
    )
    report = "\n".join(install.attempts)
    assert install.returncode == 0, (
        f"with only Python {install.python_minor} (the image's) available, uv sync fails ({pins}); in the "
        f"image uv would download a managed CPython instead, at build time:\n{report}"
    )
    assert install.used_image_python, f"the environment does not run on Python {install.python_minor}:\n{report}"


@pytest.mark.pattern("CMD uv run uvicorn src.main:app starts the app from what the build installed (offline)")
def test_cmd_serves_the_app(container: Server, installed_image: Install) -> None:
    with httpx.Client(base_url=container.url, timeout=10.0, trust_env=False) as client:
        items = client.get("/items")
        docs = client.get("/docs")
    # The guide's items router answers from the database the lifespan made in WORKDIR.
    assert answer(items) == {"status": 200, "body": []}, f"installed from: {installed_image.attempts}"
    assert docs.status_code == 200, docs.text[:500]


@pytest.mark.pattern("docker stop: SIGTERM to the CMD's process (uv run) stops uvicorn gracefully")
def test_sigterm_to_uv_stops_the_app(container: Server) -> None:
    # docker stop signals PID 1 only (here: uv), not the process group.
    os.kill(container.process.pid, signal.SIGTERM)
    try:
        container.process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"uv run still running {STOP_GRACE:g}s after SIGTERM; output:\n{container.log_tail()}")
    try:
        os.killpg(container.process.pid, 0)
        left = True
    except ProcessLookupError:
        left = False
    assert not left, f"uv exited but its child is still running; output:\n{container.log_tail()}"
    assert re.search(r"Finished server process", container.log_tail()), (
        f"uvicorn did not shut down gracefully; output:\n{container.log_tail()}"
    )
