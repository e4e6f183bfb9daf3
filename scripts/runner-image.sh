#!/usr/bin/env bash
# Builds renovate-runner's own image from the Dockerfile, as `docker build .` does, with the base, the labels and
# the CA bundle this machine needs: the package and its locked dependencies in a virtual environment on a slim
# Python base, run as a non-root user, `renovate-runner` as entry point.
#
# Usage: scripts/runner-image.sh [--python-image REF]
#   --python-image REF   the base image (the Dockerfile's PYTHON_IMAGE); `local` builds a Debian base here.
#                        Default: the Dockerfile's default where a registry serves it, else the local Debian base.
# The image reference is the last line on stdout; progress goes to stderr.
#
# Where no image registry is reachable, the base is a local Debian rootfs (debootstrap) imported twice: with
# python3-venv as the builder stage's base (BUILDER_IMAGE: the builder needs pip to install uv) and without it
# as the runtime base, so the image holds no installer. The build's downloads go to the Python package index;
# the host's CA bundle goes into the build context (build/ca-certificates.crt) for a TLS-intercepting proxy.
#
# Tags: renovate-runner/runner:<version>-<inputs hash> and renovate-runner/runner:<version>. The hash covers
# the Dockerfile, .dockerignore, pyproject.toml, uv.lock, README.md, runner/, this script, the CA bundle and the
# base images' ids, so an unchanged checkout reuses its image at once. The local Debian bases are tagged
# renovate-runner/python-base:<suite>-<recipe hash> and <suite>-build-<recipe hash> the same way.
set -euo pipefail
shopt -s inherit_errexit

readonly RUNNER_REPOSITORY=renovate-runner/runner
readonly BASE_REPOSITORY=renovate-runner/python-base
readonly BUILDER_STAGE_LABEL=io.github.renovate-runner.stage=builder
readonly DEBIAN_SUITE=bookworm
# Debian's Python (3.11 in bookworm) and the CA bundle; the builder's base adds venv with pip (ensurepip), which
# the runtime base then loses again with the packages that came with it.
readonly BASE_PACKAGES=python3,python3-venv,ca-certificates
readonly BUILDER_ONLY_PACKAGES=(python3-venv python3.11-venv python3-pip-whl python3-setuptools-whl)

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir
readonly repo_root="${script_dir%/*}"
# shellcheck source-path=SCRIPTDIR source=lib/rootfs.sh
. "${script_dir}/lib/rootfs.sh"
readonly build_log="${repo_root}/build/runner-image.build.log"
readonly context_ca_bundle="${repo_root}/build/ca-certificates.crt"
readonly host_ca_bundle="${RUNNER_IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
readonly work_parent="${RUNNER_IMAGE_WORK_PARENT:-/var/tmp}"
readonly pull_timeout="${RUNNER_IMAGE_PULL_TIMEOUT:-180}"

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

usage() { sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }

short_hash() { sha256sum | cut -c1-12; }

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# The local base's recipe: the shared rootfs functions, the functions below that build the base, and the
# package lists. Other changes to this script do not rebuild the base.
base_recipe_hash() {
  {
    cat "${script_dir}/lib/rootfs.sh"
    declare -f build_local_base import_local_base
    printf '%s\n' "$DEBIAN_SUITE" "$BASE_PACKAGES" "${BUILDER_ONLY_PACKAGES[@]}"
  } | short_hash
}

import_local_base() {
  local rootfs=$1 ref=$2
  import_rootfs "$rootfs" "$ref" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV LANG=C.UTF-8" \
    'CMD ["python3"]'
}

# The builder's base ($2), then the runtime base ($1): the same rootfs without the builder-only packages.
build_local_base() {
  local ref=$1 builder_ref=$2 started=$SECONDS
  [[ $EUID -eq 0 ]] || die "building the local Python base image needs root (debootstrap)"
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing; run scripts/setup.sh first"
  local work
  work=$(mktemp -d "${work_parent}/python-base.build.XXXXXX")
  # shellcheck disable=SC2064 # the trap must remove this very directory, fixed now
  trap "remove_work_dir '${work}'" EXIT
  local rootfs="${work}/rootfs"
  timed bootstrap_rootfs "$rootfs" "$DEBIAN_SUITE" "$BASE_PACKAGES"
  slim_rootfs "$rootfs"
  import_local_base "$rootfs" "$builder_ref"
  chroot "$rootfs" dpkg --purge "${BUILDER_ONLY_PACKAGES[@]}" >/dev/null
  find "${rootfs}/var/log" -type f -delete
  import_local_base "$rootfs" "$ref"
  remove_work_dir "$work"
  trap - EXIT
  log "built ${ref} and ${builder_ref} in $((SECONDS - started))s"
}

