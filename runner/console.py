"""What a person watches: a progress display on a terminal, groups and issues in Azure Pipelines, a final table."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from runner import pipelines
from runner.config import RepoConfig
from runner.history.recording import RecordedSweep
from runner.report.model import RepoOutcome, RunReport, Status
from runner.report.write import MARKDOWN_NAME
from runner.sweep import SweepObserver

_STATUS_STYLE = {
    Status.SUCCEEDED: "green",
    Status.SKIPPED: "dim",
    Status.CANCELLED: "yellow",
    Status.TIMED_OUT: "red",
    Status.FAILED: "red",
    Status.CRASHED: "red",
}
MAX_ISSUES_PER_REPOSITORY = 10  # the log file has them all; the pipeline's issue list stays readable
_RUNNING_SHOWN = 3  # names of running repositories in the progress line; more become "..."


def outcome_line(outcome: RepoOutcome) -> str:
    parts = [f"{outcome.repository}: {outcome.status.value}"]
    if outcome.reason is not None:
        parts.append(f"({outcome.reason.value})")
    parts.append(f"in {outcome.duration_s:.1f}s")
    if outcome.updates:
        by_type = ", ".join(f"{count} {kind}" for kind, count in outcome.updates_by_type.items())
        parts.append(f"- {len(outcome.updates)} update(s): {by_type}")
    if outcome.prs:
        parts.append(f"- {len(outcome.prs)} PR(s)")
    return " ".join(parts)


class ProgressObserver(SweepObserver):
    """A live progress bar with the running repositories, and one line per finished repository."""

    def __init__(self, total: int, console: Console) -> None:
        self._console = console
        self._running: list[str] = []
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]repositories"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("", total=total)

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def started(self, repo: RepoConfig) -> None:
        self._running.append(repo.name)
        self._describe()

    def finished(self, outcome: RepoOutcome) -> None:
        if outcome.repository in self._running:
            self._running.remove(outcome.repository)
        style = _STATUS_STYLE[outcome.status]
        self._progress.console.print(f"[{style}]{outcome_line(outcome)}[/]", highlight=False)
        self._progress.advance(self._task)
        self._describe()

    def _describe(self) -> None:
        shown = ", ".join(self._running[:_RUNNING_SHOWN]) + (" ..." if len(self._running) > _RUNNING_SHOWN else "")
        self._progress.update(self._task, description=f"running: {shown}" if shown else "")


class PipelineObserver(SweepObserver):
    """Azure Pipelines: a collapsible group per repository, written whole when it finishes (runs overlap)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def finished(self, outcome: RepoOutcome) -> None:
        lines = [pipelines.group(outcome_line(outcome))]
        if outcome.detail:
            lines.append(outcome.detail)
        lines += [f"  {u.dependency} {u.current_version} -> {u.new_version} ({u.update_type})" for u in outcome.updates]
        lines += [f"  PR #{pr.number} {pr.title} ({pr.action})" for pr in outcome.prs]
        lines += [f"  note: {note}" for note in outcome.notes]
        if outcome.log:
            lines.append(f"  log: {outcome.log}")
        lines.append(pipelines.endgroup())
        for problem in outcome.problems[:MAX_ISSUES_PER_REPOSITORY]:
            lines.append(pipelines.logissue(problem.level, f"{outcome.repository}: {problem.message}"))
        if not outcome.status.ok and outcome.status is not Status.CANCELLED:
            lines.append(pipelines.logissue("error", f"{outcome.repository}: {outcome.detail or outcome.status}"))
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()


class PlainObserver(SweepObserver):
    """Neither a terminal nor a pipeline (a file, cron): one line per finished repository."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def finished(self, outcome: RepoOutcome) -> None:
        self._out.write(outcome_line(outcome) + "\n")
        self._out.flush()


def summary_table(report: RunReport) -> Table:
    table = Table(title=f"renovate-runner {report.run_id}", title_justify="left")
    for column in ("repository", "status", "updates", "PRs", "duration", "log"):
        table.add_column(column, overflow="fold")
    for outcome in report.repositories:
        status = outcome.status.value + (f" ({outcome.reason.value})" if outcome.reason else "")
        updates = ", ".join(f"{n} {kind}" for kind, n in outcome.updates_by_type.items()) or "-"
        table.add_row(
            outcome.repository,
            f"[{_STATUS_STYLE[outcome.status]}]{status}[/]",
            updates,
            str(len(outcome.prs)) if outcome.prs else "-",
            f"{outcome.duration_s:.1f}s",
            outcome.log or "-",
        )
    return table


def uploads_summary(report: RunReport, environ: Mapping[str, str], *, upload: bool = True) -> bool:
    """Whether this job attaches `summary.md` to the pipeline run's summary page: one job per run does.

    A shard never does (its summary would repeat on the run page; the merged one is uploaded), and a run told
    `upload=False` (`run --no-upload-summary`) leaves it to the job that merges, as templates/sweep.yml's report
    job does also when there is a single shard.
    """
    return pipelines.in_pipeline(environ) and upload and report.shard is None


def history_warnings(history: RecordedSweep | None) -> list[str]:
    """What the history says needs attention: repositories failing run after run, or a store that failed."""
    if history is None:
        return []
    warnings = [f"history store not used: {history.problem}"] if history.problem else []
    if history.trends is not None:
        warnings += [
            f"{repository} failed in each of its last {streak} runs; look at its log and fix the cause"
            for repository, streak in history.trends.failing().items()
        ]
    return warnings


def print_summary(
    report: RunReport,
    report_dir: Path,
    out: TextIO,
    environ: Mapping[str, str],
    *,
    upload: bool = True,
    history: RecordedSweep | None = None,
) -> None:
    """The end of a sweep: a table on a terminal, plain lines elsewhere, pipeline commands in Azure Pipelines."""
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
    warnings = history_warnings(history)
    if not pipelines.in_pipeline(environ):
        out.writelines(f"warning: {warning}\n" for warning in warnings)
    elif uploads_summary(report, environ, upload=upload):
        # Warned once per pipeline run, by the job whose summary the run shows (the merge, when there is one).
        out.writelines(pipelines.logissue("warning", warning) + "\n" for warning in warnings)
    if pipelines.in_pipeline(environ):
        if uploads_summary(report, environ, upload=upload):
            out.write(pipelines.uploadsummary(str((report_dir / MARKDOWN_NAME).resolve())) + "\n")
        if not report.ok and not report.interrupted:
            out.write(pipelines.complete("SucceededWithIssues", f"repositories: {counts}") + "\n")
    if out.isatty():
        Console(file=out).print(summary_table(report))
    out.write(f"repositories: {counts}; report: {report_dir}\n")
    out.flush()


def observer_for(repos: Sequence[RepoConfig], out: TextIO, environ: Mapping[str, str]) -> SweepObserver:
    if pipelines.in_pipeline(environ):
        return PipelineObserver(out)
    if out.isatty():
        return ProgressObserver(len(repos), Console(file=sys.stderr))
    return PlainObserver(out)
