"""The engine steps before a sweep, against the real engine (no image registry is reachable here)."""

from __future__ import annotations

import docker
import pytest

from runner.errors import EngineError
from runner.renovate import engine

pytestmark = pytest.mark.docker


def test_a_present_image_is_found_without_pulling(docker_client: docker.DockerClient, renovate_image: str) -> None:
    assert engine.ensure_image(docker_client, renovate_image) == docker_client.images.get(renovate_image).id


def test_an_image_that_cannot_be_pulled_is_a_clear_engine_error(docker_client: docker.DockerClient) -> None:
    # An unresolvable registry fails at once and is not retried (it is not transient).
    with pytest.raises(EngineError) as error_info:
        engine.ensure_image(docker_client, "registry.invalid/renovate/renovate:44.121.2")
    message = str(error_info.value)
    assert "registry.invalid/renovate/renovate:44.121.2 is not present and could not be pulled" in message
    assert "scripts/renovate-image.sh" in message
