"""Memory sizes the way Docker spells them (`512m`, `1.5g`, `2GB`), parsed to bytes.

The grammar is that of `docker run --memory` (go-units' `RAMInBytes`): a decimal number, optionally one space, then
optionally a unit `b`, `k`, `m`, `g`, `t` or `p` in either case, which may end in `b` or `ib` (`2g`, `2gb`, `2GiB`);
units are powers of 1024 and a fraction of a byte is dropped. What Docker refuses is refused here too: a unit it does
not know (`2gi`, `2 gigs`), a second space, white space around the size, a negative size. Docker's number parser also
takes hexadecimal (`0x1p31`), `inf` and `nan`; they are refused here, being no size anyone means.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from runner.config.wording import describe

_NUMBER = r"\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_UNIT = r"[bB]|[kKmMgGtTpP](?:[bB]|[iI][bB])?"
# The same in ECMA-262 (the JSON Schema) and Python: group 1 is the number, group 2 the unit.
SIZE_PATTERN = rf"^({_NUMBER}) ?({_UNIT})?$"
_SIZE = re.compile(SIZE_PATTERN)
_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
# Docker refuses a container memory limit below 6 MiB, and the Engine API holds it in a signed 64-bit integer.
MIN_MEMORY_BYTES = 6 * 1024**2
MAX_MEMORY_BYTES = 2**63 - 1


def parse_memory(value: object) -> int:
    """Bytes from `512m`, `1.5g`, `2gb`, `2GiB`, `6291456b` or an int of bytes; from 6m, Docker's minimum."""
    size = _to_bytes(value)
    if size < MIN_MEMORY_BYTES:
        raise ValueError(f"{describe(value)} is below Docker's minimum of 6m; Renovate needs about 1g, so use e.g. 2g")
    if size > MAX_MEMORY_BYTES:
        raise ValueError(f"{describe(value)} is more than Docker can set; a memory limit is less than 8192p")
    return size


def _to_bytes(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and (match := _SIZE.fullmatch(value)):
        number, unit = match.groups()
        scaled = float(number) * _UNITS[(unit or "b")[0].lower()]
        # float("1e400") is infinite; Docker refuses it as out of range.
        return int(scaled) if scaled != float("inf") else MAX_MEMORY_BYTES + 1
    raise ValueError(
        f"{describe(value)} is not a memory size; write a number and a unit as docker run --memory takes them, "
        "e.g. 512m, 1.5g or 2gb"
    )


def format_memory(size: int) -> str:
    """The largest exact unit: 2147483648 -> `2g`, 1536 MiB -> `1536m`."""
    for unit in ("g", "m", "k"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return str(size)


_JSON_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": SIZE_PATTERN},
        {"type": "integer", "minimum": MIN_MEMORY_BYTES, "maximum": MAX_MEMORY_BYTES},
    ],
    "description": (
        "Memory limit as docker run --memory takes it: a number with a unit b, k, m, g, t or p, optionally ending in "
        "b or ib (e.g. 512m, 1.5g, 2gb), or bytes."
    ),
}

MemorySize = Annotated[
    int,
    BeforeValidator(parse_memory),
    PlainSerializer(format_memory, return_type=str, when_used="json"),
    WithJsonSchema(_JSON_SCHEMA),
]
"""A memory limit in bytes, written in YAML as Docker does (`512m`, `1.5g`, `2gb`) or as an int of bytes."""
