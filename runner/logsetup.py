"""structlog configuration, done once at start: console lines for people, JSON lines for machines.

Console lines on a terminal and in Azure Pipelines (whose log viewer is read by people), JSON lines elsewhere and
whenever asked; colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).

Every event passes through a redaction step, so a token that slipped into an event's values is masked before it is
rendered anywhere.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog

from runner.pipelines import in_pipeline
from runner.secrets import redact

# structlog's `dict_tracebacks`, without the local variables of every frame: they may hold secrets the runner
# never registered (e.g. `secrets_env` values on their way to Renovate), and they bloat each event.
_JSON_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def _redact_values(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        event_dict[key] = _redacted(value)
    return event_dict


def _redacted(value: Any) -> Any:
    # Nested too: a token can sit in a mapping or list passed as a value, and JSON tracebacks are lists of dicts.
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, BaseException):
        return redact(str(value))
    if isinstance(value, Mapping):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):  # a plain list: rebuilding a named tuple from one iterable would fail
        return [_redacted(item) for item in value]
    return value


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time, so a progress display that redirects stderr (rich does)
    prints our log lines above itself instead of being torn apart by them."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    *,
    stream: TextIO | None = None,
    json: bool | None = None,
    level: str = "info",
    environ: Mapping[str, str] | None = None,
) -> None:
    """Configure structlog for this process.

    `json=None` picks by where the log goes: console rendering on a terminal and in Azure Pipelines (`TF_BUILD`),
    JSON lines otherwise (files, other log collectors). `environ` defaults to the process environment.
    """
    env = os.environ if environ is None else environ
    out = stream if stream is not None else sys.stderr
    use_json = not (out.isatty() or in_pipeline(env)) if json is None else json
    colors = out.isatty() and not env.get("NO_COLOR")
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=colors)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _JSON_TRACEBACKS if use_json else structlog.processors.format_exc_info,
            _redact_values,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(
            file=out if stream is not None else cast(TextIO, _CurrentStderr())  # writes are all it needs
        ),
        cache_logger_on_first_use=False,
    )
    # azure-identity and urllib3 log through the standard library; keep them quiet unless debugging.
    logging.basicConfig(level=logging.WARNING if level != "debug" else logging.DEBUG, stream=out)
