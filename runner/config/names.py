"""Names the configuration refers to (environment variables, Docker objects, repositories, secrets, images).

Each is a `str` with a rule; the rule's regular expression also goes into the JSON Schema so editors check it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Docker's own rule for volume and container names (RestrictedNamePattern): at least two characters.
DOCKER_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$"
# Renovate only substitutes `{{ secrets.NAME }}` for names of this shape.
SECRET_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"  # noqa: S105 - a pattern, not a secret
REPOSITORY_PATTERN = r"^[^/\s](?:[^/]*[^/\s])?/[^/\s](?:[^/]*[^/\s])?$"
IMAGE_PATTERN = r"^[^\s]+$"

# Variables the runner sets itself, and how to set their value instead.
RUNNER_OWNED_VARIABLES = {
    "RENOVATE_TOKEN": "the runner sets it itself with a fresh token for each repository",
    # Renovate prefers GITHUB_COM_TOKEN over RENOVATE_GITHUB_COM_TOKEN: passed through, it would override.
    "RENOVATE_GITHUB_COM_TOKEN": "the runner sets it from github_token_env; name your variable there instead",
    "GITHUB_COM_TOKEN": "the runner sets RENOVATE_GITHUB_COM_TOKEN from github_token_env; name it there instead",
}
# Secrets the runner itself hands to Renovate: `{{ secrets.AZURE_DEVOPS_TOKEN }}` is the repository's own token,
# for host rules of Azure DevOps services the runner does not cover itself.
BUILTIN_SECRETS = frozenset({"AZURE_DEVOPS_TOKEN"})


def _matching(pattern: str, problem: Callable[[str], str]) -> Callable[[str], str]:
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(problem(value))
        return value

    return check


def _schema(pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern})


def _not_runner_owned(name: str) -> str:
    if name in RUNNER_OWNED_VARIABLES:
        raise ValueError(f"{name} cannot be passed through: {RUNNER_OWNED_VARIABLES[name]}; remove it from the list")
    return name


EnvVarName = Annotated[
    str,
    AfterValidator(
        _matching(
            ENV_VAR_PATTERN,
            lambda value: (
                f"{value!r} is not an environment variable name; use letters, digits and _, not starting with a digit"
            ),
        )
    ),
    _schema(ENV_VAR_PATTERN),
]


def _not_builtin_secret(name: str) -> str:
    if name in BUILTIN_SECRETS:
        raise ValueError(
            f"{name} is the runner's own secret (each repository's Entra ID token); use it in Renovate options "
            "as {{ secrets." + name + " }} without mapping it, and remove it here"
        )
    return name


PassthroughEnvName = Annotated[EnvVarName, AfterValidator(_not_runner_owned)]

DockerName = Annotated[
    str,
    AfterValidator(
        _matching(
            DOCKER_NAME_PATTERN,
            lambda value: (
                f"{value!r} is not a valid Docker name; use at least two characters from letters, "
                "digits, '_', '.' and '-', starting with a letter or digit"
            ),
        )
    ),
    _schema(DOCKER_NAME_PATTERN),
]

SecretName = Annotated[
    str,
    AfterValidator(
        _matching(
            SECRET_NAME_PATTERN,
            lambda value: (
                f"{value!r} is not a usable secret name; Renovate only accepts letters, digits and _, "
                "starting with a letter"
            ),
        )
    ),
    AfterValidator(_not_builtin_secret),
    _schema(SECRET_NAME_PATTERN),
]


RepositoryName = Annotated[
    str,
    AfterValidator(
        _matching(
            REPOSITORY_PATTERN,
            lambda value: (
                f"{value!r} is not an Azure DevOps repository; write it as 'Project/Repository' "
                "(exactly one '/', with the project before it and the repository after it)"
            ),
        )
    ),
    _schema(REPOSITORY_PATTERN),
]

ImageReference = Annotated[
    str,
    AfterValidator(
        _matching(
            IMAGE_PATTERN,
            lambda value: (
                f"{value!r} is not a container image reference; write it as "
                "registry/name:tag or registry/name@sha256:digest, without spaces"
            ),
        )
    ),
    _schema(IMAGE_PATTERN),
]
