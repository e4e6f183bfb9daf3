"""`concurrency`: a whole number of repositories at once, or `auto` to fit the machine (runner/capacity.py)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from runner.config.wording import describe

AUTO: Final = "auto"
MAX_CONCURRENCY: Final = 64


def parse_concurrency(value: object) -> int | Literal["auto"]:
    """`auto`, or a whole number from 1 to 64 (an int, or its digits as text from the command line)."""
    if value == AUTO:
        return AUTO
    number = int(value) if isinstance(value, str) and value.strip().isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(f"must be a whole number or auto, not {describe(value)}")  # noqa: TRY004 - pydantic turns only ValueError into a problem
    if number < 1:
        raise ValueError(f"must be at least 1, not {number}")
    if number > MAX_CONCURRENCY:
        raise ValueError(f"must be at most {MAX_CONCURRENCY}, not {number}")
    return number


Concurrency = Annotated[
    int | Literal["auto"],
    PlainValidator(parse_concurrency),
    PlainSerializer(lambda value: value),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY}, {"const": AUTO}],
            "description": "Repositories processed at once: a number, or auto to fit the CPUs and memory.",
        }
    ),
]
