"""The github.com token Renovate needs on Azure DevOps, checked once before the sweep.

Without one, Renovate skips every `github-tags` and `github-releases` dependency (`skipReason:
github-token-required`) and fetches no release notes, and its unauthenticated calls share 60 an hour. With
`github_token_env`, the runner hands the variable's value to every container as `RENOVATE_GITHUB_COM_TOKEN`. Before
the first container it asks GitHub for the token's quota (`GET /rate_limit`, which does not count against it): a
token GitHub rejects stops the run before anything starts; a quota too small for the sweep is a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import requests
import structlog

from runner.config import RunnerConfig
from runner.errors import AuthError, RunnerError
from runner.http_retry import bearer_request

log = structlog.get_logger()

# A rough budget of GitHub API calls per repository (tag and release lookups, release notes of each update); a
# quota below this many per repository of the sweep is likely to run out before the sweep ends.
CALLS_PER_REPOSITORY = 50
MISSING_GITHUB_TOKEN = (
    "no github.com token: Renovate skips github-tags and github-releases dependencies (skipReason "  # noqa: S105 - a warning text
    "github-token-required), fetches no release notes, and shares 60 unauthenticated GitHub calls an hour; set "
    "github_token_env in runner.yaml to a variable holding a GitHub token (a fine-grained token with no permissions "
    "is enough)"
)


@dataclass(frozen=True, kw_only=True)
class Quota:
    """GitHub's `resources.core` of `GET /rate_limit`."""

    limit: int
    remaining: int
    used: int
    reset: datetime


@dataclass(frozen=True, kw_only=True)
class GitHubCheck:
    token: str | None  # what the containers get as RENOVATE_GITHUB_COM_TOKEN
    warnings: tuple[str, ...]


class GitHubUnreachable(RunnerError):
    """GitHub's API did not answer; the sweep goes on (Renovate will meet the same trouble and say so)."""


def check_github(
    runner: RunnerConfig,
    environ: Mapping[str, str],
    *,
    repositories: int,
    on_token: Callable[[str], None],
    session: requests.Session | None = None,
) -> GitHubCheck:
    """The token for the containers and what to warn about; raises AuthError when the token cannot be used."""
    name = runner.github_token_env
    if name is None:
        return GitHubCheck(token=None, warnings=(MISSING_GITHUB_TOKEN,))
    token = environ.get(name, "").strip()
    if not token:
        raise AuthError(
            f"github_token_env names {name}, which is not set or empty; set it to a GitHub token (in Azure "
            "Pipelines, map the secret variable into the step's env:), or remove github_token_env"
        )
    on_token(token)
    try:
        quota = github_quota(runner.endpoints.github_api, token, variable=name, session=session)
    except GitHubUnreachable as error:
        return GitHubCheck(token=token, warnings=(f"the GitHub token in {name} could not be checked: {error}",))
    log.info("github_quota", limit=quota.limit, remaining=quota.remaining, reset=quota.reset.isoformat())
    needed = CALLS_PER_REPOSITORY * repositories
    if quota.remaining >= needed:
        return GitHubCheck(token=token, warnings=())
    low = (
        f"the GitHub token in {name} has {quota.remaining} of {quota.limit} API calls left until "
        f"{quota.reset:%H:%M} UTC, fewer than the about {needed} this sweep of {repositories} repositories may need; "
        "Renovate may skip GitHub lookups and release notes when it runs out - run later, or use a token of its own "
        "for Renovate"
    )
    return GitHubCheck(token=token, warnings=(low,))


def github_quota(api_url: str, token: str, *, variable: str, session: requests.Session | None = None) -> Quota:
    """The token's core quota; raises AuthError when GitHub rejects the token, GitHubUnreachable when it is down."""
    with session or requests.Session() as http:
        response = bearer_request(
            http,
            "GET",
            f"{api_url.rstrip('/')}/rate_limit",
            token=lambda: token,
            failure=GitHubUnreachable,
            hint="check the network, the runner's proxy variables, or endpoints.github_api",
        )
    if response.status_code == HTTPStatus.UNAUTHORIZED:
        raise AuthError(
            f"GitHub rejects the token in {variable} ({_message(response)}); it has expired or been revoked: create a "
            "new one (no permissions needed) and update the secret, or remove github_token_env; nothing was started"
        )
    if response.status_code != HTTPStatus.OK:
        raise GitHubUnreachable(f"GET /rate_limit answered {response.status_code} ({_message(response)})")
    try:
        return _quota(response.json())
    except (ValueError, KeyError, TypeError) as error:
        raise GitHubUnreachable(f"GET /rate_limit answered something else than a quota ({error!r})") from None


def _message(response: requests.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return str(body.get("message", f"HTTP {response.status_code}")) if isinstance(body, dict) else "no message"


def _quota(body: Any) -> Quota:
    core = body["resources"]["core"]
    return Quota(
        limit=int(core["limit"]),
        remaining=int(core["remaining"]),
        used=int(core["used"]),
        reset=datetime.fromtimestamp(int(core["reset"]), UTC),
    )
