"""The sweep: every selected repository through `run_repository` (or, opted in, a group of them through
`run_group`), at most `concurrency` containers at once.

Repositories start longest previous duration first (`runner.scheduling`, from the history store), else in their
stable order, and run in isolation: one failing, crashing or timing out never affects another. SIGINT/SIGTERM set a
cancel flag: running containers are stopped (SIGTERM, SIGKILL after a grace period) and removed, repositories that
had not finished are reported `cancelled`, the report is still written, and the caller exits 130/143 (by the first
signal). A second signal kills the containers still stopping at once: the Azure Pipelines agent cancels with SIGINT,
SIGTERM 7.5 s later and SIGKILL 2.5 s after that, and the report must be written before the SIGKILL.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Self

import structlog

from runner import __version__
from runner.capacity import ConcurrencyDecision
from runner.config import RepoConfig
from runner.group_run import run_group
from runner.grouping import Unit, plan_units
from runner.repo_run import SweepState, run_repository
from runner.report.model import RepoOutcome, RunReport
from runner.scheduling import longest_first

log = structlog.get_logger()


class SweepObserver:
    """Hooks for what people watch while a sweep runs (progress, pipeline groups); the default does nothing.

    A context manager, so a display that must be started and stopped (the progress bar) is used like any other.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        """The sweep is over (or failed); stop what `__enter__` started."""

    def started(self, repo: RepoConfig) -> None:
        """A repository is about to run."""

    def finished(self, outcome: RepoOutcome) -> None:
        """A repository has an outcome (also for skipped and cancelled ones)."""


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    report: RunReport
    signal_number: int | None  # set when the sweep was interrupted
    engine_gone: bool


def run_sweep(
    repos: Sequence[RepoConfig],
    state: SweepState,
    *,
    concurrency: ConcurrencyDecision,
    observer: SweepObserver | None = None,
    shard: str | None = None,
    durations: Mapping[str, float] | None = None,
) -> SweepResult:
    """`durations`: each repository's previous duration (name -> seconds), to start the longest first."""
    watcher = observer or SweepObserver()
    started_at = datetime.now(UTC)
    outcomes: dict[int, RepoOutcome] = {}

    def finish(outcome: RepoOutcome) -> None:
        log.info(
            "repository_finished",
            repo=outcome.repository,
            status=outcome.status.value,
            reason=outcome.reason.value if outcome.reason else None,
            duration_s=round(outcome.duration_s, 1),
        )
        watcher.finished(outcome)

    def one(unit: Unit) -> dict[int, RepoOutcome]:
        if unit.grouped:
            results = run_group([(index, repos[index]) for index in unit.indices], state, on_start=watcher.started)
        else:
            (index,) = unit.indices
            results = {index: run_repository(repos[index], index, state, on_start=watcher.started)}
        warnings = state.context.preflight_warnings
        results = {
            index: outcome.with_warnings(warnings.get(outcome.repository, ())) for index, outcome in results.items()
        }
        for index in unit.indices:
            finish(results[index])
        return results

    planned = plan_units(repos, state.context.runner, preflight_problems=state.context.preflight_problems)
    units = longest_first(planned, repos, durations or {})
    with (
        _signals_set(state.cancel, state.hurry) as received,
        ThreadPoolExecutor(max_workers=concurrency.value, thread_name_prefix="repo") as pool,
    ):
        pending = {pool.submit(one, unit) for unit in units}
        # Wake up regularly so the signal handlers (main thread only) get to run promptly.
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes |= future.result()

    report = RunReport(
        run_id=state.context.run_id,
        runner_version=__version__,
        started_at=started_at.isoformat(),
        finished_at=datetime.now(UTC).isoformat(),
        dry_run=state.context.dry_run,
        repositories=tuple(outcomes[index] for index in range(len(repos))),
        shard=shard,
        interrupted=received[0] is not None,
        concurrency=concurrency.value,
        concurrency_basis=concurrency.basis,
        organization=state.context.runner.organization,
        warnings=state.context.warnings,
    )
    return SweepResult(report=report, signal_number=received[0], engine_gone=state.engine_gone.is_set())


@contextmanager
def _signals_set(cancel: threading.Event, hurry: threading.Event) -> Iterator[list[int | None]]:
    """While active, SIGINT and SIGTERM set `cancel` instead of raising, and a second one `hurry`; yields [the first
    signal received]."""
    received: list[int | None] = [None]

    def handle(signal_number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signal_number).name
        if received[0] is None:
            received[0] = signal_number
            log.warning("sweep_interrupted", signal=name)
            cancel.set()
        elif not hurry.is_set():
            log.warning("sweep_interrupted_again", signal=name, action="killing the running containers")
            hurry.set()

    if threading.current_thread() is not threading.main_thread():
        yield received  # signals can only be handled on the main thread (e.g. when embedded)
        return
    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
