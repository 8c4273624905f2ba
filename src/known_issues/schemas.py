"""The JSON Schemas of matrix.toml and case.toml, made from the models that read them, so that editors
check the files as they are typed (.taplo.toml associates them by path; `known-issues schemas`
writes them)."""

from __future__ import annotations

import json
from pathlib import Path

from known_issues.catalog import CaseFile
from known_issues.matrix import MatrixFile
from known_issues.tomlfile import FileModel, json_schema

FOLDER = "schemas"


def generated() -> dict[str, str]:
    """File name -> its text, as committed under schemas/."""
    models: dict[str, type[FileModel]] = {"matrix.schema.json": MatrixFile, "case.schema.json": CaseFile}
    return {name: json.dumps(json_schema(model), indent=2, ensure_ascii=False) + "\n" for name, model in models.items()}


def write(root: Path) -> list[Path]:
    folder = root / FOLDER
    folder.mkdir(exist_ok=True)
    written = []
    for name, text in generated().items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
