"""The project's own renovate.json passes Renovate's own `renovate-config-validator` from the pinned image.

Run in a directory holding the file, the validator checks it as a repository's config (files named on its command
line it checks as self-hosted, global config instead). `--strict` also fails a config that Renovate would migrate,
so the file keeps the current option names. The container has no network: the validator needs none for this file
(its only preset, config:recommended, is built in).
"""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

RENOVATE_JSON = Path(__file__).resolve().parents[2] / "renovate.json"
WORKDIR = "/tmp/renovate-runner-config"


def test_renovate_json_passes_renovates_own_validator(docker_client: docker.DockerClient, renovate_image: str) -> None:
    container = docker_client.containers.run(
        renovate_image,
        ["renovate-config-validator", "--strict"],
        working_dir=WORKDIR,
        volumes={str(RENOVATE_JSON): {"bind": f"{WORKDIR}/renovate.json", "mode": "ro"}},
        network_mode="none",
        detach=True,
    )
    try:
        status = container.wait(timeout=120)
        output = container.logs(stdout=True, stderr=True).decode()
    finally:
        container.remove(force=True)

    assert status["StatusCode"] == 0, output
    assert "WARN" not in output, output
    assert "ERROR" not in output, output
    assert "Validating renovate.json\n" in output, output  # as a repository's config, not as global config
    assert "Config validated successfully" in output, output
