"""Does the Quick Start's install line give everything the guide's own code and tests import?

The project is built for real (``uv init my-api`` + the guide's ``uv add`` line, the cell's fastapi
and pydantic as constraints, see support_uvproject), then every module the guide's snippets import
is imported in the project's own environment, one probe each; one test per module reports it.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from known_issues.casekit import Reason, SuiteFault

from .support_uvproject import INSTALL_LINE, Project, quickstart_project, uv_env

# name -> (the guide's section that imports it, the import it makes)
PROBES: dict[str, tuple[str, str]] = {
    "fastapi": ("Minimal Working Example", "import fastapi"),
    "pydantic": ("Minimal Working Example", "from pydantic import BaseModel, ConfigDict, Field"),
    "email_validator": ("Auth Schemas (EmailStr)", "import email_validator"),
    # FastAPI needs it to declare a form parameter (OAuth2PasswordRequestForm); the module was renamed.
    "python_multipart": (
        "Auth Router (OAuth2PasswordRequestForm)",
        "try:\n    import python_multipart\nexcept ImportError:\n    import multipart",
    ),
    "pydantic_settings": ("Configuration (src/config.py)", "from pydantic_settings import BaseSettings"),
    "sqlalchemy.ext.asyncio": ("Database Setup", "from sqlalchemy.ext.asyncio import create_async_engine"),
    "greenlet": ("Database Setup (async engine at run time)", "import greenlet"),
    "aiosqlite": ("Database Setup (sqlite+aiosqlite URL)", "import aiosqlite"),
    "jose": ("Auth Service", "from jose import JWTError, jwt"),
    "passlib.context": ("Auth Service", "from passlib.context import CryptContext"),
    "bcrypt": ("Auth Service (CryptContext bcrypt backend)", "import bcrypt"),
    "uvicorn": ("Deployment (uvicorn src.main:app)", "import uvicorn"),
    "fastapi command": (
        "Quick Start (uv run fastapi dev src/main.py)",
        "import os, sys\n"
        "script = os.path.join(os.path.dirname(sys.executable), 'fastapi')\n"
        "assert os.path.exists(script), 'no fastapi script in ' + os.path.dirname(sys.executable)\n"
        "import fastapi_cli",
    ),
    "httpx": ("Testing (AsyncClient, ASGITransport)", "from httpx import ASGITransport, AsyncClient"),
    "pytest": ("Testing (uv run pytest)", "import pytest"),
    "pytest_asyncio": ("Testing (@pytest.mark.asyncio, async fixture)", "import pytest_asyncio"),
}

# Runs in the project's environment: each probe in a fresh namespace, the first error it raised.
PROBE_RUNNER = """
import json, sys
results = {}
for name, code in json.load(sys.stdin).items():
    try:
        exec(compile(code, name, "exec"), {})
    except BaseException as exc:
        results[name] = f"{type(exc).__name__}: {exc}"
    else:
        results[name] = None
print(json.dumps(results))
"""


def run_probes(project: Project) -> dict[str, str | None]:
    if not project.venv_python.exists():
        raise SuiteFault(Reason.ENVIRONMENT, f"uv add made no environment at {project.venv_python}")
    code = {name: probe for name, (_, probe) in PROBES.items()}
    # -I: only the project's environment counts (no PYTHONPATH, no user site, not the cell's harness).
    done = subprocess.run(
        [str(project.venv_python), "-I", "-c", PROBE_RUNNER],
        input=json.dumps(code),
        cwd=project.root,
        env=uv_env(),
        capture_output=True,
        text=True,
        timeout=45,
        check=False,
    )
    if done.returncode != 0:
        raise SuiteFault(Reason.HARNESS, f"the probe runner failed in the project:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return quickstart_project(tmp_path_factory.mktemp("quickstart"))


@pytest.fixture(scope="module")
def probed(project: Project) -> dict[str, str | None]:
    return run_probes(project)


@pytest.mark.pattern("the Quick Start's uv add line installs this module the guide's code imports")
@pytest.mark.parametrize("module", list(PROBES))
def test_install_line_provides(project: Project, probed: dict[str, str | None], module: str) -> None:
    section = PROBES[module][0]
    error = probed[module]
    warned = "".join(f"; uv: {w}" for w in project.warnings)
    assert error is None, (
        f"{module} (used in the guide's {section}) is not available after `{INSTALL_LINE}` "
        f"(constraints {', '.join(project.constraints)}, {project.uv_version}{warned}): {error}"
    )
