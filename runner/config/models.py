"""The configuration's shape: pydantic models that validate the YAML files and describe them as JSON Schema.

Field names are the YAML keys (two are aliased: `limits.memory` is `memory_bytes`, `renovate.global` is
`global_options`). Objects are frozen; mappings inside them are plain dicts, so treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, WrapValidator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from runner.auth.settings import MODE_NAMES, AuthMode
from runner.config.concurrency import AUTO, Concurrency
from runner.config.durations import Duration
from runner.config.merge import merge_options
from runner.config.names import (
    BUILTIN_SECRETS,
    DockerName,
    EnvVarName,
    ImageReference,
    PassthroughEnvName,
    RepositoryName,
    SecretName,
)
from runner.config.paths import ExistingDirectory, ExistingFile, OutputDirectory, OutputFile
from runner.config.secret_rules import reject_literal_secrets, secret_references
from runner.config.sizes import MemorySize
from runner.config.urls import HistoryUrl, MatchHost, OrganizationUrl, ServiceUrl

DEFAULT_IMAGE = "ghcr.io/renovatebot/renovate:44.121.2"
MAX_REPOSITORIES_PER_CONTAINER = 32
MAX_RETRIES = 3  # more would hide a real outage behind hours of waiting
DEFAULT_PASSTHROUGH_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def default_global_options() -> dict[str, JsonValue]:
    # No onboarding PRs; repositories without a renovate.json are still processed; and Renovate's repository cache,
    # kept in the cache volume between sweeps, spares it redoing what has not changed since the last sweep
    # (a second sweep of unchanged repositories took 0.58x the first; docs/performance.md).
    return {"onboarding": False, "requireConfig": "optional", "repositoryCache": "enabled"}


LogLevel = Literal["trace", "debug", "info", "warn", "error", "fatal"]

RenovateOptions = Annotated[dict[str, JsonValue], WrapValidator(reject_literal_secrets)]
"""Renovate's own options, free-form (Renovate validates them), but with secrets only as templates."""

SecretsEnv = Annotated[
    dict[SecretName, EnvVarName],
    # Without this the schema's patternProperties would let editors accept a badly named secret.
    Field(json_schema_extra={"additionalProperties": False}),
]
"""Renovate secret name -> the environment variable the runner reads its value from at run time."""


class ConfigModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)

    def __hash__(self) -> int:
        # pydantic's frozen hash fails on the dicts these models hold; the JSON form is hashable and exact.
        return hash((type(self), self.model_dump_json()))


class AuthConfig(ConfigModel):
    """How the runner gets Entra ID tokens for Azure DevOps."""

    mode: AuthMode = Field(
        default=AuthMode.AUTO,
        description=f"Credential to use; auto tries {', '.join(MODE_NAMES[1:])} in that order.",
    )
    token_env: EnvVarName = Field(default="RENOVATE_TOKEN", description="Variable holding a token in token-env mode.")
    margin: Duration = Field(
        default="5m",
        validate_default=True,  # the default in YAML spelling, so the JSON Schema shows it that way
        description="A token must stay valid for the repository timeout plus this.",
    )
    floor: Duration = Field(
        default="5m",
        validate_default=True,
        description="A repository fails when no token stays valid for at least this.",
    )


class RenovateSettings(ConfigModel):
    """The Renovate image and the options every repository gets."""

    image: ImageReference = Field(default=DEFAULT_IMAGE, description="Renovate container image; pin a version.")
    log_level: LogLevel = Field(default="info", description="Renovate's LOG_LEVEL.")
    global_options: RenovateOptions = Field(
        default=default_global_options(),  # a default, not a factory, so the JSON Schema shows it
        validation_alias="global",
        serialization_alias="global",
        description="Renovate self-hosted options for every repository. Secrets only as {{ secrets.NAME }}.",
    )
    validate_options: bool = Field(
        default=True,
        validation_alias="validate",  # BaseModel.validate is taken
        serialization_alias="validate",
        description="Before a run, check renovate.global and every repository's options with the image's own "
        "renovate-config-validator (one container): errors stop the run, warnings go to the report.",
    )


class Limits(ConfigModel):
    """Resource limits of each Renovate container."""

    memory_bytes: MemorySize = Field(
        # Four (the default concurrency) fit a Microsoft-hosted agent's 7 GiB with 1 GiB left for everything else.
        default="1.5g",
        validate_default=True,
        validation_alias="memory",
        serialization_alias="memory",
        description="Memory limit, e.g. 2g.",
    )
    pids: int = Field(default=1024, ge=32, description="Maximum number of processes.")
    cpus: float | None = Field(default=None, gt=0, description="CPU limit (e.g. 1.5); null for no limit.")


DEFAULT_CACHE_VOLUME = "renovate-cache"


