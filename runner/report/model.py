"""The report's data: one `RepoOutcome` per repository, gathered in a `RunReport`.

These types are the stable contract of `report.json`; adding a status or a field bumps `REPORT_VERSION`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

# 2: concurrency and concurrency_basis; 3: organization; 4: dependency health, pull requests' opened_at; 5: attempts,
# reason host_error, warnings (all in 0.2.0)
REPORT_VERSION = 5


# Most consequential first; Renovate's other update types follow alphabetically.
UPDATE_TYPE_ORDER = ("major", "minor", "patch", "pin", "digest", "pinDigest", "lockFileMaintenance")


def update_type_rank(update_type: str) -> tuple[int, str]:
    """Sort key for Renovate updateTypes: the most consequential first."""
    known = UPDATE_TYPE_ORDER.index(update_type) if update_type in UPDATE_TYPE_ORDER else len(UPDATE_TYPE_ORDER)
    return (known, update_type)


class Status(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CRASHED = "crashed"
    CANCELLED = "cancelled"  # interrupted before or while it ran
    SKIPPED = "skipped"  # disabled in config

    @property
    def ok(self) -> bool:
        """Whether this status leaves the sweep's exit code at 0."""
        return self in (Status.SUCCEEDED, Status.SKIPPED)


class Reason(StrEnum):
    """Why a repository `failed` or `crashed`."""

    RENOVATE = "renovate"  # Renovate ran and reported an error (non-zero exit)
    PREFLIGHT = "preflight"
    TOKEN = "token"  # noqa: S105 - a reason's name, not a credential; no token could be obtained for this repository
    TOKEN_LIFETIME = "token_lifetime"  # noqa: S105 - a reason's name; the freshest token expires too soon
    ENGINE = "engine"  # the container engine failed or went away
    HOST_ERROR = "host_error"  # Renovate could not reach Azure DevOps or a registry and stopped (its result says so)
    OUT_OF_MEMORY = "out_of_memory"
    NO_RESULT = "no_result"  # the container exited without Renovate saying it finished
    TIMEOUT = "timeout"
    DISABLED = "disabled"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, kw_only=True)
class DependencyUpdate:
    dependency: str
    manager: str
    package_file: str
    current_version: str | None  # the version in use (for a range, the version Renovate resolved it to)
    new_version: str | None
    update_type: str  # Renovate's updateType: major, minor, patch, pin, digest, ...
    current_value: str | None = None  # as written in the package file, e.g. `==2.25.1` or `>=7.0,<8`
    new_value: str | None = None  # what Renovate would write instead
    branch: str | None = None


@dataclass(frozen=True, kw_only=True)
class PullRequest:
    number: int | None
    title: str
    branch: str | None
    action: Literal["created", "updated", "unchanged"]  # unchanged: open, and already as Renovate wants it
    # When the pull request was first seen open: this run's start for one it created, else from the history
    # store (Renovate's report file has no creation time); None when neither knows.
    opened_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class Health:
    """A repository's dependency health from Renovate's report file (`libYearsWithStatus` and `packageFiles`).

    Libyears: for each outdated dependency, the years between the release in use and the newest one, summed.
    """

    libyears: float | None  # None when Renovate's report had no libYearsWithStatus (extract-only, or it failed)
    libyears_by_manager: dict[str, float]
    outdated: int | None  # dependencies with an update, as Renovate counts them
    dependencies: int | None  # dependencies Renovate counted
    outdated_by_type: dict[str, int]  # dependencies by their most consequential update's updateType
    skipped_by_reason: dict[str, int]  # dependencies Renovate did not look up, by skipReason


@dataclass(frozen=True, kw_only=True)
class Problem:
    level: Literal["warning", "error"]
    message: str


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """An earlier run of a repository that failed in a way worth another try (see `runner.retries`)."""

    status: Status
    reason: Reason | None
    detail: str | None
    exit_code: int | None
    duration_s: float
    log: str | None  # path of that run's NDJSON log, relative to the report directory


@dataclass(frozen=True, kw_only=True)
class RepoOutcome:
    repository: str
    status: Status
    reason: Reason | None = None
    detail: str | None = None  # one human sentence on what happened and what to do, when not succeeded
    renovate_version: str | None = None
    renovate_result: str | None = None  # Renovate's own `result` from "Repository finished", e.g. "done"
    exit_code: int | None = None
    duration_s: float = 0.0
    updates: tuple[DependencyUpdate, ...] = ()
    branches: tuple[str, ...] = ()
    prs: tuple[PullRequest, ...] = ()
    problems: tuple[Problem, ...] = ()
    log: str | None = None  # path of the NDJSON log, relative to the report directory
    notes: tuple[str, ...] = ()  # e.g. a shortened timeout, unparsed long lines
    health: Health | None = None  # None when Renovate's report file had no entry for the repository
    attempts: tuple[Attempt, ...] = ()  # earlier runs that failed transiently, oldest first; this outcome is the last

    @property
    def updates_by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(update.update_type for update in self.updates).items()))

    def with_warnings(self, messages: Sequence[str]) -> RepoOutcome:
        """This outcome with the runner's own warnings (e.g. from the preflight checks) before Renovate's problems."""
        if not messages:
            return self
        added = tuple(Problem(level="warning", message=message) for message in messages)
        return replace(self, problems=(*added, *self.problems))


@dataclass(frozen=True, kw_only=True)
class RunReport:
    run_id: str
    runner_version: str
    started_at: str  # ISO 8601, UTC
    finished_at: str
    dry_run: bool
    repositories: tuple[RepoOutcome, ...]
    version: int = REPORT_VERSION
    shard: str | None = None  # "I/N" when the run covered one shard
    interrupted: bool = False
    concurrency: int | None = None  # repositories at once; None in a merged report whose shards differed
    concurrency_basis: str | None = None  # "configured", or what `auto` measured (CPUs, memory)
    organization: str | None = None  # the Azure DevOps organization URL, so summary.md links pull requests
    # The sweep's own warnings, each saying what is lost and what to do: no github.com token or a low GitHub quota,
    # Renovate options that need migration.
    warnings: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(outcome.status.value for outcome in self.repositories)
        return {status.value: counts.get(status.value, 0) for status in Status}

    @property
    def ok(self) -> bool:
        return all(outcome.status.ok for outcome in self.repositories)


__all__ = [
    "REPORT_VERSION",
    "UPDATE_TYPE_ORDER",
    "Attempt",
    "DependencyUpdate",
    "Health",
    "Problem",
    "PullRequest",
    "Reason",
    "RepoOutcome",
    "RunReport",
    "Status",
    "update_type_rank",
]
