"""Where one container's output goes: the repository's NDJSON log file, its `LogSummary`, and our own log.

Lines are written as they arrive (redacted of every known secret), so a crash or an interrupt keeps everything up to
that moment. Output that is not one of Renovate's JSON records (a node stack trace on stderr, say) is wrapped in a
JSON record of our own, so the file stays valid NDJSON.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from io import FileIO
from pathlib import Path
from types import TracebackType

import msgspec
import structlog

from runner.renovate.container import Stream
from runner.renovate.logs import ERROR, LogSummary
from runner.secrets import redact, redact_bytes, redact_piece

log = structlog.get_logger()


class LogSink:
    def __init__(self, path: Path, summary: LogSummary) -> None:
        self.path = path
        self.summary = summary
        self.unparsed_long_lines = 0
        self.write_error: OSError | None = None  # the log file stopped taking lines (a full disk, say)
        self._held_back = ""  # the tail of an over-long line's last piece, see _write_piece
        self._file: FileIO | None = None
        self._lock = threading.Lock()  # stdout and stderr lines arrive from one reader, but be safe

    def __enter__(self) -> LogSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Unbuffered: each line reaches the file as it arrives, for people following a long run and for
        # whatever is left after the runner itself is killed; one write per line, without a text layer's
        # buffering and flushing (a third of the cost of a line-buffered text file, bench/log_ingestion.py).
        self._file = FileIO(self.path, "w")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._held_back:  # the stream ended inside an over-long line
            self._file_write((redact(self._held_back) + "\n").encode())
            self._held_back = ""
        if self._file is not None:
            self._file.close()
            self._file = None

    def on_lines(self, stream: Stream, block: bytes) -> None:
        block = redact_bytes(block)
        with self._lock:
            # No check for a log file here: one that failed (`write_error`) still has its output parsed.
            fed = self.summary.feed_block(block)
            if fed.not_records:
                block = b"\n".join(_wrapped(stream, fed.lines, fed.not_records))
            if block:
                self._file_write(block, b"\n")
        for event, problem in fed.new_problems:
            # Renovate's own problems, re-logged once each (the log file has every repeat), with the repository
            # bound by the caller's context.
            log.log(
                logging.ERROR if event.level >= ERROR else logging.WARNING,
                "renovate_problem",
                renovate_level=event.level_name,
                message=problem.message,
            )

    def on_piece(self, stream: Stream, piece: bytes, ends_line: bool) -> None:
        with self._lock:  # counted even when the log file has failed (`write_error`): the note says so
            self._write_piece(piece.decode("utf-8", errors="replace"), ends_line)

    def _write_piece(self, piece: str, ends_line: bool) -> None:
        """A piece of a line over the length cap (`MAX_LINE_LENGTH`): written as it streams, never parsed.

        A secret may straddle two pieces, so the end of each piece that could start one is held back and
        redacted together with the next piece.
        """
        text = self._held_back + piece
        if ends_line:
            self._file_write((redact(text) + "\n").encode())
            self._held_back = ""
            self.unparsed_long_lines += 1
            return
        ready, self._held_back = redact_piece(text)
        self._file_write(ready.encode())

    def _file_write(self, *parts: bytes) -> None:
        """Writes `parts` in one system call (no copy to join them), all of it."""
        if self._file is None:
            return
        try:
            written = os.writev(self._file.fileno(), parts)
            rest = b"".join(parts)[written:] if written < sum(map(len, parts)) else b""
            while rest:  # a regular file takes it all at once, short of a full disk or a signal
                rest = rest[self._file.write(rest) :]
        except OSError as error:
            # The log ends here, but the run goes on: its output is still read (a container whose output is not
            # read would block), parsed and summarised, and the outcome says the log is incomplete.
            self.write_error = error
            self._file.close()
            self._file = None

    @property
    def notes(self) -> list[str]:
        """What the outcome must say about this log: lines it could not parse, writes that failed."""
        notes = []
        if self.unparsed_long_lines:
            notes.append(f"{self.unparsed_long_lines} output line(s) over the length cap were logged but not parsed")
        if self.write_error is not None:
            notes.append(f"the log is incomplete: writing it failed ({self.write_error.strerror or self.write_error})")
        return notes


def _wrapped(stream: Stream, lines: list[bytes], not_records: list[int]) -> Iterator[bytes]:
    """`lines` with each line that is not a Renovate record wrapped in a record of our own, and blank ones left out."""
    others = set(not_records)
    for index, line in enumerate(lines):
        if index not in others:
            yield line
        elif line.strip():
            text = line.decode("utf-8", errors="replace")
            yield msgspec.json.encode({"runner": "output", "stream": stream, "msg": text})
