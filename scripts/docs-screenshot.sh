#!/usr/bin/env bash
# Makes docs/images/summary.png: a real summary.md, rendered as the pipeline's summary page shows it, in headless
# Chromium. Not part of CI; run it when the summary's look changes.
#
# Usage: scripts/docs-screenshot.sh [REPORT_DIR]
#   REPORT_DIR  a report directory with summary.md (default: report/, which `bash scripts/demo.sh` writes)
# Needs Debian's chromium and fonts-noto-color-emoji (the status marks): apt-get install chromium
# fonts-noto-color-emoji. The Markdown is rendered with markdown-it-py, which the project already has (through
# rich); the styling approximates Azure DevOps' summary page. The window fits the demo report; a longer one is cut.
set -euo pipefail
shopt -s inherit_errexit

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
report_dir=${1:-${repo_root}/report}
out="${repo_root}/docs/images/summary.png"
[[ -f "${report_dir}/summary.md" ]] || {
  echo "docs-screenshot: no summary.md in ${report_dir}; run bash scripts/demo.sh first" >&2
  exit 1
}
command -v chromium >/dev/null 2>&1 || {
  echo "docs-screenshot: chromium is missing (apt-get install chromium)" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$repo_root"
uv run --quiet python - "${report_dir}/summary.md" "${work}/summary.html" <<'PYTHON'
import sys
from pathlib import Path

from markdown_it import MarkdownIt

STYLE = """
body { margin: 0; background: #f8f8f8; font: 14px/20px "Segoe UI", "Helvetica Neue", Arial, sans-serif; color: #323130; }
.page { margin: 16px; padding: 4px 24px 16px; background: #fff; border-radius: 4px;
        box-shadow: 0 1.6px 3.6px rgba(0,0,0,.13), 0 .3px .9px rgba(0,0,0,.11); }
.tab { font-size: 12px; color: #605e5c; padding: 12px 0 0; }
h1 { font-size: 20px; font-weight: 600; margin: 12px 0 4px; }
h2 { font-size: 16px; font-weight: 600; margin: 20px 0 8px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #edebe9; padding: 4px 10px; text-align: left; }
th { background: #faf9f8; font-weight: 600; }
code { font-family: Consolas, "Courier New", monospace; font-size: 12px; background: #f3f2f1; padding: 0 3px; }
a { color: #0078d4; text-decoration: none; }
"""
source, target = map(Path, sys.argv[1:])
body = MarkdownIt("commonmark").enable("table").render(source.read_text(encoding="utf-8"))
target.write_text(
    f'<!doctype html><meta charset="utf-8"><style>{STYLE}</style>'
    f'<div class="page"><div class="tab">Extensions &rsaquo; Renovate sweep summary</div>{body}</div>',
    encoding="utf-8",
)
PYTHON

# Every networking feature off: this machine reaches no host Chromium would try.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="${work}/profile" --hide-scrollbars \
  --window-size=1000,1230 --screenshot="$out" "file://${work}/summary.html" >/dev/null 2>&1
echo "$out"
