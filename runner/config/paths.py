"""Paths written in config files: relative ones resolve against the directory of the file that holds them.

The loader passes that directory as pydantic validation context (`{"base_dir": Path}`); objects built
directly in Python, without context, resolve against the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, WithJsonSchema

BASE_DIR = "base_dir"


def _hint(path: Path) -> str:
    return "" if path.is_absolute() else "; relative paths start from the directory of this file"


def _non_empty(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise ValueError("is empty; write a path, or remove the key")
    return value


def _resolve(path: Path, info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    base = context.get(BASE_DIR)
    base_dir = Path(base) if base is not None else Path.cwd()
    return (base_dir / path.expanduser()).resolve()


def _existing_file(path: Path, info: ValidationInfo) -> Path:
    resolved = _resolve(path, info)
    if not resolved.is_file():
        state = "is a directory, not a file" if resolved.is_dir() else "does not exist"
        raise ValueError(f"'{path}' {state}{_hint(path)}")
    return resolved


def _existing_directory(path: Path, info: ValidationInfo) -> Path:
    resolved = _resolve(path, info)
    if not resolved.is_dir():
        state = "is a file, not a directory" if resolved.exists() else "does not exist"
        raise ValueError(f"'{path}' {state}{_hint(path)}")
    return resolved


def _output_directory(path: Path, info: ValidationInfo) -> Path:
    resolved = _resolve(path, info)
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(f"'{path}' is a file; choose a directory (it is created when missing)")
    return resolved


def _output_file(path: Path, info: ValidationInfo) -> Path:
    resolved = _resolve(path, info)
    if resolved.is_dir():
        raise ValueError(f"'{path}' is a directory; name a file (it is created when missing)")
    return resolved


_PATH_SCHEMA = WithJsonSchema({"type": "string", "minLength": 1})

ExistingFile = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_existing_file), _PATH_SCHEMA]
ExistingDirectory = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_existing_directory), _PATH_SCHEMA]
OutputDirectory = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_output_directory), _PATH_SCHEMA]
OutputFile = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_output_file), _PATH_SCHEMA]
