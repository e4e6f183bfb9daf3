"""The limits a configuration file must stay within, each checked before the work it protects.

A configuration directory may come from a pull request of anyone who can open one, so reading it must not be a way
to exhaust the runner: the file size is checked before a byte is read, and the alias expansion and the nesting depth
while PyYAML composes the document, before any value is built or walked. The limits are far above what a real
configuration needs (the shipped runner.yaml is under 5 KiB, nested 6 levels, without aliases).
"""

from __future__ import annotations

from typing import Final

# PyYAML (pure Python, as the line positions need) composes about 128 KiB a second on a busy 2-core machine, so a
# file at this limit loads well within a second.
MAX_FILE_BYTES: Final = 64 * 1024
# Values reached through aliases (`*name`), counted as if each alias were written out. Counting aliases alone would
# not stop a "billion laughs" file: nine aliases each repeating the one before expand to 9**9 values.
MAX_ALIASED_VALUES: Final = 10_000
# Mappings and lists inside each other, aliases expanded. PyYAML composes recursively, and Python's recursion limit
# (1000 frames) would otherwise turn a deeply nested file into a crash instead of a message.
MAX_NESTING_DEPTH: Final = 64


def format_bytes(size: int) -> str:
    """`65536` -> `64 KiB`, `1536` -> `1.5 KiB`: a file size as people read it."""
    for unit, scale in (("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
