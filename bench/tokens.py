"""Token exchanges for 100 repositories with one-hour tokens, for one shard and for four: how often the runner
asks Entra ID for a token, counted at the Entra ID double.

    uv run python -m bench.tokens [--minutes 6] [--concurrency 4]

What runs is real but for Docker: each shard builds its token source as a run does (`make_token_source`, mode
`pipelines`: azure-identity's `AzurePipelinesCredential` against the pipeline OIDC double and the Entra ID double,
over HTTPS), and each repository goes through `runner.repo_run`'s token path (`_token_for`: the freshness rule of
`runner.auth.freshness`, then the token registered for redaction), `concurrency` at a time on worker threads, as
the sweep's workers do. The container is left out: each repository is taken to run `--minutes`, and a simulated
clock moves on by that much after each round. Each shard is its own token source with its own clock starting at
zero, as parallel jobs are; repositories go to shards by the runner's own rule (`runner.sharding`).

The clock: the runner reads the time through `SweepState.now`, which the benchmark sets to real time plus the
simulated offset. The doubles and azure-identity read the real clock, so a token the Entra double issues when the
offset is `o` is given a lifetime of one hour plus `o`: it then expires one hour after it was issued on the
simulated clock, and azure-identity's cache, which sees real time, neither expires it nor refreshes it early. In a
real sweep azure-identity's cache would also refresh a token itself 5 minutes before it expires; the freshness
rule asks for a new one long before that (a token must outlive a repository's timeout plus the margin, 35 minutes
by default), so the simulation leaves no exchange out.

The goal: a token obtained at simulated time `s` passes the freshness rule for every repository that starts by
`s + W`, where `W = lifetime - timeout - margin` (60 - 30 - 5 = 25 minutes with the defaults). The rule asks for a
new token at the first start after that, so every token but the last covers more than `W` of the shard's
timeline, and a shard whose last repository starts at `T` needs at most `max(1, ceil(T / W))` exchanges: one,
plus a refresh per `W` of timeline after the first. The goal is the sum over the shards.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, cast

import docker

from bench.figures import Figure, at_most
from runner.auth import AuthMode, make_token_source
from runner.config import AuthConfig, RepoConfig, RunnerConfig
from runner.logsetup import configure_logging
from runner.repo_run import SweepState, _token_for
from runner.report.model import RepoOutcome
from runner.run_context import RunContext
from runner.sharding import Shard, in_shard
from tests.doubles.entra import DEFAULT_TOKEN_LIFETIME, EntraDouble
from tests.doubles.identity_fixtures import (
    ORGANIZATION,
    ORGANIZATION_ID,
    PIPELINE_APP,
    PROJECT_ID,
    SERVICE_CONNECTION,
    TENANT_ID,
)
from tests.doubles.pipeline_oidc import PipelineOidcDouble, new_system_access_token
from tests.doubles.tls import LOOPBACK, LoopbackCA, system_ca_bundle

REPOSITORIES: Final = 100
SHARD_COUNTS: Final = (1, 4)


@dataclass(kw_only=True)
class SimulatedClock:
    """Real time plus an offset the benchmark moves on; the Entra double's token lifetime follows the offset."""

    entra: EntraDouble
    offset: timedelta = field(default=timedelta(0))

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance_to(self, offset: timedelta) -> None:
        self.offset = offset
        self.entra.token_lifetime = DEFAULT_TOKEN_LIFETIME + int(offset.total_seconds())


@dataclass(frozen=True, kw_only=True)
class ShardRun:
    exchanges: int
    needed: int  # what the freshness rule needs for this shard's timeline (see the module's docstring)
    timeline: timedelta  # when its last repository starts


def repositories(source_dir: Path) -> list[RepoConfig]:
    return [
        RepoConfig(repository=f"Platform/service-{n:03d}", source=source_dir / f"service-{n:03d}.yaml")
        for n in range(REPOSITORIES)
    ]


def needed_exchanges(timeline: timedelta, runner: RunnerConfig) -> int:
    window = timedelta(seconds=DEFAULT_TOKEN_LIFETIME) - runner.timeout - runner.auth.margin
    return max(1, math.ceil(timeline / window))


def run_shard(
    repos: Sequence[RepoConfig], state: SweepState, clock: SimulatedClock, *, run: timedelta, concurrency: int
) -> None:
    """The shard's repositories through the token path, `concurrency` at once, `run` of simulated time each."""
    with ThreadPoolExecutor(max_workers=concurrency) as workers:
        for round_number, start in enumerate(range(0, len(repos), concurrency)):
            clock.advance_to(run * round_number)
            grants = workers.map(lambda repo: _token_for(repo, state), repos[start : start + concurrency])
            if failed := [grant for grant in grants if isinstance(grant, RepoOutcome)]:
                raise RuntimeError(f"{failed[0].repository} got no token: {failed[0].detail}")


