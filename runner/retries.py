"""Which failures of one repository are worth running it again: those that say nothing about the repository.

A run is retried (up to `retries` times, runner.yaml) when the container engine failed it while staying up - a
hiccup - or when Renovate stopped because Azure DevOps or a registry failed it (reason `host_error`). Everything
else is the repository's own outcome and would only repeat: Renovate's errors, its configuration, a timeout, a
crash, running out of memory, a missing token, preflight. So is anything once the engine is gone for good or the
sweep is interrupted.
"""

from __future__ import annotations

from runner.report.model import Attempt, Reason, RepoOutcome, Status

TRANSIENT_REASONS = frozenset({Reason.ENGINE, Reason.HOST_ERROR})


def is_transient(outcome: RepoOutcome) -> bool:
    return outcome.status in (Status.FAILED, Status.CRASHED) and outcome.reason in TRANSIENT_REASONS


def as_attempt(outcome: RepoOutcome, *, log: str | None) -> Attempt:
    """`outcome` kept as an earlier attempt, its log moved to `log`."""
    detail = outcome.detail
    if detail and outcome.log and log:
        detail = detail.replace(outcome.log, log)  # the detail names the log where it now is
    return Attempt(
        status=outcome.status,
        reason=outcome.reason,
        detail=detail,
        exit_code=outcome.exit_code,
        duration_s=outcome.duration_s,
        log=log,
    )


def retry_note(attempts: tuple[Attempt, ...]) -> str:
    """What the outcome says for people about the runs before it."""
    reasons = ", ".join(attempt.reason.value if attempt.reason else attempt.status.value for attempt in attempts)
    return f"ran {len(attempts) + 1} times: the earlier run(s) failed in a passing way ({reasons})"
