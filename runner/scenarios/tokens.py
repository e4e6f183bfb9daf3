"""Azure DevOps tokens for the scenario commands and helpers: the sweep's auth modes, without a configuration
directory.

A command takes `--mode` and `--token-env` (see `add_auth_arguments`), turns them into `ScenarioAuth` (which
satisfies `runner.auth.AuthSettings`, like the `auth:` section of runner.yaml) and asks `get_token` for a token.
Every token obtained is registered with `runner.secrets`, so the runner's own output masks it.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from runner.auth import MODE_NAMES, AdoToken, AuthSettings, make_token_source
from runner.durations import format_duration

DEFAULT_TOKEN_ENV = "RENOVATE_TOKEN"  # noqa: S105 - the name of a variable, not a secret


@dataclass(frozen=True, kw_only=True)
class ScenarioAuth:
    """Auth settings from command-line flags; satisfies `runner.auth.AuthSettings`.

    `margin` and `floor` only matter to a sweep's freshness rule; they keep runner.yaml's defaults.
    """

    mode: str = "auto"
    token_env: str = DEFAULT_TOKEN_ENV
    margin: timedelta = timedelta(minutes=5)
    floor: timedelta = timedelta(minutes=5)


def get_token(auth: AuthSettings, environ: Mapping[str, str]) -> AdoToken:
    """A token through `auth.mode`, now. Raises AuthError (exit 3) saying what was tried and what to do."""
    return make_token_source(auth, environ).token()


def add_auth_arguments(parser: argparse.ArgumentParser, *, default_mode: str = "auto") -> None:
    """`--mode` and `--token-env`, with the same meaning as `auth.mode` and `auth.token_env` in runner.yaml."""
    parser.add_argument(
        "--mode",
        choices=MODE_NAMES,
        default=default_mode,
        help=f"how to get the Entra ID token (default: {default_mode}; as auth.mode in runner.yaml)",
    )
    parser.add_argument(
        "--token-env",
        metavar="NAME",
        default=DEFAULT_TOKEN_ENV,
        help=f"the variable that mode token-env reads (default: {DEFAULT_TOKEN_ENV})",
    )


def auth_from_args(args: argparse.Namespace) -> ScenarioAuth:
    """The settings that `add_auth_arguments` parsed."""
    return ScenarioAuth(mode=args.mode, token_env=args.token_env)


def describe_token(token: AdoToken, now: datetime | None = None) -> str:
    """Who a token is for and how long it lasts - everything about it but its value."""
    return f"auth mode '{token.mode}', identity {token.identity}, {describe_validity(token, now)}"


def describe_validity(token: AdoToken, now: datetime | None = None) -> str:
    remaining = token.remaining(now or datetime.now(UTC))
    if remaining > timedelta(0):
        return f"valid until {token.expires_on.isoformat()} ({format_duration(remaining)} more)"
    return f"expired at {token.expires_on.isoformat()}"
