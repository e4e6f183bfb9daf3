"""The path of one container's output into its NDJSON log: splitting, redaction, wrapping, re-logging."""

from __future__ import annotations

import json
from pathlib import Path

import structlog.testing

from runner.renovate.container import LineSplitter
from runner.renovate.logs import LogSummary
from runner.renovate.logsink import LogSink
from runner.secrets import REDACTED, register_secret

SECRET = "s3cr3t-" + "x" * 40


def stream_into(sink: LogSink, *chunks: bytes, max_line: int = 64) -> None:
    splitter = LineSplitter("stdout", sink.on_line, max_line)
    for chunk in chunks:
        splitter.feed(chunk)
    splitter.close()


def test_a_secret_straddling_two_pieces_of_an_over_long_line_is_redacted(tmp_path: Path) -> None:
    register_secret(SECRET)
    line = ("a" * 50 + SECRET + "b" * 100).encode()
    with LogSink(tmp_path / "log.ndjson", LogSummary()) as sink:
        # Over the cap of 64, the first chunk goes out at once as a piece that ends inside the secret.
        stream_into(sink, line[:70], line[70:] + b"\n")

    written = (tmp_path / "log.ndjson").read_text()
    assert SECRET not in written
    assert written == "a" * 50 + REDACTED + "b" * 100 + "\n"
    assert sink.unparsed_long_lines == 1


def test_an_over_long_line_cut_off_by_the_end_of_the_stream_is_still_written_whole(tmp_path: Path) -> None:
    register_secret(SECRET)
    with LogSink(tmp_path / "log.ndjson", LogSummary()) as sink:
        stream_into(sink, b"c" * 70, SECRET.encode())  # no newline at the end

    assert (tmp_path / "log.ndjson").read_text() == "c" * 70 + REDACTED + "\n"
    assert sink.unparsed_long_lines == 1


def test_renovate_records_are_kept_as_they_are_and_other_output_is_wrapped(tmp_path: Path) -> None:
    register_secret(SECRET)
    record = {"level": 30, "msg": "Repository started", "renovateVersion": "44.121.2"}
    with LogSink(tmp_path / "log.ndjson", LogSummary()) as sink:
        stream_into(
            sink, json.dumps(record).encode() + b"\nnode: crashed with " + SECRET.encode() + b"\n", max_line=4096
        )

    lines = [json.loads(line) for line in (tmp_path / "log.ndjson").read_text().splitlines()]
    assert lines == [record, {"runner": "output", "stream": "stdout", "msg": f"node: crashed with {REDACTED}"}]
    assert sink.summary.renovate_version == "44.121.2"


def test_each_distinct_problem_is_logged_once(tmp_path: Path) -> None:
    warning = json.dumps({"level": 40, "msg": "Failed to look up npm package left-pad"}).encode()
    with structlog.testing.capture_logs() as logged, LogSink(tmp_path / "log.ndjson", LogSummary()) as sink:
        stream_into(sink, warning + b"\n" + warning + b"\n", max_line=4096)

    problems = [entry for entry in logged if entry["event"] == "renovate_problem"]
    assert len(problems) == 1
    assert problems[0]["message"].startswith("Failed to look up npm package left-pad")
    assert len((tmp_path / "log.ndjson").read_text().splitlines()) == 2  # the log file keeps every repeat
