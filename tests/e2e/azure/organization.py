"""An Azure DevOps organization for the end-to-end tests: every service the product and Renovate talk to, doubled
on 127.0.0.1 and wired together as in production, and the product run against it as a separate process.

- Entra ID (`EntraDouble`, HTTPS with the test CA) with the pipeline's service connection app, a workload identity
  app and an App Service managed identity registered;
- the pipeline's OIDC endpoint (`PipelineOidcDouble`) whose issuer Entra ID trusts for the service connection, a
  workload identity issuer and its federated token file, and the App Service managed identity endpoint;
- Azure DevOps (`AzureDevOpsDouble`) verifying every bearer token with the Entra double's public key and issuer
  and the organization's tenant;
- the npm/PyPI registry double with frozen versions, so Renovate's proposals never drift;
- Azure Artifacts feeds (`AzureArtifactsDouble`), verifying tokens like the Azure DevOps double;
- GitHub's API (`GitHubApiDouble`), for the github.com token's rate limit.

The product runs as `python -m runner`, a process of its own as in a pipeline step: azure-identity reads some
variables from the process environment, so each run gets exactly the variables its auth mode reads (for
`pipelines`, those an `AzureCLI@2` step with a workload identity service connection sets), and its stdout and
stderr are captured whole. It starts the real Renovate image in containers on the host network, so they reach
the doubles. Every output of the product,
and every secret the doubles issued, goes to the leak witness (`leaks.py`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self

import docker
import pytest
import yaml

from runner.locking import STATE_DIR_ENV
from tests.doubles.azure_artifacts import AzureArtifactsDouble
from tests.doubles.azure_devops import RENOVATE_PERMISSIONS, AzureDevOpsDouble, GitPermission, SeededRepository
from tests.doubles.entra import DEFAULT_TOKEN_LIFETIME, EntraDouble, ServicePrincipal
from tests.doubles.github_api import GitHubApiDouble
from tests.doubles.identity_fixtures import (
    MANAGED_IDENTITY,
    ORGANIZATION,
    ORGANIZATION_ID,
    PIPELINE_APP,
    PROJECT_ID,
    SERVICE_CONNECTION,
    TENANT_ID,
    WORKLOAD_APP,
    WORKLOAD_ISSUER_URL,
    WORKLOAD_SUBJECT,
)
from tests.doubles.jwt_verifier import JwtVerifier
from tests.doubles.latency import Latency
from tests.doubles.managed_identity import ManagedIdentityDouble
from tests.doubles.pipeline_oidc import (
    OidcIssuer,
    PipelineOidcDouble,
    new_system_access_token,
    write_federated_token_file,
)
from tests.doubles.registry import RegistryDouble, renovate_options
from tests.doubles.tls import LOOPBACK, LoopbackCA

from .leaks import WITNESS

AuthModeName = Literal["pipelines", "workload-identity", "managed-identity"]

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
PRINCIPALS: Final = {"pipelines": PIPELINE_APP, "workload-identity": WORKLOAD_APP, "managed-identity": MANAGED_IDENTITY}
# What the product may keep from the test process's environment: how to find programs and the Docker engine.
_HOST_VARIABLES: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "DOCKER_HOST", "DOCKER_CONFIG")
_CLI_TIMEOUT_S: Final = 600


# -- what a run of the product left behind -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CliRun:
    """One `renovate-runner` process: its arguments, exit code, and everything it printed."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float

    @cached_property
    def events(self) -> list[dict[str, Any]]:
        """The runner's own log (`--log-format json` on stderr), one dict per event."""
        events = []
        for line in self.stderr.splitlines():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    events.append(event)
        return events

    def events_named(self, name: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("event") == name]

    def describe(self) -> str:
        """For assertion messages: the exit code and the end of stderr."""
        return f"exit code {self.exit_code}; stderr ends with:\n{self.stderr[-4000:]}"


