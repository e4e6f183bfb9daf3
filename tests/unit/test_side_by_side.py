"""runner.side_by_side: both steps at once, their errors in the order one after the other would give them."""

from __future__ import annotations

import contextvars
import threading

import pytest

from runner import side_by_side

_WAIT_S = 10.0  # far longer than either step needs; a step still waiting then means they did not overlap


class EngineDown(Exception):
    pass


class OrganizationDown(Exception):
    pass


def test_the_steps_run_at_the_same_time() -> None:
    first_started, second_started = threading.Event(), threading.Event()

    def first() -> str:
        first_started.set()
        assert second_started.wait(_WAIT_S), "the second step never started while the first ran"
        return "engine ready"

    def second() -> str:
        second_started.set()
        assert first_started.wait(_WAIT_S), "the first step never started while the second ran"
        return "preflight done"

    assert side_by_side.both(first, second) == ("engine ready", "preflight done")


def test_the_first_steps_error_wins_when_both_fail() -> None:
    def first() -> None:
        raise EngineDown

    def second() -> None:
        raise OrganizationDown

    with pytest.raises(EngineDown):
        side_by_side.both(first, second)


def test_the_second_steps_error_is_raised_once_the_first_has_finished() -> None:
    finished = threading.Event()

    def first() -> None:
        assert not finished.wait(0.2)  # still running when the second step fails
        finished.set()

    def second() -> None:
        raise OrganizationDown

    with pytest.raises(OrganizationDown):
        side_by_side.both(first, second)
    assert finished.is_set()


def test_the_first_steps_error_is_raised_when_the_second_succeeds() -> None:
    def first() -> None:
        raise EngineDown

    with pytest.raises(EngineDown):
        side_by_side.both(first, lambda: "preflight done")


def test_an_interrupt_waits_for_the_first_step_and_is_not_replaced_by_its_error() -> None:
    finished = threading.Event()

    def first() -> None:
        assert not finished.wait(0.2)
        finished.set()
        raise EngineDown

    def second() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        side_by_side.both(first, second)
    assert finished.is_set()


_BOUND: contextvars.ContextVar[str] = contextvars.ContextVar("bound", default="unbound")


def test_the_first_step_sees_the_callers_context_variables() -> None:
    # structlog keeps bound log fields (the run id) in context variables; a thread starts without them.
    token = _BOUND.set("run-42")
    try:
        seen, _ = side_by_side.both(_BOUND.get, lambda: None)
    finally:
        _BOUND.reset(token)
    assert seen == "run-42"
