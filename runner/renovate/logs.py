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
from dataclasses import dataclass
from typing import Any, Final, Literal

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
_DECODER: Final = json.JSONDecoder()
# What V8 prints on stderr before Node aborts because the JavaScript heap reached its limit (--max-old-space-size,
# which Node sizes from the container's memory limit by default): the process ends by SIGABRT, not the OOM killer.
HEAP_EXHAUSTED_MARKER: Final = "JavaScript heap out of memory"


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


def parse_line(line: str) -> RenovateEvent | None:
    """One line of container output -> an event, or None for anything that is not a Renovate JSON record."""
    text = line.strip()
    if not text.startswith("{") or len(text) > MAX_LINE_LENGTH:
        return None
    try:
        # json.loads without its wrapper's whitespace scans (the text is stripped): every log line comes here.
        record, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser's stack allows
        return None
    if end != len(text) or not isinstance(record, dict):
        return None
    return event_from_record(record)


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


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


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

    def feed(self, event: RenovateEvent) -> None:
        self.events += 1
        handler = _HANDLERS.get(event.msg)
        if handler is not None:
            handler(self, event)
        if event.is_problem:
            self.add_problem(problem_from_event(event))

    def feed_output(self, text: str) -> None:
        """A line of output that is no Renovate record: a node crash on stderr, say."""
        if HEAP_EXHAUSTED_MARKER in text:
            self.heap_exhausted = True

    def add_problem(self, problem: Problem) -> None:
        if problem.level == "error" and self._first_error is None:
            self._first_error = problem
        key = (problem.level, problem.message)
        if key in self._problems:
            return
        if sum(level == problem.level for level, _ in self._problems) >= MAX_PROBLEMS:
            self.problems_omitted += 1
            return
        self._problems[key] = problem

    def _on_started(self, event: RenovateEvent) -> None:
        self.renovate_version = _text(event.fields.get("renovateVersion")) or self.renovate_version

    def _on_finished(self, event: RenovateEvent) -> None:
        fields = event.fields
        self.finished = RepositoryFinished(
            result=_text(fields.get("result")),
            status=_text(fields.get("status")),
            duration_ms=_integer(fields.get("durationMs")),
            enabled=_flag(fields.get("enabled")),
            onboarded=_flag(fields.get("onboarded")),
        )

    def _on_branch(self, event: RenovateEvent) -> None:
        branch = _text(event.fields.get("branch"))
        if branch is not None:
            self._branches[branch] = None

    def _on_pr(self, event: RenovateEvent, action: Literal["created", "updated"]) -> None:
        self._prs.append(
            PullRequest(
                number=_integer(event.fields.get("pr")),
                title=_text(event.fields.get("prTitle")) or "",
                branch=_text(event.fields.get("branch")),
                action=action,
            )
        )


_HANDLERS: Final[dict[str, Callable[[LogSummary, RenovateEvent], None]]] = {
    "Repository started": LogSummary._on_started,
    "Repository finished": LogSummary._on_finished,
    "Branch created": LogSummary._on_branch,
    "Branch updated": LogSummary._on_branch,
    "PR created": lambda summary, event: summary._on_pr(event, "created"),
    "PR updated": lambda summary, event: summary._on_pr(event, "updated"),
}
