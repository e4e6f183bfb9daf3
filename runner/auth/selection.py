"""Choosing the auth mode: the configured one, or with `auto` the first mode whose inputs are present and that
returns a token."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from runner.auth.failures import CredentialError
from runner.auth.modes import Mode, modes_for
from runner.auth.settings import MODE_NAMES, AuthSettings
from runner.auth.source import TokenSource
from runner.errors import AuthError

log = structlog.get_logger()

_AUTO_REMEDY = (
    "What to do: make one of these modes work here - for example run `az login` (or `azd auth login`) on "
    "a workstation, or in Azure Pipelines run the sweep in an AzureCLI@2 step with a workload identity "
    "service connection and `env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)}` - or set auth mode to one of "
    "them to see its full error."
)


def make_token_source(auth: AuthSettings, environ: Mapping[str, str]) -> TokenSource:
    """The token source for `auth.mode`; raises AuthError when that mode (with auto: every mode) is unusable.

    An explicit mode builds its credential here, so bad inputs fail early, but asks for no token yet; auto
    asks each candidate for a token and keeps the first that answers.
    """
    return select_token_source(auth.mode, environ, modes_for(auth))


def select_token_source(mode_name: str, environ: Mapping[str, str], modes: Sequence[Mode]) -> TokenSource:
    """`make_token_source` over an explicit list of modes (tests pass modes with fake credentials)."""
    if mode_name == "auto":
        return _first_working(environ, modes)
    mode = next((mode for mode in modes if mode.name == mode_name), None)
    if mode is None:
        raise AuthError(f"unknown auth mode '{mode_name}'. What to do: use one of {', '.join(MODE_NAMES)}.")
    missing = mode.missing(environ)
    if missing and mode.inputs_required:
        raise AuthError(
            f"auth mode '{mode.name}' cannot run here: it uses {mode.looked_for} ({missing}). What to do: {mode.remedy}"
        )
    return mode.source(environ)


def _first_working(environ: Mapping[str, str], modes: Sequence[Mode]) -> TokenSource:
    attempts: list[str] = []
    for mode in modes:
        missing = mode.missing(environ)
        if missing:
            attempts.append(f"  {mode.name}: not applicable: looked for {mode.looked_for} ({missing})")
            continue
        try:
            source = mode.source(environ)
            token = source.token()
        except CredentialError as error:
            attempts.append(f"  {mode.name}: failed: {error.reason}")
            continue
        log.info("auth.mode_selected", mode=mode.name, identity=token.identity, skipped=len(attempts))
        return source
    raise AuthError(
        "auth mode 'auto' found no way to get an Azure DevOps token. Tried, in order:\n"
        + "\n".join(attempts)
        + "\n"
        + _AUTO_REMEDY
    )
