"""Test doubles for runner.auth: JWTs minted at run time, credentials that follow azure-core's `get_token`
protocol, and settings that satisfy `AuthSettings`."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken

from runner.auth.source import TokenSource

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "11111111-2222-3333-4444-555555555555"
CONNECTION = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SYSTEM_TOKEN = "system-access-token-value-0123456789"

# What an AzureCLI@2 step with a workload identity service connection provides, plus the mapped system token.
PIPELINES_ENV = {
    "AZURESUBSCRIPTION_TENANT_ID": TENANT,
    "AZURESUBSCRIPTION_CLIENT_ID": CLIENT,
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": CONNECTION,
    "SYSTEM_ACCESSTOKEN": SYSTEM_TOKEN,
    "SYSTEM_OIDCREQUESTURI": "https://dev.azure.com/contoso/00000000-0000-0000-0000-000000000000/",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_jwt(**claims: Any) -> str:
    """A JWT with a random signature: enough for code that reads the payload and never the signature."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{b64url(secrets.token_bytes(64))}"


def jwt_expiring(at: datetime, **claims: Any) -> str:
    return mint_jwt(exp=int(at.timestamp()), **claims)


def access_token(expires_at: datetime, **claims: Any) -> AccessToken:
    """What an azure-identity credential returns: a JWT and its expiry in epoch seconds."""
    return AccessToken(jwt_expiring(expires_at, **claims), int(expires_at.timestamp()))


class ScriptedCredential:
    """Answers `get_token` from a script: each entry is returned, or raised when it is an exception; the last
    entry repeats."""

    def __init__(self, script: Sequence[AccessToken | Exception]) -> None:
        self._script = list(script)
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.scopes.append(scopes)
        entry = self._script.pop(0) if len(self._script) > 1 else self._script[0]
        if isinstance(entry, Exception):
            raise entry
        return entry

    def close(self) -> None:
        self.closed = True


@dataclass
class CredentialFactory:
    """Builds one ScriptedCredential per call, each with the next script; remembers what it built."""

    scripts: list[Sequence[AccessToken | Exception]]
    built: list[ScriptedCredential] = field(default_factory=list)

    def __call__(self) -> ScriptedCredential:
        script = self.scripts[len(self.built)] if len(self.built) < len(self.scripts) else self.scripts[-1]
        credential = ScriptedCredential(script)
        self.built.append(credential)
        return credential


def source_of(
    *expiries: datetime, mode: str = "pipelines", refreshable: bool = True
) -> tuple[TokenSource, CredentialFactory]:
    """A real TokenSource whose n-th credential instance hands out a token expiring at `expiries[n]`."""
    factory = CredentialFactory([[access_token(at)] for at in expiries])
    source = TokenSource(
        mode,
        factory,
        looked_for="the test's variables",
        remedy="fix the test",
        refreshable=refreshable,
    )
    return source, factory


class Clock:
    """An injected clock: `now()` returns the current time; tests move it with `advance`."""

    def __init__(self, start: datetime = NOW, *, step: timedelta = timedelta(0)) -> None:
        self.current = start
        self.step = step  # added after every reading, to model time passing between calls

    def now(self) -> datetime:
        reading = self.current
        self.current += self.step
        return reading

    def advance(self, by: timedelta) -> None:
        self.current += by


@dataclass(frozen=True)
class Settings:
    """Satisfies runner.auth.AuthSettings the way a frozen config model does."""

    mode: str
    token_env: str = "RENOVATE_TOKEN"
    margin: timedelta = timedelta(minutes=5)
    floor: timedelta = timedelta(minutes=5)


def failing(error: Exception) -> Callable[[object], ScriptedCredential]:
    """A mode `build` whose credential raises `error` on every request."""
    return lambda _environ: ScriptedCredential([error])


def working(expires_at: datetime, **claims: Any) -> Callable[[object], ScriptedCredential]:
    """A mode `build` whose credential hands out a token expiring at `expires_at`."""
    return lambda _environ: ScriptedCredential([access_token(expires_at, **claims)])


def executable(directory: Path, name: str) -> None:
    """An executable file `name` in `directory`, so `shutil.which` finds it there (it is never run)."""
    path = directory / name
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)
