"""YAML files read with the line of every key and value, so each config problem can point at its line.

PyYAML's composer keeps a start mark on every node; we walk the node tree once to record lines (and to find
duplicate keys, which PyYAML silently resolves by keeping the last), then `yaml.SafeLoader` builds the data.
The limits of `runner.config.limits` are checked on the way: the size before reading, alias expansion and nesting
depth while composing, so a hostile file is refused before any value is built from it.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from runner.config.limits import MAX_ALIASED_VALUES, MAX_FILE_BYTES, MAX_NESTING_DEPTH, format_bytes

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
    """The file cannot be read as YAML; `line` is 1-based when known, `key` the dotted key path when known."""

    def __init__(self, line: int | None, message: str, key: str = "") -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.key = key


def load_yaml(path: Path) -> YamlDocument:
    """Parse one YAML file; raises YamlSourceError for a file over a limit, undecodable text or a YAML syntax error."""
    text = _decode(_read_bounded(path))
    try:
        return _parse(path, text)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from None
    except yaml.reader.ReaderError as error:  # PyYAML rejects control characters before parsing
        line = text.count("\n", 0, error.position) + 1
        # UTF-16 without a byte order mark decodes as UTF-8 with a NUL byte beside every ASCII character.
        hint = "it looks like UTF-16 text, so save it as UTF-8" if error.character == 0 else "remove it"
        raise YamlSourceError(
            line,
            f"contains the control character U+{error.character:04X}, which YAML does not allow; {hint}",
        ) from None
    except yaml.YAMLError as error:
        raise YamlSourceError(None, f"invalid YAML: {error}") from None


def _read_bounded(path: Path) -> bytes:
    """The file's bytes, refused by its size before reading (and read no further than the limit, should it grow)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device (a link to /dev/zero) never ends, or blocks the read
        raise YamlSourceError(None, "is not a regular file; a configuration file must be an ordinary file")
    with path.open("rb") as file:
        raw = file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        size = format_bytes(max(info.st_size, len(raw)))
        raise YamlSourceError(
            None,
            f"is {size}, over the limit of {format_bytes(MAX_FILE_BYTES)} for a configuration file, so it was not "
            "read; a configuration this large is a mistake: move shared Renovate options into a preset the file "
            "extends",
        )
    return raw


def _parse(path: Path, text: str) -> YamlDocument:
    loader = _LimitedLoader(text)
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


_UTF16_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _decode(raw: bytes) -> str:
    encoding = next((name for bom, name in _UTF16_BOMS if raw.startswith(bom)), None)
    if encoding is not None:
        raise YamlSourceError(1, f"is {encoding} text (it starts with a {encoding} byte order mark); save it as UTF-8")
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


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses a document over MAX_ALIASED_VALUES or MAX_NESTING_DEPTH as it composes it.

    PyYAML composes a node per value and resolves an alias to the node it names, so an alias costs nothing here;
    the cost comes later, from everything that walks the values. Each node's extent (values below it, aliases
    expanded, and its height) is kept for anchored nodes, so an alias adds what writing it out would add.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._path: list[object] = []  # where the node being composed sits: keys and indexes
        self._aliased = 0
        self._values = 0
        self._deepest = 0
        self._extents: dict[int, tuple[int, int]] = {}  # id(anchored node) -> (values, height)

    # `index` is typed as the stubs have it; PyYAML also passes a key node or None (see _path_part).
    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if parent is not None:
            self._path.append(_path_part(index))
        try:
            if self.check_event(yaml.AliasEvent):
                return self._compose_alias(parent, index)
            return self._compose_value(parent, index)
        finally:
            if parent is not None:
                self._path.pop()

    def _compose_alias(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.AliasEvent = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
        extent = self._extents.get(id(self.anchors.get(event.anchor)))
        if extent is not None:  # an undefined alias is PyYAML's own error
            values, height = extent
            self._aliased += values
            self._values += values
            if self._aliased > MAX_ALIASED_VALUES:
                self._refuse(
                    event,
                    f"aliases expand the file to more than {MAX_ALIASED_VALUES} values (the limit), which is how a "
                    "YAML alias bomb works, so it was not loaded; write the values out, or alias fewer of them",
                )
            self._reach(len(self._path) + height, event)
        return super().compose_node(parent, index)

    def _compose_value(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
        depth = len(self._path)
        self._reach(depth, event)
        values_before, deepest_before = self._values, self._deepest
        self._values += 1
        self._deepest = depth
        node = super().compose_node(parent, index)
        if getattr(event, "anchor", None) is not None:
            self._extents[id(node)] = (self._values - values_before, self._deepest - depth)
        self._deepest = max(self._deepest, deepest_before)
        return node

    def _reach(self, depth: int, event: yaml.Event) -> None:
        self._deepest = max(self._deepest, depth)
        if depth > MAX_NESTING_DEPTH:
            self._refuse(
                event,
                f"nests mappings and lists more than {MAX_NESTING_DEPTH} levels deep (the limit), so it was not "
                "loaded; a configuration needs a few levels, so flatten it",
            )

    def _refuse(self, event: yaml.Event, message: str) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        path = tuple(self._path)
        # Where the nesting starts is what a person needs; sixty more `[0]` would hide it.
        key = (
            format_key_path(path) if len(path) <= _KEY_PARTS_SHOWN else f"{format_key_path(path[:_KEY_PARTS_SHOWN])}..."
        )
        raise YamlSourceError(line, message, key)


_KEY_PARTS_SHOWN = 8


def _path_part(index: object) -> object:
    """PyYAML passes a sequence item's index, a mapping value's key node, or None for a key."""
    if isinstance(index, int):
        return index
    if isinstance(index, yaml.ScalarNode):
        return index.value
    return "?"  # a key, or a complex key's value: rare, and refused later by the models


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
