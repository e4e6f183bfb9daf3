"""What the auth code needs from the configuration, as a protocol the config models satisfy."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

# In the order `auto` tries them; `auto` itself comes first.
MODE_NAMES = ("auto", "pipelines", "azure-cli", "workload-identity", "managed-identity", "azd", "token-env")


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
