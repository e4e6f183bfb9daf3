"""Renovate's own check of the Renovate options, before any repository runs.

The runner's loader checks its own keys, but `renovate.global` and each repository's `renovate:` are Renovate's,
passed through as they are: a misspelled `packageRule` would run for an hour and do nothing. The pinned image's own
`renovate-config-validator` checks them, in one container for the whole configuration: one file with
`renovate.global`, and one with each repository's options merged over it, all validated as self-hosted (global)
configuration, which is what RENOVATE_CONFIG is. Each problem Renovate names is mapped back to the runner's YAML file,
line and key (`option_paths`); an error stops the run (exit 2), a warning (an option that needs migration) is
printed and listed in the report.

The files hold no secret values: secrets are `{{ secrets.NAME }}` templates in the configuration and stay so.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import secrets
import tarfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import structlog

from runner.config import ConfigInvalid, ConfigProblem, RepoConfig, SweepConfig
from runner.config.loader import RUNNER_FILES
from runner.config.yaml_source import KeyPath, YamlDocument, format_key_path, load_yaml
from runner.errors import EngineError
from runner.renovate.container import ENGINE_FAILURES, LABEL_PREFIX, ContainerSpec, RenovateContainer, Stream
from runner.renovate.option_paths import depth_in, migrations, option_named

log = structlog.get_logger()

VALIDATOR = "renovate-config-validator"
# Copied into the container rather than mounted; /tmp exists in every Renovate image.
VALIDATE_PARENT = "/tmp"  # noqa: S108 - a directory inside the container, not on the host
VALIDATE_DIR_NAME = "renovate-runner-validate"
VALIDATE_DIR_IN_CONTAINER = f"{VALIDATE_PARENT}/{VALIDATE_DIR_NAME}"
LABEL_PURPOSE = f"{LABEL_PREFIX}.purpose"
_TIMEOUT_S = 300.0
_WARN = 40
_GLOBAL_FILE = "global.json"
_RUNNER_PREFIX: KeyPath = ("renovate", "global")
_REPO_PREFIX: KeyPath = ("renovate",)


@dataclass(frozen=True, kw_only=True)
class Target:
    """One file the validator checks: the options Renovate gets, and the repository they are merged for."""

    file_name: str
    options: Mapping[str, Any]
    repo: RepoConfig | None  # None: renovate.global alone


@dataclass(frozen=True, kw_only=True)
class ValidationResult:
    errors: tuple[ConfigProblem, ...]
    warnings: tuple[ConfigProblem, ...]

    def raise_errors(self, config_dir: Path) -> None:
        """ConfigInvalid (exit 2) when Renovate found errors; `config_dir` as the user named it."""
        if self.errors:
            raise ConfigInvalid(self.errors, config_dir)


def targets(config: SweepConfig) -> list[Target]:
    """`renovate.global`, and each repository with options of its own, merged over it."""
    found = [Target(file_name=_GLOBAL_FILE, options=config.runner.renovate.global_options, repo=None)]
    for index, repo in enumerate(config.repos):
        if repo.renovate:
            found.append(
                Target(file_name=f"repo-{index:04d}.json", options=repo.effective_renovate(config.runner), repo=repo)
            )
    return found


def validate_renovate_options(
    config: SweepConfig, client: docker.DockerClient, image: str, *, name: str | None, verdicts: Path | None = None
) -> ValidationResult:
    """Run the validator of `image` over the configuration's Renovate options; raises EngineError when it cannot.

    With `verdicts` (a directory), options that this image has found clean before are not checked again: a
    container of Renovate costs seconds of every sweep, and a nightly sweep's options rarely change. Only clean
    verdicts are kept, so a problem is reported, at its current line, every time until it is fixed.
    """
    checked = targets(config)
    archive = _archive(checked)
    verdict = _verdict_file(verdicts, client, image, archive)
    if verdict is not None and verdict.exists():
        log.info("renovate_options_validated_before", files=len(checked), image=image)
        return ValidationResult(errors=(), warnings=())
    lines, exit_code = _run(client, _spec(config, image, name, checked), archive)
    result = map_records(_json_lines(lines), checked, config)
    if exit_code not in (0, 1) or (exit_code == 1 and not (result.errors or result.warnings)):
        tail = "\n".join(lines[-10:])
        raise EngineError(
            f"{VALIDATOR} in {image} failed (exit code {exit_code}) without naming a problem; its last lines:\n"
            f"{tail}\nCheck the image, or skip this check with --no-renovate-validation (renovate.validate: false)"
        )
    log.info("renovate_options_validated", files=len(checked), errors=len(result.errors), warnings=len(result.warnings))
    if verdict is not None and exit_code == 0 and not (result.errors or result.warnings):
        with contextlib.suppress(OSError):  # a verdict not kept costs the next sweep a check, nothing more
            verdict.parent.mkdir(parents=True, exist_ok=True)
            verdict.touch()
    return result


def _verdict_file(verdicts: Path | None, client: docker.DockerClient, image: str, archive: bytes) -> Path | None:
    """Where a clean verdict on these options by this image (by its id: a re-tagged image is another) is kept."""
    if verdicts is None:
        return None
    try:
        image_id = str(client.images.get(image).id)
    except ENGINE_FAILURES:
        return None
    return verdicts / hashlib.sha256(image_id.encode() + b"\0" + archive).hexdigest()


def _archive(checked: Iterable[Target]) -> bytes:
    """The files to check, as a tar of one directory readable by Renovate's uid 12021."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        folder = tarfile.TarInfo(VALIDATE_DIR_NAME)
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(folder)
        for target in checked:
            content = json.dumps(target.options, sort_keys=True).encode()
            member = tarfile.TarInfo(f"{VALIDATE_DIR_NAME}/{target.file_name}")
            member.size, member.mode = len(content), 0o644
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


