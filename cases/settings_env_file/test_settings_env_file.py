"""The guide's src/config.py and .env as printed, and the same Settings spelled with SettingsConfigDict.

The guide's config.py (stored once in cases/guide_code/printed) builds ``settings = Settings()`` when
it is imported, reading ``.env`` from the working directory, and Pydantic warns about the nested
``class Config`` when the class is created: every test imports the module afresh (``fresh``),
inside a temporary working directory.
"""

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from dirty_equals import IsStr
from hypothesis import given
from hypothesis import strategies as st
from pydantic.warnings import PydanticDeprecatedSince20

from known_issues.casekit import bug_or_fixed, load

from ..guide_code.support_printed import PROJECT, guide_modules

NAMES = ("DATABASE_URL", "SECRET_KEY", "ACCESS_TOKEN_EXPIRE_MINUTES")
GUIDE_ENV = PROJECT / ".env"
# Values of the guide's .env: only SECRET_KEY differs from the class's defaults.
FROM_GUIDE_ENV = {
    "DATABASE_URL": "sqlite+aiosqlite:///./database.db",
    "SECRET_KEY": "your-super-secret-key-here",
    "ACCESS_TOKEN_EXPIRE_MINUTES": 30,
}
# The deprecation is the claim: Pydantic's own category for what V2 deprecated, about the class
# Config. Its sentence ("Support for class-based `config` is deprecated, use ConfigDict instead.
# ...") is its wording, shown when the warning differs.
CLASS_CONFIG_DEPRECATION = (PydanticDeprecatedSince20, IsStr(regex=r"(?is).*\bconfig\b.*"))

# Importing the guide's config.py warns; only the dedicated test looks at that warning.
quiet_class_config = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # The env file is looked up relative to the working directory; settings also read the
    # real environment case-insensitively, so clear every spelling of our names.
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.upper() in NAMES:
            monkeypatch.delenv(key)
    yield tmp_path


def fresh(name: str) -> ModuleType:
    """Import anew the guide's config.py (``"config"``) or the case module ``name``: its classes are
    created, and its settings read, again."""
    if name == "config":
        return guide_modules("src.config")["src.config"]
    sys.modules.pop(f"{__package__}.{name}", None)
    return load(__package__, name)


def write_env(directory: Path, **values: object) -> None:
    lines = [f"{key}={value}" for key, value in values.items()]
    (directory / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def copy_guide_env(directory: Path) -> None:
    shutil.copyfile(GUIDE_ENV, directory / ".env")


def coerced_and_default_kept(cls: type, directory: Path) -> None:
    write_env(directory, SECRET_KEY="from-dotenv", ACCESS_TOKEN_EXPIRE_MINUTES="45")
    settings = cls()
    assert settings.SECRET_KEY == "from-dotenv"
    assert settings.ACCESS_TOKEN_EXPIRE_MINUTES == 45  # coerced from the file's text
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./database.db"  # default kept


@pytest.mark.pattern("nested class Config: the guide's settings read its .env")
@quiet_class_config
def test_class_config_reads_env_file(workdir: Path) -> None:
    copy_guide_env(workdir)
    config = fresh("config")
    assert config.settings.model_dump() == FROM_GUIDE_ENV
    coerced_and_default_kept(config.Settings, workdir)


@pytest.mark.pattern("SettingsConfigDict: the same settings read the guide's .env")
def test_config_dict_reads_env_file(workdir: Path) -> None:
    copy_guide_env(workdir)
    cls = fresh("app").ConfigDictSettings
    assert cls().model_dump() == FROM_GUIDE_ENV
    coerced_and_default_kept(cls, workdir)


@pytest.mark.pattern("nested class Config: an environment variable overrides .env")
@quiet_class_config
def test_class_config_env_var_overrides_env_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_guide_env(workdir)
    monkeypatch.setenv("SECRET_KEY", "from-environment")
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "45")
    assert fresh("config").settings.model_dump() == {
        **FROM_GUIDE_ENV,
        "SECRET_KEY": "from-environment",
        "ACCESS_TOKEN_EXPIRE_MINUTES": 45,
    }


@pytest.mark.pattern("SettingsConfigDict: an environment variable overrides .env")
def test_config_dict_env_var_overrides_env_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_guide_env(workdir)
    monkeypatch.setenv("SECRET_KEY", "from-environment")
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "45")
    assert fresh("app").ConfigDictSettings().model_dump() == {
        **FROM_GUIDE_ENV,
        "SECRET_KEY": "from-environment",
        "ACCESS_TOKEN_EXPIRE_MINUTES": 45,
    }


@pytest.mark.pattern("SettingsConfigDict: any integer in .env is coerced")
@given(minutes=st.integers(min_value=-(10**12), max_value=10**12))
def test_config_dict_coerces_any_int_from_env_file(workdir: Path, minutes: int) -> None:
    write_env(workdir, SECRET_KEY="k", ACCESS_TOKEN_EXPIRE_MINUTES=minutes)
    assert load(__package__, "app").ConfigDictSettings().ACCESS_TOKEN_EXPIRE_MINUTES == minutes


def warnings_on_import(name: str) -> list[tuple[type[Warning], str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fresh(name)
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.bug
def test_class_config_is_deprecated(workdir: Path) -> None:
    # Reproduces while Pydantic warns, once, about the nested Config when the class is created.
    bug_or_fixed(warnings_on_import("config"), bug=[CLASS_CONFIG_DEPRECATION], fixed=[])


@pytest.mark.pattern("SettingsConfigDict defines the class without any warning")
def test_config_dict_is_warning_free() -> None:
    assert warnings_on_import("app") == []
