"""One sweep of the fleet, two ways, each in a fresh organization of doubles:

- the anchor: what Renovate's own Azure Pipelines example and GitHub Action do, one Renovate container given every
  repository, which works through them one after another;
- renovate-runner: `renovate-runner run` as a pipeline step starts it, one container per repository.

Both use the same doubles (Entra ID, Azure DevOps, the registry), the same Renovate options and log level, full
mode (branches pushed, pull requests opened), and a cache that starts empty.
"""

from __future__ import annotations

import itertools
import json
import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker

from bench.containers_cpu import container_cpu_seconds
from bench.fleet import FLEET
from tests.doubles.latency import Latency
from tests.doubles.tls import LoopbackCA
from tests.e2e.azure.organization import Organization

_CA_IN_CONTAINER = "/etc/renovate-bench/ca-bundle.crt"
_SWEEP_TIMEOUT_S = 1800


@dataclass(frozen=True, kw_only=True)
class Environment:
    """What every sweep of one benchmark run shares."""

    docker: docker.DockerClient
    ca: LoopbackCA
    ca_bundle: Path
    scratch: Path


@dataclass(frozen=True, kw_only=True)
class SweepRun:
    wall_s: float
    container_cpu_s: float
    runner_cpu_s: float  # the orchestrator's own process; 0 for the anchor, which has none
    pull_requests: int


_ORGANIZATIONS = itertools.count(1)  # numbers each organization's directory


@contextmanager
def organization(environment: Environment, *, image: str, latency: Latency) -> Iterator[Organization]:
    """A fresh organization holding the fleet, every identity allowed to run Renovate on it."""
    root = environment.scratch / f"organization-{next(_ORGANIZATIONS)}"
    with Organization(
        root,
        ca=environment.ca,
        ca_bundle=environment.ca_bundle,
        image=image,
        docker_client=environment.docker,
        latency=latency,
    ) as org:
        for repository, files in FLEET.items():
            org.seed(repository, files)
        yield org


def anchor(environment: Environment, *, image: str, latency: Latency) -> SweepRun:
    """One Renovate container over the whole fleet, with a token of the pipeline's service connection."""
    with organization(environment, image=image, latency=latency) as org:
        token, _ = org.entra.issue_access_token(org.principal("pipelines"), via="bench-anchor")
        variables = {
            "RENOVATE_PLATFORM": "azure",
            "RENOVATE_ENDPOINT": org.devops.organization_url,
            "RENOVATE_TOKEN": token,
            "RENOVATE_REPOSITORIES": ",".join(FLEET),
            "RENOVATE_CONFIG": json.dumps(org.global_options()),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "info",
            "NODE_EXTRA_CA_CERTS": _CA_IN_CONTAINER,
        }
        cpu_before, started = container_cpu_seconds(), time.monotonic()
        container = environment.docker.containers.run(
            image,
            environment=variables,
            volumes={str(environment.ca_bundle): {"bind": _CA_IN_CONTAINER, "mode": "ro"}},
            network_mode="host",
            detach=True,
        )
        try:
            status = container.wait(timeout=_SWEEP_TIMEOUT_S)
            output = container.logs().decode(errors="replace")
        finally:
            container.remove(force=True)
        wall, cpu = time.monotonic() - started, container_cpu_seconds() - cpu_before
        finished = output.count('"msg":"Repository finished"')
        if status["StatusCode"] != 0 or finished != len(FLEET):
            raise RuntimeError(
                f"the anchor finished {finished} of {len(FLEET)} repositories (exit {status['StatusCode']}):\n"
                f"{output[-3000:]}"
            )
        return SweepRun(
            wall_s=wall, container_cpu_s=cpu, runner_cpu_s=0.0, pull_requests=len(org.devops.pull_requests())
        )


def runner(
    environment: Environment,
    *,
    image: str,
    latency: Latency,
    concurrency: int | str,
    per_container: int = 1,
    history: Path | None = None,
) -> SweepRun:
    """`renovate-runner run` over the fleet in pipeline mode, as a scheduled pipeline runs it; with `history`, a
    history store kept from one sweep (and organization) to the next, whose durations set the order."""
    with organization(environment, image=image, latency=latency) as org:
        store = None if history is None else {"path": str(history)}
        _configure(org, image, concurrency=concurrency, per_container=per_container, history=store)
        return _measured_sweep(org)


def warm_pair(
    environment: Environment, *, image: str, latency: Latency, concurrency: int | str, repository_cache: bool
) -> tuple[SweepRun, SweepRun]:
    """Two sweeps of the same organization, as two nights in a row: the first with an empty cache, the second
    with what the first left in the cache volume (and, with `repository_cache`, Renovate's repositoryCache)."""
    with organization(environment, image=image, latency=latency) as org:
        extra = {"repositoryCache": "enabled"} if repository_cache else {}
        _configure(org, image, concurrency=concurrency, per_container=1, renovate_global=extra)
        return _measured_sweep(org), _measured_sweep(org)


def _configure(
    org: Organization,
    image: str,
    *,
    concurrency: int | str,
    per_container: int,
    history: Mapping[str, str] | None = None,
    renovate_global: Mapping[str, str] | None = None,
) -> None:
    org.configure(
        list(FLEET),
        mode="pipelines",
        concurrency=concurrency,
        repositories_per_container=per_container,
        renovate={"image": image, "log_level": "info", "global": org.global_options() | dict(renovate_global or {})},
        **({} if history is None else {"history": history}),
    )


def _measured_sweep(org: Organization) -> SweepRun:
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = container_cpu_seconds()
    output = org.sweep(org.environ("pipelines"))
    cpu = container_cpu_seconds() - cpu_before
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    runner_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    statuses = {outcome["repository"]: outcome["status"] for outcome in output.report["repositories"]}
    if output.exit_code != 0 or set(statuses.values()) != {"succeeded"}:
        raise RuntimeError(f"the runner's sweep failed: {statuses}; {output.run.describe()}")
    return SweepRun(
        wall_s=output.run.duration_s,
        container_cpu_s=cpu,
        runner_cpu_s=runner_cpu,
        pull_requests=len(org.devops.pull_requests()),
    )
