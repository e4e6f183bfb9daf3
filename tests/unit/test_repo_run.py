"""Retries of one repository's run: a transient failure (an engine hiccup) runs it again, up to `retries`; a
permanent one does not, nor anything once the sweep is interrupted. Each earlier run is kept in the outcome.

The Docker SDK is faked (spec'd mocks): a real engine that fails one call on cue is not something a unit test can
hold. The log sink, the outcome and the retry rule are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import MagicMock

import docker
import docker.errors
import pytest
import requests
from docker.models.containers import Container

from runner.config import RepoConfig
from runner.repo_run import SweepState, run_repository
from runner.report.model import Reason, Status
from tests.unit.conftest import ConfigFactory, faked_engine_state

FINISHED = b'{"level":30,"msg":"Repository started","renovateVersion":"44.121.2"}\n'
FINISHED += b'{"level":30,"msg":"Repository finished","result":"done"}\n'


def hiccup() -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = 500
    return docker.errors.APIError("500 Server Error", response=response, explanation="containerd: ttrpc closed")


def finishing_container(output: bytes = FINISHED, status_code: int = 0) -> MagicMock:
    container = MagicMock(spec=Container)
    container.id = "c0ffee"
    container.status = "exited"

    def attach(**_kwargs: object) -> Iterator[tuple[bytes | None, bytes | None]]:
        return iter([(output, None)])

    container.attach.side_effect = attach
    container.wait.return_value = {"StatusCode": status_code}
    container.attrs = {"State": {"OOMKilled": False}}
    return container


def state_for(make_config: ConfigFactory, tmp_path: Path, *, retries: int) -> tuple[SweepState, MagicMock, RepoConfig]:
    config = make_config(
        f"organization: https://dev.azure.com/contoso/\nretries: {retries}\n",
        {"app.yaml": "local: ../../app\n"},
        local_dirs=("app",),
    )
    state, client = faked_engine_state(config.runner, tmp_path)
    return state, client, config.repos[0]


def test_an_engine_hiccup_runs_the_repository_again_and_keeps_the_first_run(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    state, client, repo = state_for(make_config, tmp_path, retries=1)
    client.containers.create.side_effect = [hiccup(), finishing_container()]

    outcome = run_repository(repo, 0, state)

    assert (outcome.status, outcome.reason) == (Status.SUCCEEDED, None)
    assert client.containers.create.call_count == 2
    (first,) = outcome.attempts
    assert (first.status, first.reason) == (Status.FAILED, Reason.ENGINE)
    assert "ttrpc closed" in (first.detail or "")
    assert first.log == "logs/attempt-1/local%2Fapp.ndjson"
    assert (tmp_path / "report" / first.log).is_file()
    assert outcome.log == "logs/local%2Fapp.ndjson"
    assert outcome.notes[0] == "ran 2 times: the earlier run(s) failed in a passing way (engine)"


def test_retries_are_bounded_by_the_configuration(make_config: ConfigFactory, tmp_path: Path) -> None:
    state, client, repo = state_for(make_config, tmp_path, retries=2)
    client.containers.create.side_effect = [hiccup(), hiccup(), hiccup(), finishing_container()]

    outcome = run_repository(repo, 0, state)

    assert (outcome.status, outcome.reason) == (Status.FAILED, Reason.ENGINE)
    assert client.containers.create.call_count == 3
    assert [attempt.reason for attempt in outcome.attempts] == [Reason.ENGINE, Reason.ENGINE]


@pytest.mark.parametrize("retries", [0, 1])
def test_a_permanent_failure_or_retries_0_runs_once(make_config: ConfigFactory, tmp_path: Path, retries: int) -> None:
    state, client, repo = state_for(make_config, tmp_path, retries=retries)
    failing = finishing_container(b'{"level":50,"msg":"lookup failed"}\n', status_code=1)
    client.containers.create.side_effect = [hiccup(), failing] if retries else [hiccup()]

    outcome = run_repository(repo, 0, state)

    expected = (Status.FAILED, Reason.RENOVATE) if retries else (Status.FAILED, Reason.ENGINE)
    assert (outcome.status, outcome.reason) == expected
    assert client.containers.create.call_count == 1 + retries  # the Renovate error itself is not retried


def test_an_interrupted_sweep_does_not_retry(make_config: ConfigFactory, tmp_path: Path) -> None:
    state, client, repo = state_for(make_config, tmp_path, retries=1)

    def fail_and_interrupt(*_args: object, **_kwargs: object) -> None:
        state.cancel.set()
        raise hiccup()

    client.containers.create.side_effect = fail_and_interrupt

    outcome = run_repository(repo, 0, state)

    assert outcome.reason is Reason.ENGINE
    assert outcome.attempts == ()
    assert client.containers.create.call_count == 1
