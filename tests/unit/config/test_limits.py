"""The limits of runner.config.limits hold at their edge, and trigger before the work they protect.

Each refusal below would take minutes or gigabytes if the limit were checked after the work (reading a 1 GiB file,
expanding 9**9 aliased values, blocking on a FIFO), so a test that completes shows the order; none measures time.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.config import ConfigInvalid, load_config
from runner.config.limits import MAX_ALIASED_VALUES, MAX_FILE_BYTES, MAX_NESTING_DEPTH, format_bytes
from runner.config.yaml_source import YamlSourceError, load_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path) -> YamlSourceError:
    with pytest.raises(YamlSourceError) as caught:
        load_yaml(path)
    return caught.value


def billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_a_file_at_the_size_limit_loads(tmp_path: Path) -> None:
    text = "a: 1\n" + "#" * (MAX_FILE_BYTES - 6) + "\n"
    assert len(text.encode()) == MAX_FILE_BYTES

    assert load_yaml(write(tmp_path, text)).data == {"a": 1}


def test_a_huge_file_is_refused_by_its_size_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(1024**3)  # sparse: 1 GiB that costs no disk, but reading it would

    error = refusal(path)

    assert error.line is None
    assert error.message.startswith(f"is 1024 MiB, over the limit of {format_bytes(MAX_FILE_BYTES)}")


def test_a_fifo_is_refused_instead_of_blocking_the_read(tmp_path: Path) -> None:
    path = tmp_path / "runner.yaml"
    os.mkfifo(path)  # opening it for reading would wait for a writer forever

    assert refusal(path).message.startswith("is not a regular file")


def test_aliases_of_aliases_load_while_they_expand_to_fewer_values_than_the_limit(tmp_path: Path) -> None:
    # Aliased values: a1 90, a2 9 * 91, a3 9 * 820, b 2 * 820: 9929 in all.
    text = billion_laughs(3) + "b: [*a2, *a2]\n"

    assert load_yaml(write(tmp_path, text)).data["b"][1][8][8] == ["lol"] * 9  # type: ignore[index]


@pytest.mark.parametrize("extra", [0, 1])
def test_aliases_are_limited_at_the_values_they_expand_to(tmp_path: Path, extra: int) -> None:
    count = MAX_ALIASED_VALUES + extra
    path = write(tmp_path, "a: &a x\nb: [" + ", ".join(["*a"] * count) + "]\n")

    if extra:
        assert (refusal(path).line, refusal(path).key) == (2, f"b[{MAX_ALIASED_VALUES}]")
    else:
        assert len(load_yaml(path).data["b"]) == count  # type: ignore[index]


def test_a_billion_laughs_is_refused_while_composing(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, billion_laughs(9)))  # 9**9 = 387 million values, written out

    assert f"more than {MAX_ALIASED_VALUES} values (the limit)" in error.message
    assert (error.line, error.key) == (5, "a4[0]")  # the first alias that crosses the limit: 8289 + 7381


@pytest.mark.parametrize("extra", [0, 1])
def test_nesting_is_limited_at_its_depth(tmp_path: Path, extra: int) -> None:
    depth = MAX_NESTING_DEPTH + extra  # the innermost list is reached through `a` and depth - 1 indexes
    path = write(tmp_path, "a: " + "[" * depth + "]" * depth + "\n")

    if extra:
        assert f"more than {MAX_NESTING_DEPTH} levels deep (the limit)" in refusal(path).message
    else:
        assert load_yaml(path).data is not None


def test_nesting_far_beyond_the_recursion_limit_is_a_message_not_a_crash(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n"))

    assert error.key == "a[0][0][0][0][0][0][0]..."


def test_nesting_through_aliases_counts_the_aliased_depth(tmp_path: Path) -> None:
    deep = "[" * (MAX_NESTING_DEPTH - 1) + "]" * (MAX_NESTING_DEPTH - 1)  # as deep as allowed below `a`
    text = f"a: &deep {deep}\nb: [[*deep]]\n"

    error = refusal(write(tmp_path, text))

    assert (error.line, error.key) == (2, "b[0][0]")


def test_a_symbolic_link_inside_the_configuration_directory_is_followed(tmp_path: Path) -> None:
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "api.yaml").write_text("repository: Platform/api\n")
    (tmp_path / "repos").mkdir()
    (tmp_path / "repos" / "api.yaml").symlink_to("../linked/api.yaml")
    (tmp_path / "runner.yaml").write_text("organization: https://dev.azure.com/contoso/\n")

    assert [repo.name for repo in load_config(tmp_path).repos] == ["Platform/api"]


def test_a_local_directory_linked_to_the_root_is_refused(tmp_path: Path) -> None:
    # Not in the corpus: a link to / inside the test tree would send every tool that walks it over the whole disk.
    config = tmp_path / "config"
    (config / "repos").mkdir(parents=True)
    (config / "runner.yaml").write_text("{}\n")
    (config / "repos" / "app.yaml").write_text("local: ../app\n")
    (config / "app").symlink_to("/")

    with pytest.raises(ConfigInvalid) as caught:
        load_config(config)

    (problem,) = caught.value.problems
    assert (problem.line, problem.key) == (1, "local")
    assert problem.message.startswith("'../app' leads to /, the file system's root; the runner mounts it")
