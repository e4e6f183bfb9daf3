"""Unit tests build configurations the way users do: YAML files on disk, loaded by `load_config`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from unittest.mock import MagicMock

import docker
import pytest
from docker.models.containers import ContainerCollection

from runner.commands.run import SweepPlan
from runner.config import RunnerConfig, SweepConfig, load_config
from runner.repo_run import SweepState
from runner.run_context import RunContext
from tests.postgres import postgres_fixture, store_url_fixture  # noqa: F401 - fixtures, found by name
from tests.unit.sign_in import clear_auth_environment

ConfigFactory = Callable[..., SweepConfig]

# Unit tests run without a container engine: any Docker client they build by accident talks to this socket and
# fails loudly. The CLI tests rely on it to reach the "engine unavailable" exit code.
NO_ENGINE_DOCKER_HOST = "unix:///nonexistent/renovate-runner-unit-tests.sock"


@pytest.fixture(autouse=True)
def _no_container_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE_DOCKER_HOST)
    # TLS settings meant for a real engine would turn the unix socket above into a different error.
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigFactory:
    """`make_config(runner_yaml, {"name.yaml": text, ...})` -> the loaded `SweepConfig` (local dirs are created)."""

    def make(runner_yaml: str, repos: Mapping[str, str], *, local_dirs: tuple[str, ...] = ()) -> SweepConfig:
        config = tmp_path / "config"
        (config / "repos").mkdir(parents=True, exist_ok=True)
        (config / "runner.yaml").write_text(runner_yaml)
        for name, text in repos.items():
            (config / "repos" / name).write_text(text)
        for directory in local_dirs:
            (tmp_path / directory).mkdir(parents=True, exist_ok=True)
        return load_config(config)

    return make


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clears every auth input and CI marker from the process environment; PATH is an empty directory, where a
    test may put fake `az` or `azd` executables."""
    return clear_auth_environment(tmp_path, monkeypatch)


def idle_sweep_state(plan: SweepPlan, scratch: Path) -> SweepState:
    """A sweep's shared state for `plan` with an engine that must never be called (every repository is skipped)."""
    return SweepState(
        client=MagicMock(spec=docker.DockerClient),
        context=RunContext(
            run_id=plan.run_id,
            run_lock=scratch / "run.lock",
            runner=plan.runner,
            image=plan.image,
            dry_run=False,
            ca_bundle=None,
            host_environ={},
            report_dir=scratch / "report",
        ),
        token_source=None,
    )


def faked_engine_state(runner: RunnerConfig, scratch: Path) -> tuple[SweepState, MagicMock]:
    """A sweep's shared state for local repositories, with a spec'd fake of the Docker SDK to script."""
    client = MagicMock(spec=docker.DockerClient)
    client.containers = MagicMock(spec=ContainerCollection)
    state = SweepState(
        client=client,
        context=RunContext(
            run_id="run-1",
            run_lock=scratch / "run.lock",
            runner=runner,
            image="renovate:test",
            dry_run=False,
            ca_bundle=None,
            host_environ={},
            report_dir=scratch / "report",
        ),
        token_source=None,
    )
    return state, client
