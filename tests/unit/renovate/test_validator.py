"""The validator's log records mapped to the runner's files, lines and keys (no engine: records as Renovate 44 writes
them; tests/e2e/renovate_options runs the real validator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.renovate.validator import map_records, targets
from tests.unit.conftest import ConfigFactory

RUNNER_YAML = """\
organization: https://dev.azure.com/contoso
renovate:
  global:
    prHourlyLimit: two
    baseBranches: [main]
"""
API_YAML = """\
repository: Platform/api
renovate:
  labels: deps
"""


def error(file: str, *messages: str) -> dict[str, object]:
    return {
        "level": 50,
        "file": f"/tmp/renovate-runner-validate/{file}",
        "msg": "Found errors in configuration",
        "errors": [{"topic": "Configuration Error", "message": message} for message in messages],
    }


def test_each_problem_lands_in_the_file_that_wrote_the_option_once(
    make_config: ConfigFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = make_config(RUNNER_YAML, {"api.yaml": API_YAML, "web.yaml": "repository: Platform/web\n"})
    checked = targets(config)
    assert [target.file_name for target in checked] == ["global.json", "repo-0000.json"]  # web has no options
    limit = 'Configuration option `prHourlyLimit` should be an integer. Found: "two" (string).'
    labels = "Configuration option `labels` should be a list (Array)"
    migration = {
        "level": 40,
        "msg": "Config migration necessary",
        "oldConfig": {"prHourlyLimit": "two", "baseBranches": ["main"]},
        "newConfig": {"prHourlyLimit": "two", "baseBranchPatterns": ["main"]},
    }
    records = [
        {"level": 30, "msg": "Validating /tmp/renovate-runner-validate/global.json as global config"},
        migration,
        error("global.json", limit),
        {"level": 30, "msg": "Validating /tmp/renovate-runner-validate/repo-0000.json as global config"},
        migration,
        error("repo-0000.json", labels, limit),
    ]

    result = map_records(records, checked, config)

    assert [str(problem) for problem in result.errors] == [
        f"config/runner.yaml:4: renovate.global.prHourlyLimit: {limit}",
        f"config/repos/api.yaml:3: renovate.labels: {labels}",
    ]
    assert [str(problem) for problem in result.warnings] == [
        "config/runner.yaml:5: renovate.global.baseBranches: needs migration: Renovate now reads it as "
        'baseBranchPatterns: ["main"]; write that instead'
    ]


def test_the_files_hold_no_secret_values(make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NPM_TOKEN_VALUE", "npm-secret-value")
    config = make_config(
        "renovate: {global: {npmToken: '{{ secrets.NPM_TOKEN }}'}}\nsecrets_env: {NPM_TOKEN: NPM_TOKEN_VALUE}\n",
        {"app.yaml": "local: ../../app\nrenovate: {labels: [x]}\n"},
        local_dirs=("app",),
    )
    assert all("npm-secret-value" not in str(target.options) for target in targets(config))
    assert targets(config)[0].options["npmToken"] == "{{ secrets.NPM_TOKEN }}"
