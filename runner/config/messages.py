"""pydantic's validation errors, told in our own sentences, at the file, line and key they concern."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from runner.config.problems import ConfigProblem
from runner.config.wording import describe
from runner.config.yaml_source import KeyPath, YamlDocument, format_key_path

_KEY_MARKER = "[key]"  # pydantic's loc suffix for an error in a mapping's key rather than its value


def problems_from(error: ValidationError, model: type[BaseModel], document: YamlDocument) -> Iterator[ConfigProblem]:
    """One problem per pydantic error, located in `document`."""
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        about_key = bool(loc) and loc[-1] == _KEY_MARKER
        path = _document_path(loc[:-1] if about_key else loc, document.data)
        unknown_key = detail["type"] == "extra_forbidden"
        yield ConfigProblem(
            file=document.path,
            line=document.line_of(path, key=about_key or unknown_key),
            key=format_key_path(path, document.data),
            message=_message(detail, path, model, about_key=about_key),
        )


def _document_path(loc: tuple[int | str, ...], data: object) -> KeyPath:
    """pydantic's loc as a path through the YAML data, without the type tags (`dict`, `list`) it adds."""
    path: list[object] = []
    current: object = data
    for part in loc:
        found, child = _step(current, part)
        if not found and (
            (part == "dict" and isinstance(current, Mapping)) or (part == "list" and isinstance(current, list))
        ):
            continue  # the type pydantic tried for a JSON value, not a key in the file
        current = child  # None when the file lacks the key (a missing key)
        path.append(part)
    return tuple(path)


def _step(current: object, part: int | str) -> tuple[bool, object]:
    """Whether `current` has the key or index `part`, and the value there."""
    if isinstance(current, Mapping) and part in current:
        return True, current[part]
    if isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
        return True, current[part]
    return False, None


def value_message(detail: ErrorDetails) -> str:
    """What is wrong with a value, in the words a key of a configuration file gets for it; the command line's flags
    that override a key say it in the same words."""
    return _message(detail, (), BaseModel, about_key=False)


def _message(detail: ErrorDetails, path: KeyPath, model: type[BaseModel], *, about_key: bool) -> str:
    kind, given, context = detail["type"], detail["input"], detail.get("ctx") or {}
    if about_key:
        return _key_message(kind, given, detail["msg"])
    if kind == "extra_forbidden":
        return _unknown_key_message(path, model)
    if kind in ("literal_error", "enum"):
        return _choice_message(given, str(context.get("expected", "")))
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, not {describe(given)}"
    if kind in _BOUND_WORDS:
        bound = next(iter(context.values()), None)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # `cpus: 0` should read "greater than 0", not "0.0"
        return f"must be {_BOUND_WORDS[kind]} {bound}, not {describe(given)}"
    return _FIXED_MESSAGES.get(kind) or _own_sentence(detail["msg"])


_FIXED_MESSAGES = {
    "missing": "missing; add this key",
    "invalid-json-value": "must be plain YAML data (text, number, true/false, null, list or mapping); "
    "quote dates and times",
}

_TYPE_WORDS = {
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "text",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
    "path_type": "a path",
}

_BOUND_WORDS = {
    "greater_than_equal": "at least",
    "greater_than": "greater than",
    "less_than_equal": "at most",
    "less_than": "less than",
}


def _key_message(kind: str, given: object, pydantic_message: str) -> str:
    if kind == "string_type":
        return f"keys here must be text, not {describe(given)}; put the key in quotes"
    return f"key {_own_sentence(pydantic_message)}"


def _unknown_key_message(path: KeyPath, model: type[BaseModel]) -> str:
    key = str(path[-1])
    allowed = _allowed_keys(model, path[:-1])
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    return f"unknown key '{key}'; the keys allowed here are: {', '.join(allowed)}"


def _allowed_keys(model: type[BaseModel], parent: KeyPath) -> list[str]:
    """The YAML keys of the model found at `parent` (following nested model fields from `model`)."""
    current = model
    for part in parent:
        fields = {_yaml_key(name, field): field for name, field in current.model_fields.items()}
        nested = _model_in(fields[str(part)].annotation) if str(part) in fields else None
        if nested is None:
            return []
        current = nested
    return [_yaml_key(name, field) for name, field in current.model_fields.items()]


def _yaml_key(name: str, field: FieldInfo) -> str:
    return field.validation_alias if isinstance(field.validation_alias, str) else field.alias or name


def _model_in(annotation: Any) -> type[BaseModel] | None:
    candidates = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _choice_message(given: object, expected: str) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    message = f"must be one of {', '.join(choices)}, not {describe(given)}"
    close = difflib.get_close_matches(str(given), choices, n=1) if isinstance(given, str) else []
    return f"{message}; did you mean '{close[0]}'?" if close else message


def _own_sentence(pydantic_message: str) -> str:
    """Our validators' ValueError text as it is; pydantic's own wording as a phrase (`Input should...`)."""
    if pydantic_message.startswith("Value error, "):
        return pydantic_message.removeprefix("Value error, ")
    return pydantic_message[:1].lower() + pydantic_message[1:]
