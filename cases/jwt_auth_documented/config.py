"""The guide's ``src/config.py`` settings class, as printed.

Defaults in code (among them a secret key), ``.env`` named with the nested ``class Config``. The
guide also builds ``settings = Settings()`` at import time; the tests build it themselves, in a
working directory and an environment they control, exactly as that line would.
"""

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    DATABASE_URL: str = "sqlite+aiosqlite:///./database.db"
    SECRET_KEY: str = "your-secret-key-change-in-production"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = 30

    class Config:
        env_file = ".env"
