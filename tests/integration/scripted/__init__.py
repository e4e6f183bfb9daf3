"""The scripted Renovate: a test image that doubles Renovate's process, so sweep tests decide what "Renovate" does.

The whole-sweep integration tests need repositories whose Renovate fails after logging an error, runs out of
memory, hangs past its timeout, ignores SIGTERM, is killed, or records when it ran. Real Renovate does those
only by accident, slowly, and needs registries to talk to; the end-to-end test (tests/e2e) runs it for real.
Here only the process inside the container is doubled: the CLI, the configuration, the Docker engine, the
containers with the runner's limits, mounts, labels and init process, the log stream and the report are all real.

The image is the Renovate image with its entrypoint swapped for `renovate.sh`, which sources `behaviour.sh` from
the local repository the runner mounts (read-only) at /usr/src/app, its working directory. So each repository
directory of a test holds a few lines of shell that say what happens in its container, with helpers that print
bunyan records like Renovate's (`log`, `repository_started`, `repository_finished`, `stamp`), write Renovate's
report file (`write_report`), and end as Renovate can end (`exhaust_memory`, `exhaust_heap`, `die_by_signal`,
`ignore_sigterm`).

The image is built from the local base image only (no registry is reachable) and tagged by a hash of its recipe and
of the base image's id, so it is rebuilt only when one of them changes and is kept between test sessions.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import docker
import docker.errors

IMAGE_REPOSITORY = "renovate-runner/scripted-renovate"
RECIPE_DIR = Path(__file__).resolve().parent
RECIPE_FILES = ("Dockerfile", "renovate.sh")

FINISHES = """
repository_started
repository_finished done
"""
"""A `behaviour.sh` for a repository that Renovate processes without anything to report."""


def recipe_hash(base_image_id: str) -> str:
    digest = hashlib.sha256(base_image_id.encode())
    for name in RECIPE_FILES:
        digest.update(f"\0{name}\0".encode())
        digest.update((RECIPE_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def build_scripted_image(client: docker.DockerClient, base_image: str) -> str:
    """The scripted image's tag over `base_image`, built first unless an image of the same recipe exists."""
    base_id = str(client.images.get(base_image).id)
    tag = f"{IMAGE_REPOSITORY}:{recipe_hash(base_id)}"
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        client.images.build(
            fileobj=_build_context(),
            custom_context=True,
            tag=tag,
            buildargs={"BASE": base_image},
            pull=False,  # the base image is local; nothing may come from a registry
            network_mode="none",
            rm=True,
            forcerm=True,
        )
    return tag


def _build_context() -> io.BytesIO:
    """A tar of the recipe files alone, with fixed metadata, so the build sees nothing else of this directory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in RECIPE_FILES:
            data = (RECIPE_DIR / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


__all__ = ["FINISHES", "IMAGE_REPOSITORY", "build_scripted_image", "recipe_hash"]
