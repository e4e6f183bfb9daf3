"""The doubles' injected latency: each request waits as long as a real service's round trip before its answer."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from tests.doubles.azure_devops import AzureDevOpsDouble
from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.latency import Latency
from tests.doubles.registry import RegistryDouble


def test_latency_is_parsed_in_milliseconds() -> None:
    latency = Latency.parse("rest=80ms,git=150ms,registry=40ms")
    assert latency == Latency(rest_s=0.08, git_s=0.15, registry_s=0.04)
    assert latency.describe() == "rest=80ms,git=150ms,registry=40ms"
    assert Latency.parse("git=5ms") == Latency(git_s=0.005)
    assert Latency.parse("none") is Latency.NONE


@pytest.mark.parametrize("text", ["rest=80", "dns=5ms", "rest=-1ms", "rest=fastms"])
def test_a_malformed_latency_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="latenc"):
        Latency.parse(text)


def _elapsed(url: str) -> tuple[float, int]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback double
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return time.monotonic() - started, status


def test_the_registry_answers_each_lookup_after_its_latency() -> None:
    with RegistryDouble(latency=Latency(registry_s=0.3)) as registry:
        elapsed, status = _elapsed(f"{registry.base_url}/lodash")
    assert status == 200
    assert elapsed >= 0.3


def test_the_registry_without_latency_does_not_wait() -> None:
    with RegistryDouble() as registry:
        elapsed, status = _elapsed(f"{registry.base_url}/lodash")
    assert status == 200
    assert elapsed < 0.3


def test_azure_devops_delays_rest_calls_by_the_rest_latency() -> None:
    verifier = JwtVerifier("unused", issuer="https://login.example/")
    with AzureDevOpsDouble(verifier, latency=Latency(rest_s=0.3, git_s=0.0)) as devops:
        elapsed, status = _elapsed(f"{devops.organization_url}_apis/ConnectionData")
    assert status == 401  # no credentials: refused, but only after the round trip
    assert elapsed >= 0.3
