"""The fast-starting image (scripts/renovate-fast-image.sh) against the Renovate image it was derived from: the same
Renovate, configured alike, extracting the same dependencies, but started from one bundle with a code cache.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import docker
import pytest

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ("examples/npm-app/package.json", "examples/pip-app/requirements.txt", "examples/py-lib/pyproject.toml")


def run(client: docker.DockerClient, image: str, *command: str, **options: Any) -> tuple[int, str, str]:
    container = client.containers.run(image, list(command), detach=True, network_mode="none", **options)
    try:
        status = container.wait(timeout=300)
        stdout = container.logs(stdout=True, stderr=False).decode()
        stderr = container.logs(stdout=False, stderr=True).decode()
    finally:
        container.remove(force=True)
    return status["StatusCode"], stdout, stderr


def test_it_reports_the_same_renovate_version(
    docker_client: docker.DockerClient, renovate_image: str, base_renovate_image: str
) -> None:
    assert renovate_image != base_renovate_image
    fast = run(docker_client, renovate_image, "--version")
    base = run(docker_client, base_renovate_image, "--version")
    assert fast[0] == base[0] == 0
    assert fast[1] == base[1]


def test_it_keeps_the_base_images_user_entry_point_command_and_environment(
    docker_client: docker.DockerClient, renovate_image: str, base_renovate_image: str
) -> None:
    fast, base = (docker_client.images.get(image).attrs["Config"] for image in (renovate_image, base_renovate_image))
    for key in ("User", "Entrypoint", "Cmd", "WorkingDir", "Env"):
        assert fast[key] == base[key], key


def test_renovate_starts_from_the_bundle_with_a_code_cache_v8_accepts(
    docker_client: docker.DockerClient, renovate_image: str
) -> None:
    code, _, stderr = run(docker_client, renovate_image, "--version", environment={"RENOVATE_FAST_START_DEBUG": "1"})
    assert code == 0
    assert "renovate-fast-start: code cache accepted" in stderr
    code, target, _ = run(
        docker_client, renovate_image, "sh", "-c", 'readlink -f "$(command -v renovate)"; command -v renovate-unbundled'
    )
    assert code == 0
    assert target.split() == [
        "/usr/local/lib/node_modules/renovate/fast-start/renovate-fast.cjs",
        "/usr/local/bin/renovate-unbundled",
    ]


def test_the_config_validator_is_still_renovates_own(
    docker_client: docker.DockerClient, renovate_image: str, tmp_path: Path
) -> None:
    (tmp_path / "renovate.json").write_text(json.dumps({"extends": ["config:recommended"], "labels": ["deps"]}))
    (tmp_path / "bad.json").write_text(json.dumps({"packageRule": [{"matchPackageNames": ["x"]}]}))
    tmp_path.chmod(0o755)
    mount = {str(tmp_path): {"bind": "/work", "mode": "ro"}}
    valid = run(docker_client, renovate_image, "renovate-config-validator", "/work/renovate.json", volumes=mount)
    invalid = run(docker_client, renovate_image, "renovate-config-validator", "/work/bad.json", volumes=mount)
    assert valid[0] == 0, valid
    assert invalid[0] == 1
    assert "packageRule" in invalid[1] + invalid[2]


def committed_repository(path: Path, files: dict[str, str]) -> Path:
    """A git repository at `path` with `files` in one commit, readable by Renovate's user in the container."""
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    git = ["git", "-C", str(path), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "--all"], check=True)
    subprocess.run([*git, "commit", "--quiet", "--message", "files"], check=True)
    path.chmod(0o755)
    return path


def _extract(client: docker.DockerClient, image: str, repository: Path, report_dir: Path) -> dict[str, Any]:
    code, stdout, _ = run(
        client,
        image,
        environment={
            "RENOVATE_PLATFORM": "local",
            "RENOVATE_DRY_RUN": "extract",
            "RENOVATE_REPORT_TYPE": "file",
            "RENOVATE_REPORT_PATH": "/report/report.json",
            "LOG_FORMAT": "json",
        },
        volumes={str(repository): {"bind": "/usr/src/app", "mode": "ro"}, str(report_dir): {"bind": "/report"}},
    )
    assert code == 0, stdout[-2000:]
    report = json.loads((report_dir / "report.json").read_text())
    package_files: dict[str, Any] = report["repositories"]["local"]["packageFiles"]
    return package_files


def test_it_extracts_exactly_what_the_base_image_extracts(
    docker_client: docker.DockerClient, renovate_image: str, base_renovate_image: str, tmp_path: Path
) -> None:
    samples = {Path(sample).name: (REPO_ROOT / sample).read_text() for sample in SAMPLES}
    repository = committed_repository(tmp_path / "repository", samples)
    reports = {}
    for label, image in (("fast", renovate_image), ("base", base_renovate_image)):
        report_dir = tmp_path / label
        report_dir.mkdir(mode=0o777)
        report_dir.chmod(0o777)  # Renovate writes it as uid 12021
        reports[label] = _extract(docker_client, image, repository, report_dir)
    assert set(reports["fast"]) == {"npm", "pip_requirements", "poetry"}
    assert reports["fast"] == reports["base"]


_AMI_FILE = (
    '# amiFilter=[{"Name":"owner-id","Values":["602401143452"]},{"Name":"name","Values":["amazon-eks-node-1.21-*"]}]\n'
    'ami_id = "ami-0123456789abcdef0"\n'
)
_AMI_MANAGER = {
    "customType": "regex",
    "managerFilePatterns": ["/^amis\\.tf$/"],
    "matchStrings": [
        ".*amiFilter=(?<packageName>.+?)[ ]*\\n[ ]*(?<depName>[a-zA-Z0-9-_:]*)[ ]*?[:|=][ ]*?[\"|']?"
        "(?<currentValue>ami-[a-z0-9]{17})[\"|']?.*"
    ],
    "datasourceTemplate": "aws-machine-image",
    "versioningTemplate": "aws-machine-image",
}


def _aws_lookup_errors(client: docker.DockerClient, image: str, repository: Path) -> list[tuple[str, str]]:
    """The aws-machine-image datasource's errors in a lookup whose EC2 endpoint is a closed port on loopback."""
    code, stdout, _ = run(
        client,
        image,
        environment={
            "RENOVATE_PLATFORM": "local",
            "RENOVATE_DRY_RUN": "lookup",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "debug",
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:9",
        },
        volumes={str(repository): {"bind": "/usr/src/app", "mode": "ro"}},
    )
    assert code == 0, stdout[-2000:]
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [
        (record["msg"], record.get("errCode", ""))
        for record in records
        if record.get("datasource") == "aws-machine-image"
    ]


def test_the_aws_sdk_that_loads_on_first_use_still_sends_its_requests(
    docker_client: docker.DockerClient, renovate_image: str, base_renovate_image: str, tmp_path: Path
) -> None:
    # The fast image's bundle imports the AWS SDK clients through stand-ins that load them on first use. A lookup of
    # the aws-machine-image datasource builds an EC2 client and sends DescribeImages; with the endpoint a closed port,
    # the SDK's own HTTP handler fails with ECONNREFUSED. A broken stand-in would fail before any request instead.
    files = {"amis.tf": _AMI_FILE, "renovate.json": json.dumps({"customManagers": [_AMI_MANAGER]})}
    repository = committed_repository(tmp_path / "repository", files)
    fast = _aws_lookup_errors(docker_client, renovate_image, repository)
    base = _aws_lookup_errors(docker_client, base_renovate_image, repository)
    assert base == [("Datasource connection error", "ECONNREFUSED")]
    assert fast == base