def _spec(config: SweepConfig, image: str, name: str | None, checked: Iterable[Target]) -> ContainerSpec:
    limits = config.runner.limits
    return ContainerSpec(
        image=image,
        name=name or f"renovate-validate-{secrets.token_hex(4)}",
        entrypoint=(VALIDATOR,),
        command=tuple(f"{VALIDATE_DIR_IN_CONTAINER}/{target.file_name}" for target in checked),
        environment={"LOG_FORMAT": "json", "LOG_LEVEL": "info"},
        network="none",  # checking options needs no network, and gets none
        labels={LABEL_PURPOSE: "validate"},
        memory_bytes=limits.memory_bytes,
        pids_limit=limits.pids,
    )


class _Lines:
    """The validator's output as text lines (an OutputSink); a line over the length cap is no record, so dropped."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_lines(self, _stream: Stream, block: bytes) -> None:
        self.lines.extend(block.decode("utf-8", errors="replace").split("\n"))

    def on_piece(self, _stream: Stream, _piece: bytes, _ends_line: bool) -> None:
        return


def _run(client: docker.DockerClient, spec: ContainerSpec, archive: bytes) -> tuple[list[str], int | None]:
    output = _Lines()
    with RenovateContainer(client, spec) as container:
        container.copy_in(VALIDATE_PARENT, archive)
        container.run_streaming(output)
        result = container.wait(_TIMEOUT_S, threading.Event())
    if result.timed_out:
        raise EngineError(f"{VALIDATOR} did not finish within {_TIMEOUT_S:.0f}s; check the engine's load")
    return output.lines, result.exit_code


def _json_lines(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def map_records(
    records: Iterable[Mapping[str, Any]], checked: Iterable[Target], config: SweepConfig
) -> ValidationResult:
    """The validator's log records as the runner's problems, each at the file, line and key it comes from."""
    by_file = {target.file_name: target for target in checked}
    locate = _Locator(config)
    errors: list[ConfigProblem] = []
    warnings: list[ConfigProblem] = []
    current: Target | None = None
    for record in records:
        message = str(record.get("msg", ""))
        if message.startswith("Validating "):
            current = by_file.get(message.split()[1].rsplit("/", 1)[-1])
        target = by_file.get(str(record.get("file", "")).rsplit("/", 1)[-1], current)
        if target is None or int(record.get("level", 0)) < _WARN:
            continue
        if message == "Config migration necessary":
            for path, what in migrations(record.get("oldConfig"), record.get("newConfig")):
                warnings.append(locate(target, path, what))
        elif message == "Found errors in configuration":
            errors += [locate(target, *_about(item, target)) for item in record.get("errors", [])]
            warnings += [locate(target, *_about(item, target)) for item in record.get("warnings", [])]
        elif message in ("File is not valid Renovate config", "File could not be parsed"):
            errors.append(locate(target, (), f"Renovate cannot read these options: {_error_text(record)}"))
    return ValidationResult(errors=_unique(errors), warnings=_unique(warnings))


def _about(item: object, target: Target) -> tuple[KeyPath, str]:
    text = str(item.get("message", item)) if isinstance(item, Mapping) else str(item)
    return option_named(text, target.options), text


def _error_text(record: Mapping[str, Any]) -> str:
    error = record.get("err")
    return str(error.get("message", error)) if isinstance(error, Mapping) else str(error)


def _unique(problems: Iterable[ConfigProblem]) -> tuple[ConfigProblem, ...]:
    return tuple(dict.fromkeys(problems))


class _Locator:
    """Places an option of a checked file in runner.yaml or in the repository's own file."""

    def __init__(self, config: SweepConfig) -> None:
        self._config = config
        self._documents: dict[Path, YamlDocument] = {}
        self._runner_file = next(
            (path for name in RUNNER_FILES if (path := config.config_dir / name).exists()),
            config.config_dir / RUNNER_FILES[0],
        )

    def __call__(self, target: Target, path: KeyPath, message: str) -> ConfigProblem:
        repo = target.repo
        global_options = self._config.runner.renovate.global_options
        in_repo = repo is not None and depth_in(repo.renovate, path) >= max(1, depth_in(global_options, path))
        if repo is not None and (in_repo or not path):
            file, full = repo.source, (*_REPO_PREFIX, *path)
        else:
            file, full = self._runner_file, (*_RUNNER_PREFIX, *path)
        document = self._document(file)
        line = document.line_of(full, key=True)  # the key is what is wrong, or holds what is
        return ConfigProblem(_shown(file), line, format_key_path(full, document.data), message)

    def _document(self, path: Path) -> YamlDocument:
        if path not in self._documents:
            self._documents[path] = load_yaml(path)
        return self._documents[path]


def _shown(path: Path) -> Path:
    """A path as people typed it: relative to the working directory when it is below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
