"""`RenovateContainer`: one Renovate container's life, from create to remove, with cleanup on every path; and
`ContainerSpec`, what it is made of (built by `runner.renovate.container_spec`).

The container is created, attached (so no output is missed), started, streamed line by line into a sink, waited for
with a deadline and a cancel flag, stopped then killed when needed, and always removed on exit - on success, on
error, and when the sweep is interrupted.
"""

from __future__ import annotations

import contextvars
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Literal, Protocol

import docker
import docker.errors
import requests.exceptions
import structlog
from docker.models.containers import Container
from docker.types import LogConfig, Mount

from runner.errors import EngineError
from runner.renovate.logs import MAX_LINE_LENGTH

log = structlog.get_logger()

# Every container carries its run's id and lock file, so the next sweep finds the leftovers of a run that died
# (`engine.remove_leftovers`), and its repository, for people looking at `docker ps`.
LABEL_PREFIX = "io.renovate-runner"
LABEL_RUN_ID = f"{LABEL_PREFIX}.run-id"
LABEL_REPOSITORY = f"{LABEL_PREFIX}.repository"
LABEL_RUN_LOCK = f"{LABEL_PREFIX}.run-lock"  # path of the lock file the run holds while it is alive
LABEL_RUN_LOCK_NAMESPACE = f"{LABEL_PREFIX}.run-lock-namespace"  # where that path means that file (locking.py)


@dataclass(frozen=True, kw_only=True)
class BindMount:
    source: str  # host path, or a named volume when `volume` is true
    target: str
    read_only: bool = False
    volume: bool = False


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """What one container is made of: image, command, environment, mounts, limits and labels."""

    image: str
    name: str
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None  # None: the image's own (`renovate`)
    environment: Mapping[str, str] = field(repr=False)  # holds the token: never printed
    mounts: tuple[BindMount, ...] = ()
    working_dir: str | None = None
    network: str = "bridge"
    labels: Mapping[str, str] = field(default_factory=dict)
    memory_bytes: int
    pids_limit: int
    nano_cpus: int | None = None
    log_max_bytes: int = 10 * 1024 * 1024  # bound Docker's own copy of the output; we stream it ourselves


Stream = Literal["stdout", "stderr"]


class OutputSink(Protocol):
    """Where `LineSplitter` hands a container's output: blocks of whole lines, and pieces of over-long lines."""

    def on_lines(self, stream: Stream, block: bytes) -> None:
        """One or more whole lines, each within the length cap, joined by newlines, without a newline at the end
        (and without the carriage returns that ended them)."""

    def on_piece(self, stream: Stream, piece: bytes, ends_line: bool) -> None:
        """A piece of a line over the length cap; `ends_line` marks its last piece."""


# Set to keep finished containers for debugging; the sweep still removes leftovers of dead runs at the next start.
KEEP_CONTAINERS_ENV = "RENOVATE_RUNNER_KEEP_CONTAINERS"

_POLL_SECONDS = 0.5
# The carriage returns that end a line (CRLF output); a line's length is counted without them.
_CARRIAGE_RETURNS = re.compile(rb"\r+$", re.MULTILINE)
_STOP_POLL_SECONDS = 0.2  # how often a stopping container is checked for having ended
# Failures of the engine connection itself (as opposed to an API answer about the container).
ENGINE_CONNECTION_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError)
# Anything the engine can answer or fail with while we manage a container.
ENGINE_FAILURES = (docker.errors.APIError, *ENGINE_CONNECTION_ERRORS)


@dataclass(frozen=True, kw_only=True)
class WaitResult:
    exit_code: int | None
    timed_out: bool = False
    cancelled: bool = False
    oom_killed: bool = False


