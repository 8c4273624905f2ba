"""JUnit XML per cell, for CI test views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from known_issues.atomic import write_text
from known_issues.store import cell_file


def write_junit(folder: Path, cells: Sequence[Mapping[str, Any]]) -> None:
    for cell in cells:
        tests = cell.get("tests", [])
        suite = ET.Element("testsuite", name=cell["cell"]["id"], tests=str(len(tests)))
        failures = errors = skipped = 0
        if cell["status"] != "ran":
            case = ET.SubElement(suite, "testcase", classname=cell["cell"]["id"], name="cell")
            ET.SubElement(case, "error", message=cell["status"]).text = str(cell.get("reason", ""))
            errors += 1
        for t in tests:
            case = ET.SubElement(
                suite, "testcase", classname=f"cases.{t['case']}", name=t["test"], time=str(t.get("duration", 0))
            )
            ET.SubElement(case, "properties").extend(
                [
                    ET.Element("property", name="role", value=t["role"]),
                    ET.Element("property", name="verdict", value=t["verdict"]),
                ]
            )
            # A bug that reproduces is the expected state of a known issue: it passes in CI views.
            if t["outcome"] == "failed":
                ET.SubElement(case, "failure", message=t["verdict"]).text = t.get("message", "")
                failures += 1
            elif t["outcome"] in ("error", "crashed"):
                ET.SubElement(case, "error", message=t["verdict"]).text = t.get("message", "")
                errors += 1
            elif t["outcome"] == "skipped":
                ET.SubElement(case, "skipped", message=t.get("message", ""))
                skipped += 1
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        path = folder / (cell_file(folder, cell["cell"]["id"]).stem + ".xml")
        write_text(path, ET.tostring(suite, encoding="unicode", xml_declaration=True))
