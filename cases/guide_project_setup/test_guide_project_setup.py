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

from .app import GUIDE_IMPORTS, INSTALL_LINE
from .support_uvproject import Project, quickstart_project, uv_env

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
    code = {name: probe for name, (_, probe) in GUIDE_IMPORTS.items()}
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
@pytest.mark.parametrize("module", list(GUIDE_IMPORTS))
def test_install_line_provides(project: Project, probed: dict[str, str | None], module: str) -> None:
    section = GUIDE_IMPORTS[module][0]
    error = probed[module]
    warned = "".join(f"; uv: {w}" for w in project.warnings)
    assert error is None, (
        f"{module} (used in the guide's {section}) is not available after `{INSTALL_LINE}` "
        f"(constraints {', '.join(project.constraints)}, {project.uv_version}{warned}): {error}"
    )
