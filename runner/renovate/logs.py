"""Renovate's JSON log lines (`LOG_FORMAT=json`) as events, and a running summary of one repository's run.

Pure and streaming: the caller reads lines from the container and hands them over one at a time; nothing here
does I/O, and the summary keeps a bounded amount of state however long the log is.

Renovate 44 writes one bunyan record per line: `{name, hostname, pid, level, logContext, repository, msg,
time, v, ...}`, with the call's own fields and the logger's meta (`repository`, `branch`) at the top level.
The messages read here, and where Renovate writes them:

- info `Repository started` {renovateVersion}: lib/workers/repository/index.ts
- info `Repository finished` {cloned, durationMs, result, status, enabled, onboarded}: same file; `result`
  and `status` are absent in `dryRun=lookup|extract` runs
- info `Branch created` / `Branch updated` {commitSha}, the branch name in the meta field `branch`:
  lib/workers/repository/update/branch/index.ts (meta set in lib/workers/repository/process/write.ts)
- info `PR created` {pr, prTitle, labels} / `PR updated` {pr, prTitle}:
  lib/workers/repository/update/pr/index.ts
- every record at warn (40) or above is a problem, as in Renovate's own problem stream.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgspec

from runner.report.model import Problem, PullRequest

TRACE: Final = 10
DEBUG: Final = 20
INFO: Final = 30
WARN: Final = 40
ERROR: Final = 50
FATAL: Final = 60

LEVEL_NAMES: Final = {
    TRACE: "trace",
    DEBUG: "debug",
    INFO: "info",
    WARN: "warn",
    ERROR: "error",
    FATAL: "fatal",
}

# 1 MiB. A longer line of container output is never parsed: it reaches the log file in pieces as it streams, so
# memory stays bounded however long it is (`LineSplitter`, `LogSink`), and the outcome notes how many there were.
# Nothing this module looks for is that long; the big ones are debug dumps of config or HTTP bodies. The container
# side counts bytes, this module characters: a line within the cap in bytes is within it in characters too.
MAX_LINE_LENGTH: Final = 1024 * 1024
# Distinct problems kept per level, so that a flood of warnings cannot push out the errors; the rest are
# counted, and stay in the log.
MAX_PROBLEMS: Final = 50
MAX_PROBLEM_CHARS: Final = 500
_MAX_FIELD_CHARS: Final = 120

# Fields every record carries: bunyan's own and Renovate's context. They say nothing about a problem.
_ENVELOPE_FIELDS: Final = frozenset(
    {
        "name",
        "hostname",
        "pid",
        "level",
        "logContext",
        "repository",
        "msg",
        "time",
        "v",
        "branch",
        "baseBranch",
    }
)
_WHITESPACE: Final = re.compile(r"\s+")
# Colour codes that tools print into the output Renovate quotes in error messages
_ANSI_ESCAPE: Final = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# Lines of a tool's output quoted in an error message that name the cause (git, npm, pip, ...)
_CAUSE_PREFIXES: Final = ("fatal:", "error:", "npm err!", "err!")
# What V8 prints on stderr before Node aborts because the JavaScript heap reached its limit (--max-old-space-size,
# which Node sizes from the container's memory limit by default): the process ends by SIGABRT, not the OOM killer.
HEAP_EXHAUSTED_MARKER: Final = "JavaScript heap out of memory"

Record = dict[str, Any]
"""One of Renovate's log records: a JSON object with an integer `level`."""


@dataclass(frozen=True, kw_only=True)
class RenovateEvent:
    """One parsed log record. `fields` holds everything besides level, msg, time and repository."""

    level: int
    msg: str
    time: str | None = None
    repository: str | None = None
    fields: Mapping[str, Any]

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES.get(self.level, str(self.level))

    @property
    def is_problem(self) -> bool:
        return self.level >= WARN


@dataclass(frozen=True, kw_only=True)
class RepositoryFinished:
    """Renovate's own verdict from its `Repository finished` line."""

    result: str | None
    status: str | None
    duration_ms: int | None
    enabled: bool | None
    onboarded: bool | None


def parse_line(line: bytes | str) -> RenovateEvent | None:
    """One line of container output -> an event, or None for anything that is not a Renovate JSON record."""
    record = record_from_line(line.encode("utf-8", "replace") if isinstance(line, str) else line)
    return None if record is None else event_from_record(record)


def record_from_line(line: bytes) -> Record | None:
    """One line of container output -> Renovate's record, or None for anything else: a tool's own output, JSON that
    is not an object with an integer `level`, a line over `MAX_LINE_LENGTH`."""
    if len(line) > MAX_LINE_LENGTH:
        return None
    try:
        record = msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError):
        record = _lenient_json(line)
    # `type(...) is`, not isinstance: the parsers make plain dicts and ints, and a bool `level` is no level.
    return record if type(record) is dict and type(record.get("level")) is int else None


class _Head(msgspec.Struct):
    """The two fields of a record that decide whether the rest is read: the others are checked, not built."""

    level: int  # not a bool, which msgspec refuses for an int as `record_from_line` does
    msg: str | None = None