class CacheConfig(ConfigModel):
    """Renovate's cache, kept between runs: in a Docker volume (the default) or a host directory, not both."""

    volume: DockerName | None = Field(
        default=None,
        description=f"Docker volume mounted as Renovate's cache; {DEFAULT_CACHE_VOLUME} when no directory is set.",
    )
    directory: OutputDirectory | None = Field(
        default=None,
        description="Host directory bind-mounted as Renovate's cache instead of a volume (e.g. the path Cache@2 "
        "restores); created when missing and handed to Renovate's uid 12021 by the runner.",
    )

    @model_validator(mode="before")
    @classmethod
    def _volume_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("volume") is None and data.get("directory") is None:
            return {**data, "volume": DEFAULT_CACHE_VOLUME}
        return data

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if self.volume is not None and self.directory is not None:
            raise PydanticCustomError(
                "cache_volume_and_directory",
                "sets both volume and directory; keep one: directory for a host directory (e.g. Cache@2's), "
                "volume for a Docker volume",
            )
        return self


class HistoryConfig(ConfigModel):
    """The history store: every sweep's health and outcomes, kept across runs for trends and scheduling."""

    enabled: bool = Field(default=True, description="false: nothing is recorded or read; reports show one run.")
    path: OutputFile | None = Field(
        default=None,
        description="SQLite file of the history (relative to this file); null: history.sqlite in the runner's "
        "state directory ($RENOVATE_RUNNER_STATE_DIR, else $XDG_STATE_HOME/renovate-runner, else "
        "~/.local/state/renovate-runner), outside the report directory, which every sweep replaces.",
    )
    url: HistoryUrl | None = Field(
        default=None,
        description="A database URL instead of path, e.g. postgresql://renovate@db.example.com/renovate for a "
        "store shared by several agents; the password comes from PGPASSWORD (or ~/.pgpass), never from here.",
    )
    failing_after: int = Field(
        default=3,
        ge=1,
        description="A repository that failed in each of its last this many runs is flagged in the summary and "
        "the pipeline.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        if self.path is not None and self.url is not None:
            raise PydanticCustomError(
                "history_path_and_url", "sets both path and url; keep one: path for SQLite, url for a database server"
            )
        return self


DEFAULT_VSSPS_URL = "https://app.vssps.visualstudio.com/"
# Azure Artifacts: `pkgs.dev.azure.com/{org}/...` and the older `{org}.pkgs.visualstudio.com` (a subdomain match).
DEFAULT_AZURE_ARTIFACTS_HOSTS = ("pkgs.dev.azure.com", "pkgs.visualstudio.com")
DEFAULT_GITHUB_API_URL = "https://api.github.com/"


class Discover(ConfigModel):
    """Repositories found through the Azure DevOps API, besides those named by files in repos/."""

    projects: tuple[str, ...] = Field(
        default=(), description="Projects to list; empty: every project the identity can see."
    )
    include: tuple[str, ...] = Field(
        default=("*",),
        description="Glob patterns; a repository is taken when one matches its name (or, for a pattern with "
        "a '/', its Project/Repository).",
    )
    exclude: tuple[str, ...] = Field(
        default=(), description="Glob patterns, matched like include, of repositories to leave out."
    )


class Endpoints(ConfigModel):
    """Service URLs besides the organization's; change them only for a proxy or a local test double."""

    vssps: ServiceUrl = Field(
        default=DEFAULT_VSSPS_URL,
        description="The profile service, which names the identity behind a token (used by the preflight checks).",
    )
    azure_artifacts: tuple[MatchHost, ...] = Field(
        default=DEFAULT_AZURE_ARTIFACTS_HOSTS,
        description="Hosts (subdomains match too) or base URLs of Azure Artifacts feeds; Renovate gets host rules "
        "for them carrying each repository's own Entra ID token (see azure_artifacts).",
    )
    github_api: ServiceUrl = Field(
        default=DEFAULT_GITHUB_API_URL,
        description="GitHub's REST API, asked for the github.com token's quota before the sweep (github_token_env).",
    )


class RunnerConfig(ConfigModel):
    """runner.yaml: settings for the whole sweep."""

    organization: OrganizationUrl | None = Field(
        default=None, description="Azure DevOps organization URL; required unless every repository is local."
    )
    auth: AuthConfig = Field(default_factory=AuthConfig)
    endpoints: Endpoints = Field(default_factory=Endpoints)
    discover: Discover | None = Field(
        default=None,
        description="Find repositories through the Azure DevOps API (disabled and empty ones are skipped); "
        "files in repos/ still apply to the repositories they name.",
    )
    renovate: RenovateSettings = Field(default_factory=RenovateSettings)
    azure_artifacts: bool = Field(
        default=True,
        description="Give Renovate host rules for Azure Artifacts feeds (endpoints.azure_artifacts) with each "
        "repository's own token, so feed lookups and lock-file updates need no PAT; false to leave feeds to "
        "your own hostRules.",
    )
    github_token_env: EnvVarName | None = Field(
        default=None,
        description="Environment variable holding a github.com token, handed to Renovate as "
        "RENOVATE_GITHUB_COM_TOKEN; without one Renovate skips github-tags/github-releases dependencies and "
        "release notes.",
    )
    concurrency: Concurrency = Field(
        default=AUTO,
        description="Repositories processed at once: a number, or auto to fit the CPUs and memory the runner may use.",
    )
    repositories_per_container: int = Field(
        default=1,
        ge=1,
        le=MAX_REPOSITORIES_PER_CONTAINER,
        description="Opt-in: up to this many Azure DevOps repositories with the same settings share one Renovate "
        "container, one after another, and so one Renovate start-up; 1 gives every repository its own container.",
    )
    timeout: Duration = Field(default="30m", validate_default=True, description="Time limit for each repository.")
    retries: int = Field(
        default=1,
        ge=0,
        le=MAX_RETRIES,
        description="How many more times a repository runs when its run failed in a passing way: the container "
        "engine hiccupped, or Renovate could not reach Azure DevOps or a registry (reason host_error). Other "
        "failures are not retried; 0 turns retries off.",
    )
    limits: Limits = Field(default_factory=Limits)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    network: DockerName = Field(default="bridge", description="Docker network of the Renovate containers.")
    passthrough_env: tuple[PassthroughEnvName, ...] = Field(
        default=DEFAULT_PASSTHROUGH_ENV,
        description="Host environment variables passed to Renovate; nothing else from the host is.",
    )
    ca_bundle: ExistingFile | None = Field(
        default=None,
        description="CA certificates (PEM) for Renovate; null to detect the system bundle at run time.",
    )
    report_dir: OutputDirectory = Field(
        default=Path("report"), validate_default=True, description="Where the run report is written."
    )
    secrets_env: SecretsEnv = Field(
        default_factory=dict,
        description="Renovate secret name -> environment variable holding its value, read at run time.",
    )
    history: HistoryConfig = Field(default_factory=HistoryConfig)

    @model_validator(mode="after")
    def _global_secrets_are_mapped(self) -> Self:
        errors = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "unmapped_secret",
                    f"uses secret '{name}', which secrets_env does not map; add "
                    f"'{name}: <ENV_VAR holding the value>' under secrets_env",
                ),
                loc=("renovate", "global", *(part if isinstance(part, int) else str(part) for part in path)),
                input=name,
            )
            for path, name in secret_references(self.renovate.global_options)
            if name not in self.secrets_env and name not in BUILTIN_SECRETS
        ]
        if errors:
            raise ValidationError.from_exception_data("runner.yaml", errors)
        return self


