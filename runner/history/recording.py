"""A finished sweep into the history store, and the trends its report is rendered with.

The history serves the report; it never fails a sweep. When the store cannot be reached, the report is written
without trends and the runner says why (a warning in the log, an issue in Azure Pipelines).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from runner.errors import HistoryError
from runner.history.location import describe
from runner.history.store import HistoryStore
from runner.report.fleet import Trends
from runner.report.model import PullRequest, RepoOutcome, RunReport

log = structlog.get_logger()


@dataclass(frozen=True, kw_only=True)
class RecordedSweep:
    report: RunReport  # with each pull request's opened_at
    trends: Trends | None  # None when the history is off or could not be used
    problem: str | None = None  # why the history could not be used


def record_sweep(report: RunReport, url: str | None, *, failing_after: int) -> RecordedSweep:
    if url is None:
        return RecordedSweep(report=report, trends=None)
    try:
        with HistoryStore(url) as store:
            aged = with_pr_ages(report, store.first_seen(outcome.repository for outcome in report.repositories))
            recorded = store.record(aged)
            trends = store.trends(failing_after=failing_after)
    except HistoryError as error:
        log.warning("history_not_recorded", store=describe(url), error=str(error))
        return RecordedSweep(report=report, trends=None, problem=str(error))
    log.info("history_recorded", store=describe(url), run_id=recorded.run_id, repositories=recorded.repositories)
    return RecordedSweep(report=aged, trends=trends)


def previous_durations(url: str | None, repositories: Sequence[str]) -> dict[str, float]:
    """Each repository's duration in its latest timed run, for scheduling; empty without a usable history."""
    if url is None:
        return {}
    try:
        with HistoryStore(url) as store:
            return store.last_durations(repositories)
    except HistoryError as error:
        log.warning("history_not_read", store=describe(url), error=str(error), effect="stable start order")
        return {}


def with_pr_ages(report: RunReport, first_seen: Mapping[tuple[str, int], str]) -> RunReport:
    """Each pull request's `opened_at`: as known, else when the history first saw it, else now if just created."""

    def aged(outcome: RepoOutcome, pr: PullRequest) -> PullRequest:
        if pr.opened_at is not None:
            return pr
        seen = first_seen.get((outcome.repository, pr.number)) if pr.number is not None else None
        opened = seen or (report.started_at if pr.action == "created" else None)
        return dataclasses.replace(pr, opened_at=opened)

    outcomes = tuple(
        dataclasses.replace(outcome, prs=tuple(aged(outcome, pr) for pr in outcome.prs))
        for outcome in report.repositories
    )
    return dataclasses.replace(report, repositories=outcomes)
