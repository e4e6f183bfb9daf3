#!/usr/bin/env bash
# Provides tfx-cli, the Azure DevOps extension CLI that `renovate-runner publish-extension` drives: installed from
# npm at a pinned version into build/tools/tfx the first time it is asked for, and reused after that.
#
# Usage: scripts/tfx.sh
# The path of the tfx executable is the last line on stdout; progress goes to stderr. For example:
#   export RENOVATE_RUNNER_TFX=$(bash scripts/tfx.sh)
#
# Environment:
#   TFX_DIR   where to install (default: build/tools/tfx in the repository)
# npm uses the host's own configuration (registry, CA file); NODE_EXTRA_CA_CERTS defaults to the system bundle, so a
# TLS-intercepting proxy's CA is trusted.
set -euo pipefail
shopt -s inherit_errexit

readonly TFX_VERSION=0.23.1 # keep in step with TFX_VERSION in runner/scenarios/publish.py
readonly NODE_MAJOR_MIN=20  # tfx-cli's engines field

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo_root
readonly tfx_dir="${TFX_DIR:-${repo_root}/build/tools/tfx}"
readonly tfx_bin="${tfx_dir}/node_modules/.bin/tfx"

log() { printf '[tfx] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

installed_version() {
  local manifest="${tfx_dir}/node_modules/tfx-cli/package.json"
  [[ -f "$manifest" && -x "$tfx_bin" ]] || return 0
  node -p "require(process.argv[1]).version" "$manifest" 2>/dev/null || true
}

check_node() {
  command -v node >/dev/null 2>&1 || die "node is not on PATH; install Node.js ${NODE_MAJOR_MIN} or later"
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH; install it with Node.js"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= NODE_MAJOR_MIN)) || die "tfx-cli ${TFX_VERSION} needs Node.js ${NODE_MAJOR_MIN} or later, not $(node --version)"
}

# Installs into a fresh directory beside the target and renames it into place, so an interrupted install never
# leaves a half-filled tree that later runs would take for a good one.
install_tfx() {
  local staging="${tfx_dir}.staging.$$"
  local ca_bundle="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  local -a npm_env=()
  if [[ -f "$ca_bundle" ]]; then
    npm_env+=("NODE_EXTRA_CA_CERTS=${ca_bundle}")
  fi
  rm -rf "$staging"
  mkdir -p "$staging"
  trap 'rm -rf "$staging"' EXIT
  log "npm install tfx-cli@${TFX_VERSION} into ${tfx_dir}"
  # --ignore-scripts: no package in tfx-cli's tree needs an install script, and none should run unasked.
  env "${npm_env[@]}" npm install --prefix "$staging" --no-audit --no-fund --ignore-scripts --loglevel=warn \
    --update-notifier=false "tfx-cli@${TFX_VERSION}" >&2
  [[ -x "${staging}/node_modules/.bin/tfx" ]] || die "npm did not install the tfx command"
  rm -rf "$tfx_dir"
  mkdir -p "$(dirname "$tfx_dir")"
  mv "$staging" "$tfx_dir"
  trap - EXIT
}

main() {
  check_node
  if [[ "$(installed_version)" != "$TFX_VERSION" ]]; then
    install_tfx
  fi
  printf '%s\n' "$tfx_bin"
}

main "$@"
