"""YAML files read with the line of every key and value, so each config problem can point at its line.

PyYAML's composer keeps a start mark on every node; we walk the node tree once to record lines (and to find
duplicate keys, which PyYAML silently resolves by keeping the last), then `yaml.SafeLoader` builds the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

KeyPath = tuple[object, ...]
"""Where a value sits in a document: mapping keys and list indexes, e.g. `("passthrough_env", 2)`."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Position:
    key_line: int
    value_line: int


@dataclass(frozen=True)
class DuplicateKey:
    path: KeyPath
    line: int
    first_line: int


@dataclass(frozen=True)
class YamlDocument:
    """One parsed file: its data and the 1-based line of every key path in it."""

    path: Path
    data: object  # None for a file with no content (empty, or comments only)
    root_line: int
    positions: Mapping[KeyPath, Position]
    duplicate_keys: tuple[DuplicateKey, ...]

    def line_of(self, path: KeyPath, *, key: bool = False) -> int:
        """The line of the value at `path` (or of its key); for a key the file lacks, its parent's line."""
        while path:
            if (position := self.positions.get(path)) is not None:
                return position.key_line if key else position.value_line
            # A missing key is reported where its parent mapping is introduced (`auth:`), not inside it.
            path, key = path[:-1], True
        return self.root_line


class YamlSourceError(Exception):
    """The file cannot be read as YAML; `line` is 1-based when known."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def load_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file; raises YamlSourceError for undecodable text or a YAML syntax error."""
    text = _decode(path.read_bytes())
    try:
        return _parse(path, text)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from None
    except yaml.reader.ReaderError as error:  # PyYAML rejects control characters before parsing
        line = text.count("\n", 0, error.position) + 1
        raise YamlSourceError(
            line,
            f"contains the control character U+{error.character:04X}, which YAML does not allow; remove it",
        ) from None
    except yaml.YAMLError as error:
        raise YamlSourceError(None, f"invalid YAML: {error}") from None


def _parse(path: Path, text: str) -> YamlDocument:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(path, None, 1, {}, ())
        # Record positions before constructing: construction rewrites `<<` merge nodes in place.
        recorder = _PositionRecorder(loader)
        recorder.record(node, ())
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return YamlDocument(path, data, node.start_mark.line + 1, recorder.positions, tuple(recorder.duplicates))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # tolerate the byte order mark some Windows editors write
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        raise YamlSourceError(
            line, f"is not valid UTF-8 (byte 0x{byte:02x}); save the file with UTF-8 encoding"
        ) from None


def _syntax_error(error: yaml.MarkedYAMLError) -> YamlSourceError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "cannot be parsed"
    if error.context and problem.startswith("but "):  # PyYAML splits "expected X, but found Y" in two
        message = f"invalid YAML: {error.context}, {problem}"
    elif error.context and error.context_mark is not None:
        message = f"invalid YAML: {problem} ({error.context} on line {error.context_mark.line + 1})"
    else:
        message = f"invalid YAML: {problem}"
    hint = next((hint for clue, hint in _HINTS if clue in problem), "check indentation and quoting")
    return YamlSourceError(mark.line + 1 if mark else None, f"{message}; {hint}")


_HINTS = (
    ("'\\t'", "YAML indents with spaces, not tabs"),
    ("another document", "a config file holds one document, so remove the extra '---'"),
)


class _PositionRecorder:
    """Walks a node tree depth first, recording where each key and value is and which keys repeat."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.positions: dict[KeyPath, Position] = {}
        self.duplicates: list[DuplicateKey] = []
        self._active: set[int] = set()  # nodes on the current path: an alias may point back at an ancestor

    def record(self, node: yaml.Node, path: KeyPath) -> None:
        if id(node) in self._active:
            return
        self._active.add(id(node))
        if isinstance(node, yaml.MappingNode):
            self._record_mapping(node, path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                line = item.start_mark.line + 1
                self.positions[(*path, index)] = Position(line, line)
                self.record(item, (*path, index))
        self._active.discard(id(node))

    def _record_mapping(self, node: yaml.MappingNode, path: KeyPath) -> None:
        first_lines: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue  # `<<: *defaults` merges are resolved by PyYAML; complex keys are rejected later
            key = self.loader.construct_object(key_node)
            key_line = key_node.start_mark.line + 1
            if key in first_lines:
                self.duplicates.append(DuplicateKey((*path, key), key_line, first_lines[key]))
            else:
                first_lines[key] = key_line
            self.positions[(*path, key)] = Position(key_line, value_node.start_mark.line + 1)
            self.record(value_node, (*path, key))


def format_key_path(path: KeyPath, data: object = None) -> str:
    """The dotted form people read: `renovate.log_level`, `passthrough_env[2]`.

    With the document's `data`, a number is written as a list index only where the data holds a list there
    (`secrets_env.1` is a mapping key); without it, every int is taken for an index.
    """
    text = ""
    current = data
    for part in path:
        is_index = isinstance(current, list) or (
            not isinstance(current, Mapping) and isinstance(part, int) and not isinstance(part, bool)
        )
        if is_index:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
        current = _child(current, part)
    return text


def _child(container: object, part: object) -> object:
    if isinstance(container, Mapping):
        return container.get(part)
    if isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container):
        return container[part]
    return None
