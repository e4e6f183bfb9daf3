#!/usr/bin/env bash
# Builds renovate-runner's own image from the Dockerfile: the package and its locked dependencies in a
# virtual environment on a slim Python base, run as a non-root user, `renovate-runner` as entry point.
#
# Usage: scripts/runner-image.sh [--python-image REF]
#   --python-image REF   the base image (the Dockerfile's PYTHON_IMAGE); `local` builds a Debian base here.
#                        Default: python:3.12-slim where a registry serves it, else the local Debian base.
# The image reference is the last line on stdout; progress goes to stderr.
#
# `docker build` may reach no package index, so the wheels are made on this machine first and the image
# installs them offline: the project's wheel (uv build) and the locked dependencies (uv export, then pip
# download for the base image's Python and platform) go to build/runner-image/, the only part of the
# checkout that .dockerignore lets into the build context.
#
# Tags: renovate-runner/runner:<version>-<inputs hash> and renovate-runner/runner:<version>. The hash covers
# the Dockerfile, .dockerignore, pyproject.toml, uv.lock, README.md, runner/, this script and the base
# image's id, so an unchanged checkout reuses its image at once. The local Debian base is tagged
# renovate-runner/python-base:<suite>-<recipe hash> the same way.
set -euo pipefail
shopt -s inherit_errexit

readonly OFFICIAL_PYTHON_IMAGE=python:3.12-slim
readonly RUNNER_REPOSITORY=renovate-runner/runner
readonly BASE_REPOSITORY=renovate-runner/python-base
readonly BUILDER_STAGE_LABEL=io.github.renovate-runner.stage=builder
readonly DEBIAN_SUITE=bookworm
# Debian's Python (3.11 in bookworm) and the CA bundle; the build installs from wheels, so no pip is needed.
readonly BASE_PACKAGES=python3,ca-certificates
# pip downloads the wheels here and installs them in the build, running from its wheel: it is never installed
# into the image.
readonly PIP_VERSION=25.3

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir
readonly repo_root="${script_dir%/*}"
# shellcheck source-path=SCRIPTDIR source=lib/rootfs.sh
. "${script_dir}/lib/rootfs.sh"
readonly wheelhouse="${repo_root}/build/runner-image"
readonly work_parent="${RUNNER_IMAGE_WORK_PARENT:-/var/tmp}"
readonly pull_timeout="${RUNNER_IMAGE_PULL_TIMEOUT:-180}"
# `uv run` names itself in UV; scripts/setup.sh installs uv where PATH may not reach it.
readonly uv_bin="${UV:-uv}"

