"""The github.com token check before a sweep, against the GitHub API double (rate limit with GitHub's shape, 401 with
GitHub's body for a token it does not know)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from runner.config import RunnerConfig
from runner.errors import AuthError, ExitCode
from runner.github import MISSING_GITHUB_TOKEN, check_github
from tests.doubles.github_api import GitHubApiDouble, Quota


@pytest.fixture(name="github")
def github_fixture() -> Iterator[GitHubApiDouble]:
    with GitHubApiDouble() as double:
        yield double


def runner_config(github: GitHubApiDouble, env: str | None = "GITHUB_COM_TOKEN") -> RunnerConfig:
    return RunnerConfig.model_validate({"github_token_env": env, "endpoints": {"github_api": github.base_url}})


def test_without_a_token_one_warning_says_what_is_lost_and_how_to_fix_it(github: GitHubApiDouble) -> None:
    check = check_github(runner_config(github, env=None), {}, repositories=40, on_token=lambda _: None)
    assert check.token is None
    assert check.warnings == (MISSING_GITHUB_TOKEN,)
    assert "github-token-required" in MISSING_GITHUB_TOKEN
    assert "github_token_env" in MISSING_GITHUB_TOKEN
    assert github.requests == ()


def test_a_token_with_quota_enough_is_handed_on_without_a_warning(github: GitHubApiDouble) -> None:
    token = github.issue_token()
    seen: list[str] = []
    check = check_github(runner_config(github), {"GITHUB_COM_TOKEN": token}, repositories=40, on_token=seen.append)
    assert (check.token, check.warnings) == (token, ())
    assert seen == [token]  # registered for redaction before it is sent anywhere
    (request,) = github.requests
    assert (request.path, request.headers["authorization"]) == ("/rate_limit", f"Bearer {token}")


def test_a_quota_too_low_for_the_sweep_is_a_warning_with_the_numbers(github: GitHubApiDouble) -> None:
    token = github.issue_token(Quota(limit=5000, used=4900))
    check = check_github(runner_config(github), {"GITHUB_COM_TOKEN": token}, repositories=3, on_token=lambda _: None)
    reset = datetime.fromtimestamp(github.reset, UTC)
    assert check.warnings == (
        f"the GitHub token in GITHUB_COM_TOKEN has 100 of 5000 API calls left until {reset:%H:%M} UTC, fewer than "
        "the about 150 this sweep of 3 repositories may need; Renovate may skip GitHub lookups and release notes "
        "when it runs out - run later, or use a token of its own for Renovate",
    )


def test_a_token_github_rejects_stops_the_run_with_what_to_do(github: GitHubApiDouble) -> None:
    with pytest.raises(AuthError) as caught:
        check_github(
            runner_config(github), {"GITHUB_COM_TOKEN": "ghp_revoked"}, repositories=1, on_token=lambda _: None
        )
    assert str(caught.value) == (
        "GitHub rejects the token in GITHUB_COM_TOKEN (Bad credentials); it has expired or been revoked: create a new "
        "one (no permissions needed) and update the secret, or remove github_token_env; nothing was started"
    )
    assert caught.value.exit_code == ExitCode.AUTH
    assert "ghp_revoked" not in str(caught.value)


@pytest.mark.parametrize("environ", [{}, {"GITHUB_COM_TOKEN": "  "}], ids=["unset", "blank"])
def test_a_named_variable_that_is_not_set_stops_the_run(github: GitHubApiDouble, environ: dict[str, str]) -> None:
    with pytest.raises(AuthError, match="github_token_env names GITHUB_COM_TOKEN, which is not set or empty"):
        check_github(runner_config(github), environ, repositories=1, on_token=lambda _: None)
    assert github.requests == ()


def test_github_unreachable_is_a_warning_not_a_stop() -> None:
    runner = RunnerConfig.model_validate(
        {"github_token_env": "T", "endpoints": {"github_api": "http://127.0.0.1:9/"}}  # discard port: refused
    )
    check = check_github(runner, {"T": "ghp_x"}, repositories=1, on_token=lambda _: None)
    assert check.token == "ghp_x"
    (warning,) = check.warnings
    assert warning.startswith("the GitHub token in T could not be checked: cannot reach http://127.0.0.1:9/rate_limit")


def test_the_production_api_is_githubs() -> None:
    assert RunnerConfig().endpoints.github_api == "https://api.github.com/"
    assert RunnerConfig().github_token_env is None
