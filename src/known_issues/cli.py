"""Command line: ``python -m known_issues <command>`` (the nox sessions call these).

``main`` is three steps: parse the arguments, build the settings once, run the command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from known_issues import matrix as matrix_mod
from known_issues import store
from known_issues.matrix import MatrixError
from known_issues.pypi import IndexError_, PackageIndex
from known_issues.records import SchemaError
from known_issues.settings import Settings, default_jobs

ROOT = Path(os.environ.get("KNOWN_ISSUES_ROOT", Path.cwd()))
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad command line, matrix or baseline: printed as ``error: ...``, exit status 2."""


# --------------------------------------------------------------------------------------------
# arguments


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--matrix", type=Path, default=ROOT / "matrix.toml", help="matrix file (default: matrix.toml)")
    p.add_argument("--out", type=Path, default=ROOT / "report", help="results and report folder (default: report/)")
    p.add_argument("--envs", type=Path, default=ROOT / ".envs", help="environments, locks, caches (default: .envs/)")
    p.add_argument("--offline", action="store_true", help="use only cached index data and packages")


def _run_opts(p: argparse.ArgumentParser, jobs: bool = True) -> None:
    if jobs:
        p.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="cells in parallel (default: 2 x cores)")
    p.add_argument("--cases", default="", help="comma-separated case slugs to run (default: all)")
    p.add_argument(
        "--rerun",
        default="",
        help="observe again instead of reusing stored results: 'all', or comma-separated groups and cases",
    )


def parser() -> argparse.ArgumentParser:
    from known_issues.latest import EXIT_POLICY

    p = argparse.ArgumentParser(prog="known-issues", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    m = sub.add_parser("matrix", help="run every cell of the matrix, then build the report")
    _common(m)
    _run_opts(m)
    m.add_argument("--resume", action="store_true", help="keep cells that already have results")
    m.add_argument("--group", action="append", default=[], help="only these groups")
    m.add_argument("--baseline", type=Path, default=None, help="results.json to confirm flips against")
    c = sub.add_parser("cell", help="run the named cell(s), then rebuild the report")
    _common(c)
    _run_opts(c)
    c.add_argument("ids", nargs="+", help="cell ids (see `cells`)")
    ls = sub.add_parser("cells", help="list the matrix cells")
    _common(ls)
    ls.add_argument("--json", action="store_true", help="as JSON (for a CI job matrix)")
    ls.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="cells resolved in parallel (--stale)")
    ls.add_argument(
        "--stale",
        action="store_true",
        help="only the cells with something to observe: a case whose stored result does not match its "
        "current lock, case files and harness (resolves every cell; builds and runs nothing)",
    )
    v = sub.add_parser("validate", help="check the matrix file and stop")
    _common(v)
    r = sub.add_parser("report", help="merge the cell results on disk and rebuild the report")
    _common(r)
    r.add_argument("--baseline", type=Path, default=None, help="results.json to compare with")
    d = sub.add_parser("diff", help="verdicts that changed between two results files")
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    d.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    lt = sub.add_parser(
        "latest",
        help="run every case with the newest release of every axis, compare with the previous run",
        description="Resolve the newest release of each axis of the matrix's first group, run every case in that "
        "one cell (report/latest/), confirm any change by re-running it, and compare with the newest cell of "
        "a baseline. " + EXIT_POLICY,
    )
    _common(lt)
    _run_opts(lt, jobs=False)
    lt.add_argument("--baseline", type=Path, default=None, help="results.json (default: the previous latest run)")
    lt.add_argument("--python", default="3.11", help="Python of the cell (default: 3.11)")
    bs = sub.add_parser(
        "bisect",
        help="the first release of a package where a test's verdict flips",
        description="Binary search over the released versions of one package between two bounds (pre-releases "
        "excluded) for the first release where the verdict differs from the one at the low bound, every other "
        "axis of the matrix's first group held at --hold NAME=VERSION (default: the resolver's choice). Each step "
        "runs one real cell (environments are reused); not installable, incompatible and n/a releases are "
        "replaced by their nearest neighbour. At most ceil(log2 N) + 2 cells for N releases.",
    )
    _common(bs)
    bs.add_argument("target", help="<case> or <case>::<test>")
    bs.add_argument("--package", default=None, help="the package whose releases are searched (default: first axis)")
    bs.add_argument("--from", dest="low", default=None, help="oldest release to consider (default: the oldest)")
    bs.add_argument("--to", dest="high", default=None, help="newest release to consider (default: the newest)")
    bs.add_argument("--hold", action="append", default=[], help="NAME=VERSION: an axis held for every step")
    bs.add_argument("--python", default="3.11", help="Python of every step (default: 3.11)")
    bs.add_argument("--max-cells", type=int, default=None, help="cells to evaluate at most (default: the bound)")
    g = sub.add_parser("gc", help="remove environments unused for a while, or the oldest, to stay under a size")
    _common(g)
    g.add_argument("--max-age-days", type=float, default=30.0, help="remove what was unused this long (default 30)")
    g.add_argument("--max-gb", type=float, default=20.0, help="then remove the least recently used beyond this")
    g.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    lk = sub.add_parser("lock-tools", help="resolve the test tools once and write tools.lock")
    _common(lk)
    ck = sub.add_parser("check", help="validate every case (case.toml, role markers, expectations, imports)")
    _common(ck)
    nc = sub.add_parser("new-case", help="scaffold cases/<slug> (it passes `check` as made)")
    nc.add_argument("slug")
    return p


