"""Which package index: uv's variables, uv's config files, pip's variable, pip's config files, then
pip's own default, asked of pip; each answer says where it came from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from known_issues.errors import UsageError
from known_issues.runner.index_config import _pythons, choose_index, redact, uv_config_files

NEVER = ["/nonexistent/python3"]  # for the cases decided before pip is asked


def env_of(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No configuration but what the test plants (the user's and the machine's are out of sight)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg-system"),
        "PIP_CONFIG_FILE": os.devnull,
        **extra,
    }


def plant(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory two levels below the folder that holds the project's config."""
    cwd = tmp_path / "project" / "sub" / "dir"
    cwd.mkdir(parents=True)
    return cwd


def test_each_source_yields_to_the_one_before_it(tmp_path: Path, project: Path) -> None:
    user = plant(tmp_path / "home" / ".config" / "uv" / "uv.toml", 'index-url = "http://user.test/simple"\n')
    system = plant(tmp_path / "xdg-system" / "uv" / "uv.toml", 'index-url = "http://system.test/simple"\n')
    own = plant(tmp_path / "project" / "uv.toml", '[[index]]\nurl = "http://project.test/simple/"\ndefault = true\n')
    pip_conf = plant(tmp_path / "pip.conf", "[global]\nindex-url = http://pip-conf.test/simple\n")
    env = env_of(
        tmp_path,
        UV_DEFAULT_INDEX="http://default.test/simple",
        UV_INDEX_URL="http://uv-index-url.test/simple",
        PIP_INDEX_URL="http://pip-index-url.test/simple",
        PIP_CONFIG_FILE=str(pip_conf),
    )

    def chosen() -> tuple[str, str]:
        choice = choose_index(env, project)
        return choice.url, choice.source

    assert chosen() == ("http://default.test/simple", "UV_DEFAULT_INDEX")
    del env["UV_DEFAULT_INDEX"]
    assert chosen() == ("http://uv-index-url.test/simple", "UV_INDEX_URL")
    del env["UV_INDEX_URL"]
    assert chosen() == ("http://project.test/simple", f"{own} ([[index]] default = true)")
    own.unlink()
    assert chosen() == ("http://user.test/simple", f"{user} (index-url)")
    user.unlink()
    assert chosen() == ("http://system.test/simple", f"{system} (index-url)")
    system.unlink()
    assert chosen() == ("http://pip-index-url.test/simple", "PIP_INDEX_URL")
    del env["PIP_INDEX_URL"]
    url, source = chosen()  # pip itself reads its config file: asked, not parsed here
    assert url == "http://pip-conf.test/simple"
    assert re.fullmatch(r"pip config \(global\.index-url, as `.+ -m pip config list` reports it\)", source)


def test_uvs_pip_section_wins_over_its_top_level_in_any_file(tmp_path: Path, project: Path) -> None:
    plant(tmp_path / "project" / "uv.toml", 'index-url = "http://top.test/simple"\n')
    user = plant(tmp_path / "home" / ".config" / "uv" / "uv.toml", '[pip]\nindex-url = "http://pip.test/simple"\n')
    choice = choose_index(env_of(tmp_path), project, pythons=NEVER)
    assert (choice.url, choice.source) == ("http://pip.test/simple", f"{user} ([pip] index-url)")


def test_pyproject_counts_only_with_a_tool_uv_table_and_uv_toml_beside_it_wins(tmp_path: Path, project: Path) -> None:
    plant(tmp_path / "project" / "sub" / "pyproject.toml", '[project]\nname = "x"\n')  # no [tool.uv]: skipped
    pyproject = plant(
        tmp_path / "project" / "pyproject.toml",
        '[tool.uv]\n[[tool.uv.index]]\nname = "mirror"\nurl = "http://pyproject.test/simple"\ndefault = true\n',
    )
    assert uv_config_files(env_of(tmp_path), project) == [pyproject]
    assert choose_index(env_of(tmp_path), project, pythons=NEVER).url == "http://pyproject.test/simple"
    beside = plant(tmp_path / "project" / "uv.toml", 'index-url = "http://uv-toml.test/simple"\n')
    assert uv_config_files(env_of(tmp_path), project) == [beside]


def test_uv_config_file_replaces_the_others_and_uv_no_config_drops_them(tmp_path: Path, project: Path) -> None:
    plant(tmp_path / "project" / "uv.toml", 'index-url = "http://project.test/simple"\n')
    chosen = plant(tmp_path / "elsewhere.toml", 'index-url = "http://chosen.test/simple"\n')
    env = env_of(tmp_path, UV_CONFIG_FILE=str(chosen), PIP_INDEX_URL="http://pip.test/simple")
    assert choose_index(env, project, pythons=NEVER).url == "http://chosen.test/simple"
    env["UV_NO_CONFIG"] = "1"
    assert choose_index(env, project, pythons=NEVER).url == "http://pip.test/simple"


