"""`cache.directory` against the real engine: once the runner has prepared it, Renovate's user (uid 12021) writes to
the bind mount at Renovate's cache path, and what it wrote is on the host and in the next container."""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from runner.config import CacheConfig
from runner.renovate.cache_dir import prepare_cache_directory
from runner.renovate.container_spec import cache_mount

pytestmark = pytest.mark.docker


def in_container(client: docker.DockerClient, image: str, cache: CacheConfig, script: str) -> str:
    mount = cache_mount(cache)
    output: bytes = client.containers.run(
        image,
        entrypoint=["/bin/sh", "-c"],
        command=[script],
        network_mode="none",
        volumes={mount.source: {"bind": mount.target, "mode": "rw"}},
        labels={"renovate-runner.test": "cache-directory"},
        remove=True,
    )
    return output.decode().strip()


@pytest.mark.parametrize("root", [True, False], ids=["runner-as-root", "runner-as-agent-user"])
def test_renovates_user_writes_to_the_prepared_directory_and_the_file_survives(
    docker_client: docker.DockerClient,
    renovate_image: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    root: bool,
) -> None:
    if not root:  # as on a Microsoft-hosted agent: the runner cannot chown, a root container does
        monkeypatch.setattr(os, "geteuid", lambda: 1001)
    directory = tmp_path / "restored-by-cache-task"
    (directory / "npm").mkdir(parents=True)
    (directory / "npm" / "old.json").write_text("{}", encoding="utf-8")  # as Cache@2 restores it, not 12021's
    cache = CacheConfig.model_validate({"directory": directory})

    prepare_cache_directory(directory, docker_client, renovate_image)
    written = in_container(
        docker_client,
        renovate_image,
        cache,
        "id -u && echo kept > /tmp/renovate/cache/npm/new && echo x >> /tmp/renovate/cache/npm/old.json",
    )
    read_back = in_container(docker_client, renovate_image, cache, "cat /tmp/renovate/cache/npm/new")

    assert written == "12021"
    assert (directory / "npm" / "new").read_text(encoding="utf-8") == "kept\n"
    assert read_back == "kept"
