"""One repository's outcome: a verdict from how its container ended and what Renovate logged, with what
Renovate's report file (`runner.renovate.report_file`) adds."""

from __future__ import annotations

import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from runner.durations import format_seconds
from runner.renovate.logs import MAX_PROBLEMS, LogSummary
from runner.renovate.report_file import read_report_file
from runner.report.model import Problem, PullRequest, Reason, RepoOutcome, Status

_RENOVATE_CONFIG_EXIT = 2  # Renovate's exit code when it could not load its configuration
# Renovate's `result` when it stopped because a host it needs failed it: the platform or a registry answering 5xx,
# a git fetch cut off (lib/workers/repository/error.ts). It logs a warning only and exits 0, but did not process
# the repository.
HOST_ERROR_RESULTS = frozenset({"external-host-error", "temporary-error", "rate-limit-exceeded"})
_SIGNAL_EXIT_BASE = 128  # a process killed by signal N exits with 128 + N


def build_outcome(
    repository: str,
    *,
    exit_code: int | None,
    oom_killed: bool,
    timed_out: bool,
    cancelled: bool,
    report_file: Path | None,
    summary: LogSummary,
    duration_s: float,
    log: str | None,
    notes: Sequence[str] = (),
) -> RepoOutcome:
    """Everything known about one finished (or stopped) container run, as the report's `RepoOutcome`."""
    found = read_report_file(report_file, repository)
    verdict = (
        _stopped_verdict(oom_killed=oom_killed, timed_out=timed_out, cancelled=cancelled, duration_s=duration_s)
        or _gave_up_verdict(exit_code, summary)
        or _exit_verdict(exit_code, summary)
    )
    detail = f"{verdict.detail} The log is {log}." if verdict.detail and log else verdict.detail
    problems, omitted = _merge_problems(summary, found.problems)
    omitted_note = [f"{omitted} more warnings or errors are only in the log"] if omitted else []
    return RepoOutcome(
        repository=repository,
        status=verdict.status,
        reason=verdict.reason,
        detail=detail,
        renovate_version=summary.renovate_version,
        renovate_result=summary.finished.result if summary.finished else None,
        exit_code=exit_code,
        duration_s=round(duration_s, 3),
        updates=found.updates,
        branches=summary.branches,
        prs=_merge_prs(summary.prs, found.prs),
        problems=problems,
        log=log,
        notes=(*notes, *found.notes, *omitted_note),
        health=found.health,
    )


@dataclass(frozen=True)
class _Verdict:
    status: Status
    reason: Reason | None = None
    detail: str | None = None


def _stopped_verdict(*, oom_killed: bool, timed_out: bool, cancelled: bool, duration_s: float) -> _Verdict | None:
    """The runner or the kernel stopped the container: that explains the run better than its exit code."""
    if cancelled:
        return _Verdict(
            Status.CANCELLED,
            Reason.INTERRUPTED,
            "The sweep was interrupted before Renovate finished this repository; run the sweep again.",
        )
    if timed_out:
        return _Verdict(
            Status.TIMED_OUT,
            Reason.TIMEOUT,
            f"Renovate did not finish within the repository's timeout and was stopped after "
            f"{format_seconds(duration_s)}; raise `timeout` for this repository, or find in the log where it "
            "stalled.",
        )
    if oom_killed:
        return _Verdict(
            Status.CRASHED,
            Reason.OUT_OF_MEMORY,
            "The container ran out of memory and the kernel killed Renovate; raise the container memory "
            "limit in the runner configuration.",
        )
    return None


