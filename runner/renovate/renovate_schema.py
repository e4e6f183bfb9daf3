"""Renovate's own JSON Schema of its options, read from the Renovate image the runner runs.

`renovate-schema.json` ships in Renovate's npm package beside `dist/`, so in any image it sits one directory above
where the `renovate-config-validator` command links to. Reading it from the image (rather than shipping a copy)
gives the schema of exactly the pinned version, in a plain clone and in the installed wheel alike, and never goes
stale when `renovate.image` moves on; it needs the container engine, as the sweep does.
"""

from __future__ import annotations

import json
from typing import Any

import docker
import docker.errors

from runner.errors import EngineError
from runner.renovate.container import LABEL_PREFIX
from runner.renovate.engine import ensure_image

# The package directory from the validator's link: .../renovate/dist/config-validator.js -> .../renovate.
_PRINT_SCHEMA = (
    'validator="$(readlink -f "$(command -v renovate-config-validator)")" && '
    'cat "$(dirname "$(dirname "$validator")")/renovate-schema.json"'
)
RENOVATE_SCHEMA_ID = "urn:renovate-runner:renovate-schema"


def renovate_schema(client: docker.DockerClient, image: str) -> dict[str, Any]:
    """The image's `renovate-schema.json`, as an embeddable schema resource (its own `$id`, no `$schema`)."""
    ensure_image(client, image)
    try:
        output = client.containers.run(
            image,
            entrypoint=["/bin/sh", "-c"],
            command=[_PRINT_SCHEMA],
            network_mode="none",
            labels={f"{LABEL_PREFIX}.purpose": "schema"},
            remove=True,
            stdout=True,
            stderr=False,
        )
    except docker.errors.ContainerError as error:
        raise EngineError(
            f"{image} has no renovate-config-validator next to a renovate-schema.json ({error.exit_status}); "
            "use a Renovate image (renovate.image or --image)"
        ) from None
    try:
        schema: dict[str, Any] = json.loads(output)
    except ValueError:
        raise EngineError(f"the renovate-schema.json in {image} is not JSON; use an official Renovate image") from None
    version = schema.get("x-renovate-version", "unknown")
    # A resource of its own: Renovate's `#/definitions/...` references resolve inside it, and a URN is never fetched.
    schema.pop("$schema", None)
    # Renovate's schema is for repository config files, and its top-level `not` forbids the self-hosted-only
    # options (onboarding, allowedCommands, ...). The runner hands both renovate.global and a repository's options
    # to Renovate as self-hosted configuration (RENOVATE_CONFIG), where those are allowed.
    schema.pop("not", None)
    return {**schema, "$id": f"{RENOVATE_SCHEMA_ID}:{version}"}