def test_a_named_index_in_a_variable_is_its_url() -> None:
    choice = choose_index({"UV_DEFAULT_INDEX": "mirror=http://mirror.test/simple/"}, Path("/"), pythons=NEVER)
    assert choice.url == "http://mirror.test/simple"


def test_pips_install_section_wins_over_its_global_one(tmp_path: Path) -> None:
    conf = plant(
        tmp_path / "pip.conf",
        "[global]\nindex-url = http://global.test/simple\n[install]\nindex-url = http://install.test/simple\n",
    )
    choice = choose_index(env_of(tmp_path, PIP_CONFIG_FILE=str(conf)), tmp_path)
    assert choice.url == "http://install.test/simple" and "install.index-url" in choice.source


def test_with_nothing_configured_pip_is_asked_for_its_default(tmp_path: Path) -> None:
    """A stand-in pip answers: its answer is taken, and the choice says whose pip it was."""
    fake = plant(
        tmp_path / "bin" / "python3",
        '#!/bin/sh\nif [ "$1" = "-m" ]; then exit 0; fi\necho "http://pips-own-default.test/simple"\n',
    )
    without_pip = plant(tmp_path / "venv" / "python3", "#!/bin/sh\nexit 1\n")
    for script in (fake, without_pip):
        script.chmod(0o755)
    choice = choose_index(env_of(tmp_path), tmp_path, pythons=["/nonexistent/python3", str(without_pip), str(fake)])
    assert choice.url == "http://pips-own-default.test/simple"
    assert choice.source == f"pip's default (asked of `{fake} -m pip`)"


def test_one_start_of_pip_answers_both_questions_and_an_older_pip_is_asked_the_long_way(tmp_path: Path) -> None:
    """pip's import is most of each question's cost: its configuration and its default come from one
    interpreter start; a pip without the modules read for that is asked `pip config list`, then its default."""
    log = tmp_path / "asked.log"
    answers = {
        "both": "global.timeout='60'\nknown-issues:pip-default='http://both.test/simple'",
        "older": "",
    }
    scripts = {}
    for name, answer in answers.items():
        scripts[name] = plant(
            tmp_path / name / "python3",
            f'#!/bin/sh\necho "$1" >> {log}\n'
            f'if [ "$1" = "-m" ]; then exit 0; fi\n'
            + (
                f"printf '%s\\n' \"{answer}\"\n"
                if answer
                else 'case "$2" in *SystemExit*) exit 4;; esac\necho "http://older.test/simple"\n'
            ),
        )
        scripts[name].chmod(0o755)

    choice = choose_index(env_of(tmp_path), tmp_path, pythons=[str(scripts["both"])])
    assert choice.url == "http://both.test/simple"
    assert choice.source == f"pip's default (asked of `{scripts['both']} -m pip`)"
    assert log.read_text(encoding="utf-8").splitlines() == ["-c"]  # one start

    log.unlink()
    choice = choose_index(env_of(tmp_path), tmp_path, pythons=[str(scripts["older"])])
    assert choice.url == "http://older.test/simple"
    assert log.read_text(encoding="utf-8").splitlines() == ["-c", "-m", "-c"]


def test_the_real_pips_default_is_the_one_its_help_names(tmp_path: Path) -> None:
    """No address here: pip's own `install --help` says which index it uses by default."""
    choice = choose_index(env_of(tmp_path), tmp_path)
    assert choice.source.startswith("pip's default (asked of `")
    python = re.fullmatch(r"pip's default \(asked of `(.+) -m pip`\)", choice.source)
    assert python is not None
    helped = subprocess.run(
        [python.group(1), "-m", "pip", "install", "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert f"(default {choice.url})" in " ".join(helped.split())


def test_no_pip_and_nothing_configured_is_a_usage_error_that_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"asked: /nonexistent/python3.*set UV_INDEX_URL"):
        choose_index(env_of(tmp_path), tmp_path, pythons=NEVER)


def test_pip_is_asked_of_this_python_then_of_each_python3_on_path(tmp_path: Path) -> None:
    """A nox session's venv may have no pip: the python3s further along PATH are asked next."""
    first, second = (plant(tmp_path / d / "python3", "#!/bin/sh\nexit 1\n") for d in ("venv-bin", "bin"))
    for script in (first, second):
        script.chmod(0o755)
    path = os.pathsep.join([str(first.parent), str(tmp_path / "empty"), str(second.parent)])
    assert _pythons({"PATH": path}) == [sys.executable, str(first), str(second)]


def test_credentials_are_never_shown() -> None:
    choice = choose_index({"UV_INDEX_URL": "https://me:token@private.test/simple"}, Path("/"), pythons=NEVER)
    assert choice.url == "https://me:token@private.test/simple"
    assert choice.describe() == "https://***@private.test/simple (from UV_INDEX_URL)"
    assert redact("https://private.test/simple") == "https://private.test/simple"
