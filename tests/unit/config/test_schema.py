"""The JSON Schema for editors: valid draft 2020-12, rejects mistakes (test_schema_files.py: the shipped files)."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest

from runner.config import config_json_schema


def validator(kind: Literal["runner", "repo"]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(config_json_schema(kind))


@pytest.mark.parametrize("kind", ["runner", "repo"])
def test_schema_is_valid_draft_2020_12(kind: Literal["runner", "repo"]) -> None:
    schema = config_json_schema(kind)

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    "document",
    [
        {"concurency": 4},
        {"renovate": {"log_level": "verbose"}},
        {"timeout": "30 minutes"},
        {"limits": {"memory": "2 gigs"}},
        {"limits": {"memory": "1,5g"}},
        {"limits": {"memory": "2gi"}},
        {"passthrough_env": ["HTTP-PROXY"]},
        {"secrets_env": {"bad-name": "VAR"}},
        {"concurrency": 0},
        {"auth": {"mode": "pat"}},
    ],
)
def test_runner_schema_rejects_mistakes(document: dict[str, Any]) -> None:
    assert list(validator("runner").iter_errors(document))


@pytest.mark.parametrize("memory", ["2g", "2G", "2gb", "2GiB", "2 GB", "1.5g", ".5g", "512m", "6291456", 6291456])
def test_runner_schema_accepts_what_docker_run_memory_takes(memory: object) -> None:
    assert list(validator("runner").iter_errors({"limits": {"memory": memory}})) == []


@pytest.mark.parametrize(
    "document",
    [
        {"repository": "P/r", "local": "."},
        {"enabled": True},
        {"repository": "P/r/x"},
        {"repository": "P/r", "x": 1},
    ],
)
def test_repo_schema_rejects_mistakes(document: dict[str, Any]) -> None:
    assert list(validator("repo").iter_errors(document))


def test_schema_shows_defaults_as_they_are_written_in_yaml() -> None:
    schema = config_json_schema("runner")
    definitions = schema["$defs"]

    assert schema["properties"]["timeout"]["default"] == "30m"
    assert definitions["Limits"]["properties"]["memory"]["default"] == "1.5g"
    assert definitions["AuthConfig"]["properties"]["margin"]["default"] == "5m"
    assert definitions["RenovateSettings"]["properties"]["global"]["default"] == {
        "onboarding": False,
        "requireConfig": "optional",
        "repositoryCache": "enabled",
    }
