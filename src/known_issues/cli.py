"""Command line: ``python -m known_issues <command>`` (the nox sessions call these)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from known_issues import matrix as matrix_mod
from known_issues import store
from known_issues.matrix import Cell, MatrixError
from known_issues.pypi import IndexError_, PackageIndex
from known_issues.runner import Settings, run_cells, status_counts

ROOT = Path(os.environ.get("KNOWN_ISSUES_ROOT", Path.cwd()))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--matrix", type=Path, default=ROOT / "matrix.toml", help="matrix file (default: matrix.toml)")
    p.add_argument("--out", type=Path, default=ROOT / "report", help="results and report folder (default: report/)")
    p.add_argument("--envs", type=Path, default=ROOT / ".envs", help="environment and index cache (default: .envs/)")
    p.add_argument("--offline", action="store_true", help="use only cached index data and packages")


def _run_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2, help="cells in parallel (default: cores)")
    p.add_argument("--cases", default="", help="comma-separated case slugs to run (default: all)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="known-issues", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("matrix", help="run every cell of the matrix, then build the report")
    _common(m)
    _run_opts(m)
    m.add_argument("--resume", action="store_true", help="keep cells that already have results")
    m.add_argument("--group", action="append", default=[], help="only these groups")
    c = sub.add_parser("cell", help="run the named cell(s), then rebuild the report")
    _common(c)
    _run_opts(c)
    c.add_argument("ids", nargs="+", help="cell ids (see `cells`)")
    ls = sub.add_parser("cells", help="list the matrix cells")
    _common(ls)
    ls.add_argument("--json", action="store_true", help="as JSON (for a CI job matrix)")
    v = sub.add_parser("validate", help="check the matrix file and stop")
    _common(v)
    r = sub.add_parser("report", help="merge the cell results on disk and rebuild the report")
    _common(r)
    r.add_argument("--baseline", type=Path, default=None, help="results.json to compare with")
    d = sub.add_parser("diff", help="verdicts that changed between two results files")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    d.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "diff":
        return _diff(args)
    try:
        matrix = matrix_mod.load(args.matrix)
    except MatrixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "validate":
        print(f"{args.matrix}: valid ({len(matrix.groups)} groups)")
        return 0
    if args.command == "report":
        return _report(args)
    index = PackageIndex(cache_dir=args.envs / "index", offline=args.offline)
    try:
        cells = matrix_mod.expand(matrix, index.versions)
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "cells":
        return _list(cells, args.json)
    settings = Settings(
        root=ROOT,
        matrix=matrix,
        out=args.out,
        env_root=args.envs / "cells",
        jobs=args.jobs,
        only_cases=tuple(c for c in args.cases.split(",") if c),
        offline=args.offline,
    )
    if args.command == "matrix":
        if args.group:
            unknown = set(args.group) - {g.name for g in matrix.groups}
            if unknown:
                print(f"error: --group: no such group: {', '.join(sorted(unknown))}", file=sys.stderr)
                return 2
            cells = [c for c in cells if c.group in args.group]
        _write_manifest(args, cells, index, replace=True)
        summary = run_cells(settings, cells, index, resume=args.resume)
    else:
        by_id = {c.id: c for c in cells}
        missing = [i for i in args.ids if i not in by_id]
        if missing:
            print(f"error: no such cell: {', '.join(missing)} (list them with `cells`)", file=sys.stderr)
            return 2
        chosen = [by_id[i] for i in args.ids]
        _write_manifest(args, chosen, index, replace=False)
        summary = run_cells(settings, chosen, index)
    code = _report(args)
    counts = status_counts(summary.results)
    print("cells: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if summary.interrupted:
        return 130
    return code


def _diff(args: argparse.Namespace) -> int:
    from known_issues.diff import diff_runs, to_json, to_markdown

    try:
        old, new = store.load_run(args.old), store.load_run(args.new)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    changes = diff_runs(old, new)
    print(to_json(changes) if args.json else to_markdown(changes))
    return 0


def _list(cells: list[Cell], as_json: bool) -> int:
    if as_json:
        print(json.dumps([c.as_dict() for c in cells]))
    else:
        for c in cells:
            print(c.id)
    return 0


def _write_manifest(args: argparse.Namespace, cells: list[Cell], index: PackageIndex, replace: bool) -> None:
    manifest = None if replace else store.read_manifest(args.out)
    known = manifest["cells"] if manifest else []
    ids = {c["id"] for c in known}
    merged = known + [c.as_dict() for c in cells if c.id not in ids]
    store.write_manifest(
        args.out,
        {
            "matrix": str(args.matrix),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "index": {**(manifest or {}).get("index", {}), **index.sources},
            "cells": merged,
        },
    )


def _report(args: argparse.Namespace) -> int:
    from known_issues.report import build

    run = store.merge(args.out)
    baseline = store.load_run(args.baseline) if getattr(args, "baseline", None) else None
    path = build(run, ROOT / "cases", args.out, baseline=baseline)
    print(f"report: {path} ({len(run['cells'])} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
