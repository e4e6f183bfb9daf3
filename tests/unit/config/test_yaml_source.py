"""YAML read with the line of every key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.config.yaml_source import YamlSourceError, format_key_path, load_yaml


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "file.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_lines_of_keys_values_and_list_items(tmp_path: Path) -> None:
    document = load_yaml(
        write(tmp_path, "# comment\nauth:\n  mode: auto\nlist:\n  - a\n  -\n    b: 1\nfolded: >\n  text\n")
    )

    assert document.root_line == 2
    assert document.line_of(("auth",), key=True) == 2
    assert document.line_of(("auth",)) == 3  # a block mapping value starts at its first key
    assert document.line_of(("auth", "mode")) == 3
    assert document.line_of(("list", 1, "b")) == 7
    assert document.line_of(("folded",)) == 8


def test_a_missing_key_is_placed_at_its_parent(tmp_path: Path) -> None:
    document = load_yaml(write(tmp_path, "\n\nauth:\n  mode: auto\n"))

    assert document.line_of(("auth", "margin")) == 3
    assert document.line_of(("organization",)) == 3  # at the top: the first line of the root mapping


def test_duplicate_keys_are_recorded_with_both_lines(tmp_path: Path) -> None:
    document = load_yaml(write(tmp_path, "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"))

    assert [(dup.path, dup.line, dup.first_line) for dup in document.duplicate_keys] == [
        (("b", "c"), 4, 3),
        (("a",), 5, 1),
    ]
    assert document.data == {"a": 3, "b": {"c": 2}}  # PyYAML's own choice: the last one wins


def test_byte_order_mark_and_recursive_alias_are_tolerated(tmp_path: Path) -> None:
    document = load_yaml(write(tmp_path, b"\xef\xbb\xbfa: &x [1, *x]\n"))

    assert isinstance(document.data, dict)
    assert list(document.data) == ["a"]


def test_empty_and_comment_only_files_have_no_data(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "# nothing\n")).data is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (b"a: 1\nb: \xff\n", 2, "is not valid UTF-8 (byte 0xff); save the file with UTF-8 encoding"),
        (
            "a: 1\nb: \x07\n",
            2,
            "contains the control character U+0007, which YAML does not allow; remove it",
        ),
        (
            "a: !!python/object:os.system x\n",
            1,
            "invalid YAML: could not determine a constructor for the tag",
        ),
    ],
)
def test_unreadable_text_is_reported_with_its_line(tmp_path: Path, text: str | bytes, line: int, message: str) -> None:
    with pytest.raises(YamlSourceError) as caught:
        load_yaml(write(tmp_path, text))

    assert caught.value.line == line
    assert caught.value.message.startswith(message)


def test_format_key_path_uses_the_data_to_tell_indexes_from_keys() -> None:
    data = {"passthrough_env": ["A", "B"], "secrets_env": {1: "X"}}

    assert format_key_path(("passthrough_env", 1), data) == "passthrough_env[1]"
    assert format_key_path(("secrets_env", 1), data) == "secrets_env.1"
    assert format_key_path(("renovate", "hostRules", 0, "token")) == "renovate.hostRules[0].token"
