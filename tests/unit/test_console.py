"""What a person watches: outcome lines, the summary table, pipeline groups and issues, the end-of-run summary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from runner.console import (
    MAX_ISSUES_PER_REPOSITORY,
    PipelineObserver,
    PlainObserver,
    ProgressObserver,
    observer_for,
    outcome_line,
    print_summary,
    summary_table,
)
from runner.history.recording import RecordedSweep
from runner.report.fleet import RepoPoint, Trends
from runner.report.model import DependencyUpdate, Problem, PullRequest, Reason, RepoOutcome, RunReport, Status
from tests.unit.conftest import ConfigFactory

PIPELINE = {"TF_BUILD": "True"}


class Terminal(io.StringIO):
    """An output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def update(dependency: str, update_type: str) -> DependencyUpdate:
    return DependencyUpdate(
        dependency=dependency,
        manager="npm",
        package_file="package.json",
        current_version="1.0.0",
        new_version="2.0.0" if update_type == "major" else "1.1.0",
        update_type=update_type,
    )


def succeeded(repository: str = "Platform/api") -> RepoOutcome:
    return RepoOutcome(
        repository=repository,
        status=Status.SUCCEEDED,
        duration_s=12.34,
        updates=(update("left-pad", "minor"), update("express", "major"), update("lodash", "minor")),
        prs=(PullRequest(number=17, title="Update express to v2", branch="renovate/express-2.x", action="created"),),
        log="logs/Platform%2Fapi.ndjson",
    )


def failed(repository: str = "Web/portal", *, problems: tuple[Problem, ...] = ()) -> RepoOutcome:
    return RepoOutcome(
        repository=repository,
        status=Status.FAILED,
        reason=Reason.RENOVATE,
        detail="Renovate exited with code 1; see the log",
        exit_code=1,
        duration_s=4.0,
        problems=problems,
        log="logs/Web%2Fportal.ndjson",
    )


def skipped(repository: str = "Legacy/app") -> RepoOutcome:
    return RepoOutcome(repository=repository, status=Status.SKIPPED, reason=Reason.DISABLED)


def cancelled(repository: str = "Late/app") -> RepoOutcome:
    return RepoOutcome(
        repository=repository,
        status=Status.CANCELLED,
        reason=Reason.INTERRUPTED,
        detail="the sweep was interrupted before it ran",
    )


def report(*outcomes: RepoOutcome, interrupted: bool = False, shard: str | None = None) -> RunReport:
    return RunReport(
        shard=shard,
        run_id="run-42",
        runner_version="0.1.0",
        started_at="2025-03-01T12:00:00+00:00",
        finished_at="2025-03-01T12:05:00+00:00",
        dry_run=False,
        repositories=outcomes,
        interrupted=interrupted,
    )


# --- outcome_line ---


def test_outcome_line_of_a_success_counts_updates_by_type_and_prs() -> None:
    assert outcome_line(succeeded()) == ("Platform/api: succeeded in 12.3s - 3 update(s): 1 major, 2 minor - 1 PR(s)")


def test_outcome_line_of_a_failure_gives_the_reason() -> None:
    assert outcome_line(failed()) == "Web/portal: failed (renovate) in 4.0s"


def test_outcome_line_of_a_skipped_repository() -> None:
    assert outcome_line(skipped()) == "Legacy/app: skipped (disabled) in 0.0s"


# --- summary_table ---


def render(report: RunReport, width: int = 140) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(summary_table(report))
    return console.export_text()


def test_summary_table_has_a_row_per_repository() -> None:
    text = render(report(succeeded(), failed(), skipped()))

    assert "renovate-runner run-42" in text
    header = next(line for line in text.splitlines() if "repository" in line)
    for column in ("status", "updates", "PRs", "duration", "log"):
        assert column in header
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") == 7}
    assert set(rows) == {"Platform/api", "Web/portal", "Legacy/app"}
    assert cells(rows["Platform/api"]) == [
        "Platform/api",
        "succeeded",
        "1 major, 2 minor",
        "1",
        "12.3s",
        "logs/Platform%2Fapi.ndjson",
    ]
    assert cells(rows["Web/portal"]) == [
        "Web/portal",
        "failed (renovate)",
        "-",
        "-",
        "4.0s",
        "logs/Web%2Fportal.ndjson",
    ]
    assert cells(rows["Legacy/app"]) == ["Legacy/app", "skipped (disabled)", "-", "-", "0.0s", "-"]


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.split("│")[1:-1]]


def test_summary_table_folds_long_values_instead_of_cutting_them() -> None:
    long_name = "Platform/" + "a-very-long-repository-name" * 3

    text = render(report(succeeded(long_name)), width=60)

    assert long_name in "".join(line.split("│")[1].strip() for line in text.splitlines() if "│" in line)


