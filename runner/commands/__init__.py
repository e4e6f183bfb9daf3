"""One module per subcommand; each exposes `run(args, ...) -> int` and raises `RunnerError` for expected failures."""
