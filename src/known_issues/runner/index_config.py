"""Which package index to ask: the one the user's uv or pip is already configured for.

The harness lists releases from an index and uv installs from one; both must be the same, and a user
behind a mirror or a private index must not have to learn a variable of the suite's own. So the index
is read, in this order, from what uv reads (``UV_DEFAULT_INDEX``, ``UV_INDEX_URL``, then uv's config
files: the project's ``uv.toml`` or ``pyproject.toml`` ``[tool.uv]``, the user's and the system's
``uv.toml``), then from what pip reads (``PIP_INDEX_URL``, then pip's config files, as pip itself
reports them), else it is the index pip uses by default, asked of pip at run time: no registry
address is written here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from known_issues.errors import UsageError

PIP_TIMEOUT = 60
_NAMED = re.compile(r"^[A-Za-z0-9._-]+=(.+)$")  # uv's `<name>=<url>` form of an index
# pip's own default, asked of pip: it has no command that prints it, so its constant is read.
_PIP_DEFAULT = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
# Both questions in one interpreter start (pip's import is most of each): the configuration as
# `pip config list` prints it (from the same class, loaded the same way), then the default. Exit 3:
# no pip here; any other answer without the default (a pip without these modules exits 4) is asked
# the long way, `pip config list` and _PIP_DEFAULT.
_PIP_BOTH = """
try:
    import pip
except ImportError:
    raise SystemExit(3)
try:
    from pip._internal.configuration import Configuration
    from pip._internal.models.index import PyPI
except ImportError:
    raise SystemExit(4)
configuration = Configuration(isolated=False)
configuration.load()
for key, value in sorted(configuration.items()):
    print(f"{key}={value!r}")
print(f"known-issues:pip-default={PyPI.simple_url!r}")
"""
_DEFAULT_KEY = "known-issues:pip-default"  # the script's last line
_NO_PIP = 3
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class IndexChoice:
    url: str  # the Simple API's base (``<url>/<project>/``), without a trailing slash
    source: str  # where it came from: a variable, a config file and key, or pip's default

    @property
    def shown(self) -> str:
        """The address without credentials, for messages and the run's record."""
        return redact(self.url)

    def describe(self) -> str:
        return f"{self.shown} (from {self.source})"


def choose_index(
    env: Mapping[str, str], cwd: Path, pythons: Sequence[str] | None = None, run: Callable[..., Any] = subprocess.run
) -> IndexChoice:
    """The index uv and pip would use with this environment, run from ``cwd``.

    ``pythons``: the interpreters whose pip is asked, first that answers (default: this one, then each
    ``python3`` on the environment's PATH)."""
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if env.get(name, "").strip():
            return _choice(_unnamed(env[name]), name)
    found = _from_uv_config(env, cwd)
    if found is not None:
        return found
    if env.get("PIP_INDEX_URL", "").strip():
        return _choice(env["PIP_INDEX_URL"], "PIP_INDEX_URL")
    return _ask_pip(env, pythons if pythons is not None else _pythons(env), run)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _choice(url: str, source: str) -> IndexChoice:
    return IndexChoice(url.strip().rstrip("/"), source)


def _unnamed(value: str) -> str:
    match = _NAMED.match(value.strip())
    return match.group(1) if match else value


# --------------------------------------------------------------------------------------------
# uv's config files (https://docs.astral.sh/uv/concepts/configuration-files/)


