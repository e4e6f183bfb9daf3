"""Short-lived tokens: Entra ID issues tokens that live two minutes, and a sweep lasts longer than that.

Each repository's Renovate runs a slow post-upgrade task (as a real `npm install` would be) before it pushes, so
the sweep outlasts a token on any machine, and Renovate still uses its token late in its run. The freshness rule
(timeout 60s + margin 10s, floor 20s) must hand every container a token that outlives its run: Azure DevOps never
sees an expired token, and Entra ID is asked for new tokens only as often as the rule and the lifetime imply.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from .organization import Organization, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

TOKEN_LIFETIME_S = 120
TIMEOUT = timedelta(seconds=60)
MARGIN = timedelta(seconds=10)
FLOOR = timedelta(seconds=20)
AZURE_IDENTITY_RETRY_DELAY_S = 30  # azure.identity._constants.DEFAULT_TOKEN_REFRESH_RETRY_DELAY
TASK_S = 25  # the post-upgrade task of each repository's one branch
REPOSITORIES = [f"Platform/service-{number}" for number in range(1, 6)]
# What the repositories' runs take at least, whatever the machine: longer than a token lives.
assert len(REPOSITORIES) * TASK_S > TOKEN_LIFETIME_S


@pytest.fixture(name="token_lifetime")
def short_token_lifetime() -> int:
    return TOKEN_LIFETIME_S


def as_seconds(duration: timedelta) -> str:
    return f"{int(duration.total_seconds())}s"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_sweep_longer_than_a_token_lives_hands_every_repository_a_token_that_outlives_its_run(
    organization: Organization,
) -> None:
    for repository in REPOSITORIES:
        organization.seed(repository, {"package.json": package_json(repository, {"lodash": "4.17.15"})})
    slow_task = {"commands": [f"sleep {TASK_S}"], "fileFilters": [], "executionMode": "branch"}
    organization.configure(
        {repository: {"renovate": {"postUpgradeTasks": slow_task}} for repository in REPOSITORIES},
        renovate_global={"allowedCommands": [r"^sleep \d+$"]},
        concurrency=1,
        timeout=as_seconds(TIMEOUT),
        auth={"mode": "pipelines", "margin": as_seconds(MARGIN), "floor": as_seconds(FLOOR)},
    )

    sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 0, sweep.run.describe()
    assert {name: outcome["status"] for name, outcome in sweep.outcomes.items()} == dict.fromkeys(
        REPOSITORIES, "succeeded"
    )
    assert all(outcome["notes"] == [] for outcome in sweep.outcomes.values())  # no timeout had to be shortened
    assert all(len(organization.devops.pull_requests(*name.split("/"))) == 1 for name in REPOSITORIES)

    # Azure DevOps verified every request, git pushes late in each run included; none came with an expired token.
    assert not any(request.reason == "expired" for request in organization.devops.requests)
    assert organization.refused_requests() == []
    assert organization.unknown_requests() == []
    pushes = [r for r in organization.devops.requests if r.route and r.route.endswith("git-receive-pack")]
    assert len(pushes) >= len(REPOSITORIES)

    # Each container got a token that stayed valid for its timeout plus the margin, so for its whole run.
    handed = sweep.run.events_named("token_ready")
    assert [event["repo"] for event in handed] == REPOSITORIES
    for event in handed:
        left = parse_time(event["expires_on"]) - parse_time(event["timestamp"])
        assert left >= TIMEOUT + MARGIN - timedelta(seconds=1), event  # expires_on is in whole seconds
        assert event["timeout_s"] == TIMEOUT.total_seconds()

    # The sweep outlived the first token, so tokens were renewed along the way ...
    started = parse_time(sweep.report["started_at"])
    finished = parse_time(sweep.report["finished_at"])
    duration = (finished - started).total_seconds()
    assert duration > TOKEN_LIFETIME_S
    distinct = {event["expires_on"] for event in handed}
    assert len(distinct) >= 2
    exchanges = organization.entra.exchanges
    assert exchanges >= len(distinct)
    # ... but no more often than the rule implies: one token before the sweep, then per repository the cached
    # token, and a new one only when that would not outlive the run. The credential itself asks Entra ID at most
    # once every 30 seconds while its token is valid (azure-identity renews tokens that expire within 5 minutes,
    # which these always do); each renewal the rule forces on top is logged.
    renewals = sweep.run.events_named("auth.token_renewed")
    assert len(renewals) <= len(REPOSITORIES)
    assert exchanges <= 1 + 2 * len(REPOSITORIES)
    assert exchanges <= 1 + math.ceil(duration / AZURE_IDENTITY_RETRY_DELAY_S) + len(renewals)
    print(
        f"short-lived tokens: {len(REPOSITORIES)} repositories, {exchanges} exchanges, "
        f"{len(distinct)} tokens handed out, {len(renewals)} renewals by the rule, {duration:.0f}s sweep, "
        f"{sweep.run.duration_s:.0f}s wall"
    )
