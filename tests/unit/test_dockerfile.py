"""The Dockerfile builds the usual way: with the legacy builder too, from a base pinned by digest, with OCI labels."""

from __future__ import annotations

import re
import tomllib

from .pipeline_files import REPO_ROOT

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = [line for line in DOCKERFILE.splitlines() if line and not line.startswith(("#", " "))]


def test_the_legacy_builder_can_build_it() -> None:
    # Docker 20.10 without buildx has neither RUN --mount nor heredocs, nor COPY --from an image by name here.
    assert not re.search(r"^RUN\s+--mount", DOCKERFILE, re.MULTILINE)
    assert "<<" not in DOCKERFILE
    copies_from = re.findall(r"^COPY --from=(\S+)", DOCKERFILE, re.MULTILINE)
    stages = re.findall(r"^FROM \S+ AS (\S+)$", DOCKERFILE, re.MULTILINE)
    assert set(copies_from) <= set(stages), copies_from


def test_the_default_base_is_pinned_by_digest() -> None:
    (default,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert re.fullmatch(r"python:3\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", default), default
    assert "ARG BUILDER_IMAGE=${PYTHON_IMAGE}" in INSTRUCTIONS
    assert [line for line in INSTRUCTIONS if line.startswith("FROM")] == [
        "FROM ${BUILDER_IMAGE} AS builder",
        "FROM ${PYTHON_IMAGE}",
    ]


def test_the_image_carries_the_oci_labels_with_version_and_revision_from_build_args() -> None:
    runtime = DOCKERFILE[DOCKERFILE.index("FROM ${PYTHON_IMAGE}") :]
    labels = dict(re.findall(r"(org\.opencontainers\.image\.\w+)=\"([^\"]*)\"", runtime))
    assert labels.keys() >= {
        f"org.opencontainers.image.{key}" for key in ("source", "version", "revision", "licenses", "title")
    }
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    assert labels["org.opencontainers.image.revision"] == "${REVISION}"
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert labels["org.opencontainers.image.licenses"] == pyproject["project"]["license"]
    for argument in ("VERSION", "REVISION", "SOURCE_URL"):
        assert f"ARG {argument}=" in runtime.splitlines()
