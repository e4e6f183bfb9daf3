"""The path of one container's output into its NDJSON log: splitting, redaction, wrapping, re-logging."""

from __future__ import annotations

import json
from pathlib import Path

import structlog.testing

from runner.renovate.container import LineSplitter, Stream
from runner.renovate.logs import LogSummary
from runner.renovate.logsink import LogSink
from runner.secrets import REDACTED, clear_secrets, register_secret
from tests.unit.test_secrets import a_token

SECRET = "s3cr3t-" + "x" * 40


def stream_into(sink: LogSink, *chunks: bytes, max_line: int = 64) -> None:
    splitter = LineSplitter("stdout", sink, max_line)
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


def credentials() -> tuple[str, str, str]:
    """An unregistered JWT and PAT, and a registered secret."""
    jwt = a_token()
    pat = "A1b2C3d4" * 9 + "A1b2" + "AZDO" + "x9Y8"
    register_secret(SECRET)
    return jwt, pat, SECRET


def test_secrets_cut_by_a_chunk_boundary_anywhere_are_redacted(tmp_path: Path) -> None:
    jwt, pat, secret = credentials()
    line = json.dumps({"level": 20, "msg": f"auth {jwt} pat {pat} token {secret}"}).encode() + b"\n"
    expected = json.dumps({"level": 20, "msg": f"auth {REDACTED} pat {REDACTED} token {REDACTED}"}) + "\n"
    for cut in range(1, len(line)):
        with LogSink(tmp_path / "log.ndjson", LogSummary()) as sink:
            stream_into(sink, line[:cut], line[cut:], max_line=4096)

        assert (tmp_path / "log.ndjson").read_text() == expected, f"cut at {cut}"


def test_unregistered_jwts_and_pats_straddling_pieces_of_an_over_long_line_are_redacted(tmp_path: Path) -> None:
    clear_secrets()
    jwt, pat, _secret = credentials()
    clear_secrets()  # only the shapes: a registered token would make the hold-back long enough by itself
    line = ("a" * 50 + " " + jwt + " " + "b" * 50 + " " + pat + " " + "c" * 100).encode()
    for cut in range(40, len(line) - 40, 7):
        with LogSink(tmp_path / "log.ndjson", LogSummary()) as sink:
            # Over the cap of 64, each chunk goes out at once as a piece.
            stream_into(sink, line[:cut], line[cut:] + b"\n")

        written = (tmp_path / "log.ndjson").read_text()
        assert written == "a" * 50 + f" {REDACTED} " + "b" * 50 + f" {REDACTED} " + "c" * 100 + "\n", f"cut at {cut}"


class Received:
    """What a splitter hands on, as (line, complete, ends_line): each line of a block is complete."""

    def __init__(self) -> None:
        self.parts: list[tuple[bytes, bool, bool]] = []

    def on_lines(self, _stream: Stream, block: bytes) -> None:
        self.parts += [(line, True, True) for line in block.split(b"\n")]

    def on_piece(self, _stream: Stream, piece: bytes, ends_line: bool) -> None:
        self.parts.append((piece, False, ends_line))


def split(data: bytes, size: int) -> list[tuple[bytes, bool, bool]]:
    """What a splitter with a cap of 64 hands on for `data` in chunks of `size`."""
    received = Received()
    splitter = LineSplitter("stdout", received, 64)
    for start in range(0, len(data), size):
        splitter.feed(data[start : start + size])
    splitter.close()
    return received.parts


def test_lines_are_the_same_however_the_stream_is_cut() -> None:
    data = b'{"level":30,"msg":"one"}\r\n\n{"level":40,"msg":"two"}\nnot json\n' + b"x" * 100 + b"\ntail"
    for size in range(1, len(data) + 1):
        received = split(data, size)

        whole = [line for line, complete, _ends in received if complete]
        assert whole == [b'{"level":30,"msg":"one"}', b"", b'{"level":40,"msg":"two"}', b"not json", b"tail"]
        pieces = [(line, ends) for line, complete, ends in received if not complete]
        assert b"".join(line for line, _ends in pieces) == b"x" * 100, f"chunks of {size}"
        assert [ends for _line, ends in pieces] == [False] * (len(pieces) - 1) + [True], f"chunks of {size}"


def test_a_log_that_cannot_be_written_still_summarises_the_run_and_says_so() -> None:
    # /dev/full answers every write with ENOSPC, as a full disk does.
    summary = LogSummary()
    with LogSink(Path("/dev/full"), summary) as sink:
        stream_into(
            sink,
            b'{"level":30,"msg":"Repository started","renovateVersion":"44.121.2"}\n',
            b'{"level":30,"msg":"Repository finished","result":"done"}\n',
            max_line=1024,
        )

    assert summary.renovate_version == "44.121.2"
    assert summary.finished is not None
    assert sink.notes == ["the log is incomplete: writing it failed (No space left on device)"]
