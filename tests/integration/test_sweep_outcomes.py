"""Whole sweeps through the CLI against the real engine, with the scripted Renovate (tests/integration/scripted):
every way a repository can end, side by side, and the concurrency limit."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

import docker
import pytest

from tests.integration.scripted.workspace import Workspace, containers_of

pytestmark = pytest.mark.docker

RENOVATE_REPORT = {
    "problems": [],
    "repositories": {
        "local": {
            "problems": [],
            "branches": [],
            "packageFiles": {
                "npm": [
                    {
                        "packageFile": "package.json",
                        "deps": [
                            {
                                "depName": "left-pad",
                                "currentValue": "^1.1.0",
                                "currentVersion": "1.1.3",
                                "updates": [{"updateType": "minor", "newVersion": "1.3.0", "newValue": "^1.3.0"}],
                            }
                        ],
                    }
                ]
            },
        }
    },
}

SUCCEEDS = f"""
repository_started
write_report {shlex.quote(json.dumps(RENOVATE_REPORT))}
repository_finished done
"""
FAILS = """
repository_started
log 50 "lookup failed" '"err":{"message":"registry answered 500 for left-pad"}'
exit 1
"""
EXCEEDS_MEMORY = """
repository_started
exhaust_memory
"""
HANGS_IGNORING_SIGTERM = """
repository_started
ignore_sigterm
sleep 60
"""
IS_KILLED = """
repository_started
echo "FATAL ERROR: scripted crash, stack follows" >&2
die_by_signal KILL
"""


def test_mixed_sweep_reports_each_ending_and_isolates_failures(
    workspace: Workspace, run_id: str, docker_client: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace.runner["limits"] = {"memory": "64m"}
    ok = workspace.local_repo("succeeds", SUCCEEDS)
    failing = workspace.local_repo("fails", FAILS)
    oom = workspace.local_repo("oom", EXCEEDS_MEMORY)
    hanging = workspace.local_repo("hangs", HANGS_IGNORING_SIGTERM, timeout="3s")
    killed = workspace.local_repo("killed", IS_KILLED)
    disabled = workspace.local_repo("disabled", "exit 99", enabled=False)

    output = workspace.sweep(run_id)

    assert output.exit_code == 1
    assert output.report["run_id"] == run_id
    assert output.report["interrupted"] is False
    assert {name: output.status(name) for name in output.outcomes} == {
        ok: ("succeeded", None),
        failing: ("failed", "renovate"),
        oom: ("crashed", "out_of_memory"),
        hanging: ("timed_out", "timeout"),
        killed: ("crashed", "no_result"),
        disabled: ("skipped", "disabled"),
    }

    succeeded = output.outcomes[ok]
    assert succeeded["renovate_version"] == "44.121.2"
    assert succeeded["renovate_result"] == "done"
    assert succeeded["exit_code"] == 0
    assert [(u["dependency"], u["current_version"], u["new_version"]) for u in succeeded["updates"]] == [
        ("left-pad", "1.1.3", "1.3.0")
    ]

    failed = output.outcomes[failing]
    assert failed["exit_code"] == 1
    assert failed["problems"] == [{"level": "error", "message": "lookup failed: registry answered 500 for left-pad"}]
    assert "registry answered 500 for left-pad" in failed["detail"]

    assert output.outcomes[oom]["exit_code"] == 137
    assert "memory limit" in output.outcomes[oom]["detail"]
    # It ignored the polite stop, so only the kill after the grace period ended it.
    assert output.outcomes[hanging]["exit_code"] == 137
    assert "raise `timeout`" in output.outcomes[hanging]["detail"]
    assert "SIGKILL" in output.outcomes[killed]["detail"]
    assert output.outcomes[disabled]["log"] is None  # never started

    for name in (ok, failing, oom, hanging, killed):
        started = output.logged(name, "Repository started")
        assert [record["renovateVersion"] for record in started] == ["44.121.2"], name
    assert [record["err"]["message"] for record in output.logged(failing, "lookup failed")] == [
        "registry answered 500 for left-pad"
    ]
    # Renovate's error, re-logged in the runner's own log, names its repository.
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    relogged = [(event.get("repo"), event["message"]) for event in events if event["event"] == "renovate_problem"]
    assert relogged == [(failing, "lookup failed: registry answered 500 for left-pad")]
    assert {"runner": "output", "stream": "stderr", "msg": "FATAL ERROR: scripted crash, stack follows"} in (
        output.log_records(killed)
    )

    assert {name: output.junit_verdict(name) for name in output.outcomes} == {
        ok: "passed",
        failing: "failure:failed",
        oom: "failure:crashed",
        hanging: "failure:timed_out",
        killed: "failure:crashed",
        disabled: "skipped",
    }
    expected_labels = {
        ok: "succeeded",
        failing: "failed",
        oom: "crashed",
        hanging: "timed out",
        killed: "crashed",
        disabled: "skipped",
    }
    for name, label in expected_labels.items():
        assert label in output.summary_row(name)
    assert not containers_of(docker_client, run_id)


def stamped(seconds: float) -> str:
    return f"""
