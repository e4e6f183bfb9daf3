"""Recording sweeps in the history store and reading them back as trends, durations and pull request ages.

A sweep is recorded in one transaction: the history holds all of it or, when anything fails (or the process dies)
before the commit, none of it. Runs are keyed by run id and each repository's row by (run id, repository), and a
recording replaces the rows it brings: the shard jobs of one run and the merged report recorded after them
converge on one run, recorded once, whatever the order; recording the same report again changes nothing.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from runner.errors import HistoryError
from runner.history.database import migrate, open_engine, transaction
from runner.history.schema import pull_requests, repo_runs, runs
from runner.report.fleet import RepoPoint, RunPoint, Trends
from runner.report.model import RepoOutcome, RunReport, Status
from runner.secrets import redact, register_secret

# Statuses whose duration says how long the repository takes: a cancelled or skipped run says nothing.
_TIMED = (Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CRASHED)
DEFAULT_RUNS = 30  # runs read for trends
_T = TypeVar("_T")


def utc(text: str) -> str:
    """An ISO 8601 time as the store keeps it: in UTC, so that times sort as text."""
    time = datetime.fromisoformat(text)
    return (time if time.tzinfo else time.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Recorded:
    run_id: str
    repositories: int


class HistoryStore:
    """One history database; a context manager that releases its connections."""

    def __init__(self, url: str) -> None:
        # libpq reads the password from PGPASSWORD; should a database error ever quote it, it is redacted.
        if password := os.environ.get("PGPASSWORD"):
            register_secret(password)
        self.url = url
        self._engine = open_engine(url)
        try:
            self._guard("open", lambda: migrate(self._engine))
        except HistoryError:
            self._engine.dispose()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._engine.dispose()

    def record(self, report: RunReport) -> Recorded:
        """Record `report` (a whole sweep, one shard of it, or the merged report) in one transaction."""

        def write() -> Recorded:
            with transaction(self._engine) as connection:
                _upsert_run(connection, report)
                names = [outcome.repository for outcome in report.repositories]
                for chunk in _chunks(names):
                    # The rows this recording replaces; their pull requests go with them (ON DELETE CASCADE).
                    where = sa.and_(repo_runs.c.run_id == report.run_id, repo_runs.c.repository.in_(chunk))
                    connection.execute(sa.delete(repo_runs).where(where))
                rows = [_repo_row(report.run_id, outcome) for outcome in report.repositories]
                if rows:
                    connection.execute(sa.insert(repo_runs), rows)
                prs = [pr for outcome in report.repositories for pr in _pr_rows(report.run_id, outcome)]
                if prs:
                    connection.execute(sa.insert(pull_requests), prs)
            return Recorded(run_id=report.run_id, repositories=len(rows))

        return self._guard("write to", write)

    def trends(
        self,
        *,
        last: int = DEFAULT_RUNS,
        since: str | None = None,
        repositories: Sequence[str] = (),
        failing_after: int = 3,
    ) -> Trends:
        """The last `last` runs (from `since` on, when given), oldest first, and each repository's points in them."""

        def read() -> Trends:
            with self._engine.connect() as connection:
                query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(last)
                if since is not None:
                    query = query.where(runs.c.started_at >= utc(since))
                recorded = list(reversed(connection.execute(query).mappings().all()))
                points = _points(connection, [run["run_id"] for run in recorded], repositories)
            by_run: dict[str, list[RepoPoint]] = defaultdict(list)
            by_repository: dict[str, list[RepoPoint]] = defaultdict(list)
            for entry in points:
                by_run[entry.run_id].append(entry.point)
                by_repository[entry.repository].append(entry.point)
            return Trends(
                runs=tuple(
                    RunPoint.of(
                        run_id=run["run_id"],
                        started_at=run["started_at"],
                        duration_s=_seconds_between(run["started_at"], run["finished_at"]),
                        points=by_run[run["run_id"]],
                    )
                    for run in recorded
                ),
                repositories={name: tuple(found) for name, found in sorted(by_repository.items())},
                failing_after=failing_after,
            )

        return self._guard("read", read)

    def last_durations(self, repositories: Iterable[str], *, within: int = DEFAULT_RUNS) -> dict[str, float]:
        """Each repository's duration in its latest run that ran it, among the last `within` runs; repositories
        not run in those are left out (they count as new)."""
        wanted = set(repositories)

        def read() -> dict[str, float]:
            recent = sa.select(runs.c.run_id).order_by(runs.c.started_at.desc()).limit(within).subquery()
            query = (
                sa.select(repo_runs.c.repository, repo_runs.c.duration_s)
                .join(runs, runs.c.run_id == repo_runs.c.run_id)
                .where(repo_runs.c.run_id.in_(sa.select(recent.c.run_id)))
                .where(repo_runs.c.status.in_([status.value for status in _TIMED]))
                .order_by(runs.c.started_at, runs.c.run_id)
            )
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
            return {name: float(duration) for name, duration in rows if name in wanted}

        return self._guard("read", read)

    def first_seen(self, repositories: Iterable[str]) -> dict[tuple[str, int], str]:
        """(repository, pull request number) -> when the history first saw it open (its `opened_at`, else the run)."""
        wanted = set(repositories)

        def read() -> dict[tuple[str, int], str]:
            seen = sa.func.min(sa.func.coalesce(pull_requests.c.opened_at, runs.c.started_at))
            query = (
                sa.select(pull_requests.c.repository, pull_requests.c.number, seen)
                .join(runs, runs.c.run_id == pull_requests.c.run_id)
                .group_by(pull_requests.c.repository, pull_requests.c.number)
            )
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
            return {(name, int(number)): str(at) for name, number, at in rows if name in wanted}

        return self._guard("read", read)

    def _guard(self, action: str, work: Callable[[], _T]) -> _T:
        try:
            return work()
        except SQLAlchemyError as error:
            raise store_error(action, error) from None


