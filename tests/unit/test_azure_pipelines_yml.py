"""The Azure Pipelines files (the project's pipeline, the consumer example's, the sweep template and its steps
template): valid by the official Azure Pipelines schema, and in step with the runner's CLI and config.

How they are read and validated, and how command lines are checked, is in tests/unit/pipeline_files.py.
"""

from __future__ import annotations

import argparse
import copy
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator, ValidationError

from runner.cli import build_parser
from runner.commands.run import RunArguments
from runner.config import load_config
from runner.console import print_summary
from runner.report.model import RunReport
from runner.sharding import POSITION_VARIABLE, TOTAL_VARIABLE, choose_shard

from .pipeline_files import (
    ALL_FILES,
    CONSUMER_DIR,
    CONSUMER_PIPELINE_FILE,
    INSTALL_TEMPLATE_FILE,
    PIPELINE_FILE,
    REPO_ROOT,
    TEMPLATE_FILE,
    Pipeline,
    cli_problems,
    descendants,
    job,
    load_file,
    load_pipeline,
    official_validator,
    parameters,
    pipeline_invocations,
    schema_errors,
    steps,
    task,
)


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    return official_validator()


@pytest.fixture
def template() -> Pipeline:
    return load_file(TEMPLATE_FILE)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_the_file_validates_against_the_official_schema(validator: Draft7Validator, path: Path) -> None:
    errors = schema_errors(validator, load_file(path))
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message[:300]}" for error in errors)


def test_native_yaml_types_do_not_validate(validator: Draft7Validator) -> None:
    # What a loader with native types makes of the file: `fetchDepth: 1` becomes an int, which the schema refuses.
    native = yaml.safe_load(INSTALL_TEMPLATE_FILE.read_text(encoding="utf-8"))

    errors = schema_errors(validator, native)

    refused = [
        (list(error.absolute_path), error.instance) for error in descendants(errors) if error.validator == "type"
    ]
    assert (["steps", 0, "fetchDepth"], 1) in refused, refused


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
    template: Pipeline,
    breakage: Callable[[Pipeline], None],
    explained_by: Callable[[ValidationError], bool],
) -> None:
    broken = copy.deepcopy(template)
    breakage(broken)

    errors = schema_errors(validator, broken)

    assert errors
    assert any(explained_by(error) for error in descendants(errors)), [error.message[:200] for error in errors]


@pytest.mark.parametrize("path", [PIPELINE_FILE, CONSUMER_PIPELINE_FILE], ids=["project", "consumer"])
def test_the_pipelines_run_nightly_and_by_hand_through_the_template(path: Path) -> None:
    pipeline = load_file(path)
    (schedule,) = pipeline["schedules"]
    assert schedule["always"] == "true"
    assert schedule["branches"]["include"] == ["main"]
    assert pipeline["trigger"] == "none"
    assert pipeline["pr"] == "none"
    # A manual run asks for these, and hands each to the template's parameter of the same name.
    runtime = {name: parameter["type"] for name, parameter in parameters(pipeline).items()}
    assert runtime == {"repositories": "object", "dryRun": "boolean", "logLevel": "string", "shards": "number"}
    (use,) = pipeline["jobs"]
    assert use["template"].partition("@")[0] == "templates/sweep.yml"
    for name in runtime:
        assert use["parameters"][name] == f"${{{{ parameters.{name} }}}}"


