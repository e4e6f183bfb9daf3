"""The schema files the project ships for editors: current with the models, and named by every shipped config file.

Each shipped config file starts with a `# yaml-language-server: $schema=<relative path>` line, so an editor with the
YAML language server checks it as it is typed, without settings of its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
import yaml

from runner.config import config_json_schema
from runner.config.schema import SCHEMA_KINDS, schema_text

PROJECT_ROOT = Path(__file__).parents[3]
# examples/consumer/ is copied into a team's own repository, so it carries its own copy of the schemas.
SCHEMA_DIRS = (PROJECT_ROOT / "docs" / "schemas", PROJECT_ROOT / "examples" / "consumer" / "schemas")
SHIPPED_CONFIG_DIRS = tuple(PROJECT_ROOT / path for path in ("config", "examples/config", "examples/consumer/config"))
MODELINE = re.compile(r"# yaml-language-server: \$schema=(?P<path>\S+)")


def kind_of(path: Path) -> Literal["runner", "repo"]:
    return "repo" if path.parent.name == "repos" else "runner"


def shipped_config_files() -> list[Path]:
    return [
        path
        for config_dir in SHIPPED_CONFIG_DIRS
        for path in [config_dir / "runner.yaml", *sorted((config_dir / "repos").glob("*.yaml"))]
    ]


def schema_path(config_file: Path) -> Path:
    first_line = config_file.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.fullmatch(first_line)
    assert match, f"{config_file}: the first line is {first_line!r}, not `# yaml-language-server: $schema=...`"
    return (config_file.parent / match["path"]).resolve()


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("schema_dir", SCHEMA_DIRS, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_the_shipped_schema_file_is_current(schema_dir: Path, kind: Literal["runner", "repo"]) -> None:
    path = schema_dir / f"{kind}.schema.json"
    assert path.read_text(encoding="utf-8") == schema_text(kind), (
        f"{path.relative_to(PROJECT_ROOT)} is stale: regenerate it with "
        f"`uv run renovate-runner schema --kind {kind} > {path.relative_to(PROJECT_ROOT)}`"
    )


def test_every_shipped_config_directory_is_checked() -> None:
    found = {
        path.parent
        for path in PROJECT_ROOT.rglob("runner.yaml")
        if not {".venv", "tests", "report", "build", "dist"} & set(path.relative_to(PROJECT_ROOT).parts)
    }
    assert found == set(SHIPPED_CONFIG_DIRS)
    assert len(shipped_config_files()) == 10


@pytest.mark.parametrize("config_file", shipped_config_files(), ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_a_shipped_config_file_names_the_schema_of_its_kind_and_passes_it(config_file: Path) -> None:
    schema_file = schema_path(config_file)
    kind = kind_of(config_file)

    assert schema_file.is_file(), f"{config_file}: {schema_file} does not exist"
    assert schema_file.name == f"{kind}.schema.json"
    assert load_json(schema_file) == config_json_schema(kind)
    document = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    jsonschema.validate(document, load_json(schema_file), cls=jsonschema.Draft202012Validator)


def test_the_consumer_example_names_schemas_inside_itself() -> None:
    # A team copies examples/consumer/ into its own repository; a path out of it would be dead there.
    consumer = (PROJECT_ROOT / "examples" / "consumer").resolve()
    for config_file in shipped_config_files():
        if consumer in config_file.resolve().parents:
            assert consumer in schema_path(config_file).parents, config_file
