#!/bin/sh
# Entry point of the locally built Renovate image. It behaves like the official image's entry point, so the
# runner can treat both images alike: flags or a repository name are arguments to renovate, while another
# command on PATH (sh, node, renovate-config-validator) runs as given.
set -eu

if [ "$#" -eq 0 ]; then
  set -- renovate
fi
case "$1" in
  -*) set -- renovate "$@" ;;
esac
if ! command -v "$1" >/dev/null 2>&1; then
  set -- renovate "$@"
fi

# Node as PID 1 would ignore the SIGTERM of `docker stop` (PID 1 has no default signal handlers), and git
# children that Renovate abandons would never be reaped; dumb-init forwards signals and reaps them.
exec dumb-init -- "$@"