def uv_config_files(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The files uv reads settings from, the one that wins first: the project's, the user's, the system's."""
    if env.get("UV_NO_CONFIG", "").strip().lower() not in _FALSE:
        return []
    if env.get("UV_CONFIG_FILE", "").strip():
        return [Path(env["UV_CONFIG_FILE"])]  # replaces every discovered file
    files = []
    project = _project_config(cwd)
    if project is not None:
        files.append(project)
    home = env.get("HOME", "")
    config_home = env.get("XDG_CONFIG_HOME", "").strip() or (f"{home}/.config" if home else "")
    if config_home and (Path(config_home) / "uv" / "uv.toml").is_file():
        files.append(Path(config_home) / "uv" / "uv.toml")
    # Only the first system file found is read, the XDG one first.
    system_dirs = [d for d in (env.get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg").split(":") if d]
    for candidate in [Path(d) / "uv" / "uv.toml" for d in system_dirs] + [Path("/etc/uv/uv.toml")]:
        if candidate.is_file():
            files.append(candidate)
            break
    return files


def _project_config(cwd: Path) -> Path | None:
    """The nearest uv.toml, or pyproject.toml with a [tool.uv] table, from ``cwd`` up."""
    for folder in (cwd, *cwd.parents):
        if (folder / "uv.toml").is_file():
            return folder / "uv.toml"
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "uv" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _from_uv_config(env: Mapping[str, str], cwd: Path) -> IndexChoice | None:
    tables = [(path, _uv_table(path)) for path in uv_config_files(env, cwd)]
    # The harness runs `uv pip`: a [pip] setting wins over the top-level one, in whichever file.
    for section in ("pip", ""):
        for path, table in tables:
            scope = table.get(section, {}) if section else table
            found = _default_index(scope)
            if found is not None:
                key, url = found
                return _choice(url, f"{path} ({f'[{section}] ' if section else ''}{key})")
    return None


def _uv_table(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool_uv = data.get("tool", {}).get("uv", {})
        return tool_uv if isinstance(tool_uv, dict) else {}
    return data


def _default_index(scope: Any) -> tuple[str, str] | None:
    if not isinstance(scope, dict):
        return None
    for entry in scope.get("index", []) if isinstance(scope.get("index"), list) else []:
        if (
            isinstance(entry, dict)
            and entry.get("default") is True
            and isinstance(entry.get("url"), str)
            and entry.get("format", "simple") == "simple"  # a flat index is no Simple API
        ):
            return "[[index]] default = true", entry["url"]
    if isinstance(scope.get("index-url"), str):
        return "index-url", scope["index-url"]
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it for the package index: {exc}") from exc


# --------------------------------------------------------------------------------------------
# pip


def _pythons(env: Mapping[str, str]) -> list[str]:
    """This interpreter, then each ``python3`` on PATH: a nox session's own venv may have no pip."""
    found = [sys.executable]
    for folder in env.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / "python3"
        if os.access(candidate, os.X_OK) and str(candidate) not in found:
            found.append(str(candidate))
    return found


def _ask_pip(env: Mapping[str, str], pythons: Sequence[str], run: Callable[..., Any]) -> IndexChoice:
    """pip's configured index-url (``pip config list``), else pip's default, from the first interpreter with pip."""
    asked = []
    for python in pythons:
        both = _both(run, env, python)
        if both is None:
            asked.append(python)
            continue
        values, default = both
        # pip install reads [install] over [global] (PIP_INDEX_URL was looked at before).
        for key in ("install.index-url", "global.index-url"):
            if values.get(key):
                return _choice(values[key], f"pip config ({key}, as `{python} -m pip config list` reports it)")
        if default:
            return _choice(default, f"pip's default (asked of `{python} -m pip`)")
        asked.append(python)
    raise UsageError(
        "no package index is configured (UV_DEFAULT_INDEX, UV_INDEX_URL, uv.toml, PIP_INDEX_URL, pip.conf) "
        f"and no pip answered for its default (asked: {', '.join(asked) or 'no interpreter'}): "
        "set UV_INDEX_URL to the index's Simple API"
    )


def _both(run: Callable[..., Any], env: Mapping[str, str], python: str) -> tuple[dict[str, str], str] | None:
    """(pip's configuration, pip's default index) from ``python``'s pip; None when it has no pip."""
    code, out = _answer(run, env, [python, "-c", _PIP_BOTH])
    values = dict(_config_line(line) for line in out.splitlines() if "=" in line)
    if code == 0 and _DEFAULT_KEY in values:
        return values, values.pop(_DEFAULT_KEY)
    if code == _NO_PIP:
        return None
    listed = _pip(run, env, [python, "-m", "pip", "config", "list"])
    if listed is None:
        return None
    default = _pip(run, env, [python, "-c", _PIP_DEFAULT]) or ""
    lines = default.strip().splitlines()
    return dict(_config_line(line) for line in listed.splitlines() if "=" in line), lines[-1] if lines else ""


def _pip(run: Callable[..., Any], env: Mapping[str, str], cmd: list[str]) -> str | None:
    code, out = _answer(run, env, cmd)
    return out if code == 0 else None


def _answer(run: Callable[..., Any], env: Mapping[str, str], cmd: list[str]) -> tuple[int | None, str]:
    try:
        proc = run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT, check=False, env=dict(env))
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    return proc.returncode, str(proc.stdout)


def _config_line(line: str) -> tuple[str, str]:
    key, _, value = line.partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key.strip(), value
