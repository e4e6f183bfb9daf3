"""Memory sizes as `docker run --memory` takes them (`2g`, `1.5GB`, `512MiB`), and as the runner writes them back."""

from __future__ import annotations

import pytest

from runner.config.sizes import format_memory, parse_memory

MIB = 1024**2
GIB = 1024**3


# What `docker run --memory` takes (go-units' RAMInBytes): a decimal number, then optionally one space, then a unit
# b, k, m, g, t or p in either case, which may end in `b` or `ib` (b alone is bytes); a fraction of a byte is dropped.
@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2g", 2 * GIB),
        ("2G", 2 * GIB),
        ("2gb", 2 * GIB),
        ("2GB", 2 * GIB),
        ("2GiB", 2 * GIB),
        ("2gib", 2 * GIB),
        ("1.5g", 1536 * MIB),
        ("1.5GB", 1536 * MIB),
        (".5g", 512 * MIB),
        ("2.g", 2 * GIB),
        ("512m", 512 * MIB),
        ("512M", 512 * MIB),
        ("512MiB", 512 * MIB),
        ("8192k", 8 * MIB),
        ("524288K", 512 * MIB),
        ("1t", 1024 * GIB),
        ("1p", 1024**2 * GIB),
        ("2 g", 2 * GIB),
        ("2 GB", 2 * GIB),
        ("32.3 mb", int(32.3 * MIB)),
        ("1e3m", 1000 * MIB),
        ("+2g", 2 * GIB),
        ("6291456b", 6 * MIB),
        ("6291456B", 6 * MIB),
        ("6291456", 6 * MIB),
        ("6291456.9", 6 * MIB),
        ("6291456 ", 6 * MIB),
        (3 * GIB, 3 * GIB),
    ],
)
def test_parse_memory(written: object, expected: int) -> None:
    assert parse_memory(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "2,5g",
        "2gi",
        "2gbb",
        "2ibg",
        "2bg",
        "2x",
        "2e",
        "2  g",
        "2 g b",
        " 2g",
        "2g ",
        "-2g",
        "-0",
        "1.2.3g",
        "g",
        "gb",
        ".",
        "",
        "0x1p31",
        "1_000m",
        "inf g",
        "nan",
        "2g\n",
        "\uff12g",  # a full-width digit
        True,
        None,
        2.5,
    ],
)
def test_parse_memory_rejects_what_docker_refuses(written: object) -> None:
    with pytest.raises(ValueError, match="is not a memory size; write a number and a unit as docker run --memory"):
        parse_memory(written)


@pytest.mark.parametrize("written", ["5m", "6291455", 6 * MIB - 1, "0", "0.5k", 0, -2 * GIB])
def test_parse_memory_rejects_less_than_docker_allows(written: object) -> None:
    with pytest.raises(ValueError, match="below Docker's minimum of 6m"):
        parse_memory(written)


@pytest.mark.parametrize("written", ["8192p", "1e400", 2**63, "9223372036854775808"])
def test_parse_memory_rejects_more_than_docker_can_hold(written: object) -> None:
    with pytest.raises(ValueError, match="is more than Docker can set; a memory limit is less than 8192p"):
        parse_memory(written)


def test_the_largest_size_docker_can_hold_is_accepted() -> None:
    assert parse_memory("8191p") == 8191 * 1024**5
    assert parse_memory(2**63 - 1) == 2**63 - 1


@pytest.mark.parametrize(("size", "written"), [(2 * 1024**3, "2g"), (1536 * 1024**2, "1536m"), (1000, "1000")])
def test_format_memory(size: int, written: str) -> None:
    assert format_memory(size) == written
