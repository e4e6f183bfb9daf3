"""How a repository's Renovate options combine with the global ones."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merge_options(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`overrides` over `base`: mappings merge key by key, recursively; lists and scalars replace.

    Lists replace rather than concatenate so a repository can drop a global `packageRules` entry; to add to a
    list, a repository repeats the global entries it keeps. The result is a fresh copy: changing it changes
    neither input.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_options(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
