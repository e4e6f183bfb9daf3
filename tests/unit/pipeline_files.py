"""Reading the project's Azure Pipelines files: the pipelines, the sweep template and its steps template.

Files are validated the way check-jsonschema's pre-commit hook validates pipelines, with the schema it vendors
(`vendor.azure-pipelines`, Microsoft's own, MIT) after its `azure-pipelines` transform has unnested template
expressions (`${{ if ... }}:`), but loaded with `yaml.BaseLoader`: pipeline scalars are strings to Azure Pipelines,
and the schema types every scalar as a string, so `fetchDepth: 1` read as an int would not validate. The schema
gives each task its own `anyOf` branch, matched by a `^Name@N$` pattern on `task`, whose `inputs` allow no other
keys; inputs it types as boolean or integer cannot validate as strings, so the files leave those at their defaults.

The `renovate-runner` command lines in the files' scripts are read back (bash arrays included) and walked through
`runner.cli.build_parser()`, so renaming a command or flag in the CLI fails a unit test, not a nightly run.
"""

from __future__ import annotations

import argparse
import copy
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from check_jsonschema.transforms import TRANSFORM_LIBRARY
from jsonschema import Draft7Validator, ValidationError

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINE_FILE = REPO_ROOT / "azure-pipelines.yml"
CONSUMER_DIR = REPO_ROOT / "examples" / "consumer"
CONSUMER_PIPELINE_FILE = CONSUMER_DIR / "azure-pipelines.yml"
TEMPLATE_FILE = REPO_ROOT / "templates" / "sweep.yml"
INSTALL_TEMPLATE_FILE = REPO_ROOT / "templates" / "steps" / "install-runner.yml"
ALL_FILES = (PIPELINE_FILE, CONSUMER_PIPELINE_FILE, TEMPLATE_FILE, INSTALL_TEMPLATE_FILE)
COMMAND = "renovate-runner"

Pipeline = dict[str, Any]


def official_validator() -> Draft7Validator:
    schema = get_builtin_schema("vendor.azure-pipelines")
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def unnest(pipeline: Pipeline) -> Pipeline:
    """The file with its template expressions unnested (both branches of an if/else kept), as the schema sees it."""
    unnested = TRANSFORM_LIBRARY["azure-pipelines"](copy.deepcopy(pipeline))
    assert isinstance(unnested, dict)
    return unnested


def schema_errors(validator: Draft7Validator, pipeline: Pipeline) -> list[ValidationError]:
    """What the schema finds in the pipeline once its template expressions are unnested, in document order."""
    errors = validator.iter_errors(unnest(pipeline))
    return sorted(errors, key=lambda error: list(map(str, error.absolute_path)))


def load_pipeline(text: str) -> Pipeline:
    # BaseLoader builds only strings, lists and mappings: it runs nothing, and keeps `true` and `1` as Azure reads them.
    loaded = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506
    assert isinstance(loaded, dict)
    return loaded


def load_file(path: Path) -> Pipeline:
    return load_pipeline(path.read_text(encoding="utf-8"))


def _items(items: list[Any]) -> Iterator[Any]:
    """The items of a list with conditional insertions (`- ${{ if ... }}:`) unnested, the items themselves (not
    copies), so a test can change one in place."""
    for item in items:
        if isinstance(item, dict) and len(item) == 1 and str(next(iter(item))).startswith("${{"):
            yield from _items(next(iter(item.values())))
        else:
            yield item


def steps(pipeline: Pipeline) -> Iterator[dict[str, Any]]:
    """Every step of every job (or of a steps template), both branches of each condition."""
    jobs = list(_items(pipeline["jobs"])) if "jobs" in pipeline else [pipeline]
    for one_job in jobs:
        yield from _items(one_job.get("steps", []))


def job(pipeline: Pipeline, name: str) -> dict[str, Any]:
    return next(candidate for candidate in _items(pipeline["jobs"]) if candidate.get("job") == name)


def task(pipeline: Pipeline, name: str) -> dict[str, Any]:
    return next(step for step in steps(pipeline) if step.get("task") == name)


def parameters(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    return {parameter["name"]: parameter for parameter in pipeline.get("parameters", [])}


def descendants(errors: list[ValidationError]) -> Iterator[ValidationError]:
    """Every error with the errors of the `anyOf` branches below it, where the real reason usually sits."""
    for error in errors:
        yield error
        yield from descendants(list(error.context or []))


# --- the runner's command lines in the pipelines' scripts --------------------------------------------------------

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
