"""The runner's Azure DevOps client against the Azure DevOps double, on 127.0.0.1 and without Docker: what the
preflight, discovery, azure_access and azure_devops tests share."""

from __future__ import annotations

from runner.azure_devops import AzureDevOpsClient
from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey


def client_for(double: AzureDevOpsDouble, key: SigningKey, *, oid: str = TEST_OID) -> AzureDevOpsClient:
    """A client whose every call carries a fresh token for the identity `oid`; retries never sleep."""
    return AzureDevOpsClient(
        double.organization_url, lambda: key.mint(oid=oid), vssps_url=double.vssps_url, sleep=lambda _s: None
    )
