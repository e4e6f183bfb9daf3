"""The token freshness rule: a token goes into a container only if it stays valid for the repository's timeout
plus a margin; otherwise ask for a newer one, then shorten the timeout, and below a floor refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from runner.auth.source import TokenSource
from runner.auth.token import AdoToken
from runner.durations import format_duration
from runner.errors import TokenLifetimeError


@dataclass(frozen=True)
class TokenGrant:
    token: AdoToken
    timeout: timedelta  # the repository's timeout, shortened when the token would not outlive it
    shortened: bool
    note: str | None  # why the timeout was shortened, for the repository's outcome


def grant_for_repository(
    source: TokenSource,
    timeout: timedelta,
    *,
    margin: timedelta,
    floor: timedelta,
    now: Callable[[], datetime],
) -> TokenGrant:
    """A token that outlives `timeout + margin`, or the freshest one with a timeout shortened to fit.

    Raises TokenLifetimeError when even the freshest token would leave less than `floor` to run.
    """
    needed = timeout + margin
    token = source.token()
    if token.remaining(now()) >= needed:
        return TokenGrant(token=token, timeout=timeout, shortened=False, note=None)
    token = source.fresh_token()
    remaining = token.remaining(now())
    if remaining >= needed:
        return TokenGrant(token=token, timeout=timeout, shortened=False, note=None)
    # Whole seconds, rounded down: the shortened run must still end before the token does.
    shortened = timedelta(seconds=int((remaining - margin).total_seconds()))
    if shortened < floor:
        raise TokenLifetimeError(_too_short(source, remaining, timeout, margin, floor))
    note = (
        f"timeout shortened from {format_duration(timeout)} to {format_duration(shortened)}: the freshest "
        f"token (auth mode '{source.mode}') is valid for {format_duration(remaining)} more, and "
        f"{format_duration(margin)} must remain after the run"
    )
    return TokenGrant(token=token, timeout=shortened, shortened=True, note=note)


def _too_short(
    source: TokenSource, remaining: timedelta, timeout: timedelta, margin: timedelta, floor: timedelta
) -> str:
    validity = (
        f"is valid for only {format_duration(remaining)} more"
        if remaining > timedelta(0)
        else f"expired {format_duration(-remaining)} ago"
    )
    message = (
        f"the freshest Azure DevOps token (auth mode '{source.mode}') {validity}, but this repository needs "
        f"{format_duration(timeout + margin)} (timeout {format_duration(timeout)} + margin "
        f"{format_duration(margin)}), and shortening its timeout would leave less than the floor of "
        f"{format_duration(floor)}. What to do: lower the repository's timeout, or raise the token lifetime "
        "(a token lifetime policy for the identity)"
    )
    if not source.refreshable:
        message += f". Auth mode '{source.mode}' cannot refresh: {source.remedy}"
    return message + "."
