#!/bin/sh
# Runs inside a container of the Renovate image being derived from, as root (see scripts/renovate-fast-image.sh):
# bundles Renovate's code into one file, primes V8's code cache with a whole Renovate run, and points the
# `renovate` command at the bundle. The original entry point stays as `renovate-unbundled`.
#
# Usage: bundle.sh ESBUILD ESBUILD_PACKAGE PRIME_DIR
#   ESBUILD          esbuild's native executable (a static binary, so it runs in any image of this machine's type)
#   ESBUILD_PACKAGE  esbuild's npm package, whose JavaScript API bundle.mjs drives
set -eu

esbuild=$1
esbuild_js=$2
prime_source=$3 # see prime/README.md
recipe_dir=$(dirname "$0")

renovate_bin=$(command -v renovate)
entry=$(readlink -f "$renovate_bin")
case "$entry" in
  */dist/renovate.js) ;;
  *)
    echo "bundle.sh: renovate is ${entry}, not <package>/dist/renovate.js; cannot bundle this image" >&2
    exit 1
    ;;
esac
package_dir=$(dirname "$(dirname "$entry")")
out="${package_dir}/fast-start"
mkdir -p "$out"

ESBUILD_BINARY_PATH="$esbuild" node "${recipe_dir}/bundle.mjs" "${esbuild_js}/lib/main.js" "$entry" "${out}/renovate.cjs"
cp "${recipe_dir}/renovate-fast.cjs" "${out}/renovate-fast.cjs"
chmod 0755 "${out}/renovate-fast.cjs"

# The priming run: Renovate's local platform looking up the sample repository's dependencies in a registry on
# loopback (prime/registry.mjs), with no network, so the cache holds extraction and lookup code as well as start-up.
prime_dir=$(mktemp -d)
cp -R "${prime_source}/repository/." "$prime_dir"
git -C "$prime_dir" init --quiet
git -C "$prime_dir" -c user.name=prime -c user.email=prime@localhost add --all
git -C "$prime_dir" -c user.name=prime -c user.email=prime@localhost commit --quiet --message prime
registry_port=48123
registry="http://127.0.0.1:${registry_port}"
node "${prime_source}/registry.mjs" "$registry_port" &
registry_pid=$!
tries=0
until node -e "require('net').connect(${registry_port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"; do
  tries=$((tries + 1))
  [ "$tries" -lt 50 ] || {
    echo "bundle.sh: the priming registry did not start" >&2
    exit 1
  }
  sleep 0.1
done
prime_config=$(printf '{"fetchChangeLogs":"off","hostRules":[{"matchHost":"%s","allowInternal":true}],"packageRules":[{"matchDatasources":["npm"],"registryUrls":["%s/"]},{"matchDatasources":["pypi"],"registryUrls":["%s/pypi/"]},{"matchDatasources":["!npm","!pypi"],"enabled":false}]}' "$registry" "$registry" "$registry")
(
  cd "$prime_dir"
  env RENOVATE_FAST_START_WRITE_CACHE=1 RENOVATE_PLATFORM=local RENOVATE_DRY_RUN=lookup LOG_LEVEL=warn \
    RENOVATE_ONBOARDING=false RENOVATE_REQUIRE_CONFIG=optional RENOVATE_BASE_DIR="${prime_dir}.base" \
    RENOVATE_CONFIG="$prime_config" "${out}/renovate-fast.cjs"
)
kill "$registry_pid"
rm -rf "$prime_dir" "${prime_dir}.base"
[ -s "${out}/renovate.cjs.v8cache" ] || {
  echo "bundle.sh: the priming run wrote no code cache" >&2
  exit 1
}

ln -sf "$entry" "$(dirname "$renovate_bin")/renovate-unbundled"
ln -sf "${out}/renovate-fast.cjs" "$renovate_bin"
