"""What the auth code needs from the configuration, as a protocol the config models satisfy."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Protocol


class AuthMode(StrEnum):
    """The auth modes, the one list of their names: `auto` first, then the others in the order `auto` tries them."""

    AUTO = "auto"
    PIPELINES = "pipelines"
    AZURE_CLI = "azure-cli"
    WORKLOAD_IDENTITY = "workload-identity"
    MANAGED_IDENTITY = "managed-identity"
    AZD = "azd"
    TOKEN_ENV = "token-env"  # noqa: S105 - the name of a mode, not a secret


MODE_NAMES = tuple(mode.value for mode in AuthMode)


class AuthSettings(Protocol):
    # Read-only properties, so frozen dataclasses and frozen pydantic models satisfy the protocol too.
    @property
    def mode(self) -> str: ...  # one of MODE_NAMES

    @property
    def token_env(self) -> str: ...  # the variable `token-env` reads, RENOVATE_TOKEN by default

    @property
    def margin(self) -> timedelta: ...  # how long a token must outlive a repository's timeout

    @property
    def floor(self) -> timedelta: ...  # the shortest timeout a repository may be shortened to
