"""Three consecutive sweeps of the real Renovate image on the doubles, with the registry double releasing new
versions between them as time does to a real registry: the history store builds a visible trend.

Doubled: Entra ID, the pipeline's OIDC endpoint, Azure DevOps, and the npm registry (tests/doubles). Real: the
runner as its own process, the Docker engine, Renovate in its container computing libyears from the registry's
release times, and the SQLite history store in the runner's state directory (where it lives by default).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runner.cli import main
from runner.locking import STATE_DIR_ENV

from .organization import Organization, SweepOutput, package_json

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

WEB = "Platform/web"
TOOLS = "Platform/tools"
SEEDS = {
    WEB: {"package.json": package_json("web", {"lodash": "4.17.15", "express": "4.21.2"})},
    TOOLS: {"package.json": package_json("tools", {"typescript": "5.7.2"})},
}
# What the registry releases after the first and after the second sweep: each moves the newest release later,
# so each repository falls further behind. typescript 5.7.2 is current at first: tools has nothing outdated.
RELEASES = (
    [("express", "5.2.0", "2025-06-01T00:00:00.000Z"), ("typescript", "5.8.2", "2025-06-01T00:00:00.000Z")],
    [("lodash", "4.17.22", "2026-01-01T00:00:00.000Z"), ("typescript", "5.9.3", "2026-06-01T00:00:00.000Z")],
)


def libyears(sweep: SweepOutput, repository: str) -> float:
    health = sweep.outcomes[repository]["health"]
    assert health is not None, sweep.outcomes[repository]
    value: float = health["libyears"]
    return value


def test_three_sweeps_with_moving_versions_build_a_trend(
    organization: Organization, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for repository, files in SEEDS.items():
        organization.seed(repository, files)
    organization.configure([WEB, TOOLS], mode="pipelines", concurrency=2)
    environ = organization.environ("pipelines")

    sweeps = [organization.sweep(environ, "--dry-run")]
    for releases in RELEASES:
        for name, version, published_at in releases:
            organization.registry.publish(name, version, published_at)
        sweeps.append(organization.sweep(environ, "--dry-run"))

    for sweep in sweeps:
        assert sweep.exit_code == 0, sweep.run.describe()
    web, tools = ([libyears(sweep, name) for sweep in sweeps] for name in (WEB, TOOLS))
    assert web[0] < web[1] < web[2], web
    assert tools[0] == 0 < tools[1] < tools[2], tools
    outdated = [sweep.outcomes[TOOLS]["health"]["outdated"] for sweep in sweeps]
    assert outdated == [0, 1, 1]

    last = sweeps[-1]
    fleet_libyears = next(line for line in last.summary.splitlines() if line.startswith("| Libyears |"))
    assert re.fullmatch(r"\| Libyears \| [\d.]+ \| \+[\d.]+ \|", fleet_libyears), fleet_libyears
    web_row = next(line for line in last.summary.splitlines() if line.startswith(f"| {WEB} |"))
    # A sparkline over the three runs, lowest first and highest last.
    assert re.search(rf"\| {web[2]:.2f} ▁.█ \|", web_row), web_row
    html = (last.report_dir / "report.html").read_text(encoding="utf-8")
    fleet_chart = re.search(r'<svg class="chart" data-series="fleet-libyears".*?</svg>', html)
    assert fleet_chart is not None
    assert fleet_chart[0].count('<circle class="point"') == 3

    # `renovate-runner history`, reading the store where the sweeps left it (the runner's state directory).
    monkeypatch.setenv(STATE_DIR_ENV, environ[STATE_DIR_ENV])
    capsys.readouterr()
    assert main(["history", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [run["run_id"] for run in document["runs"]] == [s.report["run_id"] for s in sweeps]
    trends = {
        entry["repository"]: [point["libyears"] for point in entry["points"]] for entry in document["repositories"]
    }
    assert trends == {WEB: web, TOOLS: tools}
    assert Path(environ[STATE_DIR_ENV], "history.sqlite").is_file()