def _chunks(names: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    # SQLite allows a bounded number of bound parameters in one statement.
    for start in range(0, len(names), size):
        yield names[start : start + size]


def _upsert_run(connection: sa.Connection, report: RunReport) -> None:
    row = {
        "run_id": report.run_id,
        "started_at": utc(report.started_at),
        "finished_at": utc(report.finished_at),
        "runner_version": report.runner_version,
        "dry_run": report.dry_run,
        "interrupted": report.interrupted,
        "recorded_at": datetime.now(UTC).isoformat(),
    }
    known = connection.execute(sa.select(runs).where(runs.c.run_id == report.run_id)).mappings().first()
    if known is None:
        connection.execute(sa.insert(runs).values(row))
        return
    # Another part of the same run (a shard, or the merged report) was recorded first: the run spans both.
    row["started_at"] = min(row["started_at"], known["started_at"])
    row["finished_at"] = max(row["finished_at"], known["finished_at"])
    row["interrupted"] = row["interrupted"] or known["interrupted"]
    connection.execute(sa.update(runs).where(runs.c.run_id == report.run_id).values(row))


def _repo_row(run_id: str, outcome: RepoOutcome) -> dict[str, Any]:
    health = outcome.health
    return {
        "run_id": run_id,
        "repository": outcome.repository,
        "status": outcome.status.value,
        "reason": outcome.reason.value if outcome.reason else None,
        "duration_s": outcome.duration_s,
        "updates": len(outcome.updates),
        "libyears": health.libyears if health else None,
        "outdated": health.outdated if health else None,
        "dependencies": health.dependencies if health else None,
        "health": {
            "libyears_by_manager": health.libyears_by_manager,
            "outdated_by_type": health.outdated_by_type,
            "skipped_by_reason": health.skipped_by_reason,
        }
        if health
        else None,
    }


def _pr_rows(run_id: str, outcome: RepoOutcome) -> Iterable[dict[str, Any]]:
    numbered = {pr.number: pr for pr in outcome.prs if pr.number is not None}
    for number, pr in numbered.items():
        yield {
            "run_id": run_id,
            "repository": outcome.repository,
            "number": number,
            "title": pr.title,
            "opened_at": utc(pr.opened_at) if pr.opened_at else None,
        }


@dataclass(frozen=True)
class _Located:
    run_id: str
    repository: str
    point: RepoPoint


def _points(connection: sa.Connection, run_ids: Sequence[str], repositories: Sequence[str]) -> list[_Located]:
    located: list[_Located] = []
    for chunk in _chunks(run_ids):
        query = (
            sa.select(repo_runs, runs.c.started_at)
            .join(runs, runs.c.run_id == repo_runs.c.run_id)
            .where(repo_runs.c.run_id.in_(chunk))
            .order_by(runs.c.started_at, runs.c.run_id, repo_runs.c.repository)
        )
        if repositories:
            query = query.where(repo_runs.c.repository.in_(repositories))
        for row in connection.execute(query).mappings():
            point = RepoPoint(
                run_id=row["run_id"],
                started_at=row["started_at"],
                status=Status(row["status"]),
                libyears=row["libyears"],
                outdated=row["outdated"],
                dependencies=row["dependencies"],
                duration_s=row["duration_s"],
            )
            located.append(_Located(run_id=row["run_id"], repository=row["repository"], point=point))
    return sorted(located, key=lambda entry: (entry.point.started_at, entry.run_id, entry.repository))


def _seconds_between(start: str, end: str) -> float:
    return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def store_error(action: str, error: SQLAlchemyError) -> HistoryError:
    """A database error as a message for people; the URL's credentials never appear (the URL has none)."""
    reason = redact(str(getattr(error, "orig", None) or error).strip().splitlines()[0])
    return HistoryError(
        f"could not {action} the history store: {reason}. What to do: check history.path or history.url in "
        "runner.yaml (or --history), and that the database is reachable"
    )


__all__ = ["DEFAULT_RUNS", "HistoryStore", "Recorded", "store_error", "utc"]
