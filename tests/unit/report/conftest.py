"""A run report with one repository in every status, and text that tries to break each format."""

from __future__ import annotations

import pytest

from runner.report.model import DependencyUpdate, Health, Problem, PullRequest, Reason, RepoOutcome, RunReport, Status


def update(dependency: str, current: str | None, new: str | None, update_type: str) -> DependencyUpdate:
    return DependencyUpdate(
        dependency=dependency,
        manager="npm",
        package_file="package.json",
        current_version=current,
        new_version=new,
        update_type=update_type,
        branch=f"renovate/{dependency}",
    )


def make_report() -> RunReport:
    return RunReport(
        run_id="20251129T093000Z-4f2a",
        runner_version="0.1.0",
        started_at="2025-11-29T09:30:00+00:00",
        finished_at="2025-11-29T09:42:10+00:00",
        dry_run=False,
        shard="1/2",
        repositories=(
            RepoOutcome(
                repository="Platform/web-app",
                status=Status.SUCCEEDED,
                renovate_version="44.121.2",
                renovate_result="done",
                exit_code=0,
                duration_s=27.66,
                updates=(
                    update("express", "4.21.2", "5.1.0", "major"),
                    update("lodash", "4.17.20", "4.17.21", "patch"),
                    update("@types/node", "22.10.2", "22.15.0", "minor"),
                ),
                branches=("renovate/lodash",),
                prs=(
                    PullRequest(
                        number=42,
                        title="Update lodash | to v4.17.21",
                        branch="renovate/lodash",
                        action="created",
                        opened_at="2025-11-29T09:30:00+00:00",
                    ),
                    PullRequest(number=17, title="Update express to v5", branch=None, action="updated"),
                ),
                problems=(Problem(level="warning", message="Failed to look up *left-pad* | 404"),),
                log="logs/Platform%2Fweb-app.ndjson",
                health=Health(
                    libyears=3.5,
                    libyears_by_manager={"dockerfile": 0.5, "npm": 3.0},
                    outdated=3,
                    dependencies=10,
                    outdated_by_type={"major": 1, "minor": 1, "patch": 1},
                    skipped_by_reason={"github-token-required": 2},
                ),
            ),
            RepoOutcome(
                repository="Platform/billing",
                status=Status.FAILED,
                reason=Reason.RENOVATE,
                detail="Renovate exited with code 1: git failed\nfatal: Authentication failed.",
                exit_code=1,
                duration_s=4.65,
                problems=(Problem(level="error", message="Repository has unknown error \x1b[31mred\x1b[0m"),),
                log="logs/Platform%2Fbilling.ndjson",
            ),
            RepoOutcome(
                repository="Platform/slow",
                status=Status.TIMED_OUT,
                reason=Reason.TIMEOUT,
                detail="Renovate did not finish within the repository's timeout.",
                duration_s=1800.0,
                updates=(update("react", "18.3.1", "19.1.0", "major"),),
            ),
            RepoOutcome(
                repository="Platform/big",
                status=Status.CRASHED,
                reason=Reason.OUT_OF_MEMORY,
                detail="The container ran out of memory.",
                exit_code=137,
                duration_s=95.0,
            ),
            RepoOutcome(
                repository="Platform/later",
                status=Status.CANCELLED,
                reason=Reason.INTERRUPTED,
                detail="The sweep was interrupted.",
            ),
            RepoOutcome(repository="Archive/old", status=Status.SKIPPED, reason=Reason.DISABLED),
        ),
    )


@pytest.fixture
def report() -> RunReport:
    return make_report()
