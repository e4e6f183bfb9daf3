"""Memory sizes (`2g`) as people write them in YAML, and as the runner writes them back."""

from __future__ import annotations

import pytest

from runner.config.sizes import format_memory, parse_memory


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2g", 2 * 1024**3),
        ("2G", 2 * 1024**3),
        ("512m", 512 * 1024**2),
        ("8192k", 8 * 1024**2),
        ("6291456b", 6 * 1024**2),
        (3 * 1024**3, 3 * 1024**3),
    ],
)
def test_parse_memory(written: object, expected: int) -> None:
    assert parse_memory(written) == expected


@pytest.mark.parametrize("written", ["2 GB", "2gb", "1.5g", "g", "", True, None, 2.5])
def test_parse_memory_rejects_what_is_not_a_size(written: object) -> None:
    with pytest.raises(ValueError, match="is not a memory size"):
        parse_memory(written)


def test_parse_memory_rejects_less_than_docker_allows() -> None:
    with pytest.raises(ValueError, match="below Docker's minimum of 6m"):
        parse_memory("5m")


@pytest.mark.parametrize(("size", "written"), [(2 * 1024**3, "2g"), (1536 * 1024**2, "1536m"), (1000, "1000")])
def test_format_memory(size: int, written: str) -> None:
    assert format_memory(size) == written
