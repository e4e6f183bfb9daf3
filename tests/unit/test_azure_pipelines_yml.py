"""azure-pipelines.yml: valid by the official Azure Pipelines schema, and in step with the runner's CLI and config.

The schema (MIT, Microsoft) is the one `check-jsonschema` vendors (`vendor.azure-pipelines`), checked the way its
pre-commit hook checks pipelines: its `azure-pipelines` transform unnests template expressions (`${{ if ... }}:`)
first. Unlike that hook, the file is loaded with `yaml.BaseLoader`: pipeline scalars are strings to Azure Pipelines,
and the schema types every scalar as a string, so `fetchDepth: 1` read as an int would not validate. The schema gives
each task its own `anyOf` branch, matched by a `^Name@N$` pattern on `task`, whose `inputs` allow no other keys;
inputs it types as boolean or integer cannot validate as strings, so the pipeline leaves those at their defaults.

The `renovate-runner` command lines in the pipeline's scripts are read back (bash arrays included) and walked
through `runner.cli.build_parser()`, so renaming a command or flag in the CLI fails here, not in a nightly run.
"""

from __future__ import annotations

import argparse
import copy
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from check_jsonschema.transforms import TRANSFORM_LIBRARY
from jsonschema import Draft7Validator, ValidationError

from runner.cli import build_parser
from runner.config import load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINE_FILE = REPO_ROOT / "azure-pipelines.yml"
COMMAND = "renovate-runner"

Pipeline = dict[str, Any]


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = get_builtin_schema("vendor.azure-pipelines")
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def schema_errors(validator: Draft7Validator, pipeline: Pipeline) -> list[ValidationError]:
    """What the schema finds in the pipeline once its template expressions are unnested, in document order."""
    unnested = TRANSFORM_LIBRARY["azure-pipelines"](copy.deepcopy(pipeline))
    return sorted(validator.iter_errors(unnested), key=lambda error: list(map(str, error.absolute_path)))


def load_pipeline(text: str) -> Pipeline:
    # BaseLoader builds only strings, lists and mappings: it runs nothing, and keeps `true` and `1` as Azure reads them.
    loaded = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture
def pipeline() -> Pipeline:
    return load_pipeline(PIPELINE_FILE.read_text(encoding="utf-8"))


def steps(pipeline: Pipeline) -> Iterator[dict[str, Any]]:
    for job in pipeline["jobs"]:
        yield from job["steps"]


def job(pipeline: Pipeline, name: str) -> dict[str, Any]:
    return next(candidate for candidate in pipeline["jobs"] if candidate.get("job") == name)


def task(pipeline: Pipeline, name: str) -> dict[str, Any]:
    return next(step for step in steps(pipeline) if step.get("task") == name)


def variables(pipeline: Pipeline) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in pipeline["variables"]}


def descendants(errors: list[ValidationError]) -> Iterator[ValidationError]:
    """Every error with the errors of the `anyOf` branches below it, where the real reason usually sits."""
    for error in errors:
        yield error
        yield from descendants(list(error.context or []))


def test_the_pipeline_validates_against_the_official_schema(validator: Draft7Validator, pipeline: Pipeline) -> None:
    errors = schema_errors(validator, pipeline)
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message[:300]}" for error in errors)


def test_native_yaml_types_do_not_validate(validator: Draft7Validator) -> None:
    # What a loader with native types makes of the file: `fetchDepth: 1` becomes an int, which the schema refuses.
    native = yaml.safe_load(PIPELINE_FILE.read_text(encoding="utf-8"))

    errors = schema_errors(validator, native)

    refused = [
        (list(error.absolute_path), error.instance) for error in descendants(errors) if error.validator == "type"
    ]
    assert (["jobs", 0, "steps", 0, "fetchDepth"], 1) in refused, refused


TEMPLATE_EXPRESSION_STEPS = """
steps:
  - ${{ if parameters.dryRun }}:
      - script: echo dry run
  - ${{ each repository in parameters.repositories }}:
      - script: echo ${{ repository }}
"""


def test_template_expressions_are_unnested_before_validation(validator: Draft7Validator) -> None:
    pipeline = load_pipeline(TEMPLATE_EXPRESSION_STEPS)

    assert not schema_errors(validator, pipeline)
    # Without the transform the schema sees a step named by an expression, and no step type matches it.
    assert list(validator.iter_errors(pipeline))


def _mistype_task_name(pipeline: Pipeline) -> None:
    task(pipeline, "AzureCLI@2")["task"] = "AzureCLl@2"


def _add_unknown_task_input(pipeline: Pipeline) -> None:
    task(pipeline, "AzureCLI@2")["inputs"]["scriptArgs"] = "--verbose"


def _add_unknown_top_level_key(pipeline: Pipeline) -> None:
    pipeline["triggers"] = "none"


