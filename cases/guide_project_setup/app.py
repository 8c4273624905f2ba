"""The documented setup, as data: the Quick Start's commands and what the guide's later code needs.

There is no app to run here. The test builds the project with uv (support_uvproject) from
INIT_LINE and INSTALL_LINE, then looks at it three ways: what the install line names (each
requirement with its extra), the commands the guide runs in it (``uv run fastapi dev``,
``uv run pytest``) and, as the case's own check, every module the guide's code imports.
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
    "httpx": ("Testing (AsyncClient, ASGITransport)", "from httpx import ASGITransport, AsyncClient"),
}

# What `uv run pytest` on the Testing section's tests/test_main.py needs in the project: pytest,
# and pytest-asyncio for its @pytest.mark.asyncio tests and async fixture.
TESTING_IMPORTS: dict[str, tuple[str, str]] = {
    "pytest": ("Testing (uv run pytest)", "import pytest"),
    "pytest_asyncio": ("Testing (@pytest.mark.asyncio, async fixture)", "import pytest_asyncio"),
}
