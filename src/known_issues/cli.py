"""Command line: ``python -m known_issues <command>`` (the nox sessions call these).

``main`` is three steps: parse the arguments, build the settings once, run the command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from known_issues import matrix as matrix_mod
from known_issues import run_files
from known_issues import settings as settings_mod
from known_issues.bisect import valid_version
from known_issues.errors import USER_ERRORS, UsageError
from known_issues.matrix import Cell, runs_case
from known_issues.results import RunResult
from known_issues.runner.index_config import choose_index
from known_issues.runner.pypi import PackageIndex
from known_issues.settings import Settings, default_jobs

EXIT_USAGE = 2


def _root() -> Path:
    """The project folder (``KNOWN_ISSUES_ROOT`` or the working directory), for the arguments' defaults;
    ``settings.root_from`` checks it when the settings are built."""
    return Path(os.environ.get(settings_mod.ROOT_ENV, "") or Path.cwd())


# --------------------------------------------------------------------------------------------
# arguments


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--matrix", type=Path, default=_root() / "matrix.toml", help="matrix file (default: matrix.toml)")
    p.add_argument("--out", type=Path, default=_root() / "report", help="results and report folder (default: report/)")
    p.add_argument("--envs", type=Path, default=_root() / ".envs", help="environments, locks, caches (default: .envs/)")
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


def _matrix_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    _run_opts(p)
    p.add_argument("--resume", action="store_true", help="keep cells that already have results")
    p.add_argument("--group", action="append", default=[], help="only these groups")
    p.add_argument("--baseline", type=Path, default=None, help="results.json to confirm flips against")


def _cell_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    _run_opts(p)
    p.add_argument("ids", nargs="+", help="cell ids (see `cells`)")


def _cells_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--json", action="store_true", help="as JSON (for a CI job matrix)")
    p.add_argument("-j", "--jobs", type=int, default=default_jobs(), help="cells resolved in parallel (--stale)")
    p.add_argument(
        "--stale",
        action="store_true",
        help="only the cells with something to observe: a case whose stored result does not match its "
        "current lock, case files and harness (resolves every cell; builds and runs nothing)",
    )


def _report_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--baseline", type=Path, default=None, help="results.json to compare with")
    p.add_argument(
        "--cells-from",
        type=Path,
        action="append",
        default=[],
        help="a folder of cell files observed elsewhere (CI's cell jobs): for each cell the newest observation "
        "(its `finished` time) is kept, this folder's or the report's",
    )
    p.add_argument(
        "--site-url",
        default="",
        help="where the report is published (https://...): absolute links in the feed, the errata and summary.md",
    )


def _diff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")


def _latest_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    _run_opts(p, jobs=False)
    p.add_argument("--baseline", type=Path, default=None, help="results.json (default: the previous latest run)")
    p.add_argument("--python", default="3.11", help="Python of the cell (default: 3.11)")


def _bisect_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("target", help="<case> or <case>::<test>")
    p.add_argument("--package", default=None, help="the package whose releases are searched (default: first axis)")
    p.add_argument("--from", dest="low", default=None, help="oldest release to consider (default: the oldest)")
    p.add_argument("--to", dest="high", default=None, help="newest release to consider (default: the newest)")
    p.add_argument("--hold", action="append", default=[], help="NAME=VERSION: an axis held for every step")
    p.add_argument("--python", default="3.11", help="Python of every step (default: 3.11)")
    p.add_argument("--max-cells", type=int, default=None, help="cells to evaluate at most (default: the bound)")


def _gc_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--max-age-days", type=float, default=30.0, help="remove what was unused this long (default 30)")
    p.add_argument("--max-gb", type=float, default=20.0, help="then remove the least recently used beyond this")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")


def _new_case_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("slug")


@dataclass(frozen=True)
class Command:
    run: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None]
    description: str  # the first line is the help


COMMANDS: dict[str, Command] = {}


def command(
    name: str, arguments: Callable[[argparse.ArgumentParser], None] = _common, needs_matrix: bool = True
) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Register a command; its docstring is its help (first line) and description."""

    def register(fn: Callable[..., int]) -> Callable[..., int]:
        run = _with_matrix(fn) if needs_matrix else fn
        COMMANDS[name] = Command(run, arguments, " ".join((fn.__doc__ or name).split()))
        return fn

    return register


