"""How a wrong value is quoted back in a message: short, and in YAML's terms rather than Python's."""

from __future__ import annotations

from collections.abc import Mapping

_SHOWN_TEXT = 60  # characters of a text value quoted back in a message


def describe(value: object) -> str:
    """`'abc'`, `12`, `true`, `empty (null)`, `a list`, `a mapping`."""
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= _SHOWN_TEXT else f"'{value[: _SHOWN_TEXT - 3]}...'"
    if value is None:
        return "empty (null)"
    if isinstance(value, bool | int | float):
        return str(value).lower()
    if isinstance(value, Mapping):
        return "a mapping"
    return "a list" if isinstance(value, list | tuple) else f"a {type(value).__name__}"
