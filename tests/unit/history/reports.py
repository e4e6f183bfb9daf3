"""Run reports for the history tests: a sweep of a few repositories with health, built from plain numbers."""

from __future__ import annotations

from collections.abc import Sequence

from runner.report.model import Health, PullRequest, RepoOutcome, RunReport, Status


def outcome(
    name: str,
    *,
    status: Status = Status.SUCCEEDED,
    libyears: float | None = 1.0,
    duration_s: float = 10.0,
    prs: Sequence[PullRequest] = (),
) -> RepoOutcome:
    health = Health(
        libyears=libyears,
        libyears_by_manager={"npm": libyears} if libyears is not None else {},
        outdated=int(libyears * 2) if libyears is not None else None,
        dependencies=20,
        outdated_by_type={"minor": 1},
        skipped_by_reason={"github-token-required": 1},
    )
    return RepoOutcome(repository=name, status=status, duration_s=duration_s, health=health, prs=tuple(prs))


def sweep(run: int, outcomes: Sequence[RepoOutcome], *, shard: str | None = None) -> RunReport:
    return RunReport(
        run_id=f"run-{run}",
        runner_version="0.1.0",
        started_at=f"2025-11-{run:02d}T09:00:00+00:00",
        finished_at=f"2025-11-{run:02d}T09:10:00+00:00",
        dry_run=False,
        repositories=tuple(outcomes),
        shard=shard,
    )
