"""The replaying Renovate image: recorded Renovate output, replayed by a static program as the entry point.

A load test starts a hundred Renovate containers; real Renovate would spend most of the test starting Node. This
image adds to the tests' Renovate image (for its shell, which the runner's cache preparation and probe use) one
static binary (`replay.c`, compiled here with the host's C compiler, since no registry is reachable for a build
image) as its entry point, and two recordings of a real Renovate 44 run against the Azure DevOps double: its log
lines (`renovate.ndjson`) and its report file (`report.json`). It is tagged by a hash of all four files and the base
image's id, so it is built once per base and kept between sessions.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Final

import docker
import docker.errors

IMAGE_REPOSITORY: Final = "renovate-runner/replay-renovate"
RECIPE_DIR: Final = Path(__file__).resolve().parent
SOURCES: Final = ("Dockerfile", "replay.c", "renovate.ndjson", "report.json")


def build_replay_image(client: docker.DockerClient, base_image: str) -> str:
    """The image's tag, built on `base_image` first unless an image of the same recipe exists."""
    digest = hashlib.sha256(str(client.images.get(base_image).id).encode())
    for name in SOURCES:
        digest.update(f"\0{name}\0".encode() + (RECIPE_DIR / name).read_bytes())
    tag = f"{IMAGE_REPOSITORY}:{digest.hexdigest()[:12]}"
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        with tempfile.TemporaryDirectory() as scratch:
            binary = Path(scratch) / "replay"
            subprocess.run(
                ["cc", "-static", "-Os", "-o", str(binary), str(RECIPE_DIR / "replay.c")],
                check=True,
                capture_output=True,
            )
            context = _context(
                {name: (RECIPE_DIR / name).read_bytes() for name in SOURCES} | {"replay": binary.read_bytes()}
            )
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            pull=False,
            network_mode="none",
            rm=True,
            buildargs={"BASE": base_image},
        )
    return tag


def _context(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name == "replay" else 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer
