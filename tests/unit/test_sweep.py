"""When the engine goes away for good mid-sweep: the repository that hit it and every one after it fail with reason
`engine`, none is attempted once the engine is known gone, and the command exits 4.

The Docker SDK is faked (spec'd mocks): a real engine that dies on cue is not something a unit test can hold.
"""

from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import pytest
import requests

from runner.capacity import ConcurrencyDecision
from runner.commands.run import exit_code
from runner.config import SweepConfig
from runner.errors import EngineError, ExitCode
from runner.repo_run import SweepState
from runner.report.model import Reason, Status
from runner.sweep import run_sweep
from tests.unit.conftest import ConfigFactory, faked_engine_state


def dead_engine_sweep(make_config: ConfigFactory, tmp_path: Path) -> tuple[SweepConfig, SweepState, MagicMock]:
    config = make_config(
        "organization: https://dev.azure.com/contoso/\nconcurrency: 1\n",
        {f"app{n}.yaml": f"local: ../../app{n}\n" for n in range(3)},
        local_dirs=tuple(f"app{n}" for n in range(3)),
    )
    state, client = faked_engine_state(config.runner, tmp_path)
    client.containers.create.side_effect = requests.exceptions.ConnectionError("Connection aborted.")
    client.ping.side_effect = requests.exceptions.ConnectionError("Connection refused")
    return config, state, client


def test_the_rest_of_the_sweep_fails_with_reason_engine_and_the_exit_code_is_4(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    config, state, client = dead_engine_sweep(make_config, tmp_path)

    result = run_sweep(config.repos, state, concurrency=ConcurrencyDecision(value=1, basis="configured"))

    statuses = [(outcome.repository, outcome.status, outcome.reason) for outcome in result.report.repositories]
    assert statuses == [
        ("local/app0", Status.FAILED, Reason.ENGINE),
        ("local/app1", Status.FAILED, Reason.ENGINE),
        ("local/app2", Status.FAILED, Reason.ENGINE),
    ]
    assert "could not create container" in (result.report.repositories[0].detail or "")
    assert result.report.repositories[1].detail == "the container engine went away during the sweep"
    assert client.containers.create.call_count == 1  # nothing more was attempted once the engine was gone
    # summary.md links pull requests to the organization's pages; a merge job has no configuration to read it from.
    assert result.report.organization == config.runner.organization == "https://dev.azure.com/contoso/"
    assert result.engine_gone
    with pytest.raises(EngineError) as error_info:
        exit_code(result)
    assert error_info.value.exit_code == ExitCode.ENGINE
    assert "went away during the sweep" in str(error_info.value)