repository_started
stamp start
sleep {seconds}
stamp end
repository_finished done
"""


def most_overlapping(intervals: Sequence[tuple[float, float]]) -> int:
    """The largest number of intervals that share a moment."""
    return max(sum(start <= moment < end for start, end in intervals) for moment, _ in intervals)


def test_concurrency_flag_bounds_the_repositories_running_at_once(
    workspace: Workspace, run_id: str, docker_client: docker.DockerClient
) -> None:
    workspace.runner["concurrency"] = 4  # the flag below overrides it
    names = [workspace.local_repo(f"repo-{index}", stamped(1.5)) for index in range(4)]

    output = workspace.sweep(run_id, "--concurrency", "2")

    assert output.exit_code == 0
    assert all(output.status(name) == ("succeeded", None) for name in names)
    intervals = []
    for name in names:
        stamps = {record["stamp"]: record["at"] for record in output.logged(name, "scripted stamp")}
        intervals.append((stamps["start"], stamps["end"]))
    # The runs' own clocks (one kernel, so comparable) show two at a time: bounded, and actually concurrent.
    assert most_overlapping(intervals) == 2
    assert not containers_of(docker_client, run_id)


FILLS_NODES_HEAP = """
repository_started
exhaust_heap 32
"""


def test_node_stopped_by_its_own_heap_limit_is_out_of_memory(
    workspace: Workspace, run_id: str, docker_client: docker.DockerClient
) -> None:
    # Far below the container's limit, so it is Node, not the kernel, that ends the run.
    workspace.runner["limits"] = {"memory": "512m"}
    heap = workspace.local_repo("heap", FILLS_NODES_HEAP)

    output = workspace.sweep(run_id)

    assert output.exit_code == 1
    assert output.status(heap) == ("crashed", "out_of_memory")
    outcome = output.outcomes[heap]
    assert outcome["exit_code"] == 134  # SIGABRT: V8 aborts the process
    assert "JavaScript heap reached its limit" in outcome["detail"]
    stderr = [record["msg"] for record in output.log_records(heap) if record.get("stream") == "stderr"]
    assert any("JavaScript heap out of memory" in line for line in stderr)
    assert output.junit_verdict(heap) == "failure:crashed"
    assert not containers_of(docker_client, run_id)


FIFTY_MB = 50 * 1024 * 1024
NOISY_OUTPUT = f"""
repository_started
echo "npm notice: not a JSON record"
printf 'binary \\000\\001\\377\\376 bytes\\n'
printf '{{"level": 50, "msg": "cut off\\n'
head -c {FIFTY_MB} /dev/zero | tr '\\0' x
echo
log 40 "after the long line"
repository_finished done
"""


def test_output_that_is_no_json_binary_or_one_50_mb_line_is_logged_and_the_run_still_reported(
    workspace: Workspace, run_id: str, docker_client: docker.DockerClient
) -> None:
    noisy = workspace.local_repo("noisy", NOISY_OUTPUT)

    output = workspace.sweep(run_id)

    assert output.exit_code == 0
    assert output.status(noisy) == ("succeeded", None)
    outcome = output.outcomes[noisy]
    assert outcome["notes"][0] == "1 output line(s) over the length cap were logged but not parsed"
    # Parsing goes on after the long line: Renovate's warning and its verdict are both seen.
    assert outcome["problems"] == [{"level": "warning", "message": "after the long line"}]
    assert outcome["renovate_result"] == "done"

    lines = (output.report_dir / outcome["log"]).read_bytes().splitlines()
    (long_line,) = [line for line in lines if len(line) > 1024 * 1024]
    assert long_line == b"x" * FIFTY_MB  # written whole, as it streamed
    records = [json.loads(line) for line in lines if line is not long_line]
    wrapped = [record["msg"] for record in records if record.get("runner") == "output"]
    assert wrapped == [
        "npm notice: not a JSON record",
        "binary \x00\x01\ufffd\ufffd bytes",  # bytes that are no UTF-8 replaced, the rest kept
        '{"level": 50, "msg": "cut off',
    ]
    assert [record["msg"] for record in records if "level" in record] == [
        "Repository started",
        "after the long line",
        "Repository finished",
    ]
    assert not containers_of(docker_client, run_id)


def fails_for_a_host_the_first_time(marker: str) -> str:
    """Renovate failing to reach Azure DevOps once; the cache volume remembers across the two containers."""
    return f"""
