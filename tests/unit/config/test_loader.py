"""Valid configurations load into the expected objects: defaults, path resolution, ordering, merging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from runner.capacity import MachineCapacity, sweep_concurrency
from runner.config import (
    DEFAULT_IMAGE,
    AuthMode,
    ConfigInvalid,
    Limits,
    RenovateSettings,
    RepoConfig,
    RunnerConfig,
    load_config,
)

ORGANIZATION = "organization: https://dev.azure.com/contoso\n"
PROJECT_ROOT = Path(__file__).parents[3]
GIB = 1024**3

WriteConfig = Callable[[str, dict[str, str]], Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write a configuration directory (`runner.yaml` text, `repos/<name>` files) and return its path."""

    def write(runner: str, repos: dict[str, str]) -> Path:
        config_dir = tmp_path / "config"
        (config_dir / "repos").mkdir(parents=True)
        (config_dir / "runner.yaml").write_text(runner, encoding="utf-8")
        for name, text in repos.items():
            (config_dir / "repos" / name).write_text(text, encoding="utf-8")
        return config_dir

    return write


def test_defaults_fill_every_key_left_out(write_config: WriteConfig) -> None:
    config_dir = write_config(ORGANIZATION, {"api.yaml": "repository: Platform/api\n"})

    config = load_config(config_dir)

    runner = config.runner
    assert runner.organization == "https://dev.azure.com/contoso/"  # normalised to end in "/"
    assert runner.auth.mode is AuthMode.AUTO
    assert runner.auth.token_env == "RENOVATE_TOKEN"
    assert (runner.auth.margin, runner.auth.floor) == (timedelta(minutes=5), timedelta(minutes=5))
    assert runner.renovate.image == DEFAULT_IMAGE
    assert runner.renovate.log_level == "info"
    assert runner.renovate.global_options == {
        "onboarding": False,
        "requireConfig": "optional",
        "repositoryCache": "enabled",
    }
    assert runner.concurrency == "auto"
    assert runner.timeout == timedelta(minutes=30)
    assert (runner.limits.memory_bytes, runner.limits.pids, runner.limits.cpus) == (3 * GIB // 2, 1024, None)
    assert runner.cache.volume == "renovate-cache"
    assert runner.network == "bridge"
    assert runner.passthrough_env == (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
    )
    assert runner.ca_bundle is None
    assert runner.report_dir == config_dir.resolve() / "report"
    assert runner.secrets_env == {}
    assert config.config_dir == config_dir.resolve()

    [repo] = config.repos
    assert (repo.name, repo.repository, repo.local, repo.is_local) == (
        "Platform/api",
        "Platform/api",
        None,
        False,
    )
    assert (repo.enabled, repo.timeout, repo.renovate, repo.secrets_env) == (True, None, {}, {})
    assert repo.source == (config_dir / "repos" / "api.yaml").resolve()


def test_every_runner_key_is_read(write_config: WriteConfig) -> None:
    runner_yaml = """
organization: https://contoso.visualstudio.com
auth: {mode: token-env, token_env: ADO_TOKEN, margin: 90, floor: 1m30s}
renovate:
  image: example.test/renovate@sha256:0123abcd
  log_level: debug
  global: {onboarding: true, hostRules: [{matchHost: x, token: "{{ secrets.FEED }}"}]}
concurrency: 64
timeout: 1h30m
limits: {memory: 512m, pids: 32, cpus: 1.5}
cache: {volume: my.cache_1}
network: host
passthrough_env: [HTTPS_PROXY]
ca_bundle: certs/ca.pem
report_dir: ../out
secrets_env: {FEED: FEED_TOKEN_FOR_RENOVATE}
"""
    config_dir = write_config(runner_yaml, {"api.yaml": "repository: Platform/api\n"})
    (config_dir / "certs").mkdir()
    (config_dir / "certs" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")

    runner = load_config(config_dir).runner

    assert runner.organization == "https://contoso.visualstudio.com/"
    assert runner.auth.mode is AuthMode.TOKEN_ENV
    assert (runner.auth.token_env, runner.auth.margin, runner.auth.floor) == (
        "ADO_TOKEN",
        timedelta(seconds=90),
        timedelta(seconds=90),
    )
    assert (runner.renovate.image, runner.renovate.log_level) == (
        "example.test/renovate@sha256:0123abcd",
        "debug",
    )
    assert runner.renovate.global_options["onboarding"] is True
    assert (runner.concurrency, runner.timeout) == (64, timedelta(hours=1, minutes=30))
    assert (runner.limits.memory_bytes, runner.limits.pids, runner.limits.cpus) == (512 * 1024**2, 32, 1.5)
    assert (runner.cache.volume, runner.network, runner.passthrough_env) == (
        "my.cache_1",
        "host",
        ("HTTPS_PROXY",),
    )
    assert runner.ca_bundle == config_dir.resolve() / "certs" / "ca.pem"
    assert runner.report_dir == config_dir.resolve().parent / "out"
    assert runner.secrets_env == {"FEED": "FEED_TOKEN_FOR_RENOVATE"}


def test_repository_settings_combine_with_the_runner(write_config: WriteConfig) -> None:
    runner_yaml = ORGANIZATION + (
        "timeout: 20m\n"
        "secrets_env: {FEED: FEED_VAR, NPM: NPM_VAR}\n"
        "renovate:\n"
        "  global:\n"
        "    onboarding: false\n"
        "    labels: [deps, bot]\n"
        "    npm: {minimumReleaseAge: 3 days, registryUrls: [a]}\n"
    )
    repo_yaml = (
        "repository: Platform/api\n"
        "timeout: 1h\n"
        "secrets_env: {NPM: API_NPM_VAR, EXTRA: EXTRA_VAR}\n"
        "renovate:\n"
        "  labels: [api]\n"
        "  npm: {registryUrls: [b], rangeStrategy: pin}\n"
    )
    config = load_config(write_config(runner_yaml, {"api.yaml": repo_yaml, "web.yaml": "repository: Web/portal\n"}))
    api, web = config.repos

    assert api.effective_renovate(config.runner) == {
        "onboarding": False,
        "labels": ["api"],  # lists replace
        "npm": {
            "minimumReleaseAge": "3 days",
            "registryUrls": ["b"],
            "rangeStrategy": "pin",
        },  # mappings merge
    }
    assert api.effective_timeout(config.runner) == timedelta(hours=1)
    assert web.effective_timeout(config.runner) == timedelta(minutes=20)
    assert api.effective_secrets_env(config.runner) == {
        "FEED": "FEED_VAR",
        "NPM": "API_NPM_VAR",
        "EXTRA": "EXTRA_VAR",
    }
    assert web.effective_renovate(config.runner) == config.runner.renovate.global_options


def test_effective_renovate_is_a_copy(write_config: WriteConfig) -> None:
    config = load_config(
        write_config(ORGANIZATION + "renovate: {global: {npm: {registryUrls: [a]}}}\n", {"a.yaml": "repository: P/a\n"})
    )
    [repo] = config.repos

    merged = repo.effective_renovate(config.runner)
    merged["npm"]["registryUrls"].append("changed")

    assert config.runner.renovate.global_options == {"npm": {"registryUrls": ["a"]}}


def test_local_repositories_need_no_organization(write_config: WriteConfig) -> None:
    config_dir = write_config("concurrency: 1\n", {"tool.yaml": "local: ../../projects/tool\n"})
    project = config_dir.parent / "projects" / "tool"
    project.mkdir(parents=True)

    config = load_config(config_dir)

    [repo] = config.repos
    assert config.runner.organization is None
    assert (repo.name, repo.is_local, repo.repository) == ("local/tool", True, None)
    assert repo.local == project.resolve()


def test_repositories_are_sorted_by_name_and_disabled_ones_kept(write_config: WriteConfig) -> None:
    config_dir = write_config(
        ORGANIZATION,
        {
            "a.yml": "repository: Web/zeta\nenabled: false\n",
            "b.yaml": "repository: alpha/one\n",
            "c.YAML": "repository: Beta/two\n",
            "notes.txt": "not a repository file\n",
            ".hidden.yaml": "this is: [not loaded\n",
        },
    )

    config = load_config(config_dir)

    assert [repo.name for repo in config.repos] == ["alpha/one", "Beta/two", "Web/zeta"]
    assert [repo.name for repo in config.enabled_repos] == ["alpha/one", "Beta/two"]


def test_runner_yml_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "repos").mkdir()
    (tmp_path / "runner.yml").write_text(ORGANIZATION)
    (tmp_path / "repos" / "api.yaml").write_text("repository: Platform/api\n")

    assert load_config(tmp_path).runner.organization == "https://dev.azure.com/contoso/"


# A Microsoft-hosted agent (Standard_DS2_v2) has 2 cores and 7 GiB of memory. Besides the Renovate containers it
# runs the agent itself, the Docker engine, the runner and the OS: they keep RESERVE.
HOSTED_AGENT_MEMORY = 7 * GIB
RESERVE = GIB


HOSTED_AGENT = MachineCapacity(cpus=2, memory_bytes=HOSTED_AGENT_MEMORY)


def test_the_default_limits_fit_a_microsoft_hosted_agent(write_config: WriteConfig) -> None:
    runner = load_config(write_config(ORGANIZATION, {"api.yaml": "repository: Platform/api\n"})).runner
    concurrency = sweep_concurrency(runner, HOSTED_AGENT).value

    assert concurrency == 4  # auto: both of its bounds, 2 per CPU and 4 containers of 1.5g
    assert concurrency * runner.limits.memory_bytes <= HOSTED_AGENT_MEMORY - RESERVE


@pytest.mark.parametrize("config_dir", ["config", "examples/config", "examples/consumer/config"])
def test_the_shipped_configurations_fit_a_microsoft_hosted_agent(config_dir: str) -> None:
    runner = load_config(PROJECT_ROOT / config_dir).runner

    assert sweep_concurrency(runner, HOSTED_AGENT).value * runner.limits.memory_bytes <= HOSTED_AGENT_MEMORY - RESERVE


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2g", 2 * GIB),
        ("2G", 2 * GIB),
        ("2gb", 2 * GIB),
        ("2 GB", 2 * GIB),
        ("1.5g", 3 * GIB // 2),
        ("512m", GIB // 2),
        ("524288k", GIB // 2),
        ("536870912", GIB // 2),
        ("'536870912'", GIB // 2),
    ],
)
def test_the_memory_limit_is_written_as_for_docker_run_memory(
    write_config: WriteConfig, written: str, expected: int
) -> None:
    config_dir = write_config(ORGANIZATION + f"limits: {{memory: {written}}}\n", {"api.yaml": "repository: P/api\n"})

    assert load_config(config_dir).runner.limits.memory_bytes == expected


def test_yaml_anchors_and_merge_keys_work_without_false_duplicates(write_config: WriteConfig) -> None:
    runner_yaml = ORGANIZATION + (
        "limits: &limits {memory: 1g, pids: 64}\n"
        "renovate:\n"
        "  global:\n"
        "    base: &base {automerge: false, labels: [deps]}\n"
        "    npm:\n"
        "      <<: *base\n"
        "      automerge: true\n"
    )
    config = load_config(write_config(runner_yaml, {"api.yaml": "repository: Platform/api\n"}))

    assert config.runner.renovate.global_options["npm"] == {"automerge": True, "labels": ["deps"]}
    assert config.runner.limits.memory_bytes == GIB


def test_secret_templates_and_encrypted_values_are_allowed(write_config: WriteConfig) -> None:
    runner_yaml = ORGANIZATION + (
        "secrets_env: {FEED_TOKEN: FEED_VAR}\n"
        "renovate:\n"
        "  global:\n"
        "    hostRules: [{matchHost: feed, token: 'Bearer {{ secrets.FEED_TOKEN }}', password: ''}]\n"
        "    encrypted: {npmToken: wcFMA0xyz}\n"
        "    privateKeyPath: /keys/renovate.pem\n"
        "    githubTokenWarn: false\n"
    )

    config = load_config(write_config(runner_yaml, {"api.yaml": "repository: Platform/api\n"}))

    assert config.runner.renovate.global_options["encrypted"] == {"npmToken": "wcFMA0xyz"}


def test_shipped_example_configuration_loads() -> None:
    config = load_config(PROJECT_ROOT / "config")

    assert config.runner.organization == "https://dev.azure.com/contoso/"
    assert [repo.name for repo in config.repos] == ["Platform/api", "Web/portal"]
    assert all(repo.enabled for repo in config.repos)
    assert config.runner.report_dir == PROJECT_ROOT.resolve() / "report"


def test_problems_from_several_files_are_reported_together(write_config: WriteConfig) -> None:
    config_dir = write_config(
        ORGANIZATION + "concurrency: 0\nnetwork: [bridge]\n",
        {
            "api.yaml": "repository: Platform/api\nenabled: sometimes\n",
            "web.yaml": "repository: Web\n",
            "worker.yaml": "repository: Platform/worker\n",
        },
    )

    with pytest.raises(ConfigInvalid) as caught:
        load_config(config_dir)

    problems = caught.value.problems
    assert [(problem.file.name, problem.line, problem.key) for problem in problems] == [
        ("runner.yaml", 2, "concurrency"),
        ("runner.yaml", 3, "network"),
        ("api.yaml", 2, "enabled"),
        ("web.yaml", 1, "repository"),
    ]
    message = str(caught.value)
    assert message.startswith(f"the configuration in {config_dir} has 4 problems:\n")
    assert all(f"  {problem}" in message.splitlines() for problem in problems)


def test_a_config_dir_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load_config(tmp_path / "nowhere")

    [problem] = caught.value.problems
    assert str(problem) == f"{tmp_path / 'nowhere'}: is not a directory; pass the directory holding runner.yaml"


def test_objects_are_frozen_and_hashable(write_config: WriteConfig) -> None:
    config = load_config(write_config(ORGANIZATION, {"api.yaml": "repository: Platform/api\n"}))
    [repo] = config.repos

    with pytest.raises(ValidationError):
        repo.enabled = False
    assert {repo: "outcome"}[repo] == "outcome"
    assert hash(config.runner) == hash(config.runner.model_copy())


def test_objects_can_be_built_in_python_with_field_names(tmp_path: Path) -> None:
    repo = RepoConfig(repository="Platform/api", timeout=timedelta(minutes=10), source=tmp_path / "api.yaml")
    runner = RunnerConfig(
        organization="https://dev.azure.com/contoso",
        limits=Limits(memory_bytes=GIB),
        renovate=RenovateSettings(global_options={"onboarding": True}),
    )

    assert (repo.name, repo.effective_timeout(runner)) == ("Platform/api", timedelta(minutes=10))
    assert runner.limits.memory_bytes == GIB
    assert repo.effective_renovate(runner) == {"onboarding": True}
    assert runner.report_dir.is_absolute()
    with pytest.raises(ValidationError):
        RepoConfig(repository="Platform/api", local=tmp_path, source=tmp_path / "api.yaml")


def test_history_settings_resolve_their_path_and_check_their_url(write_config: WriteConfig) -> None:
    config_dir = write_config(
        ORGANIZATION + "history:\n  path: state/h.sqlite\n  failing_after: 5\n",
        {"api.yaml": "repository: Platform/api\n"},
    )

    history = load_config(config_dir).runner.history

    assert history.path == (config_dir / "state" / "h.sqlite").resolve()
    assert (history.url, history.failing_after, history.enabled) == (None, 5, True)


@pytest.mark.parametrize(
    ("history", "key", "message"),
    [
        (
            "  url: postgresql://renovate:hunter2@db.example.com/renovate\n",
            "history.url",
            "must not contain a password; set PGPASSWORD",
        ),
        ("  url: mysql://renovate@db.example.com/renovate\n", "history.url", "must be a sqlite or postgresql URL"),
        ("  path: h.sqlite\n  url: postgresql://renovate@db/renovate\n", "history", "sets both path and url"),
        ("  failing_after: 0\n", "history.failing_after", "must be at least 1, not 0"),
    ],
)
def test_bad_history_settings_are_reported_at_their_key(
    write_config: WriteConfig, history: str, key: str, message: str
) -> None:
    config_dir = write_config(ORGANIZATION + "history:\n" + history, {"api.yaml": "repository: Platform/api\n"})

    with pytest.raises(ConfigInvalid) as caught:
        load_config(config_dir)

    [problem] = caught.value.problems
    assert (problem.file.name, problem.key) == ("runner.yaml", key)
    assert message in str(problem)
    assert "hunter2" not in str(caught.value)