@dataclass(frozen=True, kw_only=True)
class SweepOutput:
    """A sweep's process and its report directory, read as a user (or a program) would read them."""

    run: CliRun
    report_dir: Path

    @property
    def exit_code(self) -> int:
        return self.run.exit_code

    @cached_property
    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.report_dir / "report.json").read_text())
        return report

    @cached_property
    def outcomes(self) -> dict[str, dict[str, Any]]:
        return {outcome["repository"]: outcome for outcome in self.report["repositories"]}

    @cached_property
    def summary(self) -> str:
        return (self.report_dir / "summary.md").read_text()

    @cached_property
    def junit_cases(self) -> dict[str, ET.Element]:
        """Test cases by `classname/name`, which is the repository's name."""
        root = ET.parse(self.report_dir / "junit.xml").getroot()
        return {f"{case.get('classname')}/{case.get('name')}": case for case in root.iter("testcase")}

    def renovate_log(self, repository: str) -> list[dict[str, Any]]:
        """Renovate's own JSON log lines for one repository, as the runner kept them."""
        path = self.report_dir / self.outcomes[repository]["log"]
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


# -- the organization ----------------------------------------------------------------------------------------------


class Organization:
    """The doubles of one organization, its configuration directory and the product's runs; a context manager."""

    def __init__(
        self,
        root: Path,
        *,
        ca: LoopbackCA,
        ca_bundle: Path,
        image: str,
        docker_client: docker.DockerClient,
        token_lifetime: int = DEFAULT_TOKEN_LIFETIME,
        latency: Latency = Latency.NONE,
    ) -> None:
        self.root = root
        self.workspace = root / "workspace"  # configuration, reports and locks: all scanned for leaks
        self._identity_dir = root / "identity"  # the federated token file, which must hold a token
        self.ca_bundle = ca_bundle
        self.image = image
        self.cache_volume = f"renovate-runner-e2e-{uuid.uuid4().hex[:8]}"
        self._docker = docker_client
        self._stack = contextlib.ExitStack()
        self._sweeps = 0
        self.entra = EntraDouble(ca, tenant_id=TENANT_ID, token_lifetime=token_lifetime)
        for principal in PRINCIPALS.values():
            self.entra.register(principal)
        self.pipeline = PipelineOidcDouble(
            organization=ORGANIZATION,
            organization_id=ORGANIZATION_ID,
            project_id=PROJECT_ID,
            system_access_token=new_system_access_token(),
            ca=ca,
        )
        self.pipeline.add_service_connection(SERVICE_CONNECTION)
        self.entra.trust_issuer(self.pipeline.issuer.url, self.pipeline.issuer.jwks())
        self.workload_issuer = OidcIssuer.create(WORKLOAD_ISSUER_URL)
        self.entra.trust_issuer(self.workload_issuer.url, self.workload_issuer.jwks())
        self.managed_identity = ManagedIdentityDouble(self.entra, MANAGED_IDENTITY)
        verifier = JwtVerifier(self.entra.public_key_pem, issuer=self.entra.issuer)
        self.devops = AzureDevOpsDouble(verifier, organization=ORGANIZATION, tenant_id=TENANT_ID, latency=latency)
        self.registry = RegistryDouble(latency=latency)
        self.feeds = AzureArtifactsDouble(
            verifier, organization=ORGANIZATION, tenant_id=TENANT_ID, authority=self.entra.authority
        )
        self.github = GitHubApiDouble()

    def __enter__(self) -> Self:
        for double in (
            self.entra,
            self.pipeline,
            self.managed_identity,
            self.devops,
            self.registry,
            self.feeds,
            self.github,
        ):
            self._stack.enter_context(double)
        self._stack.callback(self._remove_cache_volume)
        (self.workspace / "config" / "repos").mkdir(parents=True)
        self._identity_dir.mkdir(parents=True)
        WITNESS.add_directory(self.workspace)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._hand_secrets_to_witness()
        self._stack.close()

    # -- seeding

    def seed(
        self,
        repository: str,
        files: Mapping[str, str] | None = None,
        *,
        permissions: GitPermission | None = RENOVATE_PERMISSIONS,
        disabled: bool = False,
        empty: bool = False,
    ) -> SeededRepository:
        """A repository holding `files`, on which every identity of the organization holds `permissions`."""
        project, name = repository.split("/", 1)
        seeded = self.devops.add_repository(project, name, files, disabled=disabled, empty=empty)
        if permissions is not None:
            for principal in PRINCIPALS.values():
                self.devops.grant(principal.object_id, project, name, permissions)
        return seeded

    # -- configuration

    def global_options(self) -> dict[str, Any]:
        """Renovate options for every repository: the registry double, and no limit on PRs per hour."""
        return {
            "onboarding": False,
            "requireConfig": "optional",
            "prHourlyLimit": 0,  # Renovate 44 opens at most 2 PRs an hour by default
            **renovate_options(self.registry.base_url),
        }

    def configure(
        self,
        repositories: Mapping[str, Mapping[str, Any]] | Sequence[str],
        *,
        mode: AuthModeName = "pipelines",
        renovate_global: Mapping[str, Any] | None = None,
        **runner: Any,
    ) -> Path:
        """Write runner.yaml (defaults below, `runner` over them, `renovate_global` added to Renovate's global
        options) and one file per repository."""
        config = self.workspace / "config"
        global_options = self.global_options() | dict(renovate_global or {})
        settings: dict[str, Any] = {
            "organization": self.devops.organization_url,
            # Renovate's host rules for Azure Artifacts point at the feed double instead of the service's hosts.
            "endpoints": {
                "vssps": self.devops.vssps_url,
                "azure_artifacts": [f"{self.feeds.base_url}/"],
                "github_api": self.github.base_url,
            },
            "auth": {"mode": mode},
            "renovate": {"image": self.image, "log_level": "debug", "global": global_options},
            "concurrency": 2,
            "timeout": "5m",
            "cache": {"volume": self.cache_volume},
            "network": "host",  # the containers reach the doubles on 127.0.0.1
            "passthrough_env": [],
            "ca_bundle": str(self.ca_bundle),
            **runner,
        }
        (config / "runner.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
        for old in (config / "repos").glob("*.yaml"):
            old.unlink()
        named = repositories if isinstance(repositories, Mapping) else {name: {} for name in repositories}
        for name, repo_settings in named.items():
            path = config / "repos" / f"{name.replace('/', '-')}.yaml"
            path.write_text(yaml.safe_dump({"repository": name, **repo_settings}, sort_keys=False))
        return config

    # -- environments, as each platform sets them

    def environ(self, mode: AuthModeName) -> dict[str, str]:
        """The process environment of a runner using `mode`, pointed at the doubles."""
        environ = {name: os.environ[name] for name in _HOST_VARIABLES if name in os.environ}
        environ[STATE_DIR_ENV] = str(self.workspace / "state")  # the runner's locks, away from the user's own
        if mode == "pipelines":
            return environ | self._entra_trust() | self._azure_cli_task()
        if mode == "workload-identity":
            return environ | self._entra_trust() | self._workload_identity()
        return environ | self.managed_identity.environ()

    def _entra_trust(self) -> dict[str, str]:
        """What sends azure-identity, unmodified, to the Entra double: its authority and a CA bundle trusting it."""
        return {
            "AZURE_AUTHORITY_HOST": self.entra.authority,
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
            "SSL_CERT_FILE": str(self.ca_bundle),
            "NO_PROXY": f"{LOOPBACK},localhost",
            "no_proxy": f"{LOOPBACK},localhost",
        }

    def _azure_cli_task(self) -> dict[str, str]:
        """An AzureCLI@2 step with a workload identity service connection, `SYSTEM_ACCESSTOKEN` mapped into env."""
        return {
            "TF_BUILD": "True",
            "AGENT_NAME": "Azure Pipelines 3",
            "BUILD_BUILDID": "4711",
            "SYSTEM_JOBPOSITIONINPHASE": "1",
            "SYSTEM_TOTALJOBSINPHASE": "1",
            "SYSTEM_COLLECTIONURI": self.devops.organization_url,
            "SYSTEM_OIDCREQUESTURI": self.pipeline.request_uri,
            "SYSTEM_ACCESSTOKEN": self.pipeline.system_access_token,
            "AZURESUBSCRIPTION_CLIENT_ID": PIPELINE_APP.client_id,
            "AZURESUBSCRIPTION_TENANT_ID": TENANT_ID,
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": SERVICE_CONNECTION.id,
        }

    def _workload_identity(self) -> dict[str, str]:
        """What the Entra Workload ID webhook injects into a pod: client, tenant and a projected token file."""
        token_file = self._identity_dir / "azure-identity-token"
        token = write_federated_token_file(token_file, self.workload_issuer, WORKLOAD_SUBJECT)
        WITNESS.add_secrets("federated token", [token])
        return {
            "AZURE_CLIENT_ID": WORKLOAD_APP.client_id,
            "AZURE_TENANT_ID": TENANT_ID,
            "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        }

    # -- running the product

    def cli(self, *args: str, environ: Mapping[str, str]) -> CliRun:
        """`renovate-runner --log-format json <args>` as its own process, as a pipeline step starts it."""
        argv = ("--log-format", "json", *args)
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "runner", *argv],
            env=dict(environ),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=_CLI_TIMEOUT_S,
            check=False,
        )
        run = CliRun(
            args=argv,
            exit_code=completed.returncode,
            stdout=completed.stdout,
            stderr=completed.stderr,
            duration_s=time.monotonic() - started,
        )
        WITNESS.add_text(f"stdout of renovate-runner {args[0]} in {self.root}", run.stdout)
        WITNESS.add_text(f"stderr of renovate-runner {args[0]} in {self.root}", run.stderr)
        return run

    def sweep(self, environ: Mapping[str, str], *extra: str) -> SweepOutput:
        """`renovate-runner run` over the configuration, into a new report directory."""
        self._sweeps += 1
        report_dir = self.workspace / f"report-{self._sweeps}"
        run_id = f"e2e-{uuid.uuid4().hex[:8]}"
        run = self.cli(
            "run", "--config", str(self.workspace / "config"), "--report-dir", str(report_dir), "--run-id", run_id,
            *extra,
            environ=environ,
        )  # fmt: skip
        return SweepOutput(run=run, report_dir=report_dir)

    def plan(self, environ: Mapping[str, str]) -> tuple[CliRun, dict[str, Any]]:
        run = self.cli("plan", "--config", str(self.workspace / "config"), "--json", environ=environ)
        plan: dict[str, Any] = json.loads(run.stdout) if run.exit_code == 0 else {}
        return run, plan

    # -- what the doubles saw

    def principal(self, mode: AuthModeName) -> ServicePrincipal:
        return PRINCIPALS[mode]

    def refused_requests(self) -> list[str]:
        """Requests to Azure DevOps whose credentials did not verify, as `METHOD path (reason)`."""
        return [f"{r.method} {r.path} ({r.reason})" for r in self.devops.requests if not r.verified]

    def unknown_requests(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.devops.unknown_requests]

    # -- cleaning up

    def _hand_secrets_to_witness(self) -> None:
        WITNESS.add_secrets("Entra ID access token", self.entra.issued_tokens)
        WITNESS.add_secrets("pipeline OIDC token", self.pipeline.issued_tokens)
        WITNESS.add_secrets("System.AccessToken", [self.pipeline.system_access_token])
        WITNESS.add_secrets("managed identity header", [self.managed_identity.identity_header])
        for pull in self.devops.pull_requests():
            WITNESS.add_text(f"pull request !{pull.id} in {pull.repository}", f"{pull.title}\n{pull.description}")

    def _remove_cache_volume(self) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self._docker.volumes.get(self.cache_volume).remove(force=True)