_decode_head: Final = msgspec.json.Decoder(_Head).decode


def _lenient_json(line: bytes) -> object:
    """What msgspec refuses and Python's parser takes (NaN, escaped lone surrogates, nesting deeper than msgspec
    goes that still fits the stack), so that the choice of parser never changes which lines are records; None for
    the rest."""
    if not line.lstrip().startswith(b"{"):  # a tool's own output: no second parse
        return None
    try:
        # Lone surrogates become U+FFFD: decoded as they are, they reached report.json, which UTF-8 cannot encode
        # (Node writes one for a string it cut inside an emoji).
        return without_lone_surrogates(json.loads(line))
    except (ValueError, RecursionError):  # not JSON (or not UTF-8), or nested deeper than the stack allows
        return None


def without_lone_surrogates(value: Any) -> Any:
    """Decoded JSON with each lone surrogate in its strings (keys too) replaced by U+FFFD, so it encodes as UTF-8."""
    if isinstance(value, str):
        # A pair was already joined by the decoder; what UTF-16 cannot pair up is a lone half.
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {without_lone_surrogates(key): without_lone_surrogates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    return value


def event_from_record(record: Mapping[str, Any]) -> RenovateEvent | None:
    """A decoded record (a log line, or an entry of the report file's `problems`) -> an event."""
    level = record.get("level")
    if not isinstance(level, int) or isinstance(level, bool):
        return None
    msg = record.get("msg")
    time = record.get("time")
    repository = record.get("repository")
    return RenovateEvent(
        level=level,
        msg=msg if isinstance(msg, str) else "",
        time=time if isinstance(time, str) else None,
        repository=repository if isinstance(repository, str) else None,
        fields=_without(record, ("level", "msg", "time", "repository")),
    )


def _without(record: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    fields = dict(record)  # a copy and a few deletions: a third of the cost of a filtering comprehension
    for key in keys:
        fields.pop(key, None)
    return fields


def problem_from_event(event: RenovateEvent) -> Problem:
    """A warning or error as one bounded line: the message, then the useful part of `err` and the fields."""
    detail = _describe_fields(event.fields)
    message = event.msg.strip() or "(Renovate logged no message)"
    text = f"{message}: {detail}" if detail else message
    return Problem(level="error" if event.level >= ERROR else "warning", message=shorten(text, MAX_PROBLEM_CHARS))


def shorten(text: str, limit: int) -> str:
    """Colour codes dropped, whitespace collapsed to single spaces, cut to `limit` characters with "…"."""
    flat = _WHITESPACE.sub(" ", _ANSI_ESCAPE.sub("", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _describe_fields(fields: Mapping[str, Any]) -> str:
    parts = _describe_error(fields.get("err"))
    for key, value in fields.items():
        if key != "err" and key not in _ENVELOPE_FIELDS and value is not None:
            parts.append(f"{key}={_compact(value)}")
    return "; ".join(parts)


def _describe_error(err: object) -> list[str]:
    """Renovate serialises errors as {message, stack, statusCode?, code?, ...}; the stack is noise here."""
    if isinstance(err, str):
        return [_error_text(err)] if err.strip() else []
    if not isinstance(err, Mapping):
        return []
    parts = []
    message = err.get("message")
    if isinstance(message, str) and message.strip():
        parts.append(_error_text(message))
    parts.extend(f"{key}={err[key]}" for key in ("statusCode", "code") if isinstance(err.get(key), str | int))
    return parts


def _error_text(message: str) -> str:
    """An error message's first line, plus the lines that say why when it quotes a tool's output.

    `Command failed: git clone ...` is followed by git's own `fatal: Authentication failed ...`, which is the
    part a person needs.
    """
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    causes = [line for line in lines[1:] if line.lower().startswith(_CAUSE_PREFIXES)][:2]
    return " / ".join(shorten(line, _MAX_FIELD_CHARS) for line in (lines[0], *causes))


def _compact(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    return shorten(text, _MAX_FIELD_CHARS)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class FedLines:
    """What `LogSummary.feed_block` found in a block of lines."""

    lines: list[bytes]
    not_records: list[int] = field(default_factory=list)  # the indices of lines that are not Renovate's records
    new_problems: list[tuple[RenovateEvent, Problem]] = field(default_factory=list)  # each the first time seen


class LogSummary:
    """What one repository's log said, accumulated one event at a time."""

    def __init__(self) -> None:
        self.renovate_version: str | None = None
        self.finished: RepositoryFinished | None = None
        self.events = 0
        self.problems_omitted = 0  # distinct problems past MAX_PROBLEMS
        self._branches: dict[str, None] = {}  # insertion-ordered set
        self._prs: list[PullRequest] = []
        self._problems: dict[tuple[str, str], Problem] = {}
        self._first_error: Problem | None = None
        self.heap_exhausted = False  # Node said its heap reached its limit (HEAP_EXHAUSTED_MARKER)

    @property
    def branches(self) -> tuple[str, ...]:
        """Branches Renovate created or updated, in the order it touched them."""
        return tuple(self._branches)

    @property
    def prs(self) -> tuple[PullRequest, ...]:
        return tuple(self._prs)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(self._problems.values())

    @property
    def first_error(self) -> Problem | None:
        """The first error-level problem, kept even when the problem list is full."""
        return self._first_error

    def feed_block(self, block: bytes) -> FedLines:
        """Feeds the records among the lines of `block` (container output, lines joined by newlines) and says
        which lines were not records and which problems were new.

        This runs for every line of every log. Each line's `level` and `msg` are decoded first (`_Head`), and only
        records that say something the summary keeps (a problem, or a message with a handler) are decoded whole;
        a line that is no such head, or a block that is not valid UTF-8 (which a skipped string is not checked
        for), goes through `record_from_line`, so both ways find the same records.
        """
        lines = block.split(b"\n")
        fed = FedLines(lines=lines)
        if (not block.isascii() and not _is_utf8(block)) or max(map(len, lines)) > MAX_LINE_LENGTH:
            self._feed_one_by_one(fed)
            return fed
        handlers, records = _HANDLERS, 0
        for index, line in enumerate(lines):
            try:
                head = _decode_head(line)
            except (msgspec.DecodeError, RecursionError):
                self._feed_line(fed, index)
                continue
            records += 1
            if head.level >= WARN or head.msg in handlers:
                self._read_record(msgspec.json.decode(line), fed)
        self.events += records
        return fed

    def _feed_one_by_one(self, fed: FedLines) -> None:
        for index in range(len(fed.lines)):
            self._feed_line(fed, index)

    def _feed_line(self, fed: FedLines, index: int) -> None:
        line = fed.lines[index]
        record = record_from_line(line)
        if record is None:
            fed.not_records.append(index)
            self.feed_output(line.decode("utf-8", errors="replace"))
            return
        self.events += 1
        self._read_record(record, fed)

    def _read_record(self, record: Record, fed: FedLines) -> None:
        """What the summary keeps of one record: its handler's part and the problem it is; most have neither."""
        msg = record.get("msg")
        if type(msg) is str and (handler := _HANDLERS.get(msg)) is not None:
            handler(self, record)
        if record["level"] < WARN or (event := event_from_record(record)) is None:
            return
        if (problem := self._take_problem(event)) is not None:
            fed.new_problems.append((event, problem))

    def feed(self, event: RenovateEvent) -> Problem | None:
        """Takes in one event; returns the problem it is, when that is one the summary had not seen."""
        self.events += 1
        handler = _HANDLERS.get(event.msg)
        if handler is not None:
            handler(self, event.fields)
        return self._take_problem(event) if event.is_problem else None

    def _take_problem(self, event: RenovateEvent) -> Problem | None:
        problem = problem_from_event(event)
        return problem if self.add_problem(problem) else None

    def feed_output(self, text: str) -> None:
        """A line of output that is no Renovate record: a node crash on stderr, say."""
        if HEAP_EXHAUSTED_MARKER in text:
            self.heap_exhausted = True

    def add_problem(self, problem: Problem) -> bool:
        """Keeps `problem` unless it is a repeat or its level's list is full; True when it was new."""
        if problem.level == "error" and self._first_error is None:
            self._first_error = problem
        key = (problem.level, problem.message)
        if key in self._problems:
            return False
        if sum(level == problem.level for level, _ in self._problems) >= MAX_PROBLEMS:
            self.problems_omitted += 1
            return False
        self._problems[key] = problem
        return True

    # Each handler reads the fields of one record (a whole record, or an event's `fields`).

    def _on_started(self, fields: Mapping[str, Any]) -> None:
        self.renovate_version = _text(fields.get("renovateVersion")) or self.renovate_version

    def _on_finished(self, fields: Mapping[str, Any]) -> None:
        self.finished = RepositoryFinished(
            result=_text(fields.get("result")),
            status=_text(fields.get("status")),
            duration_ms=_integer(fields.get("durationMs")),
            enabled=_flag(fields.get("enabled")),
            onboarded=_flag(fields.get("onboarded")),
        )

    def _on_branch(self, fields: Mapping[str, Any]) -> None:
        branch = _text(fields.get("branch"))
        if branch is not None:
            self._branches[branch] = None

    def _on_pr(self, fields: Mapping[str, Any], action: Literal["created", "updated"]) -> None:
        self._prs.append(
            PullRequest(
                number=_integer(fields.get("pr")),
                title=_text(fields.get("prTitle")) or "",
                branch=_text(fields.get("branch")),
                action=action,
            )
        )


_HANDLERS: Final[dict[str, Callable[[LogSummary, Mapping[str, Any]], None]]] = {
    "Repository started": LogSummary._on_started,
    "Repository finished": LogSummary._on_finished,
    "Branch created": LogSummary._on_branch,
    "Branch updated": LogSummary._on_branch,
    "PR created": lambda summary, fields: summary._on_pr(fields, "created"),
    "PR updated": lambda summary, fields: summary._on_pr(fields, "updated"),
}
