"""The fault proxy: chosen requests get the fault, as many times as it says; the rest reach the double unchanged."""

from __future__ import annotations

import requests

from tests.doubles.azure_devops.double import AzureDevOpsDouble
from tests.doubles.azure_devops.fixtures import TEST_OID, SigningKey
from tests.doubles.faults import Fault, FaultProxy


def test_a_fault_answers_its_requests_then_lets_the_rest_through_to_the_double(
    azure_devops_double: AzureDevOpsDouble, ado_signing_key: SigningKey
) -> None:
    azure_devops_double.add_repository("Platform", "web", {"README.md": "hello\n"})
    azure_devops_double.grant(TEST_OID)
    fault = Fault(path=r"/_apis/git/repositories/web$", status=429, headers={"Retry-After": "7"}, times=2)
    with FaultProxy(azure_devops_double.base_url, [fault]) as proxy:
        url = proxy.url_for(azure_devops_double.organization_url) + "Platform/_apis/git/repositories/web"
        headers = {"Authorization": f"Bearer {ado_signing_key.mint()}"}
        answers = [requests.get(url, headers=headers, params={"api-version": "7.1"}, timeout=10) for _ in range(3)]
        unauthenticated = requests.get(url, params={"api-version": "7.1"}, timeout=10)

    assert [answer.status_code for answer in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[2].json()["name"] == "web"  # the double's own answer, passed on
    assert unauthenticated.status_code == 401  # the double still checks every request
    seen = [(request.status, request.injected) for request in proxy.seen]
    assert seen == [(429, True), (429, True), (200, False), (401, False)]
