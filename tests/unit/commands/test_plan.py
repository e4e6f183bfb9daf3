"""`renovate-runner plan` through `main(argv)`: what a run would do, in text and JSON, without starting anything.

The unit tests' DOCKER_HOST names a socket that does not exist, so a plan that touched the engine would fail.
"""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runner.auth import MODE_NAMES, AuthMode
from runner.auth.modes import (
    AZURE_CLI_TASK_VARIABLES,
    FEDERATED_TOKEN_VARIABLES,
    MANAGED_IDENTITY_VARIABLES,
    PIPELINES_VARIABLES,
    modes_for,
)
from runner.auth.selection import select_token_source
from runner.cli import main
from runner.commands.plan import preview_auth
from runner.config import AuthConfig, RepoConfig, RunnerConfig, SweepConfig
from runner.errors import AuthError
from runner.sharding import POSITION_VARIABLE, TOTAL_VARIABLE, shard_number
from tests.unit.auth.fakes import PIPELINES_ENV, executable, jwt_expiring, working
from tests.unit.conftest import ConfigFactory

ORGANIZATION = "organization: https://dev.azure.com/contoso/\n"
REPOS = {
    "api.yaml": "repository: Platform/api\ntimeout: 45m\n",
    "billing.yaml": "repository: Platform/billing\n",
    "old.yaml": "repository: Archive/old\nenabled: false\n",
    "sample.yaml": "local: ../../sample\n",
    "web.yaml": "repository: Web/portal\ntimeout: 1h30m\n",
}
ALL_NAMES = ["Archive/old", "local/sample", "Platform/api", "Platform/billing", "Web/portal"]  # config order


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No auth inputs, no pipeline, and a PATH with nothing on it; returns that PATH directory."""
    for name in (
        *PIPELINES_VARIABLES,
        *FEDERATED_TOKEN_VARIABLES,
        *AZURE_CLI_TASK_VARIABLES,
        *MANAGED_IDENTITY_VARIABLES,
        "RENOVATE_TOKEN",
        "TF_BUILD",
        POSITION_VARIABLE,
        TOTAL_VARIABLE,
    ):
        monkeypatch.delenv(name, raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def put_on_path(bin_dir: Path, command: str) -> None:
    """An executable of that name, so `shutil.which` finds it; plan never runs it."""
    path = bin_dir / command
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def config(make_config: ConfigFactory) -> SweepConfig:
    return make_config(ORGANIZATION + "concurrency: 3\n", REPOS, local_dirs=("sample",))


def plan_text(capsys: pytest.CaptureFixture[str], config: SweepConfig, *argv: str) -> str:
    code = main(["plan", "--config", str(config.config_dir), *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def plan_json(capsys: pytest.CaptureFixture[str], config: SweepConfig, *argv: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(plan_text(capsys, config, "--json", *argv))
    return document


def test_plan_prints_settings_and_every_repository(capsys: pytest.CaptureFixture[str], config: SweepConfig) -> None:
    out = plan_text(capsys, config)

    assert out == (
        f"Plan for {config.config_dir} (nothing is started)\n"
        "  auth:         auto -> no mode finds its inputs here (pipelines, azure-cli, workload-identity, "
        "managed-identity, azd, token-env); a run would exit 3\n"
        "  image:        ghcr.io/renovatebot/renovate:44.121.2\n"
        "  concurrency:  3 (configured)\n"
        "  shard:        none: this job runs every selected repository\n"
        "  repositories: 5\n"
        "\n"
        "repository        kind   enabled  timeout  shard\n"
        "Archive/old       azure  no       30m      -\n"
        "local/sample      local  yes      30m      -\n"
        "Platform/api      azure  yes      45m      -\n"
        "Platform/billing  azure  yes      30m      -\n"
        "Web/portal        azure  yes      1h30m    -\n"
    )


def test_plan_as_json(capsys: pytest.CaptureFixture[str], config: SweepConfig) -> None:
    document = plan_json(capsys, config, "--repo", "Platform/api", "--repo", "local/sample")

    assert document == {
        "config": str(config.config_dir),
        "auth": {
            "mode": "auto",
            "applies": None,
            "note": "no mode finds its inputs here (pipelines, azure-cli, workload-identity, managed-identity, azd, "
            "token-env); a run would exit 3",
        },
        "image": "ghcr.io/renovatebot/renovate:44.121.2",
        "concurrency": 3,
        "concurrency_basis": "configured",
        "shard": None,
        "shard_source": None,
        "selected": 2,
        "repositories": [
            {
                "name": "local/sample",
                "kind": "local",
                "enabled": True,
                "timeout": "30m",
                "timeout_s": 1800,
                "shard": None,
            },
            {
                "name": "Platform/api",
                "kind": "azure",
                "enabled": True,
                "timeout": "45m",
                "timeout_s": 2700,
                "shard": None,
            },
        ],
        "shards": {},
    }


def test_plan_of_one_shard_lists_its_repositories_and_the_split(
    capsys: pytest.CaptureFixture[str], config: SweepConfig
) -> None:
    mine = [name for name in ALL_NAMES if shard_number(name, 2) == 2]
    sizes = [sum(shard_number(name, 2) == index for name in ALL_NAMES) for index in (1, 2)]

    out = plan_text(capsys, config, "--shard", "2/2")

    assert "  shard:        2/2 (from --shard)\n" in out
    assert f"  repositories: {len(mine)} of 5 selected\n" in out
    listed = [line.split()[0] for line in out.split("\n\n")[1].splitlines()[1:]]
    assert listed == mine
    assert out.endswith(f"\nRepositories per shard (5 selected):\n  1/2  {sizes[0]}\n  2/2  {sizes[1]}  <- this run\n")


def test_plan_takes_the_shard_of_an_azure_pipelines_parallel_job(
    capsys: pytest.CaptureFixture[str], config: SweepConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(POSITION_VARIABLE, "3")
    monkeypatch.setenv(TOTAL_VARIABLE, "3")

    document = plan_json(capsys, config)

    assert document["shard"] == "3/3"
    assert document["shard_source"] == f"{POSITION_VARIABLE}/{TOTAL_VARIABLE}"
    assert [repo["name"] for repo in document["repositories"]] == [n for n in ALL_NAMES if shard_number(n, 3) == 3]
    assert {repo["shard"] for repo in document["repositories"]} <= {"3/3"}
    assert sum(document["shards"].values()) == 5
    assert list(document["shards"]) == ["1/3", "2/3", "3/3"]


def test_plan_with_an_unknown_repository_exits_2(capsys: pytest.CaptureFixture[str], config: SweepConfig) -> None:
    code = main(["plan", "--config", str(config.config_dir), "--repo", "Platform/nope"])

    assert code == 2
    assert "renovate-runner: --repo Platform/nope: not in the configuration; configured: " in capsys.readouterr().err


# --- which auth mode a run would use here ---


def auth_of(capsys: pytest.CaptureFixture[str], config: SweepConfig, *argv: str) -> dict[str, Any]:
    auth: dict[str, Any] = plan_json(capsys, config, *argv)["auth"]
    return auth


def test_auto_names_the_only_mode_whose_inputs_are_present(
    capsys: pytest.CaptureFixture[str], config: SweepConfig, bare_environment: Path
) -> None:
    put_on_path(bare_environment, "az")

    assert auth_of(capsys, config) == {
        "mode": "auto",
        "applies": "azure-cli",
        "note": "azure-cli: the only mode that applies here",
    }


def test_auto_with_several_candidates_is_decided_at_run_time(
    capsys: pytest.CaptureFixture[str], config: SweepConfig, bare_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_on_path(bare_environment, "azd")
    monkeypatch.setenv("RENOVATE_TOKEN", "not-a-real-token")

    assert auth_of(capsys, config) == {
        "mode": "auto",
        "applies": None,
        "note": "decided at run time: the first of azd, token-env that gives a token",
    }


@pytest.mark.parametrize(
    ("runner_auth", "environment", "expected"),
    [
        (
            "token-env",
            {"RENOVATE_TOKEN": "not-a-real-token"},
            {"applies": "token-env", "note": "token-env: asks for a token at run time"},
        ),
        (
            "token-env",
            {},
            {"applies": None, "note": "token-env cannot run here (RENOVATE_TOKEN is unset); a run would exit 3"},
        ),
        (
            "managed-identity",  # an Azure VM's metadata service needs no variable
            {},
            {"applies": "managed-identity", "note": "managed-identity: asks for a token at run time"},
        ),
    ],
)
def test_an_explicit_mode_says_whether_it_can_run_here(
    capsys: pytest.CaptureFixture[str],
    make_config: ConfigFactory,
    monkeypatch: pytest.MonkeyPatch,
    runner_auth: str,
    environment: dict[str, str],
    expected: dict[str, str],
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = make_config(f"{ORGANIZATION}auth:\n  mode: {runner_auth}\n", {"api.yaml": "repository: Platform/api\n"})

    assert auth_of(capsys, config) == {"mode": runner_auth, **expected}


def test_a_run_of_local_repositories_needs_no_token(capsys: pytest.CaptureFixture[str], config: SweepConfig) -> None:
    # Archive/old is an Azure DevOps repository, but disabled: it is reported skipped and needs no token either.
    auth = auth_of(capsys, config, "--repo", "local/sample", "--repo", "Archive/old")

    assert auth == {"mode": "auto", "applies": None, "note": "no token needed: every repository of this run is local"}


# --- plan and run judge auth modes alike ---


def environments(directory: Path) -> dict[str, dict[str, str]]:
    """Each mode's inputs alone, none, and all of them; PATH holds `az` and `azd` only where they are named."""
    empty, cli, azd_only = directory / "empty", directory / "az", directory / "azd"
    for path in (empty, cli, azd_only):
        path.mkdir()
    executable(cli, "az")
    executable(azd_only, "azd")
    token = jwt_expiring(datetime.now(UTC) + timedelta(hours=1))
    federated = {"AZURE_FEDERATED_TOKEN_FILE": "/var/run/token", "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}
    alone = {
        "nothing": {},
        "pipelines": dict(PIPELINES_ENV),
        "azure-cli": {"PATH": str(cli)},
        "workload-identity": federated,
        "managed-identity": {"IDENTITY_ENDPOINT": "http://127.0.0.1:41741/msi/token"},
        "azd": {"PATH": str(azd_only)},
        "token-env": {"RENOVATE_TOKEN": token},
    }
    every = {key: value for environ in alone.values() for key, value in environ.items()}
    return {name: {"PATH": str(empty), **environ} for name, environ in {**alone, "everything": every}.items()}


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_plan_names_the_mode_a_run_uses_for_every_mode_in_every_environment(mode: str, tmp_path: Path) -> None:
    runner = RunnerConfig(organization="https://dev.azure.com/contoso/", auth=AuthConfig(mode=AuthMode(mode)))
    repos = [RepoConfig(repository="Platform/api", source=tmp_path / "repos" / "api.yaml")]
    # The real modes' detection of their inputs, with credentials that answer at once.
    modes = [replace(each, build=working(datetime.now(UTC) + timedelta(hours=1))) for each in modes_for(runner.auth)]
    (tmp_path / "paths").mkdir()

    for name, environ in environments(tmp_path / "paths").items():
        preview = preview_auth(runner, repos, environ)
        try:
            used: str | None = select_token_source(mode, environ, modes).mode
        except AuthError:
            used = None

        where = f"mode {mode} with the inputs of {name}: {preview.note}"
        assert preview.note.endswith("a run would exit 3") == (used is None), where
        if preview.applies is not None:
            assert used == preview.applies, where
        elif used is not None:
            assert preview.note.startswith(f"decided at run time: the first of {used}, "), where