def settings_from(args: argparse.Namespace, matrix: matrix_mod.Matrix) -> Settings:
    def csv(text: str) -> tuple[str, ...]:
        return tuple(c.strip() for c in text.split(",") if c.strip())

    return Settings(
        root=ROOT,
        matrix=matrix,
        out=args.out,
        envs=args.envs,
        jobs=getattr(args, "jobs", 1),
        only_cases=csv(getattr(args, "cases", "")),
        offline=args.offline,
        rerun=csv(getattr(args, "rerun", "")),
    )


# --------------------------------------------------------------------------------------------
# main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (UsageError, MatrixError, SchemaError, IndexError_) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _with_matrix(command: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return command(args, settings_from(args, matrix_mod.load(args.matrix)))

    return run


def _index(settings: Settings) -> PackageIndex:
    return PackageIndex(cache_dir=settings.index_dir, offline=settings.offline)


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    print(f"{args.matrix}: valid ({len(settings.matrix.groups)} groups)")
    return 0


def _cells(args: argparse.Namespace, settings: Settings) -> int:
    index = _index(settings)
    cells = matrix_mod.expand(settings.matrix, index.versions)
    if args.stale:
        from known_issues.commands import stale_cells

        cells = stale_cells(settings, index, cells)
    print(json.dumps([c.as_dict() for c in cells]) if args.json else "\n".join(c.id for c in cells))
    return 0


def _diff(args: argparse.Namespace) -> int:
    from known_issues.diff import diff_runs, to_json, to_markdown

    try:
        old, new = store.load_run(args.old), store.load_run(args.new)
    except OSError as exc:
        raise UsageError(str(exc)) from exc
    changes = diff_runs(old, new)
    print(to_json(changes) if args.json else to_markdown(changes))
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from known_issues.commands import rebuild_manifest, report

    if store.read_manifest(settings.out) is None and any((settings.out / "cells").glob("*.json")):
        rebuild_manifest(settings, _index(settings))
    baseline = store.load_run(args.baseline) if args.baseline else None
    report(settings, baseline)
    return 0


def _matrix(args: argparse.Namespace, settings: Settings) -> int:
    from known_issues.commands import run_matrix

    index = _index(settings)
    cells = matrix_mod.expand(settings.matrix, index.versions)
    if args.group:
        unknown = set(args.group) - {g.name for g in settings.matrix.groups}
        if unknown:
            raise UsageError(f"--group: no such group: {', '.join(sorted(unknown))}")
        cells = [c for c in cells if c.group in args.group]
    return run_matrix(settings, index, cells, replace=True, resume=args.resume, baseline_path=args.baseline)


def _cell(args: argparse.Namespace, settings: Settings) -> int:
    from known_issues.commands import run_matrix

    index = _index(settings)
    by_id = {c.id: c for c in matrix_mod.expand(settings.matrix, index.versions)}
    missing = [i for i in args.ids if i not in by_id]
    if missing:
        raise UsageError(f"no such cell: {', '.join(missing)} (list them with `cells`)")
    return run_matrix(settings, index, [by_id[i] for i in args.ids], replace=False)


def _latest(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from known_issues.commands import run_latest_command

    return run_latest_command(replace(settings, out=settings.out / "latest", jobs=1), _index(settings), args)


def _bisect(args: argparse.Namespace, settings: Settings) -> int:
    from known_issues.commands import run_bisect

    return run_bisect(settings, _index(settings), args)


def _gc(args: argparse.Namespace, settings: Settings) -> int:
    from known_issues.gc import collect

    with store.exclusive(settings.envs):
        collect(settings.envs, max_age_days=args.max_age_days, max_gb=args.max_gb, dry_run=args.dry_run)
    return 0


def _lock_tools(args: argparse.Namespace, settings: Settings) -> int:
    from known_issues.commands import lock_tools

    return lock_tools(settings)


def _check(args: argparse.Namespace) -> int:
    from known_issues.checks import check_cases

    problems = check_cases(ROOT)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check: {len(problems)} problem(s)" if problems else "check: every case is valid")
    return 1 if problems else 0


def _new_case(args: argparse.Namespace) -> int:
    from known_issues.scaffold import new_case

    try:
        folder = new_case(ROOT / "cases", args.slug)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(f"created {folder}: edit case.toml, app.py and the test, then `nox -s check`")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "matrix": _with_matrix(_matrix),
    "cell": _with_matrix(_cell),
    "cells": _with_matrix(_cells),
    "validate": _with_matrix(_validate),
    "report": _with_matrix(_report),
    "diff": _diff,
    "latest": _with_matrix(_latest),
    "bisect": _with_matrix(_bisect),
    "gc": _with_matrix(_gc),
    "lock-tools": _with_matrix(_lock_tools),
    "check": _check,
    "new-case": _new_case,
}


if __name__ == "__main__":
    sys.exit(main())