class LineSplitter:
    """Turns a stream of byte chunks into blocks of whole lines; a line longer than `max_line` is passed on in pieces,
    its tail included, which the sink never parses.

    A chunk holds many lines when output comes faster than it is read, and handing them on as one block lets the
    sink redact, scan and write them at once (bench/log_ingestion.py).
    """

    def __init__(self, stream: Stream, sink: OutputSink, max_line: int) -> None:
        self._stream = stream
        self._sink = sink
        self._max_line = max_line
        self._buffer = bytearray()
        self._in_long_line = False

    def feed(self, chunk: bytes) -> None:
        newline = chunk.rfind(b"\n")
        if newline < 0:
            self._buffer += chunk
        else:
            block = bytes(self._buffer) + chunk[:newline] if self._buffer else chunk[:newline]
            self._buffer = bytearray(chunk[newline + 1 :])
            self._emit_lines(block)
        if len(self._buffer) > self._max_line:
            # Written as it streams, never held whole in memory, and not parsed (see MAX_LINE_LENGTH).
            self._sink.on_piece(self._stream, bytes(self._buffer), False)
            self._buffer.clear()
            self._in_long_line = True

    def close(self) -> None:
        if self._in_long_line:  # an over-long line's last piece marks where it ends
            self._sink.on_piece(self._stream, bytes(self._buffer), True)
            self._in_long_line = False
        elif self._buffer:
            self._emit_lines(bytes(self._buffer))
        self._buffer.clear()

    def _emit_lines(self, block: bytes) -> None:
        """Hands on `block`, whole lines without the last newline, of which the first may end an over-long line."""
        if self._in_long_line:
            end = block.find(b"\n")
            self._sink.on_piece(self._stream, block if end < 0 else block[:end], True)
            self._in_long_line = False
            if end < 0:
                return
            block = block[end + 1 :]
        if b"\r" in block:
            block = _CARRIAGE_RETURNS.sub(b"", block)
        if len(block) <= self._max_line:  # then no line in it is over the cap either
            self._sink.on_lines(self._stream, block)
            return
        short: list[bytes] = []
        for line in block.split(b"\n"):
            if len(line) <= self._max_line:
                short.append(line)
                continue
            if short:
                self._sink.on_lines(self._stream, b"\n".join(short))
                short.clear()
            self._sink.on_piece(self._stream, line, True)
        if short:
            self._sink.on_lines(self._stream, b"\n".join(short))


