"""Pytest fixtures for the identity doubles: a test CA, the Entra ID double with its registered identities, the
pipeline OIDC endpoint, a workload identity token file, the App Service managed identity endpoint, and the
process environments the real azure-identity credentials read.

Register them with ``pytest_plugins = [..., "tests.doubles.identity_fixtures"]`` or import the ones a module
uses. Each fixture is named in its decorator, so a test parameter with that name does not shadow the function.

azure-identity reads some variables only from the process environment (``SYSTEM_OIDCREQUESTURI``,
``IDENTITY_ENDPOINT``/``IDENTITY_HEADER``, ``AZURE_AUTHORITY_HOST`` when no authority is passed, and the CA
bundle through ``requests``), so the ``*_environ`` fixtures set their variables with ``monkeypatch`` and also
return them as a dict: pass that dict to ``make_token_source`` so the runner and azure-identity see the same
values. Every double is function-scoped, so request logs, issued tokens and the token lifetime start fresh in
each test, and no credential can answer one test from a token cached in another (credentials are per test too).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doubles.entra import EntraDouble, FederatedCredential, ServicePrincipal
from tests.doubles.managed_identity import ManagedIdentityDouble
from tests.doubles.pipeline_oidc import (
    OidcIssuer,
    PipelineOidcDouble,
    ServiceConnection,
    new_system_access_token,
    write_federated_token_file,
)
from tests.doubles.tls import LOOPBACK, LoopbackCA, system_ca_bundle

TENANT_ID = "5d1c2b7a-3e4f-4a6b-9c8d-7e6f5a4b3c2d"
ORGANIZATION = "contoso"
ORGANIZATION_ID = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"
PROJECT = "Platform"
PROJECT_ID = "6f5e4d3c-2b1a-4098-8765-43210fedcba9"

# The pipeline's service connection and the application behind it, federated to that connection's subject.
SERVICE_CONNECTION = ServiceConnection(
    id="3c9a7f15-8d2e-4b6a-a1c4-5e7f9b0d2c48", name="renovate-runner-wif", project=PROJECT
)
PIPELINE_APP = ServicePrincipal(
    client_id="a4e6c8b0-1d3f-4a5b-8c7d-9e0f1a2b3c4d",
    object_id="b5f7d9c1-2e4a-4b6c-9d8e-0f1a2b3c4d5e",
    display_name="renovate-runner (pipeline service connection)",
    federated_credentials=(
        FederatedCredential(
            issuer=f"https://vstoken.dev.azure.com/{ORGANIZATION_ID}",
            subject=f"sc://{ORGANIZATION}/{PROJECT}/{SERVICE_CONNECTION.name}",
        ),
    ),
)

# Entra Workload ID on AKS: the cluster's OIDC issuer, and the pod's service account as the subject.
WORKLOAD_ISSUER_URL = f"https://westeurope.oic.prod-aks.azure.com/{TENANT_ID}/8e2f4a6c-0b1d-4e3f-a5c7-d9e1f3a5b7c9/"
WORKLOAD_SUBJECT = "system:serviceaccount:renovate:renovate-runner"
WORKLOAD_APP = ServicePrincipal(
    client_id="c6a8e0d2-3f5b-4c7d-8e9f-1a2b3c4d5e6f",
    object_id="d7b9f1e3-4a6c-4d8e-9f0a-2b3c4d5e6f70",
    display_name="renovate-runner (workload identity)",
    federated_credentials=(FederatedCredential(issuer=WORKLOAD_ISSUER_URL, subject=WORKLOAD_SUBJECT),),
)

# The system-assigned identity of an App Service app.
MANAGED_IDENTITY = ServicePrincipal(
    client_id="e8c0a2f4-5b7d-4e9f-a0b1-3c4d5e6f7081",
    object_id="f9d1b3a5-6c8e-4fa0-b1c2-4d5e6f708192",
    display_name="renovate-runner (App Service)",
    managed_identity_resource_id=(
        "/subscriptions/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/resourcegroups/renovate"
        "/providers/Microsoft.Web/sites/renovate-runner"
    ),
)


@pytest.fixture(scope="session", name="loopback_ca")
def loopback_ca_fixture() -> LoopbackCA:
    """One test CA for the session: the doubles' HTTPS certificates chain to it."""
    return LoopbackCA()


