"""The Quick Start project, built for real, against the guide's words and the guide's code.

The project is ``uv init my-api`` + the guide's ``uv add`` line, with the cell's fastapi and
pydantic as constraints (see support_uvproject). Then, in the project's own environment:
- each requirement the line names is installed with the extra it asks for (the line's words);
- the fastapi command of ``uv run fastapi dev src/main.py`` is there and has ``dev``;
- what ``uv run pytest`` needs for the Testing section's tests is there;
- every module the guide's code imports can be imported, one probe each (the case's own check:
  the guide never says the line is all a project needs).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from known_issues.casekit import Reason, SuiteFault, requires

from .app import GUIDE_IMPORTS, INSTALL_LINE, TESTING_IMPORTS
from .support_uvproject import Project, quickstart_project, uv_env

LINE_REQUIREMENTS = shlex.split(INSTALL_LINE)[2:]  # after "uv add"

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
    code = {name: probe for name, (_, probe) in {**GUIDE_IMPORTS, **TESTING_IMPORTS}.items()}
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


def installed_in(project: Project) -> dict[str, metadata.Distribution]:
    """The distributions in the project's environment, by canonical name."""
    sites = [str(path) for path in (project.root / ".venv").glob("lib/python*/site-packages")]
    if not sites:
        raise SuiteFault(Reason.ENVIRONMENT, f"uv add made no site-packages under {project.root / '.venv'}")
    return {canonicalize_name(dist.metadata["Name"]): dist for dist in metadata.distributions(path=sites)}


def missing_for(requirement: Requirement, dists: dict[str, metadata.Distribution]) -> list[str]:
    """What of ``requirement`` (a distribution and its extras) the environment lacks."""
    dist = dists.get(canonicalize_name(requirement.name))
    if dist is None:
        return [requirement.name]
    lacking = []
    for extra in sorted(requirement.extras):
        if extra not in (dist.metadata.get_all("Provides-Extra") or []):
            lacking.append(f"the extra [{extra}] (not declared by {requirement.name} {dist.version})")
            continue
        for line in dist.requires or []:
            needed = Requirement(line)
            # Only what the extra adds: its marker holds with the extra and not without it.
            if needed.marker is None or not needed.marker.evaluate({"extra": extra}):
                continue
            if needed.marker.evaluate({"extra": ""}):
                continue
            have = dists.get(canonicalize_name(needed.name))
            if have is None or not needed.specifier.contains(have.version, prereleases=True):
                lacking.append(f"{needed} (from [{extra}]; installed: {have.version if have else 'none'})")
    return lacking


@pytest.mark.pattern("the uv add line installs each requirement it names, with the extra it asks for")
@pytest.mark.parametrize("requirement", LINE_REQUIREMENTS)
def test_install_line_installs(project: Project, requirement: str) -> None:
    lacking = missing_for(Requirement(requirement), installed_in(project))
    warned = "".join(f"; uv: {w}" for w in project.warnings)
    assert lacking == [], (
        f"missing {'; '.join(lacking)} after `{INSTALL_LINE}` "
        f"(constraints {', '.join(project.constraints)}, {project.uv_version}{warned})"
    )


@requires("fastapi>=0.111.0", "the fastapi command (fastapi-cli) was added in FastAPI 0.111.0")
@pytest.mark.pattern("the project has the fastapi command with its dev subcommand (uv run fastapi dev src/main.py)")
def test_fastapi_dev_command(project: Project) -> None:
    script = project.venv_python.with_name("fastapi")
    warned = "".join(f"; uv: {w}" for w in project.warnings)
    assert script.exists(), f"no fastapi command in the project ({script}) after `{INSTALL_LINE}`{warned}"
    done = subprocess.run(
        [str(script), "dev", "--help"], cwd=project.root, env=uv_env(), capture_output=True, text=True, timeout=45
    )
    assert done.returncode == 0, f"`fastapi dev --help` exited with {done.returncode}:\n{done.stdout}{done.stderr}"


@pytest.mark.pattern("what `uv run pytest` needs for the Testing section's tests is in the project")
@pytest.mark.parametrize("module", list(TESTING_IMPORTS))
def test_testing_tools_installed(project: Project, probed: dict[str, str | None], module: str) -> None:
    section = TESTING_IMPORTS[module][0]
    assert probed[module] is None, (
        f"{module} (the guide's {section}) is not in the project after `{INSTALL_LINE}`: {probed[module]}"
    )


@pytest.mark.pattern("ours: each module the guide's code imports is importable in the project")
@pytest.mark.parametrize("module", list(GUIDE_IMPORTS))
def test_guide_import_available(project: Project, probed: dict[str, str | None], module: str) -> None:
    section = GUIDE_IMPORTS[module][0]
    error = probed[module]
    warned = "".join(f"; uv: {w}" for w in project.warnings)
    assert error is None, (
        f"{module} (used in the guide's {section}) is not available after `{INSTALL_LINE}` "
        f"(constraints {', '.join(project.constraints)}, {project.uv_version}{warned}): {error}"
    )
