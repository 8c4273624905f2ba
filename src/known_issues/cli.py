"""Command line: ``python -m known_issues <command>`` (the nox sessions call these)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

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
    # A cell spends much of its time waiting (servers starting, subprocesses, sleeps in the
    # concurrency cases), so two cells per core keep the cores busy; verdicts were identical at
    # -j 2 and -j 4 on the default matrix.
    p.add_argument(
        "-j", "--jobs", type=int, default=2 * (os.cpu_count() or 1), help="cells in parallel (default: 2 x cores)"
    )
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
    _latest_parser(sub)
    _bisect_parser(sub)
    return p


def _latest_parser(sub: Any) -> None:
    from known_issues.latest import EXIT_POLICY

    lt = sub.add_parser(
        "latest",
        help="run every case with the newest FastAPI and Pydantic, compare with the previous run",
        description="Resolve the newest FastAPI and Pydantic (and record Starlette) from the index, run every "
        "case in that one cell (report/latest/), and compare it with the newest cell of a baseline. " + EXIT_POLICY,
    )
    _common(lt)
    lt.add_argument("--cases", default="", help="comma-separated case slugs to run (default: all)")
    lt.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="results.json to compare with (default: the previous run kept in report/latest/)",
    )
    lt.add_argument("--python", default="3.11", help="Python of the cell (default: 3.11)")


def _bisect_parser(sub: Any) -> None:
    bs = sub.add_parser(
        "bisect",
        help="the first FastAPI release where a test's verdict flips",
        description="Binary search over the released FastAPI versions between two bounds (pre-releases "
        "excluded) for the first release where the verdict differs from the one at the low bound. Each step "
        "runs one real cell (environments are reused); not installable, incompatible and n/a releases are "
        "replaced by their nearest neighbour. At most ceil(log2 N) + 2 cells for N releases.",
    )
    _common(bs)
    bs.add_argument("target", help="<case> or <case>::<test>")
    bs.add_argument("--fastapi-from", default="0.100.0", help="oldest release to consider (default: 0.100.0)")
    bs.add_argument("--fastapi-to", default=None, help="newest release to consider (default: the newest)")
    bs.add_argument("--pydantic", default="any", help='Pydantic version for every step (default: "any")')
    bs.add_argument("--python", default="3.11", help="Python of every step (default: 3.11)")
    bs.add_argument("--max-cells", type=int, default=None, help="cells to evaluate at most (default: the bound)")


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
        if store.read_manifest(args.out) is None and any((args.out / "cells").glob("*.json")):
            _manifest_from_cell_files(args, matrix)
        return _report(args)
    index = PackageIndex(cache_dir=args.envs / "index", offline=args.offline)
    if args.command == "latest":
        return _latest(args, matrix, index)
    if args.command == "bisect":
        return _bisect(args, matrix, index)
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


def _latest(args: argparse.Namespace, matrix: matrix_mod.Matrix, index: PackageIndex) -> int:
    from known_issues.latest import run_latest

    settings = Settings(
        root=ROOT,
        matrix=matrix,
        out=args.out / "latest",
        env_root=args.envs / "cells",
        jobs=1,
        only_cases=tuple(c for c in args.cases.split(",") if c),
        offline=args.offline,
    )
    try:
        result = run_latest(settings, index, args.python, args.baseline)
    except (IndexError_, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result is None:
        return 130
    print(result.summary.read_text(encoding="utf-8"))
    print(f"summary: {result.summary}")
    if result.attention:
        print(f"{len(result.attention)} verdict change(s) need a maintainer: exit 1", file=sys.stderr)
        return 1
    return 0


def _bisect(args: argparse.Namespace, matrix: matrix_mod.Matrix, index: PackageIndex) -> int:
    from known_issues.bisect import Target, bisect_releases, budget_for, releases_between, valid_version

    target = Target.parse(args.target)
    problem = target.problem(ROOT / "cases")
    bounds = [v for v in (args.fastapi_from, args.fastapi_to, args.pydantic) if v not in (None, "any")]
    problem = problem or next((f"not a version: {v!r}" for v in bounds if not valid_version(v)), None)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        versions = releases_between(index, args.python, args.fastapi_from, args.fastapi_to)
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(versions) < 2:
        print(f"error: {len(versions)} FastAPI release(s) in that range: nothing to bisect", file=sys.stderr)
        return 2
    limit = args.max_cells or budget_for(len(versions))
    print(
        f"bisecting {target} over {len(versions)} FastAPI releases {versions[0]}..{versions[-1]} "
        f"(pydantic {args.pydantic}, python {args.python}): at most {limit} cells"
    )
    settings = Settings(
        root=ROOT,
        matrix=matrix,
        out=args.out / "bisect",
        env_root=args.envs / "cells",
        jobs=1,
        only_cases=(target.case,),
        offline=args.offline,
    )
    outcome = bisect_releases(settings, index, target, versions, args.pydantic, args.python, max_cells=limit)
    print(f"evaluated {len(outcome.steps)} of at most {limit} cells ({len(versions)} releases)")
    print(f"answer: {outcome.answer()}")
    return 0 if outcome.found else 1


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


def _manifest_from_cell_files(args: argparse.Namespace, matrix: matrix_mod.Matrix) -> None:
    """Cell files without a manifest (CI's report job downloads one file per cell job): list the
    matrix's cells in matrix order, so a cell whose job produced nothing shows as missing, then any
    other cell file found. Without the index (offline, no cache) the cell files alone are used."""
    index = PackageIndex(cache_dir=args.envs / "index", offline=args.offline)
    try:
        cells = [c.as_dict() for c in matrix_mod.expand(matrix, index.versions)]
    except IndexError_ as exc:
        print(f"warning: {exc}: the report lists only the cell files found", file=sys.stderr)
        cells = []
    ids = {c["id"] for c in cells}
    for path in sorted((args.out / "cells").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["cell"]["id"] not in ids:
            ids.add(data["cell"]["id"])
            cells.append(data["cell"])
    store.write_manifest(
        args.out,
        {
            "matrix": str(args.matrix),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "index": index.sources,
            "cells": cells,
        },
    )
    print(f"no {args.out / 'run.json'}: rebuilt it from the matrix and the cell files ({len(cells)} cells)")


def _report(args: argparse.Namespace) -> int:
    from known_issues.report import build

    run = store.merge(args.out)
    baseline = store.load_run(args.baseline) if getattr(args, "baseline", None) else None
    path = build(run, ROOT / "cases", args.out, baseline=baseline)
    print(f"report: {path} ({len(run['cells'])} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
