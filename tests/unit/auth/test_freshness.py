"""The freshness rule, edge by edge, with an injected clock: keep, renew, shorten, or refuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import MagicMock

import docker
import pytest

from runner.auth import TokenGrant, TokenSource, grant_for_repository, make_token_source
from runner.config import AuthConfig, RepoConfig, RunnerConfig
from runner.errors import AuthError, TokenLifetimeError
from runner.repo_run import SweepState, run_repository
from runner.report.model import Reason, Status
from runner.run_context import RunContext

from .fakes import NOW, Clock, Settings, jwt_expiring, source_of

TIMEOUT = timedelta(minutes=30)
MARGIN = timedelta(minutes=5)
FLOOR = timedelta(minutes=5)


def grant(source: TokenSource, clock: Clock | None = None, timeout: timedelta = TIMEOUT) -> TokenGrant:
    return grant_for_repository(source, timeout, margin=MARGIN, floor=FLOOR, now=(clock or Clock()).now)


def test_a_cached_token_that_outlives_timeout_and_margin_is_used_as_it_is() -> None:
    source, factory = source_of(NOW + timedelta(hours=1))

    result = grant(source)

    assert result == TokenGrant(token=result.token, timeout=TIMEOUT, shortened=False, note=None)
    assert result.token.expires_on == NOW + timedelta(hours=1)
    assert len(factory.built) == 1  # no new credential was needed


def test_exactly_timeout_plus_margin_is_enough() -> None:
    source, factory = source_of(NOW + TIMEOUT + MARGIN)

    assert grant(source).timeout == TIMEOUT
    assert len(factory.built) == 1


def test_one_second_short_asks_a_new_credential() -> None:
    source, factory = source_of(NOW + TIMEOUT + MARGIN - timedelta(seconds=1), NOW + timedelta(minutes=75))

    result = grant(source)

    assert len(factory.built) == 2
    assert result.token.expires_on == NOW + timedelta(minutes=75)
    assert (result.timeout, result.shortened, result.note) == (TIMEOUT, False, None)


def test_a_fresh_token_still_too_short_shortens_the_timeout_and_says_so() -> None:
    source, _ = source_of(NOW + timedelta(minutes=20), NOW + timedelta(minutes=26, seconds=40))

    result = grant(source)

    assert result.shortened
    assert result.timeout == timedelta(minutes=21, seconds=40)
    assert result.token.expires_on == NOW + timedelta(minutes=26, seconds=40)
    assert result.note == (
        "timeout shortened from 30m to 21m 40s: the freshest token (auth mode 'pipelines') is valid for "
        "26m 40s more, and 5m must remain after the run"
    )


def test_a_shortened_timeout_exactly_at_the_floor_is_allowed() -> None:
    source, _ = source_of(NOW + FLOOR + MARGIN)

    result = grant(source)

    assert result.timeout == FLOOR
    assert result.shortened


def test_below_the_floor_the_repository_is_refused_with_what_to_do() -> None:
    source, _ = source_of(NOW + FLOOR + MARGIN - timedelta(seconds=1))

    with pytest.raises(TokenLifetimeError) as raised:
        grant(source)

    assert str(raised.value) == (
        "the freshest Azure DevOps token (auth mode 'pipelines') is valid for only 9m 59s more, but "
        "this repository needs 35m (timeout 30m + margin 5m), and shortening its timeout would leave less "
        "than the floor of 5m. What to do: lower the repository's timeout, or raise the token lifetime "
        "(a token lifetime policy for the identity)."
    )
    assert isinstance(raised.value, AuthError)


def test_an_expired_token_says_how_long_ago() -> None:
    source, _ = source_of(NOW - timedelta(minutes=2))

    with pytest.raises(TokenLifetimeError, match=r"\(auth mode 'pipelines'\) expired 2m ago, but this repository"):
        grant(source)


def test_time_passing_between_the_two_requests_is_counted() -> None:
    # The fresh token expires at 12:35 and is checked at 12:01 (the cached one was checked at 12:00): 34m are
    # left, one short of 30m + 5m. Checked against the earlier reading, it would have been just enough.
    clock = Clock(step=timedelta(minutes=1))
    source, _ = source_of(NOW + timedelta(minutes=10), NOW + timedelta(minutes=35))

    result = grant(source, clock)

    assert result.timeout == timedelta(minutes=29)
    assert "is valid for 34m more" in (result.note or "")


def test_a_fraction_of_a_second_is_dropped_so_the_run_ends_before_the_token() -> None:
    source, _ = source_of(NOW + timedelta(minutes=20))
    clock = Clock(NOW + timedelta(milliseconds=300))

    result = grant(source, clock)

    assert result.timeout == timedelta(minutes=14, seconds=59)


def test_a_later_repository_gets_the_renewed_token_without_asking_again() -> None:
    source, factory = source_of(NOW + timedelta(minutes=10), NOW + timedelta(minutes=90))
    clock = Clock()

    grant(source, clock)
    clock.advance(timedelta(minutes=5))
    second = grant(source, clock)

    assert len(factory.built) == 2
    assert second.token.expires_on == NOW + timedelta(minutes=90)


def test_a_repository_whose_freshest_token_is_below_the_floor_fails_with_reason_token_lifetime(
    tmp_path: Path,
) -> None:
    source, factory = source_of(NOW + FLOOR + MARGIN - timedelta(seconds=1))
    engine = MagicMock(spec=docker.DockerClient)
    handed_out: list[str] = []
    state = SweepState(
        client=engine,
        context=RunContext(
            run_id="unit",
            run_lock=tmp_path / "lock",
            runner=RunnerConfig(
                organization="https://dev.azure.com/contoso/", auth=AuthConfig(margin=MARGIN, floor=FLOOR)
            ),
            image="renovate",
            dry_run=False,
            ca_bundle=None,
            host_environ={},
            report_dir=tmp_path,
        ),
        token_source=source,
        on_token=handed_out.append,
        now=Clock().now,
    )
    repo = RepoConfig(repository="Platform/web", timeout=TIMEOUT, source=tmp_path / "repos" / "web.yaml")

    outcome = run_repository(repo, 0, state)

    assert (outcome.status, outcome.reason, outcome.log) == (Status.FAILED, Reason.TOKEN_LIFETIME, None)
    assert (outcome.detail or "").startswith(
        "the freshest Azure DevOps token (auth mode 'pipelines') is valid for only 9m 59s more"
    )
    assert len(factory.built) == 2  # the cached token, then a new credential's, were both too short
    assert handed_out == []  # neither reached a container, nor even the pipeline's secret masking
    assert engine.mock_calls == []  # no container was started


def test_a_token_that_cannot_refresh_says_so_when_refused() -> None:
    # token-env checks expiry against the real clock, so this token lives 8 real minutes; the injected clock
    # starts at the real now, so the grant sees 8m left: too little for 30m + 5m, and 3m is below the floor.
    start = datetime.now(UTC).replace(microsecond=0)
    value = jwt_expiring(start + timedelta(minutes=8))
    source = make_token_source(Settings(mode="token-env", token_env="ADO_TOKEN"), {"ADO_TOKEN": value})

    with pytest.raises(TokenLifetimeError) as raised:
        grant(source, Clock(start))

    message = str(raised.value)
    assert "(auth mode 'token-env') is valid for only 8m more" in message
    assert "Auth mode 'token-env' cannot refresh: put a current Entra ID access token" in message
    assert "for Azure DevOps in ADO_TOKEN" in message
    assert value not in message


def test_a_source_that_cannot_refresh_still_gets_a_shortened_timeout() -> None:
    source, _ = source_of(NOW + timedelta(minutes=15), mode="token-env", refreshable=False)

    result = grant(source)

    assert result.timeout == timedelta(minutes=10)
    assert "auth mode 'token-env'" in (result.note or "")