@pytest.mark.parametrize(
    ("breakage", "explained_by"),
    [
        pytest.param(
            _mistype_task_name,
            lambda error: error.instance == "AzureCLl@2" and error.validator in {"anyOf", "pattern", "enum"},
            id="mistyped-task-name",
        ),
        pytest.param(
            _add_unknown_task_input,
            lambda error: error.validator == "additionalProperties" and "'scriptArgs'" in error.message,
            id="unknown-task-input",
        ),
        pytest.param(
            _add_unknown_top_level_key,
            lambda error: error.validator == "additionalProperties" and "'triggers'" in error.message,
            id="unknown-top-level-key",
        ),
    ],
)
def test_broken_copies_do_not_validate(
    validator: Draft7Validator,
    pipeline: Pipeline,
    breakage: Callable[[Pipeline], None],
    explained_by: Callable[[ValidationError], bool],
) -> None:
    broken = copy.deepcopy(pipeline)
    breakage(broken)

    errors = schema_errors(validator, broken)

    assert errors
    assert any(explained_by(error) for error in descendants(errors)), [error.message[:200] for error in errors]


def test_the_pipeline_does_what_the_runner_needs(pipeline: Pipeline) -> None:
    (schedule,) = pipeline["schedules"]
    assert schedule["always"] == "true"
    assert schedule["branches"]["include"] == ["main"]
    assert pipeline["trigger"] == "none"
    assert {parameter["name"]: parameter["type"] for parameter in pipeline["parameters"]} == {
        "repositories": "object",
        "dryRun": "boolean",
        "logLevel": "string",
        "shards": "number",
    }

    sweep, report = job(pipeline, "sweep"), job(pipeline, "report")
    assert sweep["strategy"] == {"parallel": "${{ parameters.shards }}"}
    assert report["dependsOn"] == "sweep"
    assert report["condition"] == "not(canceled())"

    azure_cli = task(pipeline, "AzureCLI@2")
    assert azure_cli["inputs"]["azureSubscription"] == "${{ variables.serviceConnection }}"
    assert azure_cli["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    assert task(pipeline, "Cache@2")["inputs"]["path"] == "$(cacheDir)"
    test_results = task(pipeline, "PublishTestResults@2")["inputs"]
    assert test_results["testResultsFormat"] == "JUnit"
    assert test_results["testResultsFiles"] == "$(mergedReportDir)/junit.xml"


def test_the_system_access_token_reaches_only_the_sweep_step() -> None:
    text = PIPELINE_FILE.read_text(encoding="utf-8")
    assert text.count("$(System.AccessToken)") == 1
    assert "SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in text


def test_the_pipeline_cache_volume_is_the_configured_one(pipeline: Pipeline) -> None:
    values = variables(pipeline)
    config = load_config(REPO_ROOT / values["configDir"])
    assert values["cacheVolume"] == config.runner.cache.volume


def test_the_log_level_parameter_offers_the_cli_choices(pipeline: Pipeline) -> None:
    (log_level,) = (parameter for parameter in pipeline["parameters"] if parameter["name"] == "logLevel")
    (option,) = (action for action in build_parser()._actions if "--log-level" in action.option_strings)
    assert option.choices is not None
    assert log_level["values"] == list(option.choices)


# --- the runner's command lines in the pipeline's scripts ---------------------------------------------------------

_ARRAY_ASSIGNMENT = re.compile(r"^\s*(?P<name>\w+)\+?=\((?P<items>.*)\)\s*$")
_ARRAY_EXPANSION = re.compile(r"^\$\{(?P<name>\w+)\[@\]\}$")
_COMMAND_END = {"||", "&&", "|", ";"}


@dataclass(frozen=True)
class Invocation:
    step: str
    argv: tuple[str, ...]  # what follows `renovate-runner`, with bash arrays expanded to their possible items


def scripts(pipeline: Pipeline) -> Iterator[tuple[str, str]]:
    """(step name, script text) of every script step and every inline script of a task."""
    for step in steps(pipeline):
        name = step.get("displayName", step.get("task", "?"))
        for key in ("script", "bash"):
            if isinstance(step.get(key), str):
                yield name, step[key]
        inline = step.get("inputs", {}).get("inlineScript")
        if isinstance(inline, str):
            yield name, inline


def invocations_in(step: str, script: str) -> list[Invocation]:
    lines = script.replace("\\\n", " ").splitlines()
    arrays: dict[str, list[str]] = {}
    for line in lines:
        if match := _ARRAY_ASSIGNMENT.match(line):
            arrays.setdefault(match["name"], []).extend(shlex.split(match["items"]))
    found = []
    for line in lines:
        tokens = shlex.split(line, comments=True)
        if COMMAND not in tokens:
            continue
        argv: list[str] = []
        for token in tokens[tokens.index(COMMAND) + 1 :]:
            if token in _COMMAND_END:
                break
            expansion = _ARRAY_EXPANSION.match(token)
            argv.extend(arrays[expansion["name"]] if expansion else [token])
        found.append(Invocation(step, tuple(argv)))
    return found


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser] | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return None


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {option: action for action in parser._actions for option in action.option_strings}


