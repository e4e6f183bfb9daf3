"""`renovate-runner history` output: the recorded runs and each repository's trend, as a table, JSON or CSV.

The table is for people (runs, then per repository libyears and outdated from first to last with a sparkline,
durations and failure streaks); JSON holds the same with every point; CSV is one row per repository per run,
for a spreadsheet.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import statistics
from collections.abc import Callable
from typing import Final, TextIO

from rich.console import Console
from rich.table import Table

from runner.durations import format_seconds
from runner.report.fleet import RepoPoint, Trends, signed, sparkline

FORMATS: Final = ("table", "json", "csv")
CSV_FIELDS: Final = (
    "run_id",
    "started_at",
    "repository",
    "status",
    "libyears",
    "outdated",
    "dependencies",
    "duration_s",
)


def render(trends: Trends, form: str, out: TextIO) -> None:
    writers: dict[str, Callable[[Trends, TextIO], None]] = {"table": _table, "json": _json, "csv": _csv}
    writers[form](trends, out)


def _json(trends: Trends, out: TextIO) -> None:
    document = {
        "runs": [dataclasses.asdict(run) for run in trends.runs],
        "repositories": [
            {
                "repository": name,
                "failure_streak": trends.failure_streak(name),
                "failing": trends.failure_streak(name) >= trends.failing_after,
                "points": [dataclasses.asdict(point) for point in points],
            }
            for name, points in trends.repositories.items()
        ],
    }
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _csv(trends: Trends, out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for name, points in trends.repositories.items():
        for point in points:
            row = {field: getattr(point, field, None) for field in CSV_FIELDS}
            writer.writerow({**row, "repository": name, "status": point.status.value})


def _table(trends: Trends, out: TextIO) -> None:
    console = Console(file=out, width=160, no_color=True, highlight=False)
    runs = Table(title="Runs", title_justify="left")
    for column in ("run", "started", "repositories", "failed", "libyears", "outdated", "duration"):
        runs.add_column(column, justify="right" if column not in ("run", "started") else "left")
    for run in trends.runs:
        runs.add_row(
            run.run_id,
            run.started_at,
            str(run.repositories),
            str(run.failed),
            f"{run.libyears:.2f}",
            f"{run.outdated} of {run.dependencies}",
            format_seconds(run.duration_s),
        )
    console.print(runs)
    repositories = Table(title="Repositories", title_justify="left")
    for column in ("repository", "runs", "libyears", "trend", "outdated", "duration (last, median)", "failures"):
        repositories.add_column(column)
    for name, points in trends.repositories.items():
        streak = trends.failure_streak(name)
        repositories.add_row(
            name,
            str(len(points)),
            _change(points, lambda point: point.libyears, digits=2),
            sparkline([point.libyears for point in points]),
            _change(points, lambda point: point.outdated),
            _durations(points),
            f"failed in the last {streak} runs" if streak else "-",
        )
    console.print(repositories)


def _change(points: tuple[RepoPoint, ...], value: Callable[[RepoPoint], float | None], *, digits: int = 0) -> str:
    known = [number for number in map(value, points) if number is not None]
    if not known:
        return "-"
    first, last = known[0], known[-1]
    shown = f"{last:.{digits}f}"
    return shown if len(known) == 1 else f"{first:.{digits}f} -> {shown} ({signed(last - first, digits=digits)})"


def _durations(points: tuple[RepoPoint, ...]) -> str:
    durations = [point.duration_s for point in points]
    return f"{format_seconds(durations[-1])}, {format_seconds(statistics.median(durations))}" if durations else "-"
