"""Durations as the runner prints them: in prose (messages), in YAML, and in a report column."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runner.durations import format_duration, format_seconds


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=59, milliseconds=999), "59s"),
        (timedelta(minutes=30), "30m"),
        (timedelta(hours=1, seconds=3), "1h 3s"),
        (timedelta(hours=26, minutes=5, seconds=1), "26h 5m 1s"),
    ],
)
def test_prose_reads_as_people_write_durations(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.2, "0s"), (27.66, "28s"), (60, "1m 00s"), (754.4, "12m 34s"), (3725, "1h 02m")],
)
def test_a_column_rounds_to_the_second_and_shows_two_units(seconds: float, shown: str) -> None:
    assert format_seconds(seconds) == shown


@pytest.mark.parametrize(
    ("duration", "yaml", "column"),
    [
        (timedelta(0), "0s", "0s"),
        (timedelta(hours=1, seconds=3), "1h3s", "1h 00m"),
        (timedelta(minutes=4, seconds=3), "4m3s", "4m 03s"),
    ],
)
def test_every_spelling_follows_one_rule(duration: timedelta, yaml: str, column: str) -> None:
    assert (format_duration(duration, "yaml"), format_duration(duration, "column")) == (yaml, column)
