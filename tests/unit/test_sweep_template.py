"""templates/sweep.yml as a team consumes it: every parameter used, documented (in the template's own comments and
in docs/azure-pipelines.md) with the default it really has, and sensible; the pipelines that use it pass only what
it declares; the consumer example pins the runner by tag; the install step is the one CI checks."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from runner import __version__
from runner.report.markdown import ARTIFACT_ENV

from .pipeline_files import (
    CONSUMER_PIPELINE_FILE,
    INSTALL_TEMPLATE_FILE,
    PIPELINE_FILE,
    REPO_ROOT,
    TEMPLATE_FILE,
    _items,
    job,
    load_file,
    parameters,
    steps,
    task,
)

DOCS_FILE = REPO_ROOT / "docs" / "azure-pipelines.md"
TEMPLATE = load_file(TEMPLATE_FILE)
TEMPLATE_PARAMETERS = parameters(TEMPLATE)
NAMES = sorted(TEMPLATE_PARAMETERS)


def _header() -> str:
    lines = TEMPLATE_FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines[: lines.index("parameters:")] if line.startswith("#"))


def _header_entry(name: str) -> str:
    """The template's comment on one parameter: its line `#   name  ...` and the indented lines after it."""
    match = re.search(rf"^#   {name} +(?P<text>.*(?:\n#  {{4,}}.*)*)", _header(), re.MULTILINE)
    assert match, f"the template's comments do not describe the parameter {name}"
    return " ".join(part.strip("# ").strip() for part in match["text"].splitlines())


def _docs_row(name: str) -> list[str]:
    for line in DOCS_FILE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == f"`{name}`":
            return cells
    raise AssertionError(f"docs/azure-pipelines.md has no table row for the template parameter {name}")


def _written_default(text: str) -> Any:
    """A default as the docs write it (`false`, `[]`, `{vmImage: ubuntu-24.04}`, `empty`), as BaseLoader reads it."""
    text = text.strip().strip("`")
    return "" if text == "empty" else yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506


def _body() -> str:
    """The template without its parameter declarations: where a parameter is used."""
    text = TEMPLATE_FILE.read_text(encoding="utf-8")
    return text[text.index("\njobs:") :]


@pytest.mark.parametrize("name", NAMES)
def test_every_template_parameter_is_used(name: str) -> None:
    assert re.search(rf"\bparameters\.{name}\b", _body()), f"{name} is declared but never used"


@pytest.mark.parametrize("name", NAMES)
def test_every_template_parameter_is_documented_with_its_default(name: str) -> None:
    default = TEMPLATE_PARAMETERS[name]["default"]
    header_default = re.search(r"Default: (?P<value>\{[^}]*\}|\S+?)(?:,|\.| \(|$)", _header_entry(name))
    assert header_default, f"the template's comment on {name} gives no default"
    assert _written_default(header_default["value"]) == default, name

    cells = _docs_row(name)
    assert _written_default(cells[1]) == default, cells
    assert cells[2], f"docs/azure-pipelines.md does not say what {name} does"


@pytest.mark.parametrize("name", NAMES)
def test_every_template_parameter_has_a_sensible_default(name: str) -> None:
    parameter = TEMPLATE_PARAMETERS[name]
    assert "default" in parameter, f"{name} has no default: every user would have to set it"
    default, kind = parameter["default"], parameter["type"]
    if kind == "boolean":
        assert default in {"true", "false"}
    elif kind == "number":
        assert default.isdigit()
        assert int(default) >= 1
    elif kind == "object":
        assert isinstance(default, list | dict)
    else:
        assert kind == "string", kind
        # An empty default must mean something, and the comment must say what.
        assert default or "empty" in _header_entry(name).lower(), f"{name} defaults to nothing, unexplained"
    if "values" in parameter:
        assert default in parameter["values"]


