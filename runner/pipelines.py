"""Azure Pipelines logging commands, as the lines to print, and whether we run inside a pipeline.

The agent reads `##vso[area.action key=value;...]message` and `##[group]` lines from a step's output. Values
are escaped the way azure-pipelines-task-lib's node/taskcommand.ts escapes them and the agent's
CommandStringConvertor decodes them: `%` -> `%AZP25` first, then CR -> `%0D` and LF -> `%0A`; property values
also `;` -> `%3B` and `]` -> `%5D`, which would otherwise end the value or the property list.

See https://learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

IssueType = Literal["warning", "error"]
TaskResult = Literal["Succeeded", "SucceededWithIssues", "Failed"]

_DATA_ESCAPES: Final = (("%", "%AZP25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY_ESCAPES: Final = (*_DATA_ESCAPES, (";", "%3B"), ("]", "%5D"))


def in_pipeline(environ: Mapping[str, str]) -> bool:
    """Azure Pipelines sets TF_BUILD=True in every step's environment."""
    return environ.get("TF_BUILD", "").lower() == "true"


def escape_data(value: str) -> str:
    """Escaping for a command's message (the part after `]`)."""
    return _escape(value, _DATA_ESCAPES)


def escape_property(value: str) -> str:
    """Escaping for a `key=value` property of a command."""
    return _escape(value, _PROPERTY_ESCAPES)


def _escape(value: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for token, replacement in escapes:  # `%` comes first, so the escapes added later stay as they are
        value = value.replace(token, replacement)
    return value


def command(name: str, message: str = "", **properties: str | None) -> str:
    """`##vso[name key=value;...]message`; properties that are None are left out."""
    pairs = "".join(f"{key}={escape_property(value)};" for key, value in properties.items() if value is not None)
    return f"##vso[{name}{' ' + pairs if pairs else ''}]{escape_data(message)}"


def group(name: str) -> str:
    # Formatting commands are not decoded by the agent, so a line break is flattened instead of escaped.
    return f"##[group]{_one_line(name)}"


def endgroup() -> str:
    return "##[endgroup]"


def logissue(type: IssueType, message: str, *, source_path: str | None = None, line: int | None = None) -> str:
    return command(
        "task.logissue",
        message,
        type=type,
        sourcepath=source_path,
        linenumber=str(line) if line is not None else None,
    )


def setsecret(value: str) -> str:
    """Masks `value` in every later line of the job's log; the only line where a secret itself may appear."""
    return command("task.setsecret", value)


def setvariable(name: str, value: str, *, secret: bool) -> str:
    return command("task.setvariable", value, variable=name, issecret="true" if secret else None)


def uploadsummary(path: str) -> str:
    """Attaches a Markdown file to the run's summary page."""
    return command("task.uploadsummary", path)


def complete(result: TaskResult, message: str) -> str:
    return command("task.complete", message, result=result)


def _one_line(value: str) -> str:
    return " ".join(value.splitlines())
