"""Fixtures of the sweep integration tests; a test module imports the ones it uses (each is named in its decorator,
so a test parameter of that name does not shadow the imported function)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from runner.locking import STATE_DIR_ENV
from tests.integration.scripted import build_scripted_image
from tests.integration.scripted.workspace import Workspace


@pytest.fixture(name="scripted_image", scope="session")
def scripted_image_fixture(docker_client: docker.DockerClient, renovate_image: str) -> str:
    return build_scripted_image(docker_client, renovate_image)


@pytest.fixture(name="cache_volume")
def cache_volume_fixture(docker_client: docker.DockerClient) -> Iterator[str]:
    """A cache volume name no other test uses; the sweep creates the volume, this removes it afterwards."""
    name = f"renovate-runner-it-{uuid.uuid4().hex[:10]}"
    yield name
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.volumes.get(name).remove(force=True)


@pytest.fixture(name="workspace")
def workspace_fixture(
    tmp_path: Path, scripted_image: str, cache_volume: str, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    workspace = Workspace(tmp_path, image=scripted_image, cache_volume=cache_volume)
    monkeypatch.setenv(STATE_DIR_ENV, str(workspace.state_dir))
    return workspace


@pytest.fixture(name="run_id")
def run_id_fixture() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"
