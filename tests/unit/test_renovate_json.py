"""renovate.json's custom regex managers match the files they name, so Renovate really keeps those pins current.

Renovate reads `managerFilePatterns` written `/.../` as regular expressions over the repository's paths, and applies
each of `matchStrings` to a matched file's text; JavaScript's named groups `(?<name>...)` are Python's
`(?P<name>...)`, and for the patterns here the rest of the syntax is the same. (tests/e2e/test_renovate_json.py has
Renovate's own validator check the whole file.)
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from runner.config import DEFAULT_IMAGE

from .pipeline_files import REPO_ROOT

CONFIG = json.loads((REPO_ROOT / "renovate.json").read_text(encoding="utf-8"))
MANAGERS: list[dict[str, Any]] = CONFIG["customManagers"]
# Files a manager is written for that this checkout does not have yet, with the line Renovate would find there.
NOT_HERE_YET = {"scripts/renovate-fast-image.sh": "readonly ESBUILD_VERSION=0.28.2\n"}


def python_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern))


def file_pattern(pattern: str) -> re.Pattern[str]:
    assert pattern.startswith("/"), f"{pattern}: a glob; these managers name their files by regular expression"
    assert pattern.endswith("/"), pattern
    return python_regex(pattern[1:-1])


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return listed.stdout.splitlines()


def named_files(manager: dict[str, Any]) -> dict[str, str]:
    """Path -> text of every file the manager's patterns match, with the ones not here yet."""
    patterns = [file_pattern(pattern) for pattern in manager["managerFilePatterns"]]
    paths = {path for path in (*tracked_files(), *NOT_HERE_YET) if any(p.search(path) for p in patterns)}
    return {
        path: (REPO_ROOT / path).read_text(encoding="utf-8") if (REPO_ROOT / path).exists() else NOT_HERE_YET[path]
        for path in sorted(paths)
    }


def current_values(manager: dict[str, Any], text: str) -> list[str]:
    return [match["currentValue"] for ms in manager["matchStrings"] for match in python_regex(ms).finditer(text)]


@pytest.mark.parametrize("manager", MANAGERS, ids=[manager["depNameTemplate"] for manager in MANAGERS])
def test_each_matchstring_matches_the_files_its_manager_names(manager: dict[str, Any]) -> None:
    files = named_files(manager)
    # Every pattern names a file, so a moved or renamed file fails here instead of going stale in silence.
    for pattern in manager["managerFilePatterns"]:
        assert any(file_pattern(pattern).search(path) for path in files), f"{pattern} names no file"
    for path, text in files.items():
        assert current_values(manager, text), f"{path}: no matchString of the {manager['depNameTemplate']} manager"
    # And every matchString is used somewhere.
    for match_string in manager["matchStrings"]:
        assert any(python_regex(match_string).search(text) for text in files.values()), match_string


@pytest.mark.parametrize("manager", MANAGERS, ids=[manager["depNameTemplate"] for manager in MANAGERS])
def test_all_files_of_one_dependency_agree_on_its_version(manager: dict[str, Any]) -> None:
    values = {value for text in named_files(manager).values() for value in current_values(manager, text)}
    assert len(values) == 1, values


def test_the_default_image_manager_reads_the_default_image() -> None:
    (manager,) = (manager for manager in MANAGERS if manager["depNameTemplate"] == "ghcr.io/renovatebot/renovate")
    values = {value for text in named_files(manager).values() for value in current_values(manager, text)}
    assert {f"{manager['depNameTemplate']}:{value}" for value in values} == {DEFAULT_IMAGE}


def test_the_translation_keeps_lookbehinds() -> None:
    # `(?<=` and `(?<!` are lookbehinds in both languages, not named groups.
    assert python_regex("(?<=a)b(?<!c)(?<name>d)").pattern == "(?<=a)b(?<!c)(?P<name>d)"
