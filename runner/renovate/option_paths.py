"""Where in the runner's YAML a Renovate option comes from, and which option a Renovate message is about.

Renovate's validator names options as `packageRules[0].matchPackageNames`; the runner's files hold them under
`renovate.global` (runner.yaml) or `renovate` (a repository's file), merged as `merge_options` says. These pure
functions turn one into the other, so a problem can be reported at its file, line and key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from runner.config.yaml_source import KeyPath

_PATH_TOKEN = re.compile(r"[A-Za-z_][\w-]*(?:\[\d+\]|\.[A-Za-z_][\w-]*)*")
_PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][\w-]*)")
_QUOTED = re.compile(r"`([^`]+)`|\"([^\"]+)\"")
# Messages that name no option but a kind of thing, and the option that holds such things.
_SUBJECTS = (("Custom Manager", ("customManagers",)), ("Regex Managers", ("customManagers",)))


def parse_path(text: str) -> KeyPath:
    """`packageRules[0].enabled` -> ("packageRules", 0, "enabled")."""
    return tuple(int(index) if index else key for index, key in _PART.findall(text))


def depth_in(options: object, path: KeyPath) -> int:
    """How many parts of `path` lead through `options` (a list counts as holding everything below it)."""
    current = options
    for depth, part in enumerate(path):
        if isinstance(current, list):
            if not isinstance(part, int) or part >= len(current):
                return depth
            current = current[part]
        elif isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return depth
    return len(path)


def option_named(message: str, options: Mapping[str, Any]) -> KeyPath:
    """The option a Renovate message is about: the deepest path written in it that the options hold (the first
    of equal depth), else the option holding the kind of thing it names (custom managers), else the path of a
    quoted value the message repeats, else () for the whole configuration."""
    best: KeyPath = ()
    for match in _PATH_TOKEN.finditer(message):
        path = parse_path(match.group())
        if path and depth_in(options, path) == len(path) and len(path) > len(best):
            best = path
    if best:
        return best
    subject = next((path for clue, path in _SUBJECTS if clue in message and depth_in(options, path) == len(path)), None)
    if subject is not None:
        return subject
    quoted = {a or b for a, b in _QUOTED.findall(message)}
    return next((path for path, value in _leaves(options, ()) if isinstance(value, str) and value in quoted), ())


def _leaves(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, object]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def migrations(old: object, new: object, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """(path, what changes) for each option Renovate's migration rewrites: a key it renames or drops, or a value
    it writes differently."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        added = [key for key in new if key not in old]
        for key, value in old.items():
            if key not in new:
                yield (*path, key), _renamed(added, new)
            else:
                yield from migrations(value, new[key], (*path, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            yield from migrations(before, after, (*path, index))
    elif old != new:
        yield path, f"needs migration: Renovate now reads it as {_json(new)}; write that instead"


def _renamed(added: list[str], new: Mapping[str, Any]) -> str:
    if not added:
        return "needs migration: Renovate no longer reads this option; remove it"
    replacement = ", ".join(f"{key}: {_json(new[key])}" for key in added)
    return f"needs migration: Renovate now reads it as {replacement}; write that instead"


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True)
