"""The container each repository runs in, as data: environment, mounts, limits, labels (no engine needed)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from runner.config import CacheConfig, ConfigInvalid, RunnerConfig
from runner.locking import lock_namespace
from runner.renovate.container import (
    LABEL_REPOSITORY,
    LABEL_RUN_ID,
    LABEL_RUN_LOCK,
    LABEL_RUN_LOCK_NAMESPACE,
    BindMount,
    ContainerSpec,
)
from runner.renovate.container_spec import (
    CA_BUNDLE_IN_CONTAINER,
    LOCAL_REPO_IN_CONTAINER,
    REPORT_DIR_IN_CONTAINER,
    cache_mount,
    container_spec,
)
from runner.renovate.engine import CACHE_DIR_IN_CONTAINER
from runner.run_context import RunContext
from tests.unit.conftest import ConfigFactory

RUNNER_YAML = """\
organization: https://dev.azure.com/contoso
renovate:
  image: example/renovate:1
  log_level: debug
  global: {onboarding: false, labels: [deps]}
passthrough_env: [HTTPS_PROXY, NO_PROXY]
limits: {memory: 1g, pids: 256, cpus: 1.5}
network: host
cache: {volume: my-cache}
secrets_env: {NPM_TOKEN: MY_NPM_TOKEN}
"""
HOST_ENV = {
    "HTTPS_PROXY": "http://proxy:3128",
    "PATH": "/usr/bin",
    "HOME": "/root",
    "AWS_SECRET_ACCESS_KEY": "do-not-pass",
    "SYSTEM_ACCESSTOKEN": "do-not-pass-either",
    "RENOVATE_TOKEN": "host-token-must-not-pass",
    "MY_NPM_TOKEN": "npm-secret-value",
}


def context(runner: RunnerConfig, tmp_path: Path, *, dry_run: bool = False, ca: bool = True) -> RunContext:
    bundle = tmp_path / "ca.crt"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    return RunContext(
        run_id="run-1",
        run_lock=tmp_path / "run-1.lock",
        runner=runner,
        image="example/renovate:1",
        dry_run=dry_run,
        ca_bundle=bundle if ca else None,
        host_environ=HOST_ENV,
        report_dir=tmp_path / "report",
    )


def azure_spec(make_config: ConfigFactory, tmp_path: Path, **kwargs: bool) -> ContainerSpec:
    config = make_config(RUNNER_YAML, {"web.yaml": "repository: Platform/web\nrenovate: {labels: [web]}\n"})
    (repo,) = config.repos
    return container_spec(
        repo,
        context(config.runner, tmp_path, **kwargs),
        index=7,
        token="the-token",
        report_mount=tmp_path / "r",
    )


def test_azure_repository_environment(make_config: ConfigFactory, tmp_path: Path) -> None:
    spec = azure_spec(make_config, tmp_path)
    env = dict(spec.environment)
    assert env.pop("RENOVATE_TOKEN") == "the-token"
    assert json.loads(env.pop("RENOVATE_CONFIG")) == {
        "onboarding": False,
        "labels": ["web"],  # the repository's list replaces the global one
        "secrets": {"NPM_TOKEN": "npm-secret-value", "AZURE_DEVOPS_TOKEN": "the-token"},
        "hostRules": [
            {"matchHost": host, "username": "renovate-runner", "password": "{{ secrets.AZURE_DEVOPS_TOKEN }}"}
            for host in ("pkgs.dev.azure.com", "pkgs.visualstudio.com")
        ],
    }
    assert env == {
        "HTTPS_PROXY": "http://proxy:3128",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "debug",
        "RENOVATE_PLATFORM": "azure",
        "RENOVATE_ENDPOINT": "https://dev.azure.com/contoso/",
        "RENOVATE_REPOSITORIES": "Platform/web",
        "RENOVATE_REPORT_TYPE": "file",
        "RENOVATE_REPORT_PATH": f"{REPORT_DIR_IN_CONTAINER}/report.json",
        "RENOVATE_CACHE_DIR": "/tmp/renovate/cache",
        "NODE_EXTRA_CA_CERTS": CA_BUNDLE_IN_CONTAINER,
        "GIT_SSL_CAINFO": CA_BUNDLE_IN_CONTAINER,
    }


@pytest.mark.parametrize("name", ["PATH", "HOME", "AWS_SECRET_ACCESS_KEY", "SYSTEM_ACCESSTOKEN", "MY_NPM_TOKEN"])
def test_host_variables_outside_the_allow_list_never_pass(
    make_config: ConfigFactory, tmp_path: Path, name: str
) -> None:
    spec = azure_spec(make_config, tmp_path)
    assert name not in spec.environment
    assert all(HOST_ENV[name] not in value for key, value in spec.environment.items() if key != "RENOVATE_CONFIG")


def test_host_renovate_token_never_replaces_the_runner_token(make_config: ConfigFactory, tmp_path: Path) -> None:
    spec = azure_spec(make_config, tmp_path)
    assert spec.environment["RENOVATE_TOKEN"] == "the-token"


def test_mounts_limits_labels_and_network(make_config: ConfigFactory, tmp_path: Path) -> None:
    spec = azure_spec(make_config, tmp_path)
    assert spec.mounts == (
        BindMount(source="my-cache", target="/tmp/renovate/cache", volume=True),
        BindMount(source=str(tmp_path / "r"), target=REPORT_DIR_IN_CONTAINER),
        BindMount(source=str(tmp_path / "ca.crt"), target=CA_BUNDLE_IN_CONTAINER, read_only=True),
    )
    assert all("docker.sock" not in mount.source for mount in spec.mounts)
    assert spec.memory_bytes == 1024**3
    assert spec.pids_limit == 256
    assert spec.nano_cpus == 1_500_000_000
    assert spec.network == "host"
    assert spec.image == "example/renovate:1"
    assert spec.name == "renovate-run-1-0007"
    assert spec.labels == {
        LABEL_RUN_ID: "run-1",
        LABEL_REPOSITORY: "Platform/web",
        LABEL_RUN_LOCK: str(tmp_path / "run-1.lock"),
        LABEL_RUN_LOCK_NAMESPACE: lock_namespace(),
    }


def test_dry_run_is_renovates_full_dry_run(make_config: ConfigFactory, tmp_path: Path) -> None:
    assert azure_spec(make_config, tmp_path, dry_run=True).environment["RENOVATE_DRY_RUN"] == "full"
    assert "RENOVATE_DRY_RUN" not in azure_spec(make_config, tmp_path).environment


def test_without_a_ca_bundle_nothing_is_mounted_or_set(make_config: ConfigFactory, tmp_path: Path) -> None:
    spec = azure_spec(make_config, tmp_path, ca=False)
    assert "NODE_EXTRA_CA_CERTS" not in spec.environment
    assert all(mount.target != CA_BUNDLE_IN_CONTAINER for mount in spec.mounts)


def test_the_spec_never_shows_the_token(make_config: ConfigFactory, tmp_path: Path) -> None:
    spec = azure_spec(make_config, tmp_path)
    assert "the-token" not in repr(spec)


def test_local_repository_runs_the_local_platform_read_only_without_a_token(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    config = make_config(
        "renovate: {image: example/renovate:1}\n", {"app.yaml": "local: ../../app\n"}, local_dirs=("app",)
    )
    (repo,) = config.repos
    spec = container_spec(repo, context(config.runner, tmp_path), index=0, token=None, report_mount=tmp_path / "r")
    assert spec.environment["RENOVATE_PLATFORM"] == "local"
    assert spec.environment["RENOVATE_DRY_RUN"] == "lookup"
    assert "RENOVATE_TOKEN" not in spec.environment
    assert "RENOVATE_ENDPOINT" not in spec.environment
    assert BindMount(source=str(tmp_path / "app"), target=LOCAL_REPO_IN_CONTAINER, read_only=True) in spec.mounts
    assert spec.working_dir == LOCAL_REPO_IN_CONTAINER
    assert spec.network == "bridge"


def test_a_cache_directory_is_bind_mounted_at_renovates_cache_path(tmp_path: Path) -> None:
    volume = CacheConfig()
    directory = CacheConfig.model_validate({"directory": tmp_path / "cache"})

    assert (volume.volume, volume.directory) == ("renovate-cache", None)
    assert cache_mount(volume) == BindMount(source="renovate-cache", target=CACHE_DIR_IN_CONTAINER, volume=True)
    assert directory.volume is None
    assert cache_mount(directory) == BindMount(source=str(tmp_path / "cache"), target=CACHE_DIR_IN_CONTAINER)


def renovate_config_of(make_config: ConfigFactory, tmp_path: Path, runner_yaml: str, repo_yaml: str) -> dict[str, Any]:
    config = make_config(runner_yaml, {"web.yaml": repo_yaml})
    (repo,) = config.repos
    spec = container_spec(repo, context(config.runner, tmp_path), index=0, token="the-token", report_mount=tmp_path)
    options: dict[str, Any] = json.loads(spec.environment["RENOVATE_CONFIG"])
    return options


def test_feed_host_rules_come_before_the_users_own_so_a_user_rule_for_the_same_host_wins(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    runner_yaml = (
        "organization: https://dev.azure.com/contoso\n"
        "endpoints: {azure_artifacts: [pkgs.example.test, 'http://127.0.0.1:8080/feeds']}\n"
        "renovate: {global: {hostRules: [{matchHost: pkgs.example.test, password: '{{ secrets.AZURE_DEVOPS_TOKEN }}'"
        ", username: mine}]}}\n"
    )
    options = renovate_config_of(make_config, tmp_path, runner_yaml, "repository: Platform/web\n")
    assert [rule["matchHost"] for rule in options["hostRules"]] == [
        "pkgs.example.test",
        "http://127.0.0.1:8080/feeds/",
        "pkgs.example.test",
    ]
    assert options["hostRules"][-1]["username"] == "mine"
    assert options["secrets"] == {"AZURE_DEVOPS_TOKEN": "the-token"}


def test_azure_artifacts_false_leaves_feeds_to_the_users_host_rules(make_config: ConfigFactory, tmp_path: Path) -> None:
    runner_yaml = "organization: https://dev.azure.com/contoso\nazure_artifacts: false\n"
    options = renovate_config_of(make_config, tmp_path, runner_yaml, "repository: Platform/web\n")
    assert "hostRules" not in options
    assert options["secrets"] == {"AZURE_DEVOPS_TOKEN": "the-token"}  # user host rules may still name it


def test_the_production_feed_hosts_are_azure_artifacts_own() -> None:
    assert RunnerConfig().endpoints.azure_artifacts == ("pkgs.dev.azure.com", "pkgs.visualstudio.com")
    assert RunnerConfig().azure_artifacts is True


def test_a_local_repository_gets_no_token_and_no_feed_rules(make_config: ConfigFactory, tmp_path: Path) -> None:
    config = make_config("{}\n", {"app.yaml": "local: ../../app\n"}, local_dirs=("app",))
    (repo,) = config.repos
    spec = container_spec(repo, context(config.runner, tmp_path), index=0, token=None, report_mount=tmp_path / "r")
    options = json.loads(spec.environment["RENOVATE_CONFIG"])
    assert "hostRules" not in options
    assert "AZURE_DEVOPS_TOKEN" not in options.get("secrets", {})


def test_the_github_com_token_reaches_renovate_as_its_own_variable(make_config: ConfigFactory, tmp_path: Path) -> None:
    config = make_config(RUNNER_YAML, {"web.yaml": "repository: Platform/web\n"})
    (repo,) = config.repos
    github = dataclasses.replace(context(config.runner, tmp_path), github_token="ghp_the-github-token")
    spec = container_spec(repo, github, index=0, token="the-token", report_mount=tmp_path / "r")
    assert spec.environment["RENOVATE_GITHUB_COM_TOKEN"] == "ghp_the-github-token"
    assert "ghp_the-github-token" not in repr(github)
    assert "RENOVATE_GITHUB_COM_TOKEN" not in azure_spec(make_config, tmp_path).environment


@pytest.mark.parametrize("name", ["GITHUB_COM_TOKEN", "RENOVATE_GITHUB_COM_TOKEN"])
def test_a_github_token_variable_cannot_be_passed_through(make_config: ConfigFactory, name: str) -> None:
    with pytest.raises(ConfigInvalid, match=f"{name} cannot be passed through: the runner sets"):
        make_config(f"passthrough_env: [{name}]\n", {"app.yaml": "local: ../../app\n"}, local_dirs=("app",))
