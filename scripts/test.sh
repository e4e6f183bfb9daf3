#!/usr/bin/env bash
# Prepares the machine (scripts/setup.sh), then runs every check CI runs: ruff lint and format, mypy, the built
# wheel in a clean virtual environment (scripts/check-wheel.sh), pytest.
# Arguments go to pytest, e.g. scripts/test.sh -m "not e2e" -x
set -euo pipefail
shopt -s inherit_errexit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

# A separate assignment, not eval "$(...)": eval would hide a failed setup behind its own exit status.
setup_env=$(bash scripts/setup.sh)
eval "$setup_env"
# The Docker and end-to-end tests run the fast-starting image; its own tests compare it with the base image.
export RENOVATE_RUNNER_IMAGE RENOVATE_RUNNER_BASE_IMAGE
# The checks run against uv.lock as committed; `uv run` must never rewrite it.
export UV_LOCKED=1

"$UV" run ruff check .
"$UV" run ruff format --check .
"$UV" run mypy
UV="$UV" bash scripts/check-wheel.sh

status=0
"$UV" run pytest "$@" || status=$?
# pytest's 5 means it collected no tests: a green run that tested nothing must not pass.
if ((status == 5)); then
  echo "pytest collected no tests; failing the run" >&2
  exit 1
fi
exit "$status"
