"""JSON Schema (draft 2020-12) of the config files, for editors, generated from the pydantic models."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from runner.config.models import RepoSettings, RunnerConfig

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_KINDS: tuple[Literal["runner", "repo"], ...] = ("runner", "repo")

_MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "runner": (RunnerConfig, "renovate-runner: runner.yaml"),
    "repo": (RepoSettings, "renovate-runner: repos/*.yaml"),
}


def config_json_schema(kind: Literal["runner", "repo"]) -> dict[str, Any]:
    """The schema of `runner.yaml` (`kind="runner"`) or of one `repos/*.yaml` file (`kind="repo"`).

    It checks shape, types, names and patterns; what depends on other files or on the disk (paths exist,
    duplicate repositories, secrets mapped in runner.yaml) only `load_config` checks.
    """
    model, title = _MODELS[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DRAFT_2020_12, **schema, "title": title}


def schema_text(kind: Literal["runner", "repo"]) -> str:
    """What `renovate-runner schema --kind KIND` prints, and what docs/schemas/KIND.schema.json holds."""
    return json.dumps(config_json_schema(kind), indent=2, sort_keys=True) + "\n"
