"""matrix.toml: parsing, validation messages, expansion into cells."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from known_issues import matrix as m
from known_issues.errors import MatrixError

RELEASES = {
    "fastapi": ["0.99.1", "0.100.0", "0.100.1", "0.101.0", "0.113.0", "0.114.0", "0.114.2", "0.115.0"],
    "pydantic": ["1.10.19", "2.0", "2.0.3", "2.1.1", "2.11.7", "2.12.0"],
    "bcrypt": ["4.0.1", "4.3.0", "5.0.0"],
}


def lister(name: str, python: str) -> list[str]:
    return RELEASES[name]


def parse(text: str) -> m.Matrix:
    return m.parse(tomllib.loads(text))


MINIMAL = """
[[groups]]
name = "g"
axes = { fastapi = "latest", pydantic = "any" }
"""


def test_default_matrix_is_valid(root: Path) -> None:
    matrix = m.load(root / "matrix.toml")
    names = [g.name for g in matrix.groups]
    assert names[:3] == ["fastapi-minors", "pydantic-minors", "document"]
    assert matrix.extras["fastapi"] == ("standard",)
    document = next(g for g in matrix.groups if g.name == "document")
    assert dict(document.axes)["fastapi"].versions == ("0.113.0", "0.114.0", "0.125.0", "0.128.0")
    assert dict(document.axes)["pydantic"].versions == ("2.11.7",)
    # The groups of the versions the guide names (its FastAPI and Pydantic, its Python range): its
    # claims there go into the errata.
    assert matrix.guide_groups == ("document", "document-stack", "pythons")


def test_minors_pick_latest_patch_of_each_minor() -> None:
    sel = m.Selector("minors", spec=">=0.100")
    assert m.pick(sel, RELEASES["fastapi"]) == ["0.100.1", "0.101.0", "0.113.0", "0.114.2", "0.115.0"]


def test_expand_product_exclusions_and_latest_in_list() -> None:
    matrix = parse(
        """
[defaults]
python = "3.11"
[[groups]]
name = "a"
axes = { fastapi = { minors = ">=0.113" }, pydantic = ["2.0.3", "2.11.7"] }
exclude = [ { fastapi = "0.113.0", pydantic = "<2.1" } ]
[[groups]]
name = "b"
python = ["3.9", "3.12"]
axes = { bcrypt = ["4.0.1", "latest"], fastapi = "any" }
cases = ["auth"]
"""
    )
    ids = [c.id for c in m.expand(matrix, lister)]
    assert ids == [
        "a-py3.11-fastapi0.113.0-pydantic2.11.7",
        "a-py3.11-fastapi0.114.2-pydantic2.0.3",
        "a-py3.11-fastapi0.114.2-pydantic2.11.7",
        "a-py3.11-fastapi0.115.0-pydantic2.0.3",
        "a-py3.11-fastapi0.115.0-pydantic2.11.7",
        "b-py3.9-bcrypt4.0.1-fastapiany",
        "b-py3.9-bcrypt5.0.0-fastapiany",
        "b-py3.12-bcrypt4.0.1-fastapiany",
        "b-py3.12-bcrypt5.0.0-fastapiany",
    ]
    cell = m.expand(matrix, lister)[-1]
    assert cell.cases == ("auth",)
    assert cell.requirements({"fastapi": ("standard",)}) == ["bcrypt==5.0.0", "fastapi[standard]"]


def test_rule_matches_resolved_versions() -> None:
    matrix = parse(MINIMAL + '\n[[rules]]\nwhen = { starlette = "<0.37.2" }\npins = ["httpx<0.28"]\n')
    (rule,) = matrix.rules
    assert rule.applies({"starlette": "0.27.0"})
    assert not rule.applies({"starlette": "0.37.2"})
    assert not rule.applies({})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "\nsurprise = 1\n", "surprise: unknown key"),
        (MINIMAL.replace('name = "g"', 'name = "g"\ncolour = "red"'), "groups[g].colour: unknown key"),
        (MINIMAL.replace('"latest"', '["not-a-version"]'), "groups[g].axes.fastapi[0]: not a version: 'not-a-version'"),
        (MINIMAL.replace('"latest"', "[]"), "groups[g].axes.fastapi: empty axis"),
        (
            MINIMAL.replace('"latest"', '{ minors = ">=banana" }'),
            "groups[g].axes.fastapi.minors: not a version specifier",
        ),
        (MINIMAL.replace('"latest"', '{ newest = ">=1" }'), "groups[g].axes.fastapi.newest: unknown key"),
        (
            MINIMAL.replace('axes = { fastapi = "latest", pydantic = "any" }', "axes = {}"),
            "groups[g].axes: a group needs",
        ),
        (MINIMAL + '[defaults]\npython = "three"\n', "defaults.python[0]: expected a Python like"),
        (MINIMAL + "[defaults]\npython = []\n", "defaults.python: empty axis"),
        (MINIMAL + '[[rules]]\nwhen = { starlette = "<1" }\npins = []\n', "rules[0].pins: empty"),
        (MINIMAL + MINIMAL, "groups: the group name 'g' is used twice"),
        ("", "groups: the matrix needs at least one [[groups]] table"),
        (MINIMAL.replace("}", '}\nexclude = [ { bcrypt = "1" } ]', 1), "groups[g].exclude[0].bcrypt: not an axis"),
        (MINIMAL + 'guide = "yes"\n', "groups[g].guide: expected true or false"),
    ],
)
def test_invalid_matrix_names_the_key(text: str, message: str) -> None:
    with pytest.raises(MatrixError) as info:
        parse(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        MINIMAL + "\nunknown_key = true\n",
        MINIMAL.replace('"latest"', '["not-a-version"]'),
        MINIMAL.replace('"latest"', "[]"),
        "[[groups]\nname=",  # not TOML at all
    ],
)
def test_cli_stops_before_any_environment(tmp_path: Path, root: Path, bad: str) -> None:
    matrix_file = tmp_path / "matrix.toml"
    matrix_file.write_text(bad)
    envs, out = tmp_path / "envs", tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "known_issues",
            "matrix",
            "--matrix",
            str(matrix_file),
            "--envs",
            str(envs),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {matrix_file}: ")
    assert not envs.exists() and not out.exists()


def test_only_where_named_cases_stay_out_of_groups_that_do_not_name_them(root: Path) -> None:
    from known_issues.runner.index_config import IndexChoice
    from known_issues.runner.run_context import RunContext
    from known_issues.settings import Settings

    matrix = parse('[defaults]\nonly-where-named = ["deployment_commands"]\n' + MINIMAL + MINIMAL.replace('"g"', '"h"')
                   + 'cases = ["deployment_commands", "cors_middleware"]\n')  # fmt: skip
    assert matrix.only_where_named == ("deployment_commands",)
    never_asked = IndexChoice("http://127.0.0.1:9/simple", "tests: only the groups' cases are looked at")
    ctx = RunContext.build(Settings(root, matrix, root / "report", root / ".envs", never_asked), None)
    everything, named = (
        m.Cell(g, "3.11", (("fastapi", "1"),), cases) for g, cases in (("g", ()), ("h", matrix.groups[1].cases))
    )
    assert "deployment_commands" not in ctx.in_group(everything) and "cors_middleware" in ctx.in_group(everything)
    assert ctx.in_group(named) == ["cors_middleware", "deployment_commands"]
    with pytest.raises(MatrixError, match=r"defaults.only-where-named\[0\]: expected a non-empty string"):
        parse("[defaults]\nonly-where-named = [1]\n" + MINIMAL)
