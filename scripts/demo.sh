#!/usr/bin/env bash
# Quick start: prepares the machine (scripts/setup.sh), then runs one sweep over the example configuration
# and writes the run report to report/. Exits with the runner's exit code.
set -euo pipefail
shopt -s inherit_errexit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# A separate assignment, not eval "$(...)": eval would hide a failed setup behind its own exit status.
setup_env=$(bash scripts/setup.sh)
eval "$setup_env"

exec "$UV" run renovate-runner run --config examples/config --report-dir report --image "$RENOVATE_RUNNER_IMAGE"
