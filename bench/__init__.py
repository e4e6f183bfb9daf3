"""renovate-runner's benchmarks: figures measured side by side in one run, not timed tests (see docs/performance.md)."""