class RepoSettings(ConfigModel):
    """A repos/*.yaml file: one repository, in Azure DevOps (`repository`) or a local directory (`local`)."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["repository"]}, {"required": ["local"]}]})

    repository: RepositoryName | None = Field(
        default=None, description="Azure DevOps repository as Project/Repository."
    )
    local: ExistingDirectory | None = Field(
        default=None,
        description="A local directory (relative to this file) run with Renovate's local platform, dry-run.",
    )
    enabled: bool = Field(default=True, description="false: the sweep skips this repository and reports it as skipped.")
    timeout: Duration | None = Field(default=None, description="Overrides the runner's timeout for this repository.")
    renovate: RenovateOptions = Field(
        default_factory=dict,
        description="Renovate options merged over renovate.global: mappings merge key by key; lists and "
        "scalars replace.",
    )
    secrets_env: SecretsEnv = Field(default_factory=dict, description="Merged over runner.yaml's secrets_env.")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.repository is not None and self.local is not None:
            raise _error_at(
                "local",
                "repository_and_local",
                "cannot be combined with 'repository'; a file describes either an Azure DevOps repository "
                "or a local directory, so remove one of them",
            )
        if self.repository is None and self.local is None:
            raise _error_at(
                "repository",
                "missing_repository",
                "missing; set 'repository: Project/Repository' for an Azure DevOps repository, or "
                "'local: <directory>' for a local one",
            )
        return self


def _error_at(key: str, kind: str, message: str) -> ValidationError:
    details = InitErrorDetails(type=PydanticCustomError(kind, message), loc=(key,), input=None)
    return ValidationError.from_exception_data("repository", [details])


class RepoConfig(RepoSettings):
    """One repository of the sweep, with the file it came from."""

    source: Path

    @property
    def name(self) -> str:
        """`Project/Repo`, or `local/<dirname>` for a local repository; unique within a sweep."""
        if self.repository is not None:
            return self.repository
        assert self.local is not None  # noqa: S101 - guaranteed by RepoSettings._one_source
        return f"local/{self.local.name}"

    @property
    def is_local(self) -> bool:
        return self.local is not None

    def effective_timeout(self, runner: RunnerConfig) -> timedelta:
        return self.timeout if self.timeout is not None else runner.timeout

    def effective_renovate(self, runner: RunnerConfig) -> dict[str, Any]:
        """`renovate.global` with this repository's `renovate` merged over it (see `merge_options`)."""
        return merge_options(runner.renovate.global_options, self.renovate)

    def effective_secrets_env(self, runner: RunnerConfig) -> dict[str, str]:
        return {**runner.secrets_env, **self.secrets_env}


@dataclass(frozen=True)
class SweepConfig:
    """A validated configuration directory."""

    runner: RunnerConfig
    repos: tuple[RepoConfig, ...]  # sorted by name; disabled ones included (the sweep reports them skipped)
    config_dir: Path  # absolute

    @property
    def enabled_repos(self) -> tuple[RepoConfig, ...]:
        return tuple(repo for repo in self.repos if repo.enabled)
