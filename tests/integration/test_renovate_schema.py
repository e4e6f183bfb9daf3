"""`renovate-runner schema --renovate` with the real Renovate image: Renovate's own schema of the pinned version
describes the Renovate options, so editors complete and check them (nothing doubled)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest

from runner.cli import main
from runner.config.yaml_source import load_yaml

pytestmark = [pytest.mark.docker]

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def schema_of(kind: Literal["runner", "repo"], image: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["schema", "--kind", kind, "--renovate", "--image", image]) == 0
    schema: dict[str, Any] = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def errors(schema: dict[str, Any], document: object) -> list[tuple[list[object], str]]:
    validator = jsonschema.Draft202012Validator(schema)
    return [(list(error.absolute_path), error.message) for error in validator.iter_errors(document)]


def test_the_runner_schema_checks_renovate_global_with_renovates_own_schema(
    renovate_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schema_of("runner", renovate_image, capsys)

    assert schema["$defs"]["RenovateOptions"]["x-renovate-version"] == "44.121.2"
    assert errors(schema, load_yaml(PROJECT_ROOT / "config" / "runner.yaml").data) == []
    assert errors(schema, {"renovate": {"global": {"onboarding": False, "prHourlyLimit": "two"}}}) == [
        (["renovate", "global", "prHourlyLimit"], "'two' is not of type 'integer'")
    ]


def test_the_repository_schema_checks_its_renovate_options_too(
    renovate_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = schema_of("repo", renovate_image, capsys)

    document = {"repository": "P/r", "renovate": {"packageRules": [{"matchPackageNames": ["x"], "enabled": "yes"}]}}
    assert errors(schema, document) == [(["renovate", "packageRules", 0, "enabled"], "'yes' is not of type 'boolean'")]
    assert errors(schema, {"repository": "P/r", "renovate": {"labels": ["deps"], "schedule": ["at any time"]}}) == []
