"""How the runner's own log is rendered: readable lines on a terminal and in Azure Pipelines, JSON lines when asked
(`--log-format json`) and elsewhere; colour only on a terminal, and never when NO_COLOR is set."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from runner.logsetup import configure_logging

ANSI_ESCAPE = "\x1b["


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _outside_a_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TF_BUILD", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def logged(stream: io.StringIO, *, json_logs: bool | None = None) -> list[str]:
    configure_logging(stream=stream, json=json_logs)
    structlog.get_logger().info("repository_started", container="renovate-api")
    return stream.getvalue().splitlines()


def is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("tf_build", ["True", "true"])
def test_in_azure_pipelines_the_log_is_readable_lines(monkeypatch: pytest.MonkeyPatch, tf_build: str) -> None:
    monkeypatch.setenv("TF_BUILD", tf_build)

    [line] = logged(io.StringIO())  # a step's output is no terminal

    assert not is_json(line), line
    assert "repository_started" in line
    assert "container=renovate-api" in line
    assert ANSI_ESCAPE not in line


def test_in_azure_pipelines_the_log_is_json_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_BUILD", "True")

    [line] = logged(io.StringIO(), json_logs=True)

    assert json.loads(line)["event"] == "repository_started"


def test_outside_a_pipeline_json_is_chosen_when_the_stream_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_BUILD", "False")

    [line] = logged(io.StringIO())

    assert json.loads(line)["container"] == "renovate-api"


def test_a_terminal_gets_coloured_lines() -> None:
    [line] = logged(Terminal())

    assert not is_json(line)
    assert ANSI_ESCAPE in line


def test_no_color_turns_colour_off_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    [line] = logged(Terminal())

    assert "repository_started" in line
    assert ANSI_ESCAPE not in line


def test_an_empty_no_color_leaves_colour_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # https://no-color.org: "when present and not an empty string"
    monkeypatch.setenv("NO_COLOR", "")

    [line] = logged(Terminal())

    assert ANSI_ESCAPE in line
