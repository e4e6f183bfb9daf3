#!/usr/bin/env bash
# CI's check that the package a pipeline installs works on its own: scripts/install-runner.sh builds the sdist
# and the wheel and installs the wheel into a clean virtual environment in a temporary directory, then the
# commands a team runs first must work from there, away from the checkout: --version, validate on the consumer
# example (examples/consumer/config) and schema. Any failure fails CI. It takes a few seconds once uv's cache
# holds the locked dependencies.
#
# Environment: UV (default uv).
set -euo pipefail
shopt -s inherit_errexit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo_root
work=$(mktemp -d "${TMPDIR:-/tmp}/check-wheel.XXXXXX")
readonly work
trap 'rm -rf "$work"' EXIT
started=$SECONDS

log() { printf '[check-wheel] %s\n' "$*" >&2; }

bash "${repo_root}/scripts/install-runner.sh" "${work}/dist" "${work}/venv"
runner="${work}/venv/bin/renovate-runner"
# From a directory outside the checkout, so nothing is imported from the source tree by accident.
cd "$work"
"$runner" --version >&2
"$runner" validate --config "${repo_root}/examples/consumer/config" >&2
"$runner" schema --kind runner >/dev/null
"$runner" schema --kind repo >/dev/null
log "$(cd "${work}/dist" && echo *.tar.gz *.whl) built, installed into a clean venv and run in $((SECONDS - started))s"
