"""How the runner prints a duration, in messages, in the report and in YAML: one rule for all three.

Whole seconds, largest unit first. Reading a duration from YAML is `runner.config.durations.parse_duration`; it reads
back what the `yaml` spelling prints.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

Spelling = Literal["prose", "yaml", "column"]

_UNITS = ((3600, "h"), (60, "m"), (1, "s"))


def format_duration(duration: timedelta, spelling: Spelling = "prose") -> str:
    """`1h 5m 3s`, `30m`, `0s` in prose; `1h5m3s` in YAML; `1h 05m`, `4m 03s`, `27s` in a column.

    Rounded down to whole seconds: a token said to be valid for 59s more must not be promised a 60th. Prose and
    YAML leave out the units that are zero. A column shows the two largest units from the first that is not
    zero, the second zero-padded, so that durations in a table compare at a glance.
    """
    rest = int(duration.total_seconds())
    amounts = []
    for size, unit in _UNITS:
        amount, rest = divmod(rest, size)
        amounts.append((amount, unit))
    if spelling == "column":
        first = next((index for index, (amount, _unit) in enumerate(amounts) if amount), len(amounts) - 1)
        shown = amounts[first : first + 2]
        return " ".join(
            f"{amount:02d}{unit}" if index else f"{amount}{unit}" for index, (amount, unit) in enumerate(shown)
        )
    parts = [f"{amount}{unit}" for amount, unit in amounts if amount]
    return ("" if spelling == "yaml" else " ").join(parts) or "0s"


def format_seconds(seconds: float) -> str:
    """Elapsed seconds as a column shows them, rounded to the nearest second: `27.66` -> `28s`, `754.4` -> `12m 34s`."""
    return format_duration(timedelta(seconds=round(seconds)), "column")
