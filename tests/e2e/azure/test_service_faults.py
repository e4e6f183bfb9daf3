"""Azure DevOps and Entra ID on a bad day: a fault proxy (tests/doubles/faults.py) between the runner and the
doubles answers chosen requests with 429 and `Retry-After`, 503, 500, or not in time, and passes the rest to the
doubles, which check them as the real services do. The runner is its own process, as in a pipeline step.

The runner's own calls to Azure DevOps (discovery, preflight) are retried within a stated bound (runner.http_retry:
5 attempts, waiting 1, 2, 4, 8 s or what Retry-After asks), then reported with exit code 8; the token endpoint's
failures within azure-identity's, bounded by the runner (runner.auth.modes: 15 s per request, 3 retries), then
reported with exit code 3. Either way before any repository starts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from runner.auth.modes import TOKEN_READ_TIMEOUT_S, TOKEN_RETRIES
from runner.http_retry import ATTEMPTS
from tests.doubles.faults import Fault, FaultProxy, Seen
from tests.doubles.tls import LoopbackCA

from .organization import Organization, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

REPOSITORY = "Platform/web"
FILES = {"package.json": package_json("web", {"lodash": "4.17.15"})}
TOKEN_PATH = r"/oauth2/v2\.0/token$"


def gaps(seen: Sequence[Seen]) -> list[float]:
    """Seconds between one request and the next."""
    return [later.at - earlier.at for earlier, later in itertools.pairwise(seen)]


def through(proxy: FaultProxy, organization: Organization) -> dict[str, Any]:
    """runner.yaml settings that send the runner's Azure DevOps calls through `proxy`."""
    return {
        "organization": proxy.url_for(organization.devops.organization_url),
        "endpoints": {"vssps": proxy.url_for(organization.devops.vssps_url)},
    }


def test_azure_devops_throttling_and_a_503_are_waited_out_and_the_sweep_runs(organization: Organization) -> None:
    organization.seed(REPOSITORY, FILES)
    faults = [
        Fault(path=r"/Platform/_apis/git/repositories$", status=429, headers={"Retry-After": "2"}, times=1),
        Fault(path=r"/_apis/connectionData$", status=503, times=1),
        Fault(path=r"/_apis/git/repositories/web$", status=429, headers={"Retry-After": "3"}, times=2),
    ]
    with FaultProxy(organization.devops.base_url, faults) as proxy:
        organization.configure(
            [REPOSITORY],  # discovered too: the file keeps its settings
            mode="pipelines",
            discover={"projects": ["Platform"], "include": ["*"]},
            **through(proxy, organization),
        )
        sweep = organization.sweep(organization.environ("pipelines"), "--dry-run")

    assert sweep.exit_code == 0, sweep.run.describe()
    assert sweep.outcomes[REPOSITORY]["status"] == "succeeded"
    listing = proxy.seen_at(r"/Platform/_apis/git/repositories$")[:2]
    connection = proxy.seen_at(r"/_apis/connectionData$")[:2]
    repository = proxy.seen_at(r"/_apis/git/repositories/web$")[:3]
    assert [request.status for request in listing] == [429, 200]
    assert [request.status for request in connection] == [503, 200]
    assert [request.status for request in repository] == [429, 429, 200]
    # Retry-After is honoured; without one, the first wait is a second.
    assert min(gaps(listing)) >= 2
    assert min(gaps(connection)) >= 1
    assert min(gaps(repository)) >= 3
    retries = sweep.run.events_named("http_retry")
    assert [event["wait_s"] for event in retries] == [2.0, 1.0, 3.0, 3.0]
    assert all(event["level"] == "warning" for event in retries)


def test_azure_devops_down_stops_the_sweep_before_any_repository_starts(organization: Organization) -> None:
    organization.seed(REPOSITORY, FILES)
    with FaultProxy(organization.devops.base_url, [Fault(path=r"/_apis/connectionData$", status=503)]) as proxy:
        organization.configure([REPOSITORY], mode="pipelines", **through(proxy, organization))
        sweep = organization.sweep(organization.environ("pipelines"))

    assert sweep.exit_code == 8, sweep.run.describe()
    connection = proxy.seen_at(r"/_apis/connectionData$")
    assert [request.status for request in connection] == [503] * ATTEMPTS
    assert sweep.run.stderr.splitlines()[-1] == (
        f"renovate-runner: HTTP 503 from {proxy.url_for(organization.devops.organization_url)}_apis/connectionData "
        f"on all {ATTEMPTS} attempts over 15s; the service is down or throttling this identity; try again later"
    )
    assert sum(gaps(connection)) >= 15
    assert not (sweep.report_dir / "report.json").exists()
    assert not [r for r in organization.devops.requests if "_git/" in r.path]  # Renovate never ran


@pytest.fixture(name="entra_proxy")
def entra_proxy_fixture(organization: Organization, loopback_ca: LoopbackCA) -> FaultProxy:
    """A fault proxy over TLS (the test CA's certificate) in front of the Entra double; faults are added per test."""
    return FaultProxy(
        organization.entra.authority, ssl_context=loopback_ca.server_context(), upstream_ca=organization.ca_bundle
    )


