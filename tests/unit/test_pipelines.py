"""Azure Pipelines logging commands: exact lines, and escaping that the agent decodes back to the input."""

from __future__ import annotations

import pytest

from runner import pipelines

TRICKY = [
    "plain",
    "",
    "100% done",
    "literal %0A and %3B and %5D and %AZP25",
    "a;b]c",
    "line one\nline two\r\nline three\r",
    "]]];;;%%%",
    "##vso[task.complete result=Failed;]injected",
    "Проект ✓",
]


def agent_unescape(value: str) -> str:
    """The agent's CommandStringConvertor.Unescape (azure-pipelines-agent, Agent.Sdk), with % decoding on."""
    for token, replacement in ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D")):
        value = value.replace(replacement, token)
    return value.replace("%AZP25", "%")


def agent_parse(line: str) -> tuple[str, dict[str, str], str]:
    """How the agent splits `##vso[command key=value;...]message` (task-lib's commandFromString)."""
    assert line.startswith("##vso[")
    opening, closing = line.index("["), line.index("]")
    name, _, property_text = line[opening + 1 : closing].partition(" ")
    properties = {}
    for pair in filter(None, (part.strip() for part in property_text.split(";"))):
        key, _, value = pair.partition("=")
        properties[key] = agent_unescape(value)
    return name, properties, agent_unescape(line[closing + 1 :])


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({"TF_BUILD": "True"}, True), ({"TF_BUILD": "true"}, True), ({"TF_BUILD": "False"}, False), ({}, False)],
)
def test_in_pipeline(environ: dict[str, str], expected: bool) -> None:
    assert pipelines.in_pipeline(environ) is expected


def test_exact_lines() -> None:
    assert pipelines.group("Platform/web-app") == "##[group]Platform/web-app"
    assert pipelines.endgroup() == "##[endgroup]"
    assert pipelines.logissue("warning", "lookup failed") == "##vso[task.logissue type=warning;]lookup failed"
    assert (
        pipelines.logissue("error", "bad key", source_path="config/repos/web.yaml", line=7)
        == "##vso[task.logissue type=error;sourcepath=config/repos/web.yaml;linenumber=7;]bad key"
    )
    assert pipelines.setsecret("eyJ0eXAi.abc") == "##vso[task.setsecret]eyJ0eXAi.abc"
    assert (
        pipelines.setvariable("RENOVATE_TOKEN", "eyJ0eXAi.abc", secret=True)
        == "##vso[task.setvariable variable=RENOVATE_TOKEN;issecret=true;]eyJ0eXAi.abc"
    )
    assert pipelines.setvariable("SWEEP", "done", secret=False) == "##vso[task.setvariable variable=SWEEP;]done"
    assert pipelines.uploadsummary("/r/summary.md") == "##vso[task.uploadsummary]/r/summary.md"
    assert (
        pipelines.complete("SucceededWithIssues", "2 of 9 repositories failed")
        == "##vso[task.complete result=SucceededWithIssues;]2 of 9 repositories failed"
    )


def test_escaping_matches_the_task_library() -> None:
    assert pipelines.escape_data("100%\r\n;]") == "100%AZP25%0D%0A;]"
    assert pipelines.escape_property("100%\r\n;]") == "100%AZP25%0D%0A%3B%5D"


@pytest.mark.parametrize("value", TRICKY)
def test_messages_round_trip_through_the_agent(value: str) -> None:
    line = pipelines.logissue("error", value, source_path=value or None)

    assert "\n" not in line
    assert "\r" not in line
    name, properties, message = agent_parse(line)
    assert name == "task.logissue"
    assert message == value
    assert properties.get("sourcepath", "") == value
    assert properties["type"] == "error"


@pytest.mark.parametrize("value", TRICKY)
def test_variables_round_trip_through_the_agent(value: str) -> None:
    name = f"VAR_{value}" if value else "VAR"

    _, properties, message = agent_parse(pipelines.setvariable(name, value, secret=False))

    assert properties == {"variable": name}
    assert message == value


def test_a_group_name_cannot_start_a_new_command() -> None:
    line = pipelines.group("repo\n##vso[task.complete result=Failed;]")

    assert line.splitlines() == [line]
    assert line.startswith("##[group]repo ")
