"""JSON Schema (draft 2020-12) of the config files, for editors, generated from the pydantic models."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

from runner.config.models import RepoSettings, RunnerConfig

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
RENOVATE_DEF = "RenovateOptions"  # where Renovate's own schema sits in ours
SCHEMA_KINDS: tuple[Literal["runner", "repo"], ...] = ("runner", "repo")

_MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "runner": (RunnerConfig, "renovate-runner: runner.yaml"),
    "repo": (RepoSettings, "renovate-runner: repos/*.yaml"),
}


def config_json_schema(kind: Literal["runner", "repo"], renovate: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The schema of `runner.yaml` (`kind="runner"`) or of one `repos/*.yaml` file (`kind="repo"`).

    It checks shape, types, names and patterns; what depends on other files or on the disk (paths exist,
    duplicate repositories, secrets mapped in runner.yaml) only `load_config` checks. With `renovate`, Renovate's
    own schema (an embeddable resource with its `$id`), the Renovate options are described by it too.
    """
    model, title = _MODELS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    if renovate is not None:
        _describe_renovate_options(schema, kind, renovate)
    return {"$schema": DRAFT_2020_12, **schema, "title": title}


def _describe_renovate_options(schema: dict[str, Any], kind: str, renovate: Mapping[str, Any]) -> None:
    schema.setdefault("$defs", {})[RENOVATE_DEF] = dict(renovate)
    options = schema["$defs"]["RenovateSettings"]["properties"]["global"] if kind == "runner" else None
    options = options if options is not None else schema["properties"]["renovate"]
    description = options.get("description")
    options.clear()
    options.update({"$ref": f"#/$defs/{RENOVATE_DEF}", "description": description})


def schema_text(kind: Literal["runner", "repo"], renovate: Mapping[str, Any] | None = None) -> str:
    """What `renovate-runner schema --kind KIND` prints, and (without `renovate`) what docs/schemas/KIND.schema.json
    holds."""
    return json.dumps(config_json_schema(kind, renovate), indent=2, sort_keys=True) + "\n"
