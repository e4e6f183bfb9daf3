"""pytest fixtures for integration and end-to-end tests against Azure DevOps, with Entra ID tokens instead of PATs.

Installed with the package and loaded by pytest through its `pytest11` entry point, so a test project only uses
the fixtures (do not also list this module in `pytest_plugins`: pytest would register it twice):

- `ado_token` (session): a token from `runner.scenarios.testing.integration_token` - in CI the secret variable
  named by the ini option `ado_token_variable` (default SECRET_INTEGRATION_TESTING_TOKEN, the INGETRATION
  spelling accepted too), elsewhere the developer's `azd` or `az` sign-in.
- `ado_org` (session): the organization URL from the environment variable ADO_ORGANIZATION, else the ini option
  `ado_organization`; a bare name means https://dev.azure.com/<name>/.
- `ado_orgs` (session): organization URL -> token for every organization in ADO_ORGANIZATIONS, else the ini
  option `ado_organizations` (names or URLs, separated by commas or white space); in CI each organization's
  token comes from `<ado_token_variable>_<ORGANIZATION>` if set, else from the shared variable.

The environment wins over the ini file, so one pipeline can point the same tests at another organization. A
fixture that cannot get its value fails the tests that use it with a message that says what to set. Tokens are
registered with `runner.secrets`, and every test report (tracebacks, assertion diffs, local variables, captured
output) has them replaced by `**redacted**`; only what a test writes straight to the terminal (`-s`, live logs)
escapes that.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Mapping
from types import MappingProxyType
from typing import TypeVar

import pytest

from runner.errors import RunnerError
from runner.secrets import redact

# pytest loads this module at the start of every session of every project where the package is installed, so it
# imports runner.scenarios.testing (and azure-identity, about a second) only when a fixture is used. Hence the
# literal: it is runner.scenarios.testing.DEFAULT_VARIABLE, and a test keeps them equal.
DEFAULT_VARIABLE = "SECRET_INTEGRATION_TESTING_TOKEN"

TOKEN_VARIABLE_INI = "ado_token_variable"  # noqa: S105 - the name of an ini option, not a secret
ORGANIZATION_INI = "ado_organization"
ORGANIZATION_ENV = "ADO_ORGANIZATION"
ORGANIZATIONS_INI = "ado_organizations"
ORGANIZATIONS_ENV = "ADO_ORGANIZATIONS"

T = TypeVar("T")

# The tokens this session's fixtures handed out, so its reports can be redacted.
_HANDED_OUT = pytest.StashKey[set[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        TOKEN_VARIABLE_INI,
        f"variable holding the Azure DevOps token in CI (default {DEFAULT_VARIABLE})",
        default=DEFAULT_VARIABLE,
    )
    parser.addini(ORGANIZATION_INI, f"Azure DevOps organization for ado_org (overridden by {ORGANIZATION_ENV})")
    parser.addini(ORGANIZATIONS_INI, f"organizations for ado_orgs (overridden by {ORGANIZATIONS_ENV})")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_HANDED_OUT] = set()


@pytest.fixture(scope="session")
def ado_token(pytestconfig: pytest.Config) -> str:
    """An Entra ID token for Azure DevOps; never print it."""
    from runner.scenarios.testing import integration_token  # noqa: PLC0415 - see DEFAULT_VARIABLE

    variable = str(pytestconfig.getini(TOKEN_VARIABLE_INI))
    token = _or_fail(lambda: integration_token(variable=variable))
    pytestconfig.stash[_HANDED_OUT].add(token)
    return token


@pytest.fixture(scope="session")
def ado_org(pytestconfig: pytest.Config) -> str:
    """The Azure DevOps organization URL the tests run against, ending in `/`."""
    from runner.scenarios.testing import organization_url  # noqa: PLC0415 - see DEFAULT_VARIABLE

    configured = os.environ.get(ORGANIZATION_ENV) or str(pytestconfig.getini(ORGANIZATION_INI))
    if not configured.strip():
        pytest.fail(
            f"no Azure DevOps organization for ado_org: set {ORGANIZATION_ENV}, or `{ORGANIZATION_INI} = "
            "https://dev.azure.com/<org>/` in the pytest configuration",
            pytrace=False,
        )
    return _or_fail(lambda: organization_url(configured))


@pytest.fixture(scope="session")
def ado_orgs(pytestconfig: pytest.Config) -> Mapping[str, str]:
    """Organization URL -> token, for tests that span organizations; never print the tokens."""
    from runner.scenarios.testing import organization_tokens  # noqa: PLC0415 - see DEFAULT_VARIABLE

    configured = os.environ.get(ORGANIZATIONS_ENV) or str(pytestconfig.getini(ORGANIZATIONS_INI))
    organizations = [name for name in re.split(r"[\s,]+", configured) if name]
    if not organizations:
        pytest.fail(
            f"no Azure DevOps organizations for ado_orgs: set {ORGANIZATIONS_ENV}, or `{ORGANIZATIONS_INI} = "
            "contoso fabrikam` in the pytest configuration (names or URLs, separated by commas or spaces)",
            pytrace=False,
        )
    variable = str(pytestconfig.getini(TOKEN_VARIABLE_INI))
    tokens = _or_fail(lambda: organization_tokens(organizations, variable=variable))
    pytestconfig.stash[_HANDED_OUT].update(tokens.values())
    return MappingProxyType(tokens)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # A wrapper sees the finished report before any reporter (terminal, junitxml) renders it.
    report = yield
    tokens = item.config.stash.get(_HANDED_OUT, set())
    if tokens:
        redact_report(report, tokens)
    return report


def redact_report(report: pytest.TestReport, tokens: set[str]) -> None:
    """Replaces `tokens` in the report's failure text and captured output sections."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        path, line, reason = longrepr
        report.longrepr = (path, line, redact(reason, also=tokens))
    elif longrepr is not None:
        text = str(longrepr)
        redacted = redact(text, also=tokens)
        if redacted != text:  # keeps pytest's own rendering (colours) when there is nothing to hide
            report.longrepr = redacted
    report.sections = [(title, redact(content, also=tokens)) for title, content in report.sections]


def _or_fail(call: Callable[[], T]) -> T:
    try:
        return call()
    except RunnerError as error:
        message = str(error)
    # Outside the `except`, so pytest shows the message alone rather than a chain of two exceptions.
    pytest.fail(message, pytrace=False)
