"""Durations as people write them in YAML (`90s`, `30m`, `1h30m`, or whole seconds) and as a pydantic type.

They are written back (in the JSON Schema's defaults, in `plan`) by `runner.durations.format_duration`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from runner.config.wording import describe
from runner.durations import format_duration

DURATION_PATTERN = r"^(?=\d)(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$"
_DURATION = re.compile(DURATION_PATTERN)
_EXAMPLES = "90s, 30m, 1h, 1h30m, or a whole number of seconds"


def parse_duration(value: object) -> timedelta:
    """Turn `90s`, `30m`, `1h30m`, an int of seconds or a timedelta into a positive timedelta."""
    duration = _to_timedelta(value)
    if duration <= timedelta(0):
        raise ValueError(f"must be longer than zero, e.g. {_EXAMPLES}")
    return duration


def _to_timedelta(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    # bool is an int subclass: `timeout: true` is a mistake, not one second.
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())):
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return timedelta(hours=hours, minutes=minutes, seconds=seconds)
    raise ValueError(f"{describe(value)} is not a duration; write it as {_EXAMPLES}")


def _yaml_spelling(duration: timedelta) -> str:
    return format_duration(duration, "yaml")


_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": DURATION_PATTERN},
        {"type": "integer", "minimum": 1},
    ],
    "description": f"A duration: {_EXAMPLES}.",
}

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_yaml_spelling, return_type=str, when_used="json"),
    WithJsonSchema(_JSON_SCHEMA),
]
"""A positive duration, written in YAML as `90s`, `30m`, `1h`, `1h30m` or an int of seconds."""
