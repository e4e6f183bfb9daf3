"""One group of repositories (`runner.grouping`) in one Renovate container, and an outcome for each of them.

The group gets one token that outlives all of its repositories' timeouts together (the freshness rule, as for one
repository), and Renovate's `repositories` list. Its output is split by the `repository` field of Renovate's records
into each repository's own log; records of no repository (Renovate's start and end) go to every log. A repository
that logged `Repository finished` keeps the outcome its own records give. One the container did not finish - it
crashed, hung, ran out of memory or out of time - runs again in a container of its own, so one repository's trouble
never decides another's outcome. Never raises, like `run_repository`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import structlog

from runner.config import RepoConfig
from runner.errors import EngineError
from runner.renovate.container import LABEL_REPOSITORY, RenovateContainer, Stream, WaitResult
from runner.renovate.container_spec import REPORT_FILE_NAME, container_spec
from runner.renovate.logs import LogSummary, Record, record_from_line
from runner.renovate.logsink import LogSink
from runner.renovate.outcome import build_outcome
from runner.repo_run import (
    CANCEL_GRACE_S,
    Grant,
    NoGrant,
    SweepState,
    engine_alive,
    grant_for,
    log_name_of,
    log_path,
    prepare_report_mount,
)
from runner.repo_run import run_repository as run_alone
from runner.report.model import RepoOutcome

log = structlog.get_logger()

Member = tuple[int, RepoConfig]  # the repository's index in the sweep, and the repository


def run_group(
    members: Sequence[Member], state: SweepState, *, on_start: Callable[[RepoConfig], None]
) -> dict[int, RepoOutcome]:
    """An outcome for every member, by index."""
    names = [repo.name for _, repo in members]
    with structlog.contextvars.bound_contextvars(group=", ".join(names)):
        if state.cancel.is_set() or state.engine_gone.is_set():
            return _each_alone(members, state, on_start)
        runner = state.context.runner
        timeout = sum((repo.effective_timeout(runner) for _, repo in members), timedelta())
        grant = grant_for(timeout, state)
        if isinstance(grant, NoGrant):  # no token lasts for all of them; each may still get one for itself
            log.warning("group_split", reason=grant.reason.value, detail=grant.detail)
            return _each_alone(members, state, on_start)
        for _, repo in members:
            on_start(repo)
        try:
            return _run_container(members, state, grant, on_start)
        except Exception:  # one group's surprise must never take the sweep down: its members run alone
            log.exception("group_crashed")
            return _each_alone(members, state, on_start)


def _each_alone(
    members: Sequence[Member], state: SweepState, on_start: Callable[[RepoConfig], None], why: str | None = None
) -> dict[int, RepoOutcome]:
    outcomes = {index: run_alone(repo, index, state, on_start=on_start) for index, repo in members}
    if why is None:
        return outcomes
    note = f"ran again in a container of its own: {why}"
    return {index: replace(outcome, notes=(note, *outcome.notes)) for index, outcome in outcomes.items()}


def _run_container(
    members: Sequence[Member], state: SweepState, grant: Grant, on_start: Callable[[RepoConfig], None]
) -> dict[int, RepoOutcome]:
    context = state.context
    first_index, first = members[0]
    report_mount = prepare_report_mount(context.report_dir, f"group-{first_index:04d}")
    base = container_spec(first, context, index=first_index, token=grant.token, report_mount=report_mount)
    names = [repo.name for _, repo in members]
    spec = replace(
        base,
        environment={**base.environment, "RENOVATE_REPOSITORIES": ",".join(names)},
        labels={**base.labels, LABEL_REPOSITORY: ",".join(names)},
    )
    router = OutputRouter({repo.name: log_path(context.report_dir, repo.name) for _, repo in members})
    started = time.monotonic()
    log.info("group_started", container=spec.name, timeout_s=int(grant.timeout.total_seconds()))
    try:
        with ExitStack() as stack:
            for sink in router.sinks.values():
                stack.enter_context(sink)
            container = stack.enter_context(RenovateContainer(state.client, spec))
            container.run_streaming(router)
            result = container.wait(
                grant.timeout.total_seconds(), state.cancel, grace_s=CANCEL_GRACE_S, hurry=state.hurry
            )
    except EngineError as error:
        if not engine_alive(state.client):
            state.engine_gone.set()
        return _each_alone(members, state, on_start, why=f"the group's container failed: {error}")
    elapsed = time.monotonic() - started
    outcomes: dict[int, RepoOutcome] = {}
    unfinished: list[Member] = []
    for index, repo in members:
        sink = router.sinks[repo.name]
        if sink.summary.finished is None and not result.cancelled:
            unfinished.append((index, repo))
            continue
        log_name = log_name_of(sink.path, context.report_dir)
        outcomes[index] = _member_outcome(
            repo, sink, result, report_mount, elapsed=elapsed, log_name=log_name, others=len(members) - 1
        )
    if unfinished:
        outcomes |= _each_alone(unfinished, state, on_start, why=_why_unfinished(result))
    return outcomes


def _member_outcome(
    repo: RepoConfig,
    sink: LogSink,
    result: WaitResult,
    report_mount: Path,
    *,
    elapsed: float,
    log_name: str,
    others: int,
) -> RepoOutcome:
    """A member's outcome from its own records. Renovate's exit code is the group's (1 when any repository logged an
    error), so a member that finished without an error of its own counts as having exited 0; one that had not
    finished when the sweep was interrupted is cancelled."""
    summary, finished = sink.summary, sink.summary.finished
    own_exit = result.exit_code if finished is None or summary.first_error is not None else 0
    duration_s = finished.duration_ms / 1000 if finished is not None and finished.duration_ms is not None else elapsed
    outcome = build_outcome(
        repo.name,
        exit_code=own_exit,
        oom_killed=False,
        timed_out=False,
        cancelled=finished is None,
        report_file=report_mount / REPORT_FILE_NAME,
        summary=summary,
        duration_s=duration_s,
        log=log_name,
        notes=[
            f"ran in one Renovate container with {others} other repositories (repositories_per_container)",
            *sink.notes,
        ],
    )
    log.info("repository_finished_in_group", repo=repo.name, status=outcome.status.value)
    return outcome


def _why_unfinished(result: WaitResult) -> str:
    if result.timed_out:
        return "its group's container ran out of time before Renovate finished this repository"
    if result.oom_killed:
        return "its group's container ran out of memory before Renovate finished this repository"
    return f"its group's container exited with code {result.exit_code} before Renovate finished this repository"


class OutputRouter:
    """Hands each line of the group's output to the log of the repository it is about."""

    def __init__(self, logs: Mapping[str, Path]) -> None:
        self.sinks = {name: LogSink(path, LogSummary()) for name, path in logs.items()}
        self._current: LogSink | None = None  # the repository Renovate works on: a tool's output names none

    def on_lines(self, stream: Stream, block: bytes) -> None:
        for line in block.split(b"\n"):
            for sink in self._targets(record_from_line(line)):
                sink.on_lines(stream, line)

    def on_piece(self, stream: Stream, piece: bytes, ends_line: bool) -> None:
        for sink in self._targets(None):
            sink.on_piece(stream, piece, ends_line)

    def _targets(self, record: Record | None) -> Iterable[LogSink]:
        if record is None:  # a tool's output, or a piece of an over-long line
            return (self._current,) if self._current is not None else self.sinks.values()
        repository = record.get("repository")
        if isinstance(repository, str) and repository in self.sinks:
            self._current = self.sinks[repository]
            return (self._current,)
        return self.sinks.values()  # Renovate's own start and end, which belong to every repository's log
