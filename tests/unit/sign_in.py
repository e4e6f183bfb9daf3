"""Signing in without a cloud, for the tests of commands and helpers that get tokens: a process environment with
no CI, no auth inputs and an empty PATH (the `bin_dir` fixture, in conftest.py), JWTs minted at run time, and fake
`az` / `azd` executables that the real azure-identity credentials run."""

from __future__ import annotations

import json
import os
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.auth.fakes import jwt_expiring

# Variables that would select an auth mode, mark a CI run or hold a token, besides those with these prefixes.
_PREFIXES = ("AZURE", "AZURESUBSCRIPTION_", "SYSTEM_", "SECRET_", "ADO_", "RENOVATE_")
_NAMES = frozenset({"TF_BUILD", "CI", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET"})
_NAMES_ANY_CASE = frozenset({"idtoken", "serviceprincipalid", "tenantid"})

APP_ID = "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b"
OBJECT_ID = "1a2b3c4d-5e6f-4789-9abc-def012345678"
TENANT_ID = "2b3c4d5e-6f70-4819-8abc-def123456789"


def clear_auth_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clears every auth input and CI marker from the process environment; PATH becomes an empty directory,
    which is returned, where a test may put fake `az` or `azd` executables."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES) or name in _NAMES or name.lower() in _NAMES_ANY_CASE:
            monkeypatch.delenv(name)
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))
    return path


def a_jwt(*, valid_for: timedelta = timedelta(hours=1), **claims: Any) -> str:
    """An Entra-shaped access token for a service principal, minted for this test run."""
    identity = {"appid": APP_ID, "oid": OBJECT_ID, "tid": TENANT_ID, **claims}
    return jwt_expiring(datetime.now(UTC) + valid_for, **identity)


def fake_az(directory: Path, token: str) -> None:
    """An `az` that answers `az account get-access-token --output json` as a signed-in Azure CLI does."""
    expires_on = int(datetime.now(UTC).timestamp()) + 3600
    answer = {"accessToken": token, "expires_on": expires_on, "tenant": TENANT_ID, "tokenType": "Bearer"}
    _script(directory / "az", f"printf '%s\\n' {shlex.quote(json.dumps(answer))}")


def fake_azd(directory: Path, token: str) -> None:
    """An `azd` that answers `azd auth token --output json` as a signed-in Azure Developer CLI does."""
    expires_on = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = {"token": token, "expiresOn": expires_on}
    _script(directory / "azd", f"printf '%s\\n' {shlex.quote(json.dumps(answer))}")


def signed_out(directory: Path, name: str, message: str) -> None:
    """A CLI that is installed but not signed in: it prints `message` to stderr and fails."""
    _script(directory / name, f"printf '%s\\n' {shlex.quote(message)} >&2; exit 1")


def _script(path: Path, body: str) -> None:
    # printf is a shell builtin, so the script runs with PATH pointing only at the test's directory.
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
