"""Choosing the auth mode: the configured one, or with `auto` the first mode whose inputs are present and that
returns a token.

`choose_modes` is the one rule for which modes apply to an environment; `make_token_source` (a run), `plan` and the
test helpers all judge with it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from runner.auth.failures import CredentialError
from runner.auth.modes import Mode, modes_for
from runner.auth.settings import MODE_NAMES, AuthMode, AuthSettings
from runner.auth.source import TokenSource
from runner.auth.token import AdoToken
from runner.errors import AuthError

log = structlog.get_logger()

_AUTO_REMEDY = (
    "What to do: make one of these modes work here - for example run `az login` (or `azd auth login`) on "
    "a workstation, or in Azure Pipelines run the sweep in an AzureCLI@2 step with a workload identity "
    "service connection and `env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)}` - or set auth mode to one of "
    "them to see its full error."
)


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One mode, judged from the environment alone: no credential is built, no token requested."""

    mode: Mode
    missing: str | None  # what the environment lacks for it, e.g. `unset: AZURE_CLIENT_ID`; None: nothing
    applies: bool  # whether a run would ask it for a token here


@dataclass(frozen=True, kw_only=True)
class ModeChoice:
    """Which modes the configured auth mode stands for in one environment, in the order a run tries them."""

    configured: str
    candidates: tuple[Candidate, ...]  # the configured mode alone, or with auto every mode

    @property
    def applicable(self) -> tuple[Mode, ...]:
        return tuple(candidate.mode for candidate in self.candidates if candidate.applies)

    @property
    def decided(self) -> str | None:
        """The mode a run would use, when the environment alone decides it (several with auto: unknown yet)."""
        applicable = self.applicable
        return applicable[0].name if len(applicable) == 1 else None

    def explain(self) -> str:
        """What a run would do here, in a few words (for `plan`)."""
        applicable = [mode.name for mode in self.applicable]
        if self.configured != AuthMode.AUTO:
            [candidate] = self.candidates
            if candidate.applies:
                return f"{self.configured}: asks for a token at run time"
            return f"{self.configured} cannot run here ({candidate.missing}); a run would exit 3"
        if not applicable:
            looked_at = ", ".join(candidate.mode.name for candidate in self.candidates)
            return f"no mode finds its inputs here ({looked_at}); a run would exit 3"
        if len(applicable) == 1:
            return f"{applicable[0]}: the only mode that applies here"
        return f"decided at run time: the first of {', '.join(applicable)} that gives a token"


def choose_modes(mode_name: str, environ: Mapping[str, str], modes: Sequence[Mode]) -> ModeChoice:
    """The modes `mode_name` may use in `environ`, each with what it lacks; AuthError for an unknown name.

    An explicit mode applies when its inputs are present, or when it can work without any (managed identity on a
    VM asks the metadata service). `auto` takes only modes whose inputs are present: it never probes.
    """
    if mode_name == AuthMode.AUTO:
        return ModeChoice(
            configured=mode_name,
            candidates=tuple(_judge(mode, environ, explicit=False) for mode in modes),
        )
    mode = next((mode for mode in modes if mode.name == mode_name), None)
    if mode is None:
        raise AuthError(f"unknown auth mode '{mode_name}'. What to do: use one of {', '.join(MODE_NAMES)}.")
    return ModeChoice(configured=mode_name, candidates=(_judge(mode, environ, explicit=True),))


def _judge(mode: Mode, environ: Mapping[str, str], *, explicit: bool) -> Candidate:
    missing = mode.missing(environ)
    applies = missing is None or (explicit and not mode.inputs_required)
    return Candidate(mode=mode, missing=missing, applies=applies)


def make_token_source(auth: AuthSettings, environ: Mapping[str, str]) -> TokenSource:
    """The token source for `auth.mode`; raises AuthError when that mode (with auto: every mode) is unusable.

    An explicit mode builds its credential here, so bad inputs fail early, but asks for no token yet; auto
    asks each candidate for a token and keeps the first that answers.
    """
    return select_token_source(auth.mode, environ, modes_for(auth))


def select_token_source(mode_name: str, environ: Mapping[str, str], modes: Sequence[Mode]) -> TokenSource:
    """`make_token_source` over an explicit list of modes (tests pass modes with fake credentials)."""
    choice = choose_modes(mode_name, environ, modes)
    if mode_name != AuthMode.AUTO:
        [candidate] = choice.candidates
        mode = candidate.mode
        if not candidate.applies:
            raise AuthError(
                f"auth mode '{mode.name}' cannot run here: it uses {mode.looked_for} ({candidate.missing}). "
                f"What to do: {mode.remedy}"
            )
        return mode.source(environ)
    trial = first_working(choice, environ)
    if trial.source is None:
        raise AuthError(
            "auth mode 'auto' found no way to get an Azure DevOps token. Tried, in order:\n"
            + "\n".join(f"  {attempt.mode}: {attempt.explain()}" for attempt in trial.attempts)
            + "\n"
            + _AUTO_REMEDY
        )
    return trial.source


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """A mode that gave no token: not applicable here, or its credential failed."""

    mode: str
    looked_for: str
    missing: str | None  # set when it did not apply
    failure: str | None = None  # the credential's short reason, when it was asked

    def explain(self) -> str:
        if self.failure is not None:
            return f"failed: {self.failure}"
        return f"not applicable: looked for {self.looked_for} ({self.missing})"


@dataclass(frozen=True, kw_only=True)
class Trial:
    source: TokenSource | None  # of the first mode that gave a token; None when none did
    token: AdoToken | None  # that token
    attempts: tuple[Attempt, ...]  # the modes before it, or every mode when none gave one


def first_working(choice: ModeChoice, environ: Mapping[str, str]) -> Trial:
    """Asks the applicable modes for a token, in order, until one gives it."""
    attempts: list[Attempt] = []
    for candidate in choice.candidates:
        mode = candidate.mode
        if not candidate.applies:
            attempts.append(Attempt(mode=mode.name, looked_for=mode.looked_for, missing=candidate.missing))
            continue
        try:
            source = mode.source(environ)
            token = source.token()
        except CredentialError as error:
            attempts.append(Attempt(mode=mode.name, looked_for=mode.looked_for, missing=None, failure=error.reason))
            continue
        log.info("auth.mode_selected", mode=mode.name, identity=token.identity, skipped=len(attempts))
        return Trial(source=source, token=token, attempts=tuple(attempts))
    return Trial(source=None, token=None, attempts=tuple(attempts))
