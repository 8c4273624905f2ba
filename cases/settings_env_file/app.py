"""Settings classes in the guide's two spellings: nested ``class Config`` and ``model_config``.

The classes are built by factories so that a test can watch the warning that the nested
``class Config`` raises at class-creation time (it fires once, when the class is defined).
"""

from pydantic_settings import BaseSettings, SettingsConfigDict


def make_class_config_settings() -> type[BaseSettings]:
    """The guide's spelling: a nested ``class Config`` naming the env file."""

    class ClassConfigSettings(BaseSettings):
        DATABASE_URL: str = "sqlite+aiosqlite:///./database.db"
        # Required here (the guide ships a default secret, which its own rules forbid).
        SECRET_KEY: str
        ACCESS_TOKEN_EXPIRE_MINUTES: int = 30

        class Config:
            env_file = ".env"

    return ClassConfigSettings


def make_config_dict_settings() -> type[BaseSettings]:
    """The Pydantic v2 spelling: ``model_config = SettingsConfigDict(...)``."""

    class ConfigDictSettings(BaseSettings):
        model_config = SettingsConfigDict(env_file=".env")

        DATABASE_URL: str = "sqlite+aiosqlite:///./database.db"
        SECRET_KEY: str
        ACCESS_TOKEN_EXPIRE_MINUTES: int = 30

    return ConfigDictSettings
