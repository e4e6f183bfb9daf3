"""Which feeds a repository's Renovate options name, and the warning for one the identity may not read (against
the Azure Artifacts double, which refuses as the service does)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runner.feed_access import FeedUrl, feed_urls, feed_warnings
from tests.doubles.azure_artifacts import AzureArtifactsDouble, FeedPackages
from tests.doubles.azure_devops.fixtures import (
    TEST_OID,
    TEST_TENANT,
    SigningKey,
    ado_signing_key_fixture,  # noqa: F401 - pytest finds fixtures among module attributes
)
from tests.unit.conftest import ConfigFactory

PRODUCTION_HOSTS = ("pkgs.dev.azure.com", "pkgs.visualstudio.com")


def test_feed_urls_are_found_anywhere_in_the_options_on_the_feed_hosts_only() -> None:
    options = {
        "packageRules": [
            {"registryUrls": ["https://pkgs.dev.azure.com/contoso/Platform/_packaging/private/npm/registry/"]},
            {"registryUrls": ["https://pkgs.dev.azure.com/contoso/Platform/_packaging/private/nuget/v3/index.json"]},
            {"registryUrls": ["https://contoso.pkgs.visualstudio.com/_packaging/shared/pypi/simple/"]},
            {"registryUrls": ["https://registry.example.test/_packaging/elsewhere/npm/registry/"]},
        ],
        "labels": ["pkgs.dev.azure.com"],
    }
    assert feed_urls(options, PRODUCTION_HOSTS) == {
        FeedUrl(
            "contoso/Platform/private", "https://pkgs.dev.azure.com/contoso/Platform/_packaging/private/npm/registry/"
        ),
        FeedUrl("contoso/shared", "https://contoso.pkgs.visualstudio.com/_packaging/shared/pypi/simple/"),
    }


@pytest.fixture(name="feeds")
def feeds_fixture(ado_signing_key: SigningKey) -> Iterator[AzureArtifactsDouble]:
    with AzureArtifactsDouble(ado_signing_key.verifier(), organization="contoso", tenant_id=TEST_TENANT) as double:
        double.add_feed("Platform", "open", FeedPackages(), readers=frozenset({TEST_OID}))
        double.add_feed("Platform", "closed", FeedPackages())
        yield double


def test_only_a_feed_that_refuses_the_identity_gives_its_repositories_a_warning(
    feeds: AzureArtifactsDouble, ado_signing_key: SigningKey, make_config: ConfigFactory
) -> None:
    open_url, closed_url = feeds.feed_url("Platform", "open"), feeds.feed_url("Platform", "closed")
    runner_yaml = (
        f"organization: https://dev.azure.com/contoso\nendpoints: {{azure_artifacts: ['{feeds.base_url}/']}}\n"
    )
    config = make_config(
        runner_yaml,
        {
            "api.yaml": f"repository: P/api\nrenovate: {{registryUrls: ['{closed_url}nuget/v3/index.json']}}\n",
            "web.yaml": f"repository: P/web\nrenovate: {{registryUrls: ['{open_url}npm/registry/']}}\n",
        },
    )
    token = ado_signing_key.mint()

    warnings = feed_warnings(config.repos, config.runner, token=lambda: token, identity="the identity Bot (id-1)")

    assert warnings == {
        "P/api": (
            "the identity Bot (id-1) has no role on the Azure Artifacts feed contoso/Platform/closed, so Renovate "
            "cannot look up or update the packages it holds; grant it Feed Reader on the feed (Artifacts > closed "
            "> Feed settings > Permissions > Add users/groups)",
        )
    }
    assert [request.status for request in feeds.requests] == [403, 404]  # one question per feed


def test_no_question_when_azure_artifacts_is_off(feeds: AzureArtifactsDouble, make_config: ConfigFactory) -> None:
    closed_url = feeds.feed_url("Platform", "closed")
    config = make_config(
        f"organization: https://dev.azure.com/contoso\nazure_artifacts: false\n"
        f"endpoints: {{azure_artifacts: ['{feeds.base_url}/']}}\n",
        {"api.yaml": f"repository: P/api\nrenovate: {{registryUrls: ['{closed_url}nuget/v3/index.json']}}\n"},
    )
    assert feed_warnings(config.repos, config.runner, token=lambda: "unused", identity="x") == {}
    assert feeds.requests == ()


def test_a_feed_that_refuses_the_token_itself_says_to_give_it_its_own_credentials(
    feeds: AzureArtifactsDouble, ado_signing_key: SigningKey, make_config: ConfigFactory
) -> None:
    open_url = feeds.feed_url("Platform", "open")
    config = make_config(
        f"organization: https://dev.azure.com/contoso\nendpoints: {{azure_artifacts: ['{feeds.base_url}/']}}\n",
        {"web.yaml": f"repository: P/web\nrenovate: {{registryUrls: ['{open_url}npm/registry/']}}\n"},
    )
    other_tenant = ado_signing_key.mint(tenant_id="00000000-0000-4000-8000-000000000000")

    warnings = feed_warnings(config.repos, config.runner, token=lambda: other_tenant, identity="the identity X (1)")

    assert warnings == {
        "P/web": (
            "the Azure Artifacts feed contoso/Platform/open refused the token of the identity X (1); a feed of "
            "another organization or tenant does not take it - give that feed's own credentials in hostRules instead",
        )
    }
