"""Run many cells at once: a pool of workers, a progress line, and a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TextIO

from known_issues import run_files
from known_issues.cell.verdicts import Verdict
from known_issues.matrix import Cell
from known_issues.outcomes import CellStatus
from known_issues.results import CellResult
from known_issues.runner.one_cell import run_cell
from known_issues.runner.processes import PROCESSES
from known_issues.runner.run_context import RunContext
from known_issues.runner.start_order import LongestFirst


@dataclass
class RunSummary:
    results: list[CellResult] = field(default_factory=list)
    interrupted: bool = False

    @property
    def all_observed(self) -> bool:
        """Every cell produced verdicts or a definite answer (not installable, incompatible)."""
        return not self.interrupted and all(r.status != CellStatus.ERROR for r in self.results)


# Called with each finished cell's result: the cells to run next because of it (none: nothing more).
More = Callable[[CellResult], Sequence[Cell]]


def run_cells(
    ctx: RunContext,
    cells: Sequence[Cell],
    resume: bool = False,
    expected: Mapping[str, float] | None = None,
    more: More | None = None,
) -> RunSummary:
    """Run the cells, ``jobs`` at a time, the longest first (runner/start_order.py): ``expected``
    (seconds each took when last observed), else a guess from the cells finished in this run.
    ``more`` is asked, as each cell finishes, for cells to run next (the narrowing's next probes): they
    join the waiting cells at once, without waiting for the cells still running."""
    summary = RunSummary()
    todo = []
    for cell in cells:
        previous = run_files.read_cell(ctx.settings.out, cell.id) if resume else None
        if previous is not None and previous.status != CellStatus.ERROR:
            summary.results.append(previous)
            say(f"[resume] {cell.id}: kept ({previous.status})")
        else:
            todo.append(cell)
    jobs = max(1, ctx.settings.jobs)
    say(f"running {len(todo)} cell(s) with {jobs} job(s); results in {ctx.settings.out}/cells/")
    progress = Progress(len(todo))
    previous_handlers = _install_stop_signals()
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="cell")
    futures: dict[Future[CellResult], Cell] = {}
    try:
        order = LongestFirst(expected or {}, ctx.selected)
        pending = list(todo)
        if more is not None:
            for kept in summary.results:
                pending += more(kept)
        progress.total = len(pending)
        done: list[CellResult] = []
        while pending or futures or done:
            while pending and len(futures) < jobs:
                cell = order.take(pending)
                futures[pool.submit(run_cell, ctx, cell)] = cell
                progress.started()
            # Printed once the freed workers have their next cells, so the counts are the real ones.
            for result in done:
                progress.finished(describe(result))
            done = []
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED, timeout=1.0)
            for fut in finished:
                futures.pop(fut)
                result = fut.result()
                if not result.unchanged:
                    run_files.write_cell(ctx.settings.out, result)
                summary.results.append(result)
                order.learn(result)
                progress.ended()
                done.append(result)
                if more is not None:
                    following = list(more(result))
                    pending += following
                    progress.total += len(following)
            progress.tick()
    except KeyboardInterrupt:
        summary.interrupted = True
        progress.close()
        say("interrupted: stopping running cells; finished cells are kept")
        PROCESSES.stop_all()
        for fut in futures:
            fut.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        PROCESSES.stopping = False
        progress.close()
    return summary


def _install_stop_signals() -> dict[signal.Signals, Any]:
    """SIGINT and SIGTERM stop the run cleanly. SIGINT is set too, not inherited: a shell starts a
    background job (`nox -s matrix &`) with SIGINT ignored, and `kill -INT` would then do nothing."""

    def _to_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _to_interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}


def describe(result: CellResult) -> str:
    t = result.timings
    head = f"{result.id}: {result.status}"
    if result.unchanged:
        cases = f" ({len(result.cases_reused)} case(s))" if result.ran else ""
        return f"{head}, unchanged: its file is as stored{cases}"
    if not result.ran:
        why = f"{result.error_reason}: " if result.error_reason else ""
        return f"{head} ({t.get('total', 0):.1f}s): {why}{_first_line(result.reason)}"
    counts = Counter(str(test.verdict) for test in result.tests)
    counts.update(str(Verdict.ERROR) for _ in result.collect_errors)
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    if result.cases_run:
        env = "reused" if result.env_reused else "new"
        how = f"env {env} {t.get('env', 0):.1f}s, tests {t.get('tests', 0):.1f}s"
        if result.cases_reused:
            how += f"; {len(result.cases_reused)} case(s) reused"
    else:
        how = f"all {len(result.cases_reused)} case(s) reused"
    return f"{head} in {t.get('total', 0):.1f}s ({how}): {verdicts or 'no tests'}"


def _first_line(text: str) -> str:
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    if not lines:
        return ""
    # uv's resolver explains itself at the end; the last line is the most telling.
    return lines[-1][:200] if len(lines) > 1 and "No solution" in text else lines[0][:200]


class Progress:
    """Cells done / running / left, elapsed and an estimate: one live line on a terminal, plain
    lines (one per finished cell, with the same figures) otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self.running = 0
        self.stream = stream or sys.stdout
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.clock = clock
        self.start = clock()
        self._drawn = False

    def started(self) -> None:
        self.running += 1

    def ended(self) -> None:
        self.running -= 1

    def finished(self, line: str) -> None:
        self.done += 1
        self._clear()
        say(f"[{self.done:>3}/{self.total}] {line}" + ("" if self.live else f"  ({self.status()})"), self.stream)
        self.tick()

    def status(self) -> str:
        elapsed = self.clock() - self.start
        left = self.total - self.done
        text = f"{self.done} done, {self.running} running, {left - self.running} waiting; {_clock(elapsed)} elapsed"
        if self.done and left:
            text += f", about {_clock(elapsed / self.done * left)} left"
        return text

    def tick(self) -> None:
        if self.live and self.done < self.total:
            with _print_lock:
                self.stream.write("\r\033[K" + self.status())
                self.stream.flush()
            self._drawn = True

    def _clear(self) -> None:
        if self.live and self._drawn:
            with _print_lock:
                self.stream.write("\r\033[K")
            self._drawn = False

    def close(self) -> None:
        self._clear()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


_print_lock = threading.Lock()


def say(message: str, stream: TextIO | None = None) -> None:
    # Flushed: under nox stdout is a pipe, and each step should show as it finishes.
    with _print_lock:
        print(message, file=stream or sys.stdout, flush=True)
