"""Azure DevOps tokens for integration and end-to-end tests: the pipeline's secret variable in CI, the developer's
own `azd` or `az` sign-in on a workstation - never a PAT kept in a file.

In CI the token is an environment variable of the test step (SECRET_INTEGRATION_TESTING_TOKEN by default), mapped
from a pipeline variable that an earlier step set (`renovate-runner token --variable IntegrationTestingToken`;
Azure Pipelines keeps names starting with `secret` for itself, so the pipeline variable needs another name):
`env: {SECRET_INTEGRATION_TESTING_TOKEN: $(IntegrationTestingToken)}`. Whatever the source, it must be an Entra
ID access token (a JWT that has not expired); PATs are refused. Every token is registered with `runner.secrets`.
The pytest fixtures built on this are in `runner.scenarios.pytest_plugin`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from runner.auth import AdoToken, AuthMode
from runner.auth.modes import AZD, AZURE_CLI
from runner.auth.selection import choose_modes, first_working
from runner.config.urls import normalise_organization
from runner.errors import AuthError, ConfigError
from runner.scenarios.tokens import ScenarioAuth, get_token

DEFAULT_VARIABLE = "SECRET_INTEGRATION_TESTING_TOKEN"
# A widely copied published pipeline spells the variable SECRET_INGETRATION_TESTING_TOKEN; teams that copied it
# keep that name, so the misspelling of any configured name is accepted too.
_SPELLING, _MISSPELLING = "INTEGRATION", "INGETRATION"
# Azure Pipelines sets TF_BUILD=True; GitHub Actions, GitLab CI and most other CI systems set CI.
CI_VARIABLES = ("TF_BUILD", "CI")
# On a workstation: the developer's own sign-in, azd first (the tool test projects are usually set up with).
DEVELOPER_MODES = (AZD, AZURE_CLI)
# What Azure Pipelines leaves in a value when the variable a `$(NAME)` macro names does not exist.
_UNEXPANDED_MACRO = re.compile(r"\$\((?P<name>[\w.]+)\)")
_ORGANIZATION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


def integration_token(
    environ: Mapping[str, str] | None = None, *, variable: str = DEFAULT_VARIABLE, mode: str = "auto"
) -> str:
    """An Azure DevOps token for the tests, registered as a secret; AuthError says what was tried.

    `mode="auto"`: in CI (TF_BUILD or CI set) the value of `variable` (or its INGETRATION spelling), else the
    developer's `azd`, then `az` sign-in. `mode="token-env"` always reads the variable; any other auth mode of
    runner.yaml (e.g. `pipelines` in an AzureCLI@2 step) asks that mode for a token.
    """
    env = os.environ if environ is None else environ
    return _token(env, variable_names(variable), mode).value


def organization_tokens(
    organizations: Iterable[str],
    environ: Mapping[str, str] | None = None,
    *,
    variable: str = DEFAULT_VARIABLE,
    mode: str = "auto",
) -> dict[str, str]:
    """Organization URL -> token, for tests that span organizations.

    Organizations are URLs or bare names (`contoso` is https://dev.azure.com/contoso/). In CI each organization's
    token comes from `<variable>_<ORGANIZATION>` (e.g. SECRET_INTEGRATION_TESTING_TOKEN_CONTOSO), else from
    `variable` itself. Elsewhere one token serves them all: an Entra ID token is accepted by every organization
    its principal is a user of.
    """
    env = os.environ if environ is None else environ
    urls = list(dict.fromkeys(organization_url(organization) for organization in organizations))
    if _reads_variables(env, mode):
        return {url: _from_variables(env, _names_for(variable, url)).value for url in urls}
    shared = _token(env, variable_names(variable), mode).value
    return dict.fromkeys(urls, shared)


def organization_url(name_or_url: str) -> str:
    """`contoso` or `https://dev.azure.com/contoso` -> `https://dev.azure.com/contoso/`."""
    text = name_or_url.strip()
    if "://" not in text:
        if not _ORGANIZATION_NAME.fullmatch(text):
            raise ConfigError(
                f"{text!r} is not an Azure DevOps organization; give its name (contoso) or URL "
                "(https://dev.azure.com/contoso/)"
            )
        return f"https://dev.azure.com/{text}/"
    try:
        return normalise_organization(text)
    except ValueError as error:
        raise ConfigError(f"the organization URL {error}") from None


def organization_variable(variable: str, organization: str) -> str:
    """`SECRET_INTEGRATION_TESTING_TOKEN_CONTOSO_DEV` for `https://dev.azure.com/contoso-dev/`."""
    parts = urlsplit(organization_url(organization))
    segments = [segment for segment in parts.path.split("/") if segment]
    # dev.azure.com/<org>/ names it in the path; the older <org>.visualstudio.com in the host.
    name = segments[0] if segments else (parts.hostname or "").split(".")[0]
    return f"{variable}_{re.sub(r'[^A-Z0-9]', '_', name.upper())}"


def variable_names(variable: str) -> tuple[str, ...]:
    """The variable and, when it has one, its INGETRATION spelling."""
    return tuple(dict.fromkeys((variable, variable.replace(_SPELLING, _MISSPELLING))))


def ci_marker(environ: Mapping[str, str]) -> str | None:
    """The variable that says this is a CI run, if any (`CI=false` does not count)."""
    for name in CI_VARIABLES:
        if environ.get(name, "").strip().lower() not in ("", "0", "false", "no"):
            return name
    return None


def _reads_variables(environ: Mapping[str, str], mode: str) -> bool:
    return mode == "token-env" or (mode == "auto" and ci_marker(environ) is not None)


def _names_for(variable: str, organization: str) -> tuple[str, ...]:
    """The organization's own variable first, then the shared one; each in both spellings."""
    return (*variable_names(organization_variable(variable, organization)), *variable_names(variable))


def _token(environ: Mapping[str, str], names: Sequence[str], mode: str) -> AdoToken:
    if _reads_variables(environ, mode):
        return _from_variables(environ, names)
    if mode == "auto":
        return _from_developer_sign_in(environ, names)
    return get_token(ScenarioAuth(mode=mode), environ)


def _from_variables(environ: Mapping[str, str], names: Sequence[str]) -> AdoToken:
    for name in names:
        value = environ.get(name, "").strip()
        if not value:
            continue
        if macro := _UNEXPANDED_MACRO.fullmatch(value):
            raise AuthError(
                f"{name} holds the text {value}: the pipeline has no variable {macro['name']}, so Azure Pipelines "
                "left the macro as it was. What to do: set it in an earlier step of the job with "
                f"`renovate-runner token --variable {macro['name']}`, or define it as a secret variable (or in a "
                "variable group)"
            )
        return get_token(ScenarioAuth(mode="token-env", token_env=name), environ)
    marker = ci_marker(environ)
    where = f"in CI ({marker} is set)" if marker else "in mode token-env"
    raise AuthError(
        f"no Azure DevOps token for the tests: {where} it is read from {' or '.join(names)}, and none is set. "
        "What to do: get one in an earlier step of the job, e.g. `renovate-runner token --variable "
        "IntegrationTestingToken` in an AzureCLI@2 step, and map it into the test step's environment with "
        f"`env: {{{names[0]}: $(IntegrationTestingToken)}}` - Azure Pipelines passes secret variables to a script "
        "only that way"
    )


def _from_developer_sign_in(environ: Mapping[str, str], names: Sequence[str]) -> AdoToken:
    trial = first_working(choose_modes(AuthMode.AUTO, environ, DEVELOPER_MODES), environ)
    if trial.token is not None:
        return trial.token
    tried = [f"  {' / '.join(names)}: not read, because this is not a CI run (neither TF_BUILD nor CI is set)"]
    tried += [f"  {attempt.mode}: {attempt.failure or attempt.missing}" for attempt in trial.attempts]
    raise AuthError(
        "no Azure DevOps token for the tests. Tried, in order:\n"
        + "\n".join(tried)
        + "\nWhat to do: sign in with `azd auth login` or `az login` as a user of the organization; in CI, "
        f"provide the token in {names[0]}."
    )
