"""Sources of the newest releases with small planted changes: what a maintainer's branch would be. Each
patch fixes one documented bug or breaks one documented workaround or pattern, and says which verdicts it
must flip (the candidate tests and the sensitivity bench use them).

A patch is a list of literal replacements in the release's own files; when the release's code no longer
holds the text a patch replaces, preparing it fails with that message (the patch needs updating), never
silently producing an unchanged source.
"""

from __future__ import annotations

import json
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from known_issues.runner import environments as envs
from known_issues.runner.index_config import choose_index
from known_issues.runner.pypi import PackageIndex

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Edit:
    file: str  # inside the package's source tree
    old: str
    new: str


@dataclass(frozen=True)
class Patch:
    name: str
    package: str
    why: str
    edits: tuple[Edit, ...]
    flips: dict[str, tuple[str, str]]  # case::test -> (verdict now, verdict with the patch)
    cases: tuple[str, ...]  # the cases a quick run needs (the flips' and a few that must not move)


PATCHES = (
    Patch(
        name="fastapi-merges-background-tasks",
        package="fastapi",
        why="a Response's own background no longer replaces the injected BackgroundTasks: both run",
        edits=(
            Edit(
                "fastapi/routing.py",
                "                if isinstance(raw_response, Response):\n"
                "                    if raw_response.background is None:\n"
                "                        raw_response.background = solved_result.background_tasks\n",
                "                if isinstance(raw_response, Response):\n"
                "                    if raw_response.background is None:\n"
                "                        raw_response.background = solved_result.background_tasks\n"
                "                    elif solved_result.background_tasks is not None and "
                "solved_result.background_tasks.tasks:\n"
                "                        solved_result.background_tasks.add_task(raw_response.background)\n"
                "                        raw_response.background = solved_result.background_tasks\n",
            ),
        ),
        flips={
            "background_tasks_overwritten::test_injected_tasks_are_dropped_by_response_background": (
                "reproduces",
                "fixed",
            ),
        },
        cases=("background_tasks_overwritten", "json_form_field"),
    ),
    Patch(
        name="starlette-cors-stops-mirroring-an-allowed-origin",
        package="starlette",
        why="CORSMiddleware no longer sends Access-Control-Allow-Origin back to an allowed origin's simple request",
        edits=(
            Edit(
                "starlette/middleware/cors.py",
                "        elif origin is not None and not self.allow_all_origins"
                " and self.is_allowed_origin(origin=origin):",
                "        elif False:",
            ),
        ),
        # Both judge the grant the middleware gives an allowed origin's plain request: the same behaviour.
        flips={
            "cors_middleware::test_allowed_origin_simple_request": ("works", "broken"),
            "cors_middleware::test_without_middleware_preflight_fails": ("works", "broken"),
        },
        cases=("cors_middleware", "background_tasks_overwritten"),
    ),
    Patch(
        name="fastapi-oauth2-refuses-with-403",
        package="fastapi",
        why="OAuth2PasswordBearer answers a request without a bearer token 403, with no WWW-Authenticate header",
        edits=(
            Edit(
                "fastapi/security/oauth2.py",
                "        return HTTPException(\n"
                "            status_code=HTTP_401_UNAUTHORIZED,\n"
                '            detail="Not authenticated",\n'
                '            headers={"WWW-Authenticate": "Bearer"},\n'
                "        )",
                '        return HTTPException(status_code=403, detail="Not authenticated")',
            ),
        ),
        # Every test that judges the refusal of a request without a bearer token (missing, or another
        # scheme), in both auth cases and the assembled app: reviewed from the bench's first run.
        flips={
            "guide_app_assembled::test_auth_router_me_needs_token": ("works", "broken"),
            "jwt_auth_current_tutorial::test_non_bearer_authorization_header_is_401": ("works", "broken"),
            "jwt_auth_current_tutorial::test_protected_route_refuses_request_without_token": ("works", "broken"),
            "jwt_auth_current_tutorial::test_request_without_token_is_401": ("works", "broken"),
            "jwt_auth_documented::test_non_bearer_authorization_header_is_401": ("works", "broken"),
            "jwt_auth_documented::test_protected_route_refuses_request_without_token": ("works", "broken"),
            "jwt_auth_documented::test_request_without_token_is_401": ("works", "broken"),
        },
        cases=("jwt_auth_documented", "jwt_auth_current_tutorial"),
    ),
)


def index() -> PackageIndex:
    choice = choose_index(dict(__import__("os").environ), ROOT)
    return PackageIndex(ROOT / ".envs" / "index", choice.url)


def released(package: str) -> str:
    """The release of ``package`` the newest cell installs: FastAPI's newest, and what a fresh resolution
    of the newest FastAPI takes of the others."""
    newest = index().releases("fastapi")[-1].version
    if package == "fastapi":
        return newest
    lock = envs.compile_lock([f"fastapi[standard]=={newest}"], Path(sys.executable), "3.11")
    return envs.parse_pins(lock)[package]


def sdist(package: str, version: str, folder: Path) -> Path:
    """The release's sdist, from the package index's Simple API (its JSON form)."""
    target = folder / f"{package}-{version}.tar.gz"
    if target.exists():
        return target
    url = f"{index().base_url.rstrip('/')}/{package}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    (found,) = [f for f in files if f["filename"] == target.name]
    folder.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(found["url"], timeout=120) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out)
    return target


def unpacked(archive: Path, folder: Path) -> Path:
    """The source tree of an sdist."""
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    (tree,) = [p for p in folder.iterdir() if p.is_dir()]
    return tree


def apply(patch: Patch, tree: Path) -> Path:
    for edit in patch.edits:
        path = tree / edit.file
        source = path.read_text(encoding="utf-8")
        if source.count(edit.old) != 1:
            raise AssertionError(f"{patch.name}: {edit.file} of this release does not hold the text it replaces once")
        path.write_text(source.replace(edit.old, edit.new), encoding="utf-8")
    return tree


def repacked(tree: Path, target: Path) -> Path:
    """The tree as an sdist again (the planted release as a file)."""
    with tarfile.open(target, "w:gz") as tar:
        tar.add(tree, arcname=tree.name)
    return target


def planted_tree(patch: Patch, work: Path) -> Path:
    return apply(patch, unpacked(sdist(patch.package, released(patch.package), work / "sdists"), work / patch.name))