def shard_run(
    doubles: Doubles, repos: Sequence[RepoConfig], context: RunContext, *, run: timedelta, concurrency: int
) -> ShardRun:
    clock = SimulatedClock(entra=doubles.entra)
    clock.advance_to(timedelta(0))
    before = doubles.entra.exchanges
    source = make_token_source(context.runner.auth, doubles.environ)  # what a run builds before its sweep
    state = SweepState(
        client=cast(docker.DockerClient, None),  # never used: the token path stops before the container
        context=context,
        token_source=source,
        now=clock.now,
    )
    run_shard(repos, state, clock, run=run, concurrency=concurrency)
    timeline = run * ((len(repos) - 1) // concurrency)
    return ShardRun(
        exchanges=doubles.entra.exchanges - before,
        needed=needed_exchanges(timeline, context.runner),
        timeline=timeline,
    )


@dataclass(frozen=True, kw_only=True)
class Doubles:
    entra: EntraDouble
    environ: Mapping[str, str]


@contextmanager
def pipeline_doubles(scratch: Path) -> Iterator[Doubles]:
    """Entra ID and the pipeline's OIDC endpoint, wired as tests/e2e/azure/organization.py wires them, and the
    environment of an AzureCLI@2 step pointed at them (set in this process too: azure-identity reads some of it)."""
    ca = LoopbackCA()
    system = system_ca_bundle()
    bundle = ca.write_bundle(scratch / "ca-bundle.pem", base_bundles=[system] if system else [])
    with ExitStack() as stack:
        entra = stack.enter_context(EntraDouble(ca, tenant_id=TENANT_ID))
        entra.register(PIPELINE_APP)
        pipeline = stack.enter_context(
            PipelineOidcDouble(
                organization=ORGANIZATION,
                organization_id=ORGANIZATION_ID,
                project_id=PROJECT_ID,
                system_access_token=new_system_access_token(),
                ca=ca,
            )
        )
        pipeline.add_service_connection(SERVICE_CONNECTION)
        entra.trust_issuer(pipeline.issuer.url, pipeline.issuer.jwks())
        environ = {
            "AZURE_AUTHORITY_HOST": entra.authority,
            "REQUESTS_CA_BUNDLE": str(bundle),
            "SSL_CERT_FILE": str(bundle),
            "NO_PROXY": f"{LOOPBACK},localhost",
            "no_proxy": f"{LOOPBACK},localhost",
            "AZURESUBSCRIPTION_CLIENT_ID": PIPELINE_APP.client_id,
            "AZURESUBSCRIPTION_TENANT_ID": TENANT_ID,
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": SERVICE_CONNECTION.id,
            "SYSTEM_OIDCREQUESTURI": pipeline.request_uri,
            "SYSTEM_ACCESSTOKEN": pipeline.system_access_token,
        }
        saved = {name: os.environ.get(name) for name in environ}
        os.environ.update(environ)
        stack.callback(_restore, saved)
        yield Doubles(entra=entra, environ=environ)


def _restore(saved: Mapping[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def figures(quick: bool = False, *, minutes: float = 6, concurrency: int = 4) -> list[Figure]:
    """`quick` changes nothing: the whole measurement takes seconds."""
    del quick
    configure_logging(stream=io.StringIO(), json=True)  # the runner's events of each repository are not the figure
    run = timedelta(minutes=minutes)
    result: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="bench-tokens-") as scratch, pipeline_doubles(Path(scratch)) as doubles:
        runner = RunnerConfig(
            organization=f"https://dev.azure.com/{ORGANIZATION}", auth=AuthConfig(mode=AuthMode.PIPELINES)
        )
        context = RunContext(
            run_id="bench-tokens",
            run_lock=Path(scratch) / "run.lock",
            runner=runner,
            image="renovate:unused",
            dry_run=False,
            ca_bundle=None,
            host_environ={},
            report_dir=Path(scratch) / "report",
        )
        repos = repositories(Path(scratch) / "repos")
        for count in SHARD_COUNTS:
            shards = [
                shard_run(doubles, in_shard(repos, Shard(index, count)), context, run=run, concurrency=concurrency)
                for index in range(1, count + 1)
            ]
            for index, shard in enumerate(shards, 1):
                print(
                    f"# {count} shard(s), shard {index}: {shard.exchanges} exchange(s), the rule needs {shard.needed}"
                    f" over {shard.timeline.total_seconds() / 3600:.2f} h of simulated time",
                    flush=True,
                )
            needed = sum(shard.needed for shard in shards)
            result.append(
                Figure(
                    name=f"tokens.{count}_shard{'s' if count > 1 else ''}.exchanges",
                    value=sum(shard.exchanges for shard in shards),
                    goal=at_most(needed),
                )
            )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the same as without it: the run takes seconds")
    parser.add_argument("--minutes", type=float, default=6, help="simulated minutes each repository runs")
    parser.add_argument("--concurrency", type=int, default=4, help="repositories at once in each shard")
    args = parser.parse_args(argv)
    for figure in figures(args.quick, minutes=args.minutes, concurrency=args.concurrency):
        print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