@pytest.fixture(name="token_lifetime")
def token_lifetime_fixture() -> int:
    """Seconds the Entra double's tokens live; a test module overrides this fixture for short-lived tokens."""
    return DEFAULT_TOKEN_LIFETIME


@pytest.fixture(name="organization")
def organization_fixture(
    tmp_path: Path,
    loopback_ca: LoopbackCA,
    ca_bundle: Path,
    renovate_image: str,
    docker_client: docker.DockerClient,
    token_lifetime: int,
) -> Iterator[Organization]:
    """An empty organization; seed it and configure the product per test."""
    with Organization(
        tmp_path / "organization",
        ca=loopback_ca,
        ca_bundle=ca_bundle,
        image=renovate_image,
        docker_client=docker_client,
        token_lifetime=token_lifetime,
    ) as organization:
        yield organization


# -- reading git ---------------------------------------------------------------------------------------------------


def git_show(bare: Path, revision: str, path: str) -> str:
    """A file as a branch (or commit) of a bare repository holds it."""
    return subprocess.run(
        ["git", f"--git-dir={bare}", "show", f"{revision}:{path}"], capture_output=True, text=True, check=True
    ).stdout


def changed_files(bare: Path, branch: str, base: str = "main") -> list[str]:
    """The files `branch` changes against where it left `base`."""
    diff = subprocess.run(
        ["git", f"--git-dir={bare}", "diff", "--name-only", f"{base}...{branch}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(diff.split())


def package_json(name: str, dependencies: Mapping[str, str]) -> str:
    return json.dumps({"name": name, "version": "1.0.0", "private": True, "dependencies": dict(dependencies)}, indent=2)