# --- PipelineObserver ---


def pipeline_lines(outcome: RepoOutcome) -> list[str]:
    out = io.StringIO()
    PipelineObserver(out).finished(outcome)
    return out.getvalue().splitlines()


def test_pipeline_group_holds_the_outcome_and_its_details() -> None:
    lines = pipeline_lines(succeeded())

    assert lines[0] == f"##[group]{outcome_line(succeeded())}"
    assert "  express 1.0.0 -> 2.0.0 (major)" in lines
    assert "  PR #17 Update express to v2 (created)" in lines
    assert "  log: logs/Platform%2Fapi.ndjson" in lines
    assert lines[-1] == "##[endgroup]"
    assert not any(line.startswith("##vso[task.logissue") for line in lines)


def test_pipeline_issues_follow_the_group_one_per_problem() -> None:
    problems = (
        Problem(level="warning", message="Package lookup failures"),
        Problem(level="error", message="Config validation error"),
    )

    lines = pipeline_lines(failed(problems=problems))

    end = lines.index("##[endgroup]")
    assert lines[0].startswith("##[group]Web/portal: failed (renovate)")
    assert "Renovate exited with code 1; see the log" in lines[1:end]
    assert lines[end + 1 :] == [
        "##vso[task.logissue type=warning;]Web/portal: Package lookup failures",
        "##vso[task.logissue type=error;]Web/portal: Config validation error",
        "##vso[task.logissue type=error;]Web/portal: Renovate exited with code 1; see the log",
    ]


def test_pipeline_issues_are_bounded_per_repository() -> None:
    problems = tuple(Problem(level="warning", message=f"problem {n}") for n in range(MAX_ISSUES_PER_REPOSITORY + 5))

    lines = pipeline_lines(failed(problems=problems))

    warnings = [line for line in lines if line.startswith("##vso[task.logissue type=warning;]")]
    assert len(warnings) == MAX_ISSUES_PER_REPOSITORY
    assert warnings[0].endswith("problem 0")
    assert warnings[-1].endswith(f"problem {MAX_ISSUES_PER_REPOSITORY - 1}")
    # The repository's own failure is reported even when its problems fill the quota.
    assert lines[-1] == "##vso[task.logissue type=error;]Web/portal: Renovate exited with code 1; see the log"


def test_a_cancelled_repository_is_not_an_error_issue() -> None:
    lines = pipeline_lines(cancelled())

    assert lines[0] == "##[group]Late/app: cancelled (interrupted) in 0.0s"
    assert not any(line.startswith("##vso[task.logissue") for line in lines)


def test_a_failure_without_detail_names_its_status() -> None:
    outcome = RepoOutcome(repository="Web/portal", status=Status.TIMED_OUT, reason=Reason.TIMEOUT, duration_s=60)

    lines = pipeline_lines(outcome)

    assert lines[-1] == "##vso[task.logissue type=error;]Web/portal: timed_out"


def test_pipeline_issue_text_is_escaped_to_one_line() -> None:
    outcome = failed(problems=(Problem(level="warning", message="first line\nsecond line; 100%"),))

    lines = pipeline_lines(outcome)

    assert "##vso[task.logissue type=warning;]Web/portal: first line%0Asecond line; 100%AZP25" in lines


# --- print_summary ---


def test_pipeline_summary_uploads_the_markdown_and_flags_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()

    print_summary(report(succeeded(), failed()), Path("report"), out, PIPELINE)

    assert out.getvalue().splitlines() == [
        f"##vso[task.uploadsummary]{tmp_path.resolve() / 'report' / 'summary.md'}",
        "##vso[task.complete result=SucceededWithIssues;]repositories: 1 succeeded, 1 failed",
        "repositories: 1 succeeded, 1 failed; report: report",
    ]


def test_pipeline_summary_of_a_clean_run_does_not_change_the_task_result(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(succeeded(), skipped()), tmp_path, out, PIPELINE)

    lines = out.getvalue().splitlines()
    assert lines[0] == f"##vso[task.uploadsummary]{tmp_path / 'summary.md'}"
    assert not any(line.startswith("##vso[task.complete") for line in lines)
    assert lines[-1] == f"repositories: 1 succeeded, 1 skipped; report: {tmp_path}"


def test_pipeline_summary_of_an_interrupted_run_leaves_the_result_to_the_exit_code(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(failed(), cancelled(), interrupted=True), tmp_path, out, PIPELINE)

    assert not any(line.startswith("##vso[task.complete") for line in out.getvalue().splitlines())