def test_the_template_does_what_the_runner_needs(template: Pipeline) -> None:
    sweep, report = job(template, "sweep"), job(template, "report")
    assert sweep["strategy"] == {"parallel": "${{ parameters.shards }}"}
    assert report["dependsOn"] == "sweep"
    assert report["condition"] == "not(canceled())"

    azure_cli = task(template, "AzureCLI@2")
    assert azure_cli["inputs"]["azureSubscription"] == "${{ parameters.serviceConnection }}"
    assert azure_cli["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
    assert task(template, "Cache@2")["inputs"]["path"] == "$(cacheDir)"
    test_results = task(template, "PublishTestResults@2")["inputs"]
    assert test_results["testResultsFormat"] == "JUnit"
    assert test_results["testResultsFiles"] == "$(mergedReportDir)/junit.xml"


def test_the_system_access_token_reaches_only_the_sweep_step() -> None:
    for path in ALL_FILES:
        text = path.read_text(encoding="utf-8")
        assert text.count("$(System.AccessToken)") == (path == TEMPLATE_FILE), path
    assert "SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in TEMPLATE_FILE.read_text(encoding="utf-8")


def _summary_of(namespace: argparse.Namespace, environ: dict[str, str], report_dir: Path) -> str:
    """What the end of a `run` or `report merge` with these flags prints in a job with `environ`."""
    shard = choose_shard(None, environ)
    report = RunReport(
        shard=shard.label if shard is not None else None,
        run_id="build-7",
        runner_version="0.1.0",
        started_at="2025-03-01T12:00:00+00:00",
        finished_at="2025-03-01T12:05:00+00:00",
        dry_run=False,
        repositories=(),
    )
    upload = RunArguments.from_namespace(namespace).upload_summary if namespace.command == "run" else True
    out = io.StringIO()
    print_summary(report, report_dir, out, environ, upload=upload)
    return out.getvalue()


@pytest.mark.parametrize("shards", [1, 2, 5])
def test_a_pipeline_run_of_the_template_uploads_the_summary_once(
    template: Pipeline, shards: int, tmp_path: Path
) -> None:
    # Azure Pipelines sets the System.*InPhase variables in every job with `strategy: parallel`, 1 of 1 included;
    # the sweep job runs once per shard, the report job once.
    sweep_jobs = [
        {"TF_BUILD": "True", POSITION_VARIABLE: str(position), TOTAL_VARIABLE: str(shards)}
        for position in range(1, shards + 1)
    ]
    printed = ""
    for invocation in pipeline_invocations(template):
        argv = ["info" if token == "$SWEEP_LOG_LEVEL" else token for token in invocation.argv]  # the default
        namespace = build_parser().parse_args(argv)
        jobs = sweep_jobs if namespace.command == "run" else [{"TF_BUILD": "True"}]
        printed += "".join(_summary_of(namespace, environ, tmp_path) for environ in jobs)

    assert printed.count("##vso[task.uploadsummary]") == 1


@pytest.mark.parametrize(
    ("path", "root"), [(PIPELINE_FILE, REPO_ROOT), (CONSUMER_PIPELINE_FILE, CONSUMER_DIR)], ids=["project", "consumer"]
)
def test_the_pipeline_names_its_configuration_and_hands_the_cache_directory_to_the_runner(
    path: Path, root: Path
) -> None:
    given = load_file(path)["jobs"][0]["parameters"]
    defaults = {name: parameter.get("default") for name, parameter in parameters(load_file(TEMPLATE_FILE)).items()}
    load_config(root / given.get("configDirectory", defaults["configDirectory"]))
    # No parameter that must match the configuration's cache: the runner gets Cache@2's directory itself.
    assert "cacheVolume" not in defaults
    template_text = TEMPLATE_FILE.read_text(encoding="utf-8")
    assert 'args+=(--cache-dir "$(cacheDir)")' in template_text
    assert "docker volume" not in template_text
    assert "chown" not in template_text


def test_the_history_travels_between_runs_and_the_report_job_records_it() -> None:
    """Fresh agents: the report job restores the newest recorded history and saves a new entry under the run; the
    sweep jobs restore it for scheduling but save under keys of their own, never the recorded history's."""
    template = load_file(TEMPLATE_FILE)
    sweep_cache, report_cache = (
        next(
            step for step in steps(job(template, name)) if step.get("displayName", "").startswith("Restore the history")
        )
        for name in ("sweep", "report")
    )
    assert report_cache["inputs"]["key"] == '"renovate-history" | "fleet" | "$(Build.BuildId)"'
    assert report_cache["inputs"]["restoreKeys"].strip() == '"renovate-history" | "fleet"'
    assert sweep_cache["inputs"]["restoreKeys"].strip() == '"renovate-history" | "fleet"'
    assert not sweep_cache["inputs"]["key"].startswith('"renovate-history" | "fleet"')
    assert sweep_cache["inputs"]["path"] == report_cache["inputs"]["path"] == "$(historyDir)"
    template_text = TEMPLATE_FILE.read_text(encoding="utf-8")
    assert template_text.count('args+=(--history "$(historyDir)/history.sqlite")') == 2


@pytest.mark.parametrize("path", [PIPELINE_FILE, CONSUMER_PIPELINE_FILE, TEMPLATE_FILE])
def test_the_log_level_parameter_offers_the_cli_choices(path: Path) -> None:
    log_level = parameters(load_file(path))["logLevel"]
    (option,) = (action for action in build_parser()._actions if "--log-level" in action.option_strings)
    assert option.choices is not None
    assert log_level["values"] == list(option.choices)


def test_every_runner_command_and_flag_in_the_template_exists(template: Pipeline) -> None:
    parser = build_parser()
    used: dict[tuple[str, ...], set[str]] = {}
    for invocation in pipeline_invocations(template):
        path, problems = cli_problems(invocation.argv, parser)
        assert not problems, f"step {invocation.step!r}: {problems}"
        used.setdefault(path, set()).update(token for token in invocation.argv if token.startswith("--"))

    # The reading found what the template does, so an empty result cannot pass for a clean one.
    assert used == {
        ("run",): {
            "--log-level",
            "--config",
            "--report-dir",
            "--no-upload-summary",
            "--cache-dir",
            "--dry-run",
            "--image",
            "--repo",
            "--history",
        },
        ("report", "merge"): {"--log-level", "--out", "--config", "--history"},
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


def test_a_flag_renamed_in_the_template_fails_the_check() -> None:
    text = TEMPLATE_FILE.read_text(encoding="utf-8").replace("--report-dir", "--report-directory")
    renamed = load_pipeline(text)
    problems = [
        problem
        for invocation in pipeline_invocations(renamed)
        for problem in cli_problems(invocation.argv, build_parser())[1]
    ]
    assert "renovate-runner run: no option --report-directory" in problems
