"""Renovate's own validation of the Renovate options, with the real `renovate-config-validator` of the pinned image:
every case under corpus/ is a configuration directory with one kind of mistake in `renovate.global` or a
repository's `renovate:`, and `expected.txt` lists the exact problems the runner reports for it, one
`error|warning: file:line: key: Renovate's message` per line, with the file relative to the case.

Nothing is doubled: the validator runs in a container of the image the sweeps run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import docker
import pytest

from runner.config import ConfigProblem, load_config
from runner.renovate.validator import validate_renovate_options

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(path for path in CORPUS.iterdir() if path.is_dir())


def reported(case: Path, docker_client: docker.DockerClient, image: str) -> list[str]:
    result = validate_renovate_options(load_config(case), docker_client, image, name=None)

    def shown(level: str, problem: ConfigProblem) -> str:
        relative = problem.file.resolve().relative_to(case.resolve())
        return f"{level}: {dataclasses.replace(problem, file=relative)}"

    return [shown("error", problem) for problem in result.errors] + [
        shown("warning", problem) for problem in result.warnings
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_renovates_problem_is_reported_at_the_runners_file_line_and_key(
    case: Path, docker_client: docker.DockerClient, renovate_image: str
) -> None:
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert reported(case, docker_client, renovate_image) == expected


def test_the_corpus_is_large_enough_and_each_case_has_a_problem() -> None:
    assert len(CASES) >= 10
    assert all((case / "expected.txt").read_text(encoding="utf-8").strip() for case in CASES)