def test_a_shard_in_a_pipeline_leaves_the_summary_upload_to_the_merge(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(succeeded(), failed(), shard="2/3"), tmp_path, out, PIPELINE)

    lines = out.getvalue().splitlines()
    assert not any(line.startswith("##vso[task.uploadsummary]") for line in lines)
    assert "##vso[task.complete result=SucceededWithIssues;]repositories: 1 succeeded, 1 failed" in lines


def test_summary_outside_a_pipeline_is_one_plain_line(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(succeeded(), failed(), cancelled()), tmp_path, out, {"TF_BUILD": "False"})

    assert out.getvalue() == f"repositories: 1 succeeded, 1 failed, 1 cancelled; report: {tmp_path}\n"


def test_summary_on_a_terminal_adds_the_table(tmp_path: Path) -> None:
    out = Terminal()

    print_summary(report(succeeded(), failed()), tmp_path, out, {})

    text = out.getvalue()
    assert "renovate-runner run-42" in text
    assert "Platform/api" in text
    assert "Web/portal" in text
    assert text.endswith(f"repositories: 1 succeeded, 1 failed; report: {tmp_path}\n")


# --- choosing and running the observers ---


def test_the_observer_fits_where_the_output_goes() -> None:
    assert isinstance(observer_for((), io.StringIO(), PIPELINE), PipelineObserver)
    assert isinstance(observer_for((), Terminal(), PIPELINE), PipelineObserver)
    assert isinstance(observer_for((), Terminal(), {}), ProgressObserver)
    assert isinstance(observer_for((), io.StringIO(), {}), PlainObserver)


def test_plain_observer_writes_one_line_per_finished_repository() -> None:
    out = io.StringIO()
    observer = PlainObserver(out)

    observer.finished(succeeded())
    observer.finished(failed())

    assert out.getvalue() == f"{outcome_line(succeeded())}\n{outcome_line(failed())}\n"


def test_progress_observer_prints_each_finished_repository(make_config: ConfigFactory) -> None:
    config = make_config("organization: https://dev.azure.com/contoso/\n", {"api.yaml": "repository: Platform/api\n"})
    console = Console(record=True, width=120, file=io.StringIO())

    with ProgressObserver(1, console) as observer:
        observer.started(config.repos[0])
        observer.finished(succeeded())

    assert outcome_line(succeeded()) in console.export_text()


def test_a_run_told_that_a_later_job_merges_does_not_upload_the_summary(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(succeeded(), failed()), tmp_path, out, PIPELINE, upload=False)

    lines = out.getvalue().splitlines()
    assert not any(line.startswith("##vso[task.uploadsummary]") for line in lines)
    assert "##vso[task.complete result=SucceededWithIssues;]repositories: 1 succeeded, 1 failed" in lines


def _failing_history(streak: int) -> RecordedSweep:
    points = tuple(
        RepoPoint(
            run_id=f"run-{n}",
            started_at=f"2025-11-0{n + 1}T00:00:00+00:00",
            status=Status.FAILED,
            libyears=None,
            outdated=None,
            dependencies=None,
            duration_s=1.0,
        )
        for n in range(streak)
    )
    trends = Trends(repositories={"Platform/billing": points}, failing_after=3)
    return RecordedSweep(report=report(failed()), trends=trends)


def test_a_repository_failing_run_after_run_is_a_pipeline_warning(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(failed()), tmp_path, out, PIPELINE, history=_failing_history(4))

    assert (
        "##vso[task.logissue type=warning;]Platform/billing failed in each of its last 4 runs; look at its log "
        "and fix the cause" in out.getvalue().splitlines()
    )


def test_below_the_threshold_nothing_is_flagged_and_a_broken_store_is_said(tmp_path: Path) -> None:
    out = io.StringIO()
    broken = RecordedSweep(report=report(failed()), trends=None, problem="could not open the history store: x")

    print_summary(report(failed()), tmp_path, out, PIPELINE, history=_failing_history(2))
    print_summary(report(failed()), tmp_path, out, {}, history=broken)

    lines = out.getvalue().splitlines()
    assert not any("failed in each of its last" in line for line in lines)
    assert "warning: history store not used: could not open the history store: x" in lines


def test_a_shard_leaves_the_history_warnings_to_the_job_that_uploads_the_summary(tmp_path: Path) -> None:
    out = io.StringIO()

    print_summary(report(failed(), shard="1/2"), tmp_path, out, PIPELINE, history=_failing_history(4))
    print_summary(report(failed()), tmp_path, out, PIPELINE, upload=False, history=_failing_history(4))

    assert "failed in each of its last" not in out.getvalue()
