"""The runner's own log: registered tokens never reach it, in JSON or console rendering; JSON for machines."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import structlog

from runner.logsetup import configure_logging
from runner.secrets import REDACTED, register_secret
from tests.unit.test_secrets import a_token

RENDERINGS = [pytest.param(True, id="json"), pytest.param(False, id="console")]


def logged(use_json: bool, emit: Any) -> str:
    """What `emit(log)` writes through the runner's logging configuration."""
    stream = io.StringIO()
    configure_logging(stream=stream, json=use_json)
    emit(structlog.get_logger())
    return stream.getvalue()


def fail(message: str) -> None:
    raise ValueError(message)


@pytest.mark.parametrize("use_json", RENDERINGS)
def test_a_token_in_an_event_value_is_redacted(use_json: bool) -> None:
    token = a_token()
    register_secret(token)

    output = logged(use_json, lambda log: log.info("token_ready", header=f"Bearer {token}", mode="token-env"))

    assert token not in output
    assert f"Bearer {REDACTED}" in output
    assert "token_ready" in output
    assert "token-env" in output


@pytest.mark.parametrize("use_json", RENDERINGS)
def test_an_unregistered_jwt_or_pat_passed_in_by_a_bug_is_redacted(use_json: bool) -> None:
    jwt = a_token()  # never registered: as if a code path forgot to, or a library handed one back in a message
    pat = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"  # the 52-character PAT shape
    new_pat = "A1" * 38 + "AZDO" + "x9Y8"  # the 84-character shape, `AZDO` at position 76

    output = logged(
        use_json,
        lambda log: log.warning(f"request failed for {pat}", url=f"https://x/?t={jwt}", detail={"p": [new_pat]}),
    )

    assert (jwt not in output, pat not in output, new_pat not in output) == (True, True, True)
    assert output.count(REDACTED) == 3
    assert "request failed for" in output


@pytest.mark.parametrize("use_json", RENDERINGS)
def test_a_token_inside_an_exception_passed_as_a_value_is_redacted(use_json: bool) -> None:
    token = a_token()
    register_secret(token)
    error = RuntimeError(f"401 Unauthorized for token {token}")

    output = logged(use_json, lambda log: log.warning("request_failed", error=error))

    assert token not in output
    assert f"401 Unauthorized for token {REDACTED}" in output


@pytest.mark.parametrize("use_json", RENDERINGS)
def test_a_token_in_the_event_name_is_redacted(use_json: bool) -> None:
    token = a_token()
    register_secret(token)

    output = logged(use_json, lambda log: log.error(f"unexpected answer {token}"))

    assert token not in output
    assert f"unexpected answer {REDACTED}" in output


@pytest.mark.parametrize("use_json", RENDERINGS)
def test_a_token_nested_in_a_value_is_redacted(use_json: bool) -> None:
    token = a_token()
    register_secret(token)

    output = logged(
        use_json,
        lambda log: log.info("request", headers={"Authorization": f"Bearer {token}"}, args=["--token", token]),
    )

    assert token not in output
    assert output.count(REDACTED) == 2


@pytest.mark.parametrize("use_json", RENDERINGS)
def test_a_token_in_a_logged_traceback_is_redacted(use_json: bool) -> None:
    token = a_token()
    register_secret(token)

    def crash(log: Any) -> None:
        try:
            fail(f"bad token {token}")
        except ValueError:
            log.exception("repository_crashed")

    output = logged(use_json, crash)

    assert token not in output
    assert f"bad token {REDACTED}" in output
    assert "ValueError" in output


def test_a_json_traceback_does_not_dump_local_variables() -> None:
    # Locals may hold secrets the runner never registered (e.g. values of secrets_env meant for Renovate).
    def crash(log: Any) -> None:
        feed_password = "hunter2-not-registered"
        try:
            fail(f"could not use the feed ({len(feed_password)} characters)")
        except ValueError:
            log.exception("repository_crashed")

    output = logged(True, crash)

    assert "hunter2-not-registered" not in output
    [event] = [json.loads(line) for line in output.splitlines()]
    assert event["event"] == "repository_crashed"
    assert event["exception"][0]["exc_type"] == "ValueError"


def test_json_logs_are_one_object_per_line_with_level_and_utc_time() -> None:
    output = logged(True, lambda log: (log.info("first", n=1), log.warning("second")))

    events = [json.loads(line) for line in output.splitlines()]
    assert [(event["event"], event["level"]) for event in events] == [("first", "info"), ("second", "warning")]
    assert events[0]["n"] == 1
    assert all(event["timestamp"].endswith("Z") for event in events)


def test_json_is_chosen_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, json=None, environ={})  # outside Azure Pipelines, see test_log_format.py

    structlog.get_logger().info("started")

    assert json.loads(stream.getvalue())["event"] == "started"


def test_events_below_the_level_are_dropped() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, json=True, level="warning")
    log = structlog.get_logger()

    log.info("chatter")
    log.warning("worth_reading")

    assert [json.loads(line)["event"] for line in stream.getvalue().splitlines()] == ["worth_reading"]
