"""The runner's own image (Dockerfile, built by scripts/runner-image.sh) against the real engine.

It answers `--version` as a non-root user with no installer or compiler inside, and it runs a whole sweep of the
examples through the host's engine: the Renovate containers are its siblings, so every path the runner hands to the
engine (configuration, local repositories, report, CA bundle, lock state) is mounted at the same path in the runner's
container, as docs/azure-pipelines.md tells users to do. The registry double on 127.0.0.1 serves the lookups (the
Renovate containers use the host network); the runner's own container has no network at all, only the socket.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from runner import __version__
from runner.config import DEFAULT_IMAGE
from runner.renovate.container import LABEL_RUN_ID
from tests.doubles.expected_updates import EXPECTED_UPDATES
from tests.doubles.registry import RegistryDouble, renovate_options

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "runner-image.sh"
EXAMPLES = REPO_ROOT / "examples"
SAMPLES = ("npm-app", "pip-app", "py-lib")
SOCKET_IN_CONTAINER = "/var/run/docker.sock"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CALLER_UID = 4321  # a user of the host who is not root and not the image's own user
IMAGE_SIZE_LIMIT = 250 * 1024 * 1024  # the Python base and the venv; build tools or the wheelhouse would exceed it


@pytest.fixture(scope="session")
def runner_image(docker_client: docker.DockerClient) -> str:
    """The image of this checkout, built (or reused, when nothing changed) by scripts/runner-image.sh."""
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        pytest.fail(f"scripts/runner-image.sh failed with exit code {result.returncode}:\n{result.stderr[-4000:]}")
    image = result.stdout.strip().splitlines()[-1]
    docker_client.images.get(image)
    return image


@pytest.fixture
def cache_volume(docker_client: docker.DockerClient) -> Iterator[str]:
    name = f"renovate-runner-test-{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.volumes.get(name).remove(force=True)


def host_socket() -> Path:
    docker_host = os.environ.get("DOCKER_HOST", "")
    return Path(docker_host.removeprefix("unix://")) if docker_host.startswith("unix://") else Path(SOCKET_IN_CONTAINER)


def run_in_image(client: docker.DockerClient, image: str, entrypoint: str, *args: str) -> str:
    output = client.containers.run(image, list(args), entrypoint=[entrypoint], network_mode="none", remove=True)
    assert isinstance(output, bytes)
    return output.decode().strip()


def test_the_image_answers_as_a_non_root_user_without_build_tools(
    docker_client: docker.DockerClient, runner_image: str
) -> None:
    image = docker_client.images.get(runner_image)
    assert image.attrs["Config"]["Entrypoint"] == ["renovate-runner"]
    assert image.attrs["Config"]["User"] == "10001:10001"
    assert image.attrs["Size"] < IMAGE_SIZE_LIMIT, f"{image.attrs['Size'] / 2**20:.0f} MiB"

    version = docker_client.containers.run(runner_image, ["--version"], network_mode="none", remove=True)
    assert isinstance(version, bytes)
    assert version.decode().splitlines() == [
        f"renovate-runner {__version__}",
        f"default Renovate image: {DEFAULT_IMAGE}",
    ]
    assert run_in_image(docker_client, runner_image, "id", "-u") == "10001"
    leftovers = run_in_image(
        docker_client,
        runner_image,
        "python3",
        "-c",
        "import importlib.util, pathlib, shutil; "
        "print([name for name in ('pip', 'setuptools', 'ensurepip') if importlib.util.find_spec(name)], "
        "[tool for tool in ('gcc', 'cc', 'make', 'pip', 'pip3', 'uv') if shutil.which(tool)], "
        "pathlib.Path('/tmp/wheelhouse').exists())",
    )
    assert leftovers == "[] [] False"


def write_sweep_config(work: Path, registry: RegistryDouble, cache_volume: str) -> Path:
    config = work / "config"
    (config / "repos").mkdir(parents=True)
    global_options = {"onboarding": False, "requireConfig": "optional", **renovate_options(registry.base_url)}
    (config / "runner.yaml").write_text(
        "renovate:\n"
        f"  global: {json.dumps(global_options)}\n"
        "concurrency: 3\n"
        "timeout: 10m\n"
        f"cache: {{volume: {cache_volume}}}\n"
        "network: host  # the Renovate containers reach the registry double on 127.0.0.1\n"
        "passthrough_env: []\n"
    )
    shutil.copytree(EXAMPLES, work / "examples")
    for sample in SAMPLES:
        (config / "repos" / f"{sample}.yaml").write_text(f"local: ../../examples/{sample}\n")
    return config


def hand_over(tree: Path, uid: int) -> None:
    for path in (tree, *tree.rglob("*")):
        os.chown(path, uid, uid, follow_symlinks=False)


def sibling_run_command(image: str, work: Path, name: str) -> list[str]:
    """`docker run` of the runner as docs/azure-pipelines.md shows it, for a caller owning `work`."""
    socket = host_socket()
    command = [
        "docker", "run", "--rm", "--name", name, "--network", "none",
        "--user", f"{CALLER_UID}:{CALLER_UID}", "--group-add", str(socket.stat().st_gid),
        "--volume", f"{socket}:{SOCKET_IN_CONTAINER}",
        "--volume", f"{work}:{work}", "--workdir", str(work),
        "--env", f"RENOVATE_RUNNER_STATE_DIR={work / 'state'}",
    ]  # fmt: skip
    if HOST_CA_BUNDLE.is_file():
        command += ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
    return [*command, image]


def as_tuples(updates: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    keys = ("manager", "dependency", "current_value", "update_type", "new_value", "new_version")
    return {tuple(update[key] for key in keys) for update in updates}


def test_a_sweep_inside_the_image_runs_renovate_through_the_host_engine(
    tmp_path: Path,
    docker_client: docker.DockerClient,
    runner_image: str,
    renovate_image: str,
    registry_double: RegistryDouble,
    cache_volume: str,
) -> None:
    work = tmp_path / "work"
    config = write_sweep_config(work, registry_double, cache_volume)
    hand_over(work, CALLER_UID)
    run_id = f"image-{uuid.uuid4().hex[:8]}"
    name = f"renovate-runner-image-test-{run_id}"
    sweep = ["run", "--config", str(config), "--report-dir", str(work / "report"), "--image", renovate_image]

    try:
        result = subprocess.run(
            [*sibling_run_command(runner_image, work, name), *sweep, "--run-id", run_id],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.containers.get(name).remove(force=True)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report_file = work / "report" / "report.json"
    assert report_file.stat().st_uid == CALLER_UID  # written by the caller's user, not root
    report = json.loads(report_file.read_text())
    assert report["run_id"] == run_id
    outcomes = {outcome["repository"]: outcome for outcome in report["repositories"]}
    assert sorted(outcomes) == [f"local/{sample}" for sample in SAMPLES]
    for sample in SAMPLES:
        outcome = outcomes[f"local/{sample}"]
        assert outcome["status"] == "succeeded", outcome
        expected = {
            (u.manager, u.dep_name, u.current_value, u.update_type, u.new_value, u.new_version)
            for u in EXPECTED_UPDATES[sample]
        }
        assert as_tuples(outcome["updates"]) == expected, sample
        assert (work / "report" / outcome["log"]).stat().st_size > 0
    assert registry_double.requests, "the Renovate containers never reached the registry double"
    assert not docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN_ID}={run_id}"})
