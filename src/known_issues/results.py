"""Typed results of cells and runs, with their JSON form (the files under report/).

Every module that reads results uses these records; none reads a results file by string keys.
Reading checks the schema version, so a file from another version of the harness is refused with
a message that says what to do, instead of being misread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from known_issues.matrix import Cell
from known_issues.records import CollectError, SchemaError, TestResult, check_schema
from known_issues.verdicts import CELL_VERDICT, CellStatus, Reason, Verdict

SCHEMA = 2

__all__ = ["SCHEMA", "AppliedRule", "CellResult", "CompatFinding", "RunResult", "SchemaError"]


@dataclass
class AppliedRule:
    """A test-dependency rule of matrix.toml that matched this cell's resolved versions."""

    when: dict[str, str]
    pins: list[str]
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"when": dict(self.when), "pins": list(self.pins), "why": self.why}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppliedRule:
        return cls(dict(data["when"]), list(data["pins"]), str(data.get("why", "")))


@dataclass
class CompatFinding:
    """A combination that installed but failed the smoke check (declared compatible, broken together)."""

    versions: dict[str, str]
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"versions": dict(self.versions), "error": self.error}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompatFinding:
        return cls(dict(data["versions"]), str(data["error"]))


@dataclass
class CellResult:
    """One cell: how its environment was made and what every test in it gave."""

    cell: Cell
    status: CellStatus = CellStatus.ERROR
    reason: str = ""
    error_reason: Reason | None = None  # why a cell is "error": environment, timeout, harness...
    requirements: list[str] = field(default_factory=list)
    run_pins: dict[str, str] = field(default_factory=dict)  # test tools pinned for the whole run
    rules_applied: list[AppliedRule] = field(default_factory=list)
    fallback_pins: list[str] = field(default_factory=list)
    lock_sources: list[str] = field(default_factory=list)
    compat_findings: list[CompatFinding] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)
    python: str = ""
    env_key: str = ""
    env_reused: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    tests: list[TestResult] = field(default_factory=list)
    collect_errors: list[CollectError] = field(default_factory=list)
    cases_run: list[str] = field(default_factory=list)  # cases observed in this invocation
    cases_reused: list[str] = field(default_factory=list)  # cases served from the result store
    # Cases left out because their own dependencies cannot install with this cell's versions.
    cases_not_installable: dict[str, str] = field(default_factory=dict)
    stray_processes: list[str] = field(default_factory=list)
    finished: str = ""

    @property
    def id(self) -> str:
        return self.cell.id

    @property
    def ran(self) -> bool:
        return self.status == CellStatus.RAN

    @property
    def cell_verdict(self) -> Verdict | None:
        """The verdict every test gets when the cell did not run its tests."""
        return None if self.ran else CELL_VERDICT[self.status]

    def versions(self) -> dict[str, str]:
        """Resolved versions: installed distributions, else the resolver's pins; plus ``python``."""
        versions = dict(self.resolved)
        versions.update(self.distributions)
        if self.python:
            versions["python"] = self.python
        return versions

    def version_of(self, name: str) -> str:
        """The resolved version of an axis (or python), else what was requested."""
        if name == "python":
            return self.python or self.cell.python
        return self.versions().get(name) or dict(self.cell.requested).get(name, "?")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "cell": self.cell.as_dict(),
            "status": self.status.value,
            "reason": self.reason,
            "error_reason": self.error_reason.value if self.error_reason else None,
            "requirements": list(self.requirements),
            "run_pins": dict(self.run_pins),
            "rules_applied": [r.to_dict() for r in self.rules_applied],
            "fallback_pins": list(self.fallback_pins),
            "lock_sources": list(self.lock_sources),
            "compat_findings": [f.to_dict() for f in self.compat_findings],
            "resolved": dict(self.resolved),
            "distributions": dict(self.distributions),
            "python": self.python,
            "env": {"key": self.env_key, "reused": self.env_reused},
            "timings": dict(self.timings),
            "tests": [t.to_dict() for t in self.tests],
            "collect_errors": [e.to_dict() for e in self.collect_errors],
            "cases_run": list(self.cases_run),
            "cases_reused": list(self.cases_reused),
            "cases_not_installable": dict(self.cases_not_installable),
            "stray_processes": list(self.stray_processes),
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, data: Any, what: str = "cell results") -> CellResult:
        data = check_schema(data, SCHEMA, what)
        env = data.get("env", {})
        return cls(
            cell=Cell.from_dict(data["cell"]),
            status=CellStatus(data["status"]),
            reason=str(data.get("reason", "")),
            error_reason=Reason(data["error_reason"]) if data.get("error_reason") else None,
            requirements=list(data.get("requirements", [])),
            run_pins=dict(data.get("run_pins", {})),
            rules_applied=[AppliedRule.from_dict(r) for r in data.get("rules_applied", [])],
            fallback_pins=list(data.get("fallback_pins", [])),
            lock_sources=list(data.get("lock_sources", [])),
            compat_findings=[CompatFinding.from_dict(f) for f in data.get("compat_findings", [])],
            resolved=dict(data.get("resolved", {})),
            distributions=dict(data.get("distributions", {})),
            python=str(data.get("python", "")),
            env_key=str(env.get("key", "")),
            env_reused=bool(env.get("reused", False)),
            timings={k: float(v) for k, v in data.get("timings", {}).items()},
            tests=[TestResult.from_dict(t) for t in data.get("tests", [])],
            collect_errors=[CollectError.from_dict(e) for e in data.get("collect_errors", [])],
            cases_run=list(data.get("cases_run", [])),
            cases_reused=list(data.get("cases_reused", [])),
            cases_not_installable=dict(data.get("cases_not_installable", {})),
            stray_processes=list(data.get("stray_processes", [])),
            finished=str(data.get("finished", "")),
        )

    @classmethod
    def read(cls, path: Path) -> CellResult:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path))


@dataclass
class RunResult:
    """A merged run: the cells of one matrix (in matrix order) and the ones that produced nothing."""

    cells: list[CellResult]
    generated: str = ""
    matrix: str = ""  # the matrix file's name, relative to the project (never an absolute path)
    index: dict[str, Any] = field(default_factory=dict)
    missing: list[Cell] = field(default_factory=list)
    run_pins: dict[str, dict[str, str]] = field(default_factory=dict)  # python -> tool pins

    def cell(self, cell_id: str) -> CellResult | None:
        return next((c for c in self.cells if c.id == cell_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "generated": self.generated,
            "matrix": self.matrix,
            "index": dict(self.index),
            "run_pins": {k: dict(v) for k, v in self.run_pins.items()},
            "cells": [c.to_dict() for c in self.cells],
            "missing": [c.as_dict() for c in self.missing],
        }

    @classmethod
    def from_dict(cls, data: Any, what: str = "run results") -> RunResult:
        data = check_schema(data, SCHEMA, what)
        if "cells" not in data:
            raise SchemaError(f"{what}: not a results file (no 'cells')")
        return cls(
            cells=[CellResult.from_dict(c, f"{what}: cell {i}") for i, c in enumerate(data["cells"])],
            generated=str(data.get("generated", "")),
            matrix=str(data.get("matrix", "")),
            index=dict(data.get("index", {})),
            missing=[Cell.from_dict(c) for c in data.get("missing", [])],
            run_pins={k: dict(v) for k, v in data.get("run_pins", {}).items()},
        )

    @classmethod
    def read(cls, path: Path) -> RunResult:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SchemaError(f"{path}: not JSON: {exc}") from exc
        return cls.from_dict(data, str(path))