def parser() -> argparse.ArgumentParser:
    from known_issues.latest import EXIT_POLICY

    p = argparse.ArgumentParser(prog="known-issues", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name, cmd in COMMANDS.items():
        description = cmd.description + (" " + EXIT_POLICY if name == "latest" else "")
        cmd.arguments(sub.add_parser(name, help=cmd.description.split(". ")[0], description=description))
    return p


def settings_from(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """The settings of this invocation, built once from the command line and the environment, and
    checked before anything runs: a bad value or an unknown name is a usage error (exit 2). The cheap
    checks come first; the package index is chosen last (it may ask pip)."""
    root = settings_mod.root_from(env)
    matrix = matrix_mod.load(args.matrix)
    jobs = getattr(args, "jobs", 1)
    if jobs < 1:
        raise UsageError(f"--jobs: expected at least 1, got {jobs}")
    only_cases = settings_mod.names(getattr(args, "cases", ""))
    rerun = settings_mod.names(getattr(args, "rerun", ""))
    settings_mod.check_selection(root / "cases", matrix, only_cases, rerun, getattr(args, "group", ()))
    lock_ttl, guide = settings_mod.lock_ttl_from(env), settings_mod.guide_from(env)
    return Settings(
        root=root,
        matrix=matrix,
        out=args.out,
        envs=args.envs,
        index=choose_index(env, Path.cwd()),
        jobs=jobs,
        only_cases=only_cases,
        offline=args.offline,
        rerun=rerun,
        lock_ttl=lock_ttl,
        guide=guide,
    )


# --------------------------------------------------------------------------------------------
# main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _with_matrix(command: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return command(args, settings_from(args, os.environ))

    return run


def _index(settings: Settings) -> PackageIndex:
    return PackageIndex(settings.env_dir("index"), settings.index.url, settings.offline, settings.index.source)


def _expanded(settings: Settings) -> tuple[PackageIndex, list[Cell]]:
    """The package index (read once for the run) and the matrix's cells, in matrix order."""
    index = _index(settings)
    index.prefetch(name for group in settings.matrix.groups for name, _ in group.axes)
    return index, matrix_mod.expand(settings.matrix, index.versions)


@command("validate")
def _validate(args: argparse.Namespace, settings: Settings) -> int:
    """Check the matrix file and stop."""
    print(f"{args.matrix}: valid ({len(settings.matrix.groups)} groups)")
    return 0


@command("cells", _cells_args)
def _cells(args: argparse.Namespace, settings: Settings) -> int:
    """List the matrix cells."""
    index, cells = _expanded(settings)
    if args.stale:
        from known_issues.commands import stale_cells

        cells = stale_cells(settings, index, cells)
    if args.json:
        # ``file``: where the cell's job leaves its results (report/<file>), the one file it uploads.
        print(json.dumps([{**c.as_dict(), "file": run_files.cell_file(Path(), c.id).as_posix()} for c in cells]))
    else:
        print("\n".join(c.id for c in cells))
    return 0


@command("diff", _diff_args, needs_matrix=False)
def _diff(args: argparse.Namespace) -> int:
    """Verdicts that changed between two results files."""
    from known_issues.reporting.diff import diff_runs, to_json, to_markdown

    try:
        old, new = RunResult.read(args.old), RunResult.read(args.new)
    except OSError as exc:
        raise UsageError(str(exc)) from exc
    changes = diff_runs(old, new)
    print(to_json(changes) if args.json else to_markdown(changes))
    return 0


def _compare_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("package", help="the package whose releases are compared (fastapi, pydantic, starlette...)")
    p.add_argument("low", metavar="from", help="the release you are on")
    p.add_argument("high", metavar="to", help="the release you would go to")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")


@command("compare", _compare_args)
def _compare(args: argparse.Namespace, settings: Settings) -> int:
    """The verdicts that differ between two releases of a package (any two: tested or not, read from each
    test's history along the package's line in the last run, report/results.json), grouped by case,
    with the exact release of every change between them."""
    from known_issues.commands import model_of_report
    from known_issues.reporting import compare

    for version in (args.low, args.high):
        if not valid_version(version):
            raise UsageError(f"not a version: {version!r}")
    model = model_of_report(settings, _index(settings))
    found = compare.compare(model, args.package.lower(), args.low, args.high)
    print(compare.to_json(found) if args.json else compare.to_markdown(found, model), end="")
    return 0


@command("report", _report_args)
def _report(args: argparse.Namespace, settings: Settings) -> int:
    """Merge the cell results on disk and rebuild the report."""
    from known_issues.commands import rebuild_manifest, report

    if args.cells_from:
        taken = run_files.take_newest(settings.out, args.cells_from)
        print(f"{len(taken)} cell file(s) newer than the report's taken from {', '.join(map(str, args.cells_from))}")
    if run_files.read_manifest(settings.out) is None and any((settings.out / "cells").glob("*.json")):
        rebuild_manifest(settings, _index(settings))
    if args.site_url and not args.site_url.startswith(("https://", "http://")):
        raise UsageError(f"--site-url: expected an http(s):// address, got {args.site_url!r}")
    baseline = RunResult.read(args.baseline) if args.baseline else None
    report(settings, baseline, site_url=args.site_url)
    return 0


@command("matrix", _matrix_args)
def _matrix(args: argparse.Namespace, settings: Settings) -> int:
    """Run every cell of the matrix, then build the report."""
    from known_issues.commands import run_matrix

    index, cells = _expanded(settings)
    if args.group:
        cells = [c for c in cells if c.group in args.group]
    # Some groups only: the report keeps the other groups' cells as they are.
    return run_matrix(settings, index, cells, replace=not args.group, resume=args.resume, baseline_path=args.baseline)


@command("cell", _cell_args)
def _cell(args: argparse.Namespace, settings: Settings) -> int:
    """Run the named cell(s), then rebuild the report."""
    from known_issues.commands import run_matrix

    index, cells = _expanded(settings)
    by_id = {c.id: c for c in cells}
    missing = [i for i in args.ids if i not in by_id]
    if missing:
        raise UsageError(f"no such cell: {', '.join(missing)} (list them with `cells`)")
    if settings.only_cases:
        named = settings.matrix.only_where_named
        idle = [i for i in args.ids if not any(runs_case(by_id[i].cases, c, named) for c in settings.only_cases)]
        if idle:
            raise UsageError(f"--cases: the group of {', '.join(idle)} runs none of {', '.join(settings.only_cases)}")
    return run_matrix(settings, index, [by_id[i] for i in args.ids], replace=False)


@command("latest", _latest_args)
def _latest(args: argparse.Namespace, settings: Settings) -> int:
    """Run every case with the newest release of every axis of the matrix's first group, in one cell
    (report/latest/), confirm any change by re-running it, and compare with the newest cell of a baseline."""
    from dataclasses import replace

    from known_issues.latest import run_latest_command

    latest_settings = replace(settings, out=settings.out / "latest", jobs=1)
    return run_latest_command(latest_settings, _index(settings), args.python, args.baseline)


def _candidate_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    _run_opts(p)
    p.add_argument(
        "specs", nargs="+", metavar="NAME=SOURCE", help="a source tree, a git URL@ref, or a wheel or sdist file"
    )
    p.add_argument("--python", default="3.11", help="Python of the cells (default: 3.11)")


@command("candidate", _candidate_args)
def _candidate(args: argparse.Namespace, settings: Settings) -> int:
    """Run every case on a package that is not released yet (NAME=SOURCE: a source tree, a git URL@ref,
    a wheel or an sdist) in a cell like the newest release's, and list what it fixes, breaks or newly
    reproduces against the newest released cell (report/candidate/<name>-<content>/summary.md). Exit 1
    when a maintainer must look (as `latest`), 0 when no verdict changed in such a way."""
    from known_issues.candidate import run_candidate

    return run_candidate(settings, _index(settings), args.specs, args.python)


@command("bisect", _bisect_args)
def _bisect(args: argparse.Namespace, settings: Settings) -> int:
    """The first release of a package where a test's verdict flips. Binary search over the released versions
    of one package between two bounds (pre-releases excluded) for the first release where the verdict differs
    from the one at the low bound, every other axis of the matrix's first group held at --hold NAME=VERSION
    (default: the resolver's choice). Each step runs one real cell (environments are reused); not installable,
    incompatible and n/a releases are replaced by their nearest neighbour. At most ceil(log2 N) + 2 cells for
    N releases."""
    from known_issues.bisect import BisectRequest, run_bisect

    request = BisectRequest(args.target, args.package, args.low, args.high, args.hold, args.python, args.max_cells)
    return run_bisect(settings, _index(settings), request)


@command("gc", _gc_args)
def _gc(args: argparse.Namespace, settings: Settings) -> int:
    """Remove environments unused for a while, then the least recently used, to stay under a size;
    and stored results no run has read for as long."""
    from known_issues.runner.gc import collect

    with run_files.exclusive(settings.envs):  # gc touches the environments only
        collect(settings.envs, max_age_days=args.max_age_days, max_gb=args.max_gb, dry_run=args.dry_run)
    return 0


@command("lock-tools")
def _lock_tools(args: argparse.Namespace, settings: Settings) -> int:
    """Resolve the test tools once and write tools.lock."""
    from known_issues.commands import lock_tools

    return lock_tools(settings)


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--guide",
        type=Path,
        default=None,
        help="the guide's text (default: $KNOWN_ISSUES_GUIDE): quotes and printed files are held against it",
    )


@command("check", _check_args, needs_matrix=False)
def _check(args: argparse.Namespace) -> int:
    """Validate every case: case.toml, role markers, expectations and their quotes, printed files,
    imports, dependencies."""
    from known_issues import guide as guide_mod
    from known_issues.checks import check_cases

    root = settings_mod.root_from(os.environ)
    path = settings_mod.guide_from(os.environ, args.guide)
    guide = None
    if path is None:
        print(
            f"check: the guide's text is not at hand ({settings_mod.GUIDE_ENV} or --guide): quotes and printed "
            "files are checked for their form only",
            file=sys.stderr,
        )
    else:
        try:
            guide = guide_mod.load(path)
        except OSError as exc:
            raise UsageError(f"--guide / {settings_mod.GUIDE_ENV}: cannot read {path}: {exc.strerror}") from exc
    problems = check_cases(root, guide)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"check: {len(problems)} problem(s)" if problems else "check: every case is valid")
    return 1 if problems else 0


@command("schemas", lambda p: None, needs_matrix=False)
def _schemas(args: argparse.Namespace) -> int:
    """Write the JSON Schemas of matrix.toml and case.toml into schemas/ (after changing their models),
    which editors check the files against as they are typed (.taplo.toml)."""
    from known_issues import schemas

    for path in schemas.write(settings_mod.root_from(os.environ)):
        print(f"wrote {path}")
    return 0


@command("new-case", _new_case_args, needs_matrix=False)
def _new_case(args: argparse.Namespace) -> int:
    """Scaffold cases/<slug> (it passes `check` as made)."""
    from known_issues.scaffold import new_case

    try:
        folder = new_case(settings_mod.root_from(os.environ) / "cases", args.slug)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(f"created {folder}: edit case.toml, app.py and the test, then `nox -s check`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