def test_a_token_endpoint_answering_500_is_retried_then_reported_before_anything_starts(
    organization: Organization, entra_proxy: FaultProxy
) -> None:
    organization.seed(REPOSITORY, FILES)
    organization.configure([REPOSITORY], mode="workload-identity")
    entra_proxy.faults.append(Fault(path=TOKEN_PATH, status=500, body=b'{"error": "temporarily_unavailable"}'))
    with entra_proxy:
        environ = organization.environ("workload-identity") | {"AZURE_AUTHORITY_HOST": entra_proxy.base_url}
        sweep = organization.sweep(environ)

    assert sweep.exit_code == 3, sweep.run.describe()
    assert [request.status for request in entra_proxy.seen_at(TOKEN_PATH)] == [500] * (1 + TOKEN_RETRIES)
    message = sweep.run.stderr.splitlines()[-1]
    assert message.startswith("renovate-runner: auth mode 'workload-identity' could not get an Azure DevOps token: ")
    assert "temporarily_unavailable" in message, message
    assert not (sweep.report_dir / "report.json").exists()
    assert organization.devops.requests == ()  # Azure DevOps was never asked anything


# Tokens live 10 minutes, and a repository needs one for its timeout plus the margin (5 + 5 minutes): so each
# repository asks Entra ID for a token of its own, after the one the sweep started with.
@pytest.mark.parametrize("token_lifetime", [600])
def test_a_token_endpoint_failing_during_the_sweep_fails_each_repository_with_reason_token(
    organization: Organization, entra_proxy: FaultProxy
) -> None:
    repositories = [REPOSITORY, "Platform/api"]
    for repository in repositories:
        organization.seed(repository, FILES)
    organization.configure(
        repositories, auth={"mode": "workload-identity", "margin": "5m", "floor": "1m"}, timeout="5m", concurrency=1
    )
    entra_proxy.faults.append(Fault(path=TOKEN_PATH, status=500, body=b'{"error": "server_error"}', after=1))
    with entra_proxy:
        environ = organization.environ("workload-identity") | {"AZURE_AUTHORITY_HOST": entra_proxy.base_url}
        sweep = organization.sweep(environ)

    assert sweep.exit_code == 1, sweep.run.describe()
    assert {name: (o["status"], o["reason"]) for name, o in sweep.outcomes.items()} == dict.fromkeys(
        repositories, ("failed", "token")
    )
    for outcome in sweep.outcomes.values():
        assert "auth mode 'workload-identity' could not get an Azure DevOps token" in outcome["detail"]
        assert "server_error" in outcome["detail"]
        assert outcome["log"] is None  # no container was started without a token that lasts
    statuses = [request.status for request in entra_proxy.seen_at(TOKEN_PATH)]
    assert statuses == [200] + [500] * (1 + TOKEN_RETRIES) * len(repositories)
    assert sweep.summary  # the whole report was written
    assert not [r for r in organization.devops.requests if "_git/" in r.path]


def test_a_token_endpoint_that_does_not_answer_in_time_is_asked_again_and_the_sweep_runs(
    organization: Organization, entra_proxy: FaultProxy
) -> None:
    organization.seed(REPOSITORY, FILES)
    organization.configure([REPOSITORY], mode="workload-identity")
    # Longer than the runner lets a token request take, once; then the endpoint answers again.
    entra_proxy.faults.append(Fault(path=TOKEN_PATH, status=200, stall_s=TOKEN_READ_TIMEOUT_S + 10, times=1))
    with entra_proxy:
        environ = organization.environ("workload-identity") | {"AZURE_AUTHORITY_HOST": entra_proxy.base_url}
        sweep = organization.sweep(environ, "--dry-run")

    assert sweep.exit_code == 0, sweep.run.describe()
    assert sweep.outcomes[REPOSITORY]["status"] == "succeeded"
    requests = entra_proxy.seen_at(TOKEN_PATH)
    assert [(request.injected, request.status) for request in requests[:2]] == [(True, 200), (False, 200)]
    # The client gave up on the stalled request at its read timeout, not when the proxy would have answered.
    assert TOKEN_READ_TIMEOUT_S <= requests[1].at - requests[0].at < TOKEN_READ_TIMEOUT_S + 10
    assert organization.refused_requests() == []


def test_a_token_azure_devops_rejects_stops_the_sweep_with_exit_3(organization: Organization) -> None:
    organization.seed(REPOSITORY, FILES)
    organization.configure([REPOSITORY], auth={"mode": "token-env"})
    # A real, signed, current Entra token, but for another resource: Azure DevOps refuses it (401).
    token = organization.entra.mint_access_token(audience="https://management.azure.com")
    environ = organization.environ("workload-identity") | {"RENOVATE_TOKEN": token}

    sweep = organization.sweep(environ)

    assert sweep.exit_code == 3, sweep.run.describe()
    assert sweep.run.stderr.splitlines()[-1] == (
        f"renovate-runner: Azure DevOps did not accept the token for {organization.devops.organization_url}"
        "_apis/connectionData (HTTP 401); check that the identity is a user of the organization and that the "
        "token is for Azure DevOps"
    )
    assert [request.reason for request in organization.devops.requests] == ["audience"]
    assert not (sweep.report_dir / "report.json").exists()
