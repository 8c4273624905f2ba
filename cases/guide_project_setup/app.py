"""The documented setup, as data: the Quick Start's two commands and what the guide's code imports.

There is no app to run here: the claim is that `uv init my-api` followed by the `uv add` line
gives a project in which every later section's code and tests import. GUIDE_IMPORTS lists those
imports, one probe per module, with the section that makes it; the test builds the project with
uv (support_uvproject) and runs each probe in the project's own environment.
"""

INIT_LINE = "uv init my-api"
INSTALL_LINE = "uv add fastapi[standard] sqlalchemy[asyncio] aiosqlite python-jose[cryptography] passlib[bcrypt]"

# name -> (the guide's section that imports it, the import it makes)
GUIDE_IMPORTS: dict[str, tuple[str, str]] = {
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
