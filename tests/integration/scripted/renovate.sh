#!/bin/sh
# Stands in for Renovate's process: behaves as /usr/src/app/behaviour.sh (in the mounted local repository) says,
# using the helpers below to print what Renovate prints and to end the ways Renovate ends.
set -eu

BEHAVIOUR=/usr/src/app/behaviour.sh
RENOVATE_VERSION=44.121.2

# log LEVEL MSG [FIELDS]: one bunyan record as Renovate writes with LOG_FORMAT=json; FIELDS are extra JSON
# members such as '"result":"done"'. Messages and fields are written by the tests, so they need no escaping.
log() {
  printf '{"name":"renovate","hostname":"%s","pid":%d,"level":%d,"logContext":"scripted","msg":"%s","time":"%s","v":0%s}\n' \
    "$(cat /etc/hostname)" "$$" "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "${3:+,$3}"
}

repository_started() {
  log 30 "Repository started" "\"renovateVersion\":\"$RENOVATE_VERSION\""
}

# repository_finished [RESULT]: Renovate's last line for a repository it processed to the end.
repository_finished() {
  log 30 "Repository finished" "\"result\":\"${1:-done}\",\"status\":\"onboarded\",\"enabled\":true,\"onboarded\":true,\"durationMs\":1"
}

# stamp NAME: this moment in seconds since the epoch, so tests can compare when runs overlapped.
stamp() {
  log 30 "scripted stamp" "\"stamp\":\"$1\",\"at\":$(date +%s.%N)"
}

# write_report JSON: Renovate's report file (RENOVATE_REPORT_TYPE=file) with this content.
write_report() {
  printf '%s\n' "$1" >"$RENOVATE_REPORT_PATH"
}

# Ignored signals stay ignored across exec, so `sleep` and anything else started later ignore it too.
ignore_sigterm() {
  trap '' TERM
}

# node allocating buffers outside its heap until the container's memory limit stops it.
exhaust_memory() {
  exec node -e 'const kept = []; for (;;) kept.push(Buffer.alloc(1 << 20, 1))'
}

# node filling its JavaScript heap until its own heap limit (MiB) stops it, far below the container's memory limit.
exhaust_heap() {
  exec node --max-old-space-size="$1" -e 'const kept = []; for (;;) kept.push(new Array(1e5).fill({}))'
}

# die_by_signal NAME: end as a process killed by that signal does (exit code 128 + its number).
die_by_signal() {
  kill -s "$1" $$
}

if [ ! -r "$BEHAVIOUR" ]; then
  log 60 "scripted renovate: no behaviour.sh in /usr/src/app"
  exit 70
fi
# shellcheck source=/dev/null
. "$BEHAVIOUR"
