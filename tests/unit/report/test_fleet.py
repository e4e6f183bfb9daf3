"""Fleet totals, trends over recorded runs, failure streaks and sparklines."""

from __future__ import annotations

import pytest

from runner.report.fleet import FleetTotals, RepoPoint, RunPoint, Trends, signed, sparkline
from runner.report.model import RunReport, Status


def point(run: int, status: Status, libyears: float | None = 1.0) -> RepoPoint:
    return RepoPoint(
        run_id=f"run-{run}",
        started_at=f"2025-11-{run:02d}T00:00:00+00:00",
        status=status,
        libyears=libyears,
        outdated=2,
        dependencies=5,
        duration_s=10.0,
    )


def test_totals_sum_the_repositories_with_known_health(report: RunReport) -> None:
    totals = FleetTotals.of(report.repositories)

    assert totals.repositories == 1
    assert totals.libyears == 3.5
    assert (totals.outdated, totals.dependencies) == (3, 10)
    assert totals.open_prs == 2
    assert totals.skipped_by_reason == {"github-token-required": 2}


def test_a_run_point_counts_failures_but_not_cancellations() -> None:
    points = [point(1, Status.FAILED), point(1, Status.CANCELLED), point(1, Status.SUCCEEDED, None)]

    run = RunPoint.of(run_id="run-1", started_at="2025-11-01T00:00:00+00:00", duration_s=60, points=points)

    assert (run.repositories, run.failed, run.libyears, run.outdated) == (3, 1, 2.0, 6)


@pytest.mark.parametrize(
    ("statuses", "streak"),
    [
        ([Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CRASHED], 3),
        ([Status.FAILED, Status.SUCCEEDED], 0),
        ([Status.FAILED, Status.CANCELLED, Status.FAILED, Status.SKIPPED], 2),
        ([], 0),
    ],
)
def test_a_failure_streak_counts_the_latest_failures_in_a_row(statuses: list[Status], streak: int) -> None:
    trends = Trends(repositories={"P/r": tuple(point(n + 1, status) for n, status in enumerate(statuses))})

    assert trends.failure_streak("P/r") == streak


def test_only_repositories_at_the_threshold_are_failing() -> None:
    failed = tuple(point(n, Status.FAILED) for n in range(1, 4))
    trends = Trends(repositories={"P/bad": failed, "P/meh": failed[:2], "P/ok": (point(1, Status.SUCCEEDED),)})

    assert trends.failing() == {"P/bad": 3}
    assert Trends(repositories=trends.repositories, failing_after=2).failing() == {"P/bad": 3, "P/meh": 2}


def test_the_previous_run_is_the_last_other_one() -> None:
    runs = tuple(
        RunPoint.of(run_id=f"run-{n}", started_at=f"2025-11-0{n}", duration_s=1, points=[]) for n in range(1, 4)
    )
    trends = Trends(runs=runs)

    assert trends.previous_run("run-3") == runs[1]
    assert trends.previous_run("run-9") == runs[2]
    assert Trends().previous_run("run-1") is None


def test_a_sparkline_scales_from_lowest_to_highest() -> None:
    assert sparkline([1.0, 2.0, 3.0, None, 8.0]) == "▁▂▃ █"
    assert sparkline([2.0, 2.0]) == "▁▁"
    assert sparkline([None]) == ""


def test_changes_carry_their_sign() -> None:
    assert signed(1.234, digits=2) == "+1.23"
    assert signed(-2) == "-2"
    assert signed(0.001, digits=2) == "±0"
