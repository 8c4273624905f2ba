"""Ours: the guide's Settings spelled the Pydantic 2 way, ``model_config = SettingsConfigDict(...)``.

The fields and defaults are the guide's (config.py); only the way the env file is named differs.
"""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigDictSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env")

    DATABASE_URL: str = "sqlite+aiosqlite:///./database.db"
    SECRET_KEY: str = "your-secret-key-change-in-production"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = 30