def test_the_docs_list_no_parameter_the_template_lacks() -> None:
    section = DOCS_FILE.read_text(encoding="utf-8").split("### The template's parameters", 1)[1].split("\n#", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    assert documented == set(NAMES)


def test_the_steps_template_takes_the_sweep_parameters_it_needs_with_the_same_defaults() -> None:
    install = parameters(load_file(INSTALL_TEMPLATE_FILE))
    for name, parameter in install.items():
        assert parameter == TEMPLATE_PARAMETERS[name]
    uses = [step for step in steps(TEMPLATE) if step.get("template") == "steps/install-runner.yml"]
    assert len(uses) == 2  # the sweep and the report job
    for use in uses:
        assert use["parameters"] == {name: f"${{{{ parameters.{name} }}}}" for name in install}


@pytest.mark.parametrize("path", [PIPELINE_FILE, CONSUMER_PIPELINE_FILE], ids=["project", "consumer"])
def test_a_pipeline_passes_only_template_parameters_with_the_templates_defaults(path: Any) -> None:
    pipeline = load_file(path)
    (use,) = pipeline["jobs"]
    assert set(use["parameters"]) <= set(NAMES)
    # A manual run's defaults are the template's, so the nightly run and the template's documentation agree.
    for name, parameter in parameters(pipeline).items():
        assert parameter["default"] == TEMPLATE_PARAMETERS[name]["default"], name
        assert parameter["type"] == TEMPLATE_PARAMETERS[name]["type"], name
        assert parameter.get("values") == TEMPLATE_PARAMETERS[name].get("values"), name


def test_the_consumer_pins_renovate_runner_by_tag() -> None:
    pipeline = load_file(CONSUMER_PIPELINE_FILE)
    (resource,) = pipeline["resources"]["repositories"]
    # The tag of this version, which a release creates (CHANGELOG.md): the example a team copies pins a tag that
    # exists, and the release that changes the version changes the example with it.
    assert resource["ref"] == f"refs/tags/v{__version__}", resource["ref"]
    (use,) = pipeline["jobs"]
    assert use["template"] == f"templates/sweep.yml@{resource['repository']}"
    # The template's default alias is the example's, so a consumer need not pass runnerRepository.
    assert resource["repository"] == TEMPLATE_PARAMETERS["runnerRepository"]["default"]
    assert "runnerRepository" not in use["parameters"]


def test_the_project_pipeline_uses_the_template_and_the_runner_of_its_own_checkout() -> None:
    (use,) = load_file(PIPELINE_FILE)["jobs"]
    assert use["template"] == "templates/sweep.yml"
    assert use["parameters"]["runnerRepository"] == "self"


def test_the_install_step_runs_the_script_ci_checks() -> None:
    (install,) = (step for step in steps(load_file(INSTALL_TEMPLATE_FILE)) if "script" in step)
    assert "/renovate-runner/scripts/install-runner.sh" in install["script"]
    assert "scripts/install-runner.sh" in (REPO_ROOT / "scripts" / "check-wheel.sh").read_text(encoding="utf-8")
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    (setup_uv,) = re.findall(r"^readonly UV_VERSION=(\S+)$", setup, re.MULTILINE)
    assert install["env"]["UV_VERSION"] == setup_uv, "the pipeline and the machines set up here use one uv"


@pytest.mark.parametrize("name", ["sweep", "report"])
def test_the_runner_is_told_the_artifact_its_report_directory_is_published_as(name: str) -> None:
    # summary.md names each log by its path in that artifact: on the summary page a relative link is dead.
    one_job = job(TEMPLATE, name)
    runner_steps = [step for step in _items(one_job["steps"]) if WRITES_A_REPORT.search(_script(step))]
    [publish] = [step for step in _items(one_job["steps"]) if step.get("task") == "PublishPipelineArtifact@1"]
    artifact = publish["inputs"]["artifact"]

    assert re.fullmatch(r"\$\((?P<variable>\w+)\)", artifact), artifact
    assert one_job["variables"][artifact[2:-1]].endswith("attempt-$(System.JobAttempt)")
    assert runner_steps
    assert [step["env"][ARTIFACT_ENV] for step in runner_steps] == [artifact] * len(runner_steps)


WRITES_A_REPORT = re.compile(r"renovate-runner .*\b(run|report merge)\b")


def _script(step: dict[str, Any]) -> str:
    return str(step.get("script", "")) + str(step.get("inputs", {}).get("inlineScript", ""))


# A stand-in for the runner: exits as told, and writes a report as the runner does for those exit codes (the sweep
# ran, or ran until it was interrupted or lost the engine).
FAKE_RUNNER = """#!/bin/sh
while [ "$#" -gt 0 ]; do
  if [ "$1" = --report-dir ] && [ "$FAKE_REPORT" = yes ]; then mkdir -p "$2" && echo '{}' >"$2/report.json"; fi
  shift
done
exit "$FAKE_EXIT"
"""
WRITES_A_REPORT_WHEN_IT_EXITS = {0, 1, 4, 130, 143}


@pytest.mark.parametrize("runner_exit", [0, 1, 2, 3, 4, 5, 6, 7, 8, 70, 130, 143])
def test_the_sweep_step_fails_unless_the_sweep_finished_and_says_when_there_is_a_report(
    tmp_path: Path, runner_exit: int
) -> None:
    """docs/azure-pipelines.md: a run is succeeded with issues when some repositories failed (exit 1: the runner
    marks the step SucceededWithIssues, the script exits 0 so the report is published and the cache saved), and
    failed when a sweep job could not do its work (every other non-zero exit)."""
    step = task(TEMPLATE, "AzureCLI@2")
    report_dir = tmp_path / "report"
    script = str(step["inputs"]["inlineScript"])
    # What the agent does before the script runs: it expands the macros, and maps `env` with the parameters' values.
    macros = {
        "configRoot": tmp_path,
        "reportDir": report_dir,
        "cacheDir": tmp_path / "cache",
        "historyDir": tmp_path / "history",
    }
    for macro, value in macros.items():
        script = script.replace(f"$({macro})", str(value))
    defaults = {name: str(parameter.get("default", "")) for name, parameter in TEMPLATE_PARAMETERS.items()}
    environ = {
        name: re.sub(r"\$\{\{ parameters\.(\w+) \}\}", lambda m: defaults[m[1]].lower(), str(value))
        for name, value in step["env"].items()
    }
    environ["SWEEP_REPOSITORIES"] = ""  # join(';', []) of the default empty list
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "renovate-runner").write_text(FAKE_RUNNER)
    (bin_dir / "renovate-runner").chmod(0o755)
    path = f"{bin_dir}:{os.environ['PATH']}"

    done = subprocess.run(
        ["bash", "-c", script],
        env={
            **environ,
            "PATH": path,
            "FAKE_EXIT": str(runner_exit),
            "FAKE_REPORT": "yes" if runner_exit in WRITES_A_REPORT_WHEN_IT_EXITS else "no",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )

    assert done.returncode == (0 if runner_exit == 1 else runner_exit), done.stderr
    marked = "##vso[task.setvariable variable=shardReportWritten]true" in done.stdout.splitlines()
    assert marked == (runner_exit in WRITES_A_REPORT_WHEN_IT_EXITS)
