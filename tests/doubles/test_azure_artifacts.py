"""The Azure Artifacts double answers npm, NuGet v3 and the PyPI simple index as the service does, takes an Entra
token as Basic password or Bearer, and refuses as the service refuses: 401 with its challenge, 403 without a role."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from .azure_artifacts import PEP_691_JSON, AzureArtifactsDouble, FeedPackages
from .azure_devops.fixtures import (
    TEST_OID,
    TEST_TENANT,
    SigningKey,
    ado_signing_key_fixture,  # noqa: F401 - pytest finds fixtures among module attributes
)
from .test_azure_devops_double import BAD_TOKENS, call

PACKAGES = FeedPackages(
    npm={"@contoso/widgets": {"1.0.0": "2024-01-10T10:00:00.000Z", "1.4.2": "2024-06-01T10:00:00.000Z"}},
    nuget={"Contoso.Logging": {"2.0.0": "2024-01-10T10:00:00+00:00", "2.1.0": "2024-05-01T10:00:00+00:00"}},
    pypi={"contoso-auth": {"1.0.0": "2024-01-10T10:00:00", "1.1.0": "2024-05-01T10:00:00"}},
)


def basic(token: str, user: str = "anything") -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


@pytest.fixture(name="feeds")
def feeds_fixture(ado_signing_key: SigningKey) -> Iterator[AzureArtifactsDouble]:
    with AzureArtifactsDouble(ado_signing_key.verifier(), organization="contoso", tenant_id=TEST_TENANT) as double:
        double.add_feed("Platform", "private", PACKAGES, readers=frozenset({TEST_OID}))
        yield double


def test_npm_packument_with_basic_credentials_carrying_the_token(
    feeds: AzureArtifactsDouble, ado_signing_key: SigningKey
) -> None:
    url = feeds.feed_url("Platform", "private") + "npm/registry/@contoso%2Fwidgets"
    status, _, body = call(url, authorization=basic(ado_signing_key.mint()))
    document = json.loads(body)
    assert status == 200
    assert document["dist-tags"] == {"latest": "1.4.2"}
    assert sorted(document["versions"]) == ["1.0.0", "1.4.2"]
    assert document["time"]["1.4.2"] == "2024-06-01T10:00:00.000Z"


def test_nuget_service_index_leads_to_registration_pages(
    feeds: AzureArtifactsDouble, ado_signing_key: SigningKey
) -> None:
    token = ado_signing_key.mint()
    status, _, body = call(feeds.feed_url("Platform", "private") + "nuget/v3/index.json", token=token)
    resources = {resource["@type"]: resource["@id"] for resource in json.loads(body)["resources"]}
    assert status == 200
    _, _, registration = call(resources["RegistrationsBaseUrl/3.6.0"] + "contoso.logging/index.json", token=token)
    (page,) = json.loads(registration)["items"]
    assert [item["catalogEntry"]["version"] for item in page["items"]] == ["2.0.0", "2.1.0"]
    _, _, flat = call(resources["PackageBaseAddress/3.0.0"] + "contoso.logging/index.json", token=token)
    assert json.loads(flat) == {"versions": ["2.0.0", "2.1.0"]}


@pytest.mark.parametrize(
    ("accept", "content_type", "check"),
    [
        (PEP_691_JSON, PEP_691_JSON, lambda text: [f["filename"] for f in json.loads(text)["files"]]),
        (
            "text/html",
            "text/html",
            lambda text: [line.split(">")[1].split("<")[0] for line in text.split("\n") if "<a " in line],
        ),
    ],
    ids=["PEP 691 JSON", "PEP 503 HTML"],
)
def test_pypi_simple_index_in_the_format_accept_asks_for(
    feeds: AzureArtifactsDouble,
    ado_signing_key: SigningKey,
    accept: str,
    content_type: str,
    check: Callable[[str], list[str]],
) -> None:
    url = feeds.feed_url("Platform", "private") + "pypi/simple/Contoso_Auth/"
    headers = {"Accept": accept, "Authorization": basic(ado_signing_key.mint())}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a loopback URL
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a loopback URL
        assert response.headers["Content-Type"] == content_type
        assert check(response.read().decode()) == ["contoso_auth-1.0.0.tar.gz", "contoso_auth-1.1.0.tar.gz"]


def test_no_credentials_get_the_services_challenge(feeds: AzureArtifactsDouble) -> None:
    status, headers, _ = call(feeds.feed_url("Platform", "private") + "nuget/v3/index.json")
    assert status == 401
    assert headers["www-authenticate"] == [
        f"Bearer authorization_uri=https://login.microsoftonline.com/{TEST_TENANT}",
        f'Basic realm="{feeds.base_url}/"',
        "TFS-Federated",
    ]


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_token_that_does_not_verify_is_refused_as_basic_password_and_as_bearer(
    feeds: AzureArtifactsDouble, ado_signing_key: SigningKey, case: str
) -> None:
    make, reason = BAD_TOKENS[case]
    url = feeds.feed_url("Platform", "private") + "npm/registry/@contoso%2Fwidgets"
    token = make(ado_signing_key)
    assert call(url, authorization=basic(token))[0] == 401
    assert call(url, token=token)[0] == 401
    assert [request.refusal for request in feeds.requests] == [reason, reason]


def test_a_token_of_another_tenant_is_refused(feeds: AzureArtifactsDouble, ado_signing_key: SigningKey) -> None:
    token = ado_signing_key.mint(tenant_id="00000000-0000-4000-8000-000000000000")
    assert call(feeds.feed_url("Platform", "private") + "nuget/v3/index.json", token=token)[0] == 401


def test_an_identity_without_a_role_on_the_feed_is_forbidden(
    feeds: AzureArtifactsDouble, ado_signing_key: SigningKey
) -> None:
    stranger = ado_signing_key.mint(oid="9d3c2b1a-0000-4000-8000-00000000cccc")
    status, _, body = call(feeds.feed_url("Platform", "private") + "nuget/v3/index.json", token=stranger)
    assert status == 403
    assert json.loads(body)["typeKey"] == "FeedNeedsPermissionsException"
    assert "You need to have 'ReadPackages'" in json.loads(body)["message"]


def test_unknown_feeds_and_packages_are_not_found(feeds: AzureArtifactsDouble, ado_signing_key: SigningKey) -> None:
    token = ado_signing_key.mint()
    assert call(feeds.feed_url("Platform", "other") + "nuget/v3/index.json", token=token)[0] == 404
    assert call(feeds.feed_url("Platform", "private") + "npm/registry/left-pad", token=token)[0] == 404
