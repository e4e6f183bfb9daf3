#!/usr/bin/env bash
# Makes docs/images/report-html.png: a real report.html, as a browser opens it from the report artifact, in headless
# Chromium. Not part of CI; run it when the page's look changes.
#
# Usage: scripts/report-screenshot.sh REPORT_DIR
#   REPORT_DIR  a report directory with report.html from a sweep with a history of a few runs, e.g. the last one
#               that tests/e2e/azure/test_fleet_history.py leaves (run it with --basetemp to keep it)
# Needs Debian's chromium (scripts/setup.sh installs it).
set -euo pipefail
shopt -s inherit_errexit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
report=${1:?usage: scripts/report-screenshot.sh REPORT_DIR}/report.html
out="${repo_root}/docs/images/report-html.png"
[[ -f "$report" ]] || {
  echo "report-screenshot: no report.html in $1" >&2
  exit 1
}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# Every networking feature off: this machine reaches no host Chromium would try, and the page needs none.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="${profile}" --hide-scrollbars \
  --window-size=1200,1080 --screenshot="$out" "file://$(realpath "$report")" >/dev/null 2>&1
echo "$out"
