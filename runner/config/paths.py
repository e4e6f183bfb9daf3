"""Paths written in config files: relative ones resolve against the directory of the file that holds them.

The loader passes that directory as pydantic validation context (`{"base_dir": Path}`); objects built
directly in Python, without context, resolve against the working directory.

A directory the runner mounts into Renovate's containers or writes into (`local`, `report_dir`, `cache.directory`)
may lie outside the configuration directory (a checkout beside it), but it must not be one whose exposure or change
of owner would reach the host: the file system's root, a system directory, or one holding the configuration
directory, the runner's home or the Docker socket (`../../../..` climbs there quickly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, WithJsonSchema

BASE_DIR = "base_dir"
CONFIG_DIR = "config_dir"  # context: the configuration directory, which such a directory must not hold

# Never mounted or written, nor anything inside them: the kernel's, the devices', the system's configuration.
_SYSTEM_TREES = tuple(Path(name) for name in ("/boot", "/dev", "/etc", "/proc", "/run", "/sys", "/var/run"))
# Never mounted or written themselves (a directory inside them may be a checkout or a cache).
_SYSTEM_DIRECTORIES = frozenset(
    Path(name)
    for name in (
        *("/bin", "/home", "/lib", "/lib64", "/opt", "/root", "/sbin", "/srv", "/usr", "/var"),
        "/tmp",  # noqa: S108 - named to be refused, not used
    )
)
_DOCKER_SOCKET = Path("/var/run/docker.sock")


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
    _refuse_host_directory(path, resolved, info, "mounts it into Renovate's containers")
    return resolved


def _output_directory(path: Path, info: ValidationInfo) -> Path:
    resolved = _resolve(path, info)
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(f"'{path}' is a file; choose a directory (it is created when missing)")
    _refuse_host_directory(path, resolved, info, "writes into it and mounts it into Renovate's containers")
    return resolved


def _output_file(path: Path, info: ValidationInfo) -> Path:
    resolved = _resolve(path, info)
    if resolved.is_dir():
        raise ValueError(f"'{path}' is a directory; name a file (it is created when missing)")
    return resolved


def _refuse_host_directory(path: Path, resolved: Path, info: ValidationInfo, use: str) -> None:
    if (why := host_directory(resolved, info)) is not None:
        raise ValueError(
            f"'{path}' {why}; the runner {use}, so choose a directory of its own, e.g. one beside the "
            "configuration directory"
        )


def host_directory(resolved: Path, info: ValidationInfo | None = None) -> str | None:
    """Why the runner must not mount or write `resolved` (`leads to /, ...`), or None when it may."""
    if resolved == Path(resolved.anchor):
        return f"leads to {resolved}, the file system's root"
    if resolved in _SYSTEM_DIRECTORIES:
        return f"leads to {resolved}, a system directory"
    tree = next((tree for tree in _SYSTEM_TREES if resolved.is_relative_to(tree)), None)
    if tree is not None:
        return f"leads into the system directory {tree}"
    context = info.context if info is not None and isinstance(info.context, dict) else {}
    config_dir = context.get(CONFIG_DIR)
    held = (
        (Path(config_dir).resolve() if config_dir is not None else None, "the configuration directory"),
        (Path.home().resolve(), "the runner's home directory"),
        (_DOCKER_SOCKET.resolve(), "the Docker socket"),
    )
    return next((f"holds {what}" for inner, what in held if inner is not None and inner.is_relative_to(resolved)), None)


_PATH_SCHEMA = WithJsonSchema({"type": "string", "minLength": 1})

ExistingFile = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_existing_file), _PATH_SCHEMA]
ExistingDirectory = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_existing_directory), _PATH_SCHEMA]
OutputDirectory = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_output_directory), _PATH_SCHEMA]
OutputFile = Annotated[Path, BeforeValidator(_non_empty), AfterValidator(_output_file), _PATH_SCHEMA]