def _is_literal(value: str) -> bool:
    return "$" not in value  # a value holding `$` is filled in at run time


@dataclass
class _CommandLineWalk:
    """Walks one command line through the parser the way argparse would, collecting what it would refuse."""

    parser: argparse.ArgumentParser
    path: list[str] = field(default_factory=list)
    given: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return " ".join([COMMAND, *self.path])

    def option(self, argv: tuple[str, ...], index: int) -> int:
        """Checks the option at `index` and its value; returns the index after them."""
        option, _, inline_value = argv[index].partition("=")
        action = _options(self.parser).get(option)
        if action is None:
            self.problems.append(f"{self.where}: no option {option}")
            return index + 1
        self.given.add(action.dest)
        if action.nargs == 0:
            return index + 1
        value = inline_value or (argv[index + 1] if index + 1 < len(argv) else "")
        if action.choices and _is_literal(value) and value not in action.choices:
            self.problems.append(f"{self.where}: {option} {value!r} is not one of {list(action.choices)}")
        return index + 1 if inline_value else index + 2

    def word(self, token: str) -> bool:
        """A command name or a positional argument; False when the rest cannot be checked."""
        subcommands = _subcommands(self.parser)
        if subcommands is None:
            if all(action.option_strings for action in self.parser._actions):
                self.problems.append(f"{self.where}: takes no positional arguments, got {token!r}")
            return True
        if token not in subcommands:
            self.problems.append(f"{self.where}: no command {token!r}; there are {sorted(subcommands)}")
            return False
        self.parser = subcommands[token]
        self.path.append(token)
        return True

    def finish(self) -> None:
        if _subcommands(self.parser) is not None:
            self.problems.append(f"{self.where}: a command is missing")
        self.problems += [
            f"{self.where}: the required {action.option_strings[0]} is missing"
            for action in self.parser._actions
            if action.required and action.option_strings and action.dest not in self.given
        ]


def cli_problems(argv: tuple[str, ...], parser: argparse.ArgumentParser) -> tuple[tuple[str, ...], list[str]]:
    """The command path of `argv`, and what argparse would refuse: unknown commands or options, bad choices."""
    walk = _CommandLineWalk(parser)
    index = 0
    while index < len(argv):
        if argv[index].startswith("-"):
            index = walk.option(argv, index)
            continue
        if not walk.word(argv[index]):
            return tuple(walk.path), walk.problems
        index += 1
    walk.finish()
    return tuple(walk.path), walk.problems


def pipeline_invocations(pipeline: Pipeline) -> list[Invocation]:
    return [found for step, script in scripts(pipeline) for found in invocations_in(step, script)]


def test_every_runner_command_and_flag_in_the_pipeline_exists(pipeline: Pipeline) -> None:
    parser = build_parser()
    used: dict[tuple[str, ...], set[str]] = {}
    for invocation in pipeline_invocations(pipeline):
        path, problems = cli_problems(invocation.argv, parser)
        assert not problems, f"step {invocation.step!r}: {problems}"
        used.setdefault(path, set()).update(token for token in invocation.argv if token.startswith("--"))

    # The reading found what the pipeline does, so an empty result cannot pass for a clean one.
    assert used == {
        ("run",): {"--log-level", "--config", "--report-dir", "--dry-run", "--repo"},
        ("report", "merge"): {"--log-level", "--out"},
    }


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (("run", "--report-directory", "x"), "renovate-runner run: no option --report-directory"),
        (("sweep", "--config", "c"), "renovate-runner: no command 'sweep'"),
        (("--log-level", "verbose", "run"), "renovate-runner: --log-level 'verbose' is not one of"),
        (("report", "merge", "a", "b"), "renovate-runner report merge: the required --out is missing"),
        (("report",), "renovate-runner report: a command is missing"),
        (("run", "--out", "x"), "renovate-runner run: no option --out"),
    ],
)
def test_the_cli_check_catches_what_argparse_would_refuse(argv: tuple[str, ...], problem: str) -> None:
    _, problems = cli_problems(argv, build_parser())
    assert any(found.startswith(problem) for found in problems), problems


def test_a_flag_renamed_in_the_pipeline_fails_the_check() -> None:
    text = PIPELINE_FILE.read_text(encoding="utf-8").replace("--report-dir", "--report-directory")
    renamed = load_pipeline(text)
    problems = [
        problem
        for invocation in pipeline_invocations(renamed)
        for problem in cli_problems(invocation.argv, build_parser())[1]
    ]
    assert "renovate-runner run: no option --report-directory" in problems
