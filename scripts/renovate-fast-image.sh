#!/usr/bin/env bash
# Derives a fast-starting image from a Renovate image: the same Renovate, with its code bundled into one file
# and a V8 code cache primed by a whole run, so a container spends far less of its start-up resolving, reading
# and compiling thousands of modules (see docs/performance.md).
#
# Usage: scripts/renovate-fast-image.sh BASE_IMAGE
# The derived image reference is the last line on stdout; progress goes to stderr.
#
# Works on the official image and on the locally built one alike: the derivation runs inside a container of
# BASE_IMAGE, with that image's own Node.js, then commits it with the base image's user, entry point and
# command. The tag renovate-runner/renovate-fast:<version>-<hash> covers the base image's id, esbuild's version
# and this recipe, so an unchanged input reuses the image at once.
set -euo pipefail
shopt -s inherit_errexit

readonly ESBUILD_VERSION=0.28.2
readonly LOCAL_REPOSITORY=renovate-runner/renovate-fast

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly repo_root
readonly recipe_dir="${repo_root}/scripts/renovate-fast-image"
readonly tools_dir="${RENOVATE_FAST_IMAGE_TOOLS:-${repo_root}/build/tools/esbuild}"

log() { printf '[renovate-fast-image] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

usage() { sed -n '2,13s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; }

# esbuild from npm at a pinned version; its package carries a static binary for this machine.
ensure_esbuild() {
  local manifest="${tools_dir}/node_modules/esbuild/package.json"
  if [[ -f "$manifest" ]] && [[ "$(node -p "require(process.argv[1]).version" "$manifest")" == "$ESBUILD_VERSION" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH; install Node.js and npm to build the fast image"
  log "npm install esbuild@${ESBUILD_VERSION}"
  mkdir -p "$tools_dir"
  NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" \
    npm install --prefix "$tools_dir" --no-audit --no-fund --update-notifier=false --loglevel=warn \
    --no-save "esbuild@${ESBUILD_VERSION}" >&2
}

# The native executable in esbuild's package for this machine (@esbuild/linux-x64, @esbuild/linux-arm64, ...).
esbuild_binary() {
  local binary
  binary=$(find "${tools_dir}/node_modules/@esbuild" -path '*/bin/esbuild' -type f -print -quit)
  [[ -n "$binary" ]] || die "npm installed no esbuild binary for this machine under ${tools_dir}"
  printf '%s' "$binary"
}

recipe_hash() {
  local base_id=$1
  {
    printf '%s\n' "$base_id" "$ESBUILD_VERSION"
    (cd "${repo_root}/scripts" && sha256sum renovate-fast-image.sh) # by name: the checkout's path must not matter
    (cd "$recipe_dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-12
}

# Docker's Dockerfile-style --change lines that give the committed image the base image's user, entry point
# and command back (the derivation container ran as root with a shell entry point).
config_changes() {
  local base=$1 field value
  printf 'USER %s\n' "$(docker image inspect --format '{{.Config.User}}' "$base")"
  for field in Entrypoint Cmd; do
    value=$(docker image inspect --format "{{json .Config.${field}}}" "$base")
    printf '%s %s\n' "${field^^}" "${value/#null/[]}"
  done
}

derive() {
  local base=$1 ref=$2 hash=$3 started=$SECONDS
  local container="renovate-fast-image-${hash}-$$"
  docker rm --force "$container" >/dev/null 2>&1 || true
  # shellcheck disable=SC2064 # the trap must remove this very container, named now
  trap "docker rm --force '${container}' >/dev/null 2>&1 || true" EXIT
  log "bundling Renovate in a container of ${base}"
  docker create --name "$container" --user 0 --network none --entrypoint /bin/sh \
    "$base" /opt/renovate-fast-image/bundle.sh /opt/esbuild /opt/esbuild-package /opt/renovate-fast-image/prime >/dev/null
  docker cp "$recipe_dir" "${container}:/opt/renovate-fast-image" >/dev/null
  docker cp "$(esbuild_binary)" "${container}:/opt/esbuild" >/dev/null
  docker cp "${tools_dir}/node_modules/esbuild" "${container}:/opt/esbuild-package" >/dev/null
  docker start --attach "$container" >&2 || die "bundling failed (output above)"
  local -a changes=()
  local line
  while IFS= read -r line; do
    changes+=(--change "$line")
  done < <(config_changes "$base")
  changes+=(--change "LABEL io.github.renovate-runner.fast-start=${hash}")
  docker commit "${changes[@]}" "$container" "$ref" >/dev/null
  docker rm --force "$container" >/dev/null
  trap - EXIT
  log "derived ${ref} in $((SECONDS - started))s"
}

# Fails unless the derived image reports the base image's Renovate version and starts from a code cache V8 accepts.
verify() {
  local base=$1 ref=$2 expected version cache
  expected=$(docker run --rm --network none "$base" --version)
  version=$(docker run --rm --network none "$ref" --version)
  [[ "$version" == "$expected" ]] || die "${ref} reports Renovate '${version}', the base image '${expected}'"
  cache=$(docker run --rm --network none --env RENOVATE_FAST_START_DEBUG=1 "$ref" --version 2>&1 >/dev/null)
  [[ "$cache" == *"code cache accepted"* ]] || die "${ref} does not start from its code cache: ${cache}"
}

main() {
  [[ $# -eq 1 && "$1" != -* ]] || {
    usage
    exit 2
  }
  local base=$1
  docker image inspect "$base" >/dev/null 2>&1 || die "the base image ${base} is not present; pull or build it first"
  local base_id version hash ref
  base_id=$(docker image inspect --format '{{.Id}}' "$base")
  version=$(docker run --rm --network none "$base" --version)
  ensure_esbuild
  hash=$(recipe_hash "$base_id")
  ref="${LOCAL_REPOSITORY}:${version}-${hash}"
  if docker image inspect "$ref" >/dev/null 2>&1; then
    log "reusing ${ref}"
  else
    derive "$base" "$ref" "$hash"
    if ! (verify "$base" "$ref"); then
      docker image rm "$ref" >/dev/null 2>&1 || true
      die "the derived image failed verification"
    fi
  fi
  printf '%s\n' "$ref"
}

main "$@"
