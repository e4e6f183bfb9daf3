#!/usr/bin/env bash
# Installs renovate-runner from this checkout the way a pipeline runs it: built into an sdist and a wheel
# (`uv build`, which builds the wheel from the sdist, so a file missing from the sdist fails here), then the
# wheel into a fresh virtual environment with exactly the dependencies of uv.lock (hashes checked). Nothing is
# installed in editable mode, so the environment holds what the tag holds and nothing of the working tree.
#
# Usage: scripts/install-runner.sh DIST_DIR VENV_DIR
#   DIST_DIR   where the sdist, the wheel and the exported requirements go (created)
#   VENV_DIR   the virtual environment to create; its bin/ then holds renovate-runner
# Environment: UV (default uv), PYTHON (the interpreter of the environment; default the python3 on PATH).
#
# templates/steps/install-runner.yml runs it in every pipeline job, and scripts/check-wheel.sh in CI.
set -euo pipefail
shopt -s inherit_errexit

(($# == 2)) || {
  sed -n '7,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}
dist=$1
venv=$2
uv_bin=${UV:-uv}
python_bin=${PYTHON:-$(command -v python3)}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

cd "$repo_root"
mkdir -p "$dist"
"$uv_bin" build --quiet --no-create-gitignore --out-dir "$dist"
"$uv_bin" export --quiet --frozen --no-dev --no-emit-project --no-header --format requirements-txt \
  --output-file "${dist}/requirements.txt"
"$uv_bin" venv --quiet --python "$python_bin" "$venv"
"$uv_bin" pip install --quiet --python "${venv}/bin/python" --require-hashes --requirement "${dist}/requirements.txt"
wheels=("$dist"/renovate_runner-*.whl)
((${#wheels[@]} == 1)) || {
  echo "install-runner: expected one wheel in ${dist}, found ${wheels[*]}" >&2
  exit 1
}
"$uv_bin" pip install --quiet --python "${venv}/bin/python" --no-deps "${wheels[0]}"
