"""JUnit XML per cell, for CI test views."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

from known_issues.cell.atomic import write_text
from known_issues.cell.verdicts import Outcome, Verdict
from known_issues.results import CellResult
from known_issues.run_files import safe


def _digest(cell: CellResult) -> str:
    """What the file shows of the cell: a rebuild with the same results writes nothing."""
    parts = [cell.id, str(cell.status), cell.finished, cell.reason]
    parts += [f"{t.key}{t.verdict}{t.outcome}{t.observations}{t.message}{t.duration}" for t in cell.tests]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _written(path: Path, digest: str) -> bool:
    try:
        with path.open("rb") as fh:
            return f'digest="{digest}"'.encode() in fh.read(400)
    except OSError:
        return False


def write_junit(folder: Path, cells: Sequence[CellResult]) -> None:
    for cell in cells:
        path, digest = folder / f"{safe(cell.id)}.xml", _digest(cell)
        if _written(path, digest):
            continue
        suite = ET.Element("testsuite", name=cell.id, tests=str(len(cell.tests)), digest=digest)
        failures = errors = skipped = 0
        if not cell.ran:
            case = ET.SubElement(suite, "testcase", classname=cell.id, name="cell")
            ET.SubElement(case, "error", message=str(cell.status)).text = cell.reason
            errors += 1
        for t in cell.tests:
            case = ET.SubElement(suite, "testcase", classname=f"cases.{t.case}", name=t.test, time=str(t.duration))
            ET.SubElement(case, "properties").extend(
                [
                    ET.Element("property", name="role", value=str(t.role)),
                    ET.Element("property", name="verdict", value=str(t.verdict)),
                ]
            )
            # A bug that reproduces is the expected state of a known issue: it passes in CI views.
            if t.verdict == Verdict.ERROR or t.verdict == Verdict.FLAKY:
                ET.SubElement(case, "error", message=str(t.verdict)).text = t.message
                errors += 1
            elif t.outcome in (Outcome.FAILED, Outcome.CRASHED):
                ET.SubElement(case, "failure", message=str(t.verdict)).text = t.message
                failures += 1
            elif t.outcome == Outcome.SKIPPED:
                ET.SubElement(case, "skipped", message=t.message)
                skipped += 1
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", str(skipped))
        write_text(path, ET.tostring(suite, encoding="unicode", xml_declaration=True))
