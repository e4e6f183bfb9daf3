"""Durations (`1h30m`) as people write them in YAML, and as the runner writes them back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runner.config.durations import parse_duration
from runner.durations import format_duration


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2h5m10s", timedelta(hours=2, minutes=5, seconds=10)),
        (" 45m ", timedelta(minutes=45)),
        (600, timedelta(minutes=10)),
        (timedelta(seconds=5), timedelta(seconds=5)),
    ],
)
def test_parse_duration(written: object, expected: timedelta) -> None:
    assert parse_duration(written) == expected


@pytest.mark.parametrize("written", ["", "1d", "30 m", "m", "h30", "1.5h", 1.5, True, None, [1], "-5m"])
def test_parse_duration_rejects_what_is_not_a_duration(written: object) -> None:
    with pytest.raises(ValueError, match="is not a duration; write it as 90s, 30m, 1h, 1h30m"):
        parse_duration(written)


@pytest.mark.parametrize("written", [0, "0s", "0h0m", -30])
def test_parse_duration_rejects_zero_and_negative(written: object) -> None:
    with pytest.raises(ValueError, match="must be longer than zero"):
        parse_duration(written)


@pytest.mark.parametrize(
    ("duration", "written"),
    [(timedelta(minutes=30), "30m"), (timedelta(hours=1, seconds=5), "1h5s"), (timedelta(0), "0s")],
)
def test_format_duration_is_the_inverse(duration: timedelta, written: str) -> None:
    assert format_duration(duration, "yaml") == written
    if duration:
        assert parse_duration(written) == duration
