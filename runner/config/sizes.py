"""Memory sizes the way Docker spells them (`512m`, `2g`), parsed to bytes."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from runner.config.wording import describe

SIZE_PATTERN = r"^[0-9]+[bBkKmMgG]?$"
_SIZE = re.compile(r"(\d+)([bkmg]?)", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
# Docker refuses a container memory limit below 6 MiB.
MIN_MEMORY_BYTES = 6 * 1024**2


def parse_memory(value: object) -> int:
    """Bytes from `512m`, `2g`, `1024k`, `6291456b` or an int of bytes; at least Docker's 6 MiB minimum."""
    size = _to_bytes(value)
    if size < MIN_MEMORY_BYTES:
        raise ValueError(f"{describe(value)} is below Docker's minimum of 6m; Renovate needs about 1g, so use e.g. 2g")
    return size


def _to_bytes(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and (match := _SIZE.fullmatch(value.strip())):
        return int(match.group(1)) * _UNITS[match.group(2).lower()]
    raise ValueError(f"{describe(value)} is not a memory size; write a number and a unit, e.g. 512m or 2g")


def format_memory(size: int) -> str:
    """The largest exact unit: 2147483648 -> `2g`, 1536 MiB -> `1536m`."""
    for unit in ("g", "m", "k"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": SIZE_PATTERN}, {"type": "integer", "minimum": MIN_MEMORY_BYTES}],
    "description": "Memory limit: a number with a unit b, k, m or g (e.g. 512m, 2g), or bytes.",
}

MemorySize = Annotated[
    int,
    BeforeValidator(parse_memory),
    PlainSerializer(format_memory, return_type=str, when_used="json"),
    WithJsonSchema(_JSON_SCHEMA),
]
"""A memory limit in bytes, written in YAML as Docker does (`512m`, `2g`) or as an int of bytes."""