class RenovateContainer:
    """A context manager over one container; `__exit__` removes it whatever happened inside."""

    def __init__(self, client: docker.DockerClient, spec: ContainerSpec, *, max_line: int = MAX_LINE_LENGTH) -> None:
        self._client = client
        self._spec = spec
        self._max_line = max_line
        self._container: Container | None = None
        self._reader: threading.Thread | None = None
        self._reader_error: BaseException | None = None
        self._stopping = threading.Lock()

    @property
    def id(self) -> str | None:
        return None if self._container is None else self._container.id

    def __enter__(self) -> RenovateContainer:
        spec = self._spec
        try:
            self._container = self._client.containers.create(
                spec.image,
                command=list(spec.command) or None,
                entrypoint=list(spec.entrypoint) if spec.entrypoint is not None else None,
                name=spec.name,
                environment=dict(spec.environment),
                mounts=[_to_mount(m) for m in spec.mounts],
                working_dir=spec.working_dir,
                network_mode=spec.network,
                labels=dict(spec.labels),
                mem_limit=spec.memory_bytes,
                memswap_limit=spec.memory_bytes,  # no swap: a run over its memory limit is an OOM, not a crawl
                pids_limit=spec.pids_limit,
                nano_cpus=spec.nano_cpus,
                security_opt=["no-new-privileges"],
                cap_drop=["ALL"],
                privileged=False,
                init=True,  # a real PID 1 forwards SIGTERM to node, so `stop` ends Renovate cleanly
                tty=False,
                stdin_open=False,
                log_config=LogConfig(
                    type=LogConfig.types.JSON, config={"max-size": str(spec.log_max_bytes), "max-file": "1"}
                ),
            )
        except docker.errors.ImageNotFound as error:
            raise EngineError(
                f"image {spec.image} is not available: {error.explanation}; "
                "pull or build it (scripts/renovate-image.sh) or set renovate.image"
            ) from None
        except ENGINE_FAILURES as error:
            raise EngineError(f"could not create container {spec.name}: {explain(error)}") from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def run_streaming(self, sink: OutputSink) -> None:
        """Attach, start, and stream output to `sink` on a background thread."""
        container = self._require()
        try:
            # Attach before start, replaying earlier output too, so not a single line is lost.
            stream: Iterator[tuple[bytes | None, bytes | None]] = container.attach(
                stdout=True, stderr=True, stream=True, logs=True, demux=True
            )
            container.start()
        except ENGINE_FAILURES as error:
            raise EngineError(f"could not start container {self._spec.name}: {explain(error)}") from None
        # The caller's context (structlog's bound `repo`) goes along, so what the sink logs names the repository.
        context = contextvars.copy_context()
        self._reader = threading.Thread(
            target=context.run, args=(self._read, stream, sink), name=f"logs-{self._spec.name}", daemon=True
        )
        self._reader.start()

    def wait(
        self,
        timeout_s: float,
        cancel: threading.Event,
        *,
        grace_s: float = 10.0,
        hurry: threading.Event | None = None,
    ) -> WaitResult:
        """Wait until the container exits, the deadline passes or `cancel` is set (then stop it, see `stop`)."""
        deadline = time.monotonic() + timeout_s
        reader = self._reader
        if reader is None:
            raise RuntimeError("wait() before run_streaming()")
        timed_out = cancelled = False
        while reader.is_alive():
            if cancel.is_set():
                cancelled = True
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            reader.join(timeout=_POLL_SECONDS)
        if timed_out or cancelled:
            self.stop(grace_s, hurry=hurry)
            reader.join(timeout=grace_s + 5)
        if self._reader_error is not None:
            raise EngineError(f"lost the output of container {self._spec.name}: {explain(self._reader_error)}")
        exit_code, oom_killed = self._final_state()
        return WaitResult(exit_code=exit_code, timed_out=timed_out, cancelled=cancelled, oom_killed=oom_killed)

    def stop(self, grace_s: float = 10.0, *, hurry: threading.Event | None = None) -> None:
        """SIGTERM, then SIGKILL after `grace_s`, or at once when `hurry` is set meanwhile (a second interrupt: the
        Azure Pipelines agent sends SIGKILL 2.5 s after it); safe to call from another thread and more than once."""
        container = self._container
        if container is None:
            return
        with self._stopping:
            try:
                container.kill(signal="SIGTERM")
                if not self._exits_within(container, grace_s, hurry or threading.Event()):
                    container.kill()
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as error:
                if error.status_code != HTTPStatus.CONFLICT:  # 409: it is not running (any more)
                    log.warning("container_stop_failed", container=self._spec.name, error=explain(error))
            except ENGINE_CONNECTION_ERRORS as error:
                log.warning("container_stop_failed", container=self._spec.name, error=explain(error))

    @staticmethod
    def _exits_within(container: Container, grace_s: float, hurry: threading.Event) -> bool:
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and not hurry.is_set():
            container.reload()
            if container.status != "running":
                return True
            hurry.wait(_STOP_POLL_SECONDS)
        container.reload()
        return container.status != "running"

    def copy_in(self, path: str, archive: bytes) -> None:
        """Unpack a tar archive at `path` in the created container, before it starts. Unlike a bind mount, this
        works when the runner itself runs in a container beside the engine, where its files are no host paths."""
        try:
            self._require().put_archive(path, archive)
        except ENGINE_FAILURES as error:
            raise EngineError(f"could not copy files into container {self._spec.name}: {explain(error)}") from None

    def remove(self) -> None:
        container, self._container = self._container, None
        if container is None:
            return
        if os.environ.get(KEEP_CONTAINERS_ENV):
            log.info("container_kept", container=self._spec.name, env=KEEP_CONTAINERS_ENV)
            return
        try:
            container.remove(force=True, v=False)
        except docker.errors.NotFound:
            pass
        except ENGINE_FAILURES as error:
            # The next sweep's start-up cleanup finds it by its run label once this run's lock is released.
            log.warning("container_remove_failed", container=self._spec.name, error=explain(error))

    def _read(self, stream: Iterator[tuple[bytes | None, bytes | None]], sink: OutputSink) -> None:
        stdout = LineSplitter("stdout", sink, self._max_line)
        stderr = LineSplitter("stderr", sink, self._max_line)
        try:
            for out_chunk, err_chunk in stream:
                if out_chunk:
                    stdout.feed(out_chunk)
                if err_chunk:
                    stderr.feed(err_chunk)
        except BaseException as error:  # handed to the waiting thread, which decides what it means
            self._reader_error = error
        finally:
            stdout.close()
            stderr.close()

    def _final_state(self) -> tuple[int | None, bool]:
        container = self._require()
        try:
            result = container.wait(timeout=60)
            container.reload()
        except ENGINE_FAILURES as error:
            raise EngineError(f"could not read the exit status of {self._spec.name}: {explain(error)}") from None
        state = container.attrs.get("State", {})
        exit_code = result.get("StatusCode")
        return (int(exit_code) if exit_code is not None else None), bool(state.get("OOMKilled", False))

    def _require(self) -> Container:
        if self._container is None:
            raise RuntimeError("the container is not created (use RenovateContainer as a context manager)")
        return self._container


def _to_mount(mount: BindMount) -> Mount:
    return Mount(
        target=mount.target,
        source=mount.source,
        type="volume" if mount.volume else "bind",
        read_only=mount.read_only,
    )


def explain(error: BaseException) -> str:
    """An engine failure in a few words: the engine's own explanation, else the error's type and text."""
    if isinstance(error, docker.errors.APIError):
        return str(error.explanation or error)
    return f"{type(error).__name__}: {error}"