log() { printf '[runner-image] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Runs a build step and says how long it took, so a slow CI build shows where the time went.
timed() {
  local started=$SECONDS
  "$@"
  log "${1} took $((SECONDS - started))s"
}

# Runs a noisy command with its output kept in a file, shown only when it fails.
quietly() {
  local output
  output=$(mktemp "${work_parent}/runner-image.output.XXXXXX")
  if ! "$@" >"$output" 2>&1; then
    tail -n 40 "$output" >&2
    rm -f "$output"
    die "failed: $*"
  fi
  rm -f "$output"
}

usage() { sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }

short_hash() { sha256sum | cut -c1-12; }

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# The local base's recipe: the shared rootfs functions, the functions below that build the base, and the
# package list. Other changes to this script do not rebuild the base.
base_recipe_hash() {
  {
    cat "${script_dir}/lib/rootfs.sh"
    declare -f build_local_base import_local_base
    printf '%s\n' "$DEBIAN_SUITE" "$BASE_PACKAGES"
  } | short_hash
}

import_local_base() {
  local rootfs=$1 ref=$2
  import_rootfs "$rootfs" "$ref" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV LANG=C.UTF-8" \
    'CMD ["python3"]'
}

build_local_base() {
  local ref=$1 started=$SECONDS
  [[ $EUID -eq 0 ]] || die "building the local Python base image needs root (debootstrap)"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing; run scripts/setup.sh first"
  local work
  work=$(mktemp -d "${work_parent}/python-base.build.XXXXXX")
  # shellcheck disable=SC2064 # the trap must remove this very directory, fixed now
  trap "remove_work_dir '${work}'" EXIT
  local rootfs="${work}/rootfs"
  timed bootstrap_rootfs "$rootfs" "$DEBIAN_SUITE" "$BASE_PACKAGES"
  slim_rootfs "$rootfs"
  import_local_base "$rootfs" "$ref"
  remove_work_dir "$work"
  trap - EXIT
  log "built ${ref} in $((SECONDS - started))s"
}

# The local Debian base, reused while its recipe is unchanged.
local_base() {
  local ref
  ref="${BASE_REPOSITORY}:${DEBIAN_SUITE}-$(base_recipe_hash)"
  if image_id "$ref" >/dev/null; then
    log "reusing ${ref}"
  else
    remove_leftover_work_dirs "$work_parent" python-base
    build_local_base "$ref"
  fi
  remove_stale_images "$BASE_REPOSITORY" "$ref"
  printf '%s' "$ref"
}

# A base given by reference: present, or pulled.
given_base() {
  local ref=$1
  if ! image_id "$ref" >/dev/null; then
    log "pulling ${ref} (timeout ${pull_timeout}s)"
    timeout "$pull_timeout" docker pull --quiet "$ref" >&2 || die "the base image ${ref} is not available"
  fi
  printf '%s' "$ref"
}

# The official slim image where a registry serves it (a pull refreshes it), else the local Debian base.
default_base() {
  if timeout "$pull_timeout" docker pull --quiet "$OFFICIAL_PYTHON_IMAGE" >/dev/null 2>&1 \
    || image_id "$OFFICIAL_PYTHON_IMAGE" >/dev/null; then
    printf '%s' "$OFFICIAL_PYTHON_IMAGE"
  else
    log "${OFFICIAL_PYTHON_IMAGE} is not available; using a local Debian ${DEBIAN_SUITE} base"
    local_base
  fi
}

project_version() {
  python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "${repo_root}/pyproject.toml"
}

# A short hash of everything the image is made from; the base enters by its image id.
inputs_hash() {
  local base=$1
  (
    cd "$repo_root"
    {
      image_id "$base"
      sha256sum Dockerfile .dockerignore pyproject.toml uv.lock README.md scripts/runner-image.sh
      find runner -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    } | short_hash
  )
}

# The pinned pip, run by uv in an environment of its own (the project's venv has no pip); pip reads this
# machine's pip configuration (index, CA bundle) as usual.
pip_download() {
  "$uv_bin" tool run --quiet --from "pip==${PIP_VERSION}" pip download --no-deps --disable-pip-version-check "$@"
}

# Python version (e.g. 311), machine and glibc version of the base, for choosing its wheels.
base_python_facts() {
  docker run --rm --network none --entrypoint python3 "$1" -c 'import platform, sys
print(f"{sys.version_info[0]}{sys.version_info[1]}", platform.machine(), platform.libc_ver()[1])'
}

# The project's wheel, the locked dependencies as wheels for the base's Python and platform (hashes
# checked), and pip's own wheel, in build/runner-image/.
prepare_wheelhouse() {
  local base=$1 facts python_tag machine glibc
  facts=$(base_python_facts "$base") || die "could not run python3 in the base image ${base}"
  read -r python_tag machine glibc <<<"$facts"
  [[ -n "$glibc" ]] || die "the base image ${base} has no glibc Python (${python_tag} ${machine})"
  log "wheels for CPython ${python_tag} on ${machine}, glibc ${glibc}"
  rm -rf "$wheelhouse"
  mkdir -p "${wheelhouse}/wheels" "${wheelhouse}/project" "${wheelhouse}/pip"

  (cd "$repo_root" && quietly "$uv_bin" export --frozen --no-dev --no-emit-project --no-header \
    --format requirements-txt --output-file "${wheelhouse}/requirements.txt")
  (cd "$repo_root" && quietly "$uv_bin" build --wheel --no-create-gitignore --out-dir "${wheelhouse}/project")

  # Every manylinux tag this glibc runs; pip download takes the target's tags instead of this host's.
  local -a target=(--only-binary=:all: --implementation cp --python-version "${python_tag:0:1}.${python_tag:1}"
    --abi "cp${python_tag}" --abi abi3 --abi none --platform "manylinux2014_${machine}")
  local minor
  for ((minor = 5; minor <= ${glibc#2.}; minor++)); do
    target+=(--platform "manylinux_2_${minor}_${machine}")
  done
  quietly pip_download "${target[@]}" --dest "${wheelhouse}/wheels" --requirement "${wheelhouse}/requirements.txt"
  quietly pip_download --only-binary=:all: --dest "${wheelhouse}/pip" "pip==${PIP_VERSION}"
}

build_runner_image() {
  local base=$1 ref=$2 hash=$3 version=$4 started=$SECONDS
  timed prepare_wheelhouse "$base"
  local build_ref="${RUNNER_REPOSITORY}:build-${hash}"
  log "docker build (base ${base})"
  local built=0
  docker build --file "${repo_root}/Dockerfile" --build-arg "PYTHON_IMAGE=${base}" \
    --label "org.opencontainers.image.version=${version}" --label "io.github.renovate-runner.inputs=${hash}" \
    --tag "$build_ref" "$repo_root" >"${wheelhouse}.build.log" 2>&1 || built=$?
  # The builder stage is of no use once the venv is copied out (the next build has new wheels anyway).
  docker image prune --force --filter "label=${BUILDER_STAGE_LABEL}" >/dev/null
  if ((built != 0)); then
    tail -n 40 "${wheelhouse}.build.log" >&2
    die "docker build failed (full output in ${wheelhouse}.build.log)"
  fi
  # Only an image that answers gets the tag later runs reuse.
  local answer
  answer=$(docker run --rm --network none "$build_ref" --version 2>&1 | head -n 1) || true
  if [[ "$answer" != "renovate-runner ${version}" ]]; then
    docker image rm "$build_ref" >/dev/null 2>&1 || true
    die "the built image answered '${answer}' to --version, expected 'renovate-runner ${version}'"
  fi
  docker tag "$build_ref" "$ref"
  docker image rm "$build_ref" >/dev/null
  local size
  size=$(docker image inspect --format '{{.Size}}' "$ref" | numfmt --to=iec)
  log "built ${ref} in $((SECONDS - started))s, ${size} uncompressed"
}

main() {
  local python_image=""
  while (($#)); do
    case "$1" in
      --python-image)
        (($# >= 2)) || die "--python-image needs an image reference (or local)"
        python_image=$2
        shift
        ;;
      -h | --help)
        usage
        return 0
        ;;
      *)
        usage
        die "unknown argument: $1"
        ;;
    esac
    shift
  done

  docker info >/dev/null 2>&1 || die "the Docker engine is not reachable; run scripts/setup.sh first"
  command -v "$uv_bin" >/dev/null 2>&1 || die "uv is missing; run scripts/setup.sh first"
  mkdir -p "$work_parent"
  # One build at a time: a second caller waits, then finds the images the first one built.
  exec 9>"${work_parent}/runner-image.lock"
  flock 9

  local base
  case "$python_image" in
    "") base=$(default_base) ;;
    local) base=$(local_base) ;;
    *) base=$(given_base "$python_image") ;;
  esac

  local version hash ref
  version=$(project_version)
  hash=$(inputs_hash "$base")
  ref="${RUNNER_REPOSITORY}:${version}-${hash}"
  if image_id "$ref" >/dev/null; then
    log "reusing ${ref}"
  else
    build_runner_image "$base" "$ref" "$hash" "$version"
  fi
  docker tag "$ref" "${RUNNER_REPOSITORY}:${version}"
  remove_stale_images "$RUNNER_REPOSITORY" "$ref" "${RUNNER_REPOSITORY}:${version}"
  printf '%s\n' "$ref"
}

main "$@"