repository_started
if [ ! -e "$RENOVATE_CACHE_DIR/{marker}" ]; then
  touch "$RENOVATE_CACHE_DIR/{marker}"
  log 40 "Host error" '"hostType":"azure","err":{{"message":"connect ECONNRESET"}}'
  repository_finished external-host-error
  exit 0
fi
repository_finished done
"""


ALWAYS_A_HOST_ERROR = """
repository_started
log 40 "Host error" '"hostType":"azure","err":{"message":"503 Service Unavailable"}'
repository_finished external-host-error
"""


def test_a_transient_failure_runs_once_more_and_a_permanent_one_does_not(
    workspace: Workspace, run_id: str, docker_client: docker.DockerClient
) -> None:
    workspace.runner["retries"] = 1
    recovers = workspace.local_repo("recovers", fails_for_a_host_the_first_time(f"{run_id}-recovers"))
    stays_down = workspace.local_repo("stays-down", ALWAYS_A_HOST_ERROR)
    failing = workspace.local_repo("fails", FAILS)

    output = workspace.sweep(run_id)

    assert output.exit_code == 1
    assert {name: output.status(name) for name in output.outcomes} == {
        recovers: ("succeeded", None),
        stays_down: ("failed", "host_error"),
        failing: ("failed", "renovate"),
    }
    attempts = {name: output.outcomes[name]["attempts"] for name in output.outcomes}
    assert [(a["status"], a["reason"], a["exit_code"]) for a in attempts[recovers]] == [("failed", "host_error", 0)]
    assert [(a["status"], a["reason"]) for a in attempts[stays_down]] == [("failed", "host_error")]
    assert attempts[failing] == []  # a Renovate error is the repository's own: running it again would repeat it
    # Each run has its own log; the earlier ones are kept where the attempt says.
    first_log = output.report_dir / attempts[recovers][0]["log"]
    assert [json.loads(line)["msg"] for line in first_log.read_text().splitlines()][:2] == [
        "Repository started",
        "Host error",
    ]
    assert not output.logged(recovers, "Host error")
    notes = output.outcomes[recovers]["notes"]
    assert notes[0] == "ran 2 times: the earlier run(s) failed in a passing way (host_error)"
    assert "Renovate stopped with result external-host-error" in output.outcomes[stays_down]["detail"]
    assert not containers_of(docker_client, run_id)
