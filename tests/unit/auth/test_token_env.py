"""Mode token-env: a JWT from the environment, taken as it is, never refreshed; anything else is refused."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from azure.identity import CredentialUnavailableError

from runner.auth import make_token_source
from runner.auth.token_env import EnvironmentTokenCredential
from runner.errors import AuthError
from runner.secrets import REDACTED, redact

from .fakes import NOW, Settings, jwt_expiring, mint_jwt


def a_pat() -> str:
    # Shaped like an Azure DevOps Personal Access Token: 52 base32 characters, no dots.
    return base64.b32encode(secrets.token_bytes(35)).decode().lower()[:52]


def in_an_hour() -> datetime:
    # The token-env credential compares against the real clock; an hour away leaves no room for flakiness.
    return datetime.now(UTC) + timedelta(hours=1)


def test_uses_the_jwt_from_renovate_token() -> None:
    expires = in_an_hour().replace(microsecond=0)
    value = jwt_expiring(expires, appid="app", oid="obj", tid="ten")

    source = make_token_source(Settings(mode="token-env"), {"RENOVATE_TOKEN": value})
    token = source.token()

    assert source.mode == "token-env"
    assert token.value == value
    assert token.mode == "token-env"
    assert token.identity == "appid=app oid=obj tid=ten"
    assert token.expires_on == expires


def test_reads_the_variable_the_config_names() -> None:
    value = jwt_expiring(in_an_hour())

    source = make_token_source(Settings(mode="token-env", token_env="ADO_TOKEN"), {"ADO_TOKEN": value})

    assert source.token().value == value


def test_says_it_cannot_refresh_and_fresh_token_is_the_same_token() -> None:
    value = jwt_expiring(in_an_hour())

    source = make_token_source(Settings(mode="token-env"), {"RENOVATE_TOKEN": value})

    assert source.refreshable is False
    assert "cannot be refreshed" in source.looked_for
    assert source.fresh_token().value == source.token().value == value


def test_a_pat_is_refused_without_echoing_it() -> None:
    pat = a_pat()

    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="token-env"), {"RENOVATE_TOKEN": pat})

    message = str(raised.value)
    assert "auth mode 'token-env'" in message
    assert "RENOVATE_TOKEN does not hold an Entra ID access token" in message
    assert "Personal Access Tokens (PATs) are not supported" in message
    assert "az account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798" in message
    assert pat not in message


def test_a_jwt_without_exp_is_refused() -> None:
    value = mint_jwt(appid="app")

    with pytest.raises(AuthError, match=r"has no numeric 'exp' claim; Personal Access Tokens \(PATs\)") as raised:
        make_token_source(Settings(mode="token-env"), {"RENOVATE_TOKEN": value})
    assert value not in str(raised.value)


def test_an_unset_variable_is_named() -> None:
    with pytest.raises(AuthError) as raised:
        make_token_source(Settings(mode="token-env", token_env="ADO_TOKEN"), {"RENOVATE_TOKEN": "x"})

    assert str(raised.value).startswith("auth mode 'token-env' cannot run here")
    assert "(ADO_TOKEN is unset)" in str(raised.value)


def test_an_expired_token_fails_when_asked_for() -> None:
    credential = EnvironmentTokenCredential(
        "RENOVATE_TOKEN", jwt_expiring(NOW), clock=(NOW + timedelta(seconds=1)).timestamp
    )

    with pytest.raises(
        CredentialUnavailableError, match=r"the token in RENOVATE_TOKEN expired at 2025-03-01T12:00:00\+00:00"
    ):
        credential.get_token("scope")


def test_an_expired_token_from_the_environment_is_an_auth_error() -> None:
    value = jwt_expiring(datetime.now(UTC) - timedelta(minutes=1))
    source = make_token_source(Settings(mode="token-env"), {"RENOVATE_TOKEN": value})

    with pytest.raises(AuthError, match="expired at") as raised:
        source.token()
    assert value not in str(raised.value)


def test_a_token_still_valid_is_returned_with_its_exp() -> None:
    value = jwt_expiring(NOW + timedelta(minutes=7))
    credential = EnvironmentTokenCredential("RENOVATE_TOKEN", value, clock=NOW.timestamp)

    access = credential.get_token("499b84ac-1321-427f-aa17-267ca6975798/.default")

    assert access.token == value
    assert access.expires_on == int((NOW + timedelta(minutes=7)).timestamp())


def test_the_token_is_registered_for_redaction() -> None:
    value = jwt_expiring(in_an_hour())

    make_token_source(Settings(mode="token-env"), {"RENOVATE_TOKEN": value}).token()

    assert redact(f"Authorization: Bearer {value}") == f"Authorization: Bearer {REDACTED}"
