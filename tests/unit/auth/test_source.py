"""TokenSource: cached vs fresh tokens, one request at a time, and failures turned into AuthErrors that name
the mode and never a secret."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.identity import CredentialUnavailableError

from runner.auth import ADO_SCOPE, TokenSource
from runner.auth.failures import CredentialError
from runner.errors import AuthError, ExitCode

from .fakes import NOW, SYSTEM_TOKEN, CredentialFactory, access_token, mint_jwt, source_of


def test_token_asks_the_same_credential_for_the_ado_scope() -> None:
    source, factory = source_of(NOW + timedelta(hours=1))

    first, second = source.token(), source.token()

    assert len(factory.built) == 1
    assert factory.built[0].scopes == [(ADO_SCOPE,), (ADO_SCOPE,)]
    assert first.expires_on == second.expires_on == NOW + timedelta(hours=1)
    assert first.mode == "pipelines"


def test_fresh_token_comes_from_a_new_credential_that_then_serves_token() -> None:
    source, factory = source_of(NOW + timedelta(minutes=10), NOW + timedelta(minutes=70))

    cached = source.token()
    fresh = source.fresh_token()
    after = source.token()

    assert cached.expires_on == NOW + timedelta(minutes=10)
    assert fresh.expires_on == after.expires_on == NOW + timedelta(minutes=70)
    assert len(factory.built) == 2
    assert factory.built[0].closed  # the replaced credential's HTTP session is released
    assert not factory.built[1].closed


def test_a_failed_fresh_token_keeps_the_current_credential() -> None:
    factory = CredentialFactory(
        [[access_token(NOW + timedelta(minutes=10))], [CredentialUnavailableError("no OIDC token")]]
    )
    source = TokenSource("pipelines", factory, looked_for="x", remedy="y")

    with pytest.raises(AuthError, match="no OIDC token"):
        source.fresh_token()

    assert source.token().expires_on == NOW + timedelta(minutes=10)
    assert not factory.built[0].closed


class SlowCredential:
    """Records how many requests overlap; each takes a few milliseconds."""

    def __init__(self) -> None:
        self.active = 0
        self.most_at_once = 0
        self._count_lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        with self._count_lock:
            self.active += 1
            self.most_at_once = max(self.most_at_once, self.active)
        time.sleep(0.005)
        with self._count_lock:
            self.active -= 1
        return access_token(NOW + timedelta(hours=1))


def test_worker_threads_are_served_one_request_at_a_time() -> None:
    credential = SlowCredential()
    source = TokenSource("azure-cli", lambda: credential, looked_for="x", remedy="y")

    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(lambda _: source.token(), range(12)))

    assert len(tokens) == 12
    assert credential.most_at_once == 1


def failure_of(error: Exception) -> CredentialError:
    source = TokenSource(
        "pipelines",
        CredentialFactory([[error]]),
        looked_for="AZURESUBSCRIPTION_* and SYSTEM_ACCESSTOKEN",
        remedy="map SYSTEM_ACCESSTOKEN",
        secrets=[SYSTEM_TOKEN],
    )
    with pytest.raises(CredentialError) as raised:
        source.token()
    return raised.value


def test_a_credential_failure_names_the_mode_what_it_uses_and_what_to_do() -> None:
    error = failure_of(CredentialUnavailableError("Missing value for the SYSTEM_OIDCREQUESTURI environment variable."))

    assert str(error) == (
        "auth mode 'pipelines' could not get an Azure DevOps token: Missing value for the "
        "SYSTEM_OIDCREQUESTURI environment variable. It uses AZURESUBSCRIPTION_* and SYSTEM_ACCESSTOKEN. "
        "What to do: map SYSTEM_ACCESSTOKEN"
    )
    assert error.mode == "pipelines"
    assert isinstance(error, AuthError)
    assert error.exit_code == ExitCode.AUTH


def test_secrets_and_jwts_in_a_failure_are_masked_and_not_chained() -> None:
    assertion = mint_jwt(sub="sc://contoso/project/connection")

    error = failure_of(ClientAuthenticationError(f"refused {SYSTEM_TOKEN} with assertion {assertion}"))

    assert error.reason == "refused **redacted** with assertion **redacted**"
    assert SYSTEM_TOKEN not in str(error)
    assert assertion not in str(error)
    assert error.__cause__ is None
    assert error.__suppress_context__


def test_only_the_first_line_of_a_long_failure_is_kept() -> None:
    error = failure_of(
        ClientAuthenticationError("AADSTS7000215: Invalid client secret provided.\nTrace ID: 1\nTimestamp: 2")
    )

    assert error.reason == "AADSTS7000215: Invalid client secret provided"


def test_a_very_long_reason_is_capped() -> None:
    error = failure_of(ServiceRequestError("connection refused " * 40))

    assert len(error.reason) == 300
    assert error.reason.endswith("…")


def test_a_credential_that_cannot_be_built_fails_when_the_source_is_made() -> None:
    def bad_tenant() -> Any:
        raise ValueError("Invalid tenant ID provided.")

    with pytest.raises(CredentialError, match=r"auth mode 'azd' could not get .*: Invalid tenant ID provided\. It"):
        TokenSource("azd", bad_tenant, looked_for="x", remedy="y")
