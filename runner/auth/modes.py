"""The auth modes: what each reads from the environment, how it builds its azure-identity credential, and what
to tell a user when it cannot.

Every value comes from the `environ` mapping the caller passes (the CLI passes `os.environ`), so a test
chooses an environment by building a dict. azure-identity itself still reads a few variables from the process
environment, which is what the CLI passes: `SYSTEM_OIDCREQUESTURI` (pipelines), the managed identity endpoint
variables, and `PATH` for `az` and `azd`.

azure-identity is imported by the builders, when a credential is made: importing it (with msal) is most of the
runner's start-up, which commands and sweeps that need no Entra ID token (`validate`, `schema`, local
repositories) should not pay.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import TokenCredential

from runner.auth.settings import AuthMode, AuthSettings
from runner.auth.source import TokenSource
from runner.auth.token_env import EnvironmentTokenCredential

Environ = Mapping[str, str]

# The first three are set by an AzureCLI@2 step for a service connection with workload identity federation;
# SYSTEM_ACCESSTOKEN must be mapped by the pipeline (`env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)}`);
# SYSTEM_OIDCREQUESTURI is predefined.
PIPELINES_VARIABLES = (
    "AZURESUBSCRIPTION_TENANT_ID",
    "AZURESUBSCRIPTION_CLIENT_ID",
    "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
    "SYSTEM_ACCESSTOKEN",
    "SYSTEM_OIDCREQUESTURI",
)
# Entra Workload ID (e.g. an AKS pod): a federated token file that the platform keeps fresh.
FEDERATED_TOKEN_VARIABLES = ("AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID")
# An AzureCLI@2 step with `addSpnToEnvironment: true`: the pipeline's OIDC token, issued as the step started.
AZURE_CLI_TASK_VARIABLES = ("idToken", "servicePrincipalId", "tenantId")
MANAGED_IDENTITY_VARIABLES = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT")


@dataclass(frozen=True, kw_only=True)
class Mode:
    name: str
    looked_for: str  # what the mode reads, in words
    remedy: str  # what to do when it cannot produce a token
    missing: Callable[[Environ], str | None]  # None when its inputs are present, else what is absent
    build: Callable[[Environ], TokenCredential]
    secrets: Callable[[Environ], Sequence[str]] = lambda _environ: ()
    refreshable: bool = True
    inputs_required: bool = True  # False when the credential also works without any variable

    def source(self, environ: Environ) -> TokenSource:
        """A token source for this mode; builds its credential now, so bad inputs fail here."""
        return TokenSource(
            self.name,
            lambda: self.build(environ),
            looked_for=self.looked_for,
            remedy=self.remedy,
            secrets=self.secrets(environ),
            refreshable=self.refreshable,
        )


def modes_for(settings: AuthSettings) -> tuple[Mode, ...]:
    """Every concrete mode, in the order `auto` tries them (the order of `AuthMode`)."""
    modes = {mode.name: mode for mode in (PIPELINES, AZURE_CLI, WORKLOAD_IDENTITY, MANAGED_IDENTITY, AZD)}
    modes[AuthMode.TOKEN_ENV] = _token_env(settings.token_env)
    return tuple(modes[name] for name in AuthMode if name is not AuthMode.AUTO)


def _unset(environ: Environ, names: Sequence[str]) -> list[str]:
    return [name for name in names if not environ.get(name)]


def _unset_text(environ: Environ, names: Sequence[str]) -> str | None:
    unset = _unset(environ, names)
    return f"unset: {', '.join(unset)}" if unset else None


def _not_on_path(command: str) -> Callable[[Environ], str | None]:
    def missing(environ: Environ) -> str | None:
        # An empty PATH finds nothing, rather than falling back to the process's own PATH.
        found = shutil.which(command, path=environ.get("PATH", ""))
        return None if found else f"`{command}` not found on PATH"

    return missing


# How long a credential may take to get a token from Entra ID (or a managed identity endpoint). azure-core's own
# defaults are 300 s per request and 10 retries with backoff up to 120 s, so a token endpoint that hangs or keeps
# failing would stall a sweep for most of an hour before saying so. With these, a request gives up after
# TOKEN_READ_TIMEOUT_S and is tried TOKEN_RETRIES more times (429 and 5xx answers, dropped connections, timeouts;
# Retry-After honoured), waiting 0.8, 1.6, 3.2 s in between: about a minute at most.
TOKEN_CONNECT_TIMEOUT_S = 10
TOKEN_READ_TIMEOUT_S = 15
TOKEN_RETRIES = 3
TRANSPORT_BOUNDS: Mapping[str, Any] = {
    "connection_timeout": TOKEN_CONNECT_TIMEOUT_S,
    "read_timeout": TOKEN_READ_TIMEOUT_S,
    "retry_total": TOKEN_RETRIES,
    "retry_backoff_max": 8,
}


def _http_options(environ: Environ) -> dict[str, Any]:
    """Keyword arguments every HTTP-based credential gets: the transport bounds, and the authority."""
    # azure-identity would read AZURE_AUTHORITY_HOST from the process; passing it keeps `environ` the input.
    host = environ.get("AZURE_AUTHORITY_HOST")
    return {**TRANSPORT_BOUNDS, **({"authority": host} if host else {})}


def _pipelines_credential(environ: Environ) -> TokenCredential:
    from azure.identity import AzurePipelinesCredential  # noqa: PLC0415 - lazily, see the module docstring

    return AzurePipelinesCredential(
        tenant_id=environ["AZURESUBSCRIPTION_TENANT_ID"],
        client_id=environ["AZURESUBSCRIPTION_CLIENT_ID"],
        service_connection_id=environ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"],
        system_access_token=environ["SYSTEM_ACCESSTOKEN"],
        **_http_options(environ),
    )


PIPELINES = Mode(
    name=AuthMode.PIPELINES,
    looked_for=(
        "AZURESUBSCRIPTION_TENANT_ID, AZURESUBSCRIPTION_CLIENT_ID, AZURESUBSCRIPTION_SERVICE_CONNECTION_ID "
        "(set by an AzureCLI@2 step), SYSTEM_ACCESSTOKEN and SYSTEM_OIDCREQUESTURI"
    ),
    remedy=(
        "run the sweep in an AzureCLI@2 step whose azureSubscription is a service connection with workload "
        "identity federation, with `env: {SYSTEM_ACCESSTOKEN: $(System.AccessToken)}`; the connection's "
        "identity must be a user of the Azure DevOps organization"
    ),
    missing=lambda environ: _unset_text(environ, PIPELINES_VARIABLES),
    build=_pipelines_credential,
    secrets=lambda environ: [environ.get("SYSTEM_ACCESSTOKEN", "")],
)


def _azure_cli_credential() -> TokenCredential:
    from azure.identity import AzureCliCredential  # noqa: PLC0415 - lazily, see the module docstring

    return AzureCliCredential()


AZURE_CLI = Mode(
    name=AuthMode.AZURE_CLI,
    looked_for="the `az` command on PATH, signed in",
    remedy=(
        "run `az login` as a user or service principal that is a member of the Azure DevOps organization, "
        "or run the sweep in an AzureCLI@2 step"
    ),
    missing=_not_on_path("az"),
    build=lambda _environ: _azure_cli_credential(),
)


def _workload_identity_missing(environ: Environ) -> str | None:
    federated = _unset(environ, FEDERATED_TOKEN_VARIABLES)
    from_task = _unset(environ, AZURE_CLI_TASK_VARIABLES)
    if not federated or not from_task:
        return None
    return f"unset: {', '.join(federated)}; and {', '.join(from_task)}"


def _workload_identity_credential(environ: Environ) -> TokenCredential:
    from azure.identity import ClientAssertionCredential, WorkloadIdentityCredential  # noqa: PLC0415 - lazily, see the module docstring

    if not _unset(environ, FEDERATED_TOKEN_VARIABLES):
        # Preferred: the platform rewrites the file, so this credential can refresh for the whole sweep.
        return WorkloadIdentityCredential(
            tenant_id=environ["AZURE_TENANT_ID"],
            client_id=environ["AZURE_CLIENT_ID"],
            token_file_path=environ["AZURE_FEDERATED_TOKEN_FILE"],
            **_http_options(environ),
        )
    id_token = environ["idToken"]
    return ClientAssertionCredential(
        tenant_id=environ["tenantId"],
        client_id=environ["servicePrincipalId"],
        func=lambda: id_token,
        **_http_options(environ),
    )


WORKLOAD_IDENTITY = Mode(
    name=AuthMode.WORKLOAD_IDENTITY,
    looked_for=(
        "AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID (Entra Workload ID), or idToken, "
        "servicePrincipalId and tenantId (an AzureCLI@2 step with addSpnToEnvironment: true)"
    ),
    remedy=(
        "enable Entra Workload ID for the pod's service account, or set addSpnToEnvironment: true on the "
        "AzureCLI@2 step (its idToken expires soon after the step starts, so prefer mode pipelines for long "
        "sweeps); the identity must be a member of the Azure DevOps organization"
    ),
    missing=_workload_identity_missing,
    build=_workload_identity_credential,
    secrets=lambda environ: [environ.get("idToken", "")],
)


def _managed_identity_missing(environ: Environ) -> str | None:
    any_set = len(_unset(environ, MANAGED_IDENTITY_VARIABLES)) < len(MANAGED_IDENTITY_VARIABLES)
    return None if any_set else "neither is set"


def _managed_identity_credential(client_id: str | None) -> TokenCredential:
    from azure.identity import ManagedIdentityCredential  # noqa: PLC0415 - lazily, see the module docstring

    return ManagedIdentityCredential(client_id=client_id, **TRANSPORT_BOUNDS)


MANAGED_IDENTITY = Mode(
    name=AuthMode.MANAGED_IDENTITY,
    looked_for=(
        "IDENTITY_ENDPOINT or MSI_ENDPOINT (App Service, Functions, Azure Arc, Cloud Shell, Azure ML), "
        "else an Azure VM's instance metadata service; AZURE_CLIENT_ID picks a user-assigned identity"
    ),
    remedy=(
        "enable a managed identity on the host and add it to the Azure DevOps organization; set "
        "AZURE_CLIENT_ID to use a user-assigned identity. On a VM, where no variable is set, choose auth "
        "mode managed-identity explicitly: auto does not probe the metadata service"
    ),
    missing=_managed_identity_missing,
    build=lambda environ: _managed_identity_credential(environ.get("AZURE_CLIENT_ID") or None),
    inputs_required=False,  # a VM's metadata service needs no variable
)


def _azd_credential() -> TokenCredential:
    from azure.identity import AzureDeveloperCliCredential  # noqa: PLC0415 - lazily, see the module docstring

    return AzureDeveloperCliCredential()


AZD = Mode(
    name=AuthMode.AZD,
    looked_for="the `azd` command on PATH, signed in with `azd auth login`",
    remedy="run `azd auth login` with an account that is a member of the Azure DevOps organization",
    missing=_not_on_path("azd"),
    build=lambda _environ: _azd_credential(),
)


def _token_env(variable: str) -> Mode:
    return Mode(
        name=AuthMode.TOKEN_ENV,
        looked_for=f"an Entra ID access token (a JWT) in {variable}, which cannot be refreshed",
        remedy=(
            f"put a current Entra ID access token for Azure DevOps in {variable} (for example from "
            "`az account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798`), or use a mode "
            "that gets and refreshes tokens itself"
        ),
        missing=lambda environ: None if environ.get(variable) else f"{variable} is unset",
        build=lambda environ: EnvironmentTokenCredential(variable, environ[variable]),
        secrets=lambda environ: [environ.get(variable, "")],
        refreshable=False,
    )