def _gave_up_verdict(exit_code: int | None, summary: LogSummary) -> _Verdict | None:
    """Renovate (or Node under it) stopped for a reason it stated, which explains the run better than its exit code."""
    if summary.finished is not None and summary.finished.result in HOST_ERROR_RESULTS:
        return _Verdict(
            Status.FAILED,
            Reason.HOST_ERROR,
            f"Renovate stopped with result {summary.finished.result}: Azure DevOps or a registry it needs did not "
            "answer; the warnings say which. It is usually passing; if it persists, check that host.",
        )
    if exit_code not in (0, None) and summary.heap_exhausted:
        return _Verdict(
            Status.CRASHED,
            Reason.OUT_OF_MEMORY,
            "Node's JavaScript heap reached its limit and Node stopped Renovate (\"JavaScript heap out of "
            'memory" on stderr); raise the container memory limit in the runner configuration, which Node '
            "sizes its heap from.",
        )
    return None


def _exit_verdict(exit_code: int | None, summary: LogSummary) -> _Verdict:
    finished = summary.finished is not None
    if exit_code is None:
        return _Verdict(
            Status.CRASHED,
            Reason.ENGINE,
            "The container's exit status could not be read; check that the Docker engine is healthy and run "
            "the sweep again.",
        )
    if exit_code == 0 and finished:
        return _Verdict(Status.SUCCEEDED)
    if exit_code == 0:
        return _Verdict(
            Status.CRASHED,
            Reason.NO_RESULT,
            "Renovate exited with code 0 without logging `Repository finished`, so its result is unknown; "
            "look at the end of the log for what stopped it.",
        )
    if exit_code > _SIGNAL_EXIT_BASE and not finished:
        return _Verdict(Status.CRASHED, Reason.NO_RESULT, _killed_detail(exit_code))
    return _Verdict(Status.FAILED, Reason.RENOVATE, _failed_detail(exit_code, summary.first_error))


def _killed_detail(exit_code: int) -> str:
    number = exit_code - _SIGNAL_EXIT_BASE
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hints = {
        signal.SIGABRT.value: "Node.js aborts so when its heap is full; raise the container memory limit.",
        signal.SIGKILL.value: "Something outside Renovate killed it; check host memory and engine events.",
        signal.SIGSEGV.value: "Renovate or a tool it ran crashed; run the sweep again and report a repeat.",
    }
    hint = hints.get(number, "Check the host and the engine for what stopped it.")
    return f"Renovate was killed by {name} (exit code {exit_code}) before it finished. {hint}"


def _failed_detail(exit_code: int, first_error: Problem | None) -> str:
    if exit_code == _RENOVATE_CONFIG_EXIT:
        cause = f": {_sentence(first_error.message)}" if first_error else ""
        return (
            f"Renovate could not load its configuration (exit code 2){cause}. Fix the `renovate:` settings "
            "for this repository or the global ones."
        )
    if first_error is not None:
        return (
            f"Renovate exited with code {exit_code} after logging an error: "
            f"{_sentence(first_error.message)}. Fix that cause and run the sweep again."
        )
    return f"Renovate exited with code {exit_code} without logging an error; see the end of the log."


def _sentence(message: str) -> str:
    """A problem message quoted inside a sentence of ours, without doubled full stops."""
    return message.rstrip(" .")


def _merge_prs(logged: Sequence[PullRequest], filed: Iterable[PullRequest]) -> tuple[PullRequest, ...]:
    """The pull requests the log says Renovate created or updated, then those it kept as they were.

    Without the kept ones, a sweep over repositories whose pull requests are all current would list none.
    """
    seen = {pr.number for pr in logged}
    return (*logged, *(pr for pr in filed if pr.number not in seen))


def _merge_problems(summary: LogSummary, reported: Iterable[Problem]) -> tuple[tuple[Problem, ...], int]:
    """The log's problems, then those only the report file has, bounded per level as the log's are.

    Renovate's report lists the same problems its log shows, so the ones the log summary left out come back
    here; counting the larger of the two omissions avoids counting them twice.
    """
    kept = dict.fromkeys(summary.problems)
    omitted = 0
    for problem in reported:
        if problem in kept:
            continue
        if sum(known.level == problem.level for known in kept) >= MAX_PROBLEMS:
            omitted += 1
            continue
        kept[problem] = None
    return tuple(kept), max(omitted, summary.problems_omitted)