@pytest.fixture(scope="session", name="ca_bundle")
def ca_bundle_fixture(loopback_ca: LoopbackCA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PEM bundle trusting the system CAs and the test CA (for REQUESTS_CA_BUNDLE, NODE_EXTRA_CA_CERTS)."""
    system = system_ca_bundle()
    path = tmp_path_factory.mktemp("tls") / "ca-bundle.pem"
    return loopback_ca.write_bundle(path, base_bundles=[system] if system else [])


@pytest.fixture(name="entra_double")
def entra_double_fixture(loopback_ca: LoopbackCA) -> Iterator[EntraDouble]:
    """The Entra ID double with the pipeline app, the workload identity app and the managed identity registered."""
    with EntraDouble(loopback_ca, tenant_id=TENANT_ID) as entra:
        for principal in (PIPELINE_APP, WORKLOAD_APP, MANAGED_IDENTITY):
            entra.register(principal)
        yield entra


@pytest.fixture(name="pipeline_oidc_double")
def pipeline_oidc_double_fixture(loopback_ca: LoopbackCA, entra_double: EntraDouble) -> Iterator[PipelineOidcDouble]:
    """The job's OIDC endpoint over HTTPS, allowed to use SERVICE_CONNECTION, its issuer trusted by Entra ID."""
    with PipelineOidcDouble(
        organization=ORGANIZATION,
        organization_id=ORGANIZATION_ID,
        project_id=PROJECT_ID,
        system_access_token=new_system_access_token(),
        ca=loopback_ca,
    ) as pipeline:
        pipeline.add_service_connection(SERVICE_CONNECTION)
        entra_double.trust_issuer(pipeline.issuer.url, pipeline.issuer.jwks())
        yield pipeline


@pytest.fixture(name="workload_issuer")
def workload_issuer_fixture(entra_double: EntraDouble) -> OidcIssuer:
    """The AKS cluster's OIDC issuer, trusted by Entra ID."""
    issuer = OidcIssuer.create(WORKLOAD_ISSUER_URL)
    entra_double.trust_issuer(issuer.url, issuer.jwks())
    return issuer


@pytest.fixture(name="federated_token_file")
def federated_token_file_fixture(workload_issuer: OidcIssuer, tmp_path: Path) -> Path:
    """A projected service account token for WORKLOAD_SUBJECT, valid for an hour."""
    path = tmp_path / "azure-identity-token"
    write_federated_token_file(path, workload_issuer, WORKLOAD_SUBJECT)
    return path


@pytest.fixture(name="managed_identity_double")
def managed_identity_double_fixture(entra_double: EntraDouble) -> Iterator[ManagedIdentityDouble]:
    """The App Service token endpoint for MANAGED_IDENTITY, on plain HTTP like App Service's own."""
    with ManagedIdentityDouble(entra_double, MANAGED_IDENTITY) as endpoint:
        yield endpoint


@pytest.fixture(name="entra_trust_environ")
def entra_trust_environ_fixture(
    entra_double: EntraDouble, ca_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The authority and CA bundle that send azure-identity, unmodified, to the Entra ID double."""
    environ = {
        "AZURE_AUTHORITY_HOST": entra_double.authority,
        "REQUESTS_CA_BUNDLE": str(ca_bundle),
        "SSL_CERT_FILE": str(ca_bundle),
    }
    # A proxy from the host environment must not see (or break) requests to the loopback doubles.
    for name in ("NO_PROXY", "no_proxy"):
        environ[name] = ",".join(filter(None, (LOOPBACK, "localhost", os.environ.get(name))))
    return _apply(environ, monkeypatch)


@pytest.fixture(name="pipelines_environ")
def pipelines_environ_fixture(
    entra_trust_environ: dict[str, str], pipeline_oidc_double: PipelineOidcDouble, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """What an AzureCLI@2 step with a workload identity service connection sees, pointed at the doubles:
    the AZURESUBSCRIPTION_* variables the task sets, the predefined SYSTEM_OIDCREQUESTURI and TF_BUILD, and
    SYSTEM_ACCESSTOKEN mapped from $(System.AccessToken)."""
    environ = {
        **entra_trust_environ,
        "TF_BUILD": "True",
        "AZURESUBSCRIPTION_CLIENT_ID": PIPELINE_APP.client_id,
        "AZURESUBSCRIPTION_TENANT_ID": TENANT_ID,
        "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": SERVICE_CONNECTION.id,
        "SYSTEM_OIDCREQUESTURI": pipeline_oidc_double.request_uri,
        "SYSTEM_ACCESSTOKEN": pipeline_oidc_double.system_access_token,
    }
    return _apply(environ, monkeypatch)


@pytest.fixture(name="workload_identity_environ")
def workload_identity_environ_fixture(
    entra_trust_environ: dict[str, str], federated_token_file: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """What the Entra Workload ID webhook injects into a pod, pointed at the doubles."""
    environ = {
        **entra_trust_environ,
        "AZURE_CLIENT_ID": WORKLOAD_APP.client_id,
        "AZURE_TENANT_ID": TENANT_ID,
        "AZURE_FEDERATED_TOKEN_FILE": str(federated_token_file),
    }
    return _apply(environ, monkeypatch)


@pytest.fixture(name="managed_identity_environ")
def managed_identity_environ_fixture(
    managed_identity_double: ManagedIdentityDouble, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """What App Service sets for a process whose app has a managed identity, pointed at the double."""
    for name in ("MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)  # they would select another managed identity source
    return _apply(managed_identity_double.environ(), monkeypatch)


def _apply(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return environ
