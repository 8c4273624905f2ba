"""matrix.toml and case.toml: errors name the file and the key path; the committed JSON Schemas are the
models' own, accept every such file of the repository, refuse an unknown key, and editors find them."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from known_issues import matrix as m
from known_issues import schemas
from known_issues.catalog import CaseFile, load_case
from known_issues.errors import CaseError, MatrixError
from known_issues.tomlfile import validate

ROOT = Path(__file__).resolve().parent.parent
MATRICES = [ROOT / "matrix.toml", *sorted((ROOT / "tests" / "data").glob("*.toml"))]
CASES = sorted((ROOT / "cases").glob("*/case.toml"))
CASE = ROOT / "cases" / "background_tasks_overwritten"


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / schemas.FOLDER / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_a_matrix_error_names_the_file_and_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text('[[groups]]\nname = "fastapi-minors"\naxes = { fastapi = { minors = ">>1" } }\n')
    with pytest.raises(MatrixError) as info:
        m.load(path)
    assert str(info.value) == f"{path}: groups[fastapi-minors].axes.fastapi.minors: not a version specifier: '>>1'"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace('verdict = "reproduces"', 'verdict = "error"', 1),
            "claim.expect[0].verdict: 'error' is not one of reproduces, fixed, holds, works, broken",
        ),
        # A misspelt key is named as unknown rather than the key it misses.
        (
            lambda t: t.replace("title = ", "titel = ", 1),
            "titel: unknown key (allowed: claim, dependencies, deviations, id, kind, printed, sources, summary, title)",
        ),
        (lambda t: t.replace("title = ", "# title = ", 1), "title: a required key is missing"),
        (lambda t: t + "\n[[printed]]\nfile = 'app.py'\nsection = 'S'\nblock = true\n", "printed[0].block: "),
        (lambda t: t + "\n[[printed]]\nfile = 'nope.py'\nsection = 'S'\n", "printed[0].file: no file 'nope.py'"),
        (
            lambda t: t.replace("workarounds = [", 'workarounds = "test_x"  # [', 1),
            "claim.expect[0].workarounds: expected a list, got 'test_x'",
        ),
    ],
)
def test_a_case_error_names_the_file_and_the_key_path(tmp_path: Path, edit: Any, message: str) -> None:
    folder = shutil.copytree(CASE, tmp_path / CASE.name)
    toml_path = folder / "case.toml"
    toml_path.write_text(edit(toml_path.read_text()))
    with pytest.raises(CaseError) as info:
        load_case(folder)
    assert str(info.value).startswith(f"{toml_path}: {message}")


def test_the_committed_schemas_are_the_models_own() -> None:
    for name, text in schemas.generated().items():
        committed = (ROOT / schemas.FOLDER / name).read_text(encoding="utf-8")
        # As data: Pydantic releases write some numbers differently (0 or 0.0).
        assert json.loads(committed) == json.loads(text), f"{schemas.FOLDER}/{name} is stale: run `nox -s schemas`"


@pytest.mark.parametrize("path", MATRICES, ids=lambda p: p.name)
def test_the_matrix_schema_accepts_every_matrix(path: Path) -> None:
    assert [e.message for e in validator("matrix.schema.json").iter_errors(toml(path))] == []


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.parent.name)
def test_the_case_schema_accepts_every_case(path: Path) -> None:
    assert [e.message for e in validator("case.schema.json").iter_errors(toml(path))] == []


def messages(errors: Any) -> list[str]:
    """Every message, with those of the alternatives a ``oneOf`` tried."""
    return [msg for e in errors for msg in (e.message, *messages(e.context))]


def _plant(data: dict[str, Any], where: tuple[str | int, ...]) -> dict[str, Any]:
    node: Any = data
    for step in where:
        node = node[step]
    node["colour"] = "red"
    return data


@pytest.mark.parametrize("where", [(), ("defaults",), ("groups", 0), ("groups", 0, "axes", "fastapi")])
def test_the_matrix_schema_refuses_an_unknown_key(where: tuple[str | int, ...]) -> None:
    data = _plant(toml(ROOT / "matrix.toml"), where)
    assert "minors" in data["groups"][0]["axes"]["fastapi"]  # the last place is a selector table
    assert "Additional properties are not allowed ('colour' was unexpected)" in messages(
        validator("matrix.schema.json").iter_errors(data)
    )
    with pytest.raises(MatrixError, match="colour: unknown key"):
        m.parse(data)


@pytest.mark.parametrize("where", [(), ("claim",), ("claim", "expect", 0), ("sources", 0)])
def test_the_case_schema_refuses_an_unknown_key(where: tuple[str | int, ...]) -> None:
    data = _plant(toml(CASE / "case.toml"), where)
    assert messages(validator("case.schema.json").iter_errors(data)) == [
        "Additional properties are not allowed ('colour' was unexpected)"
    ]
    with pytest.raises(CaseError, match="colour: unknown key"):
        validate(CaseFile, data, CaseError)


@pytest.mark.parametrize(
    ("key", "value"), [("python", "three"), ("guide", "yes"), ("axes", {}), ("cases", "all"), ("name", "G")]
)
def test_the_matrix_schema_refuses_what_the_models_refuse(key: str, value: Any) -> None:
    data = toml(ROOT / "matrix.toml")
    data["groups"][0][key] = value
    assert list(validator("matrix.schema.json").iter_errors(data))
    with pytest.raises(MatrixError, match=rf"^groups\[(fastapi-minors|0)\]\.{key}"):
        m.parse(data)


def test_editors_find_the_schema_of_every_file() -> None:
    """.taplo.toml (read by taplo and VS Code's Even Better TOML) gives each file its schema by path."""
    rules = toml(ROOT / ".taplo.toml")["rule"]
    found = {Path(r["schema"]["path"]).name: {p for g in r["include"] for p in ROOT.glob(g)} for r in rules}
    assert found == {"matrix.schema.json": set(MATRICES), "case.schema.json": set(CASES)}
    assert all((ROOT / r["schema"]["path"]).is_file() for r in rules)
