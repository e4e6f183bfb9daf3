"""Fixtures shared by every test directory.

Docker and end-to-end tests never skip: `scripts/test.sh` starts the engine and builds the Renovate image first, so
a missing engine or image is a set-up failure and is reported as one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import hypothesis
import pytest
import structlog

from runner.locking import STATE_DIR_ENV
from runner.secrets import clear_secrets

# Property tests: few examples, so the unit suite stays fast, and no deadline, since the machine is shared and a slow
# example is not a failure. In CI (TF_BUILD in Azure Pipelines, CI elsewhere) the examples are derived from each test
# alone, not drawn at random, and no example database is kept: the same code gets the same verdict on every run.
hypothesis.settings.register_profile("dev", max_examples=60, deadline=None)
hypothesis.settings.register_profile(
    "ci", parent=hypothesis.settings.get_profile("dev"), derandomize=True, database=None
)
hypothesis.settings.load_profile("ci" if os.environ.get("TF_BUILD") or os.environ.get("CI") else "dev")

IMAGE_ENV = "RENOVATE_RUNNER_IMAGE"  # the fast-starting image, which the runner's tests run
BASE_IMAGE_ENV = "RENOVATE_RUNNER_BASE_IMAGE"  # the Renovate image it was derived from
DEFAULT_TEST_IMAGE = "renovate-runner/renovate:44.121.2"


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's state directory (locks, and the default history store) is the user's own: never in a test."""
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _isolated_process_state() -> Iterator[None]:
    """structlog configuration and the secret registry are process-wide; no test may see another's."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    clear_secrets()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.fail(f"no Docker engine ({error}); run the tests through scripts/test.sh, which starts one")
    yield client
    client.close()


def _present_image(docker_client: docker.DockerClient, variable: str) -> str:
    image = os.environ.get(variable, DEFAULT_TEST_IMAGE)
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        pytest.fail(f"Renovate image {image} ({variable}) is missing; scripts/test.sh builds it (scripts/setup.sh)")
    return image


@pytest.fixture(scope="session")
def renovate_image(docker_client: docker.DockerClient) -> str:
    return _present_image(docker_client, IMAGE_ENV)


@pytest.fixture(scope="session")
def base_renovate_image(docker_client: docker.DockerClient) -> str:
    return _present_image(docker_client, BASE_IMAGE_ENV)


pytest_plugins = [
    "tests.doubles.azure_devops.fixtures",
    "tests.doubles.fixtures",
    "tests.doubles.identity_fixtures",
    "tests.e2e.azure.organization",
    "tests.integration.scripted.fixtures",
]
