"""A group container's output, split into each repository's log by the `repository` field of Renovate's records."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

from runner.group_run import OutputRouter


def record(msg: str, repository: str | None = None, level: int = 30, **fields: object) -> bytes:
    data: dict[str, object] = {"name": "renovate", "level": level, "msg": msg, "v": 0, **fields}
    if repository is not None:
        data["repository"] = repository
    return json.dumps(data).encode()


def test_each_repositorys_records_reach_its_own_log_and_renovates_own_reach_every_log(tmp_path: Path) -> None:
    router = OutputRouter({"Web/a": tmp_path / "logs" / "a.ndjson", "Web/b": tmp_path / "logs" / "b.ndjson"})
    with ExitStack() as stack:
        for sink in router.sinks.values():
            stack.enter_context(sink)
        lines = [
            record("Renovate started"),
            record("Repository started", "Web/a", renovateVersion="44.121.2"),
            b"npm ERR! a tool's own output while Web/a runs",
            record("Repository finished", "Web/a", result="done", durationMs=1200),
            record("Repository started", "Web/b", renovateVersion="44.121.2"),
            record("Lookup failed", "Web/b", level=40),
            record("Renovate is exiting"),
        ]
        for line in lines:
            router.on_lines("stdout", line)

    a = (tmp_path / "logs" / "a.ndjson").read_text().splitlines()
    b = (tmp_path / "logs" / "b.ndjson").read_text().splitlines()
    assert [json.loads(line).get("msg") for line in a] == [
        "Renovate started",
        "Repository started",
        "npm ERR! a tool's own output while Web/a runs",
        "Repository finished",
        "Renovate is exiting",
    ]
    assert [json.loads(line).get("msg") for line in b] == [
        "Renovate started",
        "Repository started",
        "Lookup failed",
        "Renovate is exiting",
    ]
    summary_a, summary_b = router.sinks["Web/a"].summary, router.sinks["Web/b"].summary
    assert summary_a.finished is not None
    assert summary_a.finished.duration_ms == 1200
    assert summary_a.problems == ()
    assert summary_b.finished is None
    assert [problem.message for problem in summary_b.problems] == ["Lookup failed"]


def test_pieces_of_an_over_long_line_go_to_the_repository_that_is_running(tmp_path: Path) -> None:
    router = OutputRouter({"Web/a": tmp_path / "a.ndjson", "Web/b": tmp_path / "b.ndjson"})
    with ExitStack() as stack:
        for sink in router.sinks.values():
            stack.enter_context(sink)
        router.on_lines("stdout", record("Repository started", "Web/b"))
        router.on_piece("stdout", b'{"msg":"' + b"x" * 100, False)
        router.on_piece("stdout", b"y" * 100 + b'"}', True)

    assert "x" * 100 not in (tmp_path / "a.ndjson").read_text()
    assert "x" * 100 + "y" * 100 in (tmp_path / "b.ndjson").read_text()
    assert router.sinks["Web/b"].unparsed_long_lines == 1