# The local Debian bases, reused while their recipe is unchanged: "runtime builder".
local_base() {
  local hash ref builder_ref
  hash=$(base_recipe_hash)
  ref="${BASE_REPOSITORY}:${DEBIAN_SUITE}-${hash}"
  builder_ref="${BASE_REPOSITORY}:${DEBIAN_SUITE}-build-${hash}"
  if image_id "$ref" >/dev/null && image_id "$builder_ref" >/dev/null; then
    log "reusing ${ref} and ${builder_ref}"
  else
    remove_leftover_work_dirs "$work_parent" python-base
    build_local_base "$ref" "$builder_ref"
  fi
  remove_stale_images "$BASE_REPOSITORY" "$ref" "$builder_ref"
  printf '%s %s' "$ref" "$builder_ref"
}

# A base given by reference, for both stages: present, or pulled.
given_base() {
  local ref=$1
  if ! image_id "$ref" >/dev/null; then
    log "pulling ${ref} (timeout ${pull_timeout}s)"
    timeout "$pull_timeout" docker pull --quiet "$ref" >&2 || die "the base image ${ref} is not available"
  fi
  printf '%s %s' "$ref" "$ref"
}

# The Dockerfile's default base (ARG PYTHON_IMAGE=...), the one Renovate keeps current.
dockerfile_default_base() {
  sed -n 's/^ARG PYTHON_IMAGE=//p' "${repo_root}/Dockerfile"
}

# The Dockerfile's default where it is present or a registry serves it, else the local Debian base.
default_base() {
  local official
  official=$(dockerfile_default_base)
  [[ -n "$official" ]] || die "the Dockerfile has no ARG PYTHON_IMAGE=<default>"
  if image_id "$official" >/dev/null || timeout "$pull_timeout" docker pull --quiet "$official" >/dev/null 2>&1; then
    printf '%s %s' "$official" "$official"
  else
    log "${official} is not available; using a local Debian ${DEBIAN_SUITE} base"
    local_base
  fi
}

project_version() {
  python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "${repo_root}/pyproject.toml"
}

# A short hash of everything the image is made from; the bases enter by their image ids.
inputs_hash() {
  local base=$1 builder_base=$2
  (
    cd "$repo_root"
    {
      image_id "$base"
      image_id "$builder_base"
      sha256sum Dockerfile .dockerignore pyproject.toml uv.lock README.md scripts/runner-image.sh
      if [[ -f "$host_ca_bundle" ]]; then sha256sum <"$host_ca_bundle"; fi
      find runner -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    } | short_hash
  )
}

revision() {
  git -C "$repo_root" rev-parse HEAD 2>/dev/null || printf 'unknown'
}

source_url() {
  git -C "$repo_root" remote get-url origin 2>/dev/null || true
}

build_runner_image() {
  local base=$1 builder_base=$2 ref=$3 hash=$4 version=$5 started=$SECONDS
  local build_ref="${RUNNER_REPOSITORY}:build-${hash}"
  mkdir -p "${repo_root}/build"
  rm -f "$context_ca_bundle"
  if [[ -f "$host_ca_bundle" ]]; then
    cp "$host_ca_bundle" "$context_ca_bundle"
  fi
  log "docker build (base ${base}, builder base ${builder_base})"
  local built=0
  docker build --file "${repo_root}/Dockerfile" \
    --build-arg "PYTHON_IMAGE=${base}" --build-arg "BUILDER_IMAGE=${builder_base}" \
    --build-arg "VERSION=${version}" --build-arg "REVISION=$(revision)" --build-arg "SOURCE_URL=$(source_url)" \
    --label "io.github.renovate-runner.inputs=${hash}" \
    --tag "$build_ref" "$repo_root" >"$build_log" 2>&1 || built=$?
  rm -f "$context_ca_bundle"
  # The builder stage is of no use once the venv is copied out.
  docker image prune --force --filter "label=${BUILDER_STAGE_LABEL}" >/dev/null
  if ((built != 0)); then
    tail -n 40 "$build_log" >&2
    die "docker build failed (full output in ${build_log})"
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
  mkdir -p "$work_parent"
  # One build at a time: a second caller waits, then finds the images the first one built.
  exec 9>"${work_parent}/runner-image.lock"
  flock 9

  local bases base builder_base
  case "$python_image" in
    "") bases=$(default_base) ;;
    local) bases=$(local_base) ;;
    *) bases=$(given_base "$python_image") ;;
  esac
  read -r base builder_base <<<"$bases"

  local version hash ref
  version=$(project_version)
  hash=$(inputs_hash "$base" "$builder_base")
  ref="${RUNNER_REPOSITORY}:${version}-${hash}"
  if image_id "$ref" >/dev/null; then
    log "reusing ${ref}"
  else
    build_runner_image "$base" "$builder_base" "$ref" "$hash" "$version"
  fi
  docker tag "$ref" "${RUNNER_REPOSITORY}:${version}"
  remove_stale_images "$RUNNER_REPOSITORY" "$ref" "${RUNNER_REPOSITORY}:${version}"
  printf '%s\n' "$ref"
}

main "$@"
