"""Secrets never live in config files: Renovate options name them as `{{ secrets.NAME }}` templates instead.

At run time the runner reads each secret from the environment variable `secrets_env` maps it to, and hands
them to Renovate as its `secrets` option, which substitutes the templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError, ValidatorFunctionWrapHandler
from pydantic_core import InitErrorDetails, PydanticCustomError

from runner.config.yaml_source import KeyPath
from runner.secrets import looks_like_credential

# Matched against the key lowercased without `_`/`-`, so `npmToken`, `client_secret` and `privateKeyOld` match
# while `privateKeyPath` (a path) and `githubTokenWarn` (a switch) do not.
_SECRET_KEY = re.compile(r"(token|password|passwd|secret|privatekey|privatekeyold|passphrase|apikey|accesskey)$")
# Renovate's own template syntax; `{{{ }}}` (unescaped) is accepted too.
SECRET_REFERENCE = re.compile(r"\{\{\{?\s*secrets\.([A-Za-z][A-Za-z0-9_]*)\s*\}?\}\}")
_RENOVATE_SECRETS = "secrets"  # Renovate's own option: a mapping of secret names to values
_ENCRYPTED = "encrypted"  # Renovate's encrypted values are ciphertext, safe to keep in a file
# `scheme://user:password@`: the password part, which may only be a template.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@")
_URL_CREDENTIALS_MESSAGE = (
    "holds a URL with a password in it; remove 'user:password@' from the URL and give the credentials in a "
    "hostRules entry instead (matchHost, username, password: '{{ secrets.NAME }}', with NAME mapped under secrets_env)"
)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(re.sub(r"[-_]", "", key).lower()))


def literal_secrets(options: Mapping[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Yield (path, message) for each non-empty string that holds a secret instead of a template."""
    yield from _literals(options, (), under_secret=False)


def _literals(value: object, path: KeyPath, *, under_secret: bool) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == _ENCRYPTED:
                continue
            secret = under_secret or (isinstance(key, str) and (key == _RENOVATE_SECRETS or is_secret_key(key)))
            yield from _literals(item, (*path, key), under_secret=secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _literals(item, (*path, index), under_secret=under_secret)
    elif under_secret and isinstance(value, str) and value.strip() and not SECRET_REFERENCE.search(value):
        yield path, _literal_message(path)
    elif isinstance(value, str) and (message := _credential_in_text(value, path)) is not None:
        yield path, message


def _credential_in_text(value: str, path: KeyPath) -> str | None:
    """Under a key that does not look secret, a value can still hold one: in a URL, or by its very shape."""
    if any(not SECRET_REFERENCE.search(match.group(1)) for match in _URL_PASSWORD.finditer(value)):
        return _URL_CREDENTIALS_MESSAGE
    if not looks_like_credential(value):
        return None
    name = _suggested_name(path)
    return (
        f"holds what looks like a token (a JWT or an Azure DevOps PAT) in a config file; put the value in an "
        f"environment variable, map it under secrets_env ({name}: <ENV_VAR holding the value>) and write "
        f"'{{{{ secrets.{name} }}}}' here instead"
    )


def _suggested_name(path: KeyPath) -> str:
    return secret_name_for(str(next(part for part in reversed(path) if isinstance(part, str))))


def _literal_message(path: KeyPath) -> str:
    if _RENOVATE_SECRETS in path[:-1]:
        name = str(path[-1])
        return (
            f"holds a secret value in a config file; remove it here and map it under secrets_env instead "
            f"({name}: <ENV_VAR holding the value>), the runner then passes it to Renovate as secrets.{name}"
        )
    name = _suggested_name(path)
    return (
        f"holds a secret value in a config file; put the value in an environment variable, map it under "
        f"secrets_env ({name}: <ENV_VAR holding the value>) and write '{{{{ secrets.{name} }}}}' here instead"
    )


def secret_name_for(key: str) -> str:
    """A secret name suggested for an option key: `npmToken` -> `NPM_TOKEN`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)
    return re.sub(r"[^A-Za-z0-9_]", "_", snake).upper()


def secret_references(options: Mapping[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Yield (path, secret name) for every `{{ secrets.NAME }}` template in the options."""
    yield from _references(options, ())


def _references(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _references(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, (*path, index))
    elif isinstance(value, str):
        for match in SECRET_REFERENCE.finditer(value):
            yield path, match.group(1)


def reject_literal_secrets(options: object, validate: ValidatorFunctionWrapHandler) -> dict[str, Any]:
    """A pydantic wrap validator: one error per literal secret, at the key that holds it.

    It runs around the type's own validation so that a literal secret is reported even when another
    option in the same mapping is invalid too.
    """
    secrets = list(literal_secrets(options)) if isinstance(options, Mapping) else []
    errors = [
        InitErrorDetails(
            type=PydanticCustomError("literal_secret", message),
            loc=tuple(part if isinstance(part, int) else str(part) for part in path),
            input="**redacted**",  # the value is a secret: never echo it
        )
        for path, message in secrets
    ]
    try:
        validated: dict[str, Any] = validate(options)
    except ValidationError as error:
        errors = [*_reraisable(error), *errors]
    if errors:
        raise ValidationError.from_exception_data("Renovate options", errors)
    return validated


def _reraisable(error: ValidationError) -> list[InitErrorDetails]:
    return [
        InitErrorDetails(
            type=PydanticCustomError(detail["type"], detail["msg"]), loc=detail["loc"], input=detail["input"]
        )
        for detail in error.errors()
    ]
