"""The fleet's dependency health: one run's totals over its repositories, and how they moved over earlier runs.

`Trends` is what the history store hands the report writers (summary.md, report.html): the recorded runs and each
repository's points, oldest first. The writers never query the store themselves, so a report can be rendered
from any history, including none (a sweep run with the history turned off, or the first one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from runner.report.model import RepoOutcome, RunReport, Status

# A run counts against a repository's streak when it ended in one of these; cancelled and skipped runs say
# nothing about the repository, so they neither extend nor break a streak.
FAILURES = frozenset({Status.FAILED, Status.TIMED_OUT, Status.CRASHED})
_NEUTRAL = frozenset({Status.CANCELLED, Status.SKIPPED})
_SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, kw_only=True)
class FleetTotals:
    """Sums over the repositories whose health is known."""

    repositories: int  # with a known libyears figure
    libyears: float
    outdated: int
    dependencies: int
    open_prs: int
    skipped_by_reason: dict[str, int]

    @classmethod
    def of(cls, outcomes: Iterable[RepoOutcome]) -> FleetTotals:
        outcomes = list(outcomes)
        healths = [outcome.health for outcome in outcomes if outcome.health is not None]
        skipped: Counter[str] = Counter()
        for health in healths:
            skipped.update(health.skipped_by_reason)
        return cls(
            repositories=sum(health.libyears is not None for health in healths),
            libyears=round(sum(health.libyears or 0.0 for health in healths), 2),
            outdated=sum(health.outdated or 0 for health in healths),
            dependencies=sum(health.dependencies or 0 for health in healths),
            open_prs=sum(len(outcome.prs) for outcome in outcomes),
            skipped_by_reason=dict(sorted(skipped.items())),
        )


@dataclass(frozen=True, kw_only=True)
class RepoPoint:
    """One repository in one recorded run."""

    run_id: str
    started_at: str
    status: Status
    libyears: float | None
    outdated: int | None
    dependencies: int | None
    duration_s: float


@dataclass(frozen=True, kw_only=True)
class RunPoint:
    """One recorded run, summed over its repositories."""

    run_id: str
    started_at: str
    repositories: int
    failed: int
    libyears: float
    outdated: int
    dependencies: int
    duration_s: float  # the sweep's wall-clock time

    @classmethod
    def of(cls, *, run_id: str, started_at: str, duration_s: float, points: Sequence[RepoPoint]) -> RunPoint:
        return cls(
            run_id=run_id,
            started_at=started_at,
            repositories=len(points),
            failed=sum(point.status in FAILURES for point in points),
            libyears=round(sum(point.libyears or 0.0 for point in points), 2),
            outdated=sum(point.outdated or 0 for point in points),
            dependencies=sum(point.dependencies or 0 for point in points),
            duration_s=round(duration_s, 3),
        )


@dataclass(frozen=True, kw_only=True)
class Trends:
    """The recorded runs, oldest first (the current one last, once recorded), and each repository's points."""

    runs: tuple[RunPoint, ...] = ()
    repositories: Mapping[str, tuple[RepoPoint, ...]] = field(default_factory=dict)
    failing_after: int = 3  # a repository failed in each of its last this many runs is flagged

    @classmethod
    def of_report(cls, report: RunReport, *, failing_after: int = 3) -> Trends:
        """A history of one run, `report`'s: what a report without a history store shows."""
        points = {
            outcome.repository: (
                RepoPoint(
                    run_id=report.run_id,
                    started_at=report.started_at,
                    status=outcome.status,
                    libyears=outcome.health.libyears if outcome.health else None,
                    outdated=outcome.health.outdated if outcome.health else None,
                    dependencies=outcome.health.dependencies if outcome.health else None,
                    duration_s=outcome.duration_s,
                ),
            )
            for outcome in report.repositories
        }
        started, finished = (datetime.fromisoformat(time) for time in (report.started_at, report.finished_at))
        run = RunPoint.of(
            run_id=report.run_id,
            started_at=report.started_at,
            duration_s=max(0.0, (finished - started).total_seconds()),
            points=[found for (found,) in points.values()],
        )
        return cls(runs=(run,), repositories=points, failing_after=failing_after)

    def previous_run(self, run_id: str) -> RunPoint | None:
        """The last recorded run before `run_id` (or the last one, when `run_id` is not recorded)."""
        earlier = [run for run in self.runs if run.run_id != run_id]
        return earlier[-1] if earlier else None

    def points(self, repository: str) -> tuple[RepoPoint, ...]:
        return self.repositories.get(repository, ())

    def failure_streak(self, repository: str) -> int:
        """How many of the repository's latest runs failed in a row (cancelled and skipped runs left out)."""
        streak = 0
        for point in reversed(self.points(repository)):
            if point.status in _NEUTRAL:
                continue
            if point.status not in FAILURES:
                break
            streak += 1
        return streak

    def failing(self) -> dict[str, int]:
        """Repositories whose streak reached `failing_after`, with their streak, longest first."""
        streaks = {name: self.failure_streak(name) for name in self.repositories}
        flagged = {name: streak for name, streak in streaks.items() if streak >= self.failing_after}
        return dict(sorted(flagged.items(), key=lambda item: (-item[1], item[0])))


def age_days(opened_at: str | None, now: str) -> int | None:
    """Whole days from `opened_at` to `now` (ISO 8601 times); None when `opened_at` is unknown."""
    if opened_at is None:
        return None
    return max(0, (datetime.fromisoformat(now) - datetime.fromisoformat(opened_at)).days)


def oldest_pr_days(outcomes: Iterable[RepoOutcome], now: str) -> int | None:
    """The age in days of the oldest open pull request whose opening is known."""
    ages = [age for outcome in outcomes for pr in outcome.prs if (age := age_days(pr.opened_at, now)) is not None]
    return max(ages, default=None)


def sparkline(values: Sequence[float | None]) -> str:
    """A Unicode sparkline, one block per value, scaled from the lowest to the highest; a gap for unknowns."""
    known = [value for value in values if value is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    blocks = []
    for value in values:
        if value is None:
            blocks.append(" ")
        else:
            level = 0 if span == 0 else round((value - low) / span * (len(_SPARKS) - 1))
            blocks.append(_SPARKS[level])
    return "".join(blocks)


def signed(value: float, *, digits: int = 0) -> str:
    """A change as people read it: `+1.5`, `-2`, `±0`."""
    rounded = round(value, digits)
    if rounded == 0:
        return "±0"
    number = f"{abs(rounded):.{digits}f}"
    return f"+{number}" if rounded > 0 else f"-{number}"
