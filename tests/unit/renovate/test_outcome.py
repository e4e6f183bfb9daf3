"""How a container run ends + what Renovate logged + its report file -> one RepoOutcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.renovate.logs import MAX_PROBLEMS, WARN, LogSummary, RenovateEvent, parse_line
from runner.renovate.outcome import build_outcome
from runner.report.model import DependencyUpdate, Problem, PullRequest, Reason, RepoOutcome, Status

DATA = Path(__file__).parent / "data"
LOG = "logs/Platform%2Fweb-app.ndjson"


def summarise(name: str) -> LogSummary:
    summary = LogSummary()
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        event = parse_line(line)
        if event is not None:
            summary.feed(event)
    return summary


def outcome(
    summary: LogSummary,
    *,
    exit_code: int | None = 0,
    oom_killed: bool = False,
    timed_out: bool = False,
    cancelled: bool = False,
    report_file: Path | None = None,
    repository: str = "Platform/web-app",
    notes: tuple[str, ...] = (),
) -> RepoOutcome:
    return build_outcome(
        repository,
        exit_code=exit_code,
        oom_killed=oom_killed,
        timed_out=timed_out,
        cancelled=cancelled,
        report_file=report_file,
        summary=summary,
        duration_s=754.4321,
        log=LOG,
        notes=notes,
    )


def test_a_full_run_succeeds_with_updates_branches_prs_and_problems() -> None:
    result = outcome(summarise("full-run.ndjson"), report_file=DATA / "report-full.json")

    assert result.status is Status.SUCCEEDED
    assert result.reason is None
    assert result.detail is None
    assert result.renovate_version == "44.121.2"
    assert result.renovate_result == "done"
    assert result.exit_code == 0
    assert result.duration_s == 754.432
    assert result.log == LOG
    assert result.branches == ("renovate/lodash-4.x", "renovate/express-5.x")
    assert [pr.number for pr in result.prs] == [42, 17]
    assert result.updates_by_type == {"digest": 1, "lockFileMaintenance": 1, "major": 1, "patch": 1}
    assert result.updates[0] == DependencyUpdate(
        dependency="express",
        manager="npm",
        package_file="package.json",
        current_version="4.21.2",
        new_version="5.1.0",
        update_type="major",
        current_value="^4.21.2",
        new_value="^5.1.0",
        branch="renovate/express-5.x",
    )
    # The same warning is in the log and in the report file: it is listed once.
    assert len(result.problems) == 1
    assert result.problems[0].message.startswith("Failed to look up npm package left-pad-internal")
    assert result.notes == ()


def test_digest_updates_show_the_digests_and_branch_only_updates_are_added() -> None:
    result = outcome(summarise("full-run.ndjson"), report_file=DATA / "report-full.json")
    by_dependency = {update.dependency: update for update in result.updates}

    node = by_dependency["node"]
    assert (node.current_version, node.new_version) == ("22-alpine@9bef0ef1e268", "22-alpine@3a7e1b2c4d5f")
    assert node.manager == "dockerfile"
    maintenance = by_dependency["lockFileMaintenance"]
    assert maintenance.branch == "renovate/lock-file-maintenance"
    assert maintenance.manager == "unknown"
    assert "@types/node" not in by_dependency  # no updates for it
    assert "left-pad-internal" not in by_dependency


def test_pull_requests_renovate_kept_as_they_were_are_listed_as_unchanged(tmp_path: Path) -> None:
    # Renovate logs no info line for a pull request that needs no update; its report file still names it.
    report = json.loads((DATA / "report-full.json").read_text(encoding="utf-8"))
    kept = {"branchName": "renovate/typescript-5.x", "prNo": 7, "prTitle": "Update typescript to v5", "result": "done"}
    report["repositories"]["Platform/web-app"]["branches"].append(kept)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    result = outcome(summarise("full-run.ndjson"), report_file=path)

    assert [(pr.number, pr.action) for pr in result.prs] == [(42, "created"), (17, "updated"), (7, "unchanged")]
    assert result.prs[-1] == PullRequest(
        number=7, title="Update typescript to v5", branch="renovate/typescript-5.x", action="unchanged"
    )


def test_a_lookup_run_reads_the_local_key_and_succeeds_without_a_result() -> None:
    result = outcome(summarise("lookup-run.ndjson"), report_file=DATA / "report-lookup.json")

    assert result.status is Status.SUCCEEDED
    assert result.renovate_result is None
    assert [(u.dependency, u.current_version, u.new_version, u.update_type) for u in result.updates] == [
        ("requests", "2.31.0", "2.32.3", "minor"),
        ("urllib3", "2.2.1", "2.2.3", "patch"),
    ]
    assert {update.manager for update in result.updates} == {"pip_requirements"}
    assert result.problems == (Problem(level="warning", message="Found renovate config warnings"),)


def test_a_logged_error_and_exit_code_1_fail_with_the_error_in_the_detail() -> None:
    result = outcome(summarise("failed-run.ndjson"), exit_code=1)

    assert result.status is Status.FAILED
    assert result.reason is Reason.RENOVATE
    assert result.detail is not None
    assert "exited with code 1" in result.detail
    assert "Repository has unknown error" in result.detail
    assert "fatal: Authentication failed" in result.detail
    assert result.detail.endswith(f"The log is {LOG}.")
    assert result.renovate_result == "unknown-error"


def test_exit_code_2_is_a_configuration_failure() -> None:
    summary = LogSummary()
    summary.feed(event("Invalid configuration option: onboardingg", 60))

    result = outcome(summary, exit_code=2)

    assert result.status is Status.FAILED
    assert result.reason is Reason.RENOVATE
    assert result.detail is not None
    assert result.detail.startswith(
        "Renovate could not load its configuration (exit code 2): Invalid configuration option: onboardingg."
    )


def test_a_non_zero_exit_without_an_error_says_so() -> None:
    result = outcome(summarise("full-run.ndjson"), exit_code=3)

    assert result.status is Status.FAILED
    assert result.detail is not None
    assert "exited with code 3 without logging an error" in result.detail


def test_exit_0_without_repository_finished_is_a_crash() -> None:
    summary = LogSummary()
    summary.feed(event("Repository started", renovateVersion="44.121.2"))

    result = outcome(summary, exit_code=0)

    assert result.status is Status.CRASHED
    assert result.reason is Reason.NO_RESULT
    assert result.detail is not None
    assert "Repository finished" in result.detail
    assert result.renovate_version == "44.121.2"


@pytest.mark.parametrize(("exit_code", "signal_name"), [(137, "SIGKILL"), (139, "SIGSEGV"), (134, "SIGABRT")])
def test_a_signal_exit_before_finishing_is_a_crash(exit_code: int, signal_name: str) -> None:
    result = outcome(LogSummary(), exit_code=exit_code)

    assert result.status is Status.CRASHED
    assert result.reason is Reason.NO_RESULT
    assert result.detail is not None
    assert f"killed by {signal_name} (exit code {exit_code})" in result.detail


def test_an_unknown_signal_number_is_still_described() -> None:
    result = outcome(LogSummary(), exit_code=128 + 99)

    assert result.status is Status.CRASHED
    assert result.detail is not None
    assert "killed by signal 99" in result.detail


def test_a_signal_exit_after_finishing_is_a_failure() -> None:
    result = outcome(summarise("full-run.ndjson"), exit_code=137)

    assert result.status is Status.FAILED
    assert result.reason is Reason.RENOVATE


def test_out_of_memory_is_a_crash_whatever_the_exit_code() -> None:
    result = outcome(summarise("full-run.ndjson"), exit_code=137, oom_killed=True)

    assert result.status is Status.CRASHED
    assert result.reason is Reason.OUT_OF_MEMORY
    assert result.detail is not None
    assert "memory limit" in result.detail


def test_nodes_heap_limit_is_out_of_memory_not_an_unexplained_signal() -> None:
    summary = LogSummary()
    summary.feed_output("<--- Last few GCs --->")
    summary.feed_output("FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory")

    result = outcome(summary, exit_code=134)

    assert (result.status, result.reason) == (Status.CRASHED, Reason.OUT_OF_MEMORY)
    assert result.detail is not None
    assert "JavaScript heap" in result.detail
    assert "memory limit" in result.detail


@pytest.mark.parametrize("result", ["external-host-error", "temporary-error", "rate-limit-exceeded"])
def test_renovate_stopping_for_a_host_that_failed_it_is_a_host_error_though_it_exits_0(result: str) -> None:
    summary = LogSummary()
    summary.feed(event("Host error", level=WARN, hostType="azure"))
    summary.feed(event("Repository finished", result=result))

    outcome_ = outcome(summary, exit_code=0)

    assert (outcome_.status, outcome_.reason) == (Status.FAILED, Reason.HOST_ERROR)
    assert outcome_.detail is not None
    assert f"Renovate stopped with result {result}" in outcome_.detail


def test_other_output_on_stderr_leaves_a_signal_exit_unexplained() -> None:
    summary = LogSummary()
    summary.feed_output("FATAL ERROR: something else")

    assert outcome(summary, exit_code=134).reason is Reason.NO_RESULT


def test_a_timeout_wins_over_the_exit_code_and_keeps_partial_results() -> None:
    result = outcome(summarise("full-run.ndjson"), exit_code=137, timed_out=True, report_file=DATA / "report-full.json")

    assert result.status is Status.TIMED_OUT
    assert result.reason is Reason.TIMEOUT
    assert result.detail is not None
    assert "stopped after 12m 34s" in result.detail
    assert "`timeout`" in result.detail
    assert len(result.updates) == 4
    assert len(result.prs) == 2


def test_cancellation_wins_over_everything() -> None:
    result = outcome(LogSummary(), exit_code=None, cancelled=True, timed_out=True, oom_killed=True)

    assert result.status is Status.CANCELLED
    assert result.reason is Reason.INTERRUPTED
    assert result.detail is not None
    assert "run the sweep again" in result.detail


def test_an_unknown_exit_status_is_an_engine_crash() -> None:
    result = outcome(summarise("full-run.ndjson"), exit_code=None)

    assert result.status is Status.CRASHED
    assert result.reason is Reason.ENGINE
    assert result.detail is not None
    assert "Docker engine" in result.detail


def test_a_missing_report_file_is_noted() -> None:
    result = outcome(summarise("full-run.ndjson"), report_file=DATA / "does-not-exist.json")

    assert result.status is Status.SUCCEEDED
    assert result.updates == ()
    assert result.notes == ("Renovate wrote no report file (does-not-exist.json); updates are unknown.",)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "could not be read: Invalid JSON"),
        (b"[]", "could not be read: Input should be a valid dictionary or instance of _RenovateReport at top level"),
        (b"", "could not be read: Invalid JSON"),
        (b"\xff\xfe{}", "could not be read: Invalid JSON"),
    ],
)
def test_a_malformed_report_file_is_noted_not_raised(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(content)

    result = outcome(summarise("full-run.ndjson"), report_file=path)

    assert result.status is Status.SUCCEEDED
    assert len(result.notes) == 1
    assert result.notes[0].startswith("Renovate's report file report.json ")
    assert expected in result.notes[0]


def test_a_report_without_this_repository_is_noted(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"problems": [], "repositories": {"Other/one": {}, "Other/two": {}}}), encoding="utf-8")

    result = outcome(LogSummary(), report_file=path)

    assert result.notes == (
        "Renovate's report file has no entry for Platform/web-app (entries: Other/one, Other/two); "
        "updates are unknown.",
    )


def test_notes_keep_the_callers_first_and_count_omitted_problems() -> None:
    summary = LogSummary()
    for number in range(MAX_PROBLEMS + 2):
        summary.feed(event(f"Warning {number}", WARN))

    result = outcome(summary, notes=("timeout shortened to 20m to fit the token's lifetime",))

    assert result.notes == (
        "timeout shortened to 20m to fit the token's lifetime",
        "2 more warnings or errors are only in the log",
    )


def test_report_problems_are_bounded_and_not_counted_twice(tmp_path: Path) -> None:
    summary = LogSummary()
    messages = [f"Warning {number}" for number in range(MAX_PROBLEMS + 10)]
    for message in messages:
        summary.feed(event(message, WARN))
    records = [{"level": WARN, "msg": message} for message in messages] + [{"level": 50, "msg": "Only in the report"}]
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"repositories": {"local": {"problems": records}}}), encoding="utf-8")

    result = outcome(summary, report_file=path)

    assert len(result.problems) == MAX_PROBLEMS + 1
    assert result.problems[-1] == Problem(level="error", message="Only in the report")
    assert result.notes == ("10 more warnings or errors are only in the log",)


def event(msg: str, level: int = 30, **fields: object) -> RenovateEvent:
    parsed = parse_line(json.dumps({"level": level, "msg": msg, **fields}))
    assert parsed is not None
    return parsed
