"""Where the documented code lives: the guide's project as printed (cases/guide_code/printed/project,
each block stored once, see case.toml's [[printed]]), completed by what the guide never shows.

    printed/project/.env                      Configuration's .env
    printed/project/src/main.py               Main App
    printed/project/src/config.py             Configuration
    printed/project/src/database.py           Database Setup
    printed/project/src/items/schemas.py      Pydantic Schemas
    printed/project/src/items/models.py       SQLAlchemy Models
    printed/project/src/items/router.py       Router Pattern
    printed/project/src/auth/schemas.py       Auth Schemas
    printed/project/src/auth/service.py       Auth Service
    printed/project/src/auth/dependencies.py  Auth Dependencies
    printed/project/src/auth/router.py        Auth Router
    printed/project/tests/test_main.py        Testing

``assemble`` copies it to a temporary project root, adds ``unprinted/`` (auth/models.py, which the
auth code needs and the guide never shows; items/service.py and shared/, listed in the Project
Structure and never shown, empty) and the one line without which nothing imports: the Auth Schemas
block uses ConfigDict without importing it (a [[deviations]] entry).
"""

from pathlib import Path

from known_issues.casekit import precondition

from ..guide_code.support_printed import PROJECT, copy_project

UNPRINTED = Path(__file__).with_name("unprinted")
AUTH_SCHEMAS = Path("src", "auth", "schemas.py")
PRINTED_IMPORT = "from pydantic import BaseModel, EmailStr\n"
FIXED_IMPORT = "from pydantic import BaseModel, ConfigDict, EmailStr\n"


def assemble(destination: Path) -> Path:
    """The guide's project at ``destination``, completed so that it can start."""
    root = copy_project(destination)
    for path in sorted(p for p in UNPRINTED.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        target = root / path.relative_to(UNPRINTED)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    schemas = root / AUTH_SCHEMAS
    text = schemas.read_text(encoding="utf-8")
    precondition(text.count(PRINTED_IMPORT) == 1, f"{PROJECT / AUTH_SCHEMAS}: not the printed import line once")
    schemas.write_text(text.replace(PRINTED_IMPORT, FIXED_IMPORT), encoding="utf-8")
    return root
