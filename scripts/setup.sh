#!/usr/bin/env bash
# Prepares this machine to run and test renovate-runner: Debian's Docker engine and debootstrap, a running
# dockerd, the Python environment (.venv, from uv.lock), the Renovate image and the fast-starting image derived
# from it (scripts/renovate-fast-image.sh). Safe to run again: each step only does what is missing, so a prepared
# machine is done in seconds.
#
# Progress goes to stderr. The last lines on stdout are shell assignments for callers to eval:
#   UV=<path of the uv executable>
#   RENOVATE_RUNNER_IMAGE=<the fast-starting image: what the demo and the tests run>
#   RENOVATE_RUNNER_BASE_IMAGE=<the Renovate image it was derived from: the benchmark's reference>
#
# Environment:
#   DOCKERD_LOG            where a dockerd started here writes its output (default /var/log/dockerd.log)
#   DOCKERD_ARGS           extra dockerd arguments, split on spaces (e.g. a private --data-root and --host)
#   DOCKERD_START_TIMEOUT  seconds to wait for a started dockerd to answer (default 60)
# A second, private dockerd beside the shared one must not run with --bridge=none in the host's network
# namespace: dockerd then deletes the host's docker0, and every bridge container of the shared daemon fails
# to start ("could not find bridge docker0"). Give it its own namespace (unshare --net) instead.
set -euo pipefail
shopt -s inherit_errexit

readonly UV_VERSION=0.13.8
# gcc and libc6-dev: the load test's replaying Renovate is a static C program (tests/e2e/azure/replay).
readonly APT_PACKAGES=(docker.io debootstrap postgresql chromium gcc libc6-dev)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo_root

log() { printf '[setup] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

is_installed() {
  dpkg-query --show --showformat='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

ensure_apt_packages() {
  local -a missing=()
  local package
  for package in "${APT_PACKAGES[@]}"; do
    is_installed "$package" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  [[ $EUID -eq 0 ]] || die "missing packages ${missing[*]}: install them as root (apt-get install ${missing[*]})"
  log "installing ${missing[*]}"
  # No standard input in CI: nothing may prompt.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y "${missing[@]}" >&2
}

# A process that has exited but not been waited for still answers kill -0; its state letter tells.
is_running() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# Starts dockerd in the background when no engine answers. There is no systemd here, so nothing else would.
ensure_dockerd() {
  if docker info >/dev/null 2>&1; then
    return 0
  fi
  [[ $EUID -eq 0 ]] || die "the Docker engine is not reachable, and only root can start dockerd"
  local log_file="${DOCKERD_LOG:-/var/log/dockerd.log}"
  local timeout="${DOCKERD_START_TIMEOUT:-60}"
  local -a extra_args=()
  read -r -a extra_args <<<"${DOCKERD_ARGS:-}"
  mkdir -p "$(dirname "$log_file")"
  log "starting dockerd (log: ${log_file})"
  # setsid: the daemon must outlive this script and must not get the Ctrl-C meant for a test run.
  setsid dockerd "${extra_args[@]}" </dev/null >>"$log_file" 2>&1 &
  local pid=$! waited=0
  until docker info >/dev/null 2>&1; do
    if ! is_running "$pid"; then
      tail -n 30 "$log_file" >&2
      die "dockerd exited while starting (log above, full log in ${log_file})"
    fi
    if ((waited >= timeout)); then
      tail -n 30 "$log_file" >&2
      die "dockerd (pid ${pid}) did not answer within ${timeout}s (log above, full log in ${log_file})"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "dockerd is up (pid ${pid}) after ${waited}s"
}

# Prints the path of uv, installing the pinned version with pip when there is none.
ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    log "installing uv ${UV_VERSION}"
    python3 -m pip install --quiet "uv==${UV_VERSION}" >&2
  fi
  if command -v uv >/dev/null 2>&1; then
    command -v uv
  else
    # pip may put it in a directory that is not on PATH (e.g. behind pyenv shims that need a rehash).
    python3 -c 'import uv; print(uv.find_uv_bin())'
  fi
}

sync_python_env() {
  local uv=$1
  log "uv sync --locked"
  (cd "$repo_root" && "$uv" sync --locked >&2)
}

main() {
  ensure_apt_packages
  ensure_dockerd
  local uv image fast_image
  uv=$(ensure_uv)
  sync_python_env "$uv"
  image=$(bash "${repo_root}/scripts/renovate-image.sh" | tail -n 1)
  [[ -n "$image" ]] || die "scripts/renovate-image.sh named no image"
  fast_image=$(bash "${repo_root}/scripts/renovate-fast-image.sh" "$image" | tail -n 1)
  [[ -n "$fast_image" ]] || die "scripts/renovate-fast-image.sh named no image"
  log "Renovate image: ${image}; fast-starting: ${fast_image}"
  printf 'UV=%q\n' "$uv"
  printf 'RENOVATE_RUNNER_IMAGE=%q\n' "$fast_image"
  printf 'RENOVATE_RUNNER_BASE_IMAGE=%q\n' "$image"
}

# Sourcing defines the functions only, so each step can be run on its own.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
